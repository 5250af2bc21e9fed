package cluster

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

func TestReconnectedIsToldWhenNATSComesBack(t *testing.T) {
	nats := natstest.Start(t)
	var reconnects atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	g, err := Open(ctx, Config{URL: nats.URL(), Node: "a", Logger: slog.New(slog.DiscardHandler), Reconnected: func() { reconnects.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if n := reconnects.Load(); n != 0 {
		t.Fatalf("%d reconnects before any loss, want 0", n)
	}
	nats.Stop(0)
	nats.Restart(0)
	testutil.Eventually(t, "a reconnect", func() bool { return reconnects.Load() == 1 })
}
