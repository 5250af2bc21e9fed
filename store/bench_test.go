package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// Run with
//
//	go test -run '^$' -bench . -benchtime 2s ./store/
//
// The 1,000,000-line fixture is built once, by the first benchmark that needs
// it, and kept under os.TempDir() for later runs (about 150 MB). -short skips
// every benchmark that needs it.

const (
	bigRoom   = "big"
	pageLines = 100
	// One line in rareEvery of the fixture's has rareWord in it.
	rareEvery = 10_000
	rareWord  = "zebra"
	// smallRooms rooms of three lines each, older than the big room's.
	smallRooms = 1000
)

func smallRoom(i int) string { return fmt.Sprintf("s%04d", i) }

// allSmallRooms names every small room.
func allSmallRooms() []string {
	out := make([]string, smallRooms)
	for i := range out {
		out[i] = smallRoom(i)
	}
	return out
}

// benchLine is a chat line of realistic, varying length (20 to 140 bytes).
func benchLine(rng *rand.Rand, room string, seq uint64) lobby.Message {
	const words = "the quick brown fox jumps over a lazy dog while chatting about sqlite and group commit "
	start := rng.IntN(len(words) / 2)
	text := strings.TrimSpace(words[start : start+20+rng.IntN(len(words)/2-20)])
	if n := rng.IntN(120); n > 0 {
		text += strings.Repeat("!", n/4)
	}
	if seq%rareEvery == 0 {
		text += " " + rareWord // a word for searches with few hits
	}
	return lobby.Message{Room: room, Seq: seq, At: t0.Add(time.Duration(seq) * time.Millisecond), From: fmt.Sprintf("user%d", rng.IntN(50)), Kind: lobby.KindChat, Text: text}
}

// BenchmarkAppend measures the whole write path of a node on its own, per
// line: a batch appended to the log (synced at the level given) and then
// applied (the lines stored, the cursor moved, the log row trimmed).
func BenchmarkAppend(b *testing.B) {
	for _, level := range []string{syncFull, syncNormal} {
		for _, batch := range []int{1, 64, 256} {
			b.Run(fmt.Sprintf("sync=%s/batch=%d", level, batch), func(b *testing.B) {
				ctx := context.Background()
				s, err := open(ctx, b.TempDir(), testutil.Logger(b), options{synchronous: level})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				if err := s.CreateRoom(ctx, lobby.RoomRecord{Name: "alpha", Created: t0}); err != nil {
					b.Fatal(err)
				}
				g, err := s.Log(ctx)
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				msgs := make([]lobby.Message, batch)
				for i := range msgs {
					msgs[i] = benchLine(rng, "alpha", 0)
				}
				changes := make([]lobby.Change, batch)
				for i := range changes {
					changes[i] = lobby.Change{Type: lobby.ChangeSay, Node: "local~bench", Ref: uint64(i), Session: "local~bench.1", At: t0.UnixNano(), Room: "alpha", Text: msgs[i].Text}
				}
				seq := uint64(0)
				b.ResetTimer()
				// b.N counts lines, so ns/op is the cost of one line.
				for done := 0; done < b.N; done += batch {
					k := min(batch, b.N-done)
					for i := range k {
						seq++
						msgs[i].Seq = seq
					}
					cursor, err := g.Append(ctx, "", changes[:k])
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Apply(ctx, &lobby.Writes{LogID: LocalLogID, Cursor: cursor, Messages: msgs[:k]}); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer() // the deferred Close is not an append
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			})
		}
	}
}

// fixture returns a folder holding a database whose room "big" has n lines,
// plus a few small rooms. Small fixtures are built per process; the large
// one is cached across runs under os.TempDir(), keyed by schema version.
func fixture(b *testing.B, n int) string {
	b.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if dir, ok := fixtures[n]; ok {
		return dir
	}
	migs, err := migrations()
	if err != nil {
		b.Fatal(err)
	}
	var dir string
	if n >= 100_000 {
		if testing.Short() {
			b.Skip("the large fixture is skipped under -short")
		}
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("chatroom-store-bench-v%d-%d", len(migs), n))
		if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
			b.Logf("building the %d-line fixture in %s (once)", n, dir)
			buildFixture(b, dir, n)
		}
	} else {
		dir = filepath.Join(fixtureTemp(b), fmt.Sprint(n))
		buildFixtureIn(b, dir, n)
	}
	fixtures[n] = dir
	return dir
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]string{}
	tempOnce   sync.Once
	tempDir    string
)

