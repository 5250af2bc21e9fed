package tui

import (
	"strconv"
	"strings"

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
	var bell tea.Cmd
	if msg.bell {
		bell = bellCmd()
	}
	if m.sess == nil {
		return tea.Batch(flush, bell), shown
	}
	if loc := m.sess.Location(); loc != m.sb.loc {
		m.sb.setLocation(loc) // /tz, or the zone the client sent
		shown = true
	}
	return tea.Batch(flush, bell, nextEventCmd(m.ctx, m.lobby, m.sess)), shown
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
		e := messageEntry(ev.Msg, false)
		e.mention = ev.Mention
		m.sb.add(e)
	case lobby.EventDirect:
		if ev.Msg == nil {
			return nil, false
		}
		m.flushPresence()
		mine := ev.Msg.From == m.me && ev.Msg.From != ev.With
		m.sb.add(entry{kind: entDirect, msg: ev.Msg, text: ev.With, mine: mine})
	case lobby.EventMention:
		// Its room's count says it, at the next room-list refresh, and
		// the bell rang.
		return nil, false
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
	case lobby.EventEdited:
		if ev.Msg != nil {
			m.sb.replace(ev.Msg)
		}
	case lobby.EventTopic:
		if ev.Room == m.room {
			m.topic = ev.Topic
		}
	case lobby.EventNamed:
		m.me = ev.Text
		m.sb.add(entry{kind: entNotice, text: "You are now " + ev.Text + "."})
	case lobby.EventSearch:
		m.results(ev)
	case lobby.EventJump:
		if ev.Room == m.room {
			m.pickDone()
			m.sb.jump(ev.Room, ev.History, ev.Seq)
		}
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
	m.room, m.with, m.topic = ev.Room, ev.With, ev.Topic
	m.gen++
	m.pickDone()
	m.sb.reset()
	if ev.Room == "" {
		// One entry, so that in a small window it is read from its top.
		m.sb.add(entry{kind: entWelcome, text: "You are in the Lobby, " + m.me + ".\n" + lobby.ShortHelp() + "\n" + keyHelpText()})
	} else {
		h := ev.History
		if len(h) == 0 || h[0].Seq <= 1 {
			m.sb.add(entry{kind: entBeginning, text: ev.Room})
		}
		if len(h) > 0 {
			m.sb.add(entry{kind: entRuleHistory})
			for i := range h {
				e := messageEntry(&h[i], true)
				// In a conversation every line is for the user:
				// highlighting them all would highlight nothing.
				e.mention = ev.With == "" && h[i].Said() && h[i].From != m.me && lobby.Mentions(h[i].Text, m.me)
				m.sb.add(e)
			}
			m.sb.add(entry{kind: entRuleNow})
			m.sb.markNew(ev.NewFrom)
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

// results shows the answer to /search: a heading, then each line found,
// numbered for /goto; while the input is empty, ↑/↓ choose among them and
// Enter opens the one chosen (see pickKey).
func (m *Model) results(ev lobby.Event) {
	if len(ev.Results) == 0 {
		m.sb.add(entry{kind: entNotice, text: ev.Text})
		return
	}
	head, _, _ := strings.Cut(ev.Text, "\n")
	m.sb.add(entry{kind: entNotice, text: head + " ↑/↓ choose one, Enter opens it (or /goto N), Esc leaves them."})
	m.found = ev.Results
	for i := range m.found {
		m.sb.add(entry{kind: entResult, msg: &m.found[i], text: strconv.Itoa(i+1) + "."})
	}
	m.picking, m.pick = true, 0
	m.sb.choose(&m.found[0])
}

// pickDone ends the choice among search results.
func (m *Model) pickDone() {
	m.picking = false
	m.sb.choose(nil)
}
