package lobby

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// The seed corpora under testdata/fuzz hold every attack of
// testdata/terminal-attacks.txt; go test replays them, and -fuzz grows them.

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "hello", "a\tb", "\x1b[31mred\x1b[0m", "\u009b2J", "Z\u0300\u0301\u0302\u0303\u0304\u0305",
		"\u200b\ufeff\u2060", "👩\u200d💻", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "क्\u200dष", "می\u200cخواهم", "a\u200d\u200db"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := CleanText(s)
		if err := inert(out, false); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsRune(out, '\t') {
			t.Fatalf("CleanText(%q) = %q keeps a tab", s, out)
		}
		if n := maxMarkRun(out); n > maxMarks {
			t.Fatalf("CleanText(%q) = %q: %d marks on one character", s, out, n)
		}
		if again := CleanText(out); again != out {
			t.Fatalf("not idempotent: CleanText(%q) = %q, CleanText of that = %q", s, out, again)
		}
		if err := noLoneFormat(out); err != nil {
			t.Fatalf("CleanText(%q) = %q: %v", s, out, err)
		}
		// Growth is bounded: a tab becomes 4 bytes, an invalid byte 3.
		if len(out) > tabWidth*len(s) {
			t.Fatalf("CleanText grew %d bytes into %d", len(s), len(out))
		}
		// CleanText skips ansi.Strip on valid text without ESC, trusting it
		// to change nothing there (C1 is rewritten to ESC first).
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0x1b) && !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 && r <= 0x9f }) {
			if got := ansi.Strip(s); got != s {
				t.Fatalf("ansi.Strip(%q) = %q, want it unchanged", s, got)
			}
		}
	})
}

