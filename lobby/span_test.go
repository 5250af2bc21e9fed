package lobby

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string // part of the refusal; "" for none
	}{
		{"10m", 10 * time.Minute, ""},
		{"2h", 2 * time.Hour, ""},
		{"7d", 7 * 24 * time.Hour, ""},
		{"1w", 7 * 24 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"2H", 2 * time.Hour, ""},
		{"366d", MaxSpan, ""},
		{"-5m", 0, "cannot be negative"},
		{"99999d", 0, "lasts 366d at most"},
		{"367d", 0, "lasts 366d at most"},
		{"53w", 0, "lasts 366d at most"},
		{"99999999999999999999m", 0, "lasts 366d at most"},
		{"abc", 0, "abc is not one"},
		{"10", 0, "10 is not one"},
		{"m", 0, "m is not one"},
		{"10s", 0, "10s is not one"},
		{"1.5h", 0, "1.5h is not one"},
		{"+5m", 0, "+5m is not one"},
		{"0m", 0, "no time at all"},
		{"0d0h", 0, "no time at all"},
		{"", 0, "A duration is a whole number"},
		{"5m\x1b[2J", 0, "; 5m is not one."}, // the sequence is not echoed
		{"107000d", 0, "lasts 366d at most"}, // found by FuzzParseSpan: days of minutes overflowed
	}
	for _, tc := range tests {
		got, why := parseSpan(tc.in)
		switch {
		case tc.err == "" && (why != "" || got != tc.want):
			t.Errorf("parseSpan(%q) = %v, %q; want %v", tc.in, got, why, tc.want)
		case tc.err != "" && !strings.Contains(why, tc.err):
			t.Errorf("parseSpan(%q) = %v, %q; want a refusal containing %q", tc.in, got, why, tc.err)
		}
	}
	for _, d := range []time.Duration{time.Minute, 90 * time.Minute, 36 * time.Hour, 7 * 24 * time.Hour, MaxSpan} {
		if back, why := parseSpan(formatSpan(d)); why != "" || back != d {
			t.Errorf("formatSpan(%v) = %q, which reads back as %v, %q", d, formatSpan(d), back, why)
		}
	}
}

// FuzzParseSpan: whatever a user types as a duration, parseSpan either
// gives a span within the bounds, which formatSpan writes back to the same
// span, or refuses it in one inert sentence.
func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"10m", "2h", "7d", "1h30m", "-5m", "99999d", "abc", "0m", "", "9223372036854775807m", "1w1d1h1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, msg := parseSpan(s)
		if msg != "" {
			if !strings.HasSuffix(msg, ".") || strings.ContainsAny(msg, "\n\x1b") || !utf8.ValidString(msg) {
				t.Fatalf("parseSpan(%q) refused with %q: not one inert sentence", s, msg)
			}
			return
		}
		if d <= 0 || d > MaxSpan || d%time.Minute != 0 {
			t.Fatalf("parseSpan(%q) = %v, out of bounds", s, d)
		}
		if back, why := parseSpan(formatSpan(d)); why != "" || back != d {
			t.Fatalf("parseSpan(%q) = %v, written %q, read back %v, %q", s, d, formatSpan(d), back, why)
		}
	})
}
