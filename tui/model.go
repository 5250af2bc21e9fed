package tui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

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

// maxQueued bounds the lines submitted but not yet executed.
const maxQueued = 16

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
type Model struct {
	lobby         *lobby.Lobby
	opened        *lobby.Session // Options.Session
	ctx           context.Context
	maxSes        int
	promptTimeout time.Duration
	promptDone    context.CancelFunc // ends the prompt's deadline timer
	onSession     func(*lobby.Session)
	startRoom     string // Options.Room

	st           *styles
	keys         keyMap
	w, h         int // the size drawn
	termW, termH int // the whole window, when larger than drawn

	screen screen

	// name prompt
	name        lineInput
	nameErr     string
	registering bool
	held        string // the registered name the session's key holds, for Enter

	// main screen
	sess    *lobby.Session
	me      string
	room    string // "" is the Lobby
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

	pending       []*lobby.Message // others' join/leave lines not shown yet
	pendingRooms  []lobby.RoomInfo // the newest room list, not shown yet
	pendingOnline int
	roomsPending  bool
	flushArmed    bool // a presenceFlushCmd is on its way

	queue   []op // actions waiting for the one in flight
	busy    bool // an Exec or SelectRoom is in flight
	chooses int  // room choices queued or in flight
	want    string

	// the end
	done     bool
	goodbye  string
	exitCode int

	// layout and per-frame caches
	bodyH      int
	inputView  string
	inputDirty bool
	helpView   string
	helpKey    helpKey
	helpRows   int
	statusView string
	statusKey  statusKey
	titleRows  int // 1: the title row above the scrollback; 0 in tiny windows
	titleView  string
	titleKey   titleKey
	frameSize  int

	// Bubble Tea asks for the view after every message, and in a crowd most
	// messages change nothing on screen (others' joins are held back): the
	// last frame is kept until an Update may have changed it.
	frame      string
	frameValid bool
}

type helpKey struct {
	width   int
	all     bool
	sidebar bool
}

type titleKey struct {
	width int
	room  string
	users int
}

type statusKey struct {
	width, online, unread int
	room                  string
	detached, loading     bool
	termW, termH          int
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
		lobby:         opts.Lobby,
		opened:        opts.Session,
		ctx:           ctx,
		maxSes:        opts.MaxSessions,
		promptTimeout: opts.PromptTimeout,
		onSession:     opts.OnSession,
		startRoom:     opts.Room,
		st:            st,
		keys:          newKeyMap(),
		w:             opts.Width,
		h:             opts.Height,
		help:          help.New(),
		side:          newSidebar(st),
	}
	if m.w <= 0 || m.h <= 0 {
		m.w, m.h = 80, 24
	}
	m.setTerminal(m.w, m.h)
	limit := opts.Scrollback
	if limit <= 0 {
		limit = 1000
	}
	m.sb = newScrollback(st, limit)
	m.help.Styles = st.help

	if m.opened != nil {
		m.held = m.opened.HeldName()
	}
	placeholder := "your name, or Enter for a guest name"
	if m.held != "" {
		placeholder = "your name, or Enter for " + m.held + " (your key's name)"
	}
	m.name = newLineInput(&st.input, lobby.MaxNameLen, placeholder)
	m.name.Focus()
	m.input = newLineInput(&st.input, lobby.MaxMessageLen, "")
	m.input.Focus()
	m.setPlaceholder()
	m.layout()
	return m
}

// Session is the lobby session the user signed in with, nil before a name
// was accepted. The caller closes it when the program has ended.
func (m *Model) Session() *lobby.Session { return m.sess }

// Goodbye is the line to print once the terminal is restored.
func (m *Model) Goodbye() string {
	if m.goodbye != "" {
		return m.goodbye
	}
	return m.bye()
}

// ExitCode is the SSH exit status: 0 for /quit, Ctrl+C and a server
// shutdown, 1 when the lobby cut the session loose (too slow, flooding).
func (m *Model) ExitCode() int { return m.exitCode }

func (m *Model) bye() string {
	if m.me == "" {
		return "Goodbye."
	}
	return "Goodbye, " + m.me + "."
}

