package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

var t0 = time.Date(2026, 11, 26, 15, 4, 5, 123456789, time.UTC)

func openT(t testing.TB, dir string) *SQLite {
	t.Helper()
	s, err := Open(context.Background(), dir, testutil.Logger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func createRooms(t testing.TB, s *SQLite, names ...string) {
	t.Helper()
	for i, n := range names {
		if err := s.CreateRoom(context.Background(), lobby.RoomRecord{Name: n, Created: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatalf("CreateRoom(%q): %v", n, err)
		}
	}
}

// lines makes lines first..last of room, alternating chat and system lines.
func lines(room string, first, last uint64) []lobby.Message {
	var out []lobby.Message
	for seq := first; seq <= last; seq++ {
		m := lobby.Message{Room: room, Seq: seq, At: t0.Add(time.Duration(seq) * time.Second), From: "alice", Kind: lobby.KindChat, Text: fmt.Sprintf("line %d of %s", seq, room)}
		if seq%5 == 0 {
			m.Kind, m.From, m.Text = lobby.KindSystem, "bob", fmt.Sprintf("bob joined %s", room)
		}
		out = append(out, m)
	}
	return out
}

func appendT(t testing.TB, s *SQLite, batch []lobby.Message) {
	t.Helper()
	if err := s.Append(context.Background(), batch); err != nil {
		t.Fatalf("Append(%d lines): %v", len(batch), err)
	}
}

func sameMessage(a, b lobby.Message) bool {
	return a.Room == b.Room && a.Seq == b.Seq && a.At.Equal(b.At) && a.From == b.From && a.Kind == b.Kind && a.Text == b.Text
}

func checkMessages(t testing.TB, what string, got, want []lobby.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d lines (%s), want %d (%s)", what, len(got), seqs(got), len(want), seqs(want))
	}
	for i := range got {
		if !sameMessage(got[i], want[i]) {
			t.Fatalf("%s: line %d: got %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func seqs(ms []lobby.Message) string {
	if len(ms) == 0 {
		return "none"
	}
	return fmt.Sprintf("seq %d..%d", ms[0].Seq, ms[len(ms)-1].Seq)
}

func userVersion(t testing.TB, s *SQLite) int {
	t.Helper()
	var v int
	if err := s.r.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	s := openT(t, dir)
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := userVersion(t, s), len(migs); got != want {
		t.Errorf("user_version: got %d, want %d", got, want)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("data folder mode: got %v, want 0700", got)
	}
	for _, pragma := range []struct{ name, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", fmt.Sprint(busyTimeoutMS)},
		{"journal_size_limit", fmt.Sprint(walSizeLimit)},
	} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + pragma.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != pragma.want {
			t.Errorf("PRAGMA %s: got %q, want %q", pragma.name, got, pragma.want)
		}
	}
	createRooms(t, s, "alpha")
	s.Close()

	// A second open finds nothing to do and keeps the data.
	s = openT(t, dir)
	if got, want := userVersion(t, s), len(migs); got != want {
		t.Errorf("user_version after reopen: got %d, want %d", got, want)
	}
	recs, err := s.Rooms(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("Rooms after reopen: got %v, %v; want alpha", recs, err)
	}

	// A database from a newer build is left alone.
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migs)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := Open(context.Background(), dir, testutil.Logger(t)); err == nil {
		s2.Close()
		t.Fatal("Open of a newer schema: got nil error")
	}
	if s2, err := OpenReadOnly(context.Background(), dir); err == nil {
		s2.Close()
		t.Fatal("OpenReadOnly of a newer schema: got nil error")
	}
}

func TestSecondWriterRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	if s2, err := Open(ctx, dir, testutil.Logger(t)); !errors.Is(err, ErrInUse) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second Open of one folder: got %v, want ErrInUse", err)
	}
	// Readers are welcome.
	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatalf("OpenReadOnly beside the writer: %v", err)
	}
	r.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openT(t, dir) // the folder is free again
}

