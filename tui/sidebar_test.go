package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/lobby"
)

func newTestSidebar(rooms []lobby.RoomInfo, online int, current string, height int) *sidebar {
	s := newSidebar(newStyles())
	s.setSize(sideWide, height)
	s.setRooms(rooms, online, current)
	return &s
}

func TestSidebarRows(t *testing.T) {
	rooms := []lobby.RoomInfo{{Name: "alpha", Users: 2}, {Name: "beta", Users: 0}, {Name: "a-very-long-room-name-indeed", Users: 12}}
	s := newTestSidebar(rooms, 20, "alpha", 8)
	rows := s.view()
	if len(rows) != 8 {
		t.Fatalf("got %d rows, want 8", len(rows))
	}
	want := []string{
		" Rooms              │ ",
		" Lobby            6 │ ",
		" alpha            2 │ ",
		" beta             0 │ ",
		" a-very-long-ro… 12 │ ",
		"                    │ ",
	}
	for i, w := range want {
		if got := ansi.Strip(rows[i]); got != w {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
	}
	for i, r := range rows {
		if w := ansi.StringWidth(r); w != sideWide {
			t.Errorf("row %d is %d cells, want %d", i, w, sideWide)
		}
	}
	// The current room is highlighted (reverse video), the others are not.
	if !strings.Contains(rows[2], "\x1b[7") && !strings.Contains(rows[2], ";7m") {
		t.Errorf("current room row not highlighted: %q", rows[2])
	}
	if strings.Contains(rows[3], "7m") {
		t.Errorf("other room row highlighted: %q", rows[3])
	}
	// Rows under the list are one and the same string, so the terminal can
	// scroll them with the scrollback beside them.
	if rows[5] != rows[6] || rows[6] != rows[7] {
		t.Errorf("blank rows differ: %q %q %q", rows[5], rows[6], rows[7])
	}
}

func TestSidebarWideNames(t *testing.T) {
	s := newTestSidebar([]lobby.RoomInfo{{Name: "漢字の部屋漢字の部屋漢字の部屋", Users: 1}, {Name: "🎉party🎉", Users: 3}}, 4, "", 5)
	for i, r := range s.view() {
		if w := ansi.StringWidth(r); w != sideWide {
			t.Errorf("row %d is %d cells, want %d: %q", i, w, sideWide, ansi.Strip(r))
		}
	}
}

func TestSidebarHit(t *testing.T) {
	rooms := []lobby.RoomInfo{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	s := newTestSidebar(rooms, 1, "", 10)
	s.view()
	for _, tt := range []struct{ y, want int }{{0, -1}, {1, 0}, {2, 1}, {4, 3}, {5, -1}, {9, -1}, {10, -1}} {
		if got := s.hit(tt.y); got != tt.want {
			t.Errorf("hit(%d) = %d, want %d", tt.y, got, tt.want)
		}
	}
}

func TestSidebarScrollsToCurrent(t *testing.T) {
	var rooms []lobby.RoomInfo
	for i := range 30 {
		rooms = append(rooms, lobby.RoomInfo{Name: fmt.Sprintf("room%02d", i)})
	}
	s := newTestSidebar(rooms, 1, "room25", 6)
	rows := s.view()
	found := -1
	for i, r := range rows {
		if strings.Contains(ansi.Strip(r), "room25") {
			found = i
		}
	}
	if found < 1 {
		t.Fatalf("current room not shown: %q", rows)
	}
	if i := s.hit(found); i < 0 || s.items[i].name != "room25" {
		t.Fatalf("hit(%d) = %d, want the index of room25", found, i)
	}
}

func TestSidebarFocusAndStep(t *testing.T) {
	rooms := []lobby.RoomInfo{{Name: "alpha"}, {Name: "beta"}}
	s := newTestSidebar(rooms, 1, "beta", 6)
	s.setFocus(true)
	if got := ansi.Strip(s.view()[2+1]); !strings.HasPrefix(got, ">beta") {
		t.Fatalf("focused sidebar: cursor row = %q, want it on the current room", got)
	}
	s.move(-1)
	if got := ansi.Strip(s.view()[2]); !strings.HasPrefix(got, ">alpha") {
		t.Fatalf("after ↑ the cursor row = %q", got)
	}
	s.move(-5)
	if s.cursor != 0 {
		t.Fatalf("cursor = %d after moving past the top, want 0", s.cursor)
	}
	for _, tt := range []struct {
		from string
		d    int
		want string
	}{{"", 1, "alpha"}, {"alpha", 1, "beta"}, {"beta", 1, ""}, {"", -1, "beta"}, {"ALPHA", -1, ""}} {
		if got := s.step(tt.from, tt.d); got != tt.want {
			t.Errorf("step(%q, %d) = %q, want %q", tt.from, tt.d, got, tt.want)
		}
	}
}

func TestSidebarUnread(t *testing.T) {
	rooms := []lobby.RoomInfo{
		{Name: "alpha", Users: 2, Unread: 12, Mentions: 3},
		{Name: "beta", Users: 0},
		{Name: "gamma", Users: 5, Unread: 1234},
		{Name: "@bob", With: "bob", Users: 1, Unread: 2, Mentions: 2},
		{Name: "@carol", With: "carol"},
	}
	s := newTestSidebar(rooms, 20, "beta", 10)
	rows := s.view()
	want := []string{
		" Rooms              │ ",
		" Lobby           13 │ ",
		" alpha    @3 (12) 2 │ ",
		" beta             0 │ ",
		" gamma     (999+) 5 │ ",
		" Direct             │ ",
		" @bob           (2) │ ",
		" @carol             │ ",
	}
	for i, w := range want {
		if got := ansi.Strip(rows[i]); got != w {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
	}
	// The heading is no place to go: keys, steps and clicks pass it by.
	if got := s.step("gamma", 1); got != "@bob" {
		t.Errorf("step from gamma = %q, want @bob", got)
	}
	if got := s.step("@bob", -1); got != "gamma" {
		t.Errorf("step back from @bob = %q, want gamma", got)
	}
	if s.hit(5) != -1 {
		t.Errorf("a click on the Direct heading hits item %d", s.hit(5))
	}
	s.setFocus(true)
	s.cursor = 4
	s.move(1)
	if s.items[s.cursor].name != "@bob" {
		t.Errorf("↓ from gamma lands on %q", s.items[s.cursor].name)
	}
	// Next unread: what is meant for the user first, from where the user is.
	for _, tt := range []struct{ from, want string }{{"beta", "@bob"}, {"@bob", "alpha"}, {"alpha", "@bob"}} {
		if got, ok := s.nextUnread(tt.from); !ok || got != tt.want {
			t.Errorf("nextUnread(%q) = %q, %v; want %q", tt.from, got, ok, tt.want)
		}
	}
	s.setRooms([]lobby.RoomInfo{{Name: "gamma", Users: 5, Unread: 1}}, 5, "")
	if got, ok := s.nextUnread(""); !ok || got != "gamma" {
		t.Errorf("nextUnread with no mentions = %q, %v; want gamma", got, ok)
	}
	s.setRooms([]lobby.RoomInfo{{Name: "gamma", Users: 5}}, 5, "")
	if got, ok := s.nextUnread(""); ok {
		t.Errorf("nextUnread with nothing unread = %q", got)
	}
}

// TestSidebarBadgesFit: whatever the counts and the width, every row is
// exactly the sidebar's width.
func TestSidebarBadgesFit(t *testing.T) {
	for _, width := range []int{sideNarrow, sideWide} {
		for _, n := range []int{0, 1, 99, 1000, 123456} {
			rooms := []lobby.RoomInfo{
				{Name: "a-rather-long-room-name", Users: n, Unread: n, Mentions: n},
				{Name: "漢字の部屋漢字の部屋", Users: n, Unread: n},
				{Name: "@someone-with-a-long-name", With: "someone-with-a-long-name", Unread: n, Mentions: n},
			}
			s := newSidebar(newStyles())
			s.setSize(width, 8)
			s.setRooms(rooms, 3, "")
			for i, r := range s.view() {
				if w := ansi.StringWidth(r); w != width {
					t.Errorf("width %d, counts %d: row %d is %d cells: %q", width, n, i, w, ansi.Strip(r))
				}
			}
		}
	}
}
