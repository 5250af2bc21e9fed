package lobby

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestPresenceLinesGiveWayToChatForABackedUpMember(t *testing.T) {
	ctx := context.Background()
	l, err := New(ctx, Config{Store: NewMemoryStore(), Log: NewMemoryLog(), Queue: 8, FloodRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	slow, _ := l.Register(ctx, "slow")
	if err := slow.Exec(ctx, "/create alpha"); err != nil {
		t.Fatal(err)
	}
	// Eight others join while slow reads nothing: their join lines must not
	// fill slow's queue and get it cut loose.
	for i := range 8 {
		s, err := l.Register(ctx, fmt.Sprintf("user%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Exec(ctx, "/join alpha"); err != nil {
			t.Fatal(err)
		}
	}
	poster, _ := l.Register(ctx, "poster")
	_ = poster.Exec(ctx, "/join alpha")
	_ = poster.Exec(ctx, "chat gets through")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := slow.Err(); err != nil {
			t.Fatalf("a member behind on join lines was cut loose: %v", err)
		}
		ev, err := slow.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Msg != nil && ev.Msg.Text == "chat gets through" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the chat line never arrived")
		}
	}
}
