package sshserver

import (
	"fmt"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// registeredUser connects a PTY user with key, signs in as name and
// registers the name.
func (ts *testServer) registeredUser(t *testing.T, key gossh.Signer, name string) *e2e.Terminal {
	t.Helper()
	c := ts.connectKey(t, key)
	c.Login(name)
	c.TypeLine("/register")
	c.WaitText("is now registered to your SSH key")
	return c
}

// TestKeepingOrderOverSSH: a room's owner keeps order from a terminal: a
// member without rights is refused; a kick sends the target back to the
// Lobby, told why; a ban removes them, refuses /join, holds their key under
// any name and is lifted by /unban; a mute leaves them reading, not
// speaking.
func TestKeepingOrderOverSSH(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	aliceKey, bobKey := e2e.NewKey(t), e2e.NewKey(t)
	alice := ts.registeredUser(t, aliceKey, "alice")
	alice.TypeLine("/create alpha")
	alice.WaitText("You created alpha")
	bob := ts.connectKey(t, bobKey)
	bob.Login("bob")
	bob.TypeLine("/join alpha")
	alice.WaitText("bob joined alpha")

	// No right, no change.
	bob.TypeLine("/kick alice")
	bob.WaitText("Only the owner of alpha, its room operators and server operators may kick people out of it.")
	bob.WaitText(" bob · alpha · ")

	alice.TypeLine("/kick bob stop shouting")
	bob.WaitText("alice kicked you out of alpha: stop shouting.")
	bob.WaitText(" bob · Lobby · ")
	alice.WaitText("alice kicked bob: stop shouting")

	bob.TypeLine("/join alpha")
	bob.WaitText(" bob · alpha · ")
	alice.TypeLine("/ban bob 1h spam")
	bob.WaitText("alice banned you from alpha until ")
	bob.WaitText(" bob · Lobby · ")
	alice.WaitText("alice banned bob for 1h: spam")
	bob.TypeLine("/join alpha")
	bob.WaitText("You are banned from alpha by alice until ")
	bob.TypeLine("/quit")
	bob.WaitExit()

	// The same key under another name is still banned, until /unban.
	robert := ts.connectKey(t, bobKey)
	robert.Login("robert")
	robert.TypeLine("/join alpha")
	robert.WaitText("You are banned from alpha by alice until ")
	alice.TypeLine("/unban bob")
	alice.WaitText("alice lifted the ban on bob")
	robert.TypeLine("/join alpha")
	robert.WaitText(" robert · alpha · ")

	// Muted: reads, cannot speak.
	alice.TypeLine("/mute robert 10m")
	robert.WaitText("alice muted you in alpha until ")
	robert.TypeLine("let me speak")
	robert.WaitText("you may read, not speak, so that was not sent.")
	alice.TypeLine("can you read this")
	robert.WaitText("alice: can you read this")
	if strings.Contains(alice.Screen(), "robert: let me speak") {
		t.Error("a muted line reached the room")
	}
}

// TestPrivateRoomOverSSH: a private room is missing from /list and the
// room list of everyone not invited, /join answers as if it did not exist,
// and an invitation lets in, history and all.
func TestPrivateRoomOverSSH(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	alice := ts.registeredUser(t, e2e.NewKey(t), "alice")
	alice.TypeLine("/create hideout private")
	alice.WaitText("You created hideout, a private room")
	alice.TypeLine("only for members")
	alice.WaitText("alice: only for members")

	bob := ts.registeredUser(t, e2e.NewKey(t), "bob")
	carol := ts.connectKey(t, nil)
	carol.Login("carol")
	for _, c := range []*e2e.Terminal{bob, carol} {
		c.TypeLine("/list")
		c.WaitText("No rooms yet")
		c.TypeLine("/join hideout")
		c.WaitText("There is no room named hideout. /list shows the rooms; /create hideout makes it.")
		if inSidebar(c, "hideout") {
			t.Errorf("the room list shows the private room:\n%s", c.Screen())
		}
	}

	alice.TypeLine("/invite bob")
	alice.WaitText("alice invited bob")
	bob.WaitText("alice invited you to hideout: /join hideout goes there.")
	bob.WaitFor("hideout in bob's room list", func(string) bool { return inSidebar(bob, "hideout") })
	bob.TypeLine("/join hideout")
	bob.WaitText(" bob · hideout · ")
	bob.WaitText("alice: only for members") // the history, now that he is a member

	carol.TypeLine("/list")
	carol.WaitFor("carol's second /list", func(s string) bool { return strings.Count(s, "No rooms yet") >= 2 })
	if inSidebar(carol, "hideout") {
		t.Errorf("the room list of someone not invited shows the private room:\n%s", carol.Screen())
	}
}

// inSidebar reports whether the room list (the column left of the first
// │) shows room.
func inSidebar(c *e2e.Terminal, room string) bool {
	for _, row := range c.Lines() {
		if side, _, ok := strings.Cut(row, "│"); ok && strings.HasPrefix(strings.TrimSpace(side), room+" ") {
			return true
		}
	}
	return false
}

// TestServerBanOverSSH: a server operator in the Lobby bans a key from the
// whole server: the session ends with the reason and status 1, the key is
// refused at the door before the name prompt whatever name it would ask
// for, and others on the same address are not; a guest's server ban holds
// its address for guests.
func TestServerBanOverSSH(t *testing.T) {
	testutil.CheckGoroutines(t)
	rootKey, bobKey, eveKey := e2e.NewKey(t), e2e.NewKey(t), e2e.NewKey(t)
	obs := newCountingObserver()
	ts := startServer(t, withOperators(rootKey), func(c *Config, _ *lobbyConfig) { c.Observer = obs })
	root := ts.lineKey(t, rootKey, "root")
	root.WaitText("You are in the Lobby")
	bob := ts.connectKey(t, bobKey)
	bob.Login("bob")

	root.Send("/ban bob 1h raiding")
	root.WaitText("You banned bob from the server for 1h (until ")
	bob.WaitText("Disconnected: you are banned from this server by root until ")
	if code := bob.WaitExit(); code != 1 {
		t.Errorf("the banned session ended with status %d, want 1", code)
	}

	// Refused at the door, in line mode and with a PTY.
	again := e2e.ConnectLineKey(t, ts.addr, bobKey)
	if code := again.WaitExit(); code != 1 {
		t.Errorf("the banned key's exit status %d, want 1", code)
	}
	if out := again.Output(); !strings.Contains(out, "You are banned from this server by root until ") || !strings.Contains(out, ": raiding.") || strings.Contains(out, "screen name") {
		t.Errorf("the banned key read %q; want the ban, before any prompt", out)
	}
	tty := ts.connectKey(t, bobKey)
	tty.WaitText("You are banned from this server by root")
	if code := tty.WaitExit(); code != 1 {
		t.Errorf("the banned key's exit status with a PTY %d, want 1", code)
	}

	// Another key from the same address comes in.
	eve := ts.connectKey(t, eveKey)
	eve.Login("eve")

	// A guest's ban holds guests from its address, not keys.
	gus := ts.connect(t)
	gus.Login("gus")
	root.Send("/ban gus")
	gus.WaitText("Disconnected: you are banned from this server by root until it is lifted.")
	guest := e2e.ConnectLine(t, ts.addr)
	guest.WaitText("You are banned from this server by root until it is lifted.")
	guest.WaitExit()
	ts.connectKey(t, e2e.NewKey(t)).Login("keyed")

	root.Send("/bans")
	root.WaitText("Banned from the server:\n  bob (key ")
	root.WaitText("  gus (address 127.0.0.1) by root, until it is lifted\n")
	testutil.Eventually(t, "the refusals counted as banned", func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.refused[RefusedBanned] == 3
	})
}

