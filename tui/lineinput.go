package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// lineInput is the one-line text input of the name prompt and of the message
// line: a value of at most limit runes, a cursor, and a window onto the value
// as wide as the screen.
//
// It replaces bubbles' textinput, which could not be made cheap from outside:
// its Update re-measured the whole value (uniseg.StringWidth over a string
// made from it, grapheme by grapheme) after every key, even a key it refused
// at its limit, and its View and Value rebuilt strings of the whole value.
// At the 2,000-character message cap that was about 100 µs a key: 200 KB
// typed by a script cost 20 s of server CPU. Here each rune's width is
// measured once, when it is typed, and every key costs time in proportion to
// the window, never to the value; text that does not fit is refused before it
// costs anything (update reports it, so the UI can say so once).
//
// Keys are textinput's defaults minus what this UI must not have (ctrl+v
// reads the server's clipboard; suggestions): arrows and ctrl+f/b move a
// character, alt/ctrl+arrows and alt+f/b a word, home/ctrl+a and end/ctrl+e
// to either end, backspace/ctrl+h and delete/ctrl+d delete a character,
// ctrl+w/alt+backspace and alt+d/alt+delete a word, ctrl+u and ctrl+k to
// either end. Typed and pasted text is cleaned as textinput cleaned it:
// control characters are dropped, tabs and line breaks become spaces. The
// word keys stop where readline's do (textinput's alt+d also took the next
// word, and its ctrl+w the space before a first word).
//
// The message input holds several lines (multi): a paste keeps its line
// breaks, newline (Alt+Enter, Ctrl+J) starts a line, and while it holds
// more than one the input grows to as many rows, up to inputRows, with ↑/↓
// moving between them and home/end, ctrl+u/ctrl+k acting on the line.
type lineInput struct {
	st          *inputStyles
	prompt      string
	promptW     int
	placeholder string
	limit       int // most runes held; 0: no limit

	value []rune
	cells []uint8 // cells[i] is how many cells value[i] takes ('\n' none)
	pos   int     // the cursor, a rune index in [0, len(value)]
	off   int     // the first rune in the window (one line)

	multi  bool   // line breaks are kept: the message input
	breaks int    // '\n' in value
	rowOff int    // the first line shown, when more lines than inputRows
	ver    uint64 // counts changes of the value, for what waits on it (Tab)

	width   int // cells of the whole line, prompt included
	focused bool
}

// inputStyles are an input's paints, focused and not.
type inputStyles struct {
	prompt, promptBlurred paint
	text, textBlurred     paint
	placeholder           paint
	cursor                paint // the cell under the cursor, when focused
}

func newInputStyles() inputStyles {
	base := lipgloss.NewStyle()
	faint := paintOf(base.Faint(true))
	return inputStyles{
		prompt:        paintOf(base.Bold(true)),
		promptBlurred: faint,
		text:          paintOf(base),
		textBlurred:   faint,
		placeholder:   faint,
		// A steady block: a blinking cursor would re-render every session
		// twice a second and keep the idle timeout from ever firing.
		cursor: paintOf(base.Foreground(lipgloss.Color("7")).Reverse(true)),
	}
}

func newLineInput(st *inputStyles, limit int, placeholder string) lineInput {
	const prompt = "> "
	return lineInput{st: st, prompt: prompt, promptW: ansi.StringWidth(prompt), limit: limit, placeholder: placeholder, width: 80}
}

// edit is what a key did to an input.
type edit uint8

const (
	editNone    edit = iota // not an input key: nothing changed
	editDone                // the value or the cursor may have changed
	editRefused             // typed text that did not fit under the limit
)

// Value is the text typed.
func (in *lineInput) Value() string { return string(in.value) }

// Len is the number of runes typed.
func (in *lineInput) Len() int { return len(in.value) }

// room is how many more runes fit.
func (in *lineInput) room() int {
	if in.limit <= 0 {
		return int(^uint(0) >> 1)
	}
	return max(in.limit-len(in.value), 0)
}

// Reset empties the input. It lets the arrays go: a session keeps no
// 10 KB of a long line it sent.
func (in *lineInput) Reset() {
	in.value, in.cells = nil, nil
	in.pos, in.off, in.breaks, in.rowOff = 0, 0, 0, 0
	in.ver++
}

// inputRows is the most rows the input grows to.
const inputRows = 5

