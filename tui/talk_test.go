package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// talkHarness is alice at a 100×30 terminal in room alpha.
func talkHarness(t *testing.T) (*lobby.Lobby, *harness) {
	t.Helper()
	l := lobbytest.New(t, lobby.Config{FloodRate: -1})
	h := newHarness(t, l, 100, 30)
	h.login("alice")
	h.create("alpha")
	return l, h
}

// TestSeveralLines: Alt+Enter and Ctrl+J start a new line; the input grows
// a row for each, up to a few; Enter sends the lines as one message, shown
// under one author, the lines after the first indented.
func TestSeveralLines(t *testing.T) {
	_, h := talkHarness(t)
	rows := func() int { return h.m.input.Rows() }
	h.typeText("first")
	h.key(tea.KeyEnter, tea.ModAlt)
	h.typeText("second")
	h.key('j', tea.ModCtrl)
	h.typeText("admin: third")
	if got, want := h.m.input.Value(), "first\nsecond\nadmin: third"; got != want {
		t.Fatalf("input %q, want %q", got, want)
	}
	if rows() != 3 {
		t.Fatalf("the input takes %d rows, want 3", rows())
	}
	screen := h.screen()
	for _, want := range []string{"> first", "  second", "  admin: third"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the input does not show %q:\n%s", want, screen)
		}
	}
	h.key(tea.KeyUp) // to the line above, not the scrollback
	h.typeText("!")
	if got := h.m.input.Value(); got != "first\nsecond!\nadmin: third" {
		t.Fatalf("after ↑ and typing: %q", got)
	}
	h.enter()
	h.waitText("alice: first")
	if rows() != 1 {
		t.Fatalf("after sending, the input takes %d rows", rows())
	}
	lines := rowsOf(h.screen())
	for i, row := range lines {
		if strings.Contains(row, "alice: first") {
			// Indented past "alice: ", so "admin:" starts no line of its own.
			if !strings.Contains(lines[i+1], "       second!") || !strings.Contains(lines[i+2], "       admin: third") {
				t.Fatalf("the block is not indented under its author:\n%s", h.screen())
			}
			return
		}
	}
	t.Fatalf("no block:\n%s", h.screen())
}

// TestNewlineLimit: a message holds at most lobby.MaxLines lines, and a
// paste that would make more is refused whole, with a notice.
func TestNewlineLimit(t *testing.T) {
	_, h := talkHarness(t)
	h.send(tea.PasteMsg{Content: strings.Repeat("x\n", lobby.MaxLines-1) + "x"})
	if n := h.m.input.Lines(); n != lobby.MaxLines {
		t.Fatalf("%d lines pasted", n)
	}
	if h.m.input.Rows() != inputRows {
		t.Fatalf("the input takes %d rows, want at most %d", h.m.input.Rows(), inputRows)
	}
	h.key('j', tea.ModCtrl)
	h.waitText("A message holds at most 20 lines.")
	h.m.input.Reset()
	h.send(tea.PasteMsg{Content: strings.Repeat("y\r\n", lobby.MaxLines) + "y"})
	h.waitText("That paste would make a message of 21 lines")
	if h.m.input.Len() != 0 {
		t.Fatalf("a refused paste left %q", h.m.input.Value())
	}
}

// TestTabCompletes: Tab completes a command, a room after /join, a name
// (recent speakers first), and Tab again cycles; with an empty input Tab
// still goes to the room list.
func TestTabCompletes(t *testing.T) {
	l, h := talkHarness(t)
	for _, name := range []string{"albert", "alfred"} {
		s := lobbytest.Register(t, l, name)
		lobbytest.Exec(t, s, "/join alpha")
	}
	alfred := lobbytest.Register(t, l, "alf")
	lobbytest.Exec(t, alfred, "/join alpha")
	lobbytest.Exec(t, alfred, "hi all")
	h.waitText("alf: hi all")

	h.typeText("/jo")
	h.key(tea.KeyTab)
	if got := h.m.input.Value(); got != "/join " {
		t.Fatalf("/jo + Tab = %q", got)
	}
	h.typeText("al")
	h.key(tea.KeyTab)
	if got := h.m.input.Value(); got != "/join alpha " {
		t.Fatalf("/join al + Tab = %q", got)
	}
	h.m.input.Reset()

	h.typeText("al")
	h.key(tea.KeyTab)
	h.waitFor("a name", func(string) bool { return h.m.input.Value() != "al" })
	if got := h.m.input.Value(); got != "alf: " {
		t.Fatalf("al + Tab = %q, want the one who spoke last first", got)
	}
	h.key(tea.KeyTab)
	h.key(tea.KeyTab)
	if got := h.m.input.Value(); got != "alfred: " {
		t.Fatalf("Tab twice more = %q", got)
	}
	h.key(tea.KeyTab, tea.ModShift)
	if got := h.m.input.Value(); got != "albert: " {
		t.Fatalf("Shift+Tab = %q", got)
	}
	h.typeText("hey @alf")
	h.key(tea.KeyTab)
	h.waitFor("a name", func(string) bool { return strings.HasSuffix(h.m.input.Value(), " ") })
	if got := h.m.input.Value(); got != "albert: hey @alf " {
		t.Fatalf("@alf + Tab = %q", got)
	}
	h.m.input.Reset()
	h.key(tea.KeyTab)
	if h.m.focus != focusSidebar {
		t.Fatal("Tab on an empty input did not focus the room list")
	}
}

