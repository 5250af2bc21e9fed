package lobby

import (
	"context"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	l, err := New(ctx, Config{Store: NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	a, _ := l.Register(ctx, "alice")
	b, _ := l.Register(ctx, "")
	a.Exec(ctx, "/create alpha")
	b.Exec(ctx, "join alpha")
	a.Exec(ctx, "hello")
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for {
		ev, err := b.Next(tctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v %+v", ev, ev.Msg)
		if ev.Msg != nil && ev.Msg.Text == "hello" {
			break
		}
	}
}
