package tui

import tea "charm.land/bubbletea/v2"

// Older history: a page of the room's lines before the oldest one shown is
// fetched when the user scrolls to the top.

// scrollUp scrolls n rows up, and fetches older lines at the top.
func (m *Model) scrollUp(n int) tea.Cmd {
	m.sb.scrollUp(n)
	return m.loadOlder()
}

// loadOlder fetches the page before the oldest line once the top is on
// screen.
func (m *Model) loadOlder() tea.Cmd {
	if m.room == "" || !m.sb.atTop() || !m.sb.canPage() {
		return nil
	}
	before := m.sb.firstSeq()
	m.sb.startLoading()
	return olderCmd(m.ctx, m.lobby, m.gen, m.room, before)
}

// older puts a fetched page above the lines shown.
func (m *Model) older(msg olderMsg) {
	if msg.gen != m.gen {
		return // for a scrollback that has been replaced
	}
	if msg.err != nil {
		m.sb.loadFailed()
		return
	}
	begin := len(msg.msgs) == 0 || msg.msgs[0].Seq <= 1 || len(msg.msgs) < m.lobby.HistoryPage()
	m.sb.prepend(m.room, msg.msgs, begin)
}
