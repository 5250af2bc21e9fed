package lobby

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets up a Lobby. As for every Config in chatroom: a zero field
// takes the default named beside it; a limit that can be turned off says so
// and is off when negative; any other negative value counts as zero.
type Config struct {
	Store  Store        // the node's copy of the chat; required
	Log    Log          // the ordered log of changes; required
	Logger *slog.Logger // slog.Default()
	Now    func() time.Time
	// Observer hears what happens, for metrics; nil hears nothing.
	Observer Observer

	// ParseKey reads an authorized_keys line a user pastes (/keys add) and
	// returns its key's SHA256 fingerprint and comment, or an error whose
	// text is a sentence for the user. The lobby parses no key material
	// itself; without ParseKey, /keys add is refused.
	ParseKey func(line string) (fingerprint, comment string, err error)

	// Node names this node among the nodes sharing Log; "" for a node on
	// its own. Names must be unique among the nodes: a node that starts
	// takes every session left by an earlier run under its name for dead.
	Node string
	// MaxSessions is how many sessions the whole chat holds at once, name
	// prompts included; 10. Every node of a cluster must use the same.
	MaxSessions int
	// History is the lines replayed on join and per page of older history;
	// 100.
	History int
	// Queue is the events a session may fall behind by before it is
	// dropped; 128.
	Queue int

	// Flood limit per session: a burst of FloodBurst lines (10), then
	// FloodRate lines per second (2); every submitted line counts,
	// commands included. A negative FloodRate turns the limit off.
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
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10
	}
	if c.History <= 0 {
		c.History = 100
	}
	if c.Queue <= 0 {
		c.Queue = 128
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

// standalone is the node name of a node that shares its log with nobody.
const standalone = "local"

// Lobby is the chat as one node sees it: the rooms and everyone in them on
// every node, and this node's own sessions. It is safe for concurrent use.
//
// Shared state (rooms, members, names, counters) changes only in apply.go,
// by applying the log; everything else proposes changes to the log.
type Lobby struct {
	cfg    Config
	store  Store
	log    Log
	logger *slog.Logger
	logID  string
	obs    Observer // nil: off

	mu sync.Mutex // guards the fields from here to the next comment

	// Shared state, as of cursor.
	rooms     map[string]*room         // by foldKey of the name
	convs     map[string]*room         // conversations, by foldKey of their own name
	roomOrder []*room                  // the rooms in room-list order; nil when a room was added since
	readers   map[string]*reader       // read positions, by mentionKey of the name they are kept for
	roomIx    lookIndex[*room]         // by every look-alike key of the name
	members   map[SessionID]*member    // every session of the chat, on any node
	names     lookIndex[*member]       // named members, by every look-alike key of the name
	named     int                      // named members
	regs      lookIndex[*registration] // registered names, by every look-alike key of the name
	keyNames  map[string]*registration // the same, by the fingerprint of each of their keys
	gone      map[string]bool          // node instances known dead
	order     orderState               // bans, mutes, the server's raid guard: moderation.go
	users     uint64                   // users ever named: Guest<N> counts on from it
	cursor    uint64                   // the log's sequence number applied through
	locals    map[SessionID]*Session   // this node's sessions
	node      string                   // this node's instance: Config.Node and a nonce

	// Proposals on their way to the log.
	outbox   []Change
	waiters  map[uint64]chan error // by Change.Ref, for proposals whose outcome someone awaits
	nextRef  uint64
	nextSess uint64
	// Changes proposed, and changes settled (applied, or given up on);
	// settledCh is closed and replaced whenever settled moves. For Sync.
	proposed, settled uint64
	settledCh         chan struct{}
	stored            uint64 // the cursor the store has; storedCh as settledCh
	storedCh          chan struct{}
	closed            bool      // Shutdown: no new sessions
	logDown           string    // why the log cannot be reached, "" when it can
	batchAt           time.Time // when the applier took the batch it applies; only with an Observer
	dirtyChats        []*room   // rooms whose chat count the batch being applied changed
	keyBuf            []byte    // scratch for readerNamed

	// Not guarded by mu.
	writes Writes          // what applying the current batch stores; the applier's own
	online atomic.Int64    // named members, readable without the lock
	wake   chan struct{}   // capacity 1: the proposer has work
	runCtx context.Context // ends when the lobby stops
	stop   context.CancelFunc
	done   sync.WaitGroup // the proposer and the applier
}

// room is one chat room. Guarded by Lobby.mu.
type room struct {
	name    string
	created time.Time
	meta    roomMeta              // topic, owner...: see roommeta.go
	seq     uint64                // the Seq of the newest line applied
	chats   uint64                // how many of its lines are chat (unread.go)
	members map[*member]struct{}  // on every node
	locals  map[*Session]struct{} // this node's members, to deliver to
	// watchers are this node's sessions whose readers keep a position
	// here, told when its unread counts change.
	watchers   map[*Session]struct{}
	recent     []Message        // the newest lines, at most 2×recentKeep
	loaded     bool             // recent holds the store's tail
	spoke      map[string]int64 // when each name last said something, Unix ns: see talkedLocked
	chatsDirty bool             // chats changed in the batch being applied
	conv       *conversation    // non-nil for a direct conversation (conversation.go)
}

// member is one session of the chat, on any node. Guarded by Lobby.mu.
type member struct {
	id    SessionID
	node  string // the instance it is on
	name  string // "" at the name prompt
	room  *room  // nil in the Lobby
	since int64  // Unix nanoseconds, when it opened
	fp    string // its SSH key's fingerprint, "" for none
	addr  string // its client's address
	sess  *Session
	rd    *reader // keeps its read positions once named (unread.go)

	operator bool // a server operator's session

	away    bool   // marked away (/away), with awayMsg, since awayAt (Unix ns)
	awayMsg string // may be ""
	awayAt  int64
	active  int64 // Unix ns of its last change on the log: /who's idle time
}

// New loads the node's copy of the chat from cfg.Store, catches up with
// cfg.Log, ends the sessions an earlier run of this node left behind, and
// starts applying the log. Call Close to stop it.
func New(ctx context.Context, cfg Config) (*Lobby, error) {
	if cfg.Store == nil {
		return nil, errors.New("new lobby: no store")
	}
	if cfg.Log == nil {
		return nil, errors.New("new lobby: no log")
	}
	cfg.setDefaults()
	snap, err := cfg.Store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the chat: %w", err)
	}
	l := &Lobby{
		cfg:       cfg,
		store:     cfg.Store,
		log:       cfg.Log,
		logger:    cfg.Logger,
		logID:     cfg.Log.ID(),
		obs:       cfg.Observer,
		rooms:     make(map[string]*room, len(snap.Rooms)),
		convs:     make(map[string]*room),
		readers:   make(map[string]*reader),
		members:   make(map[SessionID]*member),
		names:     make(lookIndex[*member]),
		roomIx:    make(lookIndex[*room]),
		gone:      make(map[string]bool),
		regs:      make(lookIndex[*registration]),
		keyNames:  make(map[string]*registration),
		order:     newOrderState(),
		locals:    make(map[SessionID]*Session),
		waiters:   make(map[uint64]chan error),
		settledCh: make(chan struct{}),
		storedCh:  make(chan struct{}),
		wake:      make(chan struct{}, 1),
		writes:    Writes{Counters: make(map[string]uint64)},
	}
	l.node = newInstance(cmp.Or(cfg.Node, standalone))
	if err := l.restore(snap); err != nil {
		return nil, err
	}
	if snap.LogID != "" && snap.LogID != l.logID {
		if err := l.adoptLog(ctx, snap); err != nil {
			return nil, err
		}
	}
	l.stored = l.cursor

	l.runCtx, l.stop = context.WithCancel(context.Background())
	l.done.Add(2)
	go func() {
		defer l.done.Done()
		l.proposeLoop(l.runCtx)
	}()
	go func() {
		defer l.done.Done()
		l.applyLoop(l.runCtx)
	}()
	if err := l.catchUp(ctx); err != nil {
		l.halt()
		return nil, err
	}
	if err := l.buryPredecessors(ctx); err != nil {
		l.halt()
		return nil, err
	}
	return l, nil
}

