package tui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// sideItem is one line of the room list; name "" is the Lobby, and a
// conversation's name is "@" and the other party's.
type sideItem struct {
	name     string
	users    int
	unread   int  // chat lines not seen
	mentions int  // of those, the ones meant for the user
	direct   bool // a conversation
	header   bool // the "Direct" heading: a row, not a place to go
}

// directHead names the heading of the conversations; no room can be
// called so.
const directHead = " Direct"

// maxShownCount is the largest count a badge shows as it is; more shows
// as "999+".
const maxShownCount = 999

func countText(n int) string {
	if n > maxShownCount {
		return strconv.Itoa(maxShownCount) + "+"
	}
	return strconv.Itoa(n)
}

// sidebar is the room list: a header row, "Lobby", then the rooms in the
// Lobby's order, then a "Direct" heading and the user's conversations, and
// a border with one blank column on the right. A room's row shows the
// number of users in it at the right edge, faint; unread lines show
// before it as a bold "(12)", and the lines among them that name the user
// as "@2" in the mention colour. A conversation shows its unread lines
// alone, in the mention colour, since every one is meant for the user.
//
// Its rows are rendered once per change (rooms, counts, current room,
// cursor, focus, size) and reused for every frame in between. Rows below the
// list are all the same string, so when the scrollback beside them moves up
// by a line, those whole terminal rows still match the rows they shift onto
// and the renderer can scroll them instead of repainting.
type sidebar struct {
	st      *styles
	width   int // including the border and the gap after it
	height  int
	items   []sideItem
	current int // the item the user is in
	cursor  int // the item the keyboard points at when focused
	focused bool
	offset  int // first item shown

	rows  []string
	dirty bool
}

const (
	sideWide   = 22 // columns including the border, on wide screens
	sideNarrow = 16
	sideGap    = 1 // blank column between the border and the scrollback
)

func newSidebar(st *styles) sidebar {
	return sidebar{st: st, items: []sideItem{{name: ""}}, dirty: true}
}

func (s *sidebar) setSize(width, height int) {
	if width != s.width || height != s.height {
		s.width, s.height, s.dirty = width, height, true
	}
}

// setRooms replaces the room list. online is the number of users on the
// server; whoever is in no room is in the Lobby.
func (s *sidebar) setRooms(rooms []lobby.RoomInfo, online int, current string) {
	inRooms := 0
	for _, r := range rooms {
		if r.With == "" {
			inRooms += r.Users
		}
	}
	items := make([]sideItem, 0, len(rooms)+2)
	items = append(items, sideItem{name: "", users: max(online-inRooms, 0)})
	direct := false
	for _, r := range rooms {
		if r.With != "" && !direct {
			items = append(items, sideItem{name: directHead, header: true})
			direct = true
		}
		items = append(items, sideItem{name: r.Name, users: r.Users, unread: r.Unread, mentions: r.Mentions, direct: r.With != ""})
	}
	if !equalItems(items, s.items) {
		cursorName := s.items[min(s.cursor, len(s.items)-1)].name
		s.items, s.dirty = items, true
		s.cursor = s.index(cursorName)
	}
	s.setCurrent(current)
}

