package sshserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/logthrottle"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// errDiskFull is what SQLite says when the disk fills up.
var errDiskFull = errors.New("database or disk is full (13)")

// diskFullStore is a lobby.Store on a full disk: it reads what it has, and
// every write fails as SQLite's does.
type diskFullStore struct {
	*lobby.MemoryStore
}

func (diskFullStore) CreateRoom(context.Context, lobby.RoomRecord) error {
	return fmt.Errorf("create room: %w", errDiskFull)
}

func (diskFullStore) Append(context.Context, []lobby.Message) error {
	return fmt.Errorf("append: %w", errDiskFull)
}

func (diskFullStore) CountUser(context.Context) (uint64, error) {
	return 0, fmt.Errorf("count user: %w", errDiskFull)
}

// The user-facing sentence for a full disk, and what must never reach a user.
var (
	unavailableSentence = sentence(lobby.ErrUnavailable.Error())
	internalWords       = []string{"disk is full", "(13)", "count user", "database"}
)

// TestDiskFullLogin: on a full disk a login is refused with a plain
// sentence, in line mode and in the TUI, and the cause goes to the log:
// once, then as a count, however many logins fail (issue #8, finding 7).
func TestDiskFullLogin(t *testing.T) {
	e2e.CheckGoroutines(t)
	var logs lockedBuffer
	throttle := logthrottle.New(slog.NewTextHandler(&logs, nil), time.Hour, nil) // Close sums up
	logger := slog.New(throttle)
	ts := startServer(t, withStore(diskFullStore{lobby.NewMemoryStore()}), func(c *Config, lc *lobby.Config) {
		c.Logger, lc.Logger = logger, logger
	})

	const scripts = 10
	for i := range scripts {
		c := ts.lineUser(t, fmt.Sprintf("bot%d", i))
		c.WaitText(unavailableSentence)
		if code := c.WaitExit(); code != 1 {
			t.Errorf("line mode exit status %d, want 1", code)
		}
		for _, w := range internalWords {
			if strings.Contains(c.Output(), w) {
				t.Fatalf("line mode shows %q:\n%s", w, c.Output())
			}
		}
	}

	tui := ts.connect(t)
	tui.WaitText("Enter your screen name")
	tui.TypeLine("alice")
	// The TUI wraps the sentence to the prompt's width: look for its start.
	screen := tui.WaitText("The chat cannot take you right now")
	for _, w := range internalWords {
		if strings.Contains(screen, w) {
			t.Fatalf("TUI shows %q:\n%s", w, screen)
		}
	}
	if !strings.Contains(screen, "Enter your screen name") {
		t.Errorf("TUI left the prompt:\n%s", screen)
	}
	tui.Close()

	ts.stop(t)
	throttle.Close()
	// Every failed login was logged with its cause, but as one line and
	// one count rather than one line each.
	const failures = scripts + 1 // and the TUI's
	log := logs.String()
	var causes, repeated int
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `msg="register: store failed"`) {
			if !strings.Contains(line, "database or disk is full (13)") {
				t.Errorf("log line without the cause: %s", line)
			}
			causes++
			if strings.Contains(line, fmt.Sprintf("repeated=%d", failures-1)) {
				repeated++
			}
		}
	}
	if causes != 2 || repeated != 1 {
		t.Errorf("%d log lines for %d failed logins (%d with the count of the rest), want the first and one count:\n%s", causes, failures, repeated, log)
	}
}
