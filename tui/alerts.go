package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// What is meant for the user: direct messages and lines that name them.
// They ring the terminal's bell (a plain BEL, never inside another
// sequence) unless the user turned it off (/bell off: Session.Bell), count
// on their room's sidebar entry, and sum up in the window title.

// appTitle is the window title with nothing unread.
const appTitle = "chatroom"

// rings reports whether a batch of events should ring s's bell. It runs
// in the event pump's Cmd, where reading the lobby may wait.
func rings(s *lobby.Session, evs []lobby.Event) bool {
	me := ""
	for _, ev := range evs {
		if !meantFor(ev) {
			continue
		}
		if ev.With != "" && me == "" {
			me = s.Name()
		}
		if ev.With != "" && ev.Msg.From == me {
			continue // the user's own line of a conversation
		}
		return s.Bell()
	}
	return false
}

// meantFor reports whether ev is a line meant for the user: one that names
// them, or a line of one of their conversations (the user's own among
// them; rings tells those apart).
func meantFor(ev lobby.Event) bool {
	switch ev.Kind {
	case lobby.EventMention, lobby.EventDirect:
		return ev.Msg != nil && ev.Msg.Kind == lobby.KindChat
	case lobby.EventMessage:
		return ev.Msg != nil && ev.Msg.Kind == lobby.KindChat && (ev.Mention || ev.With != "")
	}
	return false
}

// bellCmd writes a BEL to the terminal, outside any frame.
func bellCmd() tea.Cmd { return tea.Raw("\a") }

// windowTitle is "(N) chatroom" with N the lines meant for the user that
// they have not read (mentions in rooms, direct messages), else "chatroom".
func (m *Model) windowTitle() string {
	n := m.side.alerts()
	if n == 0 {
		return appTitle
	}
	return "(" + countText(n) + ") " + appTitle
}

// nextUnread goes to the next room or conversation with lines meant for the
// user, or else with lines unread; it says so when there is none.
func (m *Model) nextUnread() tea.Cmd {
	base := m.room
	if m.actions.chooses > 0 {
		base = m.actions.want
	}
	name, ok := m.side.nextUnread(base)
	if !ok {
		m.sb.add(entry{kind: entNotice, text: "Nothing unread anywhere."})
		return nil
	}
	return m.choose(name)
}

// alerts is the sum of the lines meant for the user not read yet, over
// every entry.
func (s *sidebar) alerts() int {
	n := 0
	for _, it := range s.items {
		n += it.mentions
	}
	return n
}
