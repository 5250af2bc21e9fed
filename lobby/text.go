package lobby

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Limits on what users may send, in characters (runes).
const (
	MaxNameLen    = 24
	MaxRoomLen    = 32
	MaxMessageLen = 2000
	// MaxLines is how many lines one message (a pasted block) may hold.
	MaxLines = 20
	tabWidth = 4
	// maxMarks is how many combining marks CleanText keeps on one base
	// character. Real text needs two or three; a "Zalgo" line stacks dozens
	// so that its glyphs paint over the lines above and below.
	maxMarks = 4
)

// CleanText makes untrusted text inert for every terminal that will show it:
// invalid UTF-8 becomes U+FFFD; escape sequences of every kind (7-bit and
// 8-bit CSI, OSC, DCS, SOS, PM, APC and plain ESC sequences) are removed with
// their payloads; a tab becomes spaces and a line break one space; all other
// C0 and C1 controls, DEL and the bidirectional controls (embeddings,
// overrides, isolates, marks) are dropped, and so are invisible format
// characters (zero-width space, BOM, word joiner, tags) except where they
// join something (see dropLoneFormat); runs of combining marks are cut to a
// few per character. Everything a user sends passes through it before
// anybody else can see it. CleanText(CleanText(s)) == CleanText(s).
func CleanText(s string) string {
	if isPlainASCII(s) {
		return s // the common case: nothing to do and nothing to allocate
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = sevenBitC1(s)
	if strings.IndexByte(s, 0x1b) >= 0 {
		// ansi.Strip parses like a DEC terminal and removes every sequence
		// with its payload, including unterminated ones. On valid UTF-8
		// without ESC it changes nothing, so it is skipped then. What it
		// lets through (lone controls, stray bytes where its parser and
		// UTF-8 disagree) is dealt with rune by rune below.
		s = ansi.Strip(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	marks := 0       // combining marks kept since the last base character
	formats := false // a joiner or tag was kept: see dropLoneFormat
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			// A run of printable ASCII, the bulk of most lines, is copied
			// whole.
			j := i + 1
			for j < len(s) && s[j] >= 0x20 && s[j] < 0x7f {
				j++
			}
			b.WriteString(s[i:j])
			marks, i = 0, j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t':
			b.WriteString("    "[:tabWidth])
			marks = 0
		case isLineBreak(r):
			b.WriteByte(' ')
			marks = 0
		case isUnsafeRune(r):
			// Dropped without resetting marks: removing a control between
			// two runs of marks must not let them add up past the cap on a
			// second pass.
		case isCombining(r):
			if marks >= maxMarks {
				continue
			}
			marks++
			b.WriteRune(r)
		case unicode.Is(unicode.Cf, r):
			// Zero-width format characters: the few that do something
			// (ZWJ in emoji, tags in flags) are kept but are no base, so
			// marks after them still stack on the character before; the
			// rest are dropped like controls.
			if keepFormat(r) {
				b.WriteRune(r)
				formats = formats || isJoinerOrTag(r)
			}
		default:
			// r may be utf8.RuneError for a byte ansi.Strip left alone
			// inside a multi-byte character; writing it gives U+FFFD.
			b.WriteRune(r)
			marks = 0
		}
	}
	if formats {
		return dropLoneFormat(b.String())
	}
	return b.String()
}

// SplitLines splits text at its line breaks (CR LF, CR, LF, and the other
// breaks isLineBreak knows, and NEL) into the lines a block of text is
// made of. It never returns an empty slice: "" is one empty line. The
// breaks are gone; nothing else changes.
func SplitLines(s string) []string {
	if !strings.ContainsFunc(s, isBreak) {
		return []string{s}
	}
	var out []string
	for {
		i := strings.IndexFunc(s, isBreak)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		r, size := utf8.DecodeRuneInString(s[i:])
		s = s[i+size:]
		if r == '\r' && strings.HasPrefix(s, "\n") {
			s = s[1:] // CR LF is one break
		}
	}
}

func isBreak(r rune) bool { return isLineBreak(r) || r == '\u0085' }

// CleanLines is CleanText for a block of several lines, as a paste brings
// them: each line is cleaned and loses its trailing spaces, blank lines at
// the start and the end go, and the lines are joined with '\n', the only
// control character it leaves in. Text with no line break comes out as
// CleanText gives it, less trailing spaces. CleanLines(CleanLines(s)) ==
// CleanLines(s).
func CleanLines(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return isBreak(r) || r == 0x1b || r >= 0x80 && r <= 0x9f }) {
		return strings.TrimRight(CleanText(s), " ")
	}
	// An escape sequence may hold a line break in its payload (an OSC
	// title with a newline in it): it goes, payload and all, before the
	// text is split, so that no half of it survives as text.
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\u0085", "\n") // a break, not the C1 control sevenBitC1 would make of it
	s = sevenBitC1(s)
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = ansi.Strip(s)
	}
	lines := SplitLines(s)
	for i, l := range lines {
		lines[i] = strings.TrimRight(CleanText(l), " ")
	}
	first, last := 0, len(lines)
	for first < last && lines[first] == "" {
		first++
	}
	for last > first && lines[last-1] == "" {
		last--
	}
	return strings.Join(lines[first:last], "\n")
}

