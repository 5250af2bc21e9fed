package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/store"
)

// benchNode starts a node on the cluster log with its own SQLite store in
// dir, as a real node runs. It is stopped with the returned function.
func benchNode(b *testing.B, url, name, dir string, cc func(*Config)) (*lobby.Lobby, *Log, func(kill bool)) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logger := testutil.Logger(b)
	st, err := store.Open(ctx, dir, logger)
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{URL: url, Node: name, Logger: logger}
	if cc != nil {
		cc(&cfg)
	}
	g, err := Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	l, err := lobby.New(ctx, lobby.Config{Store: st, Log: g, Node: name, Logger: logger, FloodRate: -1, MaxSessions: 1000, Queue: 4096})
	if err != nil {
		b.Fatal(err)
	}
	wctx, stop := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		_ = g.Watch(wctx, l)
	}()
	return l, g, func(kill bool) {
		stop()
		<-watched
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if kill {
			g.nc.Close()
			short, c2 := context.WithTimeout(ctx, time.Millisecond)
			_ = l.Close(short)
			c2()
		} else {
			_ = l.Close(ctx)
			_ = g.Close()
		}
		_ = st.Close()
	}
}

// BenchmarkCatchUp measures how long a node that missed 10,000 lines takes
// from its start to showing them: reading them from the stream, applying
// them and storing them in its SQLite copy. Issue 10's target: ≤ 2 s.
func BenchmarkCatchUp(b *testing.B) {
	const missed = 10_000
	nats := natstest.Start(b)
	aDir, bDir := b.TempDir(), b.TempDir()
	a, _, stopA := benchNode(b, nats.URL(), "a", aDir, nil)
	defer stopA(false)
	alice, err := a.Register(context.Background(), "alice")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := alice.Exec(ctx, "/create alpha"); err != nil {
		b.Fatal(err)
	}
	_, _, stopB := benchNode(b, nats.URL(), "b", bDir, nil)
	stopB(false)
	for b.Loop() {
		b.StopTimer()
		for i := range missed {
			if err := alice.Exec(ctx, fmt.Sprint("line ", i)); err != nil {
				b.Fatal(err)
			}
			if i%1000 == 999 {
				drainAll(alice)
			}
		}
		if err := a.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		drainAll(alice)
		b.StartTimer()
		// lobby.New returns once the node has applied and stored the log.
		_, _, stop := benchNode(b, nats.URL(), "b", bDir, nil)
		b.StopTimer()
		stop(false)
		b.StartTimer()
	}
	b.ReportMetric(float64(missed), "lines/op")
}

func drainAll(s *lobby.Session) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 0)
		_, err := s.Next(ctx)
		cancel()
		if err != nil {
			return
		}
	}
}

// BenchmarkDelivery measures one line from the moment its author submits
// it to the moment another member's session has it queued, with that
// member on the same node and on another node, over one NATS server; and
// on a node on its own with its SQLite log, for comparison.
func BenchmarkDelivery(b *testing.B) {
	nats := natstest.Start(b)
	a, _, stopA := benchNode(b, nats.URL(), "a", b.TempDir(), nil)
	defer stopA(false)
	bNode, _, stopB := benchNode(b, nats.URL(), "b", b.TempDir(), nil)
	defer stopB(false)
	ctx := context.Background()
	author, _ := a.Register(ctx, "author")
	_ = author.Exec(ctx, "/create alpha")
	same, _ := a.Register(ctx, "same")
	other, _ := bNode.Register(ctx, "other")
	testutil.Eventually(b, "alpha on b", func() bool { return len(bNode.Rooms()) == 1 })
	_ = same.Exec(ctx, "/join alpha")
	_ = other.Exec(ctx, "/join alpha")
	_ = a.Sync(ctx)
	_ = bNode.Sync(ctx)

	local := standaloneNode(b)
	lAuthor, _ := local.Register(ctx, "author")
	_ = lAuthor.Exec(ctx, "/create alpha")
	lReader, _ := local.Register(ctx, "reader")
	_ = lReader.Exec(ctx, "/join alpha")
	_ = local.Sync(ctx)

	for _, tc := range []struct {
		name     string
		author   *lobby.Session
		receiver *lobby.Session
	}{
		{"standalone", lAuthor, lReader},
		{"cluster/same-node", author, same},
		{"cluster/other-node", author, other},
	} {
		b.Run(tc.name, func(b *testing.B) {
			drainAll(tc.receiver)
			drainAll(tc.author)
			var lat []time.Duration
			i := 0
			for b.Loop() {
				text := fmt.Sprint(tc.name, i)
				i++
				start := time.Now()
				if err := tc.author.Exec(ctx, text); err != nil {
					b.Fatal(err)
				}
				lobbytest.WaitLine(b, tc.receiver, text)
				lat = append(lat, time.Since(start))
				drainAll(tc.author)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func standaloneNode(b *testing.B) *lobby.Lobby {
	b.Helper()
	ctx := context.Background()
	logger := testutil.Logger(b)
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "alone"), logger)
	if err != nil {
		b.Fatal(err)
	}
	g, err := st.Log(ctx)
	if err != nil {
		b.Fatal(err)
	}
	l, err := lobby.New(ctx, lobby.Config{Store: st, Log: g, Logger: logger, FloodRate: -1, MaxSessions: 1000, Queue: 4096})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = l.Close(ctx)
		_ = st.Close()
	})
	return l
}

// BenchmarkNoticeDeath measures how long the others take to end the
// sessions of a node that died (its connection gone, as after SIGKILL), with
// the default heartbeat settings. Issue 10's target: ≤ 5 s.
func BenchmarkNoticeDeath(b *testing.B) {
	nats := natstest.Start(b)
	watcher, _, stopW := benchNode(b, nats.URL(), "watcher", b.TempDir(), nil)
	defer stopW(false)
	ctx := context.Background()
	bob, _ := watcher.Register(ctx, "bob")
	_ = bob.Exec(ctx, "/create alpha")
	i := 0
	for b.Loop() {
		b.StopTimer()
		victim, _, stopV := benchNode(b, nats.URL(), fmt.Sprint("victim", i), b.TempDir(), nil)
		name := fmt.Sprint("v", i)
		i++
		v, err := victim.Register(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		testutil.Eventually(b, "alpha on the victim", func() bool { return len(victim.Rooms()) == 1 })
		_ = v.Exec(ctx, "/join alpha")
		lobbytest.WaitLine(b, bob, name+" joined alpha")
		// Its heartbeat must have been heard for a while, as in real life.
		time.Sleep(2 * time.Second)
		b.StartTimer()
		stopV(true)
		lobbytest.WaitLine(b, bob, name+" left alpha (connection lost)")
	}
	_ = i
}
