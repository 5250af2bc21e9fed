package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// TestBackupWhileWriting copies the database while a writer keeps
// committing lines and log batches, and checks that the copy opens as a
// store holding everything committed before the backup began.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	createRooms(t, s, "alpha")
	g := logT(t, s)

	var lastLine, lastBatch atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := uint64(1); ; seq++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Append(ctx, lines("alpha", seq, seq)); err != nil {
				t.Errorf("append line %d: %v", seq, err)
				return
			}
			lastLine.Store(seq)
			n, err := g.Append(ctx, "", []lobby.Change{{Type: lobby.ChangeSay, Room: "alpha", Text: "batch"}})
			if err != nil {
				t.Errorf("append batch: %v", err)
				return
			}
			lastBatch.Store(n)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for lastLine.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	line, batch := lastLine.Load(), lastBatch.Load()
	destDir := t.TempDir()
	if err := Backup(ctx, dir, filepath.Join(destDir, FileName)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if line == 0 {
		t.Fatal("the writer wrote nothing before the backup")
	}

	c := openT(t, destDir)
	got, err := c.Recent(ctx, "alpha", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(got)) < line {
		t.Fatalf("the copy holds %d lines, but %d were committed before the backup", len(got), line)
	}
	checkMessages(t, "copy", got[:line], lines("alpha", 1, line))
	if head, err := logT(t, c).Head(ctx); err != nil || head < batch {
		t.Fatalf("the copy's log ends at %d (%v), but %d batches were committed before the backup", head, err, batch)
	}
	t.Logf("backed up during the writes: %d lines and %d log batches before it began, %d lines in the copy", line, batch, len(got))
}

func TestBackupRefusesAnExistingFile(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	createRooms(t, s, "alpha")
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dest, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Backup(context.Background(), dir, dest); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Backup onto an existing file = %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "precious" {
		t.Fatalf("the existing file was changed: %q", b)
	}
	if err := Backup(context.Background(), t.TempDir(), filepath.Join(t.TempDir(), "x.db")); err == nil {
		t.Fatal("Backup of a folder with no database succeeded")
	}
}

func TestCommitTimer(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]int{}
	s, err := Open(ctx, t.TempDir(), testutil.Logger(t), WithCommitTimer(func(op string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d > 0 {
			seen[op]++
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := logT(t, s)
	if _, err := g.Append(ctx, "", []lobby.Change{{Type: lobby.ChangeCreate, Room: "alpha"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &lobby.Writes{LogID: LocalLogID, Cursor: 1, Rooms: []lobby.RoomRecord{{Name: "alpha", Created: t0}}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[OpAppend] != 1 || seen[OpApply] != 1 {
		t.Fatalf("timed %v, want one append and one apply", seen)
	}
}
