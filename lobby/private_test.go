package lobby

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// privateWorld is a chat with the private room paypal, owned by alice
// (back in the Lobby), with bob in it and a line said there, and people
// who see it or not: olga and the guest gus are outsiders, ivan (registered)
// and the guest gina are invited, root is a server operator.
func privateWorld(t *testing.T) (*Lobby, map[string]*Session) {
	t.Helper()
	l := orderLobby(t, nil, Config{})
	alice := registered(t, l, fp(1), "alice")
	exec(t, alice, "/create paypal private")
	until(t, alice, isLine("alice joined paypal"))
	bob := registered(t, l, fp(2), "bob")
	ivan := registered(t, l, fp(4), "ivan")
	gina := guest(t, l, "198.51.100.8:1", "gina")
	for _, name := range []string{"bob", "ivan", "gina"} {
		exec(t, alice, "/invite "+name)
		until(t, alice, isLine("alice invited "+name))
	}
	barrier(t, l)
	drain(bob)
	joinRoom(t, bob, "paypal")
	exec(t, bob, "a line for members")
	until(t, bob, isLine("a line for members"))
	exec(t, alice, "/leave")
	until(t, alice, isNotice("You left room paypal."))
	people := map[string]*Session{
		"alice": alice, "bob": bob, "ivan": ivan, "gina": gina,
		"olga": registered(t, l, fp(3), "olga"),
		"gus":  guest(t, l, "198.51.100.9:1", "gus"),
		"root": operator(t, l, fp(9), "root"),
	}
	barrier(t, l)
	for _, s := range people {
		drain(s)
	}
	return l, people
}

// TestPrivateRoomsHidden is the table of every path that names a room,
// for everyone who may or may not see a private one: for an outsider it
// does not exist, whatever path asks; its history is only for those in it.
func TestPrivateRoomsHidden(t *testing.T) {
	ctx := context.Background()
	// What each path says to someone for whom the room exists (seen) and
	// to an outsider (hidden); "" is checked by the path itself.
	paths := []struct {
		name         string
		do           func(t *testing.T, l *Lobby, s *Session) string
		seen, hidden string
	}{
		{"/list", func(t *testing.T, _ *Lobby, s *Session) string {
			exec(t, s, "/list")
			return waitNotice(t, s, "").Text
		}, "paypal (", "No rooms yet."},
		{"Session.Rooms (the sidebar)", func(_ *testing.T, _ *Lobby, s *Session) string {
			return fmt.Sprint(s.Rooms())
		}, "paypal", "[]"},
		{"/join", func(t *testing.T, _ *Lobby, s *Session) string {
			exec(t, s, "/join paypal")
			return replyOrEntered(t, s)
		}, "paypal", "There is no room named paypal. /list shows the rooms; /create paypal makes it."},
		{"/join in other case", func(t *testing.T, _ *Lobby, s *Session) string {
			exec(t, s, "/join PAYPAL")
			return replyOrEntered(t, s)
		}, "paypal", "There is no room named PAYPAL. /list shows the rooms; /create PAYPAL makes it."},
		{"/join a look-alike", func(t *testing.T, _ *Lobby, s *Session) string {
			exec(t, s, "/join paypa1")
			return replyOrEntered(t, s)
		}, "There is no room named paypa1, but paypal looks the same: /join paypal joins it.", "There is no room named paypa1. /list shows the rooms; /create paypa1 makes it."},
		{"join in the Lobby's bare form", func(t *testing.T, _ *Lobby, s *Session) string {
			if s.Room() != "" {
				return "paypal" // the bare form is the Lobby's
			}
			exec(t, s, "join paypal")
			return replyOrEntered(t, s)
		}, "paypal", "There is no room named paypal."},
		{"SelectRoom (key or mouse)", func(t *testing.T, _ *Lobby, s *Session) string {
			if err := s.SelectRoom(ctx, "paypal"); err != nil {
				t.Fatal(err)
			}
			return replyOrEntered(t, s)
		}, "paypal", "There is no room named paypal."},
		{"/create", func(t *testing.T, _ *Lobby, s *Session) string {
			exec(t, s, "/create paypal")
			return waitNotice(t, s, "").Text
		}, "A room named paypal already exists", "The name paypal cannot be used for a room: pick another."},
		{"/create a look-alike", func(t *testing.T, _ *Lobby, s *Session) string {
			exec(t, s, "/create PayPa1")
			return waitNotice(t, s, "").Text
		}, "A room named paypal already exists", "The name PayPa1 cannot be used for a room: pick another."},
		{"Lobby.Older", func(_ *testing.T, l *Lobby, _ *Session) string {
			_, err := l.Older(ctx, "paypal", 10)
			return fmt.Sprint(errors.Is(err, ErrNoSuchRoom))
		}, "true", "true"}, // the server's view names no session: never served
	}
	viewers := []struct {
		name    string
		sees    bool
		inside  bool // in the room: reads its history
		comment string
	}{
		{"olga", false, false, "registered, not invited"},
		{"gus", false, false, "a guest, not invited"},
		{"ivan", true, false, "registered, invited"},
		{"gina", true, false, "a guest invited for this session"},
		{"alice", true, false, "the owner, in the Lobby"},
		{"root", true, false, "a server operator"},
		{"bob", true, true, "in the room"},
	}
	for _, v := range viewers {
		for _, p := range paths {
			t.Run(v.name+"/"+p.name, func(t *testing.T) {
				l, people := privateWorld(t)
				s := people[v.name]
				got := p.do(t, l, s)
				want := p.hidden
				if v.sees {
					want = p.seen
				}
				if v.inside && strings.HasPrefix(p.name, "/join") && p.name != "/join a look-alike" {
					want = "You are already in paypal."
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s (%s): got %q, want %q", v.name, v.comment, got, want)
				}
				if !v.sees && strings.Contains(strings.ReplaceAll(got, "paypal.", ""), "paypal (") {
					t.Errorf("an outsider was shown the room: %q", got)
				}
			})
		}
		t.Run(v.name+"/Session.Older", func(t *testing.T) {
			_, people := privateWorld(t)
			page, err := people[v.name].Older(ctx, "paypal", 10)
			msgs := page.Lines
			if v.inside {
				if err != nil || !slices.ContainsFunc(msgs, func(m Message) bool { return m.Text == "a line for members" }) {
					t.Errorf("a member's Older = %v, %v", msgs, err)
				}
			} else if !errors.Is(err, ErrNoSuchRoom) || len(msgs) > 0 {
				t.Errorf("%s's Older = %d lines, %v; want ErrNoSuchRoom", v.name, len(msgs), err)
			}
		})
	}
}