// fixtureTemp is a folder for this process's small fixtures. b.TempDir would
// be removed when the first benchmark that asked for it ends.
func fixtureTemp(b *testing.B) string {
	tempOnce.Do(func() {
		var err error
		tempDir, err = os.MkdirTemp("", "chatroom-store-bench-")
		if err != nil {
			b.Fatal(err)
		}
	})
	return tempDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tempDir != "" {
		os.RemoveAll(tempDir)
	}
	os.Exit(code)
}

// buildFixture builds into a fresh folder and renames it into place, so an
// interrupted build is never mistaken for a finished one.
func buildFixture(b *testing.B, dir string, n int) {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	buildFixtureIn(b, tmp, n)
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		b.Fatal(err)
	}
	b.Logf("built the %d-line fixture in %v", n, time.Since(start).Round(time.Millisecond))
}

func buildFixtureIn(b *testing.B, dir string, n int) {
	ctx := context.Background()
	// NORMAL: a fixture needs no power-loss safety, and is built faster.
	s, err := open(ctx, dir, testutil.Logger(b), options{synchronous: syncNormal})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	rooms := []string{bigRoom, "r1", "r2", "r3", "empty"}
	for _, r := range rooms {
		if err := s.CreateRoom(ctx, lobby.RoomRecord{Name: r, Created: t0}); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range rooms[1:4] {
		batch := make([]lobby.Message, 0, 100)
		for seq := uint64(1); seq <= 100; seq++ {
			batch = append(batch, benchLine(rng, r, seq))
		}
		if err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	// Many small rooms, for searches in a thousand rooms at once.
	for i := range smallRooms {
		r := smallRoom(i)
		if err := s.CreateRoom(ctx, lobby.RoomRecord{Name: r, Created: t0}); err != nil {
			b.Fatal(err)
		}
		if err := s.Append(ctx, []lobby.Message{benchLine(rng, r, 1), benchLine(rng, r, 2), benchLine(rng, r, 3)}); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 20_000
	batch := make([]lobby.Message, 0, chunk)
	for seq := uint64(1); seq <= uint64(n); seq++ {
		batch = append(batch, benchLine(rng, bigRoom, seq))
		if len(batch) == chunk || seq == uint64(n) {
			if err := s.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

var historySizes = []int{1_000, 1_000_000}

// BenchmarkRecent reads the newest page of a room, as a first join does.
func BenchmarkRecent(b *testing.B) {
	for _, n := range historySizes {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			s := openBench(b, fixture(b, n))
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				got, err := s.Recent(ctx, bigRoom, pageLines)
				if err != nil || len(got) != pageLines {
					b.Fatalf("Recent: got %d lines, %v", len(got), err)
				}
			}
		})
	}
}

// BenchmarkBefore reads a page of older history at a random place in the
// room, as scrolling back does.
func BenchmarkBefore(b *testing.B) {
	for _, n := range historySizes {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			s := openBench(b, fixture(b, n))
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(5, 6))
			b.ResetTimer()
			for b.Loop() {
				seq := uint64(pageLines + 1 + rng.IntN(n-pageLines))
				got, err := s.Before(ctx, bigRoom, seq, pageLines)
				if err != nil || len(got) != pageLines || got[0].Seq != seq-pageLines {
					b.Fatalf("Before(%d): got %d lines from %s, %v", seq, len(got), seqs(got), err)
				}
			}
		})
	}
}