// Init implements tea.Model. Nothing talks to the lobby until the user
// gives a name; only the prompt's deadline starts.
func (m *Model) Init() tea.Cmd {
	if m.promptTimeout <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.promptDone = cancel
	return promptDeadlineCmd(ctx, m.promptTimeout)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(eventMsg); ok {
		cmd, shown := m.events(msg)
		if shown {
			m.frameValid = false
		}
		return m, cmd
	}
	if msg, ok := msg.(tea.KeyPressMsg); ok && m.fullInputRefuses(msg) {
		return m, nil // changes nothing on screen
	}
	m.frameValid = false // anything else may change the screen
	return m, m.update(msg)
}

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
	if m.sess == nil {
		return flush, shown
	}
	return tea.Batch(flush, nextEventCmd(m.ctx, m.lobby, m.sess)), shown
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
		if m.screen != screenPrompt || m.registering || m.done {
			return nil
		}
		m.done, m.exitCode = true, 1
		m.goodbye = "No name was given in time. Goodbye."
		return tea.Quit
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
	case tea.PasteMsg:
		return m.paste(msg)
	case tea.MouseClickMsg:
		return m.click(msg.Mouse())
	case tea.MouseWheelMsg:
		return m.wheel(msg.Mouse())
	}
	return nil
}