// adoptLog decides what to do with a store that was applying another log:
// a store that has applied nothing yet, or a log that is still empty (a
// node's folder seeding a new cluster), starts the new log from the top;
// anything else would mix two histories and is refused.
func (l *Lobby) adoptLog(ctx context.Context, snap Snapshot) error {
	head, err := l.log.Head(ctx)
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	if head != 0 {
		return fmt.Errorf("this data folder applied the log %s up to %d, not %s: start it on its own log, or on a fresh folder (or a copy of another node's) to join this one", snap.LogID, snap.Cursor, l.logID)
	}
	l.logger.Info("data folder moves to a new log", "from", snap.LogID, "to", l.logID, "applied", snap.Cursor)
	l.cursor = 0
	return nil
}

// catchUp waits until everything the log held when it was called is
// applied: a node takes sessions only once it shows the chat as it is.
func (l *Lobby) catchUp(ctx context.Context) error {
	first, err := l.log.First(ctx)
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	head, err := l.log.Head(ctx)
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	l.mu.Lock()
	cursor := l.cursor
	l.mu.Unlock()
	if head > cursor && first > cursor+1 {
		return fmt.Errorf("catch up from %d: the log starts at %d: %w", cursor, first, ErrLogGap)
	}
	return l.waitStored(ctx, head)
}

