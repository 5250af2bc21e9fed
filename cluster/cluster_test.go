package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// waitLimit bounds starting and stopping a node, and what waits on NATS
// itself: generous for the election after a leader dies. A lobby's own
// waits take testutil.WaitTimeout.
const waitLimit = 60 * time.Second

// node is one chatroom node of a test cluster: a lobby on the cluster's log.
type node struct {
	name  string
	store *lobby.MemoryStore
	log   *Log
	lobby *lobby.Lobby
	stop  context.CancelFunc
	done  chan struct{}
}

type testCluster struct {
	t   *testing.T
	url string
	cfg func(*Config, *lobby.Config)
}

func newTestCluster(t *testing.T, nats *natstest.Cluster, cfg func(*Config, *lobby.Config)) *testCluster {
	return &testCluster{t: t, url: nats.URL(), cfg: cfg}
}

// start starts a node named name on store (a new one when nil), watching
// the others, and stops it when the test ends.
func (tc *testCluster) start(name string, store *lobby.MemoryStore) *node {
	tc.t.Helper()
	if store == nil {
		store = lobby.NewMemoryStore()
	}
	logger := testutil.Logger(tc.t)
	cc := Config{URL: tc.url, Node: name, Logger: logger, HeartbeatEvery: 100 * time.Millisecond, DeadAfter: 600 * time.Millisecond}
	lc := lobby.Config{Store: store, Node: name, Logger: logger, FloodRate: -1, MaxSessions: 100}
	if tc.cfg != nil {
		tc.cfg(&cc, &lc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	g, err := Open(ctx, cc)
	if err != nil {
		tc.t.Fatal(err)
	}
	lc.Log = g
	l, err := lobby.New(ctx, lc)
	if err != nil {
		g.Close()
		tc.t.Fatal(err)
	}
	n := &node{name: name, store: store, log: g, lobby: l, done: make(chan struct{})}
	wctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	go func() {
		defer close(n.done)
		_ = g.Watch(wctx, l)
	}()
	tc.t.Cleanup(n.close)
	return n
}

// close stops the node cleanly, as a shutdown does.
func (n *node) close() {
	select {
	case <-n.done:
		return // stopped already
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_ = n.lobby.Close(ctx)
	n.stop()
	<-n.done
	_ = n.log.Close()
}

// kill stops the node the way a crash does: no leave lines, no goodbye;
// its NATS connection just goes away.
func (n *node) kill() {
	n.stop()
	<-n.done
	n.log.nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_ = n.lobby.Close(ctx) // cannot flush: stops its goroutines, nothing more
}

// alphaOnBoth signs alice in on a and has her create alpha, and waits
// until b has the room too.
func alphaOnBoth(t *testing.T, a, b *node) (alice *lobby.Session) {
	t.Helper()
	alice = lobbytest.Register(t, a.lobby, "alice")
	lobbytest.Exec(t, alice, "/create alpha")
	lobbytest.WaitLine(t, alice, "alice joined alpha")
	testutil.Eventually(t, "alpha on b", func() bool { return len(b.lobby.Rooms()) == 1 })
	return alice
}

// bobJoins signs bob in on b and has him join alpha.
func bobJoins(t *testing.T, b *node) (bob *lobby.Session) {
	t.Helper()
	bob = lobbytest.Register(t, b.lobby, "bob")
	lobbytest.Exec(t, bob, "/join alpha")
	lobbytest.WaitLine(t, bob, "bob joined alpha")
	return bob
}

func TestTwoNodesOneChat(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), func(_ *Config, lc *lobby.Config) { lc.MaxSessions = 5 })
	a := tc.start("a", nil)
	b := tc.start("b", nil)

	// Made on A, listed and joined on B, with A's history replayed.
	alice := alphaOnBoth(t, a, b)
	lobbytest.Exec(t, alice, "before bob")
	lobbytest.WaitLine(t, alice, "before bob")
	bob := lobbytest.Register(t, b.lobby, "bob")
	lobbytest.Exec(t, bob, "/join alpha")
	seen := lobbytest.WaitLine(t, bob, "bob joined alpha")
	if !slices.Contains(seen, "history: before bob") {
		t.Errorf("bob's replay %q lacks the line said on a", seen)
	}
	lobbytest.WaitLine(t, alice, "bob joined alpha")

	// Lines both ways, in the same order on both nodes.
	for i := range 20 {
		lobbytest.Exec(t, alice, fmt.Sprint("a", i))
		lobbytest.Exec(t, bob, fmt.Sprint("b", i))
	}
	gotA := lobbytest.WaitLine(t, alice, "b19")
	gotB := lobbytest.WaitLine(t, bob, "b19")
	if !slices.Equal(gotA, gotB) {
		t.Errorf("orders differ:\na: %q\nb: %q", gotA, gotB)
	}

	// Names are one namespace; guest numbers never repeat.
	if _, err := b.lobby.Register(context.Background(), "ALICE"); !errors.Is(err, lobby.ErrNameTaken) {
		t.Errorf("ALICE on b = %v, want ErrNameTaken", err)
	}
	g1 := lobbytest.Register(t, a.lobby, "")
	g2 := lobbytest.Register(t, b.lobby, "")
	if g1.Name() == g2.Name() {
		t.Errorf("two guests named %s", g1.Name())
	}

	// The limit is the chat's: 4 sessions so far, one more fits on either
	// node, then neither takes one.
	lobbytest.Register(t, b.lobby, "carol")
	if _, err := a.lobby.Register(context.Background(), "dave"); !errors.Is(err, lobby.ErrFull) {
		t.Errorf("a sixth session on a = %v, want ErrFull", err)
	}
	if _, err := b.lobby.Register(context.Background(), "erin"); !errors.Is(err, lobby.ErrFull) {
		t.Errorf("a sixth session on b = %v, want ErrFull", err)
	}
	if got := a.lobby.Online(); got != 5 {
		t.Errorf("a counts %d online, want 5", got)
	}
}

func TestRaceToCreateARoom(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), nil)
	a := tc.start("a", nil)
	b := tc.start("b", nil)
	for i := range 10 {
		room := fmt.Sprint("race", i)
		sa := lobbytest.Register(t, a.lobby, fmt.Sprint("a", i))
		sb := lobbytest.Register(t, b.lobby, fmt.Sprint("b", i))
		var wg sync.WaitGroup
		for _, s := range []*lobby.Session{sa, sb} {
			wg.Go(func() { lobbytest.Exec(t, s, "/create "+room) })
		}
		wg.Wait()
		// Exactly one made it and is in it; the other is told, in place.
		won := 0
		for _, s := range []*lobby.Session{sa, sb} {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			for {
				ev, err := s.Next(ctx)
				if err != nil {
					t.Fatalf("%s: %v", s.Name(), err)
				}
				if ev.Kind == lobby.EventNotice && strings.Contains(ev.Text, "You created") {
					won++
					break
				}
				if ev.Kind == lobby.EventNotice && strings.Contains(ev.Text, "already exists") {
					break
				}
			}
			cancel()
		}
		if won != 1 {
			t.Fatalf("%s: %d creators, want 1", room, won)
		}
	}
}

