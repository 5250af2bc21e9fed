package tui

import (
	"strings"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestRoomColours(t *testing.T) {
	// alice and Guest2 hash to one slot: the pair issue #9 saw drawn alike.
	if userIndex("alice") != userIndex("Guest2") {
		t.Fatalf("the test needs two names of one hash slot; alice %d, Guest2 %d", userIndex("alice"), userIndex("Guest2"))
	}
	t.Run("members present differ", func(t *testing.T) {
		var c roomColours
		c.setMembers([]string{"alice"})
		a := c.of("alice")
		c.setMembers([]string{"Guest2", "alice"})
		if g := c.of("Guest2"); g == a {
			t.Errorf("alice and Guest2, alone in a room, both got slot %d", a)
		}
		if got := c.of("ALICE"); got != a {
			t.Errorf("alice moved from slot %d to %d when Guest2 came", a, got)
		}
	})
	t.Run("own slot first", func(t *testing.T) {
		var c roomColours
		c.setMembers([]string{"alice", "bob"})
		if got := c.of("bob"); got != userIndex("bob") {
			t.Errorf("bob got slot %d, want his own %d: nobody holds it", got, userIndex("bob"))
		}
	})
	t.Run("the absent do not hold a slot", func(t *testing.T) {
		var c roomColours
		c.setMembers([]string{"bob"})
		c.of("alice") // in the history, gone
		c.setMembers([]string{"bob", "Guest2"})
		if got := c.of("Guest2"); got != userIndex("Guest2") {
			t.Errorf("Guest2 got slot %d, want its own %d: only the absent alice has it", got, userIndex("Guest2"))
		}
	})
	t.Run("a crowd", func(t *testing.T) {
		var c roomColours
		var names []string
		for i := range paletteSize + 3 {
			names = append(names, "user"+strings.Repeat("x", i))
		}
		c.setMembers(names)
		seen := map[int]int{}
		for _, n := range names {
			seen[c.of(n)]++
		}
		if len(seen) != paletteSize {
			t.Errorf("%d members use %d of %d colours, want all", len(names), len(seen), paletteSize)
		}
	})
	t.Run("a new room", func(t *testing.T) {
		var c roomColours
		c.setMembers([]string{"alice", "Guest2"})
		c.reset()
		if got := c.of("Guest2"); got != userIndex("Guest2") {
			t.Errorf("in a new room Guest2 got slot %d, want its own %d", got, userIndex("Guest2"))
		}
	})
	t.Run("nil colours by hash", func(t *testing.T) {
		var c *roomColours
		if got := c.of("Guest2"); got != userIndex("Guest2") {
			t.Errorf("got slot %d, want %d", got, userIndex("Guest2"))
		}
	})
}

// TestTwoAloneInARoomAreDrawnApart is issue #9's case end to end through the
// model: alice and Guest2 alone in a room are drawn in different colours.
func TestTwoAloneInARoomAreDrawnApart(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	h := newHarness(t, l, 100, 30)
	h.login("alice")
	h.create("alpha")
	guest := lobbytest.Register(t, l, "")
	if guest.Name() != "Guest2" {
		t.Fatalf("the guest is %s, want Guest2", guest.Name())
	}
	drain(t, guest)
	lobbytest.Exec(t, guest, "/join alpha")
	lobbytest.Exec(t, guest, "hello from a guest")
	h.line("hello from alice")
	h.waitText("Guest2: hello from a guest")
	h.waitText("alice: hello from alice")

	raw := h.m.View().Content
	a, g := h.m.sb.colours.of("alice"), h.m.sb.colours.of("Guest2")
	if a == g {
		t.Fatalf("alice and Guest2 both drawn in colour %d", a)
	}
	for name, slot := range map[string]int{"alice": a, "Guest2": g} {
		if !strings.Contains(raw, h.m.st.users[slot].render(name)) {
			t.Errorf("%s is not drawn in its colour %d", name, slot)
		}
	}
}
