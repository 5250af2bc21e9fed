package lobby

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// isNotice matches a notice containing text.
func isNotice(text string) func(Event) bool {
	return func(ev Event) bool { return ev.Kind == EventNotice && strings.Contains(ev.Text, text) }
}

// isEntered matches the event that says the session is in room.
func isEntered(room string) func(Event) bool {
	return func(ev Event) bool { return ev.Kind == EventEntered && ev.Room == room }
}

// waitNotice reads s's events up to a notice containing text, and returns
// it.
func waitNotice(t *testing.T, s *Session, text string) Event {
	t.Helper()
	seen := until(t, s, isNotice(text))
	return seen[len(seen)-1]
}

// orderLobby is a lobby for keeping order: keys read by fakeParseKey, no
// flood limit (the fixed clock would never give tokens back), and the clock
// clk when not nil.
func orderLobby(t *testing.T, clk *clock, cfg Config) *Lobby {
	t.Helper()
	cfg.FloodRate = -1
	if clk != nil {
		cfg.Now = clk.Now
	}
	return identityLobby(t, cfg)
}

// guest signs in a session without a key from addr as name.
func guest(t *testing.T, l *Lobby, addr, name string) *Session {
	t.Helper()
	s, err := l.Open(context.Background(), Visitor{Addr: addr})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Claim(context.Background(), name); err != nil {
		t.Fatalf("Claim(%q): %v", name, err)
	}
	entered(t, s, "")
	return s
}

