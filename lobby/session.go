package lobby

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// EventKind says what an Event carries.
type EventKind uint8

const (
	// EventMessage is a live line in the session's current room: Msg.
	EventMessage EventKind = iota + 1
	// EventNotice is a reply meant for this session alone: Text, and Error
	// when it is a refusal or a failure.
	EventNotice
	// EventEntered says the session is now in Room, or in the Lobby when
	// Room is "". History holds the room's newest lines, oldest first, to
	// show before any live line; older ones come from Lobby.Older.
	EventEntered
	// EventRoomsChanged says rooms, their user counts, the session's unread
	// counts or the online count changed; read them with Session.Rooms and
	// Lobby.Online. It is coalesced.
	EventRoomsChanged
	// EventEdited says a line of the session's room was edited or deleted
	// by its author: Msg is its new version, with the Room and Seq of the
	// old, to show in its place wherever the old one is shown.
	EventEdited
	// EventTopic says the topic of Room is now Topic ("" for none). The
	// room also gets a line saying so; this is for a title.
	EventTopic
	// EventNamed says the session's user is now called Text (/nick).
	EventNamed
	// EventSearch answers /search: Results holds the lines found, newest
	// first, which /goto N opens (counting from 1), and Text the same as
	// plain lines.
	EventSearch
	// EventJump answers /goto: History holds lines of Room around the line
	// Seq, oldest first, to show in place of the scrollback, the line Seq
	// marked; the live end of the room comes back after them.
	EventJump
	// EventDirect is a line of one of the session's conversations that it
	// is not in: Msg, from the other party (With) or the session's own echo
	// (Msg.From is the session's name). Show it in the current pane,
	// marked as direct ("alice → you: ...", "you → bob: ..."). A line of
	// the conversation the session is in comes as EventMessage, with With.
	EventDirect
	// EventMention is a line that names the user in a room they have been
	// in but are not in now: Msg (Msg.Room is the room). Its room's
	// Mentions count in Session.Rooms already holds it.
	EventMention
)

// Event is one thing for a session to show, in order.
type Event struct {
	Kind  EventKind
	Error bool
	// Mention says a line (EventMessage) names the session's user: see
	// Mentions.
	Mention bool
	Msg     *Message // shared between sessions: read only
	Text    string
	Room    string
	// With is the other party of the conversation a line (EventDirect,
	// EventMessage) is in, or that the session entered (EventEntered,
	// whose Room is then "@" and With); "" for rooms.
	With    string
	History []Message
	Topic   string    // EventEntered, EventTopic: the room's topic
	Results []Message // EventSearch
	Seq     uint64    // EventJump: the line asked for
	// NewFrom (EventEntered) is the Seq from which lines are new to the
	// user: a "new" rule goes before the first chat line at or after it.
	// 0 when nothing is new, or the user was never here before.
	NewFrom uint64
}

// Visitor is what the front door knows of someone opening a session.
type Visitor struct {
	Addr string // the client's address, host:port
	Key  string // the SHA256 fingerprint of the SSH key the client proved it holds, "" for none
	// Operator says the key is a server operator's (the front door reads
	// the operators' keys).
	Operator bool
	// TZ is the TZ the client sent with its session, if any: the zone the
	// session's times are shown in until its user sets one (/tz). An
	// unknown zone is ignored.
	TZ string
}

// Session is one user's handle on the Lobby, on the node they connected to.
// Exec, Claim and Close may be called from any goroutine; Next must be
// called from one goroutine at a time.
type Session struct {
	lobby *Lobby
	id    SessionID

	// Guarded by lobby.mu. Only the lobby sends on or closes events.
	name       string // "" until a name is taken
	refused    bool   // its open change was refused or never reached the log: it holds no slot
	events     chan Event
	done       chan struct{} // closed with events, for watchers that do not read them
	closed     bool
	err        error // why events was closed; written before the close
	limiter    *rate.Limiter
	strikes    int // lines refused in a row by the flood limit
	skipped    int // others' join/leave lines not delivered: it was behind
	proposed   uint64
	settled    uint64            // of this session's changes; see proposeFromLocked
	settledCh  chan struct{}     // closed and replaced when settled moves
	lastChange time.Time         // owned by the goroutine calling Next
	settings   map[string]string // a guest's settings, kept while the session lasts
	replyTo    *reader           // who sent the last direct message, for /reply

	// Talking (talk.go), guarded by lobby.mu but for loc.
	view      prefs               // what its user chose to see, from the settings
	said      map[string][]uint64 // its newest lines, by foldKey of the room: its own to edit
	found     []Message           // the last /search's results, for /goto
	defaultTZ *time.Location      // Visitor.TZ, nil for none
	loc       atomic.Pointer[time.Location]

	changed chan struct{} // capacity 1; see Lobby.changedLocked
}

