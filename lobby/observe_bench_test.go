package lobby_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/metrics"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// BenchmarkFanOut posts lines into a room of 100 sessions that read as
// fast as they can, without an Observer and with the Prometheus metrics:
// what the metrics cost a line on the hot path.
//
//	go test ./lobby -run '^$' -bench FanOut -benchtime 3000x -count 5
func BenchmarkFanOut(b *testing.B) {
	for _, c := range []struct {
		name string
		obs  lobby.Observer
	}{{"observer=none", nil}, {"observer=metrics", metrics.New()}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			l, err := lobby.New(ctx, lobby.Config{
				Store: lobby.NewMemoryStore(), Log: lobby.NewMemoryLog(),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observer: c.obs,
				FloodRate: -1, MaxSessions: 200, Queue: 4096,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close(ctx)
			poster, err := l.Register(ctx, "poster")
			if err != nil {
				b.Fatal(err)
			}
			if err := poster.Exec(ctx, "/create alpha"); err != nil {
				b.Fatal(err)
			}
			var readers sync.WaitGroup
			for i := range 100 {
				s, err := l.Register(ctx, fmt.Sprintf("u%d", i))
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Exec(ctx, "/join alpha"); err != nil {
					b.Fatal(err)
				}
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						if _, err := s.NextBatch(ctx, 64); err != nil {
							return
						}
					}
				}()
			}
			go func() { // the poster reads its own lines too
				for {
					if _, err := poster.NextBatch(ctx, 64); err != nil {
						return
					}
				}
			}()
			if err := l.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := poster.Exec(ctx, fmt.Sprint("line ", i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			l.Shutdown()
			readers.Wait()
		})
	}
}