func TestRoomsAndAppend(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	recs, err := s.Rooms(ctx)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Rooms of a new store: got %v, %v; want none", recs, err)
	}
	createRooms(t, s, "alpha", "Beta", "empty")
	// A room written again keeps its creation time and takes the new meta.
	if err := s.CreateRoom(ctx, lobby.RoomRecord{Name: "alpha", Created: t0.Add(time.Hour), Meta: []byte(`{"topic":"x"}`)}); err != nil {
		t.Errorf("CreateRoom of an existing name: %v", err)
	}
	// One batch may span rooms, as the committer's do.
	batch := append(lines("alpha", 1, 3), lines("Beta", 1, 2)...)
	batch = append(batch, lines("alpha", 4, 4)...)
	appendT(t, s, batch)
	appendT(t, s, lines("Beta", 3, 7))
	appendT(t, s, nil)

	recs, err = s.Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []lobby.RoomRecord{
		{Name: "alpha", Created: t0, LastSeq: 4},
		{Name: "Beta", Created: t0.Add(time.Minute), LastSeq: 7},
		{Name: "empty", Created: t0.Add(2 * time.Minute), LastSeq: 0},
	}
	if len(recs) != len(want) {
		t.Fatalf("Rooms: got %+v, want %+v", recs, want)
	}
	for i := range want {
		if recs[i].Name != want[i].Name || !recs[i].Created.Equal(want[i].Created) || recs[i].LastSeq != want[i].LastSeq {
			t.Errorf("Rooms[%d]: got %+v, want %+v", i, recs[i], want[i])
		}
	}
	if got := string(recs[0].Meta); got != `{"topic":"x"}` {
		t.Errorf("alpha's meta = %s, want the one written last", got)
	}
	got, err := s.Recent(ctx, "alpha", 10)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "Recent(alpha)", got, lines("alpha", 1, 4))
}

func TestRecentAndBefore(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	createRooms(t, s, "alpha", "empty")
	all := lines("alpha", 1, 10)
	appendT(t, s, all[:6])
	appendT(t, s, all[6:])
	tail := func(end, n int) []lobby.Message { return all[max(0, end-n):end] }

	tests := []struct {
		name string
		room string
		read func() ([]lobby.Message, error)
		want []lobby.Message
	}{
		{"recent 3", "alpha", func() ([]lobby.Message, error) { return s.Recent(ctx, "alpha", 3) }, tail(10, 3)},
		{"recent all", "alpha", func() ([]lobby.Message, error) { return s.Recent(ctx, "alpha", 10) }, all},
		{"recent more than history", "alpha", func() ([]lobby.Message, error) { return s.Recent(ctx, "alpha", 1000) }, all},
		{"recent 0", "alpha", func() ([]lobby.Message, error) { return s.Recent(ctx, "alpha", 0) }, nil},
		{"recent of empty room", "empty", func() ([]lobby.Message, error) { return s.Recent(ctx, "empty", 100) }, nil},
		{"before 5, 2", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 5, 2) }, tail(4, 2)},
		{"before 5, more than there is", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 5, 100) }, tail(4, 4)},
		{"before 2", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 2, 100) }, tail(1, 1)},
		{"before 1", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 1, 100) }, nil},
		{"before 0", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 0, 100) }, nil},
		{"before last", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 10, 3) }, tail(9, 3)},
		{"before beyond last", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 11, 3) }, tail(10, 3)},
		{"before far beyond last", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", math.MaxUint64, 4) }, tail(10, 4)},
		{"before, n 0", "alpha", func() ([]lobby.Message, error) { return s.Before(ctx, "alpha", 5, 0) }, nil},
		{"before in empty room", "empty", func() ([]lobby.Message, error) { return s.Before(ctx, "empty", 5, 10) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.read()
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			checkMessages(t, tt.name, got, tt.want)
		})
	}

	for _, tt := range []struct {
		name string
		read func() error
	}{
		{"recent", func() error { _, err := s.Recent(ctx, "nowhere", 10); return err }},
		{"before", func() error { _, err := s.Before(ctx, "nowhere", 5, 10); return err }},
		{"recent, other case", func() error { _, err := s.Recent(ctx, "ALPHA", 10); return err }},
	} {
		if err := tt.read(); !errors.Is(err, lobby.ErrNoSuchRoom) {
			t.Errorf("%s of an unknown room: got %v, want ErrNoSuchRoom", tt.name, err)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	createRooms(t, s, "alpha", "ÉtéRoom", "empty")
	want := lines("alpha", 1, 7)
	want[3].Text = "unicode ✓ 日本語, quotes ' \" and a long tail " + strings.Repeat("x", 3000)
	appendT(t, s, want)
	appendT(t, s, lines("ÉtéRoom", 1, 2))
	state := &lobby.Writes{
		LogID:    LocalLogID,
		Cursor:   42,
		Counters: map[string]uint64{"users": 3},
		State: []lobby.StateRecord{
			{Kind: "session", Key: "a", Value: []byte(`{"name":"alice"}`)},
			{Kind: "session", Key: "b", Value: []byte(`{"name":"bob"}`)},
			{Kind: "gone", Key: "n~1", Value: []byte(`{}`)},
		},
	}
	if err := s.Apply(ctx, state); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &lobby.Writes{LogID: LocalLogID, Cursor: 43, State: []lobby.StateRecord{{Kind: "session", Key: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+"-wal")); err == nil {
		if fi, _ := os.Stat(filepath.Join(dir, FileName+"-wal")); fi.Size() != 0 {
			t.Errorf("Close left a %d-byte WAL; want it checkpointed", fi.Size())
		}
	}

	s = openT(t, dir)
	recs, err := s.Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, r := range recs {
		got[r.Name] = r.LastSeq
	}
	if len(got) != 3 || got["alpha"] != 7 || got["ÉtéRoom"] != 2 || got["empty"] != 0 {
		t.Errorf("Rooms after reopen: got %v, want alpha:7 ÉtéRoom:2 empty:0", got)
	}
	msgs, err := s.Recent(ctx, "alpha", 100)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "Recent after reopen", msgs, want)
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.LogID != LocalLogID || snap.Cursor != 43 || snap.Counters["users"] != 3 {
		t.Errorf("Load after reopen: log %q at %d, users %d; want local at 43, 3 users", snap.LogID, snap.Cursor, snap.Counters["users"])
	}
	wantState := []lobby.StateRecord{
		{Kind: "gone", Key: "n~1", Value: []byte(`{}`)},
		{Kind: "session", Key: "a", Value: []byte(`{"name":"alice"}`)},
	}
	if fmt.Sprint(snap.State) != fmt.Sprint(wantState) {
		t.Errorf("state after reopen = %s, want %s", snap.State, wantState)
	}
	// The lobby goes on numbering where the store left off.
	appendT(t, s, lines("alpha", 8, 9))
	msgs, err = s.Before(ctx, "alpha", 9, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "Before after reopen", msgs, lines("alpha", 7, 8))
}

func TestFailedBatchStoresNothing(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	createRooms(t, s, "alpha")
	appendT(t, s, lines("alpha", 1, 2))

	badKind := lines("alpha", 3, 4)
	badKind[1].Kind = 0
	seqZero := lines("alpha", 3, 4)
	seqZero[1].Seq = 0
	tests := []struct {
		name   string
		batch  []lobby.Message
		noRoom bool
	}{
		{"unknown room", append(lines("alpha", 3, 5), lines("nowhere", 1, 1)...), true},
		{"repeated seq", append(lines("alpha", 3, 4), lines("alpha", 2, 2)...), false},
		{"unknown kind", badKind, false},
		{"seq 0", seqZero, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Append(ctx, tt.batch)
			if err == nil {
				t.Fatal("got nil error")
			}
			if tt.noRoom && !errors.Is(err, lobby.ErrNoSuchRoom) {
				t.Errorf("got %v, want ErrNoSuchRoom", err)
			}
			recs, err := s.Rooms(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].LastSeq != 2 {
				t.Errorf("after a failed batch: got rooms %+v, want alpha with LastSeq 2", recs)
			}
		})
	}
	// The writer is still usable.
	appendT(t, s, lines("alpha", 3, 3))
	got, err := s.Recent(ctx, "alpha", 10)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "Recent", got, lines("alpha", 1, 3))
}

