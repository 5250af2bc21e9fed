package lobby

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// direct reads s's events up to the first direct message with this text.
func direct(t *testing.T, s *Session, text string) Event {
	t.Helper()
	evs := until(t, s, func(ev Event) bool { return ev.Kind == EventDirect && ev.Msg.Text == text })
	return evs[len(evs)-1]
}

func TestDirectRefusals(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	// A registered name whose owner is away.
	bob := registered(t, l, fp(2), "bob")
	bob.Close()
	guest := register(t, l, "guest")

	tests := []struct {
		who  *Session
		line string
		want string
	}{
		{alice, "/msg", "Usage: /msg NAME text"},
		{alice, "/msg @", "Usage: /msg NAME text"},
		{alice, "/msg alice hi", "That is you"},
		{alice, "/msg ALICE hi", "That is you"},
		{alice, "/msg nobody hi", "Nobody called nobody is online, and the name is not registered"},
		{alice, "/msg bad\x1bname hi", "Nobody is called"},
		{alice, "/msg guest \u200b", "nothing visible"},
		{alice, "/msg guest " + strings.Repeat("x", MaxMessageLen+1), "the limit is"},
		{guest, "/msg bob hi", "bob is not online, and messages from a guest are not kept"},
		{guest, "/reply hi", "Nobody has sent you a direct message"},
		{guest, "/reply", "Usage: /reply text"},
	}
	for _, tt := range tests {
		exec(t, tt.who, tt.line)
		ev := next(t, tt.who)
		if ev.Kind != EventNotice || !ev.Error || !strings.Contains(ev.Text, tt.want) {
			t.Errorf("%s: %q got %s, want an error notice containing %q", tt.who.Name(), tt.line, describe(ev), tt.want)
		}
	}
	barrier(t, l)
	quiet(t, alice)
	quiet(t, guest)
}

// TestDirectOnlyToRecipient: a direct message reaches its recipient, and
// the sender's echo, and nobody else, not even people in the sender's room.
func TestDirectOnlyToRecipient(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	bob := registered(t, l, fp(2), "bob")
	carol := registered(t, l, fp(3), "carol")
	createRoom(t, alice, "alpha")
	joinRoom(t, carol, "alpha")
	line(t, alice, KindSystem, "carol joined alpha")

	exec(t, alice, "/dm bob psst")
	got := direct(t, bob, "psst")
	if got.With != "alice" || got.Msg.From != "alice" {
		t.Errorf("bob got %+v from %q, want a direct message with alice", got, got.Msg.From)
	}
	echo := next(t, alice)
	if echo.Kind != EventDirect || echo.Msg.From != "alice" || echo.With != "bob" || echo.Msg.Text != "psst" {
		t.Errorf("alice's echo = %s with %q, want her own line with bob", describe(echo), echo.With)
	}
	barrier(t, l)
	quiet(t, carol)
	quiet(t, alice)
	if got := alice.Room(); got != "alpha" {
		t.Errorf("alice is in %q after /msg, want alpha: the sender stays where she is", got)
	}
	// Only the parties have it in their room list.
	wantCounts(t, l, bob, "@alice", 1, 1)
	wantCounts(t, l, alice, "@bob", 0, 0)
	for _, ri := range carol.Rooms() {
		if ri.With != "" {
			t.Errorf("carol's room list has %+v", ri)
		}
	}
	for _, ri := range l.Rooms() {
		if ri.With != "" || strings.Contains(ri.Name, "@") {
			t.Errorf("the chat's room list has %+v", ri)
		}
	}
	exec(t, carol, "/list")
	if ev := next(t, carol); strings.Contains(ev.Text, "@") {
		t.Errorf("/list = %q shows a conversation", ev.Text)
	}
	// Nobody else can join it or read it: "@bob" is carol's own
	// conversation with bob.
	exec(t, carol, "/join @alice@bob")
	notice(t, carol, true, "Nobody is called alice@bob")
	if h, err := carol.Older(context.Background(), "@alice", 100); !errors.Is(err, ErrNoSuchRoom) || len(h.Lines) != 0 {
		t.Errorf("carol reads @alice: %v, %v; want ErrNoSuchRoom", h, err)
	}
	exec(t, carol, "/join @bob")
	if ev := until(t, carol, func(ev Event) bool { return ev.Kind == EventEntered }); len(ev[len(ev)-1].History) != 0 {
		t.Errorf("carol's conversation with bob shows %q", texts(ev[len(ev)-1].History))
	}
	if h, err := bob.Older(context.Background(), "@alice", 100); err != nil || len(h.Lines) != 1 {
		t.Errorf("bob reads @alice: %v, %v; want the one line", h, err)
	}

	// /reply answers the last one; bob stays in the Lobby.
	exec(t, bob, "/reply who is this?")
	if ev := direct(t, alice, "who is this?"); ev.With != "bob" {
		t.Errorf("reply reached alice with %q", ev.With)
	}
	wantCounts(t, l, bob, "@alice", 0, 0) // answering reads it
	wantCounts(t, l, alice, "@bob", 1, 1)
}

