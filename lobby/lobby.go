package lobby

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config sets up a Lobby. As for every Config in chatroom: a zero field
// takes the default named beside it; a limit that can be turned off says so
// and is off when negative; any other negative value counts as zero.
type Config struct {
	Store   Store        // where history lives; required
	History int          // lines replayed on join and per page of older history; 100
	Queue   int          // events a session may fall behind by before it is dropped; 128
	Logger  *slog.Logger // slog.Default()
	Now     func() time.Time

	// Flood limit per session: a burst of FloodBurst lines, then FloodRate
	// lines per second; every submitted line counts, commands included.
	// FloodRate < 0 turns the limit off. Defaults 10 and 2.
	FloodBurst int
	FloodRate  float64
	// FloodStrikes refused lines in a row end the session; 20.
	FloodStrikes int
	// ChangeEvery is the least time between two "rooms changed" events for
	// one session, so that a storm of logins costs each session a few
	// frames, not one per login; 200ms. It grows with the crowd (see
	// changeInterval), since each refresh costs every session a frame.
	ChangeEvery time.Duration
}

func (c *Config) setDefaults() {
	if c.History <= 0 {
		c.History = 100
	}
	if c.Queue <= 0 {
		c.Queue = 128
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.FloodBurst <= 0 {
		c.FloodBurst = 10
	}
	if c.FloodRate == 0 {
		c.FloodRate = 2
	}
	if c.FloodStrikes <= 0 {
		c.FloodStrikes = 20
	}
	if c.ChangeEvery <= 0 {
		c.ChangeEvery = 200 * time.Millisecond
	}
}

// Lobby is the set of rooms and users shared by every session. It is safe
// for concurrent use.
type Lobby struct {
	cfg   Config
	store Store
	log   *slog.Logger

	mu      sync.Mutex          // guards every field below
	rooms   map[string]*room    // by foldKey of the name
	users   map[string]*Session // by userKey of the name
	pending []Message           // assigned a Seq, waiting for the committer
	closed  bool

	// Lines handed to the committer, and lines it has finished with (stored
	// and delivered, or given up on); settledCh is closed and replaced each
	// time settled moves. For Sync.
	posted, settled uint64
	settledCh       chan struct{}

	online atomic.Int64 // len(users), readable without the lock

	wake       chan struct{} // capacity 1: the committer has work
	commitDone chan struct{} // closed when the committer has flushed and exited
}

// room is one chat room. Guarded by Lobby.mu.
type room struct {
	name    string
	seq     uint64 // the last Seq handed out, committed or not
	members map[*Session]struct{}
	recent  []Message // the newest committed lines, at most cfg.History
	loaded  bool      // recent holds the store's tail
}

// New loads the rooms (not their histories) from cfg.Store and starts the
// committer. Call Close to stop it.
func New(ctx context.Context, cfg Config) (*Lobby, error) {
	if cfg.Store == nil {
		return nil, errors.New("new lobby: no store")
	}
	cfg.setDefaults()
	recs, err := cfg.Store.Rooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rooms: %w", err)
	}
	l := &Lobby{
		cfg:        cfg,
		store:      cfg.Store,
		log:        cfg.Logger,
		rooms:      make(map[string]*room, len(recs)),
		users:      make(map[string]*Session),
		wake:       make(chan struct{}, 1),
		commitDone: make(chan struct{}),
		settledCh:  make(chan struct{}),
	}
	for _, rec := range recs {
		l.rooms[foldKey(rec.Name)] = &room{name: rec.Name, seq: rec.LastSeq, members: make(map[*Session]struct{})}
	}
	go l.commitLoop()
	return l, nil
}

