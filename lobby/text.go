package lobby

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Limits on what users may send, in characters (runes).
const (
	MaxNameLen    = 24
	MaxRoomLen    = 32
	MaxMessageLen = 2000
	tabWidth      = 4
)

// CleanText makes untrusted text inert for every terminal that will show it:
// invalid UTF-8 becomes U+FFFD, escape sequences of every kind are removed,
// a tab becomes spaces, and C0/C1 controls, DEL, bidirectional overrides and
// isolates are dropped. Everything a user sends passes through it before
// anybody else can see it.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	// 8-bit C1 introducers (U+009B CSI, U+009D OSC...) are stripped below as
	// runes; ansi.Strip removes the 7-bit ESC forms with their payloads.
	s = ansi.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString(strings.Repeat(" ", tabWidth))
		case isUnsafeRune(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isUnsafeRune reports whether r could change how a terminal shows the text
// around it rather than being shown itself.
func isUnsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidi embeddings, overrides, isolates and marks
	case r == utf8.RuneError:
		return false // shown as the replacement glyph
	}
	return false
}

var folder = cases.Fold()

// foldKey is the form two names are compared in: NFC, then case-folded.
func foldKey(s string) string {
	return folder.String(norm.NFC.String(s))
}

// validName checks a screen name or room name against the rule shared by
// both: 1 to max characters, each a letter, a digit, '-', '_' or '.'. It
// returns the name in NFC, as it will be shown.
func validName(s string, maxLen int) (string, bool) {
	s = norm.NFC.String(s)
	n := utf8.RuneCountInString(s)
	if n == 0 || n > maxLen || !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return "", false
		}
	}
	return s, true
}
