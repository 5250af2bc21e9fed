package sshserver

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestLineModeChatsWithTUIUser(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	tuiUser := ts.creator(t, "alice", "alpha")
	tuiUser.TypeLine("before the bot came")

	bot := ts.connectLine(t)
	bot.WaitText(lobby.Prompt)
	bot.Send("alice")
	bot.WaitText("taken")
	bot.Send("bot")
	bot.WaitText("You are in the Lobby")
	bot.Send("list")
	bot.WaitText("alpha (1 user)")
	bot.Send("join alpha")
	bot.WaitText("alice: before the bot came") // history
	tuiUser.WaitText("bot joined alpha")
	bot.Send("hello from a script \x1b]0;pwned\x07")
	tuiUser.WaitText("bot: hello from a script")
	tuiUser.TypeLine("hi bot \x1b[31mred")
	bot.WaitText("alice: hi bot")
	bot.Send("/quit")
	if code := bot.WaitExit(); code != 0 {
		t.Fatalf("/quit exited with %d, want 0", code)
	}
	bot.WaitText("Goodbye, bot.")
	for i, r := range bot.Output() {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError {
			t.Fatalf("line mode output carries control %U at byte %d", r, i)
		}
	}
	tuiUser.WaitText("bot left alpha")
}

func TestLineModeEndOfInputQuits(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	bot := ts.connectLine(t)
	bot.WaitText(lobby.Prompt)
	bot.Send("")
	bot.WaitText("You are in the Lobby")
	if err := bot.Stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if code := bot.WaitExit(); code != 0 {
		t.Fatalf("end of input exited with %d, want 0", code)
	}
	testutil.Eventually(t, "the guest to leave", func() bool { return ts.lobby.Online() == 0 })
}

// TestLineModeScriptSeesItsOwnLines is `printf 'bot\n/join alpha\nhi\n' |
// ssh -T host`: all input at once, then end of input. The script's output
// must still show its own line, and everyone else gets it too.
func TestLineModeScriptSeesItsOwnLines(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	alice := ts.creator(t, "alice", "alpha")
	if out := ts.script(t, "bot\n/join alpha\nhi from a script\n"); !strings.Contains(out, "bot: hi from a script") || !strings.Contains(out, "Goodbye, bot.") {
		t.Fatalf("the script's output lacks its own line or the good-bye:\n%s", out)
	}
	alice.WaitText("bot: hi from a script")
}

func TestLineModeOverlongLineIsRefused(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	bot := ts.lineCreator(t, "bot", "alpha")
	bot.Send(strings.Repeat("x", 200_000))
	bot.WaitText(fmt.Sprintf("over %d bytes", maxLineBytes))
	bot.Send("still here")
	bot.WaitText("bot: still here")
}

