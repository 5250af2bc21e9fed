package lobby

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/text/unicode/norm"
)

// inert reports what in s could act on a terminal rather than be shown: an
// invalid byte, ESC or another C0 control (newline only when allowNewline,
// for the lobby's own multi-line notices), DEL, a C1 control or a bidi
// control. nil means s is safe to print.
func inert(s string, allowNewline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid UTF-8 in %q", s)
	}
	for i, r := range s {
		switch {
		case r == '\n' && allowNewline:
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return fmt.Errorf("control %U at byte %d of %q", r, i, s)
		case unicode.Is(unicode.Bidi_Control, r):
			return fmt.Errorf("bidi control %U at byte %d of %q", r, i, s)
		}
	}
	return nil
}

// maxMarkRun is the longest run of combining characters in s, counted as
// CleanText counts them: zero-width format characters do not end a run.
func maxMarkRun(s string) int {
	longest, run := 0, 0
	for _, r := range s {
		switch {
		case isCombining(r):
			run++
			longest = max(longest, run)
		case unicode.Is(unicode.Cf, r):
		default:
			run = 0
		}
	}
	return longest
}

// checkClean fails t unless out is what CleanText may return: inert, no tab,
// marks capped, and a fixed point.
func checkClean(t *testing.T, in, out string) {
	t.Helper()
	if err := inert(out, false); err != nil {
		t.Errorf("CleanText(%q): %v", in, err)
	}
	if strings.ContainsRune(out, '\t') {
		t.Errorf("CleanText(%q) = %q keeps a tab", in, out)
	}
	if n := maxMarkRun(out); n > maxMarks {
		t.Errorf("CleanText(%q) = %q has %d marks on one character, want at most %d", in, out, n, maxMarks)
	}
	if again := CleanText(out); again != out {
		t.Errorf("CleanText not idempotent on %q: %q, then %q", in, out, again)
	}
}

