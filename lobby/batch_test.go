package lobby

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

func TestNextBatch(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1})
	alice, bob := inAlpha(t, l)
	for i := range 10 {
		exec(t, alice, fmt.Sprint("line ", i))
	}
	barrier(t, l) // all ten are in bob's queue

	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
	defer cancel()
	var got []string
	for i := 0; len(got) < 10; i++ {
		batch, err := bob.NextBatch(ctx, 4)
		if err != nil {
			t.Fatalf("NextBatch: %v", err)
		}
		// Ten are queued: every read takes all it may, the last what is left.
		if want := min(4, 10-4*i); len(batch) != want {
			t.Fatalf("read %d: batch of %d events, want %d", i, len(batch), want)
		}
		for _, ev := range batch {
			if ev.Kind == EventMessage {
				got = append(got, ev.Msg.Text)
			}
		}
	}
	for i, text := range got {
		if want := fmt.Sprint("line ", i); text != want {
			t.Fatalf("line %d = %q, want %q (all: %q)", i, text, want, got)
		}
	}

	// An ended session says why, with no events.
	if err := bob.Exec(ctx, "/quit"); !errors.Is(err, ErrQuit) {
		t.Fatalf("/quit: %v", err)
	}
	if batch, err := bob.NextBatch(ctx, 64); !errors.Is(err, ErrQuit) || len(batch) != 0 {
		t.Fatalf("NextBatch after /quit = %d events, %v; want none and ErrQuit", len(batch), err)
	}
}
