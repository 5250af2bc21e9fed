package lobby

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// roomInfo is the entry of s's room list called name, failing the test
// when there is none.
func roomInfo(t *testing.T, s *Session, name string) RoomInfo {
	t.Helper()
	for _, ri := range s.Rooms() {
		if ri.Name == name {
			return ri
		}
	}
	t.Fatalf("%s: no %q in the room list %v", s.Name(), name, s.Rooms())
	return RoomInfo{}
}

// wantCounts checks s's unread and mention counts of name, once
// everything proposed so far is applied.
func wantCounts(t *testing.T, l *Lobby, s *Session, name string, unread, mentions int) {
	t.Helper()
	barrier(t, l)
	if ri := roomInfo(t, s, name); ri.Unread != unread || ri.Mentions != mentions {
		t.Errorf("%s: %s shows %d unread, %d mentions; want %d, %d", s.Name(), name, ri.Unread, ri.Mentions, unread, mentions)
	}
}

// say has s say text in its room and waits until s sees it.
func say(t *testing.T, s *Session, text string) *Message {
	t.Helper()
	exec(t, s, text)
	evs := until(t, s, isLine(text))
	return evs[len(evs)-1].Msg
}

func TestUnreadCounts(t *testing.T) {
	for _, reg := range []bool{false, true} {
		t.Run(fmt.Sprintf("registered=%v", reg), func(t *testing.T) {
			l := identityLobby(t, Config{FloodRate: -1})
			alice := register(t, l, "alice")
			var bob *Session
			if reg {
				bob = registered(t, l, fp(2), "bob")
			} else {
				bob = register(t, l, "bob")
			}
			createRoom(t, alice, "alpha")
			joinRoom(t, bob, "alpha")
			line(t, alice, KindSystem, "bob joined alpha")

			// Never been in beta: no counts there, whatever is said.
			carol := register(t, l, "carol")
			createRoom(t, carol, "beta")
			say(t, carol, "bob, in beta")
			wantCounts(t, l, bob, "beta", 0, 0)

			// Bob leaves alpha; what is said there counts, joins and
			// leaves do not.
			exec(t, bob, "/leave")
			entered(t, bob, "")
			notice(t, bob, false, "You left room alpha.")
			wantCounts(t, l, bob, "alpha", 0, 0)
			var first *Message
			for i := range 5 {
				m := say(t, alice, fmt.Sprintf("line %d", i))
				if first == nil {
					first = m
				}
			}
			exec(t, carol, "/join alpha")
			exec(t, carol, "/leave")
			wantCounts(t, l, bob, "alpha", 5, 0)

			// A line that names him counts apart, and he hears of it.
			say(t, alice, "what do you think, @Bob?")
			ev := until(t, bob, func(ev Event) bool { return ev.Kind == EventMention })
			if m := ev[len(ev)-1].Msg; m.Room != "alpha" || m.From != "alice" {
				t.Errorf("mention event = %+v", m)
			}
			say(t, alice, "bobby is not bob's name... but bob is")
			wantCounts(t, l, bob, "alpha", 7, 2)
			if ri := roomInfo(t, bob, "alpha"); ri.Users != 1 {
				t.Errorf("alpha shows %d users, want 1: counts apart from members", ri.Users)
			}

			// Coming back: a new rule at his first unread line, then
			// nothing unread.
			exec(t, bob, "/join alpha")
			in := until(t, bob, func(ev Event) bool { return ev.Kind == EventEntered })
			// His leave line came just before the first unread line.
			if got := in[len(in)-1].NewFrom; got != first.Seq {
				t.Errorf("NewFrom = %d, want %d: the first unread line", got, first.Seq)
			}
			wantCounts(t, l, bob, "alpha", 0, 0)

			// In the room: a mention is marked on the line itself, counted
			// nowhere.
			exec(t, alice, "bob: here?")
			evs := until(t, bob, isLine("bob: here?"))
			if !evs[len(evs)-1].Mention {
				t.Error("a line naming bob in his room is not marked as a mention")
			}
			exec(t, alice, "nobody named")
			evs = until(t, bob, isLine("nobody named"))
			if evs[len(evs)-1].Mention {
				t.Error("a line naming nobody is marked as a mention")
			}
			exec(t, bob, "bob talks about bob")
			evs = until(t, bob, isLine("bob talks about bob"))
			if evs[len(evs)-1].Mention {
				t.Error("bob's own line is marked as naming him")
			}
			exec(t, bob, "/leave")
			wantCounts(t, l, bob, "alpha", 0, 0)
			exec(t, bob, "/join alpha")
			in = until(t, bob, func(ev Event) bool { return ev.Kind == EventEntered && ev.Room == "alpha" })
			if got := in[len(in)-1].NewFrom; got != 0 {
				t.Errorf("NewFrom = %d with nothing unread, want 0", got)
			}
		})
	}
}

