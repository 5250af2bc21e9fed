// Package testutil holds what the tests of every package share: a quiet
// logger, a wait for a condition with a deadline, the check that no
// goroutine outlives its test, and whether the race detector is on. It
// imports nothing of chatroom, so that the lobby's own tests can use it; a
// lobby for tests is package lobbytest.
package testutil

import (
	"bytes"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// WaitTimeout bounds every wait in the tests: generous, because CI runs the
// race detector on two shared cores, yet short enough that a hang fails
// rather than stalls the suite.
const WaitTimeout = 15 * time.Second

// Logger is a logger for code under test: silent, or with -v written to
// t's log.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Eventually waits until cond holds, looking every few milliseconds, and
// fails t if it does not within WaitTimeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CheckGoroutines fails t if goroutines started during it are still running
// (after a grace of WaitTimeout) when it ends. Call it first: it counts the
// goroutines running now, and checks after every cleanup registered later.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { WaitGoroutines(t, before) })
}

// WaitGoroutines waits until at most want goroutines run, and fails t with
// a dump of them all if that takes longer than WaitTimeout.
func WaitGoroutines(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines outlive the test (%d before):\n%s", n-want, want, buf)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// SkipUnderRace skips a test whose assertions are about time: the race
// detector slows everything down many times over. CI runs such tests
// again without it (.ci/run: tests named TestTiming...).
func SkipUnderRace(t testing.TB) {
	t.Helper()
	if RaceEnabled {
		t.Skip("timing-sensitive: run without -race (see .ci/run)")
	}
}

// LockedBuffer is a bytes.Buffer that several goroutines may write, such as
// the loggers of a server under test.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
