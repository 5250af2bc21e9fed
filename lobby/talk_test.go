package lobby

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMe(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "/me waves at \x1b[31meveryone")
	for _, s := range []*Session{alice, bob} {
		m := line(t, s, KindAction, "waves at everyone")
		if m.From != "alice" {
			t.Errorf("%s: action from %q", s.Name(), m.From)
		}
	}
	exec(t, alice, "/me")
	reply(t, alice, true, "Usage: /me ACTION")
	exec(t, alice, "/me \u200b")
	reply(t, alice, true, invisibleNotice)
	exec(t, alice, "/leave")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice })
	exec(t, alice, "/me waves")
	reply(t, alice, true, "/me works in a room")
}

func TestWhoAndAway(t *testing.T) {
	clk := &clock{t: fixedTime}
	l := identityLobby(t, Config{Now: clk.Now, FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	op, err := l.Open(context.Background(), Visitor{Key: fp(2), Operator: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	if err := op.Claim(context.Background(), "olga"); err != nil {
		t.Fatal(err)
	}
	entered(t, op, "")
	bob := register(t, l, "bob")
	createRoom(t, alice, "alpha")
	exec(t, op, "/join alpha")
	entered(t, op, "alpha")

	exec(t, alice, "/away lunch \x1b[5mtime")
	reply(t, alice, false, "You are marked away: lunch time. /back when you return.")
	clk.Advance(90 * time.Minute)
	exec(t, op, "hi") // olga is active
	until(t, op, isLine("hi"))

	exec(t, bob, "/who alpha")
	ev := reply(t, bob, false, "In alpha, 2 people:")
	want := "In alpha, 2 people:\n  alice ✓ (owner) · idle 1h30m · away: lunch time\n  olga (server operator) · active"
	if ev.Text != want {
		t.Errorf("/who alpha:\n%s\nwant\n%s", ev.Text, want)
	}
	exec(t, bob, "/who")
	reply(t, bob, false, "In the Lobby, 1 person:\n  bob (you) · idle 1h30m")
	exec(t, alice, "/who lobby")
	reply(t, alice, false, "In the Lobby, 1 person:\n  bob")
	exec(t, bob, "/who nowhere")
	reply(t, bob, true, "There is no room named nowhere.")

	exec(t, alice, "/back")
	reply(t, alice, false, "Welcome back")
	exec(t, alice, "/back")
	reply(t, alice, true, "You are not marked away.")
	exec(t, alice, "/away")
	reply(t, alice, false, "You are marked away. /back")
	exec(t, bob, "/who alpha")
	reply(t, bob, false, "alice ✓ (owner) · active · away\n") // /away is something done
	exec(t, alice, "/away "+strings.Repeat("z", MaxAwayLen+1))
	reply(t, alice, true, fmt.Sprintf("An away message is at most %d characters", MaxAwayLen))
}

func TestNick(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "hello")
	line(t, alice, KindChat, "hello")
	exec(t, alice, "/nick Alicia")
	if ev := next(t, alice); ev.Kind != EventNamed || ev.Text != "Alicia" {
		t.Fatalf("alice: got %s, want EventNamed Alicia", describe(ev))
	}
	line(t, alice, KindSystem, "alice is now Alicia")
	until(t, bob, isLine("alice is now Alicia"))
	if got := alice.Name(); got != "Alicia" {
		t.Errorf("Name() = %q", got)
	}
	// Old lines keep the old name; new ones carry the new.
	exec(t, alice, "again")
	if m := line(t, alice, KindChat, "again"); m.From != "Alicia" {
		t.Errorf("new line from %q", m.From)
	}
	carol := register(t, l, "carol")
	ev := joinRoom(t, carol, "alpha")
	if i := slices.IndexFunc(ev.History, func(m Message) bool { return m.Text == "hello" }); i < 0 || ev.History[i].From != "alice" {
		t.Errorf("history: %+v", ev.History)
	}
	// The old name is free, the new one taken.
	if _, err := l.Register(context.Background(), "alice"); err != nil {
		t.Errorf("the old name is still taken: %v", err)
	}
	if _, err := l.Register(context.Background(), "ALICIA"); err == nil {
		t.Error("the new name is free")
	}

	registered(t, l, fp(7), "dave")
	for _, c := range []struct{ line, want string }{
		{"/nick", "Usage: /nick NEW"},
		{"/nick two words", "a name is 1 to 24 letters"},
		{"/nick \x1b[31mx", "a name is 1 to 24 letters"},
		{"/nick Alicia", "You are called Alicia already."},
		{"/nick bob", "That name, or one that looks the same, is taken"},
		{"/nick b0b", "That name, or one that looks the same, is taken"},
		{"/nick dave", "taken by someone online"},
		{"/nick " + strings.Repeat("n", MaxNameLen+1), "a name is 1 to 24 letters"},
	} {
		exec(t, alice, c.line)
		reply(t, alice, true, c.want)
	}
	// A registered name that its holder is not using is refused too.
	exec(t, alice, "/nick carl")
	if ev := next(t, alice); ev.Kind != EventNamed {
		t.Fatalf("got %s", describe(ev))
	}
	until(t, alice, isLine("Alicia is now carl"))
	erin := registered(t, l, fp(8), "erin")
	exec(t, erin, "/nick erin2")
	until(t, erin, func(ev Event) bool { return ev.Kind == EventNamed })
	exec(t, alice, "/nick ERIN")
	reply(t, alice, true, "The name erin ✓ is registered")
	// Its holder gets it back, spelled as registered.
	exec(t, erin, "/nick ERIN")
	if ev := next(t, erin); ev.Kind != EventNamed || ev.Text != "erin" {
		t.Fatalf("got %s, want erin", describe(ev))
	}
	barrier(t, l)
	_ = bob
}

func TestTopic(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "/topic")
	reply(t, alice, false, "alpha has no topic. /topic TEXT sets one.")
	exec(t, alice, "/topic  the \x1b[1mplan\x1b[0m:\n ship it ")
	if ev := next(t, alice); ev.Kind != EventTopic || ev.Topic != "the plan: ship it" || ev.Room != "alpha" {
		t.Fatalf("got %s %+v", describe(ev), ev)
	}
	line(t, alice, KindSystem, "alice set the topic: the plan: ship it")
	until(t, bob, isLine("alice set the topic: the plan: ship it"))
	exec(t, bob, "/topic")
	reply(t, bob, false, "Topic of alpha: the plan: ship it\n(set by alice, 2026-03-14")
	if got := l.Topic("ALPHA"); got != "the plan: ship it" {
		t.Errorf("Lobby.Topic = %q", got)
	}

	// Newcomers see it on arrival.
	carol := register(t, l, "carol")
	exec(t, carol, "/join alpha")
	if ev := entered(t, carol, "alpha"); ev.Topic != "the plan: ship it" {
		t.Errorf("EventEntered.Topic = %q", ev.Topic)
	}

	for _, c := range []struct{ line, want string }{
		{"/topic the plan: ship it", "That is the topic of alpha already."},
		{"/topic " + strings.Repeat("x", 10_000), fmt.Sprintf("A topic is at most %d characters; that one has 10000. It was not set.", MaxTopicLen)},
		{"/topic \u200b", "nothing visible"},
	} {
		exec(t, alice, c.line)
		reply(t, alice, true, c.want)
	}
	exec(t, bob, "/topic -")
	until(t, alice, isLine("bob cleared the topic"))
	exec(t, bob, "/topic -")
	until(t, bob, func(ev Event) bool { return ev.Kind == EventNotice && ev.Text == "alpha has no topic to clear." })
	exec(t, carol, "/leave")
	until(t, carol, func(ev Event) bool { return ev.Kind == EventNotice })
	exec(t, carol, "/topic hi")
	reply(t, carol, true, "the Lobby, which has no topic")
}

func TestEditAndDelete(t *testing.T) {
	clk := &clock{t: fixedTime}
	l := newLobby(t, Config{Now: clk.Now, FloodRate: -1})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "/edit fixed")
	reply(t, alice, true, "You have no line to change")
	exec(t, alice, "teh first")
	first := line(t, alice, KindChat, "teh first")
	exec(t, bob, "bob's line")
	line(t, alice, KindChat, "bob's line")
	if got := alice.LastOwn(); got != "teh first" {
		t.Errorf("LastOwn = %q", got)
	}

	clk.Advance(time.Minute)
	exec(t, alice, "/edit the first\nand a second line")
	for _, s := range []*Session{alice, bob} {
		ev := until(t, s, func(ev Event) bool { return ev.Kind == EventEdited })
		m := ev[len(ev)-1].Msg
		if m.Seq != first.Seq || m.Text != "the first\nand a second line" || !m.Edited.Equal(fixedTime.Add(time.Minute)) || m.From != "alice" {
			t.Errorf("%s: edited line %+v", s.Name(), m)
		}
	}
	if first.Text != "teh first" {
		t.Error("the line first delivered changed under its readers")
	}
	exec(t, alice, "/edit the first\nand a second line")
	reply(t, alice, true, "Your line says that already.")

	// bob cannot touch alice's line; his own is his.
	exec(t, bob, "/delete")
	ev := until(t, alice, func(ev Event) bool { return ev.Kind == EventEdited })
	if m := ev[len(ev)-1].Msg; !m.Deleted || m.Text != "" || m.From != "bob" {
		t.Errorf("deleted line %+v", m)
	}
	exec(t, bob, "/delete")
	reply(t, bob, true, "You have no line to change")

	// History and newcomers see the latest text only.
	carol := register(t, l, "carol")
	hist := joinRoom(t, carol, "alpha").History
	var got []string
	for _, m := range hist {
		if m.Said() {
			got = append(got, fmt.Sprintf("%s:%q:%v:%v", m.From, m.Text, !m.Edited.IsZero(), m.Deleted))
		}
	}
	if want := []string{`alice:"the first\nand a second line":true:false`, `bob:"":true:true`}; !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
	page, err := carol.Older(context.Background(), "alpha", 1000)
	if err != nil || len(page.Lines) == 0 {
		t.Fatalf("Older: %v, %v", page, err)
	}

	for _, c := range []struct{ line, want string }{
		{"/edit", "Usage: /edit TEXT"},
		{"/edit \u200b", invisibleNotice},
		{"/edit " + strings.Repeat("x", MaxMessageLen+1), "That message is"},
		{"/delete now", "it takes nothing after it"},
	} {
		exec(t, alice, c.line)
		reply(t, alice, true, c.want)
	}

	// Too old.
	clk.Advance(EditAge)
	exec(t, alice, "/delete")
	reply(t, alice, true, "You have no line to change")
	exec(t, alice, "/leave")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice })
	exec(t, alice, "/edit x")
	reply(t, alice, true, "/edit works in a room")
}

