package sshserver

import (
	"sync"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// countingObserver counts what a server tells its Observer.
type countingObserver struct {
	mu      sync.Mutex
	open    map[string]int
	refused map[string]int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{open: make(map[string]int), refused: make(map[string]int)}
}

func (o *countingObserver) SessionOpened(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[kind]++
}

func (o *countingObserver) SessionClosed(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[kind]--
}

func (o *countingObserver) SessionRefused(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused[reason]++
}

func (o *countingObserver) counts() (tui, line, full int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.open[KindTUI], o.open[KindLine], o.refused[RefusedFull]
}

func TestObserverCountsSessionsByKind(t *testing.T) {
	obs := newCountingObserver()
	ts := startServer(t, withMaxSessions(2), func(c *Config, _ *lobbyConfig) { c.Observer = obs })
	want := func(what string, tui, line, full int) {
		t.Helper()
		testutil.Eventually(t, what, func() bool {
			a, b, c := obs.counts()
			return a == tui && b == line && c == full
		})
	}
	term := ts.connect(t)
	term.WaitText(lobby.Prompt)
	want("one TUI session", 1, 0, 0)
	line := ts.lineUser(t, "bob")
	line.WaitText("You are in the Lobby")
	want("a TUI and a line session", 1, 1, 0)

	over := ts.connectLine(t)
	over.WaitText("Server is full")
	want("a refusal as full", 1, 1, 1)

	line.Send("/quit")
	line.WaitText("Goodbye")
	want("the line session closed", 1, 0, 1)
	term.Close()
	want("no session open", 0, 0, 1)
}
