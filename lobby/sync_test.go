package lobby

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// slowStore holds every Append until released, so lines stay pending.
type slowStore struct {
	*MemoryStore
	release chan struct{}
}

func (s slowStore) Append(ctx context.Context, batch []Message) error {
	<-s.release
	return s.MemoryStore.Append(ctx, batch)
}

func TestSync(t *testing.T) {
	store := slowStore{NewMemoryStore(), make(chan struct{})}
	l := newLobby(t, Config{Store: store, FloodRate: -1})
	alice := register(t, l, "alice")
	exec(t, alice, "/create alpha")
	notice(t, alice, false, "You created alpha.")
	entered(t, alice, "alpha")
	for i := range 3 {
		exec(t, alice, fmt.Sprint("line ", i))
	}

	// Held by the store: Sync waits, and gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync with the store held = %v, want the deadline", err)
	}

	// Released: Sync returns once everything posted before it is delivered.
	done := make(chan error, 1)
	go func() { done <- l.Sync(context.Background()) }()
	close(store.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Sync did not return after the store let go")
	}
	line(t, alice, KindSystem, "alice joined alpha")
	for i := range 3 {
		// Already queued when Sync returned: Next need not wait.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		ev, err := alice.Next(ctx)
		cancel()
		if err != nil || ev.Kind != EventMessage || ev.Msg.Text != fmt.Sprint("line ", i) {
			t.Fatalf("after Sync, event %d = %+v, %v; want line %d already queued", i, ev, err, i)
		}
	}
}
