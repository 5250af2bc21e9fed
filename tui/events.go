package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// events applies one read of the lobby queue and reports whether the screen
// may have changed.
func (m *Model) events(msg eventMsg) (tea.Cmd, bool) {
	var flush tea.Cmd
	shown := false
	for _, ev := range msg.evs {
		c, seen := m.event(ev, msg.rooms, msg.online)
		if c != nil {
			flush = c // only the first arms the presence flush
		}
		shown = shown || seen
	}
	if msg.members != nil && msg.membersOf == m.room {
		m.sb.colours.setMembers(msg.members)
	}
	if m.sess == nil {
		return flush, shown
	}
	return tea.Batch(flush, nextEventCmd(m.ctx, m.lobby, m.sess)), shown
}

// event applies one lobby event. It reports whether the screen may have
// changed: others' presence lines and crowded room-list refreshes are only
// put aside until the next presence flush.
func (m *Model) event(ev lobby.Event, rooms []lobby.RoomInfo, online int) (tea.Cmd, bool) {
	switch ev.Kind {
	case lobby.EventMessage:
		if ev.Msg == nil {
			return nil, false
		}
		if ev.Msg.Kind == lobby.KindSystem && ev.Msg.From != m.me {
			return m.deferPresence(ev.Msg), false
		}
		m.flushPresence() // keep the room's order
		m.sb.add(messageEntry(ev.Msg, false))
	case lobby.EventNotice:
		e := entry{kind: entNotice, text: ev.Text}
		if ev.Error {
			e.kind = entError
		}
		m.sb.add(e)
		if len(m.carry) < 8 {
			m.carry = append(m.carry, e)
		}
	case lobby.EventEntered:
		m.held.lines = m.held.lines[:0] // they belong to the room being left
		m.enter(ev)
	case lobby.EventRoomsChanged:
		if online < crowd || !m.side.has(m.room) {
			// A small crowd, or a room of your own making: at once.
			m.online = online
			m.side.setRooms(rooms, online, m.room)
			m.held.rooms, m.held.roomsHeld = nil, false
			return nil, true
		}
		// Held back like presence lines, and shown in the same frame.
		m.held.rooms, m.held.online, m.held.roomsHeld = rooms, online, true
		return m.armPresenceFlush(), false
	}
	return nil, true
}

// enter starts a new scrollback for the room (or the Lobby) just entered.
func (m *Model) enter(ev lobby.Event) {
	m.room = ev.Room
	m.gen++
	m.sb.reset()
	if ev.Room == "" {
		m.sb.add(entry{kind: entInfoHead, text: "You are in the Lobby, " + m.me + "."})
		m.sb.add(entry{kind: entInfo, text: lobby.ShortHelp()})
		m.sb.add(entry{kind: entInfo, text: keyHelpText()})
	} else {
		h := ev.History
		if len(h) == 0 || h[0].Seq <= 1 {
			m.sb.add(entry{kind: entBeginning, text: ev.Room})
		}
		if len(h) > 0 {
			m.sb.add(entry{kind: entRuleHistory})
			for i := range h {
				m.sb.add(messageEntry(&h[i], true))
			}
			m.sb.add(entry{kind: entRuleNow})
		}
	}
	// Replies that came just before the move ("You created alpha.") belong
	// with it, not with the scrollback it replaced.
	for _, e := range m.carry {
		e.width, e.rows = 0, nil
		m.sb.add(e)
	}
	m.carry = m.carry[:0]
	m.side.ensure(ev.Room)
	m.side.setCurrent(ev.Room)
	m.setPlaceholder()
}

// setPlaceholder says in the empty input what a line does where the user is.
func (m *Model) setPlaceholder() {
	if m.room == "" {
		m.input.placeholder = "/join NAME or /create NAME · /commands for help"
	} else {
		m.input.placeholder = "Message " + m.room + " · /commands for help"
	}
	m.frame.inputDirty = true
}
