package lobby

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestShutdown(t *testing.T) {
	ctx := context.Background()
	l := newLobby(t, Config{})
	alice := register(t, l, "alice")
	bob := register(t, l, "bob")
	carol := register(t, l, "carol")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")

	l.Shutdown()
	l.Shutdown() // twice is fine
	for _, s := range []*Session{alice, bob, carol} {
		for {
			_, err := s.Next(ctx)
			if err == nil {
				continue // what was queued before the end
			}
			if !errors.Is(err, ErrShutdown) {
				t.Errorf("%s: Next = %v, want ErrShutdown", s.Name(), err)
			}
			break
		}
		if err := s.Exec(ctx, "/list"); !errors.Is(err, ErrShutdown) {
			t.Errorf("%s: Exec after Shutdown = %v, want ErrShutdown", s.Name(), err)
		}
	}
	barrier(t, l) // the closes Shutdown proposed are applied
	if got := l.Online(); got != 0 {
		t.Errorf("Online() = %d, want 0", got)
	}
	if _, err := l.Register(ctx, "dave"); !errors.Is(err, ErrLobbyClosed) {
		t.Errorf("Register after Shutdown = %v, want ErrLobbyClosed", err)
	}
}

// gateStore holds every Apply while it is shut, and says when one is held.
type gateStore struct {
	*MemoryStore
	mu   sync.Mutex
	shut chan struct{} // nil when open
	held chan struct{} // closed when an Apply waits at the gate
}

func (g *gateStore) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut, g.held = make(chan struct{}), make(chan struct{})
}

func (g *gateStore) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.shut)
	g.shut = nil
}

func (g *gateStore) Apply(ctx context.Context, w *Writes) error {
	g.mu.Lock()
	shut, held := g.shut, g.held
	g.mu.Unlock()
	if shut != nil {
		select {
		case <-held:
		default:
			close(held)
		}
		<-shut
	}
	return g.MemoryStore.Apply(ctx, w)
}

func TestCloseFlushes(t *testing.T) {
	// In a bubble: Close gives up on the stuck store at once, in fake time.
	inBubble(t, func(t *testing.T) {
		ctx := context.Background()
		store := &gateStore{MemoryStore: NewMemoryStore()}
		l := newLobby(t, Config{Store: store, FloodRate: -1})
		alice := register(t, l, "alice")
		bob := register(t, l, "bob")
		createRoom(t, alice, "alpha")
		joinRoom(t, bob, "alpha")
		for i := range 50 {
			exec(t, alice, fmt.Sprint("line ", i))
		}
		barrier(t, l)
		store.close()
		exec(t, alice, "held") // shown, then held on its way to the store
		<-store.held

		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if err := l.Close(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close with the store stuck = %v, want the deadline", err)
		}
		store.open()
		if err := l.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}

		got, err := store.Recent(ctx, "alpha", 1000)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"alice joined alpha", "bob joined alpha"}
		for i := range 50 {
			want = append(want, fmt.Sprint("line ", i))
		}
		want = append(want, "held")
		// Both leave at shutdown, in the order Shutdown met them.
		if len(got) != len(want)+2 {
			t.Fatalf("stored %d lines, want %d: %q", len(got), len(want)+2, texts(got))
		}
		if !slices.Equal(texts(got[:len(want)]), want) {
			t.Errorf("stored %q, want %q first", texts(got), want)
		}
		leaves := texts(got[len(want):])
		slices.Sort(leaves)
		if wantLeaves := []string{"alice left alpha (server shutting down)", "bob left alpha (server shutting down)"}; !slices.Equal(leaves, wantLeaves) {
			t.Errorf("stored leaves %q, want %q", leaves, wantLeaves)
		}
	})
}

// TestNextCoalescesRefreshes checks that a storm of logins costs a session
// one room-list refresh per Config.ChangeEvery, not one per login.
func TestNextCoalescesRefreshes(t *testing.T) {
	// In a bubble: "no second refresh within ChangeEvery" is exact, and waiting for it takes no time.
	inBubble(t, func(t *testing.T) {
		l := newLobby(t, Config{ChangeEvery: time.Hour})
		alice, err := l.Register(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		entered(t, alice, "") // Next has returned no refresh yet
		for i := range 20 {
			register(t, l, fmt.Sprint("user", i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if ev, err := alice.Next(ctx); err != nil || ev.Kind != EventRoomsChanged {
			t.Fatalf("Next = %s, %v; want one refresh", describe(ev), err)
		}
		if ev, err := alice.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Next = %s, %v; want no second refresh within ChangeEvery", describe(ev), err)
		}
		// An event still comes through at once.
		exec(t, alice, "/list")
		notice(t, alice, false, "No rooms yet")
	})
}