// finish records why the session ended and quits the program.
func (m *Model) finish(err error) tea.Cmd {
	if m.done {
		return tea.Quit
	}
	m.done = true
	switch {
	case errors.Is(err, lobby.ErrShutdown), errors.Is(err, lobby.ErrLobbyClosed):
		m.goodbye = "The server is shutting down. " + m.bye()
	case errors.Is(err, lobby.ErrTooSlow), errors.Is(err, lobby.ErrFlooding):
		m.goodbye = "Disconnected: " + err.Error() + "."
		m.exitCode = 1
	case err == nil, errors.Is(err, lobby.ErrQuit), errors.Is(err, lobby.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		m.goodbye = m.bye()
	default:
		m.goodbye = "Disconnected: " + err.Error() + "."
		m.exitCode = 1
	}
	return tea.Quit
}

// sessionOver reports whether err from Exec means the session has ended.
func sessionOver(err error) bool {
	for _, e := range []error{lobby.ErrQuit, lobby.ErrTooSlow, lobby.ErrFlooding, lobby.ErrShutdown, lobby.ErrClosed, lobby.ErrLobbyClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ---- name prompt ----

func (m *Model) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.finish(nil)
	case m.registering:
		return nil
	case key.Matches(msg, m.keys.Send):
		m.registering, m.nameErr = true, ""
		return registerCmd(m.ctx, m.lobby, m.opened, m.name.Value())
	}
	if m.name.update(msg) == editRefused {
		m.nameErr = fmt.Sprintf("A name is at most %d characters.", lobby.MaxNameLen)
	}
	return nil
}

func (m *Model) registered(msg registeredMsg) tea.Cmd {
	m.registering = false
	if m.done {
		// Quit while Register ran: hand the session back for closing (the
		// context's AfterFunc closes it too, if this is never read).
		m.sess = msg.sess
		return nil
	}
	if err := msg.err; err != nil {
		switch {
		case errors.Is(err, lobby.ErrNameTaken), errors.Is(err, lobby.ErrNameInvalid), errors.Is(err, lobby.ErrNameRegistered):
			m.nameErr = capitalize(err.Error()) + "."
		case errors.Is(err, lobby.ErrLobbyClosed):
			return m.finish(lobby.ErrShutdown)
		case errors.Is(err, lobby.ErrUnavailable): // the lobby logged the cause
			m.nameErr = capitalize(lobby.ErrUnavailable.Error()) + "."
		default:
			m.nameErr = "You could not be signed in (" + err.Error() + "). Please try again."
		}
		return nil
	}
	m.sess, m.me, m.screen = msg.sess, msg.sess.Name(), screenMain
	if m.promptDone != nil {
		m.promptDone() // its goroutine need not wait out the timer
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ---- lobby events ----

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
		m.pending = m.pending[:0] // they belong to the room being left
		m.enter(ev)
	case lobby.EventRoomsChanged:
		if online < crowd || !m.side.has(m.room) {
			// A small crowd, or a room of your own making: at once.
			m.online = online
			m.side.setRooms(rooms, online, m.room)
			m.pendingRooms, m.roomsPending = nil, false
			return nil, true
		}
		// Held back like presence lines, and shown in the same frame.
		m.pendingRooms, m.pendingOnline, m.roomsPending = rooms, online, true
		return m.armPresenceFlush(), false
	}
	return nil, true
}

// deferPresence holds other people's join and leave lines back for a
// moment and shows them together. Each change on screen costs the server a
// full frame for this session; in a login storm a busy room sees hundreds
// of joins a second, and showing them as they come would cost every member
// hundreds of frames. A chat line shows them at once, in order, before it.
func (m *Model) deferPresence(msg *lobby.Message) tea.Cmd {
	m.pending = append(m.pending, msg)
	return m.armPresenceFlush()
}

func (m *Model) armPresenceFlush() tea.Cmd {
	if m.flushArmed {
		return nil
	}
	m.flushArmed = true
	// Longer in a crowd, where storms happen: 250ms per 25 online, up to
	// 10s, so a thousand people logging in cost each of them a frame every
	// 10s rather than one per login. Nobody reads a crowd's joins one by
	// one; chat lines still show at once.
	online := max(m.online, m.pendingOnline)
	return presenceFlushCmd(m.ctx, min(presenceEvery*time.Duration(max(1, online/25)), maxPresenceWait))
}

const (
	presenceEvery   = 250 * time.Millisecond
	maxPresenceWait = 10 * time.Second
)

// crowd is the number online from which room-list refreshes wait for the
// next presence flush instead of costing a frame each.
const crowd = 50

func (m *Model) flushPresence() {
	m.flushArmed = false
	for _, p := range m.pending {
		m.sb.add(messageEntry(p, false))
	}
	clear(m.pending)
	m.pending = m.pending[:0]
	if m.roomsPending {
		m.online = m.pendingOnline
		m.side.setRooms(m.pendingRooms, m.pendingOnline, m.room)
		m.pendingRooms, m.roomsPending = nil, false
	}
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

func (m *Model) setPlaceholder() {
	if m.room == "" {
		m.input.placeholder = "/join NAME or /create NAME · /commands for help"
	} else {
		m.input.placeholder = "Message " + m.room + " · /commands for help"
	}
	m.inputDirty = true
}

// ---- actions ----

// enqueue runs o after the actions before it: Exec and SelectRoom run in
// Cmds, each on its own goroutine, so without this queue two lines typed
// quickly could reach the lobby in the wrong order.
func (m *Model) enqueue(o op) tea.Cmd {
	if len(m.queue) >= maxQueued {
		m.sb.add(entry{kind: entError, text: "Slow down: your earlier lines are still being sent."})
		return nil
	}
	m.carry = m.carry[:0]
	if o.choose {
		m.chooses++
		m.want = o.room
	}
	m.queue = append(m.queue, o)
	if m.busy {
		return nil
	}
	return m.runNext()
}

func (m *Model) runNext() tea.Cmd {
	if len(m.queue) == 0 || m.sess == nil {
		m.busy = false
		return nil
	}
	o := m.queue[0]
	m.queue = m.queue[1:]
	m.busy = true
	return execCmd(m.ctx, m.sess, o)
}

func (m *Model) execDone(msg execDoneMsg) tea.Cmd {
	m.busy = false
	if msg.choose {
		m.chooses--
	}
	if err := msg.err; err != nil {
		if sessionOver(err) {
			return m.finish(err)
		}
		m.sb.add(entry{kind: entError, text: "That did not work: " + err.Error() + "."})
	}
	return m.runNext()
}

func (m *Model) submit() tea.Cmd {
	line := m.input.Value()
	if strings.TrimSpace(line) == "" {
		return nil
	}
	if len(m.queue) >= maxQueued {
		return m.enqueue(op{}) // says why; keeps the line in the input
	}
	m.input.Reset()
	m.inputDirty, m.inputFull = true, false
	m.sb.toBottom()
	return m.enqueue(op{line: line})
}

// choose moves to the room (or the Lobby, "") the user picked.
func (m *Model) choose(name string) tea.Cmd {
	base := m.room
	if m.chooses > 0 {
		base = m.want
	}
	if strings.EqualFold(base, name) {
		return nil
	}
	return m.enqueue(op{choose: true, room: name})
}

// step moves d rooms along the sidebar from where the user is going.
func (m *Model) step(d int) tea.Cmd {
	base := m.room
	if m.chooses > 0 {
		base = m.want
	}
	return m.choose(m.side.step(base, d))
}

// ---- scrolling and older history ----

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
	m.sb.startLoading()
	return olderCmd(m.ctx, m.lobby, m.gen, m.room, before)
}

func (m *Model) older(msg olderMsg) {
	if msg.gen != m.gen {
		return // for a scrollback that has been replaced
	}
	if msg.err != nil {
		m.sb.loadFailed()
		return
	}
	begin := len(msg.msgs) == 0 || msg.msgs[0].Seq <= 1 || len(msg.msgs) < m.lobby.HistoryPage()
	m.sb.prepend(m.room, msg.msgs, begin)
}

// ---- keys, paste, mouse ----

func (m *Model) mainKey(msg tea.KeyPressMsg) tea.Cmd {
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
	return m.inputKey(msg)
}

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

func (m *Model) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	empty := m.input.Len() == 0
	switch {
	case key.Matches(msg, k.Send):
		return m.submit()
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

func (m *Model) paste(msg tea.PasteMsg) tea.Cmd {
	// A multi-line paste is one message, not one per line.
	text := strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(msg.Content)
	if m.screen == screenPrompt {
		if m.registering {
			return nil
		}
		if !m.name.insert(text) {
			m.nameErr = fmt.Sprintf("That would make a name of %d characters; a name is at most %d.",
				cleanLen(text)+m.name.Len(), lobby.MaxNameLen)
		}
		return nil
	}
	m.setFocus(focusInput)
	// The whole paste or nothing, so nothing is ever silently lost.
	if !m.input.insert(text) {
		m.sb.add(entry{kind: entError, text: fmt.Sprintf(
			"That paste is %d characters long; a message is at most %d, so it was not pasted.", cleanLen(text), lobby.MaxMessageLen)})
		return nil
	}
	m.inputDirty = true
	return nil
}

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
	case mo.Y == m.bodyH+1:
		m.setFocus(focusInput)
	}
	return nil
}

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
	m.inputDirty = true
	m.layout()
}