// TestConcurrentReads reads while the committer appends, as sessions joining
// rooms and scrolling back do; every read must see a consistent prefix.
func TestConcurrentReads(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	createRooms(t, s, "alpha", "beta")
	const batches, per = 40, 8

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for b := range uint64(batches) {
			batch := append(lines("alpha", b*per+1, b*per+per), lines("beta", b+1, b+1)...)
			if err := s.Append(ctx, batch); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	})
	contiguous := func(what string, ms []lobby.Message, end uint64) {
		for i, m := range ms {
			if i > 0 && m.Seq != ms[i-1].Seq+1 {
				t.Errorf("%s: seq %d follows %d", what, m.Seq, ms[i-1].Seq)
				return
			}
		}
		if end > 0 && len(ms) > 0 && ms[len(ms)-1].Seq != end {
			t.Errorf("%s: ends at %d, want %d", what, ms[len(ms)-1].Seq, end)
		}
	}
	for r := range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				recent, err := s.Recent(ctx, "alpha", 20)
				if err != nil {
					t.Errorf("reader %d Recent: %v", r, err)
					return
				}
				contiguous("Recent", recent, 0)
				if len(recent) > 0 {
					last := recent[len(recent)-1].Seq
					older, err := s.Before(ctx, "alpha", last, 5)
					if err != nil {
						t.Errorf("reader %d Before: %v", r, err)
						return
					}
					if last > 1 {
						contiguous("Before", older, last-1)
					}
				}
				if _, err := s.Rooms(ctx); err != nil {
					t.Errorf("reader %d Rooms: %v", r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Recent(ctx, "alpha", batches*per)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "all of alpha", got, lines("alpha", 1, batches*per))
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := OpenReadOnly(ctx, dir); err == nil {
		t.Fatal("OpenReadOnly of a folder without a database: got nil error")
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		t.Fatal("OpenReadOnly created a database")
	}

	w := openT(t, dir)
	createRooms(t, w, "alpha")
	appendT(t, w, lines("alpha", 1, 5))

	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatalf("OpenReadOnly while the writer is open: %v", err)
	}
	defer r.Close()
	got, err := r.Recent(ctx, "alpha", 100)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "read-only Recent", got, lines("alpha", 1, 5))

	// The writer goes on while the reader is open, and the reader sees it.
	createRooms(t, w, "beta")
	appendT(t, w, lines("alpha", 6, 8))
	appendT(t, w, lines("beta", 1, 1))
	got, err = r.Before(ctx, "alpha", 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "read-only Before after more writes", got, lines("alpha", 1, 8))
	if got, err := r.Recent(ctx, "beta", 10); err != nil || len(got) != 1 {
		t.Errorf("read-only Recent of a room created since it opened: got %d lines, %v; want 1", len(got), err)
	}

	if err := r.Append(ctx, lines("alpha", 9, 9)); err == nil {
		t.Error("read-only Append: got nil error")
	}
	if err := r.CreateRoom(ctx, lobby.RoomRecord{Name: "gamma"}); err == nil {
		t.Error("read-only CreateRoom: got nil error")
	}
	if _, err := r.Log(ctx); err == nil {
		t.Error("read-only Log: got nil error")
	}
	if _, err := r.r.Exec(`INSERT INTO rooms (name, created) VALUES ('sneaky', 0)`); err == nil {
		t.Error("a write through the read-only connection succeeded")
	}
	if err := r.Close(); err != nil {
		t.Fatalf("read-only Close: %v", err)
	}

	// With the writer gone and its log checkpointed away, a reader still opens.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatalf("OpenReadOnly after the writer closed: %v", err)
	}
	defer r.Close()
	recs, err := r.Rooms(ctx)
	if err != nil || len(recs) != 2 || recs[0].LastSeq != 8 {
		t.Errorf("read-only Rooms: got %+v, %v; want alpha:8, beta:1", recs, err)
	}
}