// waitStored waits until the store holds the log up to seq.
func (l *Lobby) waitStored(ctx context.Context, seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.stored < seq {
		ch := l.storedCh
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			l.mu.Lock()
			return fmt.Errorf("catch up with the log: %w", ctx.Err())
		}
		l.mu.Lock()
	}
	return nil
}

// buryPredecessors ends the sessions that earlier runs of this node left in
// the chat: they died with their process. A node on its own (no
// Config.Node) shares the chat with nobody, so every session not its own
// is dead: a data folder copied from a cluster's node (a backup restored
// on its own) brings that cluster's sessions along, and nobody else would
// ever end them.
func (l *Lobby) buryPredecessors(ctx context.Context) error {
	l.mu.Lock()
	name := nodeName(l.node)
	alone := l.cfg.Node == ""
	var dead []string
	for _, m := range l.members {
		if (alone || nodeName(m.node) == name) && m.node != l.node && !slices.Contains(dead, m.node) {
			dead = append(dead, m.node)
		}
	}
	slices.Sort(dead) // the same gone lines, in the same order, on every start
	l.mu.Unlock()
	for _, inst := range dead {
		if err := l.DeclareGone(ctx, inst); err != nil {
			return fmt.Errorf("end the sessions of an earlier run: %w", err)
		}
	}
	return nil
}

// DeclareGone proposes that the node instance inst is dead, so that every
// node ends its sessions, and waits until that is applied. Nodes of a
// cluster call it when one of them stops answering; several may declare the
// same instance, and all but the first declaration change nothing.
func (l *Lobby) DeclareGone(ctx context.Context, inst string) error {
	l.mu.Lock()
	if l.gone[inst] {
		l.mu.Unlock()
		return nil
	}
	ch := l.proposeWaitLocked(Change{Type: ChangeGone, Target: inst})
	l.mu.Unlock()
	return l.await(ctx, ch)
}

// Instances lists the node instances that hold sessions of the chat, other
// than this one: those whose death would matter.
func (l *Lobby) Instances() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.members {
		if m.node != l.node && !slices.Contains(out, m.node) {
			out = append(out, m.node)
		}
	}
	slices.Sort(out)
	return out
}

// Instance is this node's instance name: its node name and a nonce new at
// every start.
func (l *Lobby) Instance() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.node
}

// newInstance names one run of the node called name.
func newInstance(name string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return name + "~" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// nodeName is the node an instance is a run of.
func nodeName(inst string) string {
	name, _, _ := strings.Cut(inst, "~")
	return name
}

// RoomInfo is a room as the room list shows it.
type RoomInfo struct {
	Name  string
	Users int
	// With is, for a conversation, the other party's name (Name is then
	// "@" and With, and Users 1 while they are online, else 0); "" for a
	// room.
	With string
	// Unread is how many chat lines the session's user has not seen there
	// (0 where they are now, and where they have never been); Mentions how
	// many of those name them (every line of a conversation does).
	Unread, Mentions int
}

// Rooms lists every room, private ones included, with its number of users,
// ordered by name without regard to case: the server's view. Front ends
// show a session the list Session.Rooms gives it, which leaves out the
// private rooms it may not see.
func (l *Lobby) Rooms() []RoomInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.roomsLocked(nil)
}