// isPlainASCII reports whether s is printable ASCII only, which CleanText
// returns as it is.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// sevenBitC1 rewrites each C1 control written as a UTF-8 character (U+0080 to
// U+009F) into its 7-bit form, ESC and a byte, so that ansi.Strip, which sees
// those characters as text, removes an 8-bit CSI or OSC with its payload just
// as it removes the 7-bit one. s must be valid UTF-8.
func sevenBitC1(s string) string {
	i := indexC1(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		b.WriteByte(0x1b)
		b.WriteByte(s[i+1] - 0x40) // U+0080+x is C2 80+x; its 7-bit form is ESC 40+x
		s = s[i+2:]
		i = indexC1(s)
	}
	b.WriteString(s)
	return b.String()
}

// indexC1 is the byte offset of the first U+0080..U+009F in valid UTF-8 s, or
// -1. Those are exactly the two-byte sequences C2 80 to C2 9F.
func indexC1(s string) int {
	off := 0
	for {
		i := strings.IndexByte(s[off:], 0xc2)
		if i < 0 || off+i+1 >= len(s) {
			return -1
		}
		off += i
		if c := s[off+1]; c >= 0x80 && c <= 0x9f {
			return off
		}
		off++
	}
}

// isLineBreak reports whether r ends a line. A message is one line, so each
// becomes a space rather than vanishing and gluing two words together.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\v', '\f', '\r', '\u2028', '\u2029':
		return true
	}
	return false
}

// isUnsafeRune reports whether r could change how a terminal shows the text
// around it rather than being shown itself.
func isUnsafeRune(r rune) bool {
	if r < 0x80 {
		return r < 0x20 || r == 0x7f // C0 and DEL
	}
	// C1, and the bidi embeddings, overrides, isolates and marks (U+061C,
	// U+200E-F, U+202A-E, U+2066-9), which reorder the rest of the line.
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// isCombining reports whether r draws on the cell of the character before it:
// a combining mark, or a Hangul medial or final jamo, which terminals also
// stack onto the preceding cell.
func isCombining(r rune) bool {
	if r < 0x300 {
		return false
	}
	return unicode.Is(unicode.M, r) ||
		(r >= 0x1160 && r <= 0x11ff) || (r >= 0xd7b0 && r <= 0xd7ff)
}

var folder = cases.Fold() // stateless: safe for concurrent use

// foldKey is the form two names are compared in: Unicode canonical caseless
// matching (case folding between canonical decompositions), kept in NFC.
func foldKey(s string) string {
	return norm.NFC.String(strings.Map(cherokeeFold, folder.String(norm.NFD.String(s))))
}

// userKey is the form two screen names are compared in: the Unicode
// confusable skeleton (UTS #39) of the case-folded name, folded again, so
// that a name spelt to look like one in use ("аре" in Cyrillic for "ape",
// "paypa1" for "paypal", "Guest1O" for "Guest10") counts as taken. Fold and
// skeleton are taken in turn until the key holds still: the skeleton maps
// some characters to capitals (0 to O, Cherokee ꮁ to Greek Γ) whose small
// letters map on (γ to y), and a few to prototypes that map on once
// decomposed (ҋ to й with a tail, whose и maps to ᴎ); one pass would give a
// name and its look-alike different keys (found by FuzzValidName). Names
// are already held to one alphabet each, which stops mixed look-alikes;
// this stops whole-script ones. lookAlikeKeys adds the key of the name as
// typed.
func userKey(s string) string {
	key := foldKey(s)
	for range maxKeyRounds {
		next := foldKey(confusables.Skeleton(key))
		if next == key {
			break
		}
		key = next
	}
	return key
}

// maxKeyRounds bounds userKey's rounds; two or three are the most any name
// has been seen to need.
const maxKeyRounds = 8

// cherokeeFold finishes case folding for Cherokee, whose small letters fold
// to the capitals (Unicode 8 added them after the capitals). x/text v0.44
// folds each to the other instead, so "ᏣᎳᎩ" and "ꮳꮃꭹ" would get different
// keys, and folding twice would flip them back (found by FuzzValidName).
func cherokeeFold(r rune) rune {
	if r >= 0x13a0 && unicode.Is(unicode.Cherokee, r) {
		return unicode.ToUpper(r)
	}
	return r
}

// validName checks a screen name or room name against the rule shared by
// both and returns it in NFC, as it will be shown. The rule:
//
//   - 1 to maxLen characters, each a letter, a digit, '-', '_' or '.', or a
//     combining mark (at most maxMarks) on a letter or digit, for scripts
//     whose letters need them;
//   - nothing PRECIS (RFC 8264) disallows in identifiers: no spaces, controls,
//     zero-width or other default-ignorable characters, no compatibility
//     forms (fullwidth "ａｌｉｃｅ", ligatures, styled mathematical letters),
//     and right-to-left names must pass the Bidi Rule (RFC 5893);
//   - letters of one script (Common and Inherited characters go with any),
//     except the mixes a language needs: Japanese (Latin, Han, Hiragana,
//     Katakana), Chinese (Latin, Han, Bopomofo), Korean (Latin, Han,
//     Hangul). So "аlice" with a Cyrillic а cannot pose as "alice".
//
// A name that breaks the rule is refused, never silently changed; only the
// canonically equivalent NFC form is taken.
func validName(s string, maxLen int) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	s = norm.NFC.String(s)
	if n := utf8.RuneCountInString(s); n == 0 || n > maxLen {
		return "", false
	}
	// PRECIS maps fullwidth forms to plain ones and refuses what
	// identifiers must not hold; a name it had to change is refused too.
	if p, err := precis.UsernameCasePreserved.String(s); err != nil || p != s {
		return "", false
	}
	var scripts scriptSet
	marks, afterBase := 0, false
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || r == '.':
			marks, afterBase = 0, false
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			marks, afterBase = 0, true
		case unicode.In(r, unicode.Mn, unicode.Mc):
			if !afterBase || marks >= maxMarks {
				return "", false
			}
			marks++
		default:
			return "", false
		}
		if !scripts.add(r) {
			return "", false
		}
	}
	return s, true
}

