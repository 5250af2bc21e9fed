package sshserver

import (
	"strings"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// registeredLine connects a line-mode user with key, signs in as name and
// registers it.
func registeredLine(t *testing.T, ts *testServer, name string) (*e2e.Line, func() *e2e.Line) {
	t.Helper()
	key := e2e.NewKey(t)
	c := ts.lineKey(t, key, name)
	c.WaitText("You are in the Lobby")
	c.Send("/register")
	c.WaitText("is now registered to your SSH key")
	again := func() *e2e.Line {
		c := ts.lineKey(t, key, "")
		c.WaitText("You are in the Lobby")
		return c
	}
	return c, again
}

// TestDirectMessageLineMode: /msg in line mode reaches its recipient only,
// as "alice → you: text", and echoes "you → bob: text" to the sender, who
// stays in her room; /reply answers.
func TestDirectMessageLineMode(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	alice, _ := registeredLine(t, ts, "alice")
	bob, _ := registeredLine(t, ts, "bob")
	carol := ts.lineUser(t, "carol")
	carol.WaitText("You are in the Lobby")
	alice.Send("/create alpha")
	alice.WaitText("You are in alpha.")
	carol.Send("/join alpha")
	carol.WaitText("You are in alpha.")

	alice.Send("/msg bob meet at noon")
	bob.WaitText("] alice → you: meet at noon\n")
	alice.WaitText("] you → bob: meet at noon\n")
	bob.Send("/reply noon it is")
	alice.WaitText("] bob → you: noon it is\n")
	alice.Send("still in alpha")
	carol.WaitText("alice: still in alpha")
	if out := carol.Output(); strings.Contains(out, "noon") {
		t.Errorf("carol saw a direct message:\n%s", out)
	}

	// A guest's conversation is not kept, and the sender is told.
	carol.Send("/dm bob hello from a guest")
	carol.WaitText("Messages between you and bob are not kept: they last while you are both connected.")
	bob.WaitText("carol → you: hello from a guest")
	carol.Send("/msg nobody hi")
	carol.WaitText("Nobody called nobody is online, and the name is not registered")
}

// TestDirectMessageAcrossNodes: a direct message crosses nodes, and one to
// a registered user who is away is there when they come back, on any node.
func TestDirectMessageAcrossNodes(t *testing.T) {
	nats := natstest.Start(t)
	a := startServer(t, withCluster(t, nats.URL(), "a"))
	b := startServer(t, withCluster(t, nats.URL(), "b"))

	alice, _ := registeredLine(t, a, "alice")
	bob, bobAgain := registeredLine(t, b, "bob")
	alice.Send("/msg bob from node a")
	bob.WaitText("alice → you: from node a")
	bob.Send("/reply from node b")
	alice.WaitText("bob → you: from node b")

	bob.Send("/quit")
	bob.WaitExit()
	testutil.Eventually(t, "bob gone on a", func() bool {
		id, _ := a.lobby.Whois("bob")
		return !id.Online
	})
	alice.Send("/msg bob while you were out")
	alice.WaitText("you → bob: while you were out")
	alice.Send("/msg bob and again")
	alice.WaitText("you → bob: and again")

	bob = bobAgain()
	bob.WaitText("While you were away: 2 direct messages from alice.")
	bob.Send("/msg alice")
	bob.WaitText("You are in your conversation with alice")
	bob.WaitText("-- new --\n[")
	for _, want := range []string{"alice → you: from node a", "you → alice: from node b", "alice → you: while you were out", "alice → you: and again"} {
		bob.WaitText(want)
	}
	out := bob.Output()
	if i, j := strings.Index(out, "-- new --"), strings.Index(out, "while you were out"); i < 0 || j < i || strings.Contains(out[i:j], "from node b") {
		t.Errorf("the new rule is not just before the first unread line:\n%s", out)
	}
	bob.Send("back now")
	alice.WaitText("bob → you: back now")
}
