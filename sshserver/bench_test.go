package sshserver

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/store"
)

// benchRooms are the fixture's rooms: one with a million lines of history,
// one with a hundred.
var benchRooms = map[string]int{"big": 1_000_000, "small": 100}

// historyFixture returns a data folder holding benchRooms, built once and
// kept in the temp dir (about 90 MB, 15 s to build) so repeated benchmark
// runs reuse it. Each run copies nothing: joins add a line or two to it.
func historyFixture(b *testing.B) string {
	b.Helper()
	if testing.Short() {
		b.Skip("builds a million-line fixture")
	}
	dir := filepath.Join(os.TempDir(), "chatroom-join-bench-v2")
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	_ = os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, n := range benchRooms {
		if err := st.Apply(ctx, &lobby.Writes{Rooms: []lobby.RoomRecord{{Name: name, Created: at}}}); err != nil {
			b.Fatal(err)
		}
		batch := make([]lobby.Message, 0, 10_000)
		for seq := 1; seq <= n; seq++ {
			batch = append(batch, lobby.Message{Room: name, Seq: uint64(seq), At: at.Add(time.Duration(seq) * time.Second),
				From: "writer", Kind: lobby.KindChat, Text: fmt.Sprintf("line %d of %s, with some words to make it a realistic length", seq, name)})
			if len(batch) == cap(batch) || seq == n {
				if err := st.Apply(ctx, &lobby.Writes{Messages: batch}); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkJoinFirstFrame measures the time from typing "/join ROOM" to the
// first frame that shows the room's history (the rule under it), on a fresh
// server each time, so the history comes from SQLite (the cold path).
func BenchmarkJoinFirstFrame(b *testing.B) {
	fixture := historyFixture(b)
	for _, room := range []string{"small", "big"} {
		b.Run("room="+room, func(b *testing.B) {
			dir := copyFixture(b, fixture) // joins write to it
			want := "── now ─"
			for b.Loop() {
				b.StopTimer()
				st, err := store.Open(context.Background(), dir, slog.New(slog.DiscardHandler))
				if err != nil {
					b.Fatal(err)
				}
				ts := startServer(b, withStore(st), withHistory(100))
				c := ts.connect(b)
				c.Login("bench")
				b.StartTimer()
				c.TypeLine("/join " + room)
				c.WaitText(want)
				b.StopTimer()
				c.Close()
				ts.stop(b)
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

func copyFixture(b *testing.B, from string) string {
	b.Helper()
	to := b.TempDir()
	data, err := os.ReadFile(filepath.Join(from, "chatroom.db"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, "chatroom.db"), data, 0o600); err != nil {
		b.Fatal(err)
	}
	return to
}

// BenchmarkServerStart measures opening the store, loading the rooms and
// binding, with a million stored lines and with none.
func BenchmarkServerStart(b *testing.B) {
	cases := map[string]func(b *testing.B) string{
		"lines=0":  func(b *testing.B) string { return b.TempDir() },
		"lines=1M": func(b *testing.B) string { return copyFixture(b, historyFixture(b)) },
	}
	for _, name := range []string{"lines=0", "lines=1M"} {
		b.Run(name, func(b *testing.B) {
			dir := cases[name](b)
			key := filepath.Join(b.TempDir(), "host_ed25519")
			for b.Loop() {
				ctx := context.Background()
				st, err := store.Open(ctx, dir, slog.New(slog.DiscardHandler))
				if err != nil {
					b.Fatal(err)
				}
				l, err := lobby.New(ctx, lobby.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				srv, err := New(Config{Listen: "127.0.0.1:0", HostKeyPath: key, Lobby: l, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := srv.Listen(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = srv.Shutdown(ctx)
				_ = l.Close(ctx)
				_ = st.Close()
				b.StartTimer()
			}
		})
	}
}
