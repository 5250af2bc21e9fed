package cluster

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// TestStreamLeaderKilled: of three NATS servers, each its own process, the
// one that leads the stream is killed with SIGKILL; writes stall for the
// election, then the chat carries on, in one order, with nothing lost.
func TestStreamLeaderKilled(t *testing.T) {
	ns := natstest.StartProcesses(t, 3)
	var logs testutil.LockedBuffer
	tc := &testCluster{t: t, url: ns.URL(), cfg: func(c *Config, _ *lobby.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil)).With("node", c.Node)
	}}
	defer func() {
		if t.Failed() {
			t.Logf("the nodes' logs:\n%s", logs.String())
		}
	}()
	a := tc.start("a", nil)
	b := tc.start("b", nil)
	alice := alphaOnBoth(t, a, b)
	bob := bobJoins(t, b)
	lobbytest.WaitLine(t, alice, "bob joined alpha")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := a.log.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := info.Cluster.Leader
	t.Logf("killing %s, the stream's leader; a is on %s, b on %s", leader, a.log.nc.ConnectedServerName(), b.log.nc.ConnectedServerName())
	start := time.Now()
	ns.Kill(ns.Index(leader))
	lobbytest.Exec(t, alice, "during")
	lobbytest.Exec(t, bob, "also during")
	// Either may come first; both nodes must show the same one first.
	first := func(s *lobby.Session) string {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				t.Fatalf("%s: %v", s.Name(), err)
			}
			if ev.Kind == lobby.EventMessage && (ev.Msg.Text == "during" || ev.Msg.Text == "also during") {
				return ev.Msg.Text
			}
		}
	}
	fa, fb := first(alice), first(bob)
	t.Logf("carried on after %v", time.Since(start).Round(time.Millisecond))
	if fa != fb {
		t.Errorf("alice saw %q first, bob %q", fa, fb)
	}
}
