package tui

import (
	"hash/fnv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// paletteSize is the number of colours names are spread over.
const paletteSize = 12

// styles are one session's styles. They are values built in New, never
// shared between sessions, so nothing here is package-level mutable state.
type styles struct {
	// Text styles, as paints: made once per session so a new line does
	// not go through lipgloss's full Render machinery.
	gutter   paint // the time column
	text     paint // chat text
	history  paint // a replayed or paged line
	system   paint // joins and leaves
	notice   paint
	errNote  paint
	rule     paint
	info     paint // the Lobby's help text
	infoHead paint
	users    [paletteSize]paint
	usersOld [paletteSize]paint // the same, for history lines
	title    paint
	warn     paint
	faint    paint
	link     paint // a URL, which is also an OSC 8 link
	mark     paint // the line a search result opened at; the chosen result
	mention  paint // a line meant for the user
	direct   paint // the "→ you" of a direct message
	newRule  paint // "── new ──"

	sideHead      lipgloss.Style
	sideHeadFocus lipgloss.Style
	sideItem      lipgloss.Style
	sideCurrent   lipgloss.Style
	sideCursor    lipgloss.Style
	sideCount     lipgloss.Style
	sideUnread    lipgloss.Style // a room with lines not seen, and their count
	sideMention   lipgloss.Style // lines meant for the user
	border        lipgloss.Style

	status lipgloss.Style

	help  help.Styles
	input inputStyles
}

func newStyles() *styles {
	s := &styles{}
	base := lipgloss.NewStyle()
	s.gutter = paintOf(base.Faint(true))
	s.text = paintOf(base)
	s.history = paintOf(base.Faint(true))
	s.system = paintOf(base.Foreground(lipgloss.Color("245")).Italic(true))
	s.notice = paintOf(base.Foreground(lipgloss.Color("#0087af")))
	s.errNote = paintOf(base.Foreground(lipgloss.Color("#d75f00")).Bold(true))
	s.rule = paintOf(base.Faint(true))
	s.info = paintOf(base)
	s.infoHead = paintOf(base.Bold(true))
	// Mid-luminance colours that stay readable on dark and on light
	// backgrounds, so no background detection is needed. The renderer
	// downsamples them to each session's colour profile.
	palette := [paletteSize]string{
		"#d7005f", "#0087d7", "#00af87", "#d75f00",
		"#8700d7", "#5f8700", "#af8700", "#0087af",
		"#af5f87", "#5f5fd7", "#d70087", "#008700",
	}
	for i, c := range palette {
		s.users[i] = paintOf(base.Foreground(lipgloss.Color(c)).Bold(true))
		s.usersOld[i] = paintOf(base.Foreground(lipgloss.Color(c)).Faint(true))
	}
	s.title = paintOf(base.Bold(true))
	s.warn = paintOf(base.Foreground(lipgloss.Color("#d75f00")).Bold(true))
	s.faint = paintOf(base.Faint(true))
	s.link = paintOf(base.Underline(true))
	s.mark = paintOf(base.Reverse(true).Bold(true))
	s.mention = paintOf(base.Foreground(lipgloss.Color("#d7005f")).Bold(true))
	s.direct = paintOf(base.Foreground(lipgloss.Color("#8700d7")).Bold(true))
	s.newRule = paintOf(base.Foreground(lipgloss.Color("#d7005f")))

	s.sideHead = base.Bold(true)
	s.sideHeadFocus = base.Bold(true).Underline(true)
	s.sideItem = base
	s.sideCurrent = base.Reverse(true).Bold(true)
	s.sideCursor = base.Foreground(lipgloss.Color("#0087d7")).Bold(true)
	s.sideCount = base.Faint(true)
	s.sideUnread = base.Bold(true)
	s.sideMention = base.Foreground(lipgloss.Color("#d7005f")).Bold(true)
	s.border = base.Faint(true)

	s.status = base.Reverse(true)

	s.help = help.Styles{
		Ellipsis:       base.Faint(true),
		ShortKey:       base.Bold(true),
		ShortDesc:      base.Faint(true),
		ShortSeparator: base.Faint(true),
		FullKey:        base.Bold(true),
		FullDesc:       base.Faint(true),
		FullSeparator:  base.Faint(true),
	}

	s.input = newInputStyles()
	return s
}

// userIndex maps a name to its own palette slot, the one it gets unless
// someone in the room holds it (roomColours). FNV-1a over the lower-cased
// name is stable across runs and processes, so a user mostly keeps one
// colour everywhere and "Alice" in old history matches "alice" today.
func userIndex(name string) int {
	h := fnv.New32a()
	// h.Write, not io.WriteString: called straight on New32a's result it is
	// devirtualised and inlined, and allocates nothing.
	_, _ = h.Write([]byte(strings.ToLower(name)))
	return int(h.Sum32() % paletteSize)
}

// paint is a text style reduced to the escape sequences around the text,
// taken from what lipgloss renders for it. Only for styles that treat every
// character alike (colours, bold, faint, italic: no padding, borders or
// width), which is all the scrollback uses.
type paint struct{ pre, post string }

func paintOf(st lipgloss.Style) paint {
	r := st.Render("x") // 'x' cannot occur inside an SGR sequence
	i := strings.IndexByte(r, 'x')
	return paint{pre: r[:i], post: r[i+1:]}
}

// render styles text (which must not hold newlines).
func (p *paint) render(text string) string {
	if p.pre == "" || text == "" {
		return text
	}
	return p.pre + text + p.post
}

// write styles text into b.
func (p *paint) write(b *strings.Builder, text string) {
	if p.pre == "" || text == "" {
		b.WriteString(text)
		return
	}
	b.WriteString(p.pre)
	b.WriteString(text)
	b.WriteString(p.post)
}
