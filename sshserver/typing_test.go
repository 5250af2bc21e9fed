package sshserver

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// TestTypingPastTheCap types more than a message holds without bracketed
// paste, as a script writing to its terminal does: every byte is a key. The
// input keeps the first MaxMessageLen characters, says once that it is full,
// and Enter sends exactly those.
func TestTypingPastTheCap(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	bot := ts.lineCreator(t, "bot", "alpha")

	c := ts.connectSized(t, 100, 60) // tall enough for the notice and the line
	c.Login("typer")
	c.TypeLine("/join alpha")
	bot.WaitText("typer joined alpha")
	typed := "start" + strings.Repeat("a", lobby.MaxMessageLen+500)
	if _, err := c.Emu.InputPipe().Write([]byte(typed)); err != nil {
		t.Fatal(err)
	}
	c.WaitText("the input is full")
	c.TypeLine("")
	bot.WaitFor("the whole line", func(out string) bool {
		_, line, ok := strings.Cut(out, "typer: start")
		return ok && strings.Contains(line, "\n")
	})
	_, line, _ := strings.Cut(bot.Output(), "typer: ")
	line, _, _ = strings.Cut(line, "\n")
	line = strings.TrimRight(line, "\r")
	if want := typed[:lobby.MaxMessageLen]; line != want {
		t.Fatalf("sent a line of %d characters, want the first %d typed", utf8.RuneCountInString(line), lobby.MaxMessageLen)
	}
	if n := strings.Count(c.Screen(), "the input is full"); n != 1 {
		t.Fatalf("the notice is on screen %d times, want once:\n%s", n, c.Screen())
	}
}