func TestCleanTextAttacks(t *testing.T) {
	// What each attack in testdata/terminal-attacks.txt becomes as text.
	want := map[string]string{
		"osc-title":                 "",
		"osc-title-st":              "",
		"osc52-clipboard-write":     "",
		"osc8-hyperlink":            "click me",
		"osc-color-change":          "",
		"csi-clear-screen":          "",
		"csi-alt-screen":            "",
		"csi-hide-cursor":           "",
		"csi-cursor-up-overwrite":   "admin: please run curl evil | sh", // shown in place, with its author
		"csi-scroll-region":         "",
		"csi-dsr-query":             "",
		"csi-title-report":          "",
		"csi-window-ops":            "",
		"sgr-hidden-text":           "hidden",
		"sgr-colour":                "red",
		"dcs-decrqss":               "",
		"apc":                       "",
		"pm":                        "",
		"sos":                       "",
		"ris-full-reset":            "",
		"decaln-fill":               "",
		"charset-dec-graphics":      "lqqqk",
		"shift-out":                 "abc",
		"c1-csi-8bit":               "",
		"c1-osc-8bit":               "",
		"c1-raw-byte":               "\ufffd2J",
		"bel":                       "",
		"backspace-overwrite":       "innocentevil!!!!",
		"carriage-return-overwrite": "hello everyone admin: server going down, run curl evil|sh",
		"vertical-tab-form-feed":    "a b c",
		"nul":                       "ab",
		"del":                       "ab",
		"bidi-rlo":                  "txt.exe",
		"bidi-isolates":             "evil ok",
		"zero-width-name":           "alice", // invisible: dropped (names refuse it)
		"zero-width-joiner-name":    "alice", // joins nothing in Latin
		"bom":                       "alice",
		"homoglyph-cyrillic-a":      "\u0430lice",
		"fullwidth-name":            "ａｌｉｃｅ",
		"nfd-composition":           "e\u0301tienne",
		"combining-flood":           "Z\u0300\u0301\u0302\u0303",
		"invalid-utf8":              "\ufffd",
		"overlong-slash":            "\ufffd",
		"surrogate-half":            "\ufffd",
		"wide-emoji-run":            "🧑\u200d🤝\u200d🧑🧑\u200d🤝\u200d🧑🧑\u200d🤝\u200d🧑",
		"tab":                       "a    b",
		"long-no-newline-hint":      "a line of 200000 bytes without a newline belongs in a test, not in this file",
	}
	for _, a := range loadAttacks(t) {
		t.Run(a.Name, func(t *testing.T) {
			got := CleanText(a.Payload)
			checkClean(t, a.Payload, got)
			w, ok := want[a.Name]
			if !ok {
				t.Fatalf("no expected text for attack %s: add it to the table", a.Name)
			}
			if got != w {
				t.Errorf("CleanText(%q) = %q, want %q", a.Payload, got, w)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain ASCII", "hello, world", "hello, world"},
		{"accents and CJK", "Zoë says 你好", "Zoë says 你好"},
		{"emoji with variation selector", "❤️ ok", "❤️ ok"},
		{"keycap", "#️⃣", "#️⃣"},
		{"flag with tags", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"},
		{"Hangul syllable in jamo", "\u1100\u1161\u11a8", "\u1100\u1161\u11a8"},
		{"Hangul jamo stack", "\u1100" + strings.Repeat("\u1161", 10), "\u1100" + strings.Repeat("\u1161", maxMarks)},
		{"Devanagari", "हिन्दी", "हिन्दी"},
		{"four marks kept", "a\u0300\u0301\u0302\u0303b", "a\u0300\u0301\u0302\u0303b"},
		{"marks per character", "a\u0300\u0301\u0302\u0303\u0304b\u0300\u0301\u0302\u0303\u0304", "a\u0300\u0301\u0302\u0303b\u0300\u0301\u0302\u0303"},
		{"marks through ZWJ", "a\u0300\u0301\u200d\u0302\u0303\u200d\u0304\u0305", "a\u0300\u0301\u0302\u0303"},
		{"marks through a kept ZWJ", "क\u094d\u200d\u0301\u0302\u0303\u0304", "क\u094d\u200d\u0301\u0302\u0303"},
		{"marks through a dropped control", "a\u0300\u0301\u0302\x07\u0303\u0304", "a\u0300\u0301\u0302\u0303"},
		{"marks through an escape", "a\u0300\u0301\u0302\x1b[1m\u0303\u0304", "a\u0300\u0301\u0302\u0303"},
		{"marks on nothing", strings.Repeat("\u0301", 9), strings.Repeat("\u0301", maxMarks)},
		{"CRLF", "one\r\ntwo", "one  two"},
		{"line and paragraph separators", "a\u2028b\u2029c", "a b c"},
		{"NEL", "a\u0085b", "ab"},
		{"bidi marks", "a\u200eb\u200fc\u061cd", "abcd"},
		{"bidi embeddings", "\u202aa\u202bb\u202cc\u202dd\u202ee", "abcde"},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"Arabic text kept", "مرحبا", "مرحبا"},
		{"unterminated CSI", "ok\x1b[31", "ok"},
		{"unterminated OSC eats the rest", "ok\x1b]0;title and more", "ok"},
		{"unterminated DCS", "ok\x1bPpayload", "ok"},
		{"OSC ended by CAN", "\x1b]0;x\x18shown", "shown"},
		{"ESC then letter", "a\x1bcb", "ab"},
		{"ESC then UTF-8", "\x1béx", "éx"},
		{"ESC ESC", "\x1b\x1b[31mX", "X"},
		{"trailing ESC", "abc\x1b", "abc"},
		{"ESC space F", "\x1b Fx", "x"},
		{"ESC percent G", "\x1b%Gx", "x"},
		{"keypad mode", "\x1b=\x1b>x", "x"},
		{"save and restore cursor", "\x1b7x\x1b8", "x"},
		{"index and reverse index", "\x1bDx\x1bM", "x"},
		{"newline inside CSI", "\x1b[\n31mX", " X"},
		{"8-bit CSI", "\u009b31mX", "X"},
		{"8-bit DCS with 8-bit ST", "\u0090qpayload\u009cX", "X"},
		{"8-bit APC", "\u009fpayload\u009cX", "X"},
		{"7-bit OSC with 8-bit ST", "\x1b]0;t\u009cX", "X"},
		{"raw 8-bit ST", "a\x9cb", "a\ufffdb"},
		{"raw 8-bit OSC", "\x9d0;t\x07X", "\ufffd0;tX"},
		{"OSC holding a char with a 9C byte", "\x1b]0;\u2713 rest\x07after", "\ufffd restafter"},
		{"valid then invalid", "é\xc3", "é\ufffd"},
		{"replacement kept", "\ufffd", "\ufffd"},
		{"DEL", "a\x7f", "a"},
		{"C1 NBSP neighbour kept", "a\u00a0b", "a\u00a0b"},
		// Invisible characters are dropped; joiners stay where they join.
		{"zero-width space", "a\u200bb", "ab"},
		{"word joiner", "a\u2060b", "ab"},
		{"BOM inside", "a\ufeffb", "ab"},
		{"soft hyphen", "pay\u00adpal", "paypal"},
		{"invisible times", "a\u2062b", "ab"},
		{"language tag", "\U000e0001\U000e0065\U000e006eok", "ok"},
		{"tags smuggling text", "hi\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065", "hi"},
		{"tags after a flag, unterminated", "🏴\U000e0067\U000e0062x", "🏴x"},
		{"too many tags after a flag", "🏴" + strings.Repeat("\U000e0061", 20) + "\U000e007f", "🏴"},
		{"cancel tag alone", "a\U000e007f", "a"},
		{"only zero-width", "\u200b\ufeff\u2060\U000e0041", ""},
		{"ZWJ in an emoji sequence", "👩\u200d💻", "👩\u200d💻"},
		{"ZWJ after VS16", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		{"ZWJ after a skin tone", "🧑\U0001f3fd\u200d🚀", "🧑\U0001f3fd\u200d🚀"},
		{"ZWJ ending an emoji", "👩\u200d", "👩"},
		{"ZWJ in Latin", "a\u200db", "ab"},
		{"ZWNJ in Latin", "Auf\u200clage", "Auflage"},
		{"ZWJ in Devanagari", "क्\u200dष", "क्\u200dष"},
		{"ZWNJ in Persian", "می\u200cخواهم", "می\u200cخواهم"},
		{"ZWNJ in Malayalam", "ന്\u200cമ", "ന്\u200cമ"},
		{"two ZWJ in a row", "क\u200d\u200dष", "कष"},
		{"ZWJ before a dropped mark", "क\u0301\u0301\u0301\u0301\u200d\u0301", "क\u0301\u0301\u0301\u0301"},
		{"ZWJ before a dropped control", "👩\u200d\x07💻", "👩\u200d💻"},
		{"Arabic number sign kept", "\u0600\u0661\u0662", "\u0600\u0661\u0662"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CleanText(tc.in)
			if got != tc.want {
				t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkClean(t, tc.in, got)
		})
	}
}

func TestCleanTextPlainASCIIDoesNotAllocate(t *testing.T) {
	s := "The quick brown fox jumps over the lazy dog; nothing here needs cleaning at all."
	if n := testing.AllocsPerRun(100, func() { _ = CleanText(s) }); n != 0 {
		t.Errorf("CleanText of plain ASCII allocates %v times, want 0", n)
	}
}

// TestAnsiStrip pins down what CleanText relies on, and works around, in
// ansi.Strip: an upgrade that changes any of it must be looked at.
func TestAnsiStrip(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// Relied on: sequences go with their payloads, terminated or not.
		{"CSI", "a\x1b[31mb", "ab"},
		{"OSC BEL", "a\x1b]0;t\x07b", "ab"},
		{"OSC ST", "a\x1b]0;t\x1b\\b", "ab"},
		{"unterminated OSC", "a\x1b]0;pwned", "a"},
		{"unterminated CSI", "a\x1b[31", "a"},
		{"unterminated DCS", "a\x1bP$qm", "a"},
		{"APC", "a\x1b_x\x1b\\b", "ab"},
		{"ESC c", "a\x1bcb", "ab"},
		{"ESC # 8", "a\x1b#8b", "ab"},
		{"ESC ( 0", "a\x1b(0b", "ab"},
		{"raw 8-bit CSI", "a\x9b2Jb", "ab"},
		// Relied on: valid UTF-8 without ESC or C1 comes back as it was,
		// controls included; CleanText skips the call then.
		{"no ESC", "héllo\x07\x00\x7f wörld\t", "héllo\x07\x00\x7f wörld\t"},
		// Worked around: a C1 control written as UTF-8 is text to it, so
		// CleanText rewrites it to the 7-bit form first.
		{"UTF-8 CSI", "\u009b2J", "\u009b2J"},
		{"UTF-8 OSC", "\u009d0;t\u0007", "\u009d0;t\u0007"},
		// Worked around: C0 controls inside a sequence pass through, and
		// the bytes of a UTF-8 character can end an OSC half-way, leaving
		// a stray byte; the rune filter drops or replaces them.
		{"C0 in CSI", "\x1b[\n31mX", "\nX"},
		{"ESC then UTF-8", "\x1béx", "éx"},
		{"OSC with a 9C byte", "\x1b]0;\u2713 rest\x07after", "\x93 rest\x07after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ansi.Strip(tc.in); got != tc.want {
				t.Errorf("ansi.Strip(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestValidNameRooms(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{strings.Repeat("r", MaxRoomLen), strings.Repeat("r", MaxRoomLen)},
		{strings.Repeat("r", MaxRoomLen+1), ""},
		{"dev-ops_2.0", "dev-ops_2.0"},
		{"", ""},
		{"a b", ""},
		{"café", "café"},
		{"cafe\u0301", "café"},
		{"\u0441\u0430f\u0435", ""},                  // Cyrillic с, а, е with a Latin f
		{"\u0441\u0430\u0435", "\u0441\u0430\u0435"}, // all Cyrillic: allowed, though it looks Latin
		{"日本語のへや", "日本語のへや"},
		{"한국어방", "한국어방"},
		{"русский-чат", "русский-чат"},
		{"Ελληνικά", "Ελληνικά"},
		{"x\u0301\u0301\u0301\u0301", "x\u0301\u0301\u0301\u0301"},
		{"x\u0301\u0301\u0301\u0301\u0301", ""},
	}
	for _, tc := range tests {
		got, ok := validName(tc.in, MaxRoomLen)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("validName(%q, %d) = %q, %v; want %q", tc.in, MaxRoomLen, got, ok, tc.want)
		}
	}
}

func TestFoldKey(t *testing.T) {
	same := [][2]string{
		{"alice", "ALICE"},
		{"Straße", "strasse"},
		{"\u00e9", "e\u0301"},
		{"\u00c9", "e\u0301"},
		{"ΣΊΣΥΦΟΣ", "σίσυφος"},
		{"\u01f0", "J\u030c"},
		{"\u13a3\u13b3\u13a9", "\uab73\uab83\uab79"}, // Cherokee: x/text folds these wrongly
		{"\uabab", "\u13db"},
	}
	for _, p := range same {
		if a, b := foldKey(p[0]), foldKey(p[1]); a != b {
			t.Errorf("foldKey(%q) = %q, foldKey(%q) = %q; want equal", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{
		{"alice", "\u0430lice"},
		{"alice", "alice_"},
		{"ı", "i"},
	}
	for _, p := range differ {
		if foldKey(p[0]) == foldKey(p[1]) {
			t.Errorf("foldKey(%q) == foldKey(%q), want different", p[0], p[1])
		}
	}
}

// TestAttacksAtTheBoundary sends every attack through the Lobby as a chat
// line, a screen name, a room name and a command argument, and checks that
// whatever anybody is shown is inert, or that it was refused.
func TestAttacksAtTheBoundary(t *testing.T) {
	ctx := context.Background()
	l := newLobby(t, Config{FloodRate: -1, Queue: 4096})
	alice := register(t, l, "alice")
	watcher := register(t, l, "watcher")
	carol := register(t, l, "carol")
	createRoom(t, alice, "alpha")
	joinRoom(t, watcher, "alpha")

	// The names the attacks may register under, and the rooms they may
	// create: only the canonically equivalent NFD spelling passes.
	wantName := map[string]string{"nfd-composition": "\u00e9tienne"}
	for _, a := range loadAttacks(t) {
		exec(t, alice, a.Payload)
		exec(t, alice, "//"+a.Payload)

		s, err := l.Register(ctx, a.Payload)
		switch {
		case err != nil && wantName[a.Name] != "":
			t.Errorf("%s: Register refused %q: %v", a.Name, a.Payload, err)
		case err == nil && s.Name() != wantName[a.Name]:
			t.Errorf("%s: Register(%q) gave %q, want a refusal", a.Name, a.Payload, s.Name())
		}
		if err == nil {
			exec(t, s, "/join alpha")
			s.Close()
		}

		exec(t, carol, "/create "+a.Payload)
		exec(t, carol, "/join "+a.Payload)
		exec(t, carol, "/"+a.Payload)
		exec(t, carol, "/leave")
	}
	exec(t, alice, "/list")
	exec(t, alice, "done")
	for _, s := range []*Session{watcher, alice} {
		for _, ev := range until(t, s, isLine("done")) {
			checkEvent(t, s.Name(), ev)
		}
	}
	for {
		select {
		case ev := <-carol.events:
			checkEvent(t, "carol", ev)
			continue
		default:
		}
		break
	}
	for _, r := range l.Rooms() {
		if err := inert(r.Name, false); err != nil {
			t.Errorf("room name: %v", err)
		}
		if _, ok := validName(r.Name, MaxRoomLen); !ok {
			t.Errorf("room %q breaks the name rule", r.Name)
		}
	}
	if got := len(l.Rooms()); got != 2 { // alpha and étienne
		t.Errorf("%d rooms, want 2: %v", got, l.Rooms())
	}
}

func checkEvent(t *testing.T, who string, ev Event) {
	t.Helper()
	if err := inert(ev.Text, true); err != nil {
		t.Errorf("%s: notice: %v", who, err)
	}
	if err := inert(ev.Room, false); err != nil {
		t.Errorf("%s: room: %v", who, err)
	}
	msgs := ev.History
	if ev.Msg != nil {
		msgs = append(msgs, *ev.Msg)
	}
	for _, m := range msgs {
		for _, s := range []string{m.From, m.Room} {
			if err := inert(s, false); err != nil {
				t.Errorf("%s: line %d: %v", who, m.Seq, err)
			}
		}
		// A pasted block is lines joined by '\n', each inert, none blank at
		// either end: front ends show the lines after the first indented
		// under its author, so that none passes for another's line.
		lines := m.Lines()
		if len(lines) > MaxLines || lines[0] == "" && len(lines) > 1 || lines[len(lines)-1] == "" && len(lines) > 1 {
			t.Errorf("%s: line %d has %d lines, blank at an end: %q", who, m.Seq, len(lines), m.Text)
		}
		for _, s := range lines {
			if err := inert(s, false); err != nil {
				t.Errorf("%s: line %d: %v", who, m.Seq, err)
			}
		}
		if m.Kind == KindChat && utf8.RuneCountInString(m.Text) > MaxMessageLen {
			t.Errorf("%s: line %d is %d characters long", who, m.Seq, utf8.RuneCountInString(m.Text))
		}
		if !norm.NFC.IsNormalString(m.From) {
			t.Errorf("%s: author %q not in NFC", who, m.From)
		}
	}
}

// TestFoldKeyAllCased checks every cased character: all the case variants of
// a letter share one key, and a key is its own key.
func TestFoldKeyAllCased(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) == r || r == 'İ' || r == 'ı' { // Turkish dotted and dotless i fold apart, by design
			continue
		}
		key := foldKey(string(r))
		if foldKey(key) != key {
			t.Errorf("foldKey(%q) = %q, but foldKey(%q) = %q", r, key, key, foldKey(key))
		}
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			if o == 'İ' || o == 'ı' {
				continue
			}
			if k := foldKey(string(o)); k != key {
				t.Errorf("foldKey(%q) = %q, foldKey(%q) = %q; want equal", r, key, o, k)
			}
		}
	}
}