// TestRaidGuardOverSSH: /mode registered on keeps guests reading but not
// speaking, for a room (its owner) or the whole server (an operator); a key
// that opens too many sessions a minute is refused for a while.
func TestRaidGuardOverSSH(t *testing.T) {
	testutil.CheckGoroutines(t)
	rootKey, flood := e2e.NewKey(t), e2e.NewKey(t)
	obs := newCountingObserver()
	ts := startServer(t, withOperators(rootKey), func(c *Config, _ *lobbyConfig) {
		c.Observer, c.KeyRate = obs, 6
	})
	alice := ts.lineKey(t, e2e.NewKey(t), "alice")
	alice.WaitText("You are in the Lobby")
	alice.Send("/register")
	alice.WaitText("is now registered")
	alice.Send("/create alpha")
	alice.WaitText("alice joined alpha")
	guest := ts.lineUser(t, "gus")
	guest.WaitText("You are in the Lobby")
	guest.Send("/join alpha")
	alice.WaitText("gus joined alpha")

	alice.Send("/mode registered on")
	guest.WaitText("* alice switched on the raid guard: only registered names may speak in alpha for now; guests may read")
	guest.Send("raid raid raid")
	guest.WaitText("Only registered names may speak in alpha for now (a guard against raids), so that was not sent; you may read.")
	alice.Send("guests can read this")
	guest.WaitText("alice: guests can read this")
	alice.Send("/mode registered off")
	guest.WaitText("* alice let guests speak in alpha again")
	guest.Send("thank you")
	alice.WaitText("gus: thank you")

	root := ts.lineKey(t, rootKey, "root")
	root.WaitText("You are in the Lobby")
	root.Send("/mode registered on")
	guest.WaitText("root switched on the raid guard for the whole chat")
	guest.Send("raid")
	guest.WaitText("Only registered names may speak for now (a guard against raids)")
	if strings.Contains(alice.Output(), "gus: raid") {
		t.Error("a guest's line reached the room under the raid guard")
	}

	// One key, many sessions: the limit is 6 a minute (root and alice used
	// their own keys).
	for i := range 6 {
		c := e2e.ConnectLineKey(t, ts.addr, flood)
		c.WaitText("Enter your screen name")
		c.Stdin.Close()
		c.WaitExit()
		_ = i
	}
	over := e2e.ConnectLineKey(t, ts.addr, flood)
	over.WaitText("This SSH key opened more than 6 sessions in a minute, so it is refused for 5 minutes. Try again later.")
	if code := over.WaitExit(); code != 1 {
		t.Errorf("refused key exit status %d, want 1", code)
	}
	e2e.ConnectLineKey(t, ts.addr, e2e.NewKey(t)).WaitText("Enter your screen name")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if n := obs.refused[RefusedKeyRate]; n != 1 {
		t.Errorf("%d refusals counted as key_rate, want 1", n)
	}
}

