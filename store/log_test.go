package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestLocalLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	g := logT(t, s)
	if head, _ := g.Head(ctx); head != 0 {
		t.Fatalf("Head of a new log = %d, want 0", head)
	}
	for i := range 5 {
		seq, err := g.Append(ctx, "", []lobby.Change{{Type: lobby.ChangeSay, Text: fmt.Sprint("line ", i)}})
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("Append %d = %d, %v; want %d", i, seq, err, i+1)
		}
	}

	// Follow from 2: 3, 4, 5 from memory, then what comes next.
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var got []string
	stop := errors.New("enough")
	done := make(chan error, 1)
	go func() {
		done <- g.Follow(fctx, 2, func(seq uint64, batch []lobby.Change) error {
			got = append(got, fmt.Sprintf("%d:%s", seq, batch[0].Text))
			if seq == 6 {
				return stop
			}
			return nil
		})
	}()
	if _, err := g.Append(ctx, "", []lobby.Change{{Type: lobby.ChangeSay, Text: "line 5"}}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("Follow = %v", err)
	}
	if want := "[3:line 2 4:line 3 5:line 4 6:line 5]"; fmt.Sprint(got) != want {
		t.Errorf("followed %v, want %s", got, want)
	}

	if n, err := s.Unapplied(ctx); err != nil || n != 6 {
		t.Errorf("Unapplied before any apply = %d, %v; want 6", n, err)
	}
	// Applied batches leave the table; the numbering goes on after a reopen.
	if err := s.Apply(ctx, &lobby.Writes{LogID: LocalLogID, Cursor: 4}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Unapplied(ctx); err != nil || n != 2 {
		t.Errorf("Unapplied after applying 4 = %d, %v; want 2", n, err)
	}
	if first, _ := g.First(ctx); first != 5 {
		t.Errorf("First after applying 4 = %d, want 5", first)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	g = logT(t, s)
	if head, _ := g.Head(ctx); head != 6 {
		t.Errorf("Head after reopen = %d, want 6", head)
	}
	got = got[:0]
	fctx2, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	err := g.Follow(fctx2, 4, func(seq uint64, batch []lobby.Change) error {
		got = append(got, fmt.Sprintf("%d:%s", seq, batch[0].Text))
		if seq == 6 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Follow after reopen = %v", err)
	}
	if want := "[5:line 4 6:line 5]"; fmt.Sprint(got) != want {
		t.Errorf("replayed %v, want %s", got, want)
	}
	// Everything applied: the table is empty and the head stays.
	if err := s.Apply(ctx, &lobby.Writes{LogID: LocalLogID, Cursor: 6}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir)
	g = logT(t, s)
	if head, _ := g.Head(ctx); head != 6 {
		t.Errorf("Head of an emptied log after reopen = %d, want 6", head)
	}
	if seq, err := g.Append(ctx, "", []lobby.Change{{Type: lobby.ChangeSay}}); err != nil || seq != 7 {
		t.Errorf("Append after reopen = %d, %v; want 7", seq, err)
	}
}

// TestLobbyReplaysUnappliedLog checks the crash window of a node on its own:
// a batch in the log that the store had not applied when the process died
// is applied at the next start, before anyone connects.
func TestLobbyReplaysUnappliedLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	l := lobbyOn(t, s)
	a, err := l.Register(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	a.Exec(ctx, "/create alpha")
	a.Exec(ctx, "stored")
	lobbytest.WaitLine(t, a, "stored")
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// As if the process died right after the log had a line: appended, not
	// applied.
	g := logT(t, s)
	head, _ := g.Head(ctx)
	ghost := lobby.Change{Type: lobby.ChangeCreate, Node: "local~dead", Session: "local~dead.1", Room: "beta", At: time.Now().UnixNano()}
	if _, err := g.Append(ctx, "", []lobby.Change{ghost}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openT(t, dir)
	l = lobbyOn(t, s)
	var names []string
	for _, r := range l.Rooms() {
		names = append(names, r.Name)
	}
	if fmt.Sprint(names) != "[alpha beta]" {
		t.Errorf("rooms after restart = %v, want alpha and the replayed beta", names)
	}
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Cursor != head+1 {
		t.Errorf("cursor after restart = %d, want %d", snap.Cursor, head+1)
	}
}
