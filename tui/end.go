package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// ending is whether the session ended, and why.
type ending struct {
	done   bool
	reason error // as lobby.Lobby.Ending takes it; nil: the user left
}

// finish records why the session ended (nil: the user left) and quits the
// program. What the user is told is the lobby's to say: see Ending.
func (m *Model) finish(reason error) tea.Cmd {
	if !m.end.done {
		m.end.done, m.end.reason = true, reason
	}
	return tea.Quit
}

// Ending is how the session ends for its user (see lobby.Lobby.Ending): the
// line to print once the terminal is restored, and the SSH exit status.
func (m *Model) Ending() lobby.Ending {
	reason := m.end.reason
	if !m.end.done {
		// Stopped from outside (killed, its context ended) before it
		// heard why: the lobby may know.
		if s := m.lobbySession(); s != nil {
			reason = s.Err()
		}
	}
	return m.lobby.Ending(reason, m.me)
}

// lobbySession is the session that holds the user's slot, nil while the
// UI has none yet.
func (m *Model) lobbySession() *lobby.Session {
	if m.sess != nil {
		return m.sess
	}
	return m.opened
}
