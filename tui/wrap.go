package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// span is a piece of one line's text with the style it is shown in.
type span struct {
	style *paint // nil: unstyled
	text  string
	link  string // linkOpen of the URL the text links to, "" for none
}

// wrapSpans wraps one paragraph (text without '\n') made of spans to width
// cells and appends one string per row to dst. Every row opens and closes its
// own styles, so it can be drawn beside anything (the sidebar, a border).
//
// The line breaking is ansi.Wrap's (grapheme clusters, wide characters count
// two cells, words break at spaces, overlong words are cut). It runs on the
// plain text and the styles are laid on afterwards, because ansi.Wrap carries
// an open escape sequence across a break without closing it, which would
// bleed into whatever is drawn next to the row.
//
// lipgloss.Wrap (v2.1.0) does close and reopen styles at each break, but it
// is kept out for two reasons, measured against it (wrapWithLipgloss in the
// tests). It is slower, since it runs every byte of the styled text through
// an escape-sequence parser: BenchmarkWrapSpans, chat lines at 60 cells,
// 5.1 µs, 12 allocs, 791 B per line here against 7.2 µs, 19 allocs, 1426 B;
// BenchmarkNewMessage, a whole new line received and drawn, 7.4 µs, 16
// allocs, 6.4 KB against 8.9 µs, 22 allocs, 7.0 KB (fastest of 8-12 runs of
// each, interleaved, with -cpu 1). And its bytes differ: the rows look the
// same, but where a break falls just after a styled span (a name that fills
// the row) the next row starts with an empty open-and-reset pair: 4,140 of
// 394,128 wrapped lines tried (207 texts × 8 names × widths 2-120, live and
// history styles), and by nothing else.
func wrapSpans(dst []string, spans []span, width int) []string {
	var plain strings.Builder
	for _, sp := range spans {
		plain.WriteString(sp.text)
	}
	p := plain.String()
	if p == "" {
		return append(dst, "")
	}
	w := ansi.Wrap(p, max(1, width), "")

	// ansi.Wrap only inserts '\n' and drops spaces at breaks, so the
	// wrapped runes are the plain runes in order minus some spaces: walk
	// both to learn which span each wrapped rune came from. Rune by rune,
	// never byte by byte, so that a style change can never split a
	// character.
	var (
		row      strings.Builder
		j        int // index in p
		si       int // span holding p[j]
		spanEnd  = len(spans[0].text)
		cur      = -1 // span of the run being built
		runStart int  // index in w where that run starts
	)
	closeRun := func(end int) {
		if cur >= 0 && end > runStart {
			// A link is opened and closed on each row it is wrapped
			// over, under one id, so that every piece is clickable.
			link := spans[cur].link
			if link != "" {
				row.WriteString(link)
			}
			if st := spans[cur].style; st != nil {
				st.write(&row, w[runStart:end])
			} else {
				row.WriteString(w[runStart:end])
			}
			if link != "" {
				row.WriteString(linkClose)
			}
		}
		cur = -1
	}
	emit := func() {
		r := row.String()
		if ansi.StringWidth(r) > width {
			// Not expected from ansi.Wrap; a guard so a row can never
			// push the layout sideways.
			r = ansi.Truncate(r, width, "")
		}
		dst = append(dst, r)
		row.Reset()
	}
	for i := 0; i < len(w); {
		r, n := utf8.DecodeRuneInString(w[i:])
		if r == '\n' {
			closeRun(i)
			emit()
			i += n
			continue
		}
		for j < len(p) {
			pr, pn := utf8.DecodeRuneInString(p[j:])
			if pr == r {
				break
			}
			j += pn
		}
		for si < len(spans)-1 && j >= spanEnd {
			si++
			spanEnd += len(spans[si].text)
		}
		if si != cur {
			closeRun(i)
			cur, runStart = si, i
		}
		j += n
		i += n
	}
	closeRun(len(w))
	emit()
	return dst
}

// wrapText wraps text that may hold several paragraphs ('\n'), all in one
// style, appending the rows to dst.
func wrapText(dst []string, text string, style *paint, width int) []string {
	for para := range strings.SplitSeq(text, "\n") {
		dst = wrapSpans(dst, []span{{style: style, text: para}}, width)
	}
	return dst
}

// padRight pads s with spaces to width cells (s must not be wider).
func padRight(s string, width int) string {
	if n := width - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}