// Open takes a session slot for a visitor, for the whole chat at once: it
// fails with ErrFull when the chat holds MaxSessions sessions, name prompts
// included, with ErrLobbyClosed once the lobby is shutting down, and with a
// *BannedError (errors.Is ErrBanned; its text says by whom, why and until
// when) when the visitor's key, or a guest's address, is banned from the
// server. The session has no name until Claim.
func (l *Lobby) Open(ctx context.Context, v Visitor) (*Session, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrLobbyClosed
	}
	if !v.Operator {
		// Refused here when it is plain already, so that a banned key
		// hammering the door costs the log nothing; the open's applier
		// decides the rest (a ban on its way through the log).
		if x := l.order.bans.atDoor(v.Key, v.Addr, l.cfg.Now().UnixNano()); x != nil {
			l.mu.Unlock()
			return nil, x.bannedError()
		}
	}
	l.nextSess++
	s := &Session{
		lobby:     l,
		id:        SessionID(fmt.Sprintf("%s.%d", l.node, l.nextSess)),
		events:    make(chan Event, l.cfg.Queue),
		changed:   make(chan struct{}, 1),
		done:      make(chan struct{}),
		settledCh: make(chan struct{}),
	}
	if l.cfg.FloodRate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(l.cfg.FloodRate), l.cfg.FloodBurst)
	}
	s.defaultTZ = clientZone(v.TZ)
	s.loadPrefsLocked()
	l.locals[s.id] = s
	ch := l.proposeWaitLocked(Change{Type: ChangeOpen, Session: s.id, Seq: uint64(l.cfg.MaxSessions), Key: v.Key, Addr: v.Addr, Flag: v.Operator})
	l.mu.Unlock()
	if err := l.await(ctx, ch); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Claim gives the session the name name. An empty name gives the name the
