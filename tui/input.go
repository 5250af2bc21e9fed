package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// What the user does on the main screen: keys (bound in keymap.go), a
// paste, the mouse. The prompt screen's keys are in prompt.go, and the line
// the user types is a lineInput (lineinput.go).

// mainKey handles a key on the main screen: the global bindings, then the
// sidebar's or the input's, whichever has the focus.
func (m *Model) mainKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.focus == focusInput && typed(msg) && (msg.Text != "?" || m.input.Len() > 0) {
		// Typed text, which no binding takes ("?" only on an empty
		// input): straight to the input. Matching every binding costs a
		// string a binding, and typing is the most frequent thing of all.
		if m.picking {
			m.pickDone()
		}
		m.inputEdited(m.input.update(msg))
		return nil
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.finish(nil)
	case key.Matches(msg, k.HelpF1):
		m.toggleHelp()
		return nil
	case key.Matches(msg, k.Next):
		return m.step(1)
	case key.Matches(msg, k.Prev):
		return m.step(-1)
	case key.Matches(msg, k.Unread):
		return m.nextUnread()
	case key.Matches(msg, k.Complete) && m.focus == focusInput && m.input.Len() > 0:
		return m.complete(msg.String() == "shift+tab")
	case key.Matches(msg, k.Focus):
		m.setFocus(1 - m.focus)
		return nil
	case key.Matches(msg, k.PageUp):
		return m.scrollUp(max(m.bodyH-m.titleRows-1, 1))
	case key.Matches(msg, k.PageDown):
		m.sb.scrollDown(max(m.bodyH-m.titleRows-1, 1))
		return nil
	}
	if m.focus == focusSidebar {
		return m.sidebarKey(msg)
	}
	if m.picking {
		if cmd, done := m.pickKey(msg); done {
			return cmd
		}
	}
	return m.inputKey(msg)
}

// pickKey handles a key while search results are shown to choose from and
// the input is empty: ↑/↓ choose, Enter opens, Esc leaves them. Any other
// key ends the choice and goes to the input. It reports whether it took
// the key.
func (m *Model) pickKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	if m.input.Len() > 0 || len(m.found) == 0 {
		m.pickDone()
		return nil, false
	}
	switch {
	case key.Matches(msg, k.LineUp):
		m.pick = max(m.pick-1, 0)
	case key.Matches(msg, k.LineDown):
		m.pick = min(m.pick+1, len(m.found)-1)
	case key.Matches(msg, k.Send):
		n := m.pick + 1
		m.pickDone()
		m.sb.toBottom()
		return m.enqueue(op{line: "/goto " + strconv.Itoa(n)}), true
	case key.Matches(msg, k.Back):
		m.pickDone()
		return nil, true
	default:
		m.pickDone()
		return nil, false
	}
	m.sb.choose(&m.found[m.pick])
	m.sb.toBottom() // the results are the newest lines
	return nil, true
}

// sidebarKey handles a key while the room list has the focus.
func (m *Model) sidebarKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.LineUp):
		m.side.move(-1)
	case key.Matches(msg, k.LineDown):
		m.side.move(1)
	case key.Matches(msg, k.Join):
		name := m.side.items[m.side.cursor].name
		m.setFocus(focusInput)
		return m.choose(name)
	case key.Matches(msg, k.Back):
		m.setFocus(focusInput)
	case key.Matches(msg, k.Help):
		m.toggleHelp()
	case key.Matches(msg, k.Top):
		m.sb.toTop()
		return m.loadOlder()
	case key.Matches(msg, k.Bottom):
		m.sb.toBottom()
	default:
		if msg.Text != "" {
			// Typing in the room list means typing.
			m.setFocus(focusInput)
			return m.inputKey(msg)
		}
	}
	return nil
}

// inputKey handles a key while the input has the focus.
func (m *Model) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	empty := m.input.Len() == 0
	switch {
	case key.Matches(msg, k.Send):
		return m.submit()
	case key.Matches(msg, k.Newline):
		m.newline()
		return nil
	case key.Matches(msg, k.EditLast) && empty && m.editLast():
		return nil
	case (key.Matches(msg, k.LineUp) || key.Matches(msg, k.LineDown)) && m.input.Lines() > 1:
		// Between the input's lines; nothing past its first and last.
		d := 1
		if key.Matches(msg, k.LineUp) {
			d = -1
		}
		if m.input.moveLine(d) {
			m.frame.inputDirty = true
		}
		return nil
	case key.Matches(msg, k.Help) && empty:
		m.toggleHelp()
		return nil
	case key.Matches(msg, k.Top) && empty:
		m.sb.toTop()
		return m.loadOlder()
	case key.Matches(msg, k.Bottom) && empty:
		m.sb.toBottom()
		return nil
	case key.Matches(msg, k.LineUp):
		return m.scrollUp(1)
	case key.Matches(msg, k.LineDown):
		m.sb.scrollDown(1)
		return nil
	case key.Matches(msg, k.Back):
		return nil // bare Esc may be half of a split escape sequence: do nothing
	}
	m.inputEdited(m.input.update(msg))
	return nil
}

