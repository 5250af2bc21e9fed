package lobby

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestRegisterLookAlikeOnline is the case of issue #8: with ABE, TOM, alice
// and bill online, their look-alikes in another alphabet or with a capital I
// for an l are taken, whatever the case they were typed in.
func TestRegisterLookAlikeOnline(t *testing.T) {
	l := newLobby(t, Config{})
	for _, name := range []string{"ABE", "TOM", "alice", "bill"} {
		register(t, l, name)
	}
	tests := []struct{ name, input string }{
		{"Greek capitals", "ΑΒΕ"},
		{"Cyrillic capitals", "АВЕ"},
		{"Cyrillic capitals TOM", "ТОМ"},
		{"capital I for l", "aIice"},
		{"two capital I for ll", "biII"},
		{"capital I for l, in capitals", "ALICE"},
		{"lower case", "abe"},
		{"lower case tom", "tom"},
		{"rn for m", "torn"},
		{"digit one for l", "bi1l"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := l.Register(context.Background(), tc.input); !errors.Is(err, ErrNameTaken) {
				got := ""
				if s != nil {
					got = s.Name()
				}
				t.Errorf("Register(%q) = %q, %v; want ErrNameTaken", tc.input, got, err)
			}
		})
	}
	if got := l.Online(); got != 4 {
		t.Errorf("Online() = %d, want 4", got)
	}
}

// TestLookAlike pins down which pairs of names count as the same.
func TestLookAlike(t *testing.T) {
	same := [][2]string{
		{"ABE", "ΑΒΕ"},
		{"ABE", "АВЕ"},
		{"abe", "ΑΒΕ"},
		{"TOM", "ТОМ"},
		{"alice", "aIice"},
		{"ALICE", "aIice"},
		{"bill", "biII"},
		{"alice", "ALICE"},
		{"ape", "аре"},
		{"paypal", "paypa1"},
		{"Guest10", "Guest1O"},
		{"\u00e9tienne", "E\u0301TIENNE"},
	}
	for _, p := range same {
		if !lookAlike(p[0], p[1]) || !lookAlike(p[1], p[0]) {
			t.Errorf("%q and %q do not look alike (keys %q, %q)", p[0], p[1], lookAlikeKeys(p[0]), lookAlikeKeys(p[1]))
		}
	}
	differ := [][2]string{
		{"ape", "apes"},
		{"Ivan", "Иван"},
		{"alice", "alicia"},
		{"bob", "b0b2"},
		{"Ali", "All"}, // the capital I rule must not tie every i to every l
		{"bill", "biii"},
		{"αβε", "ABE"}, // Greek small letters do not look Latin
	}
	for _, p := range differ {
		if lookAlike(p[0], p[1]) || lookAlike(p[1], p[0]) {
			t.Errorf("%q and %q look alike (keys %q, %q), want them apart", p[0], p[1], lookAlikeKeys(p[0]), lookAlikeKeys(p[1]))
		}
	}
}

// lookAlike reports whether names a and b share a look-alike key.
func lookAlike(a, b string) bool {
	for _, ka := range lookAlikeKeys(a) {
		for _, kb := range lookAlikeKeys(b) {
			if ka == kb {
				return true
			}
		}
	}
	return false
}

func TestCreateLookAlikeRoom(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1})
	alice := register(t, l, "alice")
	createRoom(t, alice, "ABE")
	exec(t, alice, "/leave")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice && strings.HasPrefix(ev.Text, "You left") })
	for _, name := range []string{"ΑΒΕ", "АВЕ", "abe"} {
		exec(t, alice, "/create "+name)
		notice(t, alice, true, "A room named ABE already exists")
	}
	if got := len(l.Rooms()); got != 1 {
		t.Errorf("%d rooms, want 1: %v", got, l.Rooms())
	}
	// Joining by a look-alike name points at the room rather than offering
	// to create one that would be refused.
	exec(t, alice, "/join АВЕ")
	notice(t, alice, true, "There is no room named АВЕ, but ABE looks the same: /join ABE joins it.")
}

// TestStoredLookAlikeRooms: two rooms stored before look-alike room names
// were refused both stay, each reachable by its own name, and neither lets a
// third look-alike be created. The server says so in its log.
func TestStoredLookAlikeRooms(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	for _, name := range []string{"ABE", "ΑΒΕ"} {
		if err := store.Apply(ctx, &Writes{Rooms: []RoomRecord{{Name: name, Created: fixedTime}}}); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	l := newLobby(t, Config{Store: store, FloodRate: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if got := len(l.Rooms()); got != 2 {
		t.Fatalf("%d rooms, want both stored ones: %v", got, l.Rooms())
	}
	if !strings.Contains(logs.String(), "look alike") {
		t.Errorf("log %q does not mention the look-alike rooms", logs.String())
	}
	alice := register(t, l, "alice")
	for _, name := range []string{"ABE", "ΑΒΕ"} {
		exec(t, alice, "/join "+name)
		entered(t, alice, name)
		line(t, alice, KindSystem, "alice joined "+name)
	}
	exec(t, alice, "/create АВЕ")
	ev := until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice && ev.Error })
	if last := ev[len(ev)-1]; !strings.Contains(last.Text, "already exists") {
		t.Errorf("/create АВЕ: got %q, want a refusal", last.Text)
	}
}
