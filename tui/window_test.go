package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// TestLargeWindowIsDrawnAtMostMaxSize: a window over MaxWidth×MaxHeight is
// drawn at that size and the UI says so, whether the size comes from
// Options, a tea.WindowSizeMsg, or a TerminalSizeMsg followed by the
// clamped size the SSH server gives the program.
func TestLargeWindowIsDrawnAtMostMaxSize(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 1000, 1000)
	h.waitText("window 1000×1000: showing 400×150")
	h.login("alice")

	steps := []struct {
		name         string
		msgs         []tea.Msg
		wantW, wantH int
		notice       string // "" for none
	}{
		{"from Options and WindowSizeMsg", nil, 400, 150, "window 1000×1000: showing 400×150"},
		{"the server's pair", []tea.Msg{TerminalSizeMsg{1200, 900}, tea.WindowSizeMsg{Width: 400, Height: 150}}, 400, 150, "window 1200×900: showing 400×150"},
		{"back to a small window", []tea.Msg{TerminalSizeMsg{80, 24}, tea.WindowSizeMsg{Width: 80, Height: 24}}, 80, 24, ""},
		{"only too tall", []tea.Msg{TerminalSizeMsg{120, 500}, tea.WindowSizeMsg{Width: 120, Height: 150}}, 120, 150, "window 120×500: showing 120×150"},
		{"exactly the largest", []tea.Msg{tea.WindowSizeMsg{Width: 400, Height: 150}}, 400, 150, ""},
		{"a plain WindowSizeMsg over the limit", []tea.Msg{tea.WindowSizeMsg{Width: 401, Height: 151}}, 400, 150, "window 401×151: showing 400×150"},
	}
	for _, st := range steps {
		for _, m := range st.msgs {
			h.send(m)
		}
		rows := rowsOf(h.screen())
		if len(rows) != st.wantH {
			t.Errorf("%s: %d rows drawn, want %d", st.name, len(rows), st.wantH)
		}
		widest := 0
		for _, r := range rows {
			widest = max(widest, ansi.StringWidth(r))
		}
		if widest != st.wantW {
			t.Errorf("%s: widest row %d cells, want %d", st.name, widest, st.wantW)
		}
		status := rows[len(rows)-2-h.m.helpRows]
		switch {
		case st.notice == "" && strings.Contains(status, "showing"):
			t.Errorf("%s: status line %q has a size notice, want none", st.name, status)
		case st.notice != "" && !strings.Contains(status, st.notice):
			t.Errorf("%s: status line %q, want it to say %q", st.name, status, st.notice)
		}
	}
}
