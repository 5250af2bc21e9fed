package sshserver

import (
	"fmt"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// TestTalkCommandsTUI: every talking command's answer, and its refusal,
// on the screen of a real SSH session with a PTY.
func TestTalkCommandsTUI(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.connect(t)
	a.Login("alice")
	b := ts.connect(t)
	b.Login("bob")

	steps := []struct {
		line, want string
		n          int // times want is on the screen, when more than once
	}{
		{line: "/me waves", want: "/me works in a room"},
		{line: "/topic hi", want: "which has no topic"},
		{line: "/edit x", want: "/edit works in a room"},
		{line: "/create alpha", want: "You created alpha"},
		{line: "/me waves", want: "* alice waves"},
		{line: "/me", want: "Usage: /me ACTION"},
		{line: "/topic", want: "alpha has no topic"},
		{line: "/topic the plan", want: "alice set the topic: the plan"},
		{line: "/topic " + strings.Repeat("t", 400), want: "A topic is at most 300 characters"},
		{line: "/who", want: "In alpha, 1 person:"},
		{line: "/who nowhere", want: "There is no room named nowhere"},
		{line: "/away back soon", want: "You are marked away: back soon"},
		{line: "/back", want: "Welcome back"},
		{line: "/back", want: "You are not marked away"},
		{line: "hello wrld", want: "alice: hello wrld"},
		{line: "/edit hello world", want: "alice: hello world (edited)"},
		{line: "/delete", want: "alice: message deleted"},
		{line: "/delete", want: "alice: message deleted", n: 2}, // the action before it
		{line: "/delete", want: "You have no line to change"},
		{line: "/nick alicia", want: "You are now alicia."},
		{line: "/nick bob", want: "taken by someone online"},
		{line: "/ignore bob", want: "You no longer see lines or messages from bob"},
		{line: "/ignore alicia", want: "You cannot ignore yourself"},
		{line: "/unignore bob", want: "You see lines and messages from bob again"},
		{line: "/unignore carol", want: "You do not ignore carol"},
		{line: "/joins talkers", want: "only for people who spoke"},
		{line: "/joins sometimes", want: "Usage: /joins all|talkers|none"},
		{line: "/bell off", want: "The bell is off"},
		{line: "/bell loud", want: "Usage: /bell on|off"},
		{line: "/tz Europe/Paris", want: "Times are shown in Europe/Paris"},
		{line: "/tz ../../etc/passwd", want: "There is no timezone ../../etc/passwd"},
		{line: "say fox", want: "alicia: say fox"},
		{line: "/search fox", want: `1 line found for "fox"`},
		{line: "/search", want: "Usage: /search WORDS"},
		{line: "/goto 5", want: "Usage: /goto N, N from 1 to 1"},
		{line: "/goto 1", want: "End: the newest lines"},
	}
	for _, st := range steps {
		a.TypeLine(st.line)
		a.WaitFor(fmt.Sprintf("%q after %q", st.want, st.line), func(s string) bool {
			return strings.Count(s, st.want) >= max(st.n, 1)
		})
	}
	// The title row carries the topic; the status line the new name.
	a.Key(uv.KeyPressEvent{Code: uv.KeyEnd})
	a.WaitFor("the topic and the new name", func(s string) bool {
		lines := strings.Split(s, "\n")
		return strings.Contains(lines[0], "alpha · 1 here · the plan") && strings.Contains(s, " alicia · alpha · ")
	})
	b.TypeLine("/who alpha")
	b.WaitText("alicia · active")
}

// TestTabCompletionOverSSH: a prefix and Tab, and the input shows the
// completion; Tab again, the next one.
func TestTabCompletionOverSSH(t *testing.T) {
	ts := startServer(t)
	a := ts.creator(t, "alice", "alpha")
	for _, name := range []string{"bob", "bobby"} {
		c := ts.lineUser(t, name)
		c.WaitText("You are in the Lobby")
		c.Send("/join alpha")
		a.WaitText(name + " joined alpha")
	}
	input := func(s string) string {
		lines := strings.Split(s, "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.HasPrefix(lines[i], "> ") {
				return strings.TrimRight(lines[i], " ")
			}
		}
		return ""
	}
	a.Emu.SendText("bo")
	a.Key(uv.KeyPressEvent{Code: uv.KeyTab})
	a.WaitFor("a name completed", func(s string) bool { return input(s) == "> bob:" })
	a.Key(uv.KeyPressEvent{Code: uv.KeyTab})
	a.WaitFor("the next name", func(s string) bool { return input(s) == "> bobby:" })
	a.Emu.SendText(" see /jo")
	a.Key(uv.KeyPressEvent{Code: uv.KeyTab})
	a.WaitFor("no command mid-line", func(s string) bool { return strings.Contains(input(s), "see /jo") })
	a.Key(uv.KeyPressEvent{Code: 'u', Mod: uv.ModCtrl})
	a.Emu.SendText("/jo")
	a.Key(uv.KeyPressEvent{Code: uv.KeyTab})
	a.WaitFor("a command completed", func(s string) bool { return input(s) == "> /join" })
	a.Emu.SendText("al")
	a.Key(uv.KeyPressEvent{Code: uv.KeyTab})
	a.WaitFor("a room completed", func(s string) bool { return input(s) == "> /join alpha" })
}

