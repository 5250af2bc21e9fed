package tui

import (
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// keptFrame is the last frame and the parts it was made of. Bubble Tea asks
// for the view after every message, and in a crowd most messages change
// nothing on screen (others' joins are held back): the frame is kept until
// an Update may have changed it (valid), and each part until what it shows
// changes (its key, or inputDirty).
type keptFrame struct {
	text  string
	valid bool
	size  int // of the last frame, to size the next one's buffer

	input      string
	inputDirty bool
	help       string
	helpKey    helpKey
	status     string
	statusKey  statusKey
	title      string
	titleKey   titleKey
}

// helpKey, titleKey and statusKey are what the help, title and status
// lines show: each is made again only when its key changes.
type helpKey struct {
	width   int
	all     bool
	sidebar bool
}

type titleKey struct {
	width int
	room  string
	users int
	topic string
}

type statusKey struct {
	width, online, unread int
	me, room              string
	detached, loading     bool
	termW, termH          int
}

// tooSmall reports whether the window is below the smallest the UI draws in.
func (m *Model) tooSmall() bool { return m.w < MinWidth || m.h < MinHeight }

// setTerminal takes the window's size and draws at most MaxWidth×MaxHeight
// of it.
func (m *Model) setTerminal(w, h int) {
	m.termW, m.termH = w, h
	m.w, m.h = min(w, MaxWidth), min(h, MaxHeight)
}

// oversize is the notice for a window larger than the UI draws, or "".
func (m *Model) oversize() string {
	if m.termW <= m.w && m.termH <= m.h {
		return ""
	}
	return fmt.Sprintf("window %d×%d: showing %d×%d", m.termW, m.termH, m.w, m.h)
}

// layout sizes every part from the window size and the help's height.
func (m *Model) layout() {
	m.keys.sidebar = m.focus == focusSidebar
	m.help.ShowAll = m.showAll
	m.help.SetWidth(m.w)
	m.renderHelp()
	m.inputRows = m.input.Rows()
	m.bodyH = max(m.h-1-m.inputRows-m.helpRows, 1)
	sideW := sideWide
	if m.w < 64 {
		sideW = sideNarrow
	}
	m.titleRows = 0
	if m.bodyH >= 4 {
		m.titleRows = 1
	}
	m.side.setSize(sideW, m.bodyH)
	m.sb.setSize(m.w-sideW, m.bodyH-m.titleRows)
	m.input.SetWidth(m.w)
	m.prompt.name.SetWidth(m.w - 4) // promptView's margins
	m.frame.inputDirty = true
}

// renderHelp makes the key help again when what it shows changed.
func (m *Model) renderHelp() {
	hk := helpKey{width: m.w, all: m.showAll, sidebar: m.keys.sidebar}
	if hk == m.frame.helpKey && m.frame.help != "" {
		return
	}
	lines := strings.Split(m.help.View(m.keys), "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.w, "")
	}
	m.frame.help, m.helpRows, m.frame.helpKey = strings.Join(lines, "\n"), len(lines), hk
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	if !m.frame.valid {
		m.frame.text, m.frame.valid = m.content(), true
	}
	v := tea.NewView(m.frame.text)
	if m.screen == screenMain {
		v.WindowTitle = m.windowTitle()
	}
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	return v
}

// content draws the whole frame from the parts kept.
func (m *Model) content() string {
	switch {
	case m.tooSmall():
		return m.tooSmallView()
	case m.screen == screenPrompt:
		return m.promptView()
	}
	side := m.side.view()
	body := m.sb.visible()
	var b strings.Builder
	b.Grow(m.frame.size + 256) // one allocation per frame
	for i := range m.bodyH {
		b.WriteString(side[i])
		if i < m.titleRows {
			b.WriteString(m.title())
		} else {
			b.WriteString(body[i-m.titleRows])
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.status())
	b.WriteByte('\n')
	b.WriteString(m.inputLine())
	b.WriteByte('\n')
	b.WriteString(m.frame.help)
	m.frame.size = b.Len()
	return b.String()
}

// tooSmallView says the window is too small, instead of drawing garbage.
func (m *Model) tooSmallView() string {
	text := fmt.Sprintf("Window too small: %d×%d, need at least %d×%d.", m.w, m.h, MinWidth, MinHeight)
	rows := wrapText(nil, text, &m.st.warn, max(m.w, 1))
	return strings.Join(rows[:min(len(rows), max(m.h, 1))], "\n")
}

// title is the row above the scrollback, beside the sidebar's heading:
// where you are and how many are there. It never scrolls, and that is why
// it is there: every new line shifts the scrollback up one row, and the
// renderer can scroll the terminal instead of repainting only where whole
// rows match after the shift; a row whose sidebar part stays put (the
// heading, each room) must have its chat part repainted. One such row less
// is about a fifth of the bytes each new line costs.
func (m *Model) title() string {
	where, users := m.room, 0
	if where == "" {
		where = "Lobby"
	}
	if i := m.side.current; i >= 0 && i < len(m.side.items) {
		users = m.side.items[i].users
	}
	tk := titleKey{width: m.sb.width, room: where, users: users, topic: m.topic}
	if tk == m.frame.titleKey && m.frame.title != "" {
		return m.frame.title
	}
	people := " · " + strconv.Itoa(users) + " here"
	if m.with != "" {
		people = " · direct messages with " + m.with
	}
	var b strings.Builder
	m.st.title.write(&b, ansi.Truncate(where, max(m.sb.width-1, 1), "…"))
	w := ansi.StringWidth(where) + ansi.StringWidth(people)
	if w < m.sb.width {
		m.st.faint.write(&b, people)
	}
	if left := m.sb.width - w - 3; m.topic != "" && left >= 8 {
		// The topic, as much of it as fits; /topic shows it whole.
		b.WriteString(" · ")
		m.st.text.write(&b, ansi.Truncate(m.topic, left, "…"))
	}
	m.frame.titleKey, m.frame.title = tk, b.String()
	return m.frame.title
}

// status is the line under the scrollback: who, where, how many; on the
// right what the scrollback is doing. Rebuilt only when one of those changes.
func (m *Model) status() string {
	sk := statusKey{width: m.w, online: m.online, unread: m.sb.unread, me: m.me, room: m.room, detached: m.sb.detached, loading: m.sb.loading, termW: m.termW, termH: m.termH}
	if sk == m.frame.statusKey && m.frame.status != "" {
		return m.frame.status
	}
	where := m.room
	if where == "" {
		where = "Lobby"
	}
	left := " " + m.me + " · " + where + " · " + strconv.Itoa(m.online) + " online"
	if m.maxSes > 0 {
		left += " / " + strconv.Itoa(m.maxSes)
	}
	right := ""
	switch {
	case sk.unread > 0:
		right = "↓ " + strconv.Itoa(sk.unread) + " new · End "
	case sk.detached:
		right = "End: newest "
	case sk.loading:
		right = "loading… "
	}
	if o := m.oversize(); o != "" {
		if right != "" {
			o += " ·"
		}
		right = o + " " + right
	}
	left = ansi.Truncate(left, max(m.w-ansi.StringWidth(right), 0), "…")
	line := padRight(left, m.w-ansi.StringWidth(right)) + right
	m.frame.status = m.st.status.Render(ansi.Truncate(line, m.w, ""))
	m.frame.statusKey = sk
	return m.frame.status
}

// inputLine is the input's row, made again only when it changed.
func (m *Model) inputLine() string {
	if m.frame.inputDirty {
		rows := strings.Split(m.input.View(), "\n") // several while it holds several lines
		for i, r := range rows {
			rows[i] = ansi.Truncate(r, m.w, "")
		}
		m.frame.input = strings.Join(rows, "\n")
		m.frame.inputDirty = false
	}
	return m.frame.input
}
