package lobby

import (
	"context"
	"fmt"
	"testing"
)

func TestPresenceLinesGiveWayToChatForABackedUpMember(t *testing.T) {
	ctx := context.Background()
	l := newLobby(t, Config{Queue: 8, FloodRate: -1})
	slow, _ := l.Register(ctx, "slow") // its first event stays unread, as every other
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
	// Next fails the test if slow was cut loose.
	until(t, slow, isLine("chat gets through"))
}