func TestNodeDeath(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), nil)
	a := tc.start("a", nil)
	b := tc.start("b", nil)
	alphaOnBoth(t, a, b)
	bob := bobJoins(t, b)

	start := time.Now()
	a.kill()
	lobbytest.WaitLine(t, bob, "alice left alpha (connection lost)")
	t.Logf("a's death noticed after %v", time.Since(start).Round(time.Millisecond))
	if got := b.lobby.Online(); got != 1 {
		t.Errorf("b counts %d online, want 1", got)
	}
	// alice's name is free again.
	lobbytest.Register(t, b.lobby, "alice")
}

func TestCatchUp(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), nil)
	a := tc.start("a", nil)
	b := tc.start("b", nil)
	alice := alphaOnBoth(t, a, b)

	store := b.store
	b.close()
	for i := range 200 {
		lobbytest.Exec(t, alice, fmt.Sprint("while b was down ", i))
		lobbytest.WaitLine(t, alice, fmt.Sprint("while b was down ", i)) // alice reads as she goes
	}

	b = tc.start("b", store)
	bob := lobbytest.Register(t, b.lobby, "bob")
	lobbytest.Exec(t, bob, "/join alpha")
	seen := lobbytest.WaitLine(t, bob, "bob joined alpha")
	if !slices.Contains(seen, "history: while b was down 199") {
		t.Errorf("b's history after catching up lacks the last line said while it was down: %q", seen)
	}
	// Stored in b's own copy too, nothing twice.
	got, err := store.Recent(context.Background(), "alpha", 1000)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, m := range got {
		if strings.HasPrefix(m.Text, "while b was down") {
			count++
		}
	}
	if count != 200 {
		t.Errorf("b stored %d of the 200 lines", count)
	}
}

