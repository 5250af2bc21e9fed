package sshserver

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestLineModeChatsWithTUIUser(t *testing.T) {
	e2e.CheckGoroutines(t)
	ts := startServer(t)
	tuiUser := ts.creator(t, "alice", "alpha")
	tuiUser.TypeLine("before the bot came")

	bot := ts.connectLine(t)
	bot.WaitText("Welcome to the Lobby. Enter your screen name:")
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
	e2e.CheckGoroutines(t)
	ts := startServer(t)
	bot := ts.connectLine(t)
	bot.WaitText("Enter your screen name")
	bot.Send("")
	bot.WaitText("You are in the Lobby")
	if err := bot.Stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if code := bot.WaitExit(); code != 0 {
		t.Fatalf("end of input exited with %d, want 0", code)
	}
	e2e.Eventually(t, "the guest to leave", func() bool { return ts.lobby.Online() == 0 })
}

// TestLineModeScriptSeesItsOwnLines is `printf 'bot\n/join alpha\nhi\n' |
// ssh -T host`: all input at once, then end of input. The script's output
// must still show its own line, and everyone else gets it too.
func TestLineModeScriptSeesItsOwnLines(t *testing.T) {
	e2e.CheckGoroutines(t)
	ts := startServer(t)
	alice := ts.creator(t, "alice", "alpha")
	bot := ts.connectLine(t)
	bot.WaitText("Enter your screen name")
	if _, err := io.WriteString(bot.Stdin, "bot\n/join alpha\nhi from a script\n"); err != nil {
		t.Fatal(err)
	}
	if err := bot.Stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if code := bot.WaitExit(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	if out := bot.Output(); !strings.Contains(out, "bot: hi from a script") || !strings.Contains(out, "Goodbye, bot.") {
		t.Fatalf("the script's output lacks its own line or the good-bye:\n%s", out)
	}
	alice.WaitText("bot: hi from a script")
}

func TestLineModeOverlongLineIsRefused(t *testing.T) {
	e2e.CheckGoroutines(t)
	ts := startServer(t)
	bot := ts.lineUser(t, "bot")
	bot.Send("/create alpha")
	bot.WaitText("You created alpha")
	bot.Send(strings.Repeat("x", 200_000))
	bot.WaitText(fmt.Sprintf("over %d bytes", maxLineBytes))
	bot.Send("still here")
	bot.WaitText("bot: still here")
}

func TestFormatEvent(t *testing.T) {
	at := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	chat := lobby.Message{Room: "alpha", At: at, From: "alice", Kind: lobby.KindChat, Text: "hello"}
	join := lobby.Message{Room: "alpha", At: at, From: "bob", Kind: lobby.KindSystem, Text: "bob joined alpha"}
	tests := []struct {
		name string
		ev   lobby.Event
		want []string
	}{
		{"chat line", lobby.Event{Kind: lobby.EventMessage, Msg: &chat}, []string{"[15:04] alice: hello"}},
		{"system line", lobby.Event{Kind: lobby.EventMessage, Msg: &join}, []string{"* bob joined alpha"}},
		{"notice of two lines", lobby.Event{Kind: lobby.EventNotice, Text: "Rooms:\n  alpha (2 users)"}, []string{"Rooms:", "  alpha (2 users)"}},
		{"the Lobby", lobby.Event{Kind: lobby.EventEntered}, []string{"You are in the Lobby. Type /commands to see what you can do."}},
		{"a new room", lobby.Event{Kind: lobby.EventEntered, Room: "alpha"}, []string{"You are in alpha."}},
		{"one line of history", lobby.Event{Kind: lobby.EventEntered, Room: "alpha", History: []lobby.Message{join}},
			[]string{"You are in alpha.", "-- history: the last line --", "* bob joined alpha", "-- end of history --"}},
		{"two lines of history", lobby.Event{Kind: lobby.EventEntered, Room: "alpha", History: []lobby.Message{join, chat}},
			[]string{"You are in alpha.", "-- history: the last 2 lines --", "* bob joined alpha", "[15:04] alice: hello", "-- end of history --"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatEvent(tc.ev, time.UTC, at); !slices.Equal(got, tc.want) {
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
		{"an older day", lobby.Event{Kind: lobby.EventMessage, Msg: &yesterday}, time.UTC, []string{"[2026-11-25 15:04] * bob waves"}},
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
			if got := formatEvent(tc.ev, tc.loc, at); !slices.Equal(got, tc.want) {
				t.Errorf("formatEvent =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