// TestEditWindow: a line pushed out of the room's last EditLines lines can
// no longer be changed, and a line said under a name before this session
// had it is not this session's.
func TestEditWindow(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1, Queue: 1024})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "mine")
	for i := range EditLines {
		exec(t, bob, fmt.Sprint("filler ", i))
	}
	barrier(t, l)
	exec(t, alice, "/edit not any more")
	until(t, alice, func(ev Event) bool {
		return ev.Kind == EventNotice && strings.Contains(ev.Text, "You have no line to change")
	})

	exec(t, bob, "said by the first bob")
	barrier(t, l)
	bob.Close()
	bob2 := register(t, l, "bob")
	joinRoom(t, bob2, "alpha")
	exec(t, bob2, "/delete")
	reply(t, bob2, true, "said before this session had the name, so it is not yours")
}

func TestIgnoreAndJoins(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "/ignore")
	reply(t, alice, false, "You ignore nobody.")
	exec(t, alice, "/ignore BOB")
	reply(t, alice, false, "You no longer see lines or messages from BOB. /unignore BOB undoes it. (Kept while you are connected")
	exec(t, bob, "can you hear me")
	exec(t, bob, "/me shouts")
	exec(t, alice, "only mine")
	line(t, alice, KindChat, "only mine")
	for _, c := range []struct{ line, want string }{
		{"/ignore bob", "You ignore BOB already."},
		{"/ignore alice", "You cannot ignore yourself."},
		{"/ignore a b", "not a valid name"},
		{"/unignore carol", "You do not ignore carol."},
		{"/unignore", "Usage: /unignore NAME"},
	} {
		exec(t, alice, c.line)
		reply(t, alice, true, c.want)
	}
	exec(t, alice, "/ignore")
	reply(t, alice, false, "You ignore BOB.")
	exec(t, alice, "/who")
	reply(t, alice, false, "bob (ignored) · active")

	// Nor in history, nor in older pages, nor in search.
	exec(t, alice, "/join alpha") // already there: no new history
	reply(t, alice, false, "already")
	exec(t, alice, "/leave")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventNotice })
	exec(t, alice, "/join alpha")
	hist := entered(t, alice, "alpha").History
	for _, m := range hist {
		if m.From == "bob" {
			t.Errorf("history shows bob's %q", m.Text)
		}
	}
	page, err := alice.Older(context.Background(), "alpha", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Lines {
		if m.From == "bob" {
			t.Errorf("an older page shows bob's %q", m.Text)
		}
	}
	exec(t, alice, "/unignore Bob")
	reply(t, alice, false, "You see lines and messages from BOB again.")
	exec(t, bob, "back in view")
	until(t, alice, isLine("back in view"))

	// /joins.
	exec(t, alice, "/joins")
	reply(t, alice, false, "You see every join and leave line (/joins all)")
	exec(t, alice, "/joins sometimes")
	reply(t, alice, true, "Usage: /joins all|talkers|none")
	exec(t, alice, "/joins none")
	reply(t, alice, false, "You see no join and leave lines")
	carol := register(t, l, "carol")
	joinRoom(t, carol, "alpha")
	exec(t, alice, "/joins talkers")
	reply(t, alice, false, "only for people who spoke")
	exec(t, carol, "/leave") // carol never spoke: hidden
	until(t, carol, func(ev Event) bool { return ev.Kind == EventNotice })
	exec(t, bob, "/leave") // bob spoke: shown
	until(t, bob, func(ev Event) bool { return ev.Kind == EventNotice })
	barrier(t, l)
	exec(t, alice, "/joins all")
	dave := register(t, l, "dave")
	joinRoom(t, dave, "alpha")
	barrier(t, l)
	var seen []string
	for _, ev := range until(t, alice, isLine("dave joined alpha")) {
		if ev.Kind == EventMessage {
			seen = append(seen, ev.Msg.Text)
		}
	}
	if want := []string{"bob left alpha", "dave joined alpha"}; !slices.Equal(seen, want) {
		t.Errorf("alice saw %q, want %q", seen, want)
	}
}