// FuzzCleanLines checks the multi-line splitter: a pasted block comes out
// as lines, each as inert as CleanText makes one line, joined by '\n' and
// nothing else, with no blank line at either end, never more lines than the
// input had breaks, and the same when cleaned again. Seeded with the
// terminal attacks.
func FuzzCleanLines(f *testing.F) {
	for _, s := range []string{"", "a\nb", "a\r\nb\rc", "\n\n x \n\n", "a\u2028b\u0085c", "x\x1b]0;t\ni\x07y\nz", "\x1bP\n\x1b\\", "a \nb \n", "\u009d0;a\nb\u009c"} {
		f.Add(s)
	}
	for _, a := range loadAttacks(f) {
		f.Add(a.Payload)
		f.Add(a.Payload + "\n" + a.Payload)
		f.Add("first\n" + a.Payload + "\r\nlast")
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := CleanLines(s)
		lines := strings.Split(out, "\n")
		if got := SplitLines(out); !slices.Equal(got, lines) {
			t.Fatalf("SplitLines(%q) = %q, want %q", out, got, lines)
		}
		for _, l := range lines {
			if err := inert(l, false); err != nil {
				t.Fatalf("CleanLines(%q) = %q: %v", s, out, err)
			}
			if strings.HasSuffix(l, " ") {
				t.Fatalf("CleanLines(%q) = %q: a line ends in a space", s, out)
			}
		}
		if out != "" && (lines[0] == "" || lines[len(lines)-1] == "") {
			t.Fatalf("CleanLines(%q) = %q: a blank line at an end", s, out)
		}
		if breaks := len(SplitLines(s)); len(lines) > breaks {
			t.Fatalf("CleanLines(%q) = %d lines from %d", s, len(lines), breaks)
		}
		if again := CleanLines(out); again != out {
			t.Fatalf("not idempotent: CleanLines(%q) = %q, then %q", s, out, again)
		}
		if len(SplitLines(s)) == 1 {
			if want := strings.TrimRight(CleanText(s), " "); out != want {
				t.Fatalf("CleanLines(%q) = %q, but one line cleans to %q", s, out, want)
			}
		}
	})
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"/join alpha", "join alpha", "//x", "  //x", "/create a\nb", "/join\u0085x", "/", "hello", "\t/list\t", "/JOIN  Alpha  "} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, line string, inRoom bool) {
		v, cmd, arg := parseLine(line, inRoom)
		blank := strings.TrimSpace(line) == ""
		switch v {
		case verbEmpty:
			if !blank || arg != "" {
				t.Fatalf("parseLine(%q) = empty, %q", line, arg)
			}
			return
		case verbChat:
			if !inRoom {
				t.Fatalf("parseLine(%q) is chat in the Lobby", line)
			}
		case verbNotChat:
			if inRoom {
				t.Fatalf("parseLine(%q) is not-chat in a room", line)
			}
		case verbUnknown:
			if !strings.HasPrefix(arg, "/") || strings.ContainsFunc(arg, unicode.IsSpace) {
				t.Fatalf("parseLine(%q): unknown command word %q", line, arg)
			}
		case verbCommand:
			if cmd == nil {
				t.Fatalf("parseLine(%q) = a command with none", line)
			}
			if !cmd.bare && !strings.HasPrefix(strings.TrimSpace(line), "/") {
				t.Fatalf("parseLine(%q): /%s has no bare form", line, cmd.name)
			}
			if cmd.lines {
				// /edit takes a block of lines as chat does.
				if arg != strings.TrimLeft(arg, " \t") {
					t.Fatalf("parseLine(%q): argument %q not trimmed", line, arg)
				}
				break
			}
			if strings.ContainsFunc(arg, isLineBreak) || strings.ContainsRune(arg, '\u0085') {
				t.Fatalf("parseLine(%q): argument %q holds a line break", line, arg)
			}
			if arg != strings.TrimSpace(arg) {
				t.Fatalf("parseLine(%q): argument %q not trimmed", line, arg)
			}
			if !inRoom || strings.HasPrefix(strings.TrimSpace(line), "/") {
				break
			}
			t.Fatalf("parseLine(%q): bare command %v in a room", line, v)
		default:
			t.Fatalf("parseLine(%q) = verb %d", line, v)
		}
		if blank {
			t.Fatalf("parseLine(%q) = verb %d for a blank line", line, v)
		}
		if v == verbChat && strings.HasPrefix(strings.TrimSpace(line), "/") && !strings.HasPrefix(arg, "/") {
			t.Fatalf("parseLine(%q): chat %q from a slash line lost its slash", line, arg)
		}
	})
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"alice", "Guest3", "e\u0301tienne", "山田タロウ", "аlice", "a.b-c_d", "", "ΑΒΕ", "АВЕ", "ТОМ", "aIice", "biII", "ALICE", "Ali"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, maxLen := range []int{MaxNameLen, MaxRoomLen} {
			name, ok := validName(s, maxLen)
			if !ok {
				if name != "" {
					t.Fatalf("validName(%q) refused but gave %q", s, name)
				}
				continue
			}
			if n := utf8.RuneCountInString(name); n < 1 || n > maxLen {
				t.Fatalf("validName(%q) = %q: %d characters, limit %d", s, name, n, maxLen)
			}
			if CleanText(name) != name {
				t.Fatalf("validName(%q) = %q, which CleanText changes to %q", s, name, CleanText(name))
			}
			if !norm.NFC.IsNormalString(name) || !norm.NFKC.IsNormalString(name) {
				t.Fatalf("validName(%q) = %q: not in NFC and NFKC", s, name)
			}
			if name != norm.NFC.String(s) {
				t.Fatalf("validName(%q) = %q: changed beyond NFC", s, name)
			}
			if strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) }) {
				t.Fatalf("validName(%q) = %q holds an invisible or space character", s, name)
			}
			if again, ok := validName(name, maxLen); !ok || again != name {
				t.Fatalf("validName not idempotent on %q: %q, %v", name, again, ok)
			}
			key := foldKey(name)
			if foldKey(key) != key || foldKey(norm.NFD.String(name)) != key {
				t.Fatalf("foldKey unstable on %q: %q, %q, %q", name, key, foldKey(key), foldKey(norm.NFD.String(name)))
			}
			if up := strings.ToUpper(name); foldKey(up) != key && norm.NFC.String(strings.ToLower(up)) == norm.NFC.String(strings.ToLower(name)) {
				t.Fatalf("foldKey(%q) = %q but foldKey(%q) = %q", name, key, up, foldKey(up))
			}
			// Whatever case and composition the same name arrives in, it
			// gets the same look-alike key: what is taken stays taken.
			if uk := userKey(name); userKey(key) != uk || userKey(norm.NFD.String(name)) != uk {
				t.Fatalf("userKey unstable on %q: %q, %q, %q", name, uk, userKey(key), userKey(norm.NFD.String(name)))
			}
			checkLookAlikes(t, name, maxLen)
		}
	})
}

