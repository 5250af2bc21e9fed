package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// actions are the lines the user submitted and the rooms they chose, on
// their way to the lobby one at a time, in the order the user made them.
type actions struct {
	queue   []op   // waiting for the one in flight
	busy    bool   // an Exec or SelectRoom is in flight
	chooses int    // room choices queued or in flight
	want    string // the room the last of them goes to
}

// op is one queued action: a submitted line, or a room chosen by key/mouse.
type op struct {
	line   string
	choose bool
	room   string
}

// maxQueued bounds the lines submitted but not yet executed.
const maxQueued = 16

// enqueue runs o after the actions before it: Exec and SelectRoom run in
// Cmds, each on its own goroutine, so without this queue two lines typed
// quickly could reach the lobby in the wrong order.
func (m *Model) enqueue(o op) tea.Cmd {
	if len(m.actions.queue) >= maxQueued {
		m.sb.add(entry{kind: entError, text: "Slow down: your earlier lines are still being sent."})
		return nil
	}
	m.carry = m.carry[:0]
	if o.choose {
		m.actions.chooses++
		m.actions.want = o.room
	}
	m.actions.queue = append(m.actions.queue, o)
	if m.actions.busy {
		return nil
	}
	return m.runNext()
}

// runNext starts the next queued action, if none is in flight.
func (m *Model) runNext() tea.Cmd {
	if len(m.actions.queue) == 0 || m.sess == nil {
		m.actions.busy = false
		return nil
	}
	o := m.actions.queue[0]
	m.actions.queue = m.actions.queue[1:]
	m.actions.busy = true
	return execCmd(m.ctx, m.sess, o)
}

// execDone takes the outcome of the action in flight and starts the next.
func (m *Model) execDone(msg execDoneMsg) tea.Cmd {
	m.actions.busy = false
	if msg.choose {
		m.actions.chooses--
	}
	if err := msg.err; err != nil {
		if lobby.SessionOver(err) {
			return m.finish(err)
		}
		m.sb.add(entry{kind: entError, text: "That did not work: " + err.Error() + "."})
	}
	return m.runNext()
}

// submit sends the input's line.
func (m *Model) submit() tea.Cmd {
	line := m.input.Value()
	if strings.TrimSpace(line) == "" {
		return nil
	}
	if len(m.actions.queue) >= maxQueued {
		return m.enqueue(op{}) // says why; keeps the line in the input
	}
	m.input.Reset()
	m.frame.inputDirty, m.inputFull = true, false
	m.fitInput()
	m.sb.toBottom()
	return m.enqueue(op{line: line})
}

// choose moves to the room (or the Lobby, "") the user picked.
func (m *Model) choose(name string) tea.Cmd {
	base := m.room
	if m.actions.chooses > 0 {
		base = m.actions.want
	}
	if strings.EqualFold(base, name) {
		return nil
	}
	return m.enqueue(op{choose: true, room: name})
}

// step moves d rooms along the sidebar from where the user is going.
func (m *Model) step(d int) tea.Cmd {
	base := m.room
	if m.actions.chooses > 0 {
		base = m.actions.want
	}
	return m.choose(m.side.step(base, d))
}