// replyOrEntered reads s's next event after a join: the room it entered,
// or the reply's text.
func replyOrEntered(t *testing.T, s *Session) string {
	t.Helper()
	ev := next(t, s)
	if ev.Kind == EventEntered {
		return "entered " + ev.Room + " " + fmt.Sprint(texts(ev.History))
	}
	return ev.Text
}

// TestInviteLetsIn: the invited join and read the history from then on;
// a guest's invitation lasts as long as its session; a kick takes it back.
func TestInviteLetsIn(t *testing.T) {
	l, p := privateWorld(t)
	ev := joinRoom(t, p["ivan"], "paypal")
	if !slices.Contains(texts(ev.History), "a line for members") {
		t.Errorf("the invited one joined without the history: %q", texts(ev.History))
	}
	if _, err := p["ivan"].Older(context.Background(), "paypal", 10); err != nil {
		t.Errorf("a member's Older: %v", err)
	}

	// gina's invitation goes with her session.
	gina := p["gina"]
	gina.Close()
	barrier(t, l)
	again := guest(t, l, "198.51.100.8:2", "gina")
	exec(t, again, "/join paypal")
	notice(t, again, true, "There is no room named paypal.")
	l.mu.Lock()
	left := l.rooms["paypal"].meta.InvitedSessions
	l.mu.Unlock()
	if len(left) != 0 {
		t.Errorf("invitations of ended sessions kept: %q", left)
	}

	// A kick out of a private room is out for good, until invited again.
	exec(t, p["root"], "/join paypal")
	until(t, p["root"], isEntered("paypal"))
	exec(t, p["root"], "/kick ivan")
	until(t, p["ivan"], isEntered(""))
	exec(t, p["ivan"], "/join paypal")
	waitNotice(t, p["ivan"], "There is no room named paypal.")
}

// TestPrivateOnKeepsMembers: /private on hides a room from everybody but
// those in it at the time, who may come back.
func TestPrivateOnKeepsMembers(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	alice, bob, carol := alphaWithPeople(t, l)
	olga := registered(t, l, fp(3), "olga")
	exec(t, alice, "/private on")
	until(t, carol, isLine("alice made alpha private: only its members and the invited see it"))
	sees := func(s *Session, want bool) {
		t.Helper()
		testutil.Eventually(t, fmt.Sprintf("%s to see alpha: %v", s.Name(), want), func() bool {
			return slices.ContainsFunc(s.Rooms(), func(r RoomInfo) bool { return r.Name == "alpha" }) == want
		})
	}
	sees(olga, false)
	for _, s := range []*Session{bob, carol} {
		exec(t, s, "/leave")
		waitNotice(t, s, "You left room alpha.")
		sees(s, true)
		drain(s)
		joinRoom(t, s, "alpha")
	}
	exec(t, alice, "/private off")
	until(t, carol, isLine("alice made alpha public"))
	sees(olga, true)
	if got := orderSnapshot(l); !strings.Contains(got, "Invited:[bob]") {
		t.Errorf("the members at /private on are not invited: %s", got)
	}
}

func TestCreatePrivate(t *testing.T) {
	l := orderLobby(t, nil, Config{})
	g := guest(t, l, "198.51.100.9:1", "gus")
	exec(t, g, "/create hideout private")
	notice(t, g, true, "Only a registered name can create a private room")
	alice := registered(t, l, fp(1), "alice")
	exec(t, alice, "/create hideout PRIVATE")
	notice(t, alice, false, "You created hideout, a private room: nobody else sees it until you /invite them.")
	entered(t, alice, "hideout")
	if got := g.Rooms(); len(got) != 0 {
		t.Errorf("a guest sees %v", got)
	}
	exec(t, alice, "/create my room")
	waitNotice(t, alice, Sentence(ErrRoomInvalid.Error()))
}