// operator signs in a server operator's session with key as name.
func operator(t *testing.T, l *Lobby, key, name string) *Session {
	t.Helper()
	s := openKeyedOp(t, l, key)
	if err := s.Claim(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	entered(t, s, "")
	return s
}

// alphaWithPeople is the usual cast: alice (registered, key 1) owns alpha,
// where bob (registered, key 2) and carol (a guest) are too.
func alphaWithPeople(t *testing.T, l *Lobby) (alice, bob, carol *Session) {
	t.Helper()
	alice = registered(t, l, fp(1), "alice")
	createRoom(t, alice, "alpha")
	bob = registered(t, l, fp(2), "bob")
	joinRoom(t, bob, "alpha")
	carol = guest(t, l, "198.51.100.7:5000", "carol")
	joinRoom(t, carol, "alpha")
	barrier(t, l)
	drain(alice)
	drain(bob)
	return alice, bob, carol
}

// drain throws away what s has been sent so far.
func drain(s *Session) {
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// orderSnapshot is the state keeping order keeps, for before-and-after
// comparisons: bans, mutes, modes, and every room's meta.
func orderSnapshot(l *Lobby) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, set := range []restrictions{l.order.bans, l.order.mutes} {
		var keys []string
		for scope, xs := range set {
			for _, x := range xs {
				keys = append(keys, fmt.Sprintf("%s|%+v", roomName(scope), *x))
			}
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, "%q\n", keys)
	}
	fmt.Fprintf(&b, "registered-only %v\n", l.order.registeredOnly)
	for _, r := range sortedRooms(l.rooms) {
		fmt.Fprintf(&b, "%s %+v %d\n", r.name, r.meta, len(r.members))
	}
	return b.String()
}

func TestOwnerIsTheRegisteredCreator(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice := registered(t, l, fp(1), "alice")
	createRoom(t, alice, "alpha")
	g := guest(t, l, "198.51.100.7:5000", "gus")
	createRoom(t, g, "beta")
	l.mu.Lock()
	defer l.mu.Unlock()
	if o := l.rooms["alpha"].meta.Owner; o != "alice" {
		t.Errorf("alpha's owner = %q, want alice", o)
	}
	if o := l.rooms["beta"].meta.Owner; o != "" {
		t.Errorf("a guest's room has owner %q, want none", o)
	}
}

// TestNoRightNoChange: every moderation command typed by someone without
// the right to it is refused in one sentence, and changes nothing.
func TestNoRightNoChange(t *testing.T) {
	tests := []struct {
		who, line, want string
		lobby           bool // typed in the Lobby
	}{
		{"bob", "/kick carol", "Only the owner of alpha, its room operators and server operators may kick people out of it.", false},
		{"bob", "/ban carol 1h spam", "Only the owner of alpha, its room operators and server operators may ban people.", false},
		{"bob", "/unban carol", "may lift bans.", false},
		{"bob", "/bans", "may see the bans.", false},
		{"bob", "/mute carol 10m", "may mute people.", false},
		{"bob", "/unmute carol", "may lift mutes.", false},
		{"bob", "/private on", "may make it private or public.", false},
		{"bob", "/invite dave", "may invite people.", false},
		{"bob", "/op carol", "Only the owner of alpha and server operators may name its room operators.", false},
		{"bob", "/deop carol", "Only the owner of alpha and server operators may name its room operators.", false},
		{"bob", "/owner bob", "Only server operators may give it an owner.", false},
		{"alice", "/owner bob", "Only server operators may give it an owner.", false},
		{"bob", "/mode registered on", "Only the owner of alpha and server operators may switch its raid guard.", false},
		{"alice", "/announce hello", "Only server operators may announce.", false},
		{"carol", "/kick bob", "may kick people out of it.", false},
		{"alice", "/ban bob", "In the Lobby, /ban acts on the whole server, which only server operators may do.", true},
		{"alice", "/mute bob", "In the Lobby, /mute acts on the whole server", true},
		{"alice", "/bans", "In the Lobby, /bans acts on the whole server", true},
		{"alice", "/mode registered on", "In the Lobby, /mode acts on the whole server", true},
		{"alice", "/kick bob", "/kick works in a room: join it first.", true},
		{"alice", "/private on", "/private works in a room: join it first.", true},
		{"alice", "/invite bob", "/invite works in a room: join it first.", true},
	}
	for _, tc := range tests {
		t.Run(tc.who+" "+tc.line, func(t *testing.T) {
			l := orderLobby(t, nil, Config{})
			alice, bob, carol := alphaWithPeople(t, l)
			registered(t, l, fp(4), "dave")
			who := map[string]*Session{"alice": alice, "bob": bob, "carol": carol}[tc.who]
			if tc.lobby {
				exec(t, who, "/leave")
				until(t, who, isNotice("You left room alpha."))
			}
			barrier(t, l)
			drain(who)
			before := orderSnapshot(l)
			exec(t, who, tc.line)
			ev := notice(t, who, true, tc.want)
			if strings.Count(ev.Text, ".") != 1 || strings.Contains(ev.Text, "\n") {
				t.Errorf("refusal %q is not one sentence", ev.Text)
			}
			barrier(t, l)
			quiet(t, who)
			if after := orderSnapshot(l); after != before {
				t.Errorf("state changed:\n%s\nwant\n%s", after, before)
			}
		})
	}
}

func TestKick(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	exec(t, alice, "/kick bob stop shouting")
	entered(t, bob, "")
	notice(t, bob, true, "alice kicked you out of alpha: stop shouting.")
	until(t, carol, isLine("alice kicked bob: stop shouting"))
	if bob.Room() != "" {
		t.Errorf("bob is in %q after the kick", bob.Room())
	}
	// A kick is not a ban: bob may come back.
	joinRoom(t, bob, "alpha")

	// A room operator may kick a guest, not the owner, nor another op.
	exec(t, alice, "/op bob")
	until(t, alice, isLine("alice made bob a room operator"))
	dave := registered(t, l, fp(4), "dave")
	joinRoom(t, dave, "alpha")
	exec(t, alice, "/op dave")
	until(t, alice, isLine("alice made dave a room operator"))
	barrier(t, l)
	drain(bob)
	for _, tc := range []struct{ line, want string }{
		{"/kick alice", "You cannot kick alice, who is the owner of alpha: you do not outrank them."},
		{"/kick dave", "You cannot kick dave, who is a room operator of alpha: you do not outrank them."},
		{"/kick bob", "You cannot kick yourself; /leave takes you back to the Lobby."},
		{"/kick nobody", "Nobody is called nobody: nobody online has the name, and it is not registered."},
		{"/kick no\x1b[2Jbody", "Nobody is called no"},
		{"/kick", "Usage: /kick NAME [reason]"},
		{"/kick carol " + strings.Repeat("x", MaxMessageLen+1), "That reason is 2001 characters long; the limit is 2000, as for a message."},
	} {
		exec(t, bob, tc.line)
		notice(t, bob, true, tc.want)
	}
	exec(t, bob, "/kick carol")
	until(t, carol, isEntered(""))
	notice(t, carol, true, "bob kicked you out of alpha.")
	exec(t, bob, "/kick carol")
	waitNotice(t, bob, "carol is not in alpha.")
}

func TestBanHoldsKeysAndExpires(t *testing.T) {
	clk := &clock{t: fixedTime}
	store := NewMemoryStore()
	l := orderLobby(t, clk, Config{Store: store})
	alice, bob, carol := alphaWithPeople(t, l)

	exec(t, alice, "/ban bob 10m spam")
	entered(t, bob, "")
	notice(t, bob, true, "alice banned you from alpha until 2026-03-14 15:19 UTC: spam.")
	until(t, carol, isLine("alice banned bob for 10m: spam"))
	exec(t, bob, "/join alpha")
	notice(t, bob, true, "You are banned from alpha by alice until 2026-03-14 15:19 UTC: spam.")

	// The same key under another name is still banned; another key is not.
	bob.Close()
	robert := signIn(t, l, fp(2), "robert")
	exec(t, robert, "/join alpha")
	notice(t, robert, true, "You are banned from alpha by alice until")
	other := signIn(t, l, fp(3), "bobby")
	joinRoom(t, other, "alpha")

	exec(t, alice, "/bans")
	ev := waitNotice(t, alice, "Banned in alpha:\n  bob "+RegisteredMark+" (key "+ShortFingerprint(fp(2))+") by alice, until 2026-03-14 15:19 UTC: spam")
	if strings.Contains(ev.Text, "Muted") {
		t.Errorf("/bans lists mutes when there are none: %q", ev.Text)
	}

	// It survives a restart, and runs out by the clock, not a timer.
	for _, s := range []*Session{robert, other, alice, carol} {
		s.Close()
	}
	barrier(t, l)
	before := orderSnapshot(l)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	l = orderLobby(t, clk, Config{Store: store})
	if after := orderSnapshot(l); after != before {
		t.Fatalf("after a restart:\n%s\nwant\n%s", after, before)
	}
	robert = signIn(t, l, fp(2), "robert")
	exec(t, robert, "/join alpha")
	notice(t, robert, true, "You are banned from alpha")
	clk.Advance(10 * time.Minute)
	joinRoom(t, robert, "alpha")
	exec(t, robert, "/leave")
	until(t, robert, isNotice("You left room alpha."))
	barrier(t, l)
	if s := orderSnapshot(l); !strings.HasPrefix(s, "[]\n") {
		t.Errorf("the ban that ran out is still kept after the next join:\n%s", s)
	}

	// Lifted by /unban.
	alice = signIn(t, l, fp(1), "alice")
	joinRoom(t, alice, "alpha")
	exec(t, alice, "/ban robert")
	until(t, alice, isLine("alice banned robert"))
	exec(t, robert, "/join alpha")
	notice(t, robert, true, "You are banned from alpha by alice until it is lifted.")
	exec(t, alice, "/unban ROBERT")
	until(t, alice, isLine("alice lifted the ban on robert"))
	joinRoom(t, robert, "alpha")
	exec(t, alice, "/unban robert")
	waitNotice(t, alice, "Nobody called robert is banned in alpha. /bans lists who is.")
}

func TestGuestBanHoldsTheAddress(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, _, carol := alphaWithPeople(t, l)
	exec(t, alice, "/ban carol")
	entered(t, carol, "")
	notice(t, carol, true, "alice banned you from alpha until it is lifted.")
	// Another guest on her address is held; a key on it is not.
	again := guest(t, l, "198.51.100.7:6000", "carla")
	exec(t, again, "/join alpha")
	notice(t, again, true, "You are banned from alpha by alice")
	keyed := openKeyed(t, l, fp(8)) // 192.0.2.1
	keyed.Close()
	withKey, err := l.Open(context.Background(), Visitor{Key: fp(8), Addr: "198.51.100.7:7000"})
	if err != nil {
		t.Fatal(err)
	}
	defer withKey.Close()
	if err := withKey.Claim(context.Background(), "keyed"); err != nil {
		t.Fatal(err)
	}
	entered(t, withKey, "")
	joinRoom(t, withKey, "alpha")
	exec(t, alice, "/bans")
	waitNotice(t, alice, "carol (a guest's address) by alice")
}

// TestBadModerationInput: every refusal of bad input is one sentence and
// changes nothing.
func TestBadModerationInput(t *testing.T) {
	tests := []struct{ line, want string }{
		{"/ban bob -5m", "A duration cannot be negative, as -5m is: give a whole number and a unit (m, h, d or w), such as 10m, 2h or 7d."},
		{"/ban bob 99999d", "A ban or a mute lasts 366d at most, and 99999d is longer; leave the duration out for one that lasts until it is lifted."},
		{"/ban bob 5x spam", "A duration is a whole number and a unit (m, h, d or w), such as 10m, 2h or 7d; 5x is not one."},
		{"/ban bob 0m", "A duration of 0m is no time at all"},
		{"/ban bob 99999999999999999999999m", "and 99999999999999999999999m is longer"},
		{"/mute bob abc", "A duration is a whole number and a unit (m, h, d or w), such as 10m, 2h or 7d; abc is not one."},
		{"/mute bob 10m because", "Usage: /mute NAME [DURATION]"},
		{"/ban bob 1h " + strings.Repeat("x", 10<<10), "That reason is 10240 characters long; the limit is 2000"},
		{"/ban alice", "You cannot ban yourself."},
		{"/mute alice", "You cannot mute yourself."},
		{"/ban nobody", "Nobody is called nobody"},
		{"/ban", "Usage: /ban NAME [DURATION] [reason]"},
		{"/unban bob", "Nobody called bob is banned in alpha."},
		{"/unmute bob", "Nobody called bob is muted in alpha."},
		{"/op carol", "carol is not a registered name"},
		{"/op alice", "alice owns alpha already."},
		{"/deop bob", "bob is not a room operator of alpha."},
		{"/invite bob", "bob is in alpha already."},
		{"/private maybe", "Usage: /private on|off"},
		{"/private off", "alpha is public already."},
		{"/mode registered off", "The raid guard is off for alpha already"},
		{"/mode moderated on", "Usage: /mode registered on|off"},
	}
	for _, tc := range tests {
		t.Run(tc.line[:min(len(tc.line), 30)], func(t *testing.T) {
			l := orderLobby(t, nil, Config{})
			alice, bob, carol := alphaWithPeople(t, l)
			before := orderSnapshot(l)
			exec(t, alice, tc.line)
			ev := notice(t, alice, true, tc.want)
			if strings.Contains(ev.Text, "\n") {
				t.Errorf("refusal %q is more than a line", ev.Text)
			}
			barrier(t, l)
			for _, s := range []*Session{alice, bob, carol} {
				quiet(t, s)
			}
			if after := orderSnapshot(l); after != before {
				t.Errorf("state changed:\n%s\nwant\n%s", after, before)
			}
		})
	}
}

// TestOwnerOutrankedOnlyByOperators: a room operator cannot ban the owner;
// a ban that would hold the banner's own key is refused; a server operator
// can ban the owner from the room.
func TestOwnerOutrankedOnlyByOperators(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, _ := alphaWithPeople(t, l)
	exec(t, alice, "/op bob")
	until(t, bob, isLine("alice made bob a room operator"))
	exec(t, bob, "/ban alice")
	notice(t, bob, true, "You cannot ban alice, who is the owner of alpha: you do not outrank them.")
	// Another name on bob's own key.
	twin := signIn(t, l, fp(2), "bobtwin")
	joinRoom(t, twin, "alpha")
	exec(t, bob, "/ban bobtwin")
	waitNotice(t, bob, "You cannot ban bobtwin: it would hold your own key or address too.")

	root := operator(t, l, fp(9), "root")
	joinRoom(t, root, "alpha")
	exec(t, root, "/ban alice 1h owner gone rogue")
	until(t, alice, isEntered(""))
	notice(t, alice, true, "root banned you from alpha")
	exec(t, alice, "/ban root")
	notice(t, alice, true, "/ban acts on the whole server")
}

func TestMute(t *testing.T) {
	clk := &clock{t: fixedTime}
	l := orderLobby(t, clk, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	exec(t, alice, "/mute carol 10m")
	until(t, bob, isLine("alice muted carol for 10m"))
	waitNotice(t, carol, "alice muted you in alpha until 2026-03-14 15:19 UTC: you may read, not speak.")
	exec(t, carol, "let me talk")
	waitNotice(t, carol, "alice muted you here until 2026-03-14 15:19 UTC: you may read, not speak, so that was not sent.")
	// She still reads.
	exec(t, bob, "you are muted")
	until(t, carol, isLine("you are muted"))
	// It runs out by the clock.
	clk.Advance(10 * time.Minute)
	exec(t, carol, "back")
	until(t, bob, isLine("back"))

	exec(t, alice, "/mute carol")
	until(t, carol, isLine("alice muted carol"))
	exec(t, carol, "hm")
	waitNotice(t, carol, "until it is lifted: you may read, not speak, so that was not sent")
	exec(t, alice, "/unmute carol")
	until(t, carol, isNotice("alice lifted your mute: you may speak again."))
	exec(t, carol, "free")
	until(t, bob, isLine("free"))
}

// TestRaidGuard: with /mode registered on, guests read but cannot speak,
// in one room (its owner) or everywhere (a server operator).
func TestRaidGuard(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	exec(t, alice, "/mode registered on")
	until(t, carol, isLine("alice switched on the raid guard: only registered names may speak in alpha for now; guests may read"))
	exec(t, carol, "spam")
	notice(t, carol, true, "Only registered names may speak in alpha for now (a guard against raids), so that was not sent; you may read.")
	exec(t, bob, "registered people speak")
	until(t, carol, isLine("registered people speak"))
	exec(t, alice, "/mode registered off")
	until(t, carol, isLine("alice let guests speak in alpha again"))
	exec(t, carol, "thanks")
	until(t, bob, isLine("thanks"))

	root := operator(t, l, fp(9), "root")
	exec(t, root, "/mode registered on")
	waitNotice(t, carol, "root switched on the raid guard for the whole chat")
	exec(t, carol, "spam")
	notice(t, carol, true, "Only registered names may speak for now (a guard against raids)")
	exec(t, bob, "still here")
	until(t, carol, isLine("still here"))
	exec(t, root, "/mode registered off")
	waitNotice(t, carol, "root let guests speak again everywhere.")
	exec(t, carol, "ok")
	until(t, bob, isLine("ok"))
}

func TestRoles(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	exec(t, alice, "/op BOB")
	until(t, carol, isLine("alice made bob a room operator"))
	exec(t, alice, "/op bob")
	waitNotice(t, alice, "bob is a room operator of alpha already.")
	l.mu.Lock()
	mark := l.roomMarkLocked(l.members[bob.ID()], l.rooms["alpha"])
	owner := l.roomMarkLocked(l.members[alice.ID()], l.rooms["alpha"])
	l.mu.Unlock()
	if mark != "op" || owner != "owner" {
		t.Errorf("marks: bob %q, alice %q; want op, owner", mark, owner)
	}
	exec(t, alice, "/deop bob")
	until(t, carol, isLine("alice took bob's room operator rights"))

	root := operator(t, l, fp(9), "root")
	joinRoom(t, root, "alpha")
	exec(t, root, "/owner bob")
	until(t, carol, isLine("root made bob the owner of alpha"))
	exec(t, alice, "/kick carol")
	waitNotice(t, alice, "Only the owner of alpha")

	// A name let go takes its roles with it.
	exec(t, bob, "/unregister")
	waitNotice(t, bob, "no longer registered")
	barrier(t, l)
	l.mu.Lock()
	if o := l.rooms["alpha"].meta.Owner; o != "" {
		t.Errorf("owner after unregister = %q", o)
	}
	l.mu.Unlock()
}

func TestAnnounce(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	root := operator(t, l, fp(9), "root")
	exec(t, root, "/announce maintenance at \x1b[31m6pm")
	for _, s := range []*Session{alice, bob, carol, root} {
		waitNotice(t, s, "Announcement from root: maintenance at 6pm")
	}
	exec(t, root, "/announce \u200b")
	notice(t, root, true, "Usage: /announce TEXT")
}

// TestServerBan: a server operator in the Lobby bans from the whole
// server: the session ends, its key is refused at the door whatever name it
// would ask for, and others on the same address are not.
func TestServerBan(t *testing.T) {
	clk := &clock{t: fixedTime}
	l := orderLobby(t, clk, Config{})
	_, bob, carol := alphaWithPeople(t, l)
	dave := guest(t, l, "198.51.100.7:6000", "dave") // carol's address
	eve := registered(t, l, fp(5), "eve")            // bob's address
	root := operator(t, l, fp(9), "root")

	exec(t, root, "/ban bob 1h raiding")
	notice(t, root, false, "You banned bob from the server for 1h (until 2026-03-14 16:09 UTC): raiding.")
	until(t, carol, isLine("root banned bob from the server for 1h: raiding"))
	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
	defer cancel()
	var err error
	for err == nil {
		_, err = bob.Next(ctx)
	}
	if !errors.Is(err, ErrBanned) || err.Error() != "you are banned from this server by root until 2026-03-14 16:09 UTC: raiding" {
		t.Fatalf("bob's session ended with %v", err)
	}
	_, err = l.Open(ctx, Visitor{Key: fp(2), Addr: "203.0.113.9:1"})
	if !errors.Is(err, ErrBanned) {
		t.Fatalf("Open with the banned key = %v, want ErrBanned", err)
	}
	exec(t, eve, "/whois eve") // eve, on bob's address, goes on
	notice(t, eve, false, "eve")

	// A guest's server ban holds the guests of its address.
	exec(t, root, "/ban carol")
	for _, s := range []*Session{carol, dave} {
		for err = nil; err == nil; {
			_, err = s.Next(ctx)
		}
		if !errors.Is(err, ErrBanned) {
			t.Errorf("%v", err)
		}
	}
	if _, err := l.Open(ctx, Visitor{Addr: "198.51.100.7:9"}); !errors.Is(err, ErrBanned) {
		t.Errorf("a guest from the banned address: %v", err)
	}
	if s, err := l.Open(ctx, Visitor{Addr: "198.51.100.7:9", Key: fp(6)}); err != nil {
		t.Errorf("a key from the banned address: %v", err)
	} else {
		s.Close()
	}
	// Operators are never kept out.
	if s, err := l.Open(ctx, Visitor{Addr: "198.51.100.7:9", Operator: true}); err != nil {
		t.Errorf("an operator from the banned address: %v", err)
	} else {
		s.Close()
	}

	exec(t, root, "/bans")
	waitNotice(t, root, "Banned from the server:\n  bob "+RegisteredMark+" (key "+ShortFingerprint(fp(2))+") by root, until 2026-03-14 16:09 UTC: raiding\n  carol (address 198.51.100.7) by root, until it is lifted")

	// The ban on bob runs out; carol's is lifted.
	clk.Advance(time.Hour)
	s, err := l.Open(ctx, Visitor{Key: fp(2)})
	if err != nil {
		t.Fatalf("Open after the ban ran out: %v", err)
	}
	s.Close()
	exec(t, root, "/unban carol")
	waitNotice(t, root, "You lifted the server-wide ban on carol.")
	s, err = l.Open(ctx, Visitor{Addr: "198.51.100.7:9"})
	if err != nil {
		t.Fatalf("Open after /unban: %v", err)
	}
	s.Close()
}

// TestServerBanDecidedInTheLog: a session that knocks while the ban is on
// its way through the log is refused by the open's applier, and holds no
// slot.
func TestServerBanDecidedInTheLog(t *testing.T) {
	log := &slowLog{MemoryLog: NewMemoryLog()}
	l := orderLobby(t, nil, Config{Log: log, MaxSessions: 10})
	root := operator(t, l, fp(9), "root")
	bob := registered(t, l, fp(2), "bob")
	barrier(t, l)
	log.hold()
	exec(t, root, "/ban bob")
	l.mu.Lock()
	proposed := l.proposed
	l.mu.Unlock()
	opened := make(chan error, 1)
	go func() {
		s, err := l.Open(context.Background(), Visitor{Key: fp(2)})
		if err == nil {
			s.Close()
		}
		opened <- err
	}()
	// The open is proposed after the ban (the door saw no ban yet).
	testutil.Eventually(t, "the open to be proposed", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.proposed > proposed
	})
	log.let()
	if err := <-opened; !errors.Is(err, ErrBanned) {
		t.Fatalf("Open = %v, want ErrBanned", err)
	}
	bob.Close()
	barrier(t, l)
	if n := l.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1 (root): a refused open holds no slot", n)
	}
}

