package sshserver

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// lineStep is one line a line-mode user sends and what must come back to
// them (and, when set, to a watcher) after it.
type lineStep struct {
	who, line string
	want      string // in the sender's output
	watch     string // in the watcher's output, if set
}

// runSteps sends each step's line and waits for what it must bring. Every
// wait looks only at output that came after the step's line was sent.
func runSteps(t *testing.T, users map[string]*e2e.Line, watcher *e2e.Line, steps []lineStep) {
	t.Helper()
	for _, st := range steps {
		c := users[st.who]
		from, wfrom := len(c.Output()), len(watcher.Output())
		c.Send(st.line)
		sent := st.line
		if len(sent) > 60 {
			sent = sent[:60] + "…"
		}
		waitAfter(t, c, from, st.who+" after "+sent, st.want)
		if st.watch != "" {
			waitAfter(t, watcher, wfrom, "the watcher after "+sent, st.watch)
		}
	}
}

// waitAfter waits until text arrives in c's output past offset from.
func waitAfter(t *testing.T, c *e2e.Line, from int, what, text string) {
	t.Helper()
	c.WaitFor(fmt.Sprintf("%q (%s)", text, what), func(out string) bool {
		return strings.Contains(out[from:], text)
	})
}

// TestTalkLineMode: every talking command works in line mode and prints
// plain lines, its refusals too (line mode's parity).
func TestTalkLineMode(t *testing.T) {
	ts := startServer(t)
	alice := ts.lineUser(t, "alice")
	alice.WaitText("You are in the Lobby")
	bob := ts.lineUser(t, "bob")
	bob.WaitText("You are in the Lobby")
	users := map[string]*e2e.Line{"alice": alice, "bob": bob}
	clock := `\[\d\d:\d\d\]`

	runSteps(t, users, bob, []lineStep{
		{"alice", "/commands", "/search WORDS", ""},
		{"alice", "/me waves", "/me works in a room", ""},
		{"alice", "/create alpha", "You created alpha", ""},
		{"bob", "/join alpha", "bob joined alpha", ""},
		{"alice", "/me waves", "* alice waves", "* alice waves"},
		{"alice", "/me", "Usage: /me ACTION", ""},
		{"alice", "/who", "In alpha, 2 people:\n  alice (you) · active\n  bob · active", ""},
		{"alice", "/who nowhere", "There is no room named nowhere.", ""},
		{"bob", "/who lobby", "Nobody is in the Lobby.", ""},
		{"bob", "/away lunch", "You are marked away: lunch. /back when you return.", ""},
		{"alice", "/who", "bob · active · away: lunch", ""},
		{"bob", "/back", "Welcome back", ""},
		{"bob", "/back", "You are not marked away.", ""},
		{"alice", "/topic", "alpha has no topic. /topic TEXT sets one.", ""},
		{"alice", "/topic release on friday", "* alice set the topic: release on friday", "* alice set the topic: release on friday"},
		{"bob", "/topic", "Topic of alpha: release on friday", ""},
		{"bob", "/topic " + strings.Repeat("x", 5_000), fmt.Sprintf("A topic is at most %d characters; that one has 5000. It was not set.", lobby.MaxTopicLen), ""},
		{"alice", "helo all", "alice: helo all", "alice: helo all"},
		{"alice", "/edit hello all", "* alice edited their line of ", "* alice edited their line of "},
		{"bob", "/edit mine", "You have no line to change", ""},
		{"alice", "/delete", "* alice deleted their line of ", "* alice deleted their line of "},
		{"alice", "/delete extra", "it takes nothing after it", ""},
		{"alice", "/nick alicia", "You are now alicia.", "* alice is now alicia"},
		{"alice", "/nick bob", "taken by someone online", ""},
		{"alice", "/nick two words", "a name is 1 to 24 letters", ""},
		{"alice", "/ignore bob", "You no longer see lines or messages from bob.", ""},
		{"alice", "/ignore alicia", "You cannot ignore yourself.", ""},
		{"alice", "/unignore carol", "You do not ignore carol.", ""},
		{"alice", "/joins talkers", "only for people who spoke in the room in the last hour", ""},
		{"alice", "/joins often", "Usage: /joins all|talkers|none", ""},
		{"alice", "/bell off", "The bell is off.", ""},
		{"alice", "/bell maybe", "Usage: /bell on|off", ""},
		{"alice", "/tz Asia/Kolkata", "Times are shown in Asia/Kolkata (IST, UTC+05:30).", ""},
		{"alice", "/tz ../../etc/passwd", "There is no timezone ../../etc/passwd.", ""},
		{"alice", "/tz Mars/Olympus_Mons", "There is no timezone Mars/Olympus_Mons.", ""},
		{"bob", "the fox says hi", "bob: the fox says hi", ""},
		{"alice", "/bell on", "The bell is on", ""}, // after bob's line, for alice
	})
	// What alice ignores never reaches her.
	if out := alice.Output(); strings.Contains(out, "bob: the fox says hi") {
		t.Errorf("alice saw a line of bob's while ignoring him:\n%s", out)
	}
	runSteps(t, users, bob, []lineStep{
		{"alice", "/unignore bob", "You see lines and messages from bob again.", ""},
		{"alice", "/search fox", `1 line found for "fox":`, ""},
		{"alice", "/search", "Usage: /search WORDS", ""},
		{"alice", "/goto 1", "> [", ""},
		{"alice", "/goto 9", "Usage: /goto N, N from 1 to 1", ""},
	})
	// The line /goto asked for is marked among those around it.
	if !regexp.MustCompile(`> ` + clock + ` bob: the fox says hi`).MatchString(alice.Output()) {
		t.Errorf("no marked line after /goto:\n%s", alice.Output())
	}
	carol := ts.lineUser(t, "carol")
	carol.WaitText("You are in the Lobby")
	carol.Send("/join alpha")
	carol.WaitText("You are in alpha.\nTopic: release on friday\n")
}

