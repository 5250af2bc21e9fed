package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// namePrompt is the first screen: the name field, a line under it, and the
// claim of a name on its way to the lobby.
type namePrompt struct {
	name     lineInput
	err      string // under the field: why the last name was refused, or a word on typing
	claiming bool   // a Claim is in flight: keys wait for its answer
	held     string // the registered name the session's key holds, for Enter

	timeout   time.Duration      // Options.PromptTimeout
	stopTimer context.CancelFunc // ends the deadline's timer once a name is taken
}

// newNamePrompt makes the prompt for the session opened (Options.Session),
// which may hold a registered name.
func newNamePrompt(st *inputStyles, timeout time.Duration, opened *lobby.Session) namePrompt {
	p := namePrompt{timeout: timeout}
	if opened != nil {
		p.held = opened.HeldName()
	}
	placeholder := "your name, or Enter for a guest name"
	if p.held != "" {
		placeholder = "your name, or Enter for " + p.held + " (your key's name)"
	}
	p.name = newLineInput(st, lobby.MaxNameLen, placeholder)
	p.name.Focus()
	return p
}

// promptKey handles a key on the prompt screen.
func (m *Model) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.finish(nil)
	case m.prompt.claiming:
		return nil
	case key.Matches(msg, m.keys.Send):
		m.prompt.claiming, m.prompt.err = true, ""
		return registerCmd(m.ctx, m.lobby, m.opened, m.prompt.name.Value())
	}
	if m.prompt.name.update(msg) == editRefused {
		m.prompt.err = fmt.Sprintf("A name is at most %d characters.", lobby.MaxNameLen)
	}
	return nil
}

// registered takes the answer to the name the user gave: the main screen,
// or the prompt again with the reason, or the end.
func (m *Model) registered(msg registeredMsg) tea.Cmd {
	m.prompt.claiming = false
	if m.end.done {
		// Quit while Register ran: hand the session back for closing (the
		// context's AfterFunc closes it too, if this is never read).
		m.sess = msg.sess
		return nil
	}
	if err := msg.err; err != nil {
		if lobby.NameRefused(err) {
			m.prompt.err = lobby.Sentence(err.Error())
			return nil
		}
		return m.finish(err)
	}
	m.sess, m.me, m.screen = msg.sess, msg.sess.Name(), screenMain
	if m.prompt.stopTimer != nil {
		m.prompt.stopTimer() // its goroutine need not wait out the timer
	}
	if m.onSession != nil {
		m.onSession(m.sess)
	}
	m.online = msg.online
	m.side.setRooms(msg.rooms, msg.online, m.room)
	m.layout()
	if m.startRoom != "" {
		return tea.Batch(nextEventCmd(m.ctx, m.lobby, m.sess), m.choose(m.startRoom))
	}
	return nextEventCmd(m.ctx, m.lobby, m.sess)
}

// promptTimedOut ends a session still at the prompt (Options.PromptTimeout).
func (m *Model) promptTimedOut() tea.Cmd {
	if m.screen != screenPrompt || m.prompt.claiming || m.end.done {
		return nil
	}
	return m.finish(lobby.ErrPromptTimeout)
}

// promptView draws the prompt screen.
func (m *Model) promptView() string {
	st, w := m.st, max(m.w-4, 1)
	rows := []string{""}
	rows = wrapText(rows, lobby.Prompt, &st.title, w)
	rows = append(rows, ansi.Truncate(m.prompt.name.View(), w, ""), "")
	switch {
	case m.prompt.claiming:
		rows = wrapText(rows, "Signing in…", &st.faint, w)
	case m.prompt.err != "":
		rows = wrapText(rows, m.prompt.err, &st.warn, w)
	}
	hint := "Leave it empty to get a guest name."
	if m.prompt.held != "" {
		hint = "Leave it empty for " + m.prompt.held + " " + lobby.RegisteredMark + ", the name your SSH key holds."
	}
	if m.prompt.err != lobby.Sentence(lobby.ErrNameInvalid.Error()) { // which quotes the rule
		hint += " " + lobby.NameRule
	}
	rows = wrapText(rows, hint, &st.faint, w)
	rows = wrapText(rows, "Ctrl+C quits.", &st.faint, w)
	if o := m.oversize(); o != "" {
		rows = wrapText(append(rows, ""), "Your "+o+", in the top-left corner.", &st.warn, w)
	}
	var b strings.Builder
	for i, r := range rows[:min(len(rows), m.h)] {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("  ")
		b.WriteString(r)
	}
	return b.String()
}