// Register admits a user under name, or under Guest<N> when name is empty.
// It refuses a name that breaks the rule (ErrNameInvalid) or that someone
// online already has, compared without case and confusable look-alikes
// (ErrNameTaken).
func (l *Lobby) Register(ctx context.Context, name string) (*Session, error) {
	// Surrounding spaces are a slip at the prompt; anything else that is
	// not allowed is refused as typed, not cleaned into a different name.
	name = strings.TrimSpace(name)
	guest := name == ""
	if !guest {
		var ok bool
		if name, ok = validName(name, MaxNameLen); !ok {
			return nil, ErrNameInvalid
		}
	}
	if err := l.admitting(name); err != nil {
		return nil, err
	}
	for {
		// Count first: the counter is persistent and the name depends on it.
		n, err := l.store.CountUser(ctx)
		if err != nil {
			return nil, fmt.Errorf("count user: %w", err)
		}
		if guest {
			name = fmt.Sprintf("Guest%d", n)
		}
		s, err := l.add(name)
		if errors.Is(err, ErrNameTaken) && guest {
			continue // someone chose "Guest<N>" by hand; take the next number
		}
		return s, err
	}
}

// admitting says why a user named name (or a guest, for "") cannot be
// admitted right now, before the user is counted.
func (l *Lobby) admitting(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrLobbyClosed
	}
	if name != "" {
		if _, taken := l.users[userKey(name)]; taken {
			return ErrNameTaken
		}
	}
	return nil
}

func (l *Lobby) add(name string) (*Session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrLobbyClosed
	}
	key := userKey(name)
	if _, taken := l.users[key]; taken {
		return nil, ErrNameTaken
	}
	s := &Session{
		lobby:   l,
		name:    name,
		key:     key,
		events:  make(chan Event, l.cfg.Queue),
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if l.cfg.FloodRate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(l.cfg.FloodRate), l.cfg.FloodBurst)
	}
	l.users[key] = s
	l.online.Store(int64(len(l.users)))
	l.deliverLocked(s, Event{Kind: EventEntered}) // the first event says where the user is
	l.changedLocked()
	return s, nil
}

// RoomInfo is a room as the room list shows it.
type RoomInfo struct {
	Name  string
	Users int
}

// Rooms lists every room with its number of users, ordered by name without
// regard to case.
func (l *Lobby) Rooms() []RoomInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.roomsLocked()
}

