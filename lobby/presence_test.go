package lobby

import (
	"context"
	"fmt"
	"slices"
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

func TestRoomMembers(t *testing.T) {
	l := newLobby(t, Config{})
	alice, bob := inAlpha(t, l)
	carol := register(t, l, "carol")
	if room, names := carol.RoomMembers(10); room != "" || names != nil {
		t.Errorf("in the Lobby: RoomMembers = %q, %q; want neither", room, names)
	}
	if room, names := alice.RoomMembers(10); room != "alpha" || !slices.Equal(names, []string{"alice", "bob"}) {
		t.Errorf("RoomMembers = %q, %q; want alpha with alice and bob", room, names)
	}
	exec(t, bob, "/leave")
	barrier(t, l)
	if _, names := alice.RoomMembers(10); !slices.Equal(names, []string{"alice"}) {
		t.Errorf("after bob left, members %q, want alice alone", names)
	}
	exec(t, carol, "/join alpha")
	barrier(t, l)
	if room, names := alice.RoomMembers(1); room != "alpha" || names != nil {
		t.Errorf("two members over a max of 1: RoomMembers = %q, %q; want the room without members", room, names)
	}
}