// roomsLocked lists the rooms for which show reports true (every room when
// show is nil), as Rooms does. l.mu must be held.
func (l *Lobby) roomsLocked(show func(*room) bool) []RoomInfo {
	out := make([]RoomInfo, 0, len(l.rooms))
	for _, r := range l.orderedRoomsLocked() {
		if show != nil && !show(r) {
			continue
		}
		out = append(out, RoomInfo{Name: r.name, Users: len(r.members)})
	}
	return out
}

// orderedRoomsLocked is every room, ordered by name without regard to
// case: sorted once after rooms are added, not at every look, since every
// session reads the list whenever its counts change. l.mu must be held.
func (l *Lobby) orderedRoomsLocked() []*room {
	if l.roomOrder == nil {
		type keyed struct {
			key string
			r   *room
		}
		ks := make([]keyed, 0, len(l.rooms))
		for _, r := range l.rooms {
			ks = append(ks, keyed{foldKey(r.name), r})
		}
		slices.SortFunc(ks, func(a, b keyed) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.r.name, b.r.name)) })
		l.roomOrder = make([]*room, len(ks))
		for i, k := range ks {
			l.roomOrder[i] = k.r
		}
	}
	return l.roomOrder
}

// Online is the number of users in the chat right now, on every node,
// name prompts not counted.
func (l *Lobby) Online() int { return int(l.online.Load()) }

// Sessions is the number of sessions the chat holds right now, on every
// node, name prompts included: what MaxSessions limits.
func (l *Lobby) Sessions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.members)
}

// LocalSessions is the number of this node's own sessions.
func (l *Lobby) LocalSessions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.locals)
}

// RoomCount is the number of rooms in the chat.
func (l *Lobby) RoomCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.rooms)
}

// Applied is the sequence number of the last batch of the log this node
// has applied: the log's Head minus Applied is how far it is behind.
func (l *Lobby) Applied() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursor
}

// Unavailable says, in a sentence, why this node cannot carry the chat on
// right now (its log cannot be reached; see LogDown), or "" when it can.
func (l *Lobby) Unavailable() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logDown
}

// MaxSessions is the limit on sessions for the whole chat.
func (l *Lobby) MaxSessions() int { return l.cfg.MaxSessions }

// Older returns up to one page (Config.History lines) of the room's history
// from before seq, oldest first. An empty result means seq was the first line.
// The history of a private room is only for those in it: Lobby.Older
// refuses it with ErrNoSuchRoom, and Session.Older serves it to them.
func (l *Lobby) Older(ctx context.Context, roomName string, seq uint64) ([]Message, error) {
	l.mu.Lock()
	r := l.rooms[foldKey(roomName)]
	hidden := r != nil && !l.mayReadLocked(nil, r)
	l.mu.Unlock()
	if hidden {
		return nil, fmt.Errorf("older history of %q: %w", roomName, ErrNoSuchRoom)
	}
	return l.older(ctx, roomName, seq)
}

// older reads a page of history as Older does, for whoever may read it. It
// reads the store and does not take the Lobby's lock.
func (l *Lobby) older(ctx context.Context, roomName string, seq uint64) ([]Message, error) {
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

// Queue is how many events a session may fall behind by before it is
// dropped (Config.Queue).
func (l *Lobby) Queue() int { return l.cfg.Queue }

// Shutdown tells every session of this node the server is shutting down
// and ends it, then stops accepting sessions. Close finishes the job.
func (l *Lobby) Shutdown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	for _, s := range l.locals {
		l.dropLocked(s, ErrShutdown)
	}
}

