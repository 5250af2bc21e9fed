package logthrottle

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a slog.Handler that keeps what it is given, as text.
type recorder struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

func newRecorder() *recorder { return &recorder{mu: new(sync.Mutex), lines: new([]string)} }

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recorder{mu: r.mu, lines: r.lines, attrs: append(append([]slog.Attr{}, r.attrs...), attrs...)}
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
	for _, a := range r.attrs {
		fmt.Fprintf(&b, " %s", a)
	}
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s", a)
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.lines = append(*r.lines, b.String())
	return nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), *r.lines...)
}

func TestThrottle(t *testing.T) {
	rec := newRecorder()
	h := New(rec, time.Hour, nil) // no interval ends during the test: Close sums up
	log := slog.New(h)
	for i := range 1000 {
		log.Error("count user", "err", fmt.Sprintf("disk full %d", i))
	}
	log.Warn("count user", "err", "slow") // another level: another group
	log.Error("create room", "err", "disk full")
	for range 3 {
		log.Info("signed in", "name", "alice") // below Warn: never held back
	}
	h.Close()
	log.Error("count user", "err", "after close") // passes: nothing left to sum it up
	want := []string{
		"ERROR count user err=disk full 0",
		"WARN count user err=slow",
		"ERROR create room err=disk full",
		"INFO signed in name=alice",
		"INFO signed in name=alice",
		"INFO signed in name=alice",
		"ERROR count user err=disk full 999 repeated=999 interval=1h0m0s",
		"ERROR count user err=after close",
	}
	if got := rec.got(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestThrottleSharedByDerivedLoggers: one message through loggers with
// different attributes (one per session) is one group, and its summary
// carries the attributes of the last record held back.
func TestThrottleSharedByDerivedLoggers(t *testing.T) {
	rec := newRecorder()
	h := New(rec, time.Hour, nil)
	base := slog.New(h).With("part", "ssh")
	for i := range 5 {
		base.With("remote", fmt.Sprint(i)).Error("register", "err", "disk full")
	}
	h.Close()
	want := []string{
		"ERROR register part=ssh remote=0 err=disk full",
		"ERROR register part=ssh remote=4 err=disk full repeated=4 interval=1h0m0s",
	}
	if got := rec.got(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestThrottleIntervals: during a storm one summary per interval goes out by
// itself; after a quiet interval the message passes at once again.
func TestThrottleIntervals(t *testing.T) {
	rec := newRecorder()
	const interval = 20 * time.Millisecond
	h := New(rec, interval, nil)
	defer h.Close()
	log := slog.New(h)
	log.Error("store history", "n", 0)
	log.Error("store history", "n", 1)
	log.Error("store history", "n", 2)
	waitFor(t, rec, func(lines []string) bool { return len(lines) == 2 })
	if got := rec.got(); got[0] != "ERROR store history n=0" || got[1] != "ERROR store history n=2 repeated=2 interval=20ms" {
		t.Fatalf("got %q", got)
	}
	// The interval after the summary saw nothing: the group ends, and the
	// next record is a first again.
	waitFor(t, rec, func([]string) bool {
		h.state.mu.Lock()
		defer h.state.mu.Unlock()
		return len(h.state.groups) == 0
	})
	log.Error("store history", "n", 3)
	if got := rec.got(); len(got) != 3 || got[2] != "ERROR store history n=3" {
		t.Fatalf("got %q", got)
	}
}

func TestThrottleLevelOption(t *testing.T) {
	rec := newRecorder()
	h := New(rec, time.Hour, &Options{Level: slog.LevelInfo})
	log := slog.New(h)
	log.Info("signed in")
	log.Info("signed in")
	log.Debug("x")
	log.Debug("x")
	h.Close()
	want := []string{"INFO signed in", "DEBUG x", "DEBUG x", "INFO signed in repeated=1 interval=1h0m0s"}
	if got := rec.got(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestThrottleConcurrent: many goroutines logging the same error lose no
// count: first plus repeats add up to what was logged.
func TestThrottleConcurrent(t *testing.T) {
	rec := newRecorder()
	h := New(rec, time.Millisecond, nil)
	log := slog.New(h)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				log.Error("disk full")
			}
		})
	}
	wg.Wait()
	h.Close()
	total := 0
	for _, l := range rec.got() {
		var n int
		if _, err := fmt.Sscanf(l, "ERROR disk full repeated=%d", &n); err == nil {
			total += n
		} else if l == "ERROR disk full" {
			total++
		} else {
			t.Fatalf("unexpected line %q", l)
		}
	}
	if total != goroutines*each {
		t.Errorf("lines account for %d records, want %d", total, goroutines*each)
	}
}

func waitFor(t *testing.T, rec *recorder, cond func([]string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(rec.got()) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met; lines: %q", rec.got())
		}
		time.Sleep(time.Millisecond)
	}
}
