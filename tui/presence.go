package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// presence is what is held back until the next presence flush: others'
// join and leave lines, and in a crowd the newest room list.
type presence struct {
	lines      []*lobby.Message // others' join/leave lines not shown yet
	rooms      []lobby.RoomInfo // the newest room list, with online, when roomsHeld
	online     int
	roomsHeld  bool
	flushArmed bool // a presenceFlushCmd is on its way
}

// deferPresence holds other people's join and leave lines back for a
// moment and shows them together. Each change on screen costs the server a
// full frame for this session; in a login storm a busy room sees hundreds
// of joins a second, and showing them as they come would cost every member
// hundreds of frames. A chat line shows them at once, in order, before it.
func (m *Model) deferPresence(msg *lobby.Message) tea.Cmd {
	m.held.lines = append(m.held.lines, msg)
	return m.armPresenceFlush()
}

// armPresenceFlush starts the timer of the next flush, unless one runs.
func (m *Model) armPresenceFlush() tea.Cmd {
	if m.held.flushArmed {
		return nil
	}
	m.held.flushArmed = true
	// Longer in a crowd, where storms happen: 250ms per 25 online, up to
	// 10s, so a thousand people logging in cost each of them a frame every
	// 10s rather than one per login. Nobody reads a crowd's joins one by
	// one; chat lines still show at once.
	online := max(m.online, m.held.online)
	return presenceFlushCmd(m.ctx, min(presenceEvery*time.Duration(max(1, online/25)), maxPresenceWait))
}

const (
	presenceEvery   = 250 * time.Millisecond
	maxPresenceWait = 10 * time.Second
)

// crowd is the number online from which room-list refreshes wait for the
// next presence flush instead of costing a frame each.
const crowd = 50

// flushPresence shows what was held back.
func (m *Model) flushPresence() {
	m.held.flushArmed = false
	for _, p := range m.held.lines {
		m.sb.add(messageEntry(p, false))
	}
	clear(m.held.lines)
	m.held.lines = m.held.lines[:0]
	if m.held.roomsHeld {
		m.online = m.held.online
		m.side.setRooms(m.held.rooms, m.held.online, m.room)
		m.held.rooms, m.held.roomsHeld = nil, false
	}
}
