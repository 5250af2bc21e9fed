package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// TestBellTitleAndNextUnread: a line naming the user rings the bell, in
// their room or another; elsewhere it counts on that room's entry and in
// the window title; /bell off silences the bell, not the counts; Alt+U
// goes to the room and the counts go.
func TestBellTitleAndNextUnread(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{FloodRate: -1})
	a := newHarness(t, l, 100, 30)
	b := newHarness(t, l, 100, 30)
	a.login("alice")
	b.login("bob")
	a.create("alpha")
	b.line("/join alpha")
	a.waitText("bob joined alpha")
	b.waitText("bob joined alpha")

	a.line("nothing for bobby")
	a.waitText("alice: nothing for bobby")
	b.waitText("alice: nothing for bobby")
	if b.bells != 0 {
		t.Errorf("%d bells for a line not naming bob", b.bells)
	}
	a.line("bob, look")
	a.waitText("alice: bob, look")
	b.waitText("alice: bob, look")
	b.settle()
	if b.bells != 1 {
		t.Errorf("%d bells for a line naming bob, want 1", b.bells)
	}
	if got := b.m.View().WindowTitle; got != "chatroom" {
		t.Errorf("title %q, want chatroom: a mention where he is counts nowhere", got)
	}

	b.create("beta")
	a.line("@bob are you still there?")
	a.waitText("alice: @bob are you still there?")
	b.waitFor("alpha's entry to count the mention", func(s string) bool {
		return sideEntry(s, "alpha") == "alpha @1 (1) 1"
	})
	b.settle()
	if b.bells != 2 {
		t.Errorf("%d bells after a mention elsewhere, want 2", b.bells)
	}
	if got := b.m.View().WindowTitle; got != "(1) chatroom" {
		t.Errorf("title %q, want (1) chatroom", got)
	}

	if err := b.m.Session().SetSetting(context.Background(), lobby.SettingBell, "off"); err != nil {
		t.Fatal(err)
	}
	a.line("bob! and nobody else")
	a.waitText("alice: bob! and nobody else")
	b.waitFor("a second mention", func(s string) bool { return sideEntry(s, "alpha") == "alpha @2 (2) 1" })
	b.settle()
	if b.bells != 2 {
		t.Errorf("%d bells with the bell off, want still 2", b.bells)
	}
	if got := b.m.View().WindowTitle; got != "(2) chatroom" {
		t.Errorf("title %q, want (2) chatroom", got)
	}

	b.key('u', tea.ModAlt)
	b.waitText("── new ──")
	b.waitFor("the counts to go", func(s string) bool { return sideEntry(s, "alpha") == "alpha 2" })
	if got := b.m.View().WindowTitle; got != "chatroom" {
		t.Errorf("title %q after reading, want chatroom", got)
	}
	b.key('u', tea.ModAlt)
	b.waitText("Nothing unread anywhere.")
}

// sideEntry is the sidebar's row for name on screen, its words joined by
// single spaces; "" when no row lists name.
func sideEntry(screen, name string) string {
	for _, row := range strings.Split(screen, "\n") {
		side, _, _ := strings.Cut(row, "│")
		if f := strings.Fields(side); len(f) > 0 && f[0] == name {
			return strings.Join(f, " ")
		}
	}
	return ""
}
