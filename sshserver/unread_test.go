package sshserver

import (
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// sideCols is the sidebar's width on the test terminals (tui.sideWide).
const sideCols = 22

// sideRow is the sidebar's part of the row of screen that lists name, ""
// when none does.
func sideRow(screen, name string) string {
	for _, row := range strings.Split(screen, "\n") {
		r := []rune(row)
		side := strings.ReplaceAll(string(r[:min(len(r), sideCols)]), "│", " ")
		if f := strings.Fields(side); len(f) > 0 && f[0] == name {
			return side
		}
	}
	return ""
}

// waitSide waits until name's sidebar row shows want (as Fields), and
// returns it.
func waitSide(c *e2e.Terminal, name string, want ...string) string {
	var got string
	c.WaitFor(name+"'s sidebar entry showing "+strings.Join(want, " "), func(s string) bool {
		got = sideRow(s, name)
		return strings.Join(strings.Fields(got), " ") == strings.Join(append([]string{name}, want...), " ")
	})
	return got
}

// bareBells counts the BEL characters in raw terminal output that are not
// part of an escape sequence (an OSC such as the window title ends with
// one).
func bareBells(raw []byte) int {
	n := 0
	inString := false // inside an OSC, DCS, APC, PM or SOS
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		switch {
		case inString && b == 0x07:
			inString = false
		case inString && b == 0x1b && i+1 < len(raw) && raw[i+1] == '\\':
			inString = false
			i++
		case inString:
		case b == 0x1b && i+1 < len(raw) && strings.IndexByte("]P_^X", raw[i+1]) >= 0:
			inString = true
			i++
		case b == 0x07:
			n++
		}
	}
	return n
}

func TestBareBells(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int
	}{
		{"", 0},
		{"\a", 1},
		{"text\x1b]2;(1) chatroom\a", 0},
		{"\x1b]2;title\x1b\\\a", 1},
		{"\x1b]0;a\a\x1b[31m\a", 1},
		{"\x1bP$q\a\x1b\\", 0},
	} {
		if got := bareBells([]byte(tt.raw)); got != tt.want {
			t.Errorf("bareBells(%q) = %d, want %d", tt.raw, got, tt.want)
		}
	}
}

// registeredPTY connects a PTY user with key, signs in as name and
// registers it.
func registeredPTY(t *testing.T, ts *testServer, key gossh.Signer, name string) *e2e.Terminal {
	t.Helper()
	c := ts.connectKey(t, key)
	c.Login(name)
	c.TypeLine("/register")
	c.WaitText("is now registered to your SSH key")
	return c
}

// TestDirectMessageTUI: a direct message reaches its recipient only, shows
// in their pane marked as direct, rings their bell, counts on the @sender
// entry of their Direct section and in their window title; the sender
// stays where she is with an echo.
func TestDirectMessageTUI(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	alice := registeredPTY(t, ts, e2e.NewKey(t), "alice")
	bob := registeredPTY(t, ts, e2e.NewKey(t), "bob")
	carol := ts.connect(t)
	carol.Login("carol")
	alice.TypeLine("/create alpha")
	alice.WaitText("You created alpha")
	carol.TypeLine("/join alpha")
	alice.WaitText("carol joined alpha")

	bob.StartRecording()
	alice.TypeLine("/msg bob meet me at noon")
	bob.WaitText("alice → you: meet me at noon")
	alice.WaitText("you → bob: meet me at noon")
	waitSide(bob, "@alice", "(1)")
	raw := bob.Recorded()
	if n := bareBells(raw); n != 1 {
		t.Errorf("bob's terminal got %d bells, want 1", n)
	}
	if !strings.Contains(string(raw), "\x1b]2;(1) chatroom\a") {
		t.Errorf("bob's window title does not count the message: %q", raw)
	}
	alice.TypeLine("still in alpha")
	carol.WaitText("alice: still in alpha")
	if s := carol.Screen(); strings.Contains(s, "noon") {
		t.Errorf("carol sees the direct message:\n%s", s)
	}
	if s := alice.Screen(); !strings.Contains(s, "alice · alpha ·") {
		t.Errorf("alice left her room:\n%s", s)
	}

	// Opening the conversation reads it.
	bob.TypeLine("/msg alice")
	bob.WaitText("direct messages with alice")
	waitSide(bob, "@alice")
	bob.TypeLine("noon it is")
	alice.WaitText("bob → you: noon it is")
}

