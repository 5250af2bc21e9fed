package lobby

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// slowLog holds every Append while held is set, so changes stay pending.
type slowLog struct {
	*MemoryLog
	mu      sync.Mutex
	release chan struct{} // nil when not holding
}

func (s *slowLog) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release = make(chan struct{})
}

func (s *slowLog) let() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = nil
}

func (s *slowLog) Append(ctx context.Context, id string, batch []Change) (uint64, error) {
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	if release != nil {
		<-release
	}
	return s.MemoryLog.Append(ctx, id, batch)
}

func TestSync(t *testing.T) {
	// In a bubble: the waits that must time out do so at once, and "already
	// queued" is exact.
	inBubble(t, func(t *testing.T) {
		log := &slowLog{MemoryLog: NewMemoryLog()}
		l := newLobby(t, Config{Log: log, FloodRate: -1})
		alice := register(t, l, "alice")
		exec(t, alice, "/create alpha")
		notice(t, alice, false, "You created alpha.")
		entered(t, alice, "alpha")
		line(t, alice, KindSystem, "alice joined alpha")
		log.hold()
		exec(t, alice, "line 0") // the next Exec would wait for it

		// Held by the store: Sync waits, and gives up with its context.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := l.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sync with the store held = %v, want the deadline", err)
		}

		// Released: Sync returns once everything posted before it is delivered.
		done := make(chan error, 1)
		go func() { done <- l.Sync(context.Background()) }()
		log.let()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
		case <-time.After(testutil.WaitTimeout):
			t.Fatal("Sync did not return after the store let go")
		}
		for i := range 1 {
			// Already queued when Sync returned: Next need not wait.
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			ev, err := alice.Next(ctx)
			cancel()
			if err != nil || ev.Kind != EventMessage || ev.Msg.Text != fmt.Sprint("line ", i) {
				t.Fatalf("after Sync, event %d = %+v, %v; want line %d already queued", i, ev, err, i)
			}
		}
	})
}
