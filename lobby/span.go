package lobby

import (
	"fmt"
	"strings"
	"time"
)

// MaxSpan is the longest a ban or a mute may be given for; one meant to last
// longer is given without a duration, until it is lifted.
const MaxSpan = 366 * 24 * time.Hour

// spanUnits are the units a ban's or a mute's duration is typed in.
var spanUnits = map[byte]time.Duration{
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// parseSpan reads the duration of a ban or a mute as people type one: a
// whole number and a unit, m (minutes), h (hours), d (days) or w (weeks),
// or several in a row ("1h30m"). Anything else, nothing at all, and more
// than MaxSpan are refused: it returns why, in a sentence for the user.
func parseSpan(s string) (time.Duration, string) {
	const form = "a whole number and a unit (m, h, d or w), such as 10m, 2h or 7d"
	notOne := func() string { return fmt.Sprintf("A duration is %s; %s is not one.", form, echo(s)) }
	tooLong := func() string {
		return fmt.Sprintf("A ban or a mute lasts %s at most, and %s is longer; leave the duration out for one that lasts until it is lifted.", formatSpan(MaxSpan), echo(s))
	}
	switch {
	case s == "":
		return 0, fmt.Sprintf("A duration is %s.", form)
	case s[0] == '-':
		return 0, fmt.Sprintf("A duration cannot be negative, as %s is: give %s.", echo(s), form)
	}
	var total time.Duration
	for rest := s; rest != ""; {
		i := 0
		var n int64
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			n = n*10 + int64(rest[i]-'0')
			if n > int64(MaxSpan/time.Minute) {
				return 0, tooLong()
			}
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, notOne()
		}
		unit, ok := spanUnits[rest[i]|0x20] // either case
		if !ok {
			return 0, notOne()
		}
		if n > int64(MaxSpan/unit) { // before multiplying: days of minutes overflow
			return 0, tooLong()
		}
		total += time.Duration(n) * unit
		if total > MaxSpan {
			return 0, tooLong()
		}
		rest = rest[i+1:]
	}
	if total == 0 {
		return 0, fmt.Sprintf("A duration of %s is no time at all: give %s.", echo(s), form)
	}
	return total, ""
}

// looksLikeSpan reports whether the word after a name in /ban is meant as
// its duration rather than the start of its reason: it starts with a
// digit or a sign, as no word of a reason usually does.
func looksLikeSpan(word string) bool {
	return word != "" && (word[0] >= '0' && word[0] <= '9' || word[0] == '-' || word[0] == '+')
}

// formatSpan writes a duration as parseSpan reads one: "10m", "2h", "7d",
// "1d12h". Seconds, which nobody types, are left out.
func formatSpan(d time.Duration) string {
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	if b.Len() == 0 {
		return "0m"
	}
	return b.String()
}