func TestBellAndTZ(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	s, err := l.Open(context.Background(), Visitor{TZ: ":Asia/Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Claim(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	entered(t, s, "")
	if got := s.Location().String(); got != "Asia/Tokyo" {
		t.Errorf("Location from the client's TZ = %s", got)
	}
	exec(t, s, "/tz")
	reply(t, s, false, "Times are shown in Asia/Tokyo (JST, UTC+09:00): your SSH client sent TZ.")
	exec(t, s, "/tz Europe/Paris")
	reply(t, s, false, "Times are shown in Europe/Paris (CET, UTC+01:00).")
	if got := s.Location().String(); got != "Europe/Paris" {
		t.Errorf("Location = %s", got)
	}
	for _, bad := range []string{"../../etc/passwd", "/etc/passwd", "Mars/Olympus", "Local", "Europe/../../../etc/shadow", "Europe/Paris\x00", strings.Repeat("A", 100)} {
		exec(t, s, "/tz "+bad)
		reply(t, s, true, "There is no timezone")
	}
	exec(t, s, "/tz default")
	reply(t, s, false, "Times are shown in Asia/Tokyo")

	exec(t, s, "/bell")
	reply(t, s, false, "The bell is on")
	exec(t, s, "/bell off")
	reply(t, s, false, "The bell is off.")
	if s.Bell() {
		t.Error("Bell() after /bell off")
	}
	exec(t, s, "/bell loud")
	reply(t, s, true, "Usage: /bell on|off")
	exec(t, s, "/bell on")
	reply(t, s, false, "The bell is on")
	if !s.Bell() {
		t.Error("Bell() after /bell on")
	}
	if _, ok := s.Setting(SettingTZ); ok {
		t.Error("tz default left a setting")
	}
	l2 := newLobby(t, Config{FloodRate: -1})
	g := register(t, l2, "g")
	if g.Location() != time.Local {
		t.Errorf("a session without TZ shows %s, want the server's", g.Location())
	}
}

// TestSettingsKeptForTheName: what a registered user sets comes back on
// another of the name's keys, after a restart too.
func TestSettingsKeptForTheName(t *testing.T) {
	st := NewMemoryStore()
	l := identityLobby(t, Config{Store: st, FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	for _, c := range []string{"/tz America/New_York", "/bell off", "/ignore bob", "/joins none"} {
		exec(t, alice, c)
		ev := next(t, alice)
		if ev.Kind != EventNotice || ev.Error || strings.Contains(ev.Text, "Kept while you are connected") {
			t.Fatalf("%s: %s", c, describe(ev))
		}
	}
	barrier(t, l)
	alice.Close()
	ctx := context.Background()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l2 := identityLobby(t, Config{Store: st, FloodRate: -1})
	again := signIn(t, l2, fp(1), "")
	if got := again.Location().String(); got != "America/New_York" {
		t.Errorf("zone after a restart: %s", got)
	}
	if again.Bell() {
		t.Error("the bell rings after a restart")
	}
	exec(t, again, "/ignore")
	reply(t, again, false, "You ignore bob.")
	exec(t, again, "/joins")
	reply(t, again, false, "/joins none")
}

func TestSearchAndGoto(t *testing.T) {
	l := newLobby(t, Config{FloodRate: -1})
	alice, bob := inAlpha(t, l)
	exec(t, alice, "the fox is quick")
	exec(t, bob, "a lazy dog")
	exec(t, alice, "/create beta")
	exec(t, alice, "another fox")
	exec(t, alice, "/create hideout")
	exec(t, alice, "a secret fox")
	until(t, alice, isLine("a secret fox"))
	// hideout is private; alice is in it, bob is not.
	l.mu.Lock()
	l.rooms[foldKey("hideout")].meta.Private = true
	l.mu.Unlock()

	exec(t, bob, "/search FOX")
	ev := until(t, bob, func(ev Event) bool { return ev.Kind == EventSearch })
	res := ev[len(ev)-1]
	var got []string
	for _, m := range res.Results {
		got = append(got, m.Room+": "+m.Text)
	}
	if want := []string{"beta: another fox", "alpha: the fox is quick"}; !slices.Equal(got, want) {
		t.Errorf("bob found %q, want %q", got, want)
	}
	if !strings.HasPrefix(res.Text, `2 lines found for "FOX", newest first:`) || !strings.Contains(res.Text, "2. alpha · 2026-03-14 ") || !strings.Contains(res.Text, "/goto N") {
		t.Errorf("results text:\n%s", res.Text)
	}
	exec(t, alice, "/search fox")
	ev = until(t, alice, func(ev Event) bool { return ev.Kind == EventSearch })
	if n := len(ev[len(ev)-1].Results); n != 3 {
		t.Errorf("alice, in the private room, found %d lines, want 3", n)
	}

	exec(t, bob, "/goto 2")
	evs := until(t, bob, func(ev Event) bool { return ev.Kind == EventJump })
	jump := evs[len(evs)-1]
	if jump.Room != "alpha" || !slices.ContainsFunc(jump.History, func(m Message) bool { return m.Seq == jump.Seq && m.Text == "the fox is quick" }) {
		t.Errorf("jump %+v", jump)
	}
	exec(t, bob, "/goto 1") // another room: bob moves there
	evs = until(t, bob, func(ev Event) bool { return ev.Kind == EventJump })
	if bob.Room() != "beta" || evs[len(evs)-1].Room != "beta" {
		t.Errorf("after /goto 1 bob is in %q", bob.Room())
	}

	for _, c := range []struct{ line, want string }{
		{"/search", "Usage: /search WORDS"},
		{"/search ... !!!", "Usage: /search WORDS"},
		{"/search a b c d e f g h i", "at most 8 words"},
		{"/search " + strings.Repeat("w", 65), "at most 64 characters"},
		{"/goto 3", "Usage: /goto N, N from 1 to 2"},
		{"/goto x", "Usage: /goto N"},
	} {
		exec(t, bob, c.line)
		reply(t, bob, true, c.want)
	}
	exec(t, bob, "/search unicorn")
	ev = until(t, bob, func(ev Event) bool { return ev.Kind == EventSearch })
	if got := ev[len(ev)-1].Text; got != `Nothing found for "unicorn" in the rooms you can read.` {
		t.Errorf("no hits: %q", got)
	}
	exec(t, bob, "/goto 1")
	reply(t, bob, true, "search first")

	// A private room is not bob's to read, nor to list the members of.
	exec(t, bob, "/who hideout")
	reply(t, bob, true, "There is no room named hideout.")
	if _, err := bob.Older(context.Background(), "hideout", 10); err == nil {
		t.Error("bob read an older page of the private room")
	}
}

// TestTalkAcrossNodes: two nodes on one log: a topic, an edit, a name
// change and an away status made on one show on the other, and both
// stores hold the same.
func TestTalkAcrossNodes(t *testing.T) {
	log := NewMemoryLog()
	stA, stB := NewMemoryStore(), NewMemoryStore()
	a := newLobby(t, Config{Log: log, Store: stA, Node: "a", FloodRate: -1})
	b := newLobby(t, Config{Log: log, Store: stB, Node: "b", FloodRate: -1})
	alice := register(t, a, "alice")
	createRoom(t, alice, "alpha")
	bob := register(t, b, "bob")
	joinRoom(t, bob, "alpha")
	exec(t, alice, "helo")
	until(t, bob, isLine("helo"))
	exec(t, alice, "/edit hello")
	evs := until(t, bob, func(ev Event) bool { return ev.Kind == EventEdited })
	if m := evs[len(evs)-1].Msg; m.Text != "hello" {
		t.Errorf("bob sees the edit as %q", m.Text)
	}
	exec(t, alice, "/topic on node a")
	evs = until(t, bob, func(ev Event) bool { return ev.Kind == EventTopic })
	if got := evs[len(evs)-1].Topic; got != "on node a" {
		t.Errorf("bob sees the topic %q", got)
	}
	if got := b.Topic("alpha"); got != "on node a" {
		t.Errorf("node b's topic %q", got)
	}
	exec(t, alice, "/away brb")
	exec(t, alice, "/nick alicia")
	until(t, bob, isLine("alice is now alicia"))
	exec(t, bob, "/who")
	reply(t, bob, false, "alicia · active · away: brb")
	// bob may edit on b what he said on b.
	exec(t, bob, "from b")
	until(t, alice, isLine("from b"))
	exec(t, bob, "/delete")
	until(t, alice, func(ev Event) bool { return ev.Kind == EventEdited && ev.Msg.Deleted })
	barrier(t, a)
	barrier(t, b)
	ctx := context.Background()
	ra, _ := stA.Recent(ctx, "alpha", 100)
	rb, _ := stB.Recent(ctx, "alpha", 100)
	if !slices.Equal(ra, rb) {
		t.Errorf("the stores differ:\n%+v\n%+v", ra, rb)
	}
}

func TestNamesForCompletion(t *testing.T) {
	clk := &clock{t: fixedTime}
	l := newLobby(t, Config{Now: clk.Now, FloodRate: -1})
	alice, bob := inAlpha(t, l)
	carol := register(t, l, "carol")
	joinRoom(t, carol, "alpha")
	register(t, l, "dave") // in the Lobby
	exec(t, carol, "first")
	clk.Advance(time.Second)
	exec(t, bob, "second")
	until(t, alice, isLine("second"))
	if got, want := alice.Names(), []string{"bob", "carol", "dave", "alice"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

// TestNickStormIsFlooding: renaming is a line like any other for the flood
// limit, so a storm of /nick is refused like a storm of chat, and every
// rename that got through was announced once.
func TestNickStormIsFlooding(t *testing.T) {
	l := newLobby(t, Config{}) // the default limit: a burst of 10
	alice, bob := inAlpha(t, l)
	_ = alice
	for i := range 12 {
		exec(t, bob, fmt.Sprintf("/nick bob%d", i))
	}
	barrier(t, l)
	var renames, refused int
	for {
		select {
		case ev := <-bob.events:
			switch {
			case ev.Kind == EventNamed:
				renames++
			case ev.Kind == EventNotice && strings.HasPrefix(ev.Text, "Slow down"):
				refused++
			}
			continue
		default:
		}
		break
	}
	// inAlpha's /join took one of the 10.
	if renames != 9 || refused != 3 {
		t.Errorf("%d renames and %d refusals, want 9 and 3", renames, refused)
	}
}

// TestMuteHoldsActionsAndEdits: a mute holds /me and /edit as it holds
// chat (an edit says something); taking one's own line back is allowed.
func TestMuteHoldsActionsAndEdits(t *testing.T) {
	l := identityLobby(t, Config{FloodRate: -1})
	alice := registered(t, l, fp(1), "alice")
	createRoom(t, alice, "alpha")
	bob := signIn(t, l, fp(2), "bob") // a key for the mute to hold
	joinRoom(t, bob, "alpha")
	exec(t, bob, "said before the mute")
	until(t, bob, isLine("said before the mute"))
	exec(t, alice, "/mute bob")
	until(t, bob, func(ev Event) bool { return ev.Kind == EventMessage && strings.Contains(ev.Msg.Text, "muted bob") })
	exec(t, bob, "/me shouts")
	reply(t, bob, true, "muted you")
	exec(t, bob, "/edit changed")
	reply(t, bob, true, "muted you")
	exec(t, bob, "/delete")
	ev := until(t, bob, func(ev Event) bool { return ev.Kind == EventEdited })
	if m := ev[len(ev)-1].Msg; !m.Deleted {
		t.Errorf("the deletion: %+v", m)
	}
}
