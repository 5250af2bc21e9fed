package tui

import (
	"regexp"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

var sgr = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

// styleOpenAtEnd reports whether a row leaves an SGR style switched on.
func styleOpenAtEnd(row string) bool {
	open := false
	for _, m := range sgr.FindAllStringSubmatch(row, -1) {
		open = !(m[1] == "" || m[1] == "0")
	}
	return open
}

func TestWrapSpans(t *testing.T) {
	bold := paintOf(lipgloss.NewStyle().Bold(true))
	red := paintOf(lipgloss.NewStyle().Foreground(lipgloss.Color("#d70000")))
	texts := []struct {
		name string
		from string
		text string
	}{
		{"ascii", "alice", "the quick brown fox jumps over the lazy dog again and again"},
		{"cjk", "李", "漢字かな交じり文を折り返すテストです。幅は二セルずつ数えます"},
		{"emoji", "bob", "party 🎉🎉 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 thumbs 👍🏽 done"},
		{"combining", "zoë", "e\u0301e\u0301e\u0301 cafe\u0301 nai\u0308ve re\u0301sume\u0301 and more"},
		{"long word", "x", strings.Repeat("abcdefghij", 8)},
		{"long cjk word", "y", strings.Repeat("漢", 40)},
		{"spaces", "s", "a  b   c    d     e      f       g"},
	}
	for _, tt := range texts {
		for width := 2; width <= 40; width++ {
			rows := wrapSpans(nil, []span{{style: &bold, text: tt.from}, {style: &red, text: ": " + tt.text}}, width)
			var got strings.Builder
			for i, r := range rows {
				if w := ansi.StringWidth(r); w > width {
					t.Errorf("%s at %d: row %d is %d cells: %q", tt.name, width, i, w, ansi.Strip(r))
				}
				if styleOpenAtEnd(r) {
					t.Errorf("%s at %d: row %d leaves a style open: %q", tt.name, width, i, r)
				}
				got.WriteString(ansi.Strip(r))
			}
			want := strings.ReplaceAll(tt.from+": "+tt.text, " ", "")
			if g := strings.ReplaceAll(got.String(), " ", ""); g != want {
				t.Errorf("%s at %d: text changed by wrapping:\n got %q\nwant %q", tt.name, width, g, want)
			}
		}
	}
}

func TestWrapSpansKeepsStylesPerRow(t *testing.T) {
	bold := paintOf(lipgloss.NewStyle().Bold(true))
	rows := wrapSpans(nil, []span{{style: &bold, text: "aaaa bbbb cccc"}}, 5)
	if len(rows) != 3 {
		t.Fatalf("got %d rows %q, want 3", len(rows), rows)
	}
	for i, r := range rows {
		if !strings.HasPrefix(r, "\x1b[") {
			t.Errorf("row %d does not open its own style: %q", i, r)
		}
	}
}

func TestWrapSpansWideCharNeverSplit(t *testing.T) {
	// A two-cell character that does not fit the rest of the row moves
	// whole to the next row; it is never cut or split between styles.
	a := paintOf(lipgloss.NewStyle().Bold(true))
	b := paintOf(lipgloss.NewStyle().Italic(true))
	rows := wrapSpans(nil, []span{{style: &a, text: "abc"}, {style: &b, text: "漢字漢字"}}, 4)
	var all strings.Builder
	for _, r := range rows {
		if w := ansi.StringWidth(r); w > 4 {
			t.Fatalf("row %q is %d cells, want at most 4", r, w)
		}
		all.WriteString(ansi.Strip(r))
	}
	if got, want := all.String(), "abc漢字漢字"; got != want {
		t.Fatalf("rows %q join to %q, want %q", rows, got, want)
	}
}

// wrapWithLipgloss is wrapSpans done with lipgloss.Wrap, which closes and
// reopens styles at each break itself: kept here to compare against (see
// the comment on wrapSpans and BenchmarkWrapSpans).
func wrapWithLipgloss(dst []string, spans []span, width int) []string {
	var b strings.Builder
	for _, sp := range spans {
		if sp.style != nil {
			sp.style.write(&b, sp.text)
		} else {
			b.WriteString(sp.text)
		}
	}
	if b.Len() == 0 {
		return append(dst, "")
	}
	for row := range strings.SplitSeq(lipgloss.Wrap(b.String(), max(1, width), ""), "\n") {
		if ansi.StringWidth(row) > width {
			row = ansi.Truncate(row, width, "")
		}
		dst = append(dst, row)
	}
	return dst
}

// BenchmarkWrapSpans wraps chat lines as the scrollback does (a coloured
// name, then the text), with wrapSpans and with lipgloss.Wrap.
func BenchmarkWrapSpans(b *testing.B) {
	st := newStyles()
	var lines [][]span
	for i := range 200 {
		m := benchMessage(i)
		lines = append(lines, []span{{style: &st.users[userIndex(m.From)], text: m.From}, {style: &st.history, text: ": " + m.Text}})
	}
	for _, impl := range []struct {
		name string
		wrap func([]string, []span, int) []string
	}{{"wrapSpans", wrapSpans}, {"lipgloss.Wrap", wrapWithLipgloss}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			var rows []string
			i := 0
			for b.Loop() {
				rows = impl.wrap(rows[:0], lines[i%len(lines)], 60)
				i++
			}
		})
	}
}
