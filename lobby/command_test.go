package lobby

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// createRoom has s create room and reads what that tells s.
func createRoom(t *testing.T, s *Session, room string) {
	t.Helper()
	exec(t, s, "/create "+room)
	notice(t, s, false, "You created "+room+".")
	entered(t, s, room)
	line(t, s, KindSystem, s.Name()+" joined "+room)
}

// joinRoom has s join room and reads what that tells s.
func joinRoom(t *testing.T, s *Session, room string) Event {
	t.Helper()
	exec(t, s, "/join "+room)
	ev := entered(t, s, room)
	line(t, s, KindSystem, s.Name()+" joined "+room)
	return ev
}

// TestReplies covers every command whose whole effect is one reply to the
// user who typed it: the refusals, and the commands that only show things.
// Each case starts with alice in the Lobby or in room "alpha", and rooms
// "alpha" and "Beta" existing (bob sits in Beta) unless noRooms is set.
func TestReplies(t *testing.T) {
	roomList := "Rooms:\n  alpha (0 users)\n  Beta (1 user)"
	roomListIn := "Rooms:\n  alpha (1 user)\n  Beta (1 user)"
	tests := []struct {
		name    string
		inRoom  bool
		noRooms bool
		line    string
		want    string // the reply contains this; "" means no reply at all
		isErr   bool
	}{
		{name: "commands", line: "/commands", want: "Commands:\n  /commands"},
		{name: "help", line: "/help", want: "/create NAME"},
		{name: "commands upper case", line: "/COMMANDS", want: "Commands:"},
		{name: "commands bare in Lobby", line: "commands", want: "Commands:"},
		{name: "help bare in Lobby", line: "  help  ", want: "Commands:"},
		{name: "commands in room", inRoom: true, line: "/help", want: "Commands:"},

		{name: "list", line: "/list", want: roomList},
		{name: "list bare", line: "list", want: roomList},
		{name: "list in room", inRoom: true, line: "/list", want: roomListIn},
		{name: "list empty", noRooms: true, line: "/list", want: "No rooms yet. Create one with /create NAME."},
		{name: "list ignores argument", line: "/list everything", want: roomList},

		{name: "unknown", line: "/frobnicate", want: "There is no command /frobnicate. Type /commands", isErr: true},
		{name: "unknown in room", inRoom: true, line: "/frobnicate now", want: "There is no command /frobnicate.", isErr: true},
		{name: "lone slash", line: "/", want: "There is no command /.", isErr: true},
		{name: "unknown echo cleaned", line: "/\x1b]0;pwned\x07x", want: "There is no command /x.", isErr: true},
		{name: "unknown echo cut", line: "/" + strings.Repeat("z", 500), want: "/" + strings.Repeat("z", maxEcho-2) + "…. Type", isErr: true},

		{name: "chat in Lobby", line: "hello there", want: "You are in the Lobby, where there is no chat. Join a room with /join NAME", isErr: true},
		{name: "bare unknown in Lobby", line: "frobnicate", want: "where there is no chat", isErr: true},

		{name: "empty", line: "", want: ""},
		{name: "spaces", line: "   ", want: ""},
		{name: "tab and newline", line: "\t\r\n", want: ""},
		{name: "empty in room", inRoom: true, line: "", want: ""},
		{name: "blank in room", inRoom: true, line: " \t ", want: ""},
		{name: "only controls in room", inRoom: true, line: "\x1b[2J\x07", want: invisibleNotice, isErr: true},
		{name: "only zero-width in room", inRoom: true, line: "\u200b\ufeff\u2060", want: invisibleNotice, isErr: true},
		{name: "only tags in room", inRoom: true, line: "\U000e0068\U000e0069\U000e007f", want: invisibleNotice, isErr: true},
		{name: "zero-width and spaces in room", inRoom: true, line: " \u200b \u200d ", want: invisibleNotice, isErr: true},
		{name: "Hangul fillers in room", inRoom: true, line: "\u3164\u3164", want: invisibleNotice, isErr: true},
		{name: "braille blank in room", inRoom: true, line: "\u2800", want: invisibleNotice, isErr: true},
		{name: "wide spaces in room", inRoom: true, line: "\u3000\u2003\u00a0", want: ""}, // blank, like "   "
		{name: "only marks in room", inRoom: true, line: "\u0301\u0302", want: invisibleNotice, isErr: true},
		{name: "only joiners in room", inRoom: true, line: "\u200d\u200c", want: invisibleNotice, isErr: true},

		{name: "create no name", line: "/create", want: "Usage: /create NAME", isErr: true},
		{name: "create blank name", line: "/create    ", want: "Usage: /create NAME", isErr: true},
		{name: "create bare no name", line: "create", want: "Usage: /create NAME", isErr: true},
		{name: "create exists", line: "/create ALPHA", want: "A room named alpha already exists; join it with /join alpha.\n" + roomList, isErr: true},
		{name: "create exists other case", line: "/create beta", want: "A room named Beta already exists", isErr: true},
		{name: "create exists from room", inRoom: true, line: "/create alpha", want: "A room named alpha already exists", isErr: true},
		{name: "create with space", line: "/create my room", want: Sentence(ErrRoomInvalid.Error()), isErr: true},
		{name: "create too long", line: "/create " + strings.Repeat("r", MaxRoomLen+1), want: Sentence(ErrRoomInvalid.Error()), isErr: true},
		{name: "create control char", line: "/create al\x07pha2", want: Sentence(ErrRoomInvalid.Error()), isErr: true},
		{name: "create escape", line: "/create \x1b[31mred", want: Sentence(ErrRoomInvalid.Error()), isErr: true},
		{name: "create pasted lines", line: "/create gamma\nrm", want: Sentence(ErrRoomInvalid.Error()), isErr: true},
		{name: "create homoglyph", line: "/create \u0430lpha", want: "one alphabet", isErr: true},

		{name: "join no name", line: "/join", want: "Usage: /join NAME", isErr: true},
		{name: "join missing", line: "/join nowhere", want: "There is no room named nowhere. /list shows the rooms; /create nowhere makes it.", isErr: true},
		{name: "join missing bare", line: "join nowhere", want: "There is no room named nowhere.", isErr: true},
		{name: "join missing invalid", line: "/join no\x1b[2Jwhere at all", want: "There is no room named nowhere at all. /list shows the rooms.", isErr: true},
		{name: "join current", inRoom: true, line: "/join alpha", want: "You are already in alpha."},
		{name: "join current other case", inRoom: true, line: "/join ALPHA", want: "You are already in alpha."},

		{name: "leave in Lobby", line: "/leave", want: "You are not in a room.", isErr: true},
		{name: "leave bare in Lobby", line: "leave", want: "You are not in a room.", isErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLobby(t, Config{})
			alice := register(t, l, "alice")
			bob := register(t, l, "bob")
			if !tc.noRooms {
				createRoom(t, bob, "alpha")
				exec(t, bob, "/create Beta")
				until(t, bob, isLine("bob joined Beta"))
				if tc.inRoom {
					joinRoom(t, alice, "alpha")
				}
			}
			barrier(t, l)
			wantRoom := alice.Room()
			before := l.Rooms()

			exec(t, alice, tc.line)
			if tc.want != "" {
				notice(t, alice, tc.isErr, tc.want)
			}
			barrier(t, l)
			quiet(t, alice)
			quiet(t, bob)
			if got := alice.Room(); got != wantRoom {
				t.Errorf("alice is in %q, want %q", got, wantRoom)
			}
			if got := l.Rooms(); !slices.Equal(got, before) {
				t.Errorf("rooms changed to %v, want %v", got, before)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	t.Run("from the Lobby", func(t *testing.T) {
		l := newLobby(t, Config{})
		alice := register(t, l, "alice")
		exec(t, alice, "/create Alpha")
		notice(t, alice, false, "You created Alpha.")
		if ev := entered(t, alice, "Alpha"); len(ev.History) != 0 {
			t.Errorf("history of a new room = %v, want none", ev.History)
		}
		m := line(t, alice, KindSystem, "alice joined Alpha")
		if m.From != "alice" || m.Seq != 1 || !m.At.Equal(fixedTime) || m.Room != "Alpha" {
			t.Errorf("join line = %+v, want from alice, Seq 1, at the fixed time, room Alpha", m)
		}
		if got, want := l.Rooms(), []RoomInfo{{Name: "Alpha", Users: 1}}; !slices.Equal(got, want) {
			t.Errorf("Rooms() = %v, want %v", got, want)
		}
		if got := alice.Room(); got != "Alpha" {
			t.Errorf("Room() = %q, want Alpha", got)
		}
	})
	t.Run("bare form in the Lobby", func(t *testing.T) {
		l := newLobby(t, Config{})
		alice := register(t, l, "alice")
		exec(t, alice, "create alpha")
		notice(t, alice, false, "You created alpha.")
		entered(t, alice, "alpha")
	})
	t.Run("bare form in a room is chat", func(t *testing.T) {
		l := newLobby(t, Config{})
		alice := register(t, l, "alice")
		createRoom(t, alice, "alpha")
		exec(t, alice, "create beta")
		line(t, alice, KindChat, "create beta")
		if got := len(l.Rooms()); got != 1 {
			t.Errorf("%d rooms, want 1", got)
		}
	})
	t.Run("from another room, which sees the leave", func(t *testing.T) {
		l := newLobby(t, Config{})
		alice, bob := inAlpha(t, l)

		exec(t, bob, "/create beta")
		notice(t, bob, false, "You created beta.")
		entered(t, bob, "beta")
		line(t, bob, KindSystem, "bob joined beta")
		line(t, alice, KindSystem, "bob left alpha")
		barrier(t, l)
		quiet(t, alice)
		quiet(t, bob)
		if got, want := l.Rooms(), []RoomInfo{{Name: "alpha", Users: 1}, {Name: "beta", Users: 1}}; !slices.Equal(got, want) {
			t.Errorf("Rooms() = %v, want %v", got, want)
		}
	})
	t.Run("name in NFC", func(t *testing.T) {
		l := newLobby(t, Config{})
		alice := register(t, l, "alice")
		exec(t, alice, "/create cafe\u0301")
		notice(t, alice, false, "You created caf\u00e9.")
		entered(t, alice, "caf\u00e9")
		// The join line comes from the committer after the store has it,
		// so it is read before the next command can race it.
		line(t, alice, KindSystem, "alice joined caf\u00e9")
		exec(t, alice, "/create CAF\u00c9")
		notice(t, alice, true, "A room named caf\u00e9 already exists")
	})
	t.Run("log refuses", func(t *testing.T) {
		log := NewMemoryLog()
		l := newLobby(t, Config{Log: log})
		alice := register(t, l, "alice")
		log.FailAppends(errDisk)
		t.Cleanup(func() { log.FailAppends(nil) }) // before the lobby closes
		exec(t, alice, "/create alpha")
		notice(t, alice, true, "That could not be done")
		if got := len(l.Rooms()); got != 0 {
			t.Errorf("%d rooms, want none", got)
		}
		if got := alice.Room(); got != "" {
			t.Errorf("alice is in %q, want the Lobby", got)
		}
	})
}

func TestJoin(t *testing.T) {
	setup := func(t *testing.T) (*Lobby, *Session, *Session) {
		l := newLobby(t, Config{})
		alice := register(t, l, "alice")
		bob := register(t, l, "bob")
		createRoom(t, alice, "Alpha")
		exec(t, alice, "hello")
		line(t, alice, KindChat, "hello")
		return l, alice, bob
	}
	for _, form := range []string{"/join Alpha", "/join alpha", "/JOIN ALPHA", "join alpha", "JOIN  alpha  "} {
		t.Run(form, func(t *testing.T) {
			l, alice, bob := setup(t)
			exec(t, bob, form)
			ev := entered(t, bob, "Alpha") // shown as created
			var got []string
			for _, m := range ev.History {
				got = append(got, m.Text)
			}
			if want := []string{"alice joined Alpha", "hello"}; !slices.Equal(got, want) {
				t.Errorf("history = %q, want %q", got, want)
			}
			line(t, bob, KindSystem, "bob joined Alpha")
			line(t, alice, KindSystem, "bob joined Alpha")
			if got, want := l.Rooms(), []RoomInfo{{Name: "Alpha", Users: 2}}; !slices.Equal(got, want) {
				t.Errorf("Rooms() = %v, want %v", got, want)
			}
		})
	}
	t.Run("switch rooms", func(t *testing.T) {
		l, alice, bob := setup(t)
		createRoom(t, bob, "beta")
		joinRoom(t, alice, "beta")
		line(t, bob, KindSystem, "alice joined beta")
		exec(t, alice, "/join alpha")
		entered(t, alice, "Alpha")
		line(t, alice, KindSystem, "alice joined Alpha")
		line(t, bob, KindSystem, "alice left beta")
		barrier(t, l)
		quiet(t, alice)
		quiet(t, bob)
		if got, want := l.Rooms(), []RoomInfo{{Name: "Alpha", Users: 1}, {Name: "beta", Users: 1}}; !slices.Equal(got, want) {
			t.Errorf("Rooms() = %v, want %v", got, want)
		}
	})
	t.Run("SelectRoom", func(t *testing.T) {
		l, alice, bob := setup(t)
		ctx := context.Background()
		if err := bob.SelectRoom(ctx, "alpha"); err != nil {
			t.Fatalf("SelectRoom: %v", err)
		}
		entered(t, bob, "Alpha")
		line(t, bob, KindSystem, "bob joined Alpha")
		line(t, alice, KindSystem, "bob joined Alpha")
		if err := bob.SelectRoom(ctx, "nowhere"); err != nil {
			t.Fatalf("SelectRoom: %v", err)
		}
		notice(t, bob, true, "There is no room named nowhere.")
		if err := bob.SelectRoom(ctx, ""); err != nil {
			t.Fatalf("SelectRoom: %v", err)
		}
		entered(t, bob, "")
		notice(t, bob, false, "You left room Alpha.")
		line(t, alice, KindSystem, "bob left Alpha")
		if err := bob.SelectRoom(ctx, ""); err != nil { // in the Lobby already: nothing
			t.Fatalf("SelectRoom: %v", err)
		}
		barrier(t, l)
		quiet(t, bob)
		quiet(t, alice)
	})
}

func TestLeave(t *testing.T) {
	l := newLobby(t, Config{})
	alice, bob := inAlpha(t, l)

	exec(t, bob, "/leave")
	entered(t, bob, "")
	notice(t, bob, false, "You left room alpha.")
	line(t, alice, KindSystem, "bob left alpha")
	barrier(t, l)
	quiet(t, bob) // its own leave is not shown: it is no longer there
	if got := bob.Room(); got != "" {
		t.Errorf("Room() = %q, want the Lobby", got)
	}
	if got, want := l.Rooms(), []RoomInfo{{Name: "alpha", Users: 1}}; !slices.Equal(got, want) {
		t.Errorf("Rooms() = %v, want %v", got, want)
	}
	exec(t, bob, "/leave")
	notice(t, bob, true, "You are not in a room.")
}

func TestQuit(t *testing.T) {
	for _, form := range []string{"/quit", "/QUIT", "quit"} {
		t.Run(form, func(t *testing.T) {
			l := newLobby(t, Config{})
			alice := register(t, l, "alice")
			bob := register(t, l, "bob")
			createRoom(t, alice, "alpha")
			if form != "quit" { // the bare form only works in the Lobby
				joinRoom(t, bob, "alpha")
				line(t, alice, KindSystem, "bob joined alpha")
			}
			ctx := context.Background()
			if err := bob.Exec(ctx, form); !errors.Is(err, ErrQuit) {
				t.Fatalf("Exec(%q) = %v, want ErrQuit", form, err)
			}
			if _, err := bob.Next(ctx); !errors.Is(err, ErrQuit) {
				t.Errorf("Next after quit = %v, want ErrQuit", err)
			}
			if err := bob.Err(); !errors.Is(err, ErrQuit) {
				t.Errorf("Err() = %v, want ErrQuit", err)
			}
			if err := bob.Exec(ctx, "hello"); !errors.Is(err, ErrQuit) {
				t.Errorf("Exec after quit = %v, want ErrQuit", err)
			}
			if form != "quit" {
				line(t, alice, KindSystem, "bob left alpha")
			}
			barrier(t, l) // the chat counts bob out when his close is applied
			if got := l.Online(); got != 1 {
				t.Errorf("Online() = %d, want 1", got)
			}
			if got, want := l.Rooms(), []RoomInfo{{Name: "alpha", Users: 1}}; !slices.Equal(got, want) {
				t.Errorf("Rooms() = %v, want %v", got, want)
			}
			register(t, l, "BOB") // the name is free again
		})
	}
}

func TestClose(t *testing.T) {
	l := newLobby(t, Config{})
	alice, bob := inAlpha(t, l)
	bob.Close()
	bob.Close() // twice is fine
	line(t, alice, KindSystem, "bob left alpha")
	if _, err := bob.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
	register(t, l, "bob")
}

func TestChat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string // what everybody sees
	}{
		{"plain", "hello", "hello"},
		{"leading spaces kept, trailing cut", "  hello  ", "  hello"},
		{"double slash", "//join alpha", "/join alpha"},
		{"double slash alone", "//", "/"},
		{"double slash after spaces", " \t//x", "/x"},
		{"triple slash", "///x", "//x"},
		{"bare command word is chat", "list", "list"},
		{"bare join is chat", "join beta", "join beta"},
		{"escape removed", "he\x1b[31mllo\x1b[0m", "hello"},
		{"tab expanded", "a\tb", "a    b"},
		{"a pasted block keeps its lines", "a\nb", "a\nb"},
		{"every kind of break", "a\r\nb\rc\u2028d\u0085e\vf", "a\nb\nc\nd\ne\nf"},
		{"blank lines around a block go", "\n \n  a\n\n b \n\t\n", "  a\n\n b"},
		{"each line cleaned", "x\x1b]0;title\nstill title\x07y\n\x1b[2Jz", "xy\nz"},
		{"an escape's payload is no line", "a\x1bP\nq\x1b\\b", "ab"},
		{"exactly the lines", strings.Repeat("l\n", MaxLines-1) + "l", strings.Repeat("l\n", MaxLines-1) + "l"},
		{"exactly the limit", strings.Repeat("x", MaxMessageLen), strings.Repeat("x", MaxMessageLen)},
		{"limit in wide characters", strings.Repeat("界", MaxMessageLen), strings.Repeat("界", MaxMessageLen)},
		{"over the limit before cleaning", "\x1b[1m" + strings.Repeat("y", MaxMessageLen) + "\x1b[0m", strings.Repeat("y", MaxMessageLen)},
		{"zero-width removed", "\u200bhi\ufeff there\u2060", "hi there"},
		{"zero-width then spaces cut", "hi \u200b ", "hi"},
		{"emoji sequence kept", "👩\u200d💻 at work", "👩\u200d💻 at work"},
		{"flag with tags kept", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"},
		{"one visible character is enough", "\u200b.\u200b", "."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLobby(t, Config{})
			alice, bob := inAlpha(t, l)
			exec(t, alice, tc.line)
			for _, s := range []*Session{alice, bob} { // authors see their own lines too
				m := line(t, s, KindChat, tc.want)
				if m.From != "alice" || m.Room != "alpha" {
					t.Errorf("%s got %+v, want a line from alice in alpha", s.Name(), m)
				}
			}
		})
	}
}

func TestChatTooManyLines(t *testing.T) {
	l := newLobby(t, Config{})
	alice := register(t, l, "alice")
	bob := register(t, l, "bob")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")
	line(t, alice, KindSystem, "bob joined alpha")
	exec(t, alice, strings.Repeat("line\n", MaxLines)+"one more")
	notice(t, alice, true, fmt.Sprintf("That message has %d lines; the limit is %d. It was not sent.", MaxLines+1, MaxLines))
	exec(t, alice, strings.Repeat("x", MaxMessageLen/2)+"\n"+strings.Repeat("y", MaxMessageLen/2))
	notice(t, alice, true, fmt.Sprintf("That message is %d characters long; the limit is %d. It was not sent.", MaxMessageLen+1, MaxMessageLen))
	barrier(t, l)
	quiet(t, alice)
	quiet(t, bob) // refused whole, never cut and sent
}

func TestChatTooLong(t *testing.T) {
	tests := []struct {
		name string
		line string
		n    int
	}{
		{"one over", strings.Repeat("x", MaxMessageLen+1), MaxMessageLen + 1},
		{"wide characters", strings.Repeat("界", MaxMessageLen+7), MaxMessageLen + 7},
		{"huge", strings.Repeat("z", 200_000), 200_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLobby(t, Config{})
			alice, bob := inAlpha(t, l)
			exec(t, alice, tc.line)
			notice(t, alice, true, fmt.Sprintf("That message is %d characters long; the limit is %d. It was not sent.", tc.n, MaxMessageLen))
			barrier(t, l)
			quiet(t, alice)
			quiet(t, bob) // refused whole, never cut and sent
		})
	}
}
