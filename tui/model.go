package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Options configure one session's UI. As for every Config in chatroom: a
// zero field takes the default named beside it; a limit that can be turned
// off says so and is off when negative; any other negative value counts as
// zero.
type Options struct {
	// Lobby is the chat; required.
	Lobby *lobby.Lobby
	// Session is the session the SSH server opened for this user, which
	// holds its slot; the name the user gives is claimed on it. nil makes
	// the UI open one itself when a name is submitted.
	Session *lobby.Session
	// Context bounds every lobby call the UI makes. Pass the SSH session's
	// context: when it ends, a lobby session the UI registered is closed
	// even if the program stopped before it could hand it back. nil means
	// context.Background().
	Context context.Context
	// MaxSessions is the server's session limit, shown as "N online /
	// MaxSessions"; by default the limit is left out.
	MaxSessions int
	// Width and Height are the terminal's size at the start; each
	// tea.WindowSizeMsg replaces them. 80x24 until then. The UI draws at
	// most MaxWidth×MaxHeight of it.
	Width, Height int
	// Scrollback is how many lines a scrollback keeps; 1000.
	Scrollback int
	// Location is the user's time zone, in which times are shown; the
	// server's (time.Local) by default.
	Location *time.Location
	// PromptTimeout ends a session still at the name prompt after this
	// long (a prompt holds a server slot). Off by default (so 0 is off
	// too): the SSH server, which owns the slots, sets it.
	PromptTimeout time.Duration
	// OnSession, if set, is called once with the lobby session when a name
	// is accepted, from the event loop: it must not block. The SSH server
	// uses it to learn at once when the lobby cuts the session loose.
	OnSession func(*lobby.Session)
	// Room, if set, is the room to enter right after the name prompt (ssh
	// -t host ROOM); an unknown one leaves the user in the Lobby, told why.
	Room string
}

// The smallest window the UI draws in; below it, it says so instead.
const (
	MinWidth  = 40
	MinHeight = 12
)

// The largest window the UI draws in. A larger one is drawn at this size,
// in its top-left corner, and the UI says so. Give the program itself no
// more than this (tea.WithWindowSize, tea.WindowSizeMsg): the renderer
// keeps two buffers of the window's size, over 100 bytes a cell each.
const (
	MaxWidth  = 400
	MaxHeight = 150
)

// TerminalSizeMsg is the client's real window size, for a server that
// gives the program at most MaxWidth×MaxHeight: send it before the
// tea.WindowSizeMsg of the same change, and the UI can say that it draws
// less than the whole window.
type TerminalSizeMsg struct{ Width, Height int }

type screen uint8

const (
	screenPrompt screen = iota
	screenMain
)

type focus uint8

const (
	focusInput focus = iota
	focusSidebar
)

// Model is the Bubble Tea model of one SSH session. Use it through a
// pointer: New returns *Model, and the program's final model is a *Model.
// It is not safe for concurrent use; only the program's event loop calls it.
//
// Its fields come in parts, each with its own file: the name prompt
// (prompt.go), what is held back of others' presence (presence.go), the
// user's actions on their way to the lobby (actions.go), the end (end.go)
// and the kept frame (view.go).
type Model struct {
	lobby     *lobby.Lobby
	opened    *lobby.Session // Options.Session
	ctx       context.Context
	maxSes    int
	onSession func(*lobby.Session)
	startRoom string // Options.Room

	st           *styles
	keys         keyMap
	w, h         int // the size drawn
	termW, termH int // the whole window, when larger than drawn

	screen screen
	prompt namePrompt

	// The main screen.
	sess    *lobby.Session
	me      string
	room    string // "" is the Lobby; "@NAME" a conversation
	with    string // the other party of the conversation the user is in
	gen     uint64 // counts room entries; ties pages of older lines to one
	online  int
	focus   focus
	input   lineInput
	side    sidebar
	sb      scrollback
	help    help.Model
	showAll bool
	carry   []entry // notices since the last submit, kept across a room change

	// inputFull is set once the user was told the input is full; it stays
	// until the input is emptied, so a script typing on gets one notice,
	// not one per key.
	inputFull bool
	comp      completion // Tab: complete.go
	topic     string     // of the room, for the title row

	// The results of the last search, which ↑/↓ choose among while picking.
	found   []lobby.Message
	picking bool
	pick    int

	held    presence // others' join/leave lines and room lists not shown yet
	actions actions  // lines and room choices on their way to the lobby
	end     ending

	// The layout: rows of the body (sidebar and scrollback), of the title
	// above the scrollback (1, or 0 in tiny windows), of the key help and
	// of the input (more than one while it holds several lines).
	bodyH, titleRows, helpRows, inputRows int

	frame keptFrame
}