func (m *Model) toggleHelp() {
	m.showAll = !m.showAll
	m.layout()
}

// ---- layout and view ----

func (m *Model) tooSmall() bool { return m.w < MinWidth || m.h < MinHeight }

// setTerminal takes the window's size and draws at most MaxWidth×MaxHeight
// of it.
func (m *Model) setTerminal(w, h int) {
	m.termW, m.termH = w, h
	m.w, m.h = min(w, MaxWidth), min(h, MaxHeight)
}

// oversize is the notice for a window larger than the UI draws, or "".
func (m *Model) oversize() string {
	if m.termW <= m.w && m.termH <= m.h {
		return ""
	}
	return fmt.Sprintf("window %d×%d: showing %d×%d", m.termW, m.termH, m.w, m.h)
}

// layout sizes every part from the window size and the help's height.
func (m *Model) layout() {
	m.keys.sidebar = m.focus == focusSidebar
	m.help.ShowAll = m.showAll
	m.help.SetWidth(m.w)
	m.renderHelp()
	m.bodyH = max(m.h-2-m.helpRows, 1)
	sideW := sideWide
	if m.w < 64 {
		sideW = sideNarrow
	}
	m.titleRows = 0
	if m.bodyH >= 4 {
		m.titleRows = 1
	}
	m.side.setSize(sideW, m.bodyH)
	m.sb.setSize(m.w-sideW, m.bodyH-m.titleRows)
	m.input.SetWidth(m.w)
	m.name.SetWidth(m.w - 4) // promptView's margins
	m.inputDirty = true
}

func (m *Model) renderHelp() {
	hk := helpKey{width: m.w, all: m.showAll, sidebar: m.keys.sidebar}
	if hk == m.helpKey && m.helpView != "" {
		return
	}
	lines := strings.Split(m.help.View(m.keys), "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.w, "")
	}
	m.helpView, m.helpRows, m.helpKey = strings.Join(lines, "\n"), len(lines), hk
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	if !m.frameValid {
		m.frame, m.frameValid = m.content(), true
	}
	v := tea.NewView(m.frame)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	return v
}