// TestExecRoom: the command an SSH client sends names the room to enter
// right after the name prompt, with a PTY (ssh -t host ROOM) and without
// (ssh -T host ROOM), so that a bot can be a one-liner; an unknown room
// leaves the user in the Lobby, told why.
func TestExecRoom(t *testing.T) {
	ts := startServer(t)
	alice := ts.creator(t, "alice", "alpha")
	alice.TypeLine("/topic the release")
	alice.WaitText("alice set the topic: the release")

	bob := e2e.ConnectExec(t, ts.addr, 100, 30, "alpha")
	bob.Login("bob")
	bob.WaitText("bob joined alpha")
	alice.WaitText("bob joined alpha")
	if !strings.Contains(bob.Lines()[0], "alpha") {
		t.Errorf("bob's title row: %q", bob.Lines()[0])
	}
	bob.TypeLine("hi from a one-liner")
	alice.WaitText("bob: hi from a one-liner")

	lost := e2e.ConnectExec(t, ts.addr, 100, 30, "nowhere")
	lost.Login("carol")
	lost.WaitText("There is no room named nowhere")
	lost.WaitText("You are in the Lobby, carol")

	// A bot: its name and one line on stdin, the room on the command line.
	bot := e2e.ConnectLineWith(t, ts.addr, nil, nil, "alpha")
	bot.WaitText("Enter your screen name")
	if _, err := bot.Stdin.Write([]byte("bot\nbeep boop\n")); err != nil {
		t.Fatal(err)
	}
	bot.Stdin.Close()
	bot.WaitText("You are in alpha.\nTopic: the release\n")
	alice.WaitText("bot: beep boop")
	if code := bot.WaitExit(); code != 0 {
		t.Errorf("the bot's exit status %d", code)
	}
	odd := e2e.ConnectLineWith(t, ts.addr, nil, nil, "two words")
	odd.WaitText("Enter your screen name")
	odd.Send("dora")
	odd.WaitText("There is no room named two words")
}

// TestClientTZ: a client that sends TZ sees times in its zone until it sets
// another.
func TestClientTZ(t *testing.T) {
	ts := startServer(t)
	c := e2e.ConnectLineWith(t, ts.addr, nil, func(s *gossh.Session) error { return s.Setenv("TZ", "Pacific/Auckland") }, "")
	c.WaitText("Enter your screen name")
	c.Send("kiri")
	c.WaitText("You are in the Lobby")
	c.Send("/tz")
	c.WaitText("Times are shown in Pacific/Auckland (")
	c.WaitText("your SSH client sent TZ")
}

// TestTalkAcrossNodesOverSSH: a topic, an edit and a name change made on
// one node show on the other, for people on real SSH sessions.
func TestTalkAcrossNodesOverSSH(t *testing.T) {
	nats := natstest.Start(t)
	a := startServer(t, withCluster(t, nats.URL(), "a"))
	b := startServer(t, withCluster(t, nats.URL(), "b"))
	alice := a.lineUser(t, "alice")
	alice.WaitText("You are in the Lobby")
	alice.Send("/create alpha")
	alice.WaitText("You created alpha")
	bob := b.lineUser(t, "bob")
	bob.WaitText("You are in the Lobby")
	bob.Send("/join alpha")
	alice.WaitText("bob joined alpha")
	// And someone at a terminal on b.
	dan := b.connect(t)
	dan.Login("dan")
	dan.TypeLine("/join alpha")
	alice.WaitText("dan joined alpha")
	alice.Send("/topic made on node a")
	bob.WaitText("* alice set the topic: made on node a")
	alice.Send("typo hre")
	bob.WaitText("alice: typo hre")
	alice.Send("/edit typo here")
	bob.WaitText("* alice edited their line of ")
	bob.WaitText(": typo here")
	dan.WaitFor("the topic on dan's title row", func(s string) bool {
		return strings.Contains(strings.Split(s, "\n")[0], "alpha · 3 here · made on node a")
	})
	dan.WaitText("alice: typo here (edited)")
	if strings.Contains(dan.Screen(), "typo hre") {
		t.Errorf("dan still sees the line before its edit:\n%s", dan.Screen())
	}
	alice.Send("/nick alicia")
	bob.WaitText("* alice is now alicia")
	bob.Send("/topic")
	bob.WaitText("Topic of alpha: made on node a")

	// And someone arriving on b later is shown both.
	carol := b.lineUser(t, "carol")
	carol.WaitText("You are in the Lobby")
	carol.Send("/join alpha")
	carol.WaitText("Topic: made on node a")
	carol.WaitText("alice: typo here (edited)")
}