// TestDirectAway: a message to a registered user who is away waits for
// them: counted in their room list, in the conversation's history, and
// told at sign-in.
func TestDirectAway(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	l := identityLobby(t, Config{Store: store, FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	bob := registered(t, l, fp(2), "bob")
	bob.Close()

	for _, text := range []string{"are you there?", "call me"} {
		exec(t, alice, "/msg bob "+text)
		if ev := direct(t, alice, text); ev.With != "bob" {
			t.Errorf("echo with %q", ev.With)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	l2 := identityLobby(t, Config{Store: store, FloodRate: -1})
	bob = openKeyed(t, l2, fp(2))
	if err := bob.Claim(ctx, ""); err != nil {
		t.Fatal(err)
	}
	entered(t, bob, "")
	notice(t, bob, false, "While you were away: 2 direct messages from alice.")
	wantCounts(t, l2, bob, "@alice", 2, 2)
	if ri := roomInfo(t, bob, "@alice"); ri.With != "alice" || ri.Users != 0 {
		t.Errorf("@alice = %+v, want With alice, offline", ri)
	}

	exec(t, bob, "/msg alice")
	ev := entered(t, bob, "@alice")
	if ev.With != "alice" || !slices.Equal(texts(ev.History), []string{"are you there?", "call me"}) || ev.NewFrom != 1 {
		t.Errorf("entered %q with %q, history %q, new from %d", ev.Room, ev.With, texts(ev.History), ev.NewFrom)
	}
	if got := bob.Room(); got != "@alice" {
		t.Errorf("Room() = %q, want @alice", got)
	}
	wantCounts(t, l2, bob, "@alice", 0, 0)
	exec(t, bob, "/msg alice")
	notice(t, bob, false, "You are already in your conversation with alice.")

	// In the conversation, a plain line goes to alice, who is back now.
	alice = signIn(t, l2, fp(1), "alice")
	if ri := roomInfo(t, bob, "@alice"); ri.Users != 1 {
		t.Errorf("@alice shows %d online, want 1", ri.Users)
	}
	exec(t, bob, "here now")
	if ev := until(t, bob, isLine("here now")); ev[len(ev)-1].With != "alice" {
		t.Errorf("bob's line in the conversation has With %q", ev[len(ev)-1].With)
	}
	direct(t, alice, "here now")
	exec(t, bob, "/leave")
	entered(t, bob, "")
	notice(t, bob, false, "You left your conversation with alice.")

	// Its history is paged like a room's.
	h, err := bob.Older(ctx, "@alice", 3)
	if err != nil || !slices.Equal(texts(h.Lines), []string{"are you there?", "call me"}) {
		t.Errorf("Older(@alice, 3) = %q, %v", texts(h.Lines), err)
	}
}

// TestDirectGuest: with a guest, a conversation is not stored, the sender
// is told so, and it ends when either leaves.
func TestDirectGuest(t *testing.T) {
	store := NewMemoryStore()
	l := identityLobby(t, Config{Store: store, FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	guest := register(t, l, "guest")

	exec(t, alice, "/msg guest hello guest")
	notice(t, alice, false, "Messages between you and guest are not kept")
	direct(t, alice, "hello guest")
	notice(t, guest, false, "Messages between you and alice are not kept")
	if ev := direct(t, guest, "hello guest"); ev.With != "alice" {
		t.Errorf("guest got it with %q", ev.With)
	}
	exec(t, guest, "/msg alice")
	ev := entered(t, guest, "@alice")
	if !slices.Equal(texts(ev.History), []string{"hello guest"}) || ev.NewFrom != 1 {
		t.Errorf("history %q, new from %d", texts(ev.History), ev.NewFrom)
	}
	if h, err := guest.Older(context.Background(), "@alice", 2); err != nil || !slices.Equal(texts(h.Lines), []string{"hello guest"}) {
		t.Errorf("Older = %q, %v", texts(h.Lines), err)
	}
	barrier(t, l)
	store.mu.Lock()
	for name, r := range store.rooms {
		for _, m := range r.lines {
			if strings.Contains(m.Text, "hello guest") {
				t.Errorf("a guest's direct message is stored in %q", name)
			}
		}
		if strings.Contains(name, "guest") {
			t.Errorf("a guest's conversation is stored: %q", name)
		}
	}
	store.mu.Unlock()

	// Alice leaves: the guest is put back in the Lobby and told.
	alice.Close()
	entered(t, guest, "")
	notice(t, guest, false, "alice left the chat: your conversation with them is over, and it was not kept.")
	barrier(t, l)
	for _, ri := range guest.Rooms() {
		if ri.With != "" {
			t.Errorf("the guest still lists %+v", ri)
		}
	}
	alice = signIn(t, l, fp(1), "alice")
	barrier(t, l)
	for _, ri := range alice.Rooms() {
		if ri.With != "" {
			t.Errorf("alice lists %+v after coming back", ri)
		}
	}
}

// TestUnregisterClosesConversations: whoever registers a name after it is
// let go reads nothing of its conversations.
func TestUnregisterClosesConversations(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	bob := registered(t, l, fp(2), "bob")
	exec(t, alice, "/msg bob secret")
	direct(t, bob, "secret")
	direct(t, alice, "secret")
	exec(t, bob, "/msg alice")
	entered(t, bob, "@alice")

	exec(t, alice, "/unregister")
	notice(t, alice, false, "is no longer registered")
	entered(t, bob, "")
	notice(t, bob, false, "alice is no longer registered: your conversation with them is closed.")
	alice.Close()

	eve := registered(t, l, fp(5), "alice")
	barrier(t, l)
	for _, ri := range eve.Rooms() {
		if ri.With != "" {
			t.Errorf("the new alice lists %+v", ri)
		}
	}
	if h, err := eve.Older(context.Background(), "@bob", 100); !errors.Is(err, ErrNoSuchRoom) || len(h.Lines) != 0 {
		t.Errorf("the new alice reads %q, %v; want ErrNoSuchRoom", texts(h.Lines), err)
	}
	exec(t, eve, "/msg bob hi, I am new")
	direct(t, bob, "hi, I am new")
	exec(t, bob, "/msg alice")
	ev := entered(t, bob, "@alice")
	if got := texts(ev.History); !slices.Equal(got, []string{"hi, I am new"}) {
		t.Errorf("bob's new conversation with alice holds %q", got)
	}
}

func TestRenamedReader(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice := register(t, l, "alice")
	guest := register(t, l, "guest")
	createRoom(t, alice, "alpha")
	joinRoom(t, guest, "alpha")
	exec(t, guest, "/leave")
	barrier(t, l)

	// As a /nick would, under the lock in an applier.
	l.mu.Lock()
	m := l.members[guest.id]
	old := m.name
	l.names.remove(old, m)
	m.name, guest.name = "newname", "newname"
	l.names.add(m.name, m)
	l.renamedLocked(m, old)
	l.mu.Unlock()

	say(t, alice, "newname, and not guest")
	wantCounts(t, l, guest, "alpha", 1, 1)
}

// TestDirectAndKeepingOrder: a mute of the whole server and the raid guard
// hold for direct messages too; a private room's lines are not sent to
// whoever is named there from outside, only counted; a kick moves the read
// position like a leave; moderation commands have nothing to act on in a
// conversation.
func TestDirectAndKeepingOrder(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	root := operator(t, l, fp(9), "root")

	exec(t, root, "/mute carol")
	waitNotice(t, carol, "you may read, not speak")
	exec(t, carol, "/msg bob let me out")
	waitNotice(t, carol, "so that was not sent")
	exec(t, root, "/unmute carol")
	waitNotice(t, carol, "you may speak again")
	exec(t, root, "/mode registered on")
	waitNotice(t, carol, "switched on the raid guard for the whole chat")
	exec(t, carol, "/msg bob spam")
	notice(t, carol, true, "Only registered names may speak for now")
	exec(t, root, "/mode registered off")
	waitNotice(t, carol, "let guests speak again everywhere")
	barrier(t, l)
	for _, ev := range queued(bob) {
		if ev.Kind == EventDirect {
			t.Errorf("bob got a direct message from someone who may not speak: %s", describe(ev))
		}
	}

	// In a conversation there is nobody to keep order.
	exec(t, root, "/msg bob")
	until(t, root, isEntered("@bob"))
	exec(t, root, "/kick bob")
	notice(t, root, true, "/kick works in a room, not in a conversation.")

	// A kick reads what was shown.
	exec(t, bob, "/leave")
	exec(t, bob, "/join alpha")
	until(t, bob, isEntered("alpha"))
	exec(t, alice, "one more line")
	until(t, bob, isLine("one more line"))
	exec(t, alice, "/kick bob")
	until(t, bob, func(ev Event) bool { return ev.Kind == EventEntered && ev.Room == "" })
	wantCounts(t, l, bob, "alpha", 0, 0)

	// A private room: a mention of bob, who left it, is counted, not sent.
	exec(t, bob, "/join alpha")
	until(t, bob, isEntered("alpha"))
	exec(t, alice, "/private on") // those in it stay invited
	until(t, bob, isLine("alice made alpha private: only its members and the invited see it"))
	exec(t, bob, "/leave")
	until(t, bob, isNotice("You left room alpha."))
	exec(t, alice, "bob: a secret")
	until(t, alice, isLine("bob: a secret"))
	wantCounts(t, l, bob, "alpha", 1, 1)
	for _, ev := range queued(bob) {
		if ev.Kind == EventMention {
			t.Errorf("bob was sent a private room's line: %s", describe(ev))
		}
	}
}

// queued takes the events waiting in s's queue, without waiting for more.
func queued(s *Session) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

// TestDirectAndTalking: a direct message from someone you ignore is
// dropped for you (no line, no count) and delivered for them as usual, and
// a line of theirs naming you is no mention; the sender of a message to
// someone away is told their away message; a /nick takes a guest's counts
// and conversations along, and a line naming the new name counts.
func TestDirectAndTalking(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	bob := registered(t, l, fp(2), "bob")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")
	exec(t, alice, "/leave")
	until(t, alice, isNotice("You left room alpha."))

	exec(t, alice, "/ignore bob")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice && strings.Contains(ev.Text, "no longer see") })
	exec(t, bob, "/msg alice are you ignoring me?")
	direct(t, bob, "are you ignoring me?")
	exec(t, bob, "alice, hello?")
	until(t, bob, isLine("alice, hello?"))
	barrier(t, l)
	for _, ev := range queued(alice) {
		if ev.Msg != nil && ev.Msg.From == "bob" {
			t.Errorf("alice got a line from bob, whom she ignores: %s", describe(ev))
		}
	}
	wantCounts(t, l, alice, "@bob", 0, 0)
	wantCounts(t, l, alice, "alpha", 1, 0)
	exec(t, alice, "/unignore bob")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice && strings.Contains(ev.Text, "again") })

	exec(t, bob, "/away out for lunch")
	until(t, bob, func(ev Event) bool { return ev.Kind == EventNotice && strings.Contains(ev.Text, "marked away") })
	exec(t, alice, "/msg bob ping")
	until(t, alice, isNotice("bob is away: out for lunch"))

	guest := register(t, l, "guest7")
	joinRoom(t, guest, "alpha")
	exec(t, guest, "/msg alice hi from a guest")
	direct(t, alice, "hi from a guest")
	exec(t, guest, "/leave")
	until(t, guest, isNotice("You left room alpha."))
	exec(t, guest, "/nick visitor")
	until(t, guest, func(ev Event) bool { return ev.Kind == EventNamed })
	exec(t, bob, "visitor: welcome")
	until(t, bob, isLine("visitor: welcome"))
	wantCounts(t, l, guest, "alpha", 1, 1)
	wantCounts(t, l, alice, "@visitor", 1, 1)
	exec(t, alice, "/reply hello visitor")
	direct(t, guest, "hello visitor")
}