func (l *Lobby) roomsLocked() []RoomInfo {
	out := make([]RoomInfo, 0, len(l.rooms))
	for _, r := range l.rooms {
		out = append(out, RoomInfo{Name: r.name, Users: len(r.members)})
	}
	slices.SortFunc(out, func(a, b RoomInfo) int {
		return cmp.Or(cmp.Compare(foldKey(a.Name), foldKey(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Online is the number of users registered right now.
func (l *Lobby) Online() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users)
}

// Older returns up to one page (Config.History lines) of the room's history
// from before seq, oldest first. An empty result means seq was the first line.
// It reads the store and never takes the Lobby's lock.
func (l *Lobby) Older(ctx context.Context, roomName string, seq uint64) ([]Message, error) {
	if seq <= 1 {
		return nil, nil
	}
	msgs, err := l.store.Before(ctx, roomName, seq, l.cfg.History)
	if err != nil {
		return nil, fmt.Errorf("older history of %q: %w", roomName, errors.Join(ErrHistoryStore, err))
	}
	return msgs, nil
}

// HistoryPage is the number of lines replayed on join and fetched per page.
func (l *Lobby) HistoryPage() int { return l.cfg.History }

// Shutdown tells every session the server is shutting down and ends it, then
// stops accepting users. Close flushes the history after it.
func (l *Lobby) Shutdown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	for _, s := range l.users {
		l.dropLocked(s, ErrShutdown)
	}
}

// Close shuts the lobby down if that has not happened, waits until every line
// already accepted is stored, and stops the committer. It does not close the
// Store, which belongs to the caller.
func (l *Lobby) Close(ctx context.Context) error {
	l.Shutdown()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-l.commitDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush history: %w", ctx.Err())
	}
}

// Sync waits until every line posted before the call (chat, joins, leaves)
// has been stored and delivered, or given up on, or until ctx ends or the
// lobby has stopped. A script that sends its last line and hangs up at once
// uses it to see that line come back before its session ends.
func (l *Lobby) Sync(ctx context.Context) error {
	l.mu.Lock()
	target := l.posted
	for l.settled < target {
		settled := l.settledCh
		l.mu.Unlock()
		select {
		case <-settled:
		case <-l.commitDone:
			return nil // nothing more will be stored
		case <-ctx.Done():
			return fmt.Errorf("sync: %w", ctx.Err())
		}
		l.mu.Lock()
	}
	l.mu.Unlock()
	return nil
}

// commitLoop is the only caller of Store.Append. It takes everything posted
// since its last pass as one batch, stores it, and only then delivers it: a
// line is never shown before it is durable, and a slow disk makes batches
// bigger rather than making posters wait on each other.
func (l *Lobby) commitLoop() {
	defer close(l.commitDone)
	var batch []Message
	maxBatch := max(1, l.cfg.Queue/2)
	for range l.wake {
		l.mu.Lock()
		// A batch is delivered at once, so one bigger than a session's
		// queue would drop every member of a busy room however fast they
		// read. Half a queue leaves room for what they have not read yet.
		more := len(l.pending) > maxBatch
		if more {
			batch = append(batch[:0], l.pending[:maxBatch]...)
			n := copy(l.pending, l.pending[maxBatch:])
			clear(l.pending[n:])
			l.pending = l.pending[:n]
		} else {
			batch, l.pending = l.pending, batch[:0]
		}
		closed := l.closed
		l.mu.Unlock()

		if len(batch) > 0 {
			err := l.store.Append(context.Background(), batch)
			l.mu.Lock()
			if err != nil {
				l.log.Error("store history", "lines", len(batch), "err", err)
				l.lostLocked(batch)
			} else {
				for i := range batch {
					l.publishLocked(&batch[i])
				}
			}
			l.settled += uint64(len(batch))
			close(l.settledCh)
			l.settledCh = make(chan struct{})
			l.mu.Unlock()
			clear(batch) // the batch's strings now belong to the rooms' recent lines
		}
		if more {
			select {
			case l.wake <- struct{}{}:
			default:
			}
			continue
		}
		if closed {
			l.mu.Lock()
			empty := len(l.pending) == 0
			l.mu.Unlock()
			if empty {
				return
			}
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
	}
}

// publishLocked adds a stored line to its room's recent lines and delivers it
// to the room's members. l.mu must be held.
func (l *Lobby) publishLocked(m *Message) {
	r, ok := l.rooms[foldKey(m.Room)]
	if !ok {
		return
	}
	r.recent = append(r.recent, *m)
	if n := len(r.recent); n >= 2*l.cfg.History {
		r.recent = slices.Clone(r.recent[n-l.cfg.History:])
	}
	msg := *m // one copy shared by every member's event
	for s := range r.members {
		if m.Kind == KindSystem && m.From != s.name && len(s.events) >= cap(s.events)/2 {
			// A join or leave line for a member already half a queue
			// behind (a login storm in a big room): skip it for them
			// rather than let notices crowd out chat and get the member
			// cut loose. It is in the room's history all the same.
			s.skipped++
			continue
		}
		l.deliverLocked(s, Event{Kind: EventMessage, Msg: &msg})
	}
}

// lostLocked tells the authors of lines the store refused that their lines
// were not sent. l.mu must be held.
func (l *Lobby) lostLocked(batch []Message) {
	for _, m := range batch {
		if m.Kind != KindChat {
			continue
		}
		if s, ok := l.users[userKey(m.From)]; ok {
			l.noticeLocked(s, true, "Your message could not be saved, so it was not sent. Please try again.")
		}
	}
}

// postLocked hands a new line for r to the committer. l.mu must be held.
func (l *Lobby) postLocked(r *room, kind Kind, from, text string) {
	l.posted++
	r.seq++
	l.pending = append(l.pending, Message{Room: r.name, Seq: r.seq, At: l.cfg.Now(), From: from, Kind: kind, Text: text})
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// deliverLocked queues ev for s without ever blocking: a session whose queue
// is full is too far behind to catch up, and is dropped. l.mu must be held.
func (l *Lobby) deliverLocked(s *Session, ev Event) {
	if s.closed {
		return
	}
	select {
	case s.events <- ev:
	default:
		l.log.Warn("dropping slow session", "user", s.name, "queue", cap(s.events))
		l.dropLocked(s, ErrTooSlow)
	}
}

func (l *Lobby) noticeLocked(s *Session, isErr bool, format string, args ...any) {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	l.deliverLocked(s, Event{Kind: EventNotice, Text: text, Error: isErr})
}

// dropLocked ends s: it leaves its room (which sees it go), its name is freed
// and its event stream closes with reason. l.mu must be held.
func (l *Lobby) dropLocked(s *Session, reason error) {
	if s.closed {
		return
	}
	s.closed = true
	if s.room != nil {
		l.leaveRoomLocked(s, leaveNotice(s.name, s.room.name, reason))
	}
	delete(l.users, s.key)
	l.online.Store(int64(len(l.users)))
	s.err = reason
	close(s.events)
	close(s.done)
	l.changedLocked()
}

func leaveNotice(name, roomName string, reason error) string {
	switch {
	case errors.Is(reason, ErrTooSlow):
		return fmt.Sprintf("%s left %s (connection too slow)", name, roomName)
	case errors.Is(reason, ErrFlooding):
		return fmt.Sprintf("%s left %s (flooding)", name, roomName)
	case errors.Is(reason, ErrShutdown):
		return fmt.Sprintf("%s left %s (server shutting down)", name, roomName)
	}
	return fmt.Sprintf("%s left %s", name, roomName)
}

func (l *Lobby) leaveRoomLocked(s *Session, notice string) {
	r := s.room
	delete(r.members, s)
	s.room = nil
	l.postLocked(r, KindSystem, s.name, notice)
}

// enterRoomLocked moves s into r, loading r's recent lines on first use, and
// tells s with the history it should show. l.mu must be held.
func (l *Lobby) enterRoomLocked(ctx context.Context, s *Session, r *room) error {
	if s.closed {
		// Dropped earlier in the same command (a notice overflowed its
		// queue): it must not become a member nobody will ever remove.
		return s.err
	}
	if !r.loaded {
		// Once per room per process: the tail is small and indexed, and
		// loading it under the lock keeps it consistent with new lines.
		recent, err := l.store.Recent(ctx, r.name, l.cfg.History)
		if err != nil {
			return fmt.Errorf("load history of %q: %w", r.name, errors.Join(ErrHistoryStore, err))
		}
		r.recent, r.loaded = recent, true
	}
	if s.room != nil {
		l.leaveRoomLocked(s, fmt.Sprintf("%s left %s", s.name, s.room.name))
	}
	r.members[s] = struct{}{}
	s.room = r
	history := r.recent[max(0, len(r.recent)-l.cfg.History):] // recent holds up to twice that
	l.deliverLocked(s, Event{Kind: EventEntered, Room: r.name, History: slices.Clone(history)})
	if s.closed {
		return s.err // dropped: its leave is posted already, so no join after it
	}
	l.postLocked(r, KindSystem, s.name, fmt.Sprintf("%s joined %s", s.name, r.name))
	l.changedLocked()
	return nil
}

// changedLocked tells every session that the room list or the user counts
// changed. The signal holds no data and coalesces: a session that has not
// looked yet is not told twice. l.mu must be held.
func (l *Lobby) changedLocked() {
	for _, s := range l.users {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}
