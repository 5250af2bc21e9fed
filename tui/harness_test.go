package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// harness drives a Model the way a tea.Program would, but in the test's
// goroutine: each Cmd runs on its own goroutine and its message comes back
// through a channel, and the test decides when to feed messages to Update.
// That makes the screen (View) inspectable at every step.
type harness struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	ctx  context.Context
	wg   sync.WaitGroup
	quit bool
	// bells counts the BELs the model wrote (tea.Raw).
	bells int
}

func newHarness(t *testing.T, l *lobby.Lobby, w, h int) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hs := &harness{t: t, msgs: make(chan tea.Msg), ctx: ctx}
	hs.m = New(Options{Lobby: l, Context: ctx, MaxSessions: 10, Width: w, Height: h})
	// Cleanups run last-in first-out, so this runs before the lobby's
	// Close: the session is closed, the pump returns, and every goroutine
	// this harness started has ended before the test does.
	t.Cleanup(func() {
		if s := hs.m.Session(); s != nil {
			s.Close()
		}
		cancel()
		hs.wg.Wait()
	})
	hs.run(hs.m.Init())
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		msg := cmd()
		select {
		case h.msgs <- msg:
		case <-h.ctx.Done():
		}
	}()
}

// send hands msg to Update (or expands a batch) and starts the Cmd it returns.
func (h *harness) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
		return
	case tea.QuitMsg:
		h.quit = true
		return
	case tea.RawMsg:
		if msg.Msg == "\a" {
			h.bells++
		}
		return
	}
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

// waitFor feeds messages from running Cmds to Update until cond holds for
// the screen, failing after a deadline.
func (h *harness) waitFor(what string, cond func(screen string) bool) {
	h.t.Helper()
	deadline := time.After(testutil.WaitTimeout)
	for {
		if cond(h.screen()) {
			return
		}
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
		}
	}
}

func (h *harness) waitText(s string) {
	h.t.Helper()
	h.waitFor(strconvQuote(s), func(sc string) bool { return strings.Contains(sc, s) })
}

// waitQuit processes messages until the model has asked to quit.
func (h *harness) waitQuit() {
	h.t.Helper()
	deadline := time.After(testutil.WaitTimeout)
	for !h.quit {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-deadline:
			h.t.Fatalf("timed out waiting for quit; screen:\n%s", h.screen())
		}
	}
}

// settle feeds messages until none arrives for a short while: for checks
// that something did not happen.
func (h *harness) settle() {
	for {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (h *harness) key(code rune, mod ...tea.KeyMod) {
	k := tea.KeyPressMsg{Code: code}
	for _, md := range mod {
		k.Mod |= md
	}
	h.send(k)
}

func (h *harness) enter() { h.key(tea.KeyEnter) }

// line types s and presses Enter.
func (h *harness) line(s string) {
	h.typeText(s)
	h.enter()
}

// login registers name through the prompt and waits for the Lobby screen.
func (h *harness) login(name string) {
	h.t.Helper()
	h.line(name)
	h.waitText(" " + name + " · Lobby · ")
}

// create makes room, which the signed-in user is then in.
func (h *harness) create(room string) {
	h.t.Helper()
	h.line("/create " + room)
	h.waitText(h.m.me + " joined " + room)
}

func strconvQuote(s string) string { return "\"" + s + "\"" }

// rowsOf splits a screen into its rows.
func rowsOf(screen string) []string { return strings.Split(screen, "\n") }