// Lines is how many lines the value holds.
func (in *lineInput) Lines() int { return in.breaks + 1 }

// Rows is how many rows the input takes on screen.
func (in *lineInput) Rows() int { return min(in.breaks+1, inputRows) }

// lineStart is where the line holding rune i starts; lineEnd where it ends
// (at its '\n', or the end). They walk that line only.
func (in *lineInput) lineStart(i int) int {
	for i > 0 && in.value[i-1] != '\n' {
		i--
	}
	return i
}

func (in *lineInput) lineEnd(i int) int {
	for i < len(in.value) && in.value[i] != '\n' {
		i++
	}
	return i
}

// lineOf is the line the cursor is on, counting from 0. It walks the value
// only when it holds several lines.
func (in *lineInput) lineOf(pos int) int {
	if in.breaks == 0 {
		return 0
	}
	n := 0
	for _, r := range in.value[:pos] {
		if r == '\n' {
			n++
		}
	}
	return n
}

// moveLine moves the cursor d lines up (-1) or down (1), to the same
// column or the line's end, and reports whether there was a line to go to.
func (in *lineInput) moveLine(d int) bool {
	start := in.lineStart(in.pos)
	col := in.pos - start
	switch {
	case d < 0 && start > 0:
		prev := in.lineStart(start - 1)
		in.pos = min(prev+col, start-1)
	case d > 0 && in.lineEnd(in.pos) < len(in.value):
		next := in.lineEnd(in.pos) + 1
		in.pos = min(next+col, in.lineEnd(next))
	default:
		return false
	}
	in.scroll()
	return true
}

// newline starts a new line at the cursor, if the input holds lines and
// has room for one more: it reports whether it did.
func (in *lineInput) newline(maxLines int) bool {
	if !in.multi || in.breaks+1 >= maxLines || in.room() < 1 {
		return false
	}
	return in.insert("\n")
}

// Focus shows the cursor; Blur hides it and dims the line.
func (in *lineInput) Focus() { in.focused = true }

// Blur: see Focus.
func (in *lineInput) Blur() { in.focused = false }

// SetWidth sets the cells the whole line takes, prompt included: at least
// the prompt and two cells, room for a wide character under the cursor.
func (in *lineInput) SetWidth(w int) {
	in.width = max(w, in.promptW+2)
	in.scroll()
}

// update applies one key press.
func (in *lineInput) update(msg tea.KeyPressMsg) edit {
	v := in.value
	switch msg.String() {
	case "right", "ctrl+f":
		in.pos = min(in.pos+1, len(v))
	case "left", "ctrl+b":
		in.pos = max(in.pos-1, 0)
	case "alt+right", "ctrl+right", "alt+f":
		in.pos = in.wordEnd()
	case "alt+left", "ctrl+left", "alt+b":
		in.pos = in.wordStart()
	case "home", "ctrl+a":
		in.pos = in.lineStart(in.pos)
	case "end", "ctrl+e":
		in.pos = in.lineEnd(in.pos)
	case "backspace", "ctrl+h":
		if in.pos > 0 {
			in.delete(in.pos-1, in.pos)
		}
	case "delete", "ctrl+d":
		if in.pos < len(v) {
			in.delete(in.pos, in.pos+1)
		}
	case "alt+backspace", "ctrl+w", "ctrl+backspace":
		in.delete(in.wordStart(), in.pos)
	case "alt+delete", "alt+d", "ctrl+delete":
		in.delete(in.pos, in.wordEnd())
	case "ctrl+u":
		in.delete(in.lineStart(in.pos), in.pos)
	case "ctrl+k":
		in.delete(in.pos, in.lineEnd(in.pos))
	default:
		if msg.Text == "" {
			return editNone
		}
		if !in.insert(msg.Text) {
			return editRefused
		}
	}
	in.scroll()
	return editDone
}