// TestUnreadSurvives: a registered name's positions and counts come back
// on its next session, and after a restart of the node.
func TestUnreadSurvives(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	l := identityLobby(t, Config{Store: store, FloodRate: -1})
	alice := register(t, l, "alice")
	bob := registered(t, l, fp(2), "bob")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")
	bob.Close()
	for i := range 3 {
		say(t, alice, fmt.Sprint("while he is away ", i))
	}
	say(t, alice, "bob, are you there?")

	bob = signIn(t, l, fp(2), "bob")
	wantCounts(t, l, bob, "alpha", 4, 1)
	exec(t, bob, "/create beta") // leaves nothing: was in the Lobby
	bob.Close()
	say(t, alice, "one more")
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	l2 := identityLobby(t, Config{Store: store, FloodRate: -1})
	bob = signIn(t, l2, fp(2), "bob")
	wantCounts(t, l2, bob, "alpha", 5, 1)
	carol := register(t, l2, "carol")
	exec(t, carol, "/join alpha")
	entered(t, carol, "alpha")
	say(t, carol, "after the restart")
	wantCounts(t, l2, bob, "alpha", 6, 1)

	// A guest's positions last as long as its session.
	guest := register(t, l2, "dave")
	joinRoom(t, guest, "alpha")
	exec(t, guest, "/leave")
	say(t, carol, "for the guest to count")
	wantCounts(t, l2, guest, "alpha", 1, 0)
	guest.Close()
	guest = register(t, l2, "dave")
	wantCounts(t, l2, guest, "alpha", 0, 0)
}

// TestReadPositionsConcurrent: lines said while a reader comes and goes
// count exactly: after each leave, the reader's count is the number of
// chat lines that came after its leave in the room's order, however the
// two raced.
func TestReadPositionsConcurrent(t *testing.T) {
	ctx := context.Background()
	l := identityLobby(t, Config{FloodRate: -1, Queue: 4096})
	talkers := make([]*Session, 4)
	for i := range talkers {
		talkers[i] = register(t, l, fmt.Sprint("talker", i))
	}
	createRoom(t, talkers[0], "alpha")
	for _, s := range talkers[1:] {
		joinRoom(t, s, "alpha")
	}
	reader := registered(t, l, fp(9), "reader")

	const perTalker = 150
	var wg sync.WaitGroup
	for i, s := range talkers {
		wg.Go(func() {
			for n := range perTalker {
				if err := s.Exec(ctx, fmt.Sprintf("t%d line %d", i, n)); err != nil {
					t.Errorf("Exec: %v", err)
					return
				}
			}
		})
	}
	for round := 0; round < 20; round++ {
		exec(t, reader, "/join alpha")
		exec(t, reader, "/leave")
		barrier(t, l)
		// Count, in the stored history, the chat lines after the
		// reader's last leave line, up to the room's last line now:
		// exactly what Rooms says is unread, since both are read under
		// one lock.
		l.mu.Lock()
		r := l.rooms[foldKey("alpha")]
		p := l.members[reader.id].rd.pos[r]
		seq, unread := r.seq, p.unread(r)
		l.mu.Unlock()
		lines, err := l.store.Recent(ctx, "alpha", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		want, afterLeave := 0, false
		for _, m := range lines {
			if m.Seq > seq {
				break
			}
			if m.Kind == KindSystem && m.Text == "reader left alpha" {
				want, afterLeave = 0, true
				continue
			}
			if afterLeave && m.Kind == KindChat {
				want++
			}
		}
		if unread != want {
			t.Fatalf("round %d: %d unread, want %d (chat lines after the leave)", round, unread, want)
		}
	}
	wg.Wait()
	barrier(t, l)
	l.mu.Lock()
	r := l.rooms[foldKey("alpha")]
	if r.chats != uint64(len(talkers)*perTalker) {
		t.Errorf("alpha counts %d chat lines, want %d", r.chats, len(talkers)*perTalker)
	}
	l.mu.Unlock()
}

// TestUnreadCap: thousands of unread lines count exactly.
func TestUnreadCap(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1, Queue: 4096, History: 5})
	alice := register(t, l, "alice")
	bob := register(t, l, "bob")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")
	exec(t, bob, "/leave")
	for i := range 2500 {
		exec(t, alice, fmt.Sprint("bob ", i))
	}
	barrier(t, l)
	wantCounts(t, l, bob, "alpha", 2500, 2500)
}