// session's SSH key holds (see HeldName), else the next Guest<N> (N counts
// every user the chat has named). It refuses a name that breaks the rule
// (ErrNameInvalid), that someone in the chat already has, compared without
// case and confusable look-alikes (ErrNameTaken), or that is registered to
// keys other than the session's (ErrNameRegistered); the session stays at
// the prompt and may try again. A registered name is given as registered.
// The first event after it says the session is in the Lobby.
func (s *Session) Claim(ctx context.Context, name string) error {
	// Surrounding spaces are a slip at the prompt; anything else that is
	// not allowed is refused as typed, not cleaned into a different name.
	name = strings.TrimSpace(name)
	if name != "" {
		var ok bool
		if name, ok = validName(name, MaxNameLen); !ok {
			return ErrNameInvalid
		}
	}
	l := s.lobby
	l.mu.Lock()
	if s.closed {
		l.mu.Unlock()
		return s.err
	}
	if s.name != "" {
		l.mu.Unlock()
		return fmt.Errorf("claim %q: the session is named %s already", name, s.name)
	}
	// Refused here when it is plain already; the log decides the rest.
	if _, taken := l.names.find(name); taken && name != "" {
		l.mu.Unlock()
		return ErrNameTaken
	}
	if m := l.members[s.id]; m != nil && name != "" {
		if err := l.mayUseLocked(m, name); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	ch := l.proposeWaitLocked(Change{Type: ChangeName, Session: s.id, Name: name})
	l.mu.Unlock()
	return l.await(ctx, ch)
}

// Register opens a session and names it (see Open and Claim): for front
// ends and tests that need no name prompt.
func (l *Lobby) Register(ctx context.Context, name string) (*Session, error) {
	s, err := l.Open(ctx, Visitor{})
	if err != nil {
		return nil, err
	}
	if err := s.Claim(ctx, name); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ID names the session across the chat.
func (s *Session) ID() SessionID { return s.id }

// Name is the user's screen name as shown, "" before Claim.
func (s *Session) Name() string {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	return s.name
}

// Rooms lists what this session's user may see in their room list: the
// rooms, with their numbers of users and the user's unread counts, ordered
// by name without regard to case, then the user's conversations ("@NAME",
// With set), ordered the same way. /list shows the rooms.
func (s *Session) Rooms() []RoomInfo {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	return s.roomsLocked()
}

// Room is the name of the session's current room, "@NAME" in a
// conversation, or "" in the Lobby.
func (s *Session) Room() string {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	m := s.lobby.members[s.id]
	switch {
	case m == nil || m.room == nil:
		return ""
	case m.room.conv != nil && m.rd != nil && !m.room.conv.closed():
		return "@" + m.room.conv.other(m.rd).shown()
	}
	return m.room.name
}

// RoomMembers names the members of the session's room, sorted, and the
// room (a conversation as "@NAME", with its two parties); in the Lobby it
// returns neither. A room of more than max members
// is named without its members: a front end that tells people apart (by
// colour) cannot do it in a crowd, and a crowd's list costs.
func (s *Session) RoomMembers(max int) (room string, names []string) {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	m := s.lobby.members[s.id]
	if m == nil || m.room == nil {
		return "", nil
	}
	r := m.room
	if r.conv != nil && m.rd != nil && !r.conv.closed() {
		// A conversation, as the session names it, with its two parties.
		other := r.conv.other(m.rd).shown()
		names = []string{m.name, other}
		slices.Sort(names)
		return "@" + other, names
	}
	if len(r.members) > max {
		return r.name, nil
	}
	names = make([]string, 0, len(r.members))
	for o := range r.members {
		names = append(names, o.name)
	}
	slices.Sort(names)
	return r.name, names
}

// Next waits for the session's next event. When the session has ended it
// returns the reason (ErrQuit, ErrTooSlow, ErrShutdown...) and no event.
// Room-list changes are merged: at most one EventRoomsChanged per
// Config.ChangeEvery.
func (s *Session) Next(ctx context.Context) (Event, error) {
	// Queued events first: a room-list refresh must not overtake the reply
	// to the command that caused it.
	select {
	case ev, ok := <-s.events:
		if !ok {
			return Event{}, s.err
		}
		return ev, nil
	default:
	}
	changed := s.changed
	var wait <-chan time.Time
	if d := s.lobby.changeInterval() - time.Since(s.lastChange); d > 0 {
		// Too soon for another one: listen for it again once d has passed.
		changed = nil
		t := time.NewTimer(d)
		defer t.Stop()
		wait = t.C
	}
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return Event{}, s.err // written before close: no lock needed
			}
			return ev, nil
		case <-changed:
			// An event that arrived meanwhile goes first, for the reason
			// above and so that an ended session reports its end rather
			// than one more refresh; the signal is kept for next time.
			select {
			case ev, ok := <-s.events:
				select {
				case s.changed <- struct{}{}:
				default:
				}
				if !ok {
					return Event{}, s.err
				}
				return ev, nil
			default:
			}
			s.lastChange = time.Now()
			return Event{Kind: EventRoomsChanged}, nil
		case <-wait:
			changed, wait = s.changed, nil
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// NextBatch waits like Next, then adds to the event it got whatever else is
// already queued, up to max events in all, in order. A reader that draws a
// frame per read draws one for a burst instead of one per event: in a login
// storm each member is sent a join line per newcomer. The error of an ended
// session comes with no events, on the call after the last of them.
func (s *Session) NextBatch(ctx context.Context, max int) ([]Event, error) {
	ev, err := s.Next(ctx)
	if err != nil {
		return nil, err
	}
	batch := []Event{ev}
	for len(batch) < max {
		select {
		case ev, ok := <-s.events:
			if !ok {
				// Told on the next call: Next sees the closed queue too.
				return batch, nil
			}
			batch = append(batch, ev)
		default:
			return batch, nil
		}
	}
	return batch, nil
}

// changeInterval is the least time between two room-list refreshes for one
// session: Config.ChangeEvery per hundred users online. Every refresh costs
// each session a frame, so with a thousand people logging in, refreshing at
// a fixed rate would cost a thousand frames per refresh; the room list of a
// big crowd can be a couple of seconds old instead.
func (l *Lobby) changeInterval() time.Duration {
	return l.cfg.ChangeEvery * time.Duration(max(1, l.online.Load()/100))
}

// Done is closed when the session ends, for whoever must react at once
// without reading its events (the SSH server closes a connection with it
// while the session's own reader may be stuck on a stalled connection). Err
// says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended, or nil while it is running.
func (s *Session) Err() error {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	return s.err
}

// Close ends the session as a disconnect: its room sees it leave and its name
// and slot are free again. It is safe to call more than once.
func (s *Session) Close() {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	s.lobby.dropLocked(s, ErrClosed)
}

// waitSettled waits until everything s proposed has been applied or given
// up on, so that a command sees the state its user's earlier commands made:
// a script's "/join alpha" then "hello" says hello in alpha. l.mu must be
// held; it is released while waiting.
func (s *Session) waitSettledLocked(ctx context.Context) error {
	l := s.lobby
	for s.settled < s.proposed && !s.closed {
		ch := s.settledCh
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			l.mu.Lock()
			return ctx.Err()
		}
		l.mu.Lock()
	}
	if s.closed {
		return s.err
	}
	return nil
}