// TestModerationAcrossNodes: an owner on node a kicks, bans and mutes a
// member on node b, through the one log.
func TestModerationAcrossNodes(t *testing.T) {
	log := NewMemoryLog()
	a := orderLobby(t, nil, Config{Log: log, Node: "a"})
	b := orderLobby(t, nil, Config{Log: log, Node: "b"})
	alice := registered(t, a, fp(1), "alice")
	createRoom(t, alice, "alpha")
	bob := registered(t, b, fp(2), "bob")
	joinRoom(t, bob, "alpha")
	until(t, alice, isLine("bob joined alpha"))

	exec(t, alice, "/kick bob off you go")
	entered(t, bob, "")
	notice(t, bob, true, "alice kicked you out of alpha: off you go.")
	joinRoom(t, bob, "alpha")
	until(t, alice, isLine("bob joined alpha"))
	exec(t, alice, "/ban bob 2h")
	entered(t, bob, "")
	notice(t, bob, true, "alice banned you from alpha until")
	exec(t, bob, "/join alpha")
	notice(t, bob, true, "You are banned from alpha by alice")
	if r := bob.Room(); r != "" {
		t.Errorf("bob is in %q on b", r)
	}
	testutil.Eventually(t, "both nodes to know the ban", func() bool {
		return strings.Contains(orderSnapshot(a), "bob") && strings.Contains(orderSnapshot(b), "bob")
	})
	if sa, sb := orderSnapshot(a), orderSnapshot(b); sa != sb {
		t.Errorf("the nodes disagree:\na: %s\nb: %s", sa, sb)
	}
}

