package tui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// sideItem is one line of the room list; name "" is the Lobby.
type sideItem struct {
	name  string
	users int
}

// sidebar is the room list: a header row, "Lobby", then the rooms in the
// Lobby's order, and a border with one blank column on the right.
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
		inRooms += r.Users
	}
	items := make([]sideItem, 0, len(rooms)+1)
	items = append(items, sideItem{name: "", users: max(online-inRooms, 0)})
	for _, r := range rooms {
		items = append(items, sideItem{name: r.Name, users: r.Users})
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
		if strings.EqualFold(it.name, name) {
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
		if strings.EqualFold(it.name, name) {
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
	s.items = append(s.items, sideItem{name: name, users: 1})
	slices.SortStableFunc(s.items[1:], func(a, b sideItem) int {
		return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	})
	s.dirty = true
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
	if c != s.cursor {
		s.cursor, s.dirty = c, true
	}
}

// step returns the name of the room d places from name, wrapping around.
func (s *sidebar) step(name string, d int) string {
	n := len(s.items)
	return s.items[((s.index(name)+d)%n+n)%n].name
}

// hit returns the item at row y of the sidebar, or -1.
func (s *sidebar) hit(y int) int {
	i := y - 1 + s.offset
	if y < 1 || y >= s.height || i >= len(s.items) {
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
// user count on the right.
func (s *sidebar) itemRow(i, inner int) string {
	st, it := s.st, s.items[i]
	name := it.name
	if name == "" {
		name = "Lobby"
	}
	count := strconv.Itoa(it.users)
	room := inner - 1 - len(count) - 2 // the mark, the count, a space each side of it
	if ansi.StringWidth(name) > room {
		name = ansi.Truncate(name, max(room, 1), "…")
	}
	left := name + strings.Repeat(" ", max(inner-1-ansi.StringWidth(name)-len(count)-1, 1))
	mark, markStyle, nameStyle := " ", &st.sideItem, &st.sideItem
	if s.focused && i == s.cursor {
		mark, markStyle, nameStyle = ">", &st.sideCursor, &st.sideCursor
	}
	if i == s.current {
		return markStyle.Render(mark) + st.sideCurrent.Render(left+count+" ")
	}
	return markStyle.Render(mark) + nameStyle.Render(left) + st.sideCount.Render(count) + " "
}