// TestMentionRingsTheBell: a line that names you rings the bell and is
// highlighted; one that does not, or names you inside another word, does
// not ring.
func TestMentionRingsTheBell(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	alice := ts.creator(t, "alice", "alpha")
	bob := ts.connect(t)
	bob.Login("bob")
	bob.TypeLine("/join alpha")
	alice.WaitText("bob joined alpha")
	bob.WaitText("bob joined alpha")

	bob.StartRecording()
	alice.TypeLine("nothing for bobby here")
	bob.WaitText("alice: nothing for bobby here")
	if n := bareBells(bob.Recorded()); n != 0 {
		t.Errorf("a line that does not name bob rang %d bells", n)
	}
	bob.StartRecording()
	alice.TypeLine("what do you think, @Bob?")
	bob.WaitText("alice: what do you think, @Bob?")
	if n := bareBells(bob.Recorded()); n != 1 {
		t.Errorf("a line naming bob rang %d bells, want 1", n)
	}
	// His own line naming him does not.
	bob.StartRecording()
	bob.TypeLine("bob thinks")
	bob.WaitText("bob: bob thinks")
	alice.WaitText("bob: bob thinks")
	if n := bareBells(bob.Recorded()); n != 0 {
		t.Errorf("bob's own line rang %d bells", n)
	}
}

// TestUnreadTUI: lines said in a room you left count exactly on its entry,
// joins and leaves not; Alt+U goes there, where a new rule marks the first
// unread line and the count goes; a registered name's counts survive a
// reconnect.
func TestUnreadTUI(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, withLobbyConfig(func(c *lobbyConfig) { c.FloodRate = -1 }))
	key := e2e.NewKey(t)
	alice := registeredPTY(t, ts, key, "alice")
	alice.TypeLine("/create alpha")
	alice.WaitText("You created alpha")
	bob := ts.lineUser(t, "bob")
	bob.WaitText("You are in the Lobby")
	bob.Send("/join alpha")
	bob.WaitText("You are in alpha.")
	alice.TypeLine("read up to here")
	bob.WaitText("alice: read up to here")
	alice.TypeLine("/create beta")
	alice.WaitText("You created beta")

	const n = 7
	for i := range n {
		bob.Send(strings.Repeat("x", i+1) + " said while she was away")
	}
	bob.WaitText("xxxxxxx said while she was away")
	carol := ts.lineUser(t, "carol")
	carol.Send("/join alpha")
	carol.WaitText("You are in alpha.")
	carol.Send("/leave")
	carol.WaitText("You left room alpha")
	waitSide(alice, "alpha", "(7)", "1")

	alice.Key(uv.KeyPressEvent{Code: 'u', Mod: uv.ModAlt})
	screen := alice.WaitText("x said while she was away")
	rule, first := strings.Index(screen, "── new ──"), strings.Index(screen, "x said while she was away")
	if rule < 0 || first < rule || strings.Contains(screen[rule:], "read up to here") {
		t.Errorf("the new rule is not right above the first unread line:\n%s", screen)
	}
	waitSide(alice, "alpha", "2")

	// Away and back: the count is there for her name.
	alice.TypeLine("/leave")
	alice.WaitText("You left room alpha")
	alice.TypeLine("/quit")
	alice.WaitExit()
	bob.Send("alice, one for you")
	bob.Send("and another")
	bob.WaitText("bob: and another")
	alice = ts.connectKey(t, key)
	alice.Login("")
	alice.WaitText("You are in the Lobby, alice")
	waitSide(alice, "alpha", "@1", "(2)", "1")
}

// TestDirectMessageAwayTUI: direct messages to a registered user who is away
// wait for them: counted on the sender's entry when they come back, and
// there in the conversation's history, below a new rule.
func TestDirectMessageAwayTUI(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	bobKey := e2e.NewKey(t)
	alice := registeredPTY(t, ts, e2e.NewKey(t), "alice")
	bob := registeredPTY(t, ts, bobKey, "bob")
	bob.TypeLine("/quit")
	bob.WaitExit()
	testutil.Eventually(t, "bob gone", func() bool { id, _ := ts.lobby.Whois("bob"); return !id.Online })

	alice.TypeLine("/msg bob are you there?")
	alice.WaitText("you → bob: are you there?")
	alice.TypeLine("/msg bob call me")
	alice.WaitText("you → bob: call me")

	bob = ts.connectKey(t, bobKey)
	bob.Login("")
	bob.WaitText("While you were away: 2 direct messages from alice")
	waitSide(bob, "@alice", "(2)")
	bob.TypeLine("/msg alice")
	screen := bob.WaitText("call me")
	if !strings.Contains(screen, "── new ──") || strings.Index(screen, "── new ──") > strings.Index(screen, "are you there?") {
		t.Errorf("no new rule above the messages:\n%s", screen)
	}
	waitSide(bob, "@alice")
}