// New builds the model for one session. It starts on the name prompt and
// talks to opts.Lobby only once the user submits a name.
func New(opts Options) *Model {
	if opts.Lobby == nil {
		panic("tui.New: Options.Lobby is nil")
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	st := newStyles()
	m := &Model{
		lobby:     opts.Lobby,
		opened:    opts.Session,
		ctx:       ctx,
		maxSes:    opts.MaxSessions,
		onSession: opts.OnSession,
		startRoom: opts.Room,
		st:        st,
		keys:      newKeyMap(),
		w:         opts.Width,
		h:         opts.Height,
		help:      help.New(),
		side:      newSidebar(st),
		prompt:    newNamePrompt(&st.input, opts.PromptTimeout, opts.Session),
	}
	if m.w <= 0 || m.h <= 0 {
		m.w, m.h = 80, 24
	}
	m.setTerminal(m.w, m.h)
	limit := opts.Scrollback
	if limit <= 0 {
		limit = 1000
	}
	m.sb = newScrollback(st, limit, opts.Location)
	m.help.Styles = st.help

	m.input = newLineInput(&st.input, lobby.MaxMessageLen, "")
	m.input.multi = true
	m.input.Focus()
	m.setPlaceholder()
	m.layout()
	return m
}

// Session is the lobby session the user signed in with, nil before a name
// was accepted. The caller closes it when the program has ended.
func (m *Model) Session() *lobby.Session { return m.sess }

// Init implements tea.Model. Nothing talks to the lobby until the user
// gives a name; only the prompt's deadline starts.
func (m *Model) Init() tea.Cmd {
	if m.prompt.timeout <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.prompt.stopTimer = cancel
	return promptDeadlineCmd(ctx, m.prompt.timeout)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(eventMsg); ok {
		cmd, shown := m.events(msg)
		if shown {
			m.frame.valid = false
		}
		return m, cmd
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok && m.fullInputRefuses(msg) {
		return m, nil // changes nothing on screen
	}
	m.frame.valid = false // anything else may change the screen
	return m, m.update(msg)
}

// update handles every message but the lobby's events.
func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		// The drawn part of a window already known says nothing new
		// about the window (see TerminalSizeMsg).
		if msg.Width != m.w || msg.Height != m.h {
			m.setTerminal(msg.Width, msg.Height)
		}
		m.layout()
		return nil
	case TerminalSizeMsg:
		m.setTerminal(msg.Width, msg.Height)
		m.layout()
		return nil
	case registeredMsg:
		return m.registered(msg)
	case presenceFlushMsg:
		m.flushPresence()
		return nil
	case endedMsg:
		return m.finish(msg.err)
	case promptTimeoutMsg:
		return m.promptTimedOut()
	case execDoneMsg:
		return m.execDone(msg)
	case olderMsg:
		m.older(msg)
		return nil
	case tea.KeyPressMsg:
		if m.screen == screenPrompt {
			return m.promptKey(msg)
		}
		return m.mainKey(msg)
	case namesMsg:
		m.completeNames(msg)
		return nil
	case tea.PasteMsg:
		return m.paste(msg)
	case tea.MouseClickMsg:
		return m.click(msg.Mouse())
	case tea.MouseWheelMsg:
		return m.wheel(msg.Mouse())
	}
	return nil
}