// BenchmarkOpen is a server start: Open, Rooms, Close.
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			if n > 0 {
				dir = fixture(b, n)
			} else {
				openBench(b, dir).Close() // migrated once, outside the timing
			}
			b.ResetTimer()
			for b.Loop() {
				s, err := Open(ctx, dir, testutil.Logger(b))
				if err != nil {
					b.Fatal(err)
				}
				recs, err := s.Rooms(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n > 0 && (len(recs) != 5+smallRooms || recs[0].LastSeq != uint64(n)) {
					b.Fatalf("Rooms: got %+v", recs)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func openBench(b *testing.B, dir string) *SQLite {
	s, err := Open(context.Background(), dir, testutil.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkQuickCheck is SQLite's PRAGMA quick_check over the whole
// database, as Open runs it at start.
func BenchmarkQuickCheck(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			s := openBench(b, fixture(b, n))
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				var res string
				if err := s.r.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil || res != "ok" {
					b.Fatalf("quick_check: %q, %v", res, err)
				}
			}
		})
	}
}

// BenchmarkSearch is /search over the history: the newest 20 lines that
// hold every word, in the rooms the user may read. The fixture's lines are
// made of a dozen words, so most of them hold "fox": the common case of a
// frequent word. "no hits" is a word in no line, "rare" one in a line of
// every 10,000, "other rooms" a frequent word looked for only in the small
// rooms, whose lines are the oldest: the index walks past every hit in the
// big room before it finds theirs (the worst case, but for the index's
// room column). The last cases look in a thousand small rooms at once.
func BenchmarkSearch(b *testing.B) {
	cases := []struct {
		name  string
		words []string
		rooms []string
		want  int // hits expected
	}{
		{"frequent", []string{"fox"}, []string{bigRoom, "r1", "r2", "r3"}, searchLimit},
		{"two frequent", []string{"quick", "dog"}, []string{bigRoom, "r1", "r2", "r3"}, searchLimit},
		{"rare", []string{rareWord}, []string{bigRoom}, searchLimit},
		{"rare and frequent", []string{rareWord, "the"}, []string{bigRoom}, -1},
		{"no hits", []string{"unicorn"}, []string{bigRoom, "r1", "r2", "r3"}, 0},
		{"other rooms", []string{"fox"}, []string{"r1", "r2"}, searchLimit},
		{"1001 rooms", []string{"fox"}, append(allSmallRooms(), bigRoom), searchLimit},
		{"1000 other rooms", []string{"fox"}, allSmallRooms(), searchLimit},
		{"1001 rooms rare", []string{rareWord}, append(allSmallRooms(), bigRoom), searchLimit},
	}
	for _, n := range historySizes {
		for _, c := range cases {
			b.Run(fmt.Sprintf("lines=%d/%s", n, c.name), func(b *testing.B) {
				s := openBench(b, fixture(b, n))
				ctx := context.Background()
				q := lobby.SearchQuery{Words: c.words, Rooms: c.rooms, Limit: searchLimit}
				b.ResetTimer()
				for b.Loop() {
					got, err := s.Search(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					if c.want >= 0 && n >= 100*rareEvery && len(got) != c.want {
						b.Fatalf("got %d hits, want %d", len(got), c.want)
					}
					for _, m := range got {
						if !slices.Contains(c.rooms, m.Room) {
							b.Fatalf("a hit in %q, not asked for", m.Room)
						}
					}
				}
			})
		}
	}
}

// searchLimit is the number of results /search asks for.
const searchLimit = 20

// BenchmarkMigrateTalk is the one-off cost of migration 0003 (the messages
// table built again, join and leave lines classified, the search index
// built) on a database of schema 2 holding a million lines, as a server
// upgrading pays it once at its first start. Run it with -benchtime 1x.
func BenchmarkMigrateTalk(b *testing.B) {
	if testing.Short() {
		b.Skip("a million lines are skipped under -short")
	}
	const n = 1_000_000
	migs, err := migrations()
	if err != nil {
		b.Fatal(err)
	}
	src := b.TempDir()
	db, err := sql.Open("sqlite", dsn(filepath.Join(src, FileName), nil))
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range migs[:2] {
		if _, err := db.Exec(m.sql); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`
		PRAGMA user_version = 2;
		INSERT INTO rooms (id, name, created) VALUES (1, 'big', 0);
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
		INSERT INTO messages SELECT 1, x, x * 1000000, 'user' || (x %% 50),
			CASE WHEN x %% 20 = 0 THEN 'system' ELSE 'message' END,
			CASE WHEN x %% 20 = 0 THEN 'user' || (x %% 50) || ' joined big'
			     ELSE substr('the quick brown fox jumps over a lazy dog while chatting about sqlite and group commit ', 1 + x %% 40, 20 + x %% 50) END
		FROM c;`, n)); err != nil {
		b.Fatal(err)
	}
	db.Close()
	orig, err := os.ReadFile(filepath.Join(src, FileName))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), orig, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := Open(context.Background(), dir, testutil.Logger(b))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
