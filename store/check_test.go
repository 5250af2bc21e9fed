package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// writeDatabase puts a real database in dir with a few thousand lines over
// a few rooms, closed cleanly, and returns its path. It is written once per
// test process (indexing 9,000 lines is slow under the race detector) and
// copied for each test, which may damage its copy.
func writeDatabase(t *testing.T, dir string) string {
	t.Helper()
	pristineOnce.Do(func() { pristine, pristineErr = buildPristine() })
	if pristineErr != nil {
		t.Fatal(pristineErr)
	}
	path := filepath.Join(dir, FileName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pristine, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	pristineOnce sync.Once
	pristine     []byte // the file writeDatabase copies
	pristineErr  error
)

func buildPristine() ([]byte, error) {
	dir, err := os.MkdirTemp("", "chatroom-check-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	w := &lobby.Writes{}
	for _, room := range []string{"alpha", "beta", "gamma"} {
		w.Rooms = append(w.Rooms, lobby.RoomRecord{Name: room, Created: t0})
	}
	if err := s.Apply(ctx, w); err != nil {
		s.Close()
		return nil, err
	}
	for _, room := range []string{"alpha", "beta", "gamma"} {
		for first := uint64(1); first <= 3000; first += 500 {
			if err := s.Apply(ctx, &lobby.Writes{Messages: lines(room, first, first+499)}); err != nil {
				s.Close()
				return nil, err
			}
		}
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, FileName))
}

// damage overwrites pages of the database file at path with random bytes,
// as a failing disk or a careless copy might. Page numbers start at 1.
func damage(t *testing.T, path string, pages []int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header [100]byte
	if _, err := f.ReadAt(header[:], 0); err != nil {
		t.Fatal(err)
	}
	size := int64(binary.BigEndian.Uint16(header[16:18]))
	if size == 1 {
		size = 65536
	}
	rng := rand.New(rand.NewPCG(7, 8))
	junk := make([]byte, size)
	for _, p := range pages {
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(junk, int64(p-1)*size); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// pageCount is the number of pages in the database file at path.
func pageCount(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	size := int(binary.BigEndian.Uint16(b[16:18]))
	if size == 1 {
		size = 65536
	}
	return len(b) / size
}

// TestOpenRefusesDamagedDatabase is finding 8 of issue #8: a database with
// pages overwritten started, served and took writes with no warning. Open
// now refuses it with a sentence that says how to recover, and changes
// nothing in the file.
func TestOpenRefusesDamagedDatabase(t *testing.T) {
	tests := []struct {
		name  string
		pages func(n int) []int
	}{
		{"twenty random pages", func(n int) []int {
			rng := rand.New(rand.NewPCG(1, 2))
			var ps []int
			for range 20 {
				ps = append(ps, 2+rng.IntN(n-1)) // page 1 is the header and schema
			}
			return ps
		}},
		{"one page in the middle", func(n int) []int { return []int{n / 2} }},
		{"the last page", func(n int) []int { return []int{n} }},
		{"the header page", func(int) []int { return []int{1} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeDatabase(t, dir)
			n := pageCount(t, path)
			if n < 40 {
				t.Fatalf("only %d pages: too small a database to damage", n)
			}
			damage(t, path, tc.pages(n))
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the lock is given back: a second try says the same
				s, err := Open(context.Background(), dir, testutil.Logger(t))
				if err == nil {
					s.Close()
					t.Fatalf("Open of a damaged database succeeded")
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Open = %v, want ErrCorrupt", err)
				}
				for _, want := range []string{path, "backup", "salvage", "History and data"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("Open changed the damaged file")
			}
		})
	}
}

// TestOpenChecksAfterUncleanShutdown: a database too big to check at every
// start is still checked when the last server did not close it.
func TestOpenChecksAfterUncleanShutdown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := writeDatabase(t, dir)
	if _, err := os.Stat(markerPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is left after a clean Close: %v", markerPath(dir), err)
	}
	damage(t, path, []int{pageCount(t, path) / 2})
	never := options{synchronous: defaultSync, checkLimit: -1} // too big to check at every start

	// Closed cleanly: not checked (the damage shows only when read).
	s, err := open(ctx, dir, testutil.Logger(t), never)
	if err != nil {
		t.Fatalf("open without a check: %v", err)
	}
	if _, err := os.Stat(markerPath(dir)); err != nil {
		t.Errorf("no %s while open: %v", markerPath(dir), err)
	}
	// Left open, as by a crash: the marker stays.
	s.closeDBs(false)
	if _, err := open(ctx, dir, testutil.Logger(t), never); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open after an unclean shutdown = %v, want ErrCorrupt", err)
	}
}

// TestOpenChecksWithLeftoverWAL: a write-ahead log left behind also means
// the last server did not close the database.
func TestOpenChecksWithLeftoverWAL(t *testing.T) {
	dir := t.TempDir()
	path := writeDatabase(t, dir)
	damage(t, path, []int{pageCount(t, path) / 2})
	if err := os.WriteFile(path+"-wal", make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	unclean, why := uncleanShutdown(dir, path)
	if !unclean || !strings.Contains(why, "write-ahead log") {
		t.Errorf("uncleanShutdown = %v, %q; want the leftover log", unclean, why)
	}
	never := options{synchronous: defaultSync, checkLimit: -1}
	if _, err := open(context.Background(), dir, testutil.Logger(t), never); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with a leftover log = %v, want ErrCorrupt", err)
	}
}

func TestOpenChecksCleanDatabase(t *testing.T) {
	dir := t.TempDir()
	writeDatabase(t, dir)
	s := openT(t, dir) // checked (small), found intact
	recs, err := s.Rooms(context.Background())
	if err != nil || len(recs) != 3 || recs[0].LastSeq != 3000 {
		t.Fatalf("Rooms = %+v, %v", recs, err)
	}
	if got := filepath.Base(markerPath(dir)); got != "chatroom.open" {
		t.Errorf("marker is %s", got)
	}
}