func TestOrderHelp(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	s := register(t, l, "alice")
	exec(t, s, "/commands")
	ev := notice(t, s, false, "Keeping order (room owners, room operators, server operators): /kick /ban /unban /bans /mute /unmute /private /invite /op /deop /owner /mode /announce; /commands order explains them.")
	if strings.Contains(ev.Text, "/ban NAME") {
		t.Errorf("/commands lists keeping order in full:\n%s", ev.Text)
	}
	exec(t, s, "/help ORDER")
	notice(t, s, false, "  /ban NAME [DURATION] [reason]")
}

// TestTrail: every action writes one structured log record with who did
// what to whom (keys, address), why and until when; never what was said.
func TestTrail(t *testing.T) {
	var buf syncBuffer
	l := orderLobby(t, nil, Config{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	alice, _, carol := alphaWithPeople(t, l)
	exec(t, carol, "my secret words")
	until(t, alice, isLine("my secret words"))
	exec(t, alice, "/ban bob 2h spam")
	until(t, alice, isLine("alice banned bob for 2h: spam"))
	exec(t, alice, "/kick carol")
	until(t, alice, isLine("alice kicked carol"))
	barrier(t, l)

	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "moderation" {
			records = append(records, rec)
		}
	}
	if strings.Contains(buf.String(), "secret words") {
		t.Error("the log holds what someone said")
	}
	want := []map[string]any{
		{"action": "ban", "by": "alice", "by_key": fp(1), "scope": "alpha", "target": "bob", "target_keys": fp(2), "target_addr": "", "reason": "spam", "until": "2026-03-14T17:09:26Z"},
		{"action": "kick", "by": "alice", "by_key": fp(1), "scope": "alpha", "target": "carol", "target_keys": "", "target_addr": "198.51.100.7"},
	}
	if len(records) != len(want) {
		t.Fatalf("%d moderation records, want %d: %v", len(records), len(want), records)
	}
	for i, w := range want {
		for k, v := range w {
			if records[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v", i, k, records[i][k], v)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the lobby's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
