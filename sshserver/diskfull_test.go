package sshserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/logthrottle"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// errDiskFull is what SQLite says when the disk fills up.
var errDiskFull = errors.New("database or disk is full (13)")

// diskFullLog is a node's own log on a full disk: every append fails as
// SQLite's does.
type diskFullLog struct {
	*lobby.MemoryLog
}

func (diskFullLog) Append(context.Context, string, []lobby.Change) (uint64, error) {
	return 0, fmt.Errorf("append to the log: %w", errDiskFull)
}

// The user-facing sentence for a full disk, and what must never reach a user.
var (
	unavailableSentence = lobby.Sentence(lobby.ErrUnavailable.Error())
	internalWords       = []string{"disk is full", "(13)", "append", "database"}
)

// TestDiskFullLogin: on a full disk a connection is refused with a plain
// sentence, in line mode and in the TUI (it cannot even take a slot, which
// is a change of the chat), and the cause goes to the log: once, then as a
// count, however many connections fail (issue #8, finding 7).
func TestDiskFullLogin(t *testing.T) {
	testutil.CheckGoroutines(t)
	var logs testutil.LockedBuffer
	throttle := logthrottle.New(slog.NewTextHandler(&logs, nil), time.Hour, nil) // Close sums up
	logger := slog.New(throttle)
	ts := startServer(t, func(c *Config, lc *lobby.Config) {
		c.Logger, lc.Logger = logger, logger
		lc.Log = diskFullLog{lobby.NewMemoryLog()}
	})

	const scripts = 10
	for range scripts {
		c := ts.connectLine(t)
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
	screen := tui.WaitText("The chat cannot take you right now")
	for _, w := range internalWords {
		if strings.Contains(screen, w) {
			t.Fatalf("TUI shows %q:\n%s", w, screen)
		}
	}
	if code := tui.WaitExit(); code != 1 {
		t.Errorf("TUI exit status %d, want 1", code)
	}

	ts.stop(t)
	throttle.Close()
	// Every failed login was logged with its cause, but as one line and
	// one count rather than one line each.
	const failures = scripts + 1 // and the TUI's
	log := logs.String()
	var causes, repeated int
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `msg="append to the log"`) {
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