// TestKeepingOrderInLineMode: the commands answer in plain lines without a
// PTY, and a server ban ends a line-mode session with the reason.
func TestKeepingOrderInLineMode(t *testing.T) {
	testutil.CheckGoroutines(t)
	rootKey := e2e.NewKey(t)
	ts := startServer(t, withOperators(rootKey))
	alice := ts.lineKey(t, e2e.NewKey(t), "alice")
	alice.WaitText("You are in the Lobby")
	alice.Send("/register")
	alice.WaitText("is now registered")
	alice.Send("/create alpha")
	bob := ts.lineKey(t, e2e.NewKey(t), "bob")
	bob.WaitText("You are in the Lobby")
	bob.Send("/join alpha")
	alice.WaitText("* bob joined alpha\n")

	alice.Send("/kick bob")
	bob.WaitText("alice kicked you out of alpha.\n")
	bob.WaitText("You are in the Lobby. Type /commands")
	bob.Send("/join alpha")
	testutil.Eventually(t, "bob back in alpha", func() bool { return strings.Count(bob.Output(), "You are in alpha.") == 2 })
	alice.Send("/mute bob 2h")
	bob.WaitText("alice muted you in alpha until ")
	alice.Send("/ban bob 7d")
	bob.WaitText("alice banned you from alpha until ")
	alice.Send("/bans")
	alice.WaitText("Banned in alpha:\n  bob (key ")
	alice.WaitText("Muted in alpha:\n  bob (key ")
	alice.Send("/ban bob -5m")
	alice.WaitText("A duration cannot be negative, as -5m is")
	alice.Send("/ban bob 99999d")
	alice.WaitText("A ban or a mute lasts 366d at most, and 99999d is longer")
	alice.Send("/mute bob abc")
	alice.WaitText("A duration is a whole number and a unit (m, h, d or w), such as 10m, 2h or 7d; abc is not one.\n")
	alice.Send("/ban alice")
	alice.WaitText("You cannot ban yourself.\n")
	alice.Send("/commands order")
	alice.WaitText("  /ban NAME [DURATION] [reason]")

	root := ts.lineKey(t, rootKey, "root")
	root.WaitText("You are in the Lobby")
	root.Send("/announce the server restarts at noon")
	for _, c := range []*e2e.Line{alice, bob, root} {
		c.WaitText("Announcement from root: the server restarts at noon\n")
	}
	root.Send("/ban bob spamming everyone")
	bob.WaitText("Disconnected: you are banned from this server by root until it is lifted: spamming everyone.\n")
	if code := bob.WaitExit(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if strings.Contains(bob.Output(), "\x1b") {
		t.Error("line mode sent an escape sequence")
	}
}

// TestModerationAcrossNodesOverSSH: an owner on node a kicks and bans a
// member on node b; an operator on a bans a key from the server, which b's
// door then refuses.
func TestModerationAcrossNodesOverSSH(t *testing.T) {
	nats := natstest.Start(t)
	rootKey, aliceKey, bobKey := e2e.NewKey(t), e2e.NewKey(t), e2e.NewKey(t)
	a := startServer(t, withCluster(t, nats.URL(), "a"), withOperators(rootKey))
	b := startServer(t, withCluster(t, nats.URL(), "b"), withOperators(rootKey))

	alice := a.registeredUser(t, aliceKey, "alice")
	alice.TypeLine("/create alpha")
	alice.WaitText("You created alpha")
	bob := b.connectKey(t, bobKey)
	bob.Login("bob")
	bob.TypeLine("/join alpha")
	alice.WaitText("bob joined alpha")

	alice.TypeLine("/kick bob take a break")
	bob.WaitText("alice kicked you out of alpha: take a break.")
	bob.WaitText(" bob · Lobby · ")
	bob.TypeLine("/join alpha")
	bob.WaitText(" bob · alpha · ")
	alice.TypeLine("/ban bob 2h")
	bob.WaitText("alice banned you from alpha until ")
	bob.WaitText(" bob · Lobby · ")
	bob.TypeLine("/join alpha")
	bob.WaitText("You are banned from alpha by alice until ")

	root := a.lineKey(t, rootKey, "root")
	root.WaitText("You are in the Lobby")
	root.Send("/ban bob 1h from a to b")
	bob.WaitText("Disconnected: you are banned from this server by root until ")
	if code := bob.WaitExit(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	again := e2e.ConnectLineKey(t, b.addr, bobKey)
	again.WaitText("You are banned from this server by root until ")
	if code := again.WaitExit(); code != 1 {
		t.Errorf("b's door: exit status %d, want 1", code)
	}
}

// TestPrivateRoomPaging: a member of a private room pages back through its
// history (served to members only, through their session).
func TestPrivateRoomPaging(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, withHistory(5))
	alice := ts.lineKey(t, e2e.NewKey(t), "alice")
	alice.WaitText("You are in the Lobby")
	alice.Send("/register")
	alice.WaitText("is now registered")
	alice.Send("/create hideout private")
	alice.WaitText("* alice joined hideout")
	var b strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "line-%02d\n", i)
	}
	_, _ = alice.Stdin.Write([]byte(b.String()))
	alice.WaitText("alice: line-30")

	bob := ts.connectKey(t, e2e.NewKey(t))
	bob.Login("bob")
	alice.Send("/invite bob")
	bob.WaitText("alice invited you to hideout")
	bob.TypeLine("/join hideout")
	bob.WaitText("alice: line-30")
	pgUp := uv.KeyPressEvent{Code: uv.KeyPgUp}
	bob.WaitFor("the beginning of hideout after paging up", func(s string) bool {
		if strings.Contains(s, "This is the beginning of hideout") {
			return true
		}
		bob.Key(pgUp)
		return false
	})
	bob.WaitText("alice: line-01")
}