func TestFormatEvent(t *testing.T) {
	at := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	now := at.Add(3 * time.Hour)
	chat := lobby.Message{Room: "alpha", At: at, From: "alice", Kind: lobby.KindChat, Text: "hello"}
	yesterday := lobby.Message{Room: "alpha", At: at.AddDate(0, 0, -1), From: "alice", Kind: lobby.KindChat, Text: "hello"}
	lastYear := lobby.Message{Room: "alpha", At: at.AddDate(-1, 0, 0), From: "alice", Kind: lobby.KindChat, Text: "hello"}
	join := lobby.Message{Room: "alpha", At: at, From: "bob", Kind: lobby.KindSystem, Text: "bob joined alpha"}
	mine := lobby.Message{Room: "@alice@me", At: at, From: "me", Kind: lobby.KindChat, Text: "mine"}
	chat1, join5 := chat, join
	chat1.Seq, join5.Seq = 1, 5
	mine2 := mine
	mine2.Seq = 2
	chat6 := lobby.Message{Room: "alpha", Seq: 6, At: at, From: "alice", Kind: lobby.KindChat, Text: "six"}
	chat7 := lobby.Message{Room: "alpha", Seq: 7, At: at, From: "alice", Kind: lobby.KindChat, Text: "seven"}
	plus10 := time.FixedZone("UTC+10", 10*3600) // 01:04 on the 27th there, today too
	tests := []struct {
		name string
		ev   lobby.Event
		loc  *time.Location // UTC when nil
		want []string
	}{
		{"chat line", lobby.Event{Kind: lobby.EventMessage, Msg: &chat}, nil, []string{"[15:04] alice: hello"}},
		{"system line", lobby.Event{Kind: lobby.EventMessage, Msg: &join}, nil, []string{"* bob joined alpha"}},
		{"chat line of yesterday", lobby.Event{Kind: lobby.EventMessage, Msg: &yesterday}, nil, []string{"[Nov 25 15:04] alice: hello"}},
		{"chat line of last year", lobby.Event{Kind: lobby.EventMessage, Msg: &lastYear}, nil, []string{"[2025-11-26 15:04] alice: hello"}},
		{"chat line in another zone", lobby.Event{Kind: lobby.EventMessage, Msg: &chat}, plus10, []string{"[01:04] alice: hello"}},
		{"notice of two lines", lobby.Event{Kind: lobby.EventNotice, Text: "Rooms:\n  alpha (2 users)"}, nil, []string{"Rooms:", "  alpha (2 users)"}},
		{"the Lobby", lobby.Event{Kind: lobby.EventEntered}, nil, []string{"You are in the Lobby. Type /commands to see what you can do."}},
		{"a new room", lobby.Event{Kind: lobby.EventEntered, Room: "alpha"}, nil, []string{"You are in alpha."}},
		{"one line of history", lobby.Event{Kind: lobby.EventEntered, Room: "alpha", History: []lobby.Message{join}}, nil,
			[]string{"You are in alpha.", "-- history: the last line --", "* bob joined alpha", "-- end of history --"}},
		{"two lines of history", lobby.Event{Kind: lobby.EventEntered, Room: "alpha", History: []lobby.Message{join, chat}}, nil,
			[]string{"You are in alpha.", "-- history: the last 2 lines --", "* bob joined alpha", "[15:04] alice: hello", "-- end of history --"}},
		{"history with new lines", lobby.Event{Kind: lobby.EventEntered, Room: "alpha", History: []lobby.Message{chat1, join5, chat6, chat7}, NewFrom: 5}, nil,
			[]string{"You are in alpha.", "-- history: the last 4 lines --", "[15:04] alice: hello", "* bob joined alpha", "-- new --", "[15:04] alice: six", "[15:04] alice: seven", "-- end of history --"}},
		{"a direct message", lobby.Event{Kind: lobby.EventDirect, Msg: &chat, With: "alice"}, nil, []string{"[15:04] alice → you: hello"}},
		{"the sender's echo", lobby.Event{Kind: lobby.EventDirect, Msg: &mine, With: "alice"}, nil, []string{"[15:04] you → alice: mine"}},
		{"a line of the conversation you are in", lobby.Event{Kind: lobby.EventMessage, Msg: &chat, With: "alice"}, nil, []string{"[15:04] alice → you: hello"}},
		{"a mention elsewhere", lobby.Event{Kind: lobby.EventMention, Msg: &chat}, nil, []string{"[15:04] alice mentioned you in alpha: hello"}},
		{"a conversation", lobby.Event{Kind: lobby.EventEntered, Room: "@alice", With: "alice", History: []lobby.Message{chat1, mine2}, NewFrom: 1}, nil,
			[]string{"You are in your conversation with alice: what you type goes to them. /leave ends it.", "-- history: the last 2 lines --", "-- new --", "[15:04] alice → you: hello", "[15:04] you → alice: mine", "-- end of history --"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := cmp.Or(tc.loc, time.UTC)
			if got := formatEvent(tc.ev, now, loc, "me"); !slices.Equal(got, tc.want) {
				t.Errorf("formatEvent = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFormatTalk: the talking events as line clients read them, in the
// user's zone; a block of lines indented under its author.
func TestFormatTalk(t *testing.T) {
	at := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	block := lobby.Message{Room: "alpha", Seq: 3, At: at, From: "alice", Kind: lobby.KindChat, Text: "first\nadmin: second\n  third"}
	action := lobby.Message{Room: "alpha", Seq: 4, At: at, From: "bob", Kind: lobby.KindAction, Text: "waves"}
	edited := block
	edited.Text, edited.Edited = "fixed", at.Add(time.Minute)
	deleted := block
	deleted.Text, deleted.Deleted = "", true
	yesterday := action
	yesterday.At = at.Add(-24 * time.Hour)
	tests := []struct {
		name string
		ev   lobby.Event
		loc  *time.Location
		want []string
	}{
		{"block", lobby.Event{Kind: lobby.EventMessage, Msg: &block}, time.UTC,
			[]string{"[15:04] alice: first", "               admin: second", "                 third"}},
		{"in the user's zone", lobby.Event{Kind: lobby.EventMessage, Msg: &action}, paris, []string{"[16:04] * bob waves"}},
		{"an older day", lobby.Event{Kind: lobby.EventMessage, Msg: &yesterday}, time.UTC, []string{"[Nov 25 15:04] * bob waves"}},
		{"edited in history", lobby.Event{Kind: lobby.EventMessage, Msg: &edited}, time.UTC, []string{"[15:04] alice: fixed (edited)"}},
		{"deleted in history", lobby.Event{Kind: lobby.EventMessage, Msg: &deleted}, time.UTC, []string{"[15:04] alice: (message deleted)"}},
		{"an edit", lobby.Event{Kind: lobby.EventEdited, Msg: &edited}, time.UTC, []string{"* alice edited their line of 15:04: fixed"}},
		{"a deletion", lobby.Event{Kind: lobby.EventEdited, Msg: &deleted}, time.UTC, []string{"* alice deleted their line of 15:04"}},
		{"renamed", lobby.Event{Kind: lobby.EventNamed, Text: "alicia"}, time.UTC, []string{"You are now alicia."}},
		{"topic on arrival", lobby.Event{Kind: lobby.EventEntered, Room: "alpha", Topic: "plans"}, time.UTC, []string{"You are in alpha.", "Topic: plans"}},
		{"a topic change is the room's line", lobby.Event{Kind: lobby.EventTopic, Room: "alpha", Topic: "plans"}, time.UTC, nil},
		{"search results", lobby.Event{Kind: lobby.EventSearch, Text: "1 line found:\n  1. x"}, time.UTC, []string{"1 line found:", "  1. x"}},
		{"a jump", lobby.Event{Kind: lobby.EventJump, Room: "alpha", Seq: 4, History: []lobby.Message{block, action}}, time.UTC, []string{
			"-- alpha, the lines around the one you asked for (marked >) --",
			"  [15:04] alice: first", "                 admin: second", "                   third",
			"> [15:04] * bob waves",
			"-- end; the room goes on from its newest lines --"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatEvent(tc.ev, at, tc.loc, "me"); !slices.Equal(got, tc.want) {
				t.Errorf("formatEvent =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestLineModeOutputComesInInputOrder is `printf 'bot\n/join general\nhello\n/list\n'
// | ssh -T host`: everything the script's input causes comes back in the
// order of the input, so the reply to /list follows the script's own hello
// (issue #9: it used to overtake it).
func TestLineModeOutputComesInInputOrder(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	owner := ts.lineCreator(t, "owner", "general")

	out := ts.script(t, "bot\n/join general\nhello\n/list\n")
	at := func(text string) int {
		i := strings.Index(out, text)
		if i < 0 {
			t.Fatalf("the output lacks %q:\n%s", text, out)
		}
		return i
	}
	joined, hello, list := at("You are in general."), at("bot: hello"), at("Rooms:")
	if !(joined < hello && hello < list) {
		t.Fatalf("output out of the input's order (joined at %d, hello at %d, the /list reply at %d):\n%s", joined, hello, list, out)
	}
	owner.WaitText("bot: hello")
}
