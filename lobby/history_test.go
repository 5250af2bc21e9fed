package lobby

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func texts(msgs []Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func TestHistoryHasNotices(t *testing.T) {
	l := newLobby(t, Config{})
	alice := register(t, l, "alice")
	bob := register(t, l, "bob")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")
	exec(t, bob, "hi")
	exec(t, bob, "/leave")
	until(t, alice, isLine("bob left alpha"))

	carol := register(t, l, "carol")
	exec(t, carol, "/join alpha")
	ev := entered(t, carol, "alpha")
	want := []Message{
		{Room: "alpha", Seq: 1, At: fixedTime, From: "alice", Kind: KindSystem, Text: "alice joined alpha", Presence: true},
		{Room: "alpha", Seq: 2, At: fixedTime, From: "bob", Kind: KindSystem, Text: "bob joined alpha", Presence: true},
		{Room: "alpha", Seq: 3, At: fixedTime, From: "bob", Kind: KindChat, Text: "hi"},
		{Room: "alpha", Seq: 4, At: fixedTime, From: "bob", Kind: KindSystem, Text: "bob left alpha", Presence: true},
	}
	if !slices.Equal(ev.History, want) {
		t.Errorf("history =\n%+v\nwant\n%+v", ev.History, want)
	}
}

// post has s say n numbered lines and waits until s has seen the last.
func post(t *testing.T, s *Session, n int) {
	t.Helper()
	for i := range n {
		exec(t, s, fmt.Sprintf("line %d", i))
	}
	until(t, s, isLine(fmt.Sprintf("line %d", n-1)))
}

func TestHistoryBounded(t *testing.T) {
	const page = 5
	l := newLobby(t, Config{History: page, FloodRate: -1, Queue: 4096})
	alice := register(t, l, "alice")
	createRoom(t, alice, "alpha")
	post(t, alice, 3*page+2)

	bob := register(t, l, "bob")
	exec(t, bob, "/join alpha")
	ev := entered(t, bob, "alpha")
	want := []string{"line 12", "line 13", "line 14", "line 15", "line 16"} // newest, oldest first
	if got := texts(ev.History); !slices.Equal(got, want) {
		t.Errorf("history on join = %q, want %q", got, want)
	}

	// Memory holds the lines that may still be edited too (EditLines),
	// and at most twice that.
	keep := max(page, EditLines)
	for range 10 * keep {
		exec(t, alice, "more")
	}
	barrier(t, l)
	l.mu.Lock()
	n := len(l.rooms["alpha"].recent)
	l.mu.Unlock()
	if n > 2*keep {
		t.Errorf("room keeps %d recent lines in memory, want at most %d", n, 2*keep)
	}
}

func TestOlderPagesBack(t *testing.T) {
	ctx := context.Background()
	for _, page := range []int{1, 3, 7, 100} {
		t.Run(fmt.Sprint("page ", page), func(t *testing.T) {
			l := newLobby(t, Config{History: page, FloodRate: -1})
			alice := register(t, l, "alice")
			createRoom(t, alice, "alpha")
			post(t, alice, 23) // 24 lines with the join

			bob := register(t, l, "bob")
			exec(t, bob, "/join Alpha")
			ev := entered(t, bob, "alpha")
			got := ev.History
			if len(got) != min(page, 24) {
				t.Fatalf("%d lines on join, want %d", len(got), min(page, 24))
			}
			for pages := 0; got[0].Seq > 1; pages++ {
				if pages > 24 {
					t.Fatal("Older never reached the first line")
				}
				older, err := l.Older(ctx, "alpha", got[0].Seq)
				if err != nil {
					t.Fatalf("Older: %v", err)
				}
				if len(older) == 0 || len(older) > page {
					t.Fatalf("Older(%d) gave %d lines, want 1 to %d", got[0].Seq, len(older), page)
				}
				got = append(older, got...)
			}
			for i, m := range got {
				if m.Seq != uint64(i+1) {
					t.Fatalf("line %d has Seq %d: lines lost or repeated", i, m.Seq)
				}
			}
			if len(got) != 24 {
				t.Errorf("%d lines in all, want 24", len(got))
			}
			if older, err := l.Older(ctx, "alpha", 1); err != nil || len(older) != 0 {
				t.Errorf("Older before the first line = %v, %v; want nothing", older, err)
			}
		})
	}
}

func TestHistoryAfterRestart(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	l := newLobby(t, Config{Store: store})
	alice := register(t, l, "alice")
	createRoom(t, alice, "alpha")
	exec(t, alice, "before")
	line(t, alice, KindChat, "before")
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	l2 := newLobby(t, Config{Store: store})
	if got, want := l2.Rooms(), []RoomInfo{{Name: "alpha", Users: 0}}; !slices.Equal(got, want) {
		t.Errorf("Rooms() after restart = %v, want %v", got, want)
	}
	bob := register(t, l2, "bob")
	exec(t, bob, "/join alpha")
	ev := entered(t, bob, "alpha")
	want := []string{"alice joined alpha", "before", "alice left alpha (server shutting down)"}
	if got := texts(ev.History); !slices.Equal(got, want) {
		t.Errorf("history after restart = %q, want %q", got, want)
	}
	if m := line(t, bob, KindSystem, "bob joined alpha"); m.Seq != 4 {
		t.Errorf("first new line has Seq %d, want 4: numbering goes on", m.Seq)
	}
}

func TestOlderStoreFails(t *testing.T) {
	l := newLobby(t, Config{Store: failBefore{NewMemoryStore()}})
	_, err := l.Older(context.Background(), "alpha", 10)
	if !errors.Is(err, ErrHistoryStore) || !errors.Is(err, errDisk) {
		t.Errorf("Older = %v, want ErrHistoryStore wrapping the store's error", err)
	}
}

type failBefore struct{ *MemoryStore }

func (failBefore) Before(context.Context, string, uint64, int) ([]Message, error) {
	return nil, errDisk
}

func TestAppendFails(t *testing.T) {
	log := &failLog{MemoryLog: NewMemoryLog()}
	log.doom = func(batch []Change) bool {
		return slices.ContainsFunc(batch, func(c Change) bool { return c.Text == "doomed" })
	}
	l := newLobby(t, Config{Log: log})
	alice, bob := inAlpha(t, l)

	exec(t, bob, "doomed")
	notice(t, bob, true, "Your message could not be sent")
	exec(t, bob, "fine")
	line(t, alice, KindChat, "fine") // and not "doomed" before it
	line(t, bob, KindChat, "fine")

	carol := register(t, l, "carol")
	exec(t, carol, "/join alpha")
	ev := entered(t, carol, "alpha")
	if got := texts(ev.History); slices.Contains(got, "doomed") {
		t.Errorf("history %q holds the line the log refused", got)
	}
}

func TestStoreFailsThenRecovers(t *testing.T) {
	// In a bubble: the applier's retries wait in fake time.
	inBubble(t, func(t *testing.T) {
		store := newFailStore()
		l := newLobby(t, Config{Store: store})
		alice, bob := inAlpha(t, l)
		stored(t, l) // the store fails for what follows only

		// The log has the line, so the node shows it and keeps trying to store
		// it until the store takes it.
		store.set(true, false)
		exec(t, bob, "kept")
		line(t, alice, KindChat, "kept")
		store.set(false, false)
		barrier(t, l)
		stored(t, l)
		got, err := store.Recent(context.Background(), "alpha", 10)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(texts(got), "kept") {
			t.Errorf("stored %q, want the line kept", texts(got))
		}
	})
}

func TestRecentFails(t *testing.T) {
	ctx := context.Background()
	store := newFailStore()
	l := newLobby(t, Config{Store: store})
	alice := register(t, l, "alice")
	createRoom(t, alice, "alpha")
	exec(t, alice, "before")
	line(t, alice, KindChat, "before")
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	store.set(false, true)
	l2 := newLobby(t, Config{Store: store})
	bob := register(t, l2, "bob")
	exec(t, bob, "/join alpha")
	// Every node applies the join alike; this one only cannot show the
	// history, and says so.
	ev := entered(t, bob, "alpha")
	if len(ev.History) != 0 {
		t.Errorf("history %q, want none", texts(ev.History))
	}
	notice(t, bob, true, "The history of alpha could not be read")
	line(t, bob, KindSystem, "bob joined alpha")

	store.set(false, false)
	carol := register(t, l2, "carol")
	exec(t, carol, "/join alpha")
	ev = entered(t, carol, "alpha") // a later touch reads it again
	if got := texts(ev.History); !slices.Contains(got, "before") {
		t.Errorf("history %q, want the line from before", got)
	}
}