// scriptSet collects the scripts of a name's characters.
type scriptSet struct {
	bits  uint8
	other *unicode.RangeTable // the one script outside knownScripts, if any
}

// Bits of scriptSet.bits.
const (
	scriptLatin uint8 = 1 << iota
	scriptHan
	scriptHiragana
	scriptKatakana
	scriptBopomofo
	scriptHangul
	scriptOther // scriptSet.other
)

// Mixes of scripts a name may use: those of UTS #39's "highly restrictive"
// level. Any single script is allowed as well.
var scriptMixes = []uint8{
	scriptLatin | scriptHan | scriptHiragana | scriptKatakana, // Japanese
	scriptLatin | scriptHan | scriptBopomofo,                  // Chinese
	scriptLatin | scriptHan | scriptHangul,                    // Korean
}

// The scripts that take part in the mixes, tried before the long list.
var knownScripts = []struct {
	table *unicode.RangeTable
	bit   uint8
}{
	{unicode.Latin, scriptLatin},
	{unicode.Han, scriptHan},
	{unicode.Hiragana, scriptHiragana},
	{unicode.Katakana, scriptKatakana},
	{unicode.Bopomofo, scriptBopomofo},
	{unicode.Hangul, scriptHangul},
}

// add records r's script and reports whether the set is still one script or
// an allowed mix.
func (set *scriptSet) add(r rune) bool {
	if r < 0x80 {
		if unicode.IsLetter(r) {
			set.bits |= scriptLatin
		}
		return set.allowed()
	}
	if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
		return true // digits, some punctuation, generic combining marks
	}
	if set.other != nil && unicode.Is(set.other, r) {
		return true
	}
	for _, k := range knownScripts {
		if unicode.Is(k.table, r) {
			set.bits |= k.bit
			return set.allowed()
		}
	}
	if set.other != nil {
		return false // a second script outside the mixes
	}
	for name, t := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(t, r) {
			set.other = t
			break
		}
	}
	if set.other == nil {
		return false // no script at all: unassigned
	}
	set.bits |= scriptOther
	return set.allowed()
}

func (set *scriptSet) allowed() bool {
	if set.bits&(set.bits-1) == 0 {
		return true // none or one
	}
	for _, mix := range scriptMixes {
		if set.bits&^mix == 0 {
			return true
		}
	}
	return false
}
