package lobby

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// countingObserver records what a lobby tells its Observer.
type countingObserver struct {
	mu        sync.Mutex
	posted    map[Kind]int
	delivered int
	local     int // deliveries timed from a proposal on this node
	latencies []time.Duration
	cut       []error
	refused   int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{posted: make(map[Kind]int)}
}

func (o *countingObserver) LinePosted(k Kind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.posted[k]++
}

func (o *countingObserver) LinesDelivered(n int, latency time.Duration, local bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivered += n
	if local {
		o.local += n
	}
	o.latencies = append(o.latencies, latency)
}

func (o *countingObserver) SessionCutLoose(reason error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cut = append(o.cut, reason)
}

func (o *countingObserver) FloodRefused() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused++
}

func (o *countingObserver) snapshot() *countingObserver {
	o.mu.Lock()
	defer o.mu.Unlock()
	return &countingObserver{
		posted:    map[Kind]int{KindChat: o.posted[KindChat], KindSystem: o.posted[KindSystem]},
		delivered: o.delivered,
		local:     o.local,
		latencies: append([]time.Duration(nil), o.latencies...),
		cut:       append([]error(nil), o.cut...),
		refused:   o.refused,
	}
}

func TestObserverHearsLinesAndDeliveries(t *testing.T) {
	obs := newCountingObserver()
	clk := &clock{t: fixedTime}
	l := newLobby(t, Config{Observer: obs, Now: clk.Now})
	alice := register(t, l, "alice")
	bob := register(t, l, "bob")
	createRoom(t, alice, "alpha")
	exec(t, bob, "/join alpha")
	entered(t, bob, "alpha")
	line(t, bob, KindSystem, "bob joined alpha")
	line(t, alice, KindSystem, "bob joined alpha")
	barrier(t, l)
	before := obs.snapshot()

	exec(t, alice, "hello")
	line(t, alice, KindChat, "hello")
	line(t, bob, KindChat, "hello")
	barrier(t, l)
	got := obs.snapshot()
	if n := got.posted[KindChat] - before.posted[KindChat]; n != 1 {
		t.Errorf("chat lines posted: %d, want 1", n)
	}
	if n := got.posted[KindSystem]; n != 2 {
		t.Errorf("system lines posted: %d, want 2 (two joins)", n)
	}
	if n := got.delivered - before.delivered; n != 2 {
		t.Errorf("deliveries of hello: %d, want 2 (alice and bob)", n)
	}
	if n := got.local - before.local; n != 2 {
		t.Errorf("local deliveries of hello: %d, want 2: it was sent on this node", n)
	}
	for _, d := range got.latencies {
		if d < 0 {
			t.Errorf("negative latency %v", d)
		}
	}
	if got.refused != 0 || len(got.cut) != 0 {
		t.Errorf("refused %d, cut %v; want none", got.refused, got.cut)
	}
}

func TestObserverHearsFloodAndCuts(t *testing.T) {
	t.Run("flooding", func(t *testing.T) {
		obs := newCountingObserver()
		l := newLobby(t, Config{Observer: obs, FloodBurst: 1, FloodRate: 0.001, FloodStrikes: 3})
		s := register(t, l, "flood")
		exec(t, s, "/list") // the burst
		notice(t, s, false, "No rooms yet")
		for range 2 {
			exec(t, s, "/list")
			notice(t, s, true, "Slow down")
		}
		if err := s.Exec(context.Background(), "/list"); !errors.Is(err, ErrFlooding) {
			t.Fatalf("third refused line: %v, want ErrFlooding", err)
		}
		got := obs.snapshot()
		if got.refused != 3 {
			t.Errorf("flood refusals: %d, want 3", got.refused)
		}
		if len(got.cut) != 1 || !errors.Is(got.cut[0], ErrFlooding) {
			t.Errorf("cut loose: %v, want one ErrFlooding", got.cut)
		}
	})
	t.Run("too slow", func(t *testing.T) {
		obs := newCountingObserver()
		l := newLobby(t, Config{Observer: obs, Queue: 4, FloodRate: -1})
		alice := register(t, l, "alice")
		slow := register(t, l, "slow")
		createRoom(t, alice, "alpha")
		exec(t, slow, "/join alpha")
		for range 10 { // slow reads none of it
			exec(t, alice, "spam")
			until(t, alice, isLine("spam"))
		}
		barrier(t, l)
		got := obs.snapshot()
		if len(got.cut) != 1 || !errors.Is(got.cut[0], ErrTooSlow) {
			t.Errorf("cut loose: %v, want one ErrTooSlow", got.cut)
		}
		if err := slow.Err(); !errors.Is(err, ErrTooSlow) {
			t.Errorf("slow ended with %v, want ErrTooSlow", err)
		}
	})
}

// TestAloneBuriesForeignSessions: a node's data folder copied from a
// cluster (a backup restored as a single node) holds the sessions of every
// node of that cluster. A node on its own shares the chat with nobody, so
// it ends them all at start; a node of a cluster leaves the others' to the
// cluster.
func TestAloneBuriesForeignSessions(t *testing.T) {
	seed := func(t *testing.T) *MemoryStore {
		st := NewMemoryStore()
		w := &Writes{
			LogID: "nats:CHATROOM@1", Cursor: 40,
			Rooms: []RoomRecord{{Name: "alpha", Created: fixedTime, Meta: []byte("{}")}},
			State: []StateRecord{
				{Kind: kindSession, Key: "n1~aaaa.1", Value: []byte(`{"node":"n1~aaaa","name":"alice","room":"alpha","since":1}`)},
				{Kind: kindSession, Key: "n2~bbbb.1", Value: []byte(`{"node":"n2~bbbb","name":"bob","since":1}`)},
			},
			Counters: map[string]uint64{counterUsers: 2},
		}
		if err := st.Apply(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		return st
	}
	t.Run("alone", func(t *testing.T) {
		l := newLobby(t, Config{Store: seed(t), MaxSessions: 2})
		if n := l.Sessions(); n != 0 {
			t.Fatalf("%d sessions after start, want 0: the cluster's are gone", n)
		}
		// Both names and both slots are free again.
		register(t, l, "alice")
		register(t, l, "bob")
		if got := l.Rooms(); len(got) != 1 || got[0].Users != 0 {
			t.Errorf("rooms %+v, want alpha with nobody in it", got)
		}
	})
	t.Run("in a cluster", func(t *testing.T) {
		l := newLobby(t, Config{Store: seed(t), Node: "n3", MaxSessions: 10})
		if n := l.Sessions(); n != 2 {
			t.Fatalf("%d sessions after start, want the other nodes' 2", n)
		}
	})
}