// Close shuts the lobby down if that has not happened, waits until every
// change this node proposed is applied and stored (the leave lines of its
// sessions among them), and stops. When ctx ends first it returns why and
// leaves the lobby running, so that Close may be called again. It does not
// close the Store or the Log, which belong to the caller.
func (l *Lobby) Close(ctx context.Context) error {
	l.Shutdown()
	if err := l.Sync(ctx); err != nil {
		return fmt.Errorf("flush history: %w", err)
	}
	l.mu.Lock()
	cursor := l.cursor
	l.mu.Unlock()
	if err := l.waitStored(ctx, cursor); err != nil {
		return fmt.Errorf("flush history: %w", err)
	}
	l.halt()
	return nil
}

// halt stops the proposer and the applier and waits for them. It is safe
// to call more than once.
func (l *Lobby) halt() {
	l.stop()
	l.done.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Nobody will settle what is still waiting: tell its waiters.
	l.failLocked(l.outbox, ErrLobbyClosed)
	l.outbox = nil
	for ref, ch := range l.waiters {
		ch <- ErrLobbyClosed
		delete(l.waiters, ref)
	}
}

// Sync waits until every change proposed on this node before the call
// (chat, joins, leaves) has been applied and delivered, or given up on, or
// until ctx ends or the lobby has stopped. A script that sends its last
// line and hangs up at once uses it to see that line come back before its
// session ends.
func (l *Lobby) Sync(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	target := l.proposed
	for l.settled < target {
		ch := l.settledCh
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			l.mu.Lock()
			return fmt.Errorf("sync: %w", ctx.Err())
		}
		l.mu.Lock()
	}
	return nil
}

// LogDown tells every session of this node that the log cannot be reached
// (why, in a sentence), and refuses their input until LogUp. A cluster's log
// calls it when it loses NATS.
func (l *Lobby) LogDown(why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.logDown != "" {
		return
	}
	l.logDown = why
	for _, s := range l.locals {
		l.noticeLocked(s, true, "%s", why)
	}
}

// LogUp undoes LogDown.
func (l *Lobby) LogUp() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.logDown == "" {
		return
	}
	l.logDown = ""
	for _, s := range l.locals {
		l.noticeLocked(s, false, "Reconnected: the chat goes on.")
	}
}

// deliverLocked queues ev for s without ever blocking: a session whose queue
// is full is too far behind to catch up, and is dropped. l.mu must be held.
// It reports whether ev was queued.
func (l *Lobby) deliverLocked(s *Session, ev Event) bool {
	if s.closed {
		return false
	}
	select {
	case s.events <- ev:
		return true
	default:
		l.logger.Warn("dropping slow session", "session", s.id, "user", s.name, "queue", cap(s.events))
		l.dropLocked(s, ErrTooSlow)
		return false
	}
}

func (l *Lobby) noticeLocked(s *Session, isErr bool, format string, args ...any) {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	l.deliverLocked(s, Event{Kind: EventNotice, Text: text, Error: isErr})
}

// dropLocked ends this node's session s at once: its event stream closes
// with reason and it gets nothing more. Its slot, its name and its place in
// a room are freed when the close it proposes comes back from the log (at
// once, on a healthy log). l.mu must be held.
func (l *Lobby) dropLocked(s *Session, reason error) {
	if s.closed {
		return
	}
	s.closed = true
	s.err = reason
	if l.obs != nil && (errors.Is(reason, ErrTooSlow) || errors.Is(reason, ErrFlooding)) {
		l.obs.SessionCutLoose(reason)
	}
	close(s.events)
	close(s.done)
	delete(l.locals, s.id)
	if m := l.members[s.id]; m != nil {
		m.sess = nil
		if m.room != nil {
			delete(m.room.locals, s)
		}
	}
	if !s.refused {
		// It holds a slot, or may once its open is applied: free it.
		l.proposeLocked(Change{Type: ChangeClose, Session: s.id, Text: reasonCode(reason)})
	}
	// Whatever s was waiting for will not matter any more.
	close(s.settledCh)
	s.settledCh = make(chan struct{})
}

// changedLocked tells every session that the room list or the user counts
// changed. The signal holds no data and coalesces: a session that has not
// looked yet is not told twice. l.mu must be held.
func (l *Lobby) changedLocked() {
	for _, s := range l.locals {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}