// TestSameStateEverywhere: three nodes run random interleavings of joins,
// leaves, creates, lines and quits; every node ends with the same rooms,
// members and histories.
func TestSameStateEverywhere(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), nil)
	nodes := []*node{tc.start("a", nil), tc.start("b", nil), tc.start("c", nil)}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	rooms := []string{"r1", "r2", "r3"}
	var wg sync.WaitGroup
	for ni, n := range nodes {
		seed := rng.Uint64()
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(ni)))
			var sessions []*lobby.Session
			for i := range 150 {
				switch k := r.IntN(10); {
				case k == 0 || len(sessions) == 0:
					s, err := n.lobby.Register(context.Background(), "")
					if err != nil {
						t.Error(err)
						return
					}
					sessions = append(sessions, s)
				case k == 1:
					j := r.IntN(len(sessions))
					sessions[j].Close()
					sessions = slices.Delete(sessions, j, j+1)
				default:
					s := sessions[r.IntN(len(sessions))]
					var line string
					switch r.IntN(4) {
					case 0:
						line = "/create " + rooms[r.IntN(len(rooms))]
					case 1:
						line = "/join " + rooms[r.IntN(len(rooms))]
					case 2:
						line = "/leave"
					default:
						line = fmt.Sprintf("%s says %d", n.name, i)
					}
					_ = s.Exec(context.Background(), line)
				}
				drain(sessions)
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		if err := n.lobby.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	// Everyone has applied everything once the heads agree.
	head, err := nodes[0].log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, n := range nodes {
		testutil.Eventually(t, "node "+n.name+" caught up", func() bool {
			snap, err := n.store.Load(context.Background())
			return err == nil && snap.Cursor >= head
		})
		states = append(states, describeState(t, n))
	}
	for i := 1; i < len(states); i++ {
		if states[i] != states[0] {
			t.Errorf("node %s differs from node a:\n%s\n---\n%s", nodes[i].name, states[i], states[0])
		}
	}
}

// drain throws away what sessions were sent, so that none is cut loose.
func drain(sessions []*lobby.Session) {
	for _, s := range sessions {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 0)
			_, err := s.Next(ctx)
			cancel()
			if err != nil {
				break
			}
		}
	}
}

func describeState(t *testing.T, n *node) string {
	t.Helper()
	snap, err := n.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "users %d\n", snap.Counters["users"])
	for _, r := range snap.Rooms {
		fmt.Fprintf(&b, "room %s last %d\n", r.Name, r.LastSeq)
		lines, err := n.store.Recent(context.Background(), r.Name, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lines {
			fmt.Fprintf(&b, "  %d %s %s\n", m.Seq, m.From, m.Text)
		}
	}
	for _, s := range snap.State {
		fmt.Fprintf(&b, "state %s %s %s\n", s.Kind, s.Key, s.Value)
	}
	for _, r := range n.lobby.Rooms() {
		fmt.Fprintf(&b, "live %s %d\n", r.Name, r.Users)
	}
	return b.String()
}

// TestCatchUpGap: a node whose store is behind what the stream still holds
// refuses to start, rather than serve a chat with a hole in it.
func TestCatchUpGap(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), nil)
	a := tc.start("a", nil)
	b := tc.start("b", nil)
	alice := alphaOnBoth(t, a, b)
	store := b.store
	b.close()
	for i := range 5 {
		lobbytest.Exec(t, alice, fmt.Sprint("missed ", i))
		lobbytest.WaitLine(t, alice, fmt.Sprint("missed ", i))
	}
	// The stream forgets all but the newest batch, as retention would.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	head, err := a.log.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.log.stream.Purge(ctx, jetstream.WithPurgeSequence(head)); err != nil {
		t.Fatal(err)
	}
	g, err := Open(ctx, Config{URL: tc.url, Node: "b", Logger: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	_, err = lobby.New(ctx, lobby.Config{Store: store, Log: g, Node: "b", Logger: testutil.Logger(t)})
	if !errors.Is(err, lobby.ErrLogGap) {
		t.Fatalf("New on a store the stream has moved past = %v, want ErrLogGap", err)
	}
}

// TestNameInUse: a node can tell, before it starts, that another node runs
// under the name it was given.
func TestNameInUse(t *testing.T) {
	tc := newTestCluster(t, natstest.Start(t), nil)
	a := tc.start("a", nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cfg := Config{URL: tc.url, Logger: slog.New(slog.DiscardHandler), HeartbeatEvery: 100 * time.Millisecond}
	cfg.Node = "a"
	twin, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer twin.Close()
	if inst, running := twin.NameInUse(ctx, "a"); !running || inst != a.lobby.Instance() {
		t.Errorf("NameInUse(a) = %q, %v; want a's instance %q", inst, running, a.lobby.Instance())
	}
	if inst, running := twin.NameInUse(ctx, "b"); running {
		t.Errorf("NameInUse(b) = %q, true; want nobody", inst)
	}
}