// newline starts a new line in the message input, or says why it cannot.
func (m *Model) newline() {
	switch {
	case m.input.newline(lobby.MaxLines):
		m.frame.inputDirty = true
		m.fitInput()
	case m.input.Lines() >= lobby.MaxLines:
		m.sb.add(entry{kind: entError, text: fmt.Sprintf("A message holds at most %d lines.", lobby.MaxLines)})
	default:
		m.inputEdited(editRefused)
	}
}

// editLast puts "/edit" and the user's last line in this room into the
// empty input, to change and send, and reports whether there was one. The
// line is the newest of the user's the scrollback holds; the lobby checks
// on /edit that it is still theirs to change (lobby.EditLines, EditAge).
func (m *Model) editLast() bool {
	if m.room == "" {
		return false
	}
	own := m.sb.lastBy(m.me)
	if own == nil || !m.input.insert("/edit "+own.Text) {
		return false
	}
	m.frame.inputDirty = true
	m.fitInput()
	return true
}

// paste inserts a bracketed paste into the field in use, whole or not at all.
func (m *Model) paste(msg tea.PasteMsg) tea.Cmd {
	// A paste of several lines is one message of several lines, never
	// one message per line; the name prompt takes one line.
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(msg.Content)
	if m.screen == screenPrompt {
		if m.prompt.claiming {
			return nil
		}
		if !m.prompt.name.insert(text) {
			m.prompt.err = fmt.Sprintf("That would make a name of %d characters; a name is at most %d.",
				cleanLen(text)+m.prompt.name.Len(), lobby.MaxNameLen)
		}
		return nil
	}
	m.setFocus(focusInput)
	// The whole paste or nothing, so nothing is ever silently lost.
	if n := m.input.Lines() + strings.Count(text, "\n"); n > lobby.MaxLines {
		m.sb.add(entry{kind: entError, text: fmt.Sprintf(
			"That paste would make a message of %d lines; a message holds at most %d, so it was not pasted.", n, lobby.MaxLines)})
		return nil
	}
	if !m.input.insert(text) {
		m.sb.add(entry{kind: entError, text: fmt.Sprintf(
			"That paste is %d characters long; a message is at most %d, so it was not pasted.", cleanLen(text), lobby.MaxMessageLen)})
		return nil
	}
	m.frame.inputDirty = true
	m.fitInput()
	return nil
}

// click joins a room clicked in the sidebar, or focuses the input.
func (m *Model) click(mo tea.Mouse) tea.Cmd {
	if mo.Button != tea.MouseLeft || m.screen != screenMain || m.tooSmall() {
		return nil
	}
	switch {
	case mo.X < m.side.width && mo.Y < m.bodyH:
		if i := m.side.hit(mo.Y); i >= 0 {
			m.setFocus(focusInput)
			return m.choose(m.side.items[i].name)
		}
	case mo.Y > m.bodyH:
		m.setFocus(focusInput)
	}
	return nil
}

// wheel scrolls the scrollback.
func (m *Model) wheel(mo tea.Mouse) tea.Cmd {
	if m.screen != screenMain {
		return nil
	}
	switch mo.Button {
	case tea.MouseWheelUp:
		return m.scrollUp(3)
	case tea.MouseWheelDown:
		m.sb.scrollDown(3)
	}
	return nil
}

// setFocus gives the keys to the input or to the room list.
func (m *Model) setFocus(f focus) {
	if f == m.focus {
		return
	}
	m.focus = f
	m.side.setFocus(f == focusSidebar)
	if f == focusSidebar {
		m.input.Blur()
	} else {
		m.input.Focus()
	}
	m.frame.inputDirty = true
	m.layout()
}

// toggleHelp shows the full key help, or the short line.
func (m *Model) toggleHelp() {
	m.showAll = !m.showAll
	m.layout()
}

// inputEdited follows up what a key did to the message input.
func (m *Model) inputEdited(e edit) {
	switch e {
	case editDone:
		m.frame.inputDirty = true
		if m.input.Len() == 0 {
			m.inputFull = false
		}
		m.fitInput()
	case editRefused:
		// Once: a script typing on at full speed must not fill the
		// scrollback with notices (nor cost a frame each: fullInputRefuses).
		if !m.inputFull {
			m.inputFull = true
			m.sb.add(entry{kind: entError, text: fmt.Sprintf("A message is at most %d characters, and the input is full: "+
				"what you type now is not added. Send it, or delete some first.", lobby.MaxMessageLen)})
		}
	}
}

// fullInputRefuses reports whether msg is text typed into the message input
// after it filled up and the user was told so. Update lets such a key change
// nothing, not even the kept frame, so typing on costs next to nothing.
func (m *Model) fullInputRefuses(msg tea.KeyPressMsg) bool {
	// A key with text matches none of the main screen's bindings but "?",
	// which is typed text unless the input is empty.
	return m.inputFull && m.screen == screenMain && m.focus == focusInput && m.input.Len() > 0 &&
		msg.Text != "" && cleanLen(msg.Text) > m.input.room()
}

// fitInput lays the screen out again when the input grew or shrank by a
// row (it holds several lines).
func (m *Model) fitInput() {
	if m.input.Rows() != m.inputRows {
		m.layout()
	}
}

// typed reports whether msg is text typed, with no modifier but Shift.
func typed(msg tea.KeyPressMsg) bool {
	return msg.Text != "" && msg.Mod&^tea.ModShift == 0
}