// checkLookAlikes fails t unless every valid name that is a case variant of
// name, or that name looks like as typed or in small letters, is taken while
// name is, and the other way round: the rule of issue #8 ("ΑΒΕ" beside
// "ABE", "aIice" beside "alice"). Look-alikes of name in other cases
// ("ALlCE" for "alice" in capitals) are left free: name is not shown so.
func checkLookAlikes(t *testing.T, name string, maxLen int) {
	t.Helper()
	keys := lookAlikeKeys(name)
	if len(keys) == 0 || keys[0] != userKey(name) {
		t.Fatalf("lookAlikeKeys(%q) = %q, want userKey %q first", name, keys, userKey(name))
	}
	ix := make(lookIndex[string])
	ix.add(name, name)
	variants := []string{
		confusables.Skeleton(name),          // what it looks like as typed
		confusables.Skeleton(foldKey(name)), // ... and in small letters
	}
	for _, v := range []string{strings.ToUpper(name), strings.ToLower(name), strings.ToTitle(name), norm.NFD.String(name)} {
		// The same name in another case. Go's simple case mappings take
		// the Turkish İ to i, which folding keeps apart by design.
		if foldKey(v) == foldKey(name) {
			variants = append(variants, v)
		}
	}
	for _, v := range variants {
		v, ok := validName(v, maxLen)
		if !ok {
			continue
		}
		if _, found := ix.find(v); !found {
			t.Fatalf("%q (keys %q) does not take its look-alike %q (keys %q)", name, keys, v, lookAlikeKeys(v))
		}
		// Taken both ways: whichever came first, the other is refused.
		rev := make(lookIndex[string])
		rev.add(v, v)
		if _, found := rev.find(name); !found {
			t.Fatalf("%q (keys %q) does not take %q (keys %q)", v, lookAlikeKeys(v), name, keys)
		}
	}
	ix.remove(name, name)
	if len(ix) != 0 {
		t.Fatalf("index of %q not empty after remove: %q", name, ix)
	}
}

// noLoneFormat reports a format character in s (CleanText's output) that
// shows nothing and joins nothing: only joiners between emoji or letters of
// a joining script, and tag sequences after an emoji, may stay.
func noLoneFormat(s string) error {
	runes := []rune(s)
	for i, r := range runes {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		if !keepFormat(r) {
			return fmt.Errorf("invisible %U at rune %d", r, i)
		}
		prev, next := rune(-1), rune(-1)
		if i > 0 {
			prev = runes[i-1]
		}
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		switch {
		case r >= tagFirst && r <= tagCancel:
			j := i
			for j > 0 && runes[j-1] >= tagFirst && runes[j-1] < tagCancel {
				j--
			}
			if j == 0 || !isEmoji(runes[j-1]) || i-j >= maxTags+1 {
				return fmt.Errorf("tag %U at rune %d not in a tag sequence after an emoji", r, i)
			}
			if r != tagCancel && next != tagCancel && (next < tagFirst || next > tagCancel) {
				return fmt.Errorf("tag sequence at rune %d not ended by a cancel tag", j)
			}
		case isJoinerOrTag(r):
			if !joins(r, prev, next) {
				return fmt.Errorf("%U at rune %d joins %q and %q", r, i, prev, next)
			}
		}
	}
	return nil
}

// FuzzKeyLabel: the comment of a pasted authorized_keys line becomes a
// key's label, shown to its owner by /keys. Its seeds are the terminal
// attacks.
func FuzzKeyLabel(f *testing.F) {
	f.Add("alice@laptop")
	f.Add("my  work\tlaptop\n")
	f.Fuzz(func(t *testing.T, comment string) {
		label := keyLabel(comment)
		if err := inert(label, false); err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(label); n > MaxKeyLabel {
			t.Fatalf("keyLabel(%q) = %q: %d characters, limit %d", comment, label, n, MaxKeyLabel)
		}
		if label != strings.TrimSpace(label) || strings.Contains(label, "  ") {
			t.Fatalf("keyLabel(%q) = %q: spaces left in", comment, label)
		}
	})
}