// TestSQLiteShell checks what the package documentation promises operators:
// the sqlite3 shell can read the database and take a backup while the server
// has it open, and the backup is a complete store.
func TestSQLiteShell(t *testing.T) {
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 shell installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	createRooms(t, s, "alpha")
	appendT(t, s, lines("alpha", 1, 20))

	out, err := exec.Command(shell, "-readonly", s.Path(), "SELECT count(*), max(seq) FROM messages").CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "20|20" {
		t.Fatalf("sqlite3 query: got %q, %v; want 20|20", got, err)
	}
	backup := t.TempDir()
	out, err = exec.Command(shell, s.Path(), ".backup "+filepath.Join(backup, FileName)).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 .backup: %v: %s", err, out)
	}
	appendT(t, s, lines("alpha", 21, 21)) // the server is not held up

	b, err := OpenReadOnly(ctx, backup)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer b.Close()
	got, err := b.Recent(ctx, "alpha", 100)
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "the backup", got, lines("alpha", 1, 20))
}

func TestWithLobby(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openT(t, dir)
	l := lobbyOn(t, s)
	a, err := l.Register(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	a.Exec(ctx, "/create alpha")
	a.Exec(ctx, "hello from alice")
	lobbytest.WaitLine(t, a, "hello from alice")
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openT(t, dir)
	l = lobbyOn(t, s)
	b, err := l.Register(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != "Guest2" {
		t.Errorf("second user ever: got name %q, want Guest2", b.Name())
	}
	b.Exec(ctx, "/join alpha")
	deadline, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		ev, err := b.Next(deadline)
		if err != nil {
			t.Fatalf("waiting for alpha's history: %v", err)
		}
		if ev.Kind == lobby.EventEntered && ev.Room == "alpha" {
			var texts []string
			for _, m := range ev.History {
				texts = append(texts, m.Text)
			}
			if len(texts) < 2 || texts[1] != "hello from alice" {
				t.Errorf("history on join: got %q, want alice's join then her line", texts)
			}
			return
		}
	}
}

func logT(t *testing.T, s *SQLite) *LocalLog {
	t.Helper()
	g, err := s.Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// lobbyOn starts a lobby on s and its own log, as a node on its own runs.
func lobbyOn(t *testing.T, s *SQLite) *lobby.Lobby {
	t.Helper()
	return lobbytest.New(t, lobby.Config{Store: s, Log: logT(t, s)})
}
