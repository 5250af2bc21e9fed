package lobby

import (
	"context"
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
	// EventRoomsChanged says rooms, their user counts or the online count
	// changed; read them with Lobby.Rooms and Lobby.Online. It is coalesced.
	EventRoomsChanged
)

// Event is one thing for a session to show, in order.
type Event struct {
	Kind    EventKind
	Msg     *Message // shared between sessions: read only
	Text    string
	Error   bool
	Room    string
	History []Message
}

// Session is one user's handle on the Lobby. Exec and Close may be called from
// any goroutine; Next must be called from one goroutine at a time.
type Session struct {
	lobby *Lobby
	name  string // fixed at registration
	key   string

	// Guarded by lobby.mu. Only the lobby sends on or closes events.
	events  chan Event
	done    chan struct{} // closed with events, for watchers that do not read them
	room    *room
	closed  bool
	err     error // why events was closed; written before the close
	limiter *rate.Limiter
	strikes int // lines refused in a row by the flood limit
	skipped int // others' join/leave lines not delivered: it was behind

	changed    chan struct{} // capacity 1; see Lobby.changedLocked
	lastChange time.Time     // owned by the goroutine calling Next
}

// Name is the user's screen name as shown.
func (s *Session) Name() string { return s.name }

// Room is the name of the session's current room, or "" in the Lobby.
func (s *Session) Room() string {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	if s.room == nil {
		return ""
	}
	return s.room.name
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
// without reading its events (the SSH server frees a slot with it while the
// session's own reader may be stuck on a stalled connection). Err says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended, or nil while it is running.
func (s *Session) Err() error {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	return s.err
}

// Close ends the session as a disconnect: its room sees it leave and its name
// is free again. It is safe to call more than once.
func (s *Session) Close() {
	s.lobby.mu.Lock()
	defer s.lobby.mu.Unlock()
	s.lobby.dropLocked(s, ErrClosed)
}
