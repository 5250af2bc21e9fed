package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestLoggerThrottlesRepeatedErrors: the server's logger writes an error
// that keeps happening once, then the count of repeats when flushed.
func TestLoggerThrottlesRepeatedErrors(t *testing.T) {
	var buf bytes.Buffer
	logger, flush := newLogger(&buf, defaultOps)
	for range 1000 {
		logger.With("part", "lobby").Error("register: store failed", "err", "database or disk is full (13)")
	}
	logger.Info("signed in", "name", "alice")
	logger.Info("signed in", "name", "bob")
	if n := strings.Count(buf.String(), "register: store failed"); n != 1 {
		t.Fatalf("%d lines of the repeated error before the flush, want 1:\n%s", n, buf.String())
	}
	if n := strings.Count(buf.String(), "signed in"); n != 2 {
		t.Errorf("%d info lines, want both:\n%s", n, buf.String())
	}
	flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "register: store failed") || !strings.Contains(last, "repeated=999") {
		t.Errorf("last line %q, want the error with repeated=999", last)
	}
}