// TestEditInPlace: an edit replaces the line on screen, marked; a deletion
// leaves a mark; ↑ on an empty input brings the user's last line back as
// /edit.
func TestEditInPlace(t *testing.T) {
	l, h := talkHarness(t)
	bob := lobbytest.Register(t, l, "bob")
	lobbytest.Exec(t, bob, "/join alpha")
	lobbytest.Exec(t, bob, "bob was here")
	h.waitText("bob: bob was here")
	h.line("helo wrld")
	h.waitText("alice: helo wrld")
	h.key(tea.KeyUp)
	if got := h.m.input.Value(); got != "/edit helo wrld" {
		t.Fatalf("↑ on an empty input = %q", got)
	}
	h.m.input.Reset()
	h.line("/edit hello world")
	h.waitText("alice: hello world (edited)")
	if strings.Contains(h.screen(), "helo wrld") {
		t.Fatalf("the old text is still shown:\n%s", h.screen())
	}
	lobbytest.Exec(t, bob, "/delete")
	h.waitText("bob: message deleted")
	if strings.Contains(h.screen(), "bob was here") {
		t.Fatalf("the deleted text is still shown:\n%s", h.screen())
	}
}

// TestTopicOnTitle: the topic is on the title row, for whoever is in the
// room and whoever comes in.
func TestTopicOnTitle(t *testing.T) {
	l, h := talkHarness(t)
	h.line("/topic the plan for friday")
	h.waitFor("the topic on the title row", func(s string) bool {
		return strings.Contains(rowsOf(s)[0], "alpha · 1 here · the plan for friday")
	})
	h2 := newHarness(t, l, 100, 30)
	h2.login("bob")
	h2.line("/join alpha")
	h2.waitFor("the topic on the title row", func(s string) bool {
		return strings.Contains(rowsOf(s)[0], "the plan for friday")
	})
}

// TestLinksInFrame: a URL in a line is an OSC 8 link in the frame, its
// text unchanged on screen.
func TestLinksInFrame(t *testing.T) {
	_, h := talkHarness(t)
	h.line("read https://go.dev/doc/effective_go please")
	h.waitText("alice: read https://go.dev/doc/effective_go please")
	if !strings.Contains(h.m.View().Content, "\x1b]8;id=") || !strings.Contains(h.m.View().Content, ";https://go.dev/doc/effective_go\x1b\\") {
		t.Fatalf("no link in the frame: %q", h.m.View().Content)
	}
}

// TestSearchPickAndJump: /search lists the hits; ↑/↓ choose one and Enter
// opens its room at that line, marked, with End back to the newest.
func TestSearchPickAndJump(t *testing.T) {
	l, h := talkHarness(t)
	bob := lobbytest.Register(t, l, "bob")
	lobbytest.Exec(t, bob, "/create beta")
	lobbytest.Exec(t, bob, "the fox in beta")
	h.line("a fox in alpha")
	h.waitText("alice: a fox in alpha")
	for i := range 40 {
		lobbytest.Exec(t, h.m.Session(), "filler "+strings.Repeat("z", i%3))
	}
	h.waitText("alice: filler z\n")
	h.line("/search fox")
	h.waitText("2 lines found for \"fox\"")
	h.waitText("1. alpha")
	h.waitText("2. beta")
	h.key(tea.KeyDown)
	h.key(tea.KeyUp)
	h.key(tea.KeyDown) // beta's
	h.enter()
	h.waitFor("beta opened at the line", func(s string) bool {
		return strings.Contains(rowsOf(s)[0], "beta") && strings.Contains(s, "bob: the fox in beta") && strings.Contains(s, "End: the newest lines")
	})
	h.line("/goto 1") // back to alpha's, above its newest lines
	h.waitFor("alpha opened at the line", func(s string) bool {
		return strings.Contains(rowsOf(s)[0], "alpha") && strings.Contains(s, "alice: a fox in alpha") && strings.Contains(s, "End: the newest lines")
	})
	if strings.Contains(h.screen(), "/search fox") {
		t.Fatalf("the lines around the result show what came after them:\n%s", h.screen())
	}
	h.key(tea.KeyEnd)
	h.waitFor("the newest lines again", func(s string) bool {
		return !strings.Contains(s, "End: the newest lines") && strings.Contains(s, "── now ──")
	})
}