// TestPastedBlockOverSSH: a bracketed paste of several lines is sent as one
// message, and another user (and a line client) sees it under one author
// and time, its later lines indented so that none passes for a line of
// someone else's; a newline typed with Alt+Enter makes a block too.
func TestPastedBlockOverSSH(t *testing.T) {
	ts := startServer(t)
	a := ts.creator(t, "alice", "alpha")
	b := ts.connect(t)
	b.Login("bob")
	b.TypeLine("/join alpha")
	a.WaitText("bob joined alpha")
	l := ts.lineUser(t, "carl")
	l.WaitText("You are in the Lobby")
	l.Send("/join alpha")
	a.WaitText("carl joined alpha")

	a.Emu.Paste("first line\nbob: I agree\r\nthird line")
	a.WaitText("> first line")
	a.Key(uv.KeyPressEvent{Code: uv.KeyEnter})
	screen := b.WaitText("alice: first line")
	lines := strings.Split(screen, "\n")
	for i, row := range lines {
		if !strings.Contains(row, "alice: first line") {
			continue
		}
		col := strings.Index(row, "alice: first line") + len("alice: ")
		if i+2 >= len(lines) || !strings.HasPrefix(lines[i+1][col:], "bob: I agree") || !strings.HasPrefix(lines[i+2][col:], "third line") {
			t.Fatalf("bob does not see one block under alice:\n%s", screen)
		}
		if strings.Count(screen, "alice:") != 1 {
			t.Fatalf("the block came as several messages:\n%s", screen)
		}
	}
	l.WaitText("alice: first line\n")
	l.WaitText("               bob: I agree\n")
	l.WaitText("               third line\n")

	a.Emu.SendText("one")
	a.Key(uv.KeyPressEvent{Code: uv.KeyEnter, Mod: uv.ModAlt})
	a.Emu.SendText("two")
	a.Key(uv.KeyPressEvent{Code: uv.KeyEnter})
	l.WaitText("alice: one\n")
	l.WaitText("               two\n")
}

// TestLinksOverSSH: a URL in a message reaches another user's terminal as
// an OSC 8 hyperlink around its text, which is unchanged on screen; on a
// narrow terminal it wraps over rows and is a link on each.
func TestLinksOverSSH(t *testing.T) {
	ts := startServer(t)
	a := ts.creator(t, "alice", "alpha")
	b := ts.connectSized(t, 60, 20)
	b.Login("bob")
	b.TypeLine("/join alpha")
	a.WaitText("bob joined alpha")
	b.StartRecording()
	const u = "https://example.com/a/long/path/so/that/it/wraps/in/a/narrow/pane?q=1"
	a.TypeLine("see " + u + " now")
	b.WaitFor("the URL's two pieces", func(s string) bool {
		return strings.Contains(s, "https://example.com/a/long") && strings.Contains(s, "narrow/pane?q=1 now")
	})
	// The renderer ends OSC with BEL or ST; either will do.
	raw := strings.ReplaceAll(string(b.Recorded()), "\a", "\x1b\\")
	// Every sequence that opens the link carries the same URL and id, and
	// it is opened on each row it is drawn on: one link, clickable
	// wherever the pane wrapped it.
	var params []string
	for _, seg := range strings.Split(raw, "\x1b]8;")[1:] {
		if p, rest, ok := strings.Cut(seg, ";"); ok && strings.HasPrefix(rest, u+"\x1b\\") {
			params = append(params, p)
		}
	}
	if len(params) < 2 || !strings.HasPrefix(params[0], "id=") {
		t.Fatalf("the link to %s is opened %d times in what bob's terminal got: %q", u, len(params), raw)
	}
	for _, p := range params {
		if p != params[0] {
			t.Errorf("the link is opened as %q and as %q", params[0], p)
		}
	}
}
