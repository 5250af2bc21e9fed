// Package lobbytest gives tests a lobby and helpers to drive its sessions.
// The lobby's own tests cannot import it (it imports lobby) and keep theirs.
package lobbytest

import (
	"context"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// New starts a lobby on cfg, which gets what it leaves unset: a
// MemoryStore, a MemoryLog, testutil's logger, room for 1000 sessions, and
// no flood limit (tests type faster than people; a FloodRate set, even to
// its default of 2, keeps it). The lobby is closed when the test ends,
// after the cleanups registered later (what uses the lobby) and before
// those registered earlier (a store or log made for it): call
// testutil.CheckGoroutines first to check that nothing is left running.
func New(t testing.TB, cfg lobby.Config) *lobby.Lobby {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = lobby.NewMemoryStore()
	}
	if cfg.Log == nil {
		cfg.Log = lobby.NewMemoryLog()
	}
	if cfg.Logger == nil {
		cfg.Logger = testutil.Logger(t)
	}
	if cfg.FloodRate == 0 {
		cfg.FloodRate = -1
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 1000
	}
	l, err := lobby.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("lobby.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("lobby.Close: %v", err)
		}
	})
	return l
}

// Register opens a session named name on l, or fails t. The session is
// closed when the test ends.
func Register(t testing.TB, l *lobby.Lobby, name string) *lobby.Session {
	t.Helper()
	s, err := l.Register(context.Background(), name)
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	t.Cleanup(s.Close)
	return s
}

// Exec runs line for s, or fails t.
func Exec(t testing.TB, s *lobby.Session, line string) {
	t.Helper()
	if err := s.Exec(context.Background(), line); err != nil {
		t.Fatalf("%s: Exec(%q): %v", s.Name(), line, err)
	}
}

// WaitLine reads s's events until a line with this text arrives, failing
// t after testutil.WaitTimeout, and returns the texts of the lines it saw
// on the way, that one included; lines of history shown on entering a
// room come as "history: TEXT".
func WaitLine(t testing.TB, s *lobby.Session, text string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
	defer cancel()
	var seen []string
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("%s: waiting for %q: %v (saw %q)", s.Name(), text, err, seen)
		}
		switch ev.Kind {
		case lobby.EventMessage:
			seen = append(seen, ev.Msg.Text)
			if ev.Msg.Text == text {
				return seen
			}
		case lobby.EventEntered:
			for _, m := range ev.History {
				seen = append(seen, "history: "+m.Text)
			}
		}
	}
}