func (m *Model) content() string {
	switch {
	case m.tooSmall():
		return m.tooSmallView()
	case m.screen == screenPrompt:
		return m.promptView()
	}
	side := m.side.view()
	body := m.sb.visible()
	var b strings.Builder
	b.Grow(m.frameSize + 256) // one allocation per frame
	for i := range m.bodyH {
		b.WriteString(side[i])
		if i < m.titleRows {
			b.WriteString(m.title())
		} else {
			b.WriteString(body[i-m.titleRows])
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.status())
	b.WriteByte('\n')
	b.WriteString(m.inputLine())
	b.WriteByte('\n')
	b.WriteString(m.helpView)
	m.frameSize = b.Len()
	return b.String()
}

func (m *Model) tooSmallView() string {
	text := fmt.Sprintf("Window too small: %d×%d, need at least %d×%d.", m.w, m.h, MinWidth, MinHeight)
	rows := wrapText(nil, text, &m.st.warn, max(m.w, 1))
	return strings.Join(rows[:min(len(rows), max(m.h, 1))], "\n")
}

func (m *Model) promptView() string {
	st, w := m.st, max(m.w-4, 1)
	rows := []string{""}
	rows = wrapText(rows, "Welcome to the Lobby. Enter your screen name:", &st.title, w)
	rows = append(rows, ansi.Truncate(m.name.View(), w, ""), "")
	switch {
	case m.registering:
		rows = wrapText(rows, "Signing in…", &st.faint, w)
	case m.nameErr != "":
		rows = wrapText(rows, m.nameErr, &st.warn, w)
	}
	empty := "Leave it empty to get a guest name."
	if m.held != "" {
		empty = "Leave it empty for " + m.held + " " + lobby.RegisteredMark + ", the name your SSH key holds."
	}
	rows = wrapText(rows, empty+" A name is 1 to 24 letters, digits, '-', '_' or '.'.", &st.faint, w)
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

// title is the row above the scrollback, beside the sidebar's heading:
// where you are and how many are there. It never scrolls, and that is why
// it is there: every new line shifts the scrollback up one row, and the
// renderer can scroll the terminal instead of repainting only where whole
// rows match after the shift; a row whose sidebar part stays put (the
// heading, each room) must have its chat part repainted. One such row less
// is about a fifth of the bytes each new line costs.
func (m *Model) title() string {
	where, users := m.room, 0
	if where == "" {
		where = "Lobby"
	}
	if i := m.side.current; i >= 0 && i < len(m.side.items) {
		users = m.side.items[i].users
	}
	tk := titleKey{width: m.sb.width, room: where, users: users}
	if tk == m.titleKey && m.titleView != "" {
		return m.titleView
	}
	people := " · " + strconv.Itoa(users) + " here"
	var b strings.Builder
	m.st.title.write(&b, ansi.Truncate(where, max(m.sb.width-1, 1), "…"))
	if w := ansi.StringWidth(where) + ansi.StringWidth(people); w < m.sb.width {
		m.st.faint.write(&b, people)
	}
	m.titleKey, m.titleView = tk, b.String()
	return m.titleView
}

// status is the line under the scrollback: who, where, how many; on the
// right what the scrollback is doing. Rebuilt only when one of those changes.
func (m *Model) status() string {
	sk := statusKey{width: m.w, online: m.online, unread: m.sb.unread, room: m.room, detached: m.sb.detached, loading: m.sb.loading, termW: m.termW, termH: m.termH}
	if sk == m.statusKey && m.statusView != "" {
		return m.statusView
	}
	where := m.room
	if where == "" {
		where = "Lobby"
	}
	left := " " + m.me + " · " + where + " · " + strconv.Itoa(m.online) + " online"
	if m.maxSes > 0 {
		left += " / " + strconv.Itoa(m.maxSes)
	}
	right := ""
	switch {
	case sk.unread > 0:
		right = "↓ " + strconv.Itoa(sk.unread) + " new · End "
	case sk.detached:
		right = "End: newest "
	case sk.loading:
		right = "loading… "
	}
	if o := m.oversize(); o != "" {
		if right != "" {
			o += " ·"
		}
		right = o + " " + right
	}
	left = ansi.Truncate(left, max(m.w-ansi.StringWidth(right), 0), "…")
	line := padRight(left, m.w-ansi.StringWidth(right)) + right
	m.statusView = m.st.status.Render(ansi.Truncate(line, m.w, ""))
	m.statusKey = sk
	return m.statusView
}

func (m *Model) inputLine() string {
	if m.inputDirty {
		m.inputView = ansi.Truncate(m.input.View(), m.w, "")
		m.inputDirty = false
	}
	return m.inputView
}
