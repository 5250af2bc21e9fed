package lobby

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFloodLimit(t *testing.T) {
	ctx := context.Background()
	const slowDown = "Slow down: you may send 3 lines at once, then 1 a second. That was not sent."
	newFlood := func(t *testing.T) (*Lobby, *clock, *Session, *Session) {
		clk := &clock{t: fixedTime}
		l := newLobby(t, Config{Now: clk.Now, FloodBurst: 3, FloodRate: 1, FloodStrikes: 4})
		alice := register(t, l, "alice")
		bob := register(t, l, "bob")
		createRoom(t, alice, "alpha") // 1 of alice's 3
		joinRoom(t, bob, "alpha")
		line(t, alice, KindSystem, "bob joined alpha")
		return l, clk, alice, bob
	}

	t.Run("burst, refusal, refill", func(t *testing.T) {
		_, clk, alice, bob := newFlood(t)
		exec(t, alice, "one")
		line(t, alice, KindChat, "one")
		exec(t, alice, "/list") // commands count too
		notice(t, alice, false, "Rooms:")
		exec(t, alice, "two")
		notice(t, alice, true, slowDown)
		clk.Advance(time.Second)
		exec(t, alice, "three")
		line(t, alice, KindChat, "three") // "two" was refused, not queued
		line(t, bob, KindChat, "one")
		line(t, bob, KindChat, "three")
	})

	t.Run("strikes in a row end the session", func(t *testing.T) {
		_, clk, alice, bob := newFlood(t)
		exec(t, alice, "a")
		exec(t, alice, "b")
		for range 3 { // refusals 1 to 3: notices
			exec(t, alice, "spam")
		}
		clk.Advance(time.Second) // a line let through resets the count
		exec(t, alice, "c")
		for range 3 {
			exec(t, alice, "spam")
		}
		if err := alice.Exec(ctx, "spam"); !errors.Is(err, ErrFlooding) { // the 4th in a row
			t.Fatalf("Exec = %v, want ErrFlooding", err)
		}
		if err := alice.Exec(ctx, "more"); !errors.Is(err, ErrFlooding) {
			t.Errorf("Exec after the end = %v, want ErrFlooding", err)
		}
		var notices int
		for {
			ev, err := alice.Next(ctx)
			if err != nil {
				if !errors.Is(err, ErrFlooding) {
					t.Errorf("Next = %v, want ErrFlooding", err)
				}
				break
			}
			if ev.Kind == EventNotice && ev.Text == slowDown {
				notices++
			}
		}
		if notices != 6 {
			t.Errorf("%d slow-down notices, want 6", notices)
		}
		for _, want := range []string{"a", "b", "c"} {
			line(t, bob, KindChat, want)
		}
		line(t, bob, KindSystem, "alice left alpha (flooding)")
	})

	t.Run("SelectRoom counts", func(t *testing.T) {
		l, _, _, bob := newFlood(t)
		// bob has used 1 line of 3 (his join).
		if err := bob.SelectRoom(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if err := bob.SelectRoom(ctx, "alpha"); err != nil {
			t.Fatal(err)
		}
		if err := bob.SelectRoom(ctx, ""); err != nil {
			t.Fatal(err)
		}
		until(t, bob, func(ev Event) bool { return ev.Kind == EventNotice && ev.Text == slowDown })
		for range 2 {
			if err := bob.SelectRoom(ctx, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := bob.SelectRoom(ctx, "alpha"); !errors.Is(err, ErrFlooding) {
			t.Fatalf("SelectRoom = %v, want ErrFlooding", err)
		}
		barrier(t, l)
		if got := l.Online(); got != 1 {
			t.Errorf("Online() = %d, want 1", got)
		}
	})
}

func TestFloodLimitOff(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1, FloodBurst: 1, FloodStrikes: 1})
	alice := register(t, l, "alice")
	createRoom(t, alice, "alpha")
	post(t, alice, 100)
}
