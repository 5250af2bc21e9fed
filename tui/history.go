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
	if m.sb.pageFrom > 0 && m.sb.pageFrom < before {
		before = m.sb.pageFrom // the last page's lines were all left out
	}
	if m.sess == nil {
		return nil
	}
	m.sb.startLoading()
	return olderCmd(m.ctx, m.sess, m.gen, m.room, before)
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
	m.sb.pageFrom = msg.page.Next
	m.sb.prepend(m.room, msg.page.Lines, msg.page.Start)
}
