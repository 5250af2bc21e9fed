package sshserver

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/cluster"
	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// withCluster puts the server on the cluster log at url as node name.
func withCluster(t testing.TB, url, name string) serverOption {
	return func(_ *Config, lc *lobby.Config) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		g, err := cluster.Open(ctx, cluster.Config{URL: url, Node: name, Logger: testutil.Logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		// Closed after the server's lobby, which test cleanups stop first
		// (they run last registered, first run).
		t.Cleanup(func() { _ = g.Close() })
		lc.Log, lc.Node = g, name
	}
}

// TestTwoNodesOverSSH: two servers on one NATS are one chat for people on
// real SSH sessions, whichever server they reach.
func TestTwoNodesOverSSH(t *testing.T) {
	nats := natstest.Start(t)
	a := startServer(t, withCluster(t, nats.URL(), "a"), withMaxSessions(6))
	b := startServer(t, withCluster(t, nats.URL(), "b"), withMaxSessions(6))

	alice := a.creator(t, "alice", "alpha")
	alice.TypeLine("said on a before bob came")
	alice.WaitText("alice: said on a before bob came")

	// Listed on b, joined there, with a's history replayed.
	bob := b.connect(t)
	bob.Login("bob")
	bob.WaitText("alpha")
	bob.TypeLine("/join alpha")
	bob.WaitText("alice: said on a before bob came")
	alice.WaitText("bob joined alpha")

	// Lines both ways; both screens show them in one order.
	alice.TypeLine("one from a")
	bob.TypeLine("one from b")
	for _, c := range []*e2e.Terminal{alice, bob} {
		c.WaitText("bob: one from b")
		c.WaitText("alice: one from a")
	}
	order := func(c *e2e.Terminal) string {
		s := c.Screen()
		ia, ib := strings.Index(s, "alice: one from a"), strings.Index(s, "bob: one from b")
		if ia < 0 || ib < 0 {
			return "missing"
		}
		if ia < ib {
			return "a first"
		}
		return "b first"
	}
	if oa, ob := order(alice), order(bob); oa != ob {
		t.Errorf("alice sees %s, bob sees %s", oa, ob)
	}

	// A name in use on a is taken on b; guests never share a number.
	taken := b.lineUser(t, "Alice")
	taken.WaitText("taken by someone online")
	taken.Send("")
	taken.WaitText("You are in the Lobby")
	taken.Send("/join alpha")
	guest := a.lineUser(t, "")
	guest.WaitText("You are in the Lobby")
	guest.Send("/join alpha")
	// Both guests joined alpha: alice sees two different numbers.
	joins := regexp.MustCompile(`(Guest\d+) joined alpha`)
	var names []string
	alice.WaitFor("two guests in alpha", func(s string) bool {
		names = names[:0]
		for _, m := range joins.FindAllStringSubmatch(s, -1) {
			names = append(names, m[1])
		}
		return len(names) == 2
	})
	if names[0] == names[1] {
		t.Errorf("two guests named %s", names[0])
	}

	// The limit counts both servers: 4 sessions now, 2 more fit, then
	// neither takes one.
	a.connectLine(t).WaitText(lobby.Prompt)
	b.connectLine(t).WaitText(lobby.Prompt)
	testutil.Eventually(t, "six sessions counted", func() bool { return a.lobby.Sessions() == 6 && b.lobby.Sessions() == 6 })
	for _, s := range []*testServer{a, b} {
		full := s.connectLine(t)
		full.WaitText("Server is full: 6 of 6 sessions in use")
		if code := full.WaitExit(); code != 1 {
			t.Errorf("server-full exit status %d, want 1", code)
		}
	}
}

// TestNodesRaceToCreate: two people on two servers create the same room at
// once; one gets it, the other is told it exists, on every try.
func TestNodesRaceToCreate(t *testing.T) {
	nats := natstest.Start(t)
	a := startServer(t, withCluster(t, nats.URL(), "a"))
	b := startServer(t, withCluster(t, nats.URL(), "b"))
	pa := a.lineUser(t, "pa")
	pb := b.lineUser(t, "pb")
	pa.WaitText("You are in the Lobby")
	pb.WaitText("You are in the Lobby")
	for i := range 5 {
		room := fmt.Sprint("race", i)
		var wg sync.WaitGroup
		for _, c := range []*e2e.Line{pa, pb} {
			wg.Go(func() { c.Send("/create " + room) })
		}
		wg.Wait()
		testutil.Eventually(t, room+" decided on both", func() bool {
			return strings.Contains(pa.Output(), room) && strings.Contains(pb.Output(), room) &&
				(strings.Count(pa.Output()+pb.Output(), "You created "+room+".") == 1) &&
				(strings.Count(pa.Output()+pb.Output(), "A room named "+room+" already exists") == 1)
		})
	}
}