func equalItems(a, b []sideItem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// index finds a room by name, 0 (the Lobby) when it is not listed.
func (s *sidebar) index(name string) int {
	for i, it := range s.items {
		if !it.header && strings.EqualFold(it.name, name) {
			return i
		}
	}
	return 0
}

// has reports whether the list shows the room ("" is the Lobby, always shown).
func (s *sidebar) has(name string) bool {
	if name == "" {
		return true
	}
	for _, it := range s.items {
		if !it.header && strings.EqualFold(it.name, name) {
			return true
		}
	}
	return false
}

// ensure lists a room the user just entered before the next room-list
// refresh does (refreshes are spaced out), so keys and clicks work on it.
func (s *sidebar) ensure(name string) {
	if s.has(name) {
		return
	}
	direct := strings.HasPrefix(name, "@")
	if direct && !slices.ContainsFunc(s.items, func(it sideItem) bool { return it.header }) {
		s.items = append(s.items, sideItem{name: directHead, header: true})
	}
	s.items = append(s.items, sideItem{name: name, users: 1, direct: direct})
	// Rooms after the Lobby, conversations after their heading, each by
	// name.
	slices.SortStableFunc(s.items[1:], func(a, b sideItem) int {
		if a.direct || a.header || b.direct || b.header {
			switch ra, rb := sectionRank(a), sectionRank(b); {
			case ra != rb:
				return ra - rb
			}
		}
		return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	})
	s.dirty = true
}

// sectionRank orders the sections: rooms, the Direct heading, conversations.
func sectionRank(it sideItem) int {
	switch {
	case it.header:
		return 1
	case it.direct:
		return 2
	}
	return 0
}

func (s *sidebar) setCurrent(name string) {
	if i := s.index(name); i != s.current {
		s.current, s.dirty = i, true
	}
}

func (s *sidebar) setFocus(f bool) {
	if f != s.focused {
		s.focused, s.dirty = f, true
		if f {
			s.cursor = s.current
		}
	}
}

func (s *sidebar) move(d int) {
	c := min(max(s.cursor+d, 0), len(s.items)-1)
	if s.items[c].header {
		// Over the heading, or stay if it is at the end.
		if c+sign(d) >= 0 && c+sign(d) < len(s.items) {
			c += sign(d)
		} else {
			c = s.cursor
		}
	}
	if c != s.cursor {
		s.cursor, s.dirty = c, true
	}
}

func sign(d int) int {
	if d < 0 {
		return -1
	}
	return 1
}

// step returns the name of the room d places from name, wrapping around,
// headings not counted.
func (s *sidebar) step(name string, d int) string {
	n := len(s.items)
	i := s.index(name)
	for range n {
		i = ((i+d)%n + n) % n
		if !s.items[i].header {
			break
		}
		d = sign(d)
	}
	return s.items[i].name
}

// nextUnread is the next entry after name, wrapping around, with lines
// meant for the user unread (a mention, a direct message), or else with
// lines unread; ok is false when nothing is unread anywhere.
func (s *sidebar) nextUnread(name string) (string, bool) {
	n := len(s.items)
	from := s.index(name)
	for _, want := range []func(sideItem) bool{
		func(it sideItem) bool { return it.mentions > 0 },
		func(it sideItem) bool { return it.unread > 0 },
	} {
		for k := 1; k <= n; k++ {
			if it := s.items[(from+k)%n]; !it.header && want(it) {
				return it.name, true
			}
		}
	}
	return "", false
}

// hit returns the item at row y of the sidebar, or -1.
func (s *sidebar) hit(y int) int {
	i := y - 1 + s.offset
	if y < 1 || y >= s.height || i >= len(s.items) || s.items[i].header {
		return -1
	}
	return i
}

// view returns the sidebar's rows, each exactly s.width cells.
func (s *sidebar) view() []string {
	if !s.dirty && len(s.rows) == s.height {
		return s.rows
	}
	s.dirty = false
	st := s.st
	inner := s.width - 1 - sideGap
	edge := st.border.Render("│") + strings.Repeat(" ", sideGap)

	// Keep the item that matters in view: the cursor when focused, else
	// the current room.
	shown := max(s.height-1, 0)
	want := s.current
	if s.focused {
		want = s.cursor
	}
	if want < s.offset {
		s.offset = want
	} else if shown > 0 && want >= s.offset+shown {
		s.offset = want - shown + 1
	}
	s.offset = max(min(s.offset, len(s.items)-shown), 0)

	rows := s.rows[:0]
	if s.height > 0 {
		head, hs := " Rooms", &st.sideHead
		if s.focused {
			head, hs = " Rooms (esc: back)", &st.sideHeadFocus
		}
		head = ansi.Truncate(head, inner, "")
		rows = append(rows, hs.Render(head)+strings.Repeat(" ", inner-ansi.StringWidth(head))+edge)
	}
	blank := strings.Repeat(" ", inner) + edge
	for i := s.offset; len(rows) < s.height; i++ {
		if i >= len(s.items) {
			rows = append(rows, blank)
			continue
		}
		rows = append(rows, s.itemRow(i, inner)+edge)
	}
	s.rows = rows
	return rows
}

// itemRow renders one item in inner cells: a cursor mark, the name, the
// unread badges and the user count on the right (see sidebar).
func (s *sidebar) itemRow(i, inner int) string {
	st, it := s.st, s.items[i]
	if it.header {
		head := ansi.Truncate(it.name, inner, "")
		return st.sideHead.Render(head) + strings.Repeat(" ", inner-ansi.StringWidth(head))
	}
	name := it.name
	if name == "" {
		name = "Lobby"
	}
	// The right part: badges, then the count, each followed by a space.
	var mentions, unread, count string
	if it.mentions > 0 && !it.direct {
		mentions = "@" + countText(it.mentions) + " "
	}
	if it.unread > 0 {
		unread = "(" + countText(it.unread) + ") "
	}
	if !it.direct {
		count = strconv.Itoa(it.users) + " "
	}
	right := len(mentions) + len(unread) + len(count)
	room := inner - 1 - right - 1 // the mark, the right part, a space before it
	// A narrow sidebar keeps the name readable: the user count goes
	// first, then the mentions' number (the name keeps their colour).
	if room < 3 && count != "" {
		right -= len(count)
		room += len(count)
		count = ""
	}
	if room < 3 && mentions != "" {
		right -= len(mentions)
		room += len(mentions)
		mentions = ""
	}
	if ansi.StringWidth(name) > room {
		name = ansi.Truncate(name, max(room, 1), "…")
	}
	pad := strings.Repeat(" ", max(inner-1-ansi.StringWidth(name)-right, 1))
	mark, markStyle, nameStyle := " ", &st.sideItem, &st.sideItem
	switch {
	case s.focused && i == s.cursor:
		mark, markStyle, nameStyle = ">", &st.sideCursor, &st.sideCursor
	case it.mentions > 0 && mentions == "" && !it.direct:
		nameStyle = &st.sideMention
	case it.unread > 0:
		nameStyle = &st.sideUnread
	case it.direct && it.users == 0:
		nameStyle = &st.sideCount // the other party is away
	}
	if i == s.current {
		return markStyle.Render(mark) + st.sideCurrent.Render(name+pad+mentions+unread+count)
	}
	unreadStyle := &st.sideUnread
	if it.direct {
		unreadStyle = &st.sideMention
	}
	row := markStyle.Render(mark) + nameStyle.Render(name) + pad
	if mentions != "" {
		row += st.sideMention.Render(mentions[:len(mentions)-1]) + " "
	}
	if unread != "" {
		row += unreadStyle.Render(unread[:len(unread)-1]) + " "
	}
	if count != "" {
		row += st.sideCount.Render(count[:len(count)-1]) + " "
	}
	return row
}