// wordStart is where the word before the cursor starts (spaces between it
// and the cursor included), as alt+b and ctrl+w see it.
func (in *lineInput) wordStart() int {
	i := in.pos
	for i > 0 && unicode.IsSpace(in.value[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(in.value[i-1]) {
		i--
	}
	return i
}

// wordEnd is where the word after the cursor ends, as alt+f and alt+d see it.
func (in *lineInput) wordEnd() int {
	i := in.pos
	for i < len(in.value) && unicode.IsSpace(in.value[i]) {
		i++
	}
	for i < len(in.value) && !unicode.IsSpace(in.value[i]) {
		i++
	}
	return i
}

func (in *lineInput) delete(from, to int) {
	if from >= to {
		return
	}
	if in.breaks > 0 {
		for _, r := range in.value[from:to] {
			if r == '\n' {
				in.breaks--
			}
		}
	}
	in.ver++
	in.value = append(in.value[:from], in.value[to:]...)
	in.cells = append(in.cells[:from], in.cells[to:]...)
	in.pos = from
}

// cleanLen is how many runes insert would add for s.
func cleanLen(s string) int {
	n := 0
	for _, r := range s {
		if keepRune(r) {
			n++
		}
	}
	return n
}

func keepRune(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return true // as a space
	case utf8.RuneError:
		return false
	}
	return !unicode.IsControl(r)
}

// replace puts text in place of the runes [from, to), the cursor after it,
// if it fits under the limit; it reports whether it did.
func (in *lineInput) replace(from, to int, text string) bool {
	if cleanLen(text)-(to-from) > in.room() || from < 0 || to > len(in.value) || from > to {
		return false
	}
	in.delete(from, to)
	in.pos = from
	return in.insert(text)
}

// insert puts s, cleaned, at the cursor, all of it or, if it does not fit
// under the limit, nothing; it reports which.
func (in *lineInput) insert(s string) bool {
	n := cleanLen(s)
	if n > in.room() {
		return false
	}
	if n == 0 {
		return true
	}
	at := in.pos
	in.value = append(in.value, make([]rune, n)...)
	in.cells = append(in.cells, make([]uint8, n)...)
	copy(in.value[at+n:], in.value[at:])
	copy(in.cells[at+n:], in.cells[at:])
	i := at
	for _, r := range s {
		if !keepRune(r) {
			continue
		}
		switch {
		case (r == '\n' || r == '\r') && in.multi:
			r = '\n'
			in.breaks++
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		}
		in.value[i], in.cells[i] = r, runeCells(r)
		i++
	}
	in.ver++
	in.pos = at + n
	in.scroll()
	return true
}

// runeCells is how many cells r takes on screen, measured as the renderer
// measures (with a shortcut for printable ASCII).
func runeCells(r rune) uint8 {
	if r >= 0x20 && r < 0x7f {
		return 1
	}
	if r == '\n' {
		return 0 // it ends a row instead
	}
	var b [utf8.UTFMax]byte
	return uint8(min(ansi.StringWidth(string(b[:utf8.EncodeRune(b[:], r)])), 2))
}

// textCells is the window's width: the line less the prompt.
func (in *lineInput) textCells() int { return in.width - in.promptW }

// cursorCells is the width of the cell under the cursor: the rune there, or
// one blank cell past the end.
func (in *lineInput) cursorCells() int {
	if in.pos < len(in.cells) {
		return max(int(in.cells[in.pos]), 1)
	}
	return 1
}

// scroll moves the window so that the cursor is in it and, when the value's
// end is in it too, so that it is as full as it can be. It looks only at the
// runes within about a window's width of the cursor.
func (in *lineInput) scroll() {
	w := in.textCells()
	in.pos = min(max(in.pos, 0), len(in.value))
	in.off = min(in.off, in.pos)
	if in.breaks > 0 {
		// Several lines: the rows shown follow the cursor's line; each
		// row's window is worked out as it is drawn (multiView).
		line := in.lineOf(in.pos)
		in.rowOff = min(max(in.rowOff, line-inputRows+1), line)
		in.rowOff = max(min(in.rowOff, in.breaks+1-inputRows), 0)
		in.off = in.lineStart(in.pos)
		return
	}
	in.rowOff = 0
	// Does the cursor fit after the window's start?
	used, i := in.cursorCells(), in.off
	for ; i < in.pos && used <= w; i++ {
		used += int(in.cells[i])
	}
	if used > w {
		// No: the window ends at the cursor.
		used, i = in.cursorCells(), in.pos
		for i > 0 && used+int(in.cells[i-1]) <= w {
			i--
			used += int(in.cells[i])
		}
		in.off = i
		return
	}
	if in.off == 0 {
		return
	}
	// Does everything after the window's start fit, with a blank cell for the
	// cursor at the end? Then show as much before it as fits too.
	used = 1
	for i = in.off; i < len(in.cells) && used <= w; i++ {
		used += int(in.cells[i])
	}
	if used > w {
		return
	}
	for in.off > 0 && used+int(in.cells[in.off-1]) <= w {
		in.off--
		used += int(in.cells[in.off])
	}
}

// View is the input line: prompt, the window onto the value (or the
// placeholder while it is empty) with the cursor, padded to the line's
// width with blanks.
func (in *lineInput) View() string {
	st := in.st
	text, prompt := &st.text, &st.prompt
	if !in.focused {
		text, prompt = &st.textBlurred, &st.promptBlurred
	}
	cursor := text
	if in.focused {
		cursor = &st.cursor
	}
	w := in.textCells()
	var b strings.Builder
	b.Grow(4*w + 64)
	prompt.write(&b, in.prompt)
	if len(in.value) == 0 && in.placeholder != "" {
		ph := ansi.Truncate(in.placeholder, w, "")
		if ph == "" {
			ph = " " // only a wide first character, in a window one cell wide
		}
		_, n := utf8.DecodeRuneInString(ph)
		under := &st.placeholder
		if in.focused {
			under = &st.cursor
		}
		under.write(&b, ph[:n])
		st.placeholder.write(&b, ph[n:])
		b.WriteString(strings.Repeat(" ", max(w-ansi.StringWidth(ph), 0)))
		return b.String()
	}
	if in.breaks > 0 {
		return in.multiView(&b, text, cursor)
	}
	// The runes that fit from the window's start.
	end, used := in.off, 0
	for end < len(in.value) && used+int(in.cells[end]) <= w {
		used += int(in.cells[end])
		end++
	}
	text.write(&b, string(in.value[in.off:in.pos]))
	if in.pos < len(in.value) {
		end = max(end, in.pos+1)
		cursor.write(&b, string(in.value[in.pos]))
		text.write(&b, string(in.value[in.pos+1:end]))
	} else {
		cursor.write(&b, " ")
		used++
	}
	b.WriteString(strings.Repeat(" ", max(w-used, 0)))
	return b.String()
}

// multiView draws an input of several lines, the prompt written into b: a
// row each for the lines from rowOff, at most inputRows of them, joined by
// '\n'. The cursor's row shows a window that holds the cursor; the others
// show their start.
func (in *lineInput) multiView(b *strings.Builder, text, cursor *paint) string {
	w := in.textCells()
	pad := strings.Repeat(" ", in.promptW)
	line, start := 0, 0
	for i, r := range in.value {
		if line >= in.rowOff+inputRows {
			break
		}
		if r != '\n' {
			continue
		}
		if line >= in.rowOff {
			in.row(b, start, i, w, text, cursor)
			b.WriteByte('\n')
			b.WriteString(pad)
		}
		line, start = line+1, i+1
	}
	if line < in.rowOff+inputRows {
		in.row(b, start, len(in.value), w, text, cursor)
	} else {
		// The last row written ended with a break and a margin: take them back.
		out := b.String()
		return out[:len(out)-1-len(pad)]
	}
	return b.String()
}

// row draws the line value[start:end] in w cells, with the cursor if it is
// on it, padded with blanks.
func (in *lineInput) row(b *strings.Builder, start, end, w int, text, cursor *paint) {
	from := start
	if in.pos >= start && in.pos <= end {
		// Start where the cursor still fits.
		used := in.cursorCells()
		for from = in.pos; from > start && used+int(in.cells[from-1]) <= w; from-- {
			used += int(in.cells[from-1])
		}
	}
	to, used := from, 0
	for to < end && used+int(in.cells[to]) <= w {
		used += int(in.cells[to])
		to++
	}
	if in.pos < from || in.pos > end {
		text.write(b, string(in.value[from:to]))
	} else {
		text.write(b, string(in.value[from:in.pos]))
		if in.pos < end {
			cursor.write(b, string(in.value[in.pos]))
			to = max(to, in.pos+1)
			text.write(b, string(in.value[in.pos+1:to]))
			used = 0
			for _, c := range in.cells[from:to] {
				used += int(c)
			}
		} else {
			cursor.write(b, " ")
			used++
		}
	}
	b.WriteString(strings.Repeat(" ", max(w-used, 0)))
}
