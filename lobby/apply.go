package lobby

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// applier applies one change to the shared state, on every node alike: it
// may read and change the state, deliver to this node's sessions, and add
// to l.writes what the store must keep. It must decide only from the state
// and the change (never from this node's clock or configuration), so that
// every node reaches the same state. What it returns is the outcome told to
// the proposer's waiter, if any. l.mu is held.
type applier func(l *Lobby, c *Change) error

// appliers holds the applier of every kind of change. A kind a node does
// not know (from a newer node) is skipped with a warning.
var appliers = map[ChangeType]applier{
	ChangeOpen:   (*Lobby).applyOpen,
	ChangeName:   (*Lobby).applyName,
	ChangeClose:  (*Lobby).applyClose,
	ChangeGone:   (*Lobby).applyGone,
	ChangeCreate: (*Lobby).applyCreate,
	ChangeJoin:   (*Lobby).applyJoin,
	ChangeLeave:  (*Lobby).applyLeave,
	ChangeSay:    (*Lobby).applySay,
	ChangeDirect: (*Lobby).applyDirect,

	ChangeRegister:   (*Lobby).applyRegister,
	ChangeUnregister: (*Lobby).applyUnregister,
	ChangeKeyAdd:     (*Lobby).applyKeyAdd,
	ChangeKeyRemove:  (*Lobby).applyKeyRemove,
	ChangeSetting:    (*Lobby).applySetting,

	ChangeNick:  (*Lobby).applyNick,
	ChangeAway:  (*Lobby).applyAway,
	ChangeTopic: (*Lobby).applyTopic,
	ChangeEdit:  (*Lobby).applyEdit,

	ChangeKick:     (*Lobby).applyKick,
	ChangeBan:      (*Lobby).applyBan,
	ChangeUnban:    (*Lobby).applyUnban,
	ChangeMute:     (*Lobby).applyMute,
	ChangeUnmute:   (*Lobby).applyUnmute,
	ChangeRole:     (*Lobby).applyRole,
	ChangeInvite:   (*Lobby).applyInvite,
	ChangeMode:     (*Lobby).applyMode,
	ChangeAnnounce: (*Lobby).applyAnnounce,
}

// applyLoop follows the log from the cursor for as long as the lobby runs.
// A log that stops (a lost connection it could not resume) is followed
// again from where it stopped.
func (l *Lobby) applyLoop(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		l.mu.Lock()
		cursor := l.cursor
		l.mu.Unlock()
		err := l.log.Follow(ctx, cursor, l.applyBatch)
		if ctx.Err() != nil {
			return
		}
		l.logger.Error("follow the log", "after", cursor, "err", err)
		if !backOff(ctx, &backoff) {
			return
		}
	}
}

// applyBatch applies one batch of the log: first to the state in memory,
// delivering as it goes, then to the store with the new cursor. A batch
// that was already applied (a replay after a crash or a reconnect) changes
// nothing.
func (l *Lobby) applyBatch(seq uint64, batch []Change) error {
	l.mu.Lock()
	if seq <= l.cursor {
		l.mu.Unlock()
		return nil
	}
	l.writes.reset()
	if l.obs != nil {
		l.batchAt = l.cfg.Now()
	}
	for i := range batch {
		c := &batch[i]
		l.applyOneLocked(c)
	}
	l.flushChatsLocked()
	l.cursor = seq
	l.writes.LogID, l.writes.Cursor = l.logID, seq
	l.mu.Unlock()

	// The log has the batch, so it must reach the store however long that
	// takes: a store that fails (a full disk) is tried again, and the node
	// falls behind meanwhile instead of forgetting.
	backoff := time.Duration(0)
	for {
		err := l.store.Apply(context.Background(), &l.writes)
		if err == nil {
			break
		}
		l.logger.Error("store the applied log", "seq", seq, "err", err)
		if !backOff(l.runCtx, &backoff) {
			// Stopping: what is not stored is applied again from the
			// log at the next start.
			return fmt.Errorf("store the applied log at %d: %w", seq, err)
		}
	}
	l.mu.Lock()
	l.stored = seq
	close(l.storedCh)
	l.storedCh = make(chan struct{})
	l.mu.Unlock()
	return nil
}

// applyOneLocked applies one change and settles it if it is this node's.
// l.mu must be held.
func (l *Lobby) applyOneLocked(c *Change) {
	var outcome error
	switch apply, known := appliers[c.Type]; {
	case l.gone[c.Node] && c.Type != ChangeGone:
		// Proposed by a node instance already declared dead, which went on
		// unaware (cut off from the others): its sessions are gone.
		outcome = ErrLost
	case !known:
		l.logger.Warn("skipping a change of an unknown kind", "type", c.Type, "node", c.Node)
		outcome = fmt.Errorf("unknown change %q", c.Type)
	default:
		if m := l.members[c.Session]; m != nil && c.At > m.active {
			m.active = c.At // what /who counts idle time from
		}
		outcome = apply(l, c)
	}
	if c.Node != l.node {
		return
	}
	if ch, ok := l.waiters[c.Ref]; ok {
		ch <- outcome
		delete(l.waiters, c.Ref)
	}
	l.settleLocked(c)
}

// localOf is this node's session that proposed c, or nil. l.mu must be held.
func (l *Lobby) localOf(c *Change) *Session {
	if c.Node != l.node {
		return nil
	}
	return l.locals[c.Session]
}

func (l *Lobby) applyOpen(c *Change) error {
	if _, dup := l.members[c.Session]; dup {
		return nil // a retried proposal
	}
	if len(l.members) >= int(c.Seq) {
		if s := l.localOf(c); s != nil {
			s.refused = true
		}
		return ErrFull
	}
	if !c.Flag {
		// Decided here, from the key and address the open carries, rather
		// than by the door alone: a ban on its way through the log when
		// the session knocked is ordered against it like any other change.
		l.order.bans.prune(l, kindBan, nil, c.At)
		if x := l.order.bans.atDoor(c.Key, c.Addr, c.At); x != nil {
			if s := l.localOf(c); s != nil {
				s.refused = true
			}
			return x.bannedError()
		}
	}
	m := &member{id: c.Session, node: c.Node, since: c.At, active: c.At, fp: c.Key, addr: c.Addr, operator: c.Flag, sess: l.localOf(c)}
	l.members[m.id] = m
	l.saveMemberLocked(m)
	return nil
}

func (l *Lobby) applyName(c *Change) error {
	m := l.members[c.Session]
	if m == nil {
		return ErrClosed
	}
	if m.name != "" {
		return nil // a retried proposal
	}
	name := c.Name
	held := l.keyNames[m.fp]
	switch {
	case name != "":
		var err error
		if name, err = l.takeableLocked(m, name); err != nil {
			return err
		}
		l.users++
	case m.fp != "" && held != nil:
		// Enter at the prompt: the name the key holds.
		if _, taken := l.names.find(held.name); taken {
			return ErrNameTaken
		}
		name = held.name
		l.users++
	default:
		// The next number nobody online has taken by hand and nobody has
		// registered (a look-alike of a Guest<N> cannot be).
		for {
			l.users++
			name = fmt.Sprintf("Guest%d", l.users)
			_, taken := l.names.find(name)
			if _, registered := l.regs.find(name); !taken && !registered {
				break
			}
		}
	}
	l.writes.Counters[counterUsers] = l.users
	m.name = name
	l.names.add(name, m)
	l.named++
	l.online.Store(int64(l.named))
	l.saveMemberLocked(m)
	l.attachReaderLocked(m)
	if s := m.sess; s != nil {
		s.name = name
		s.loadPrefsLocked()                           // a registered name brings its settings
		l.deliverLocked(s, Event{Kind: EventEntered}) // the first event says where the user is
		l.awayNoticeLocked(s, m.rd)
	}
	l.changedLocked()
	return nil
}

func (l *Lobby) applyClose(c *Change) error {
	m := l.members[c.Session]
	if m == nil {
		return nil
	}
	l.removeMemberLocked(m, reasonOf(c.Text), c)
	return nil
}

// removeMemberLocked takes m out of the chat: out of its room (which sees it
// leave, for reason), its name and its slot freed. l.mu must be held.
func (l *Lobby) removeMemberLocked(m *member, reason error, c *Change) {
	if m.room != nil {
		l.leaveRoomLocked(m, leaveNotice(m.name, m.room.name, reason), c)
	}
	l.detachReaderLocked(m, m.name+" left the chat: your conversation with them is over, and it was not kept.")
	if m.name != "" {
		l.names.remove(m.name, m)
		l.named--
		l.online.Store(int64(l.named))
	}
	l.forgetSessionLocked(m)
	delete(l.members, m.id)
	l.writes.State = append(l.writes.State, StateRecord{Kind: kindSession, Key: string(m.id)})
	if s := m.sess; s != nil && !s.closed {
		l.dropLocked(s, reason)
	}
	l.changedLocked()
}

func (l *Lobby) applyGone(c *Change) error {
	inst := c.Target
	if l.gone[inst] {
		return nil
	}
	l.gone[inst] = true
	l.writes.State = append(l.writes.State, StateRecord{Kind: kindGone, Key: inst, Value: []byte("{}")})
	// In a fixed order, so that every node writes the leave lines alike.
	var dead []*member
	for _, m := range l.members {
		if m.node == inst {
			dead = append(dead, m)
		}
	}
	slices.SortFunc(dead, func(a, b *member) int { return compareIDs(a.id, b.id) })
	for _, m := range dead {
		l.removeMemberLocked(m, ErrLost, c)
	}
	if inst == l.node {
		// The others took this node for dead while it was cut off from
		// them: its sessions are gone everywhere, and so must they be here.
		// It carries on as a new instance.
		l.logger.Warn("this node was declared dead by the others; its sessions end", "instance", inst)
		for _, s := range l.locals {
			l.dropLocked(s, ErrLost)
		}
		// What the old instance proposed is skipped wherever it arrives:
		// nobody may wait for it.
		for ref, ch := range l.waiters {
			ch <- ErrLost
			delete(l.waiters, ref)
		}
		l.settled = l.proposed
		close(l.settledCh)
		l.settledCh = make(chan struct{})
		l.node = newInstance(nodeName(inst))
	}
	return nil
}

// compareIDs orders session IDs by instance, then by number.
func compareIDs(a, b SessionID) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (l *Lobby) applyCreate(c *Change) error {
	s := l.localOf(c)
	m := l.members[c.Session]
	if r, exists := l.roomIx.find(c.Room); exists {
		if s != nil {
			l.noticeLocked(s, true, "%s", s.existsTextLocked(r, c.Room))
		}
		return nil
	}
	r := &room{
		name:     c.Room,
		created:  c.Time(),
		members:  make(map[*member]struct{}),
		locals:   make(map[*Session]struct{}),
		watchers: make(map[*Session]struct{}),
		loaded:   true, // new: nothing to load
	}
	// The registered creator owns the room; a guest's room has no owner
	// until a server operator names one.
	if m != nil {
		r.meta.Owner = l.heldNameLocked(m)
	}
	r.meta.Private = c.Flag
	l.rooms[foldKey(c.Room)] = r
	l.roomOrder = nil
	l.roomIx.add(r.name, r)
	l.saveRoomLocked(r)
	if s != nil {
		if r.meta.Private {
			l.noticeLocked(s, false, "You created %s, a private room: nobody else sees it until you /invite them.", r.name)
		} else {
			l.noticeLocked(s, false, "You created %s.", r.name)
		}
	}
	if m != nil && m.name != "" {
		l.enterRoomLocked(m, r, c)
	}
	l.changedLocked()
	return nil
}

func (l *Lobby) applyJoin(c *Change) error {
	m := l.members[c.Session]
	if m == nil || m.name == "" {
		return nil
	}
	s := m.sess
	r, ok := l.rooms[foldKey(c.Room)]
	if !ok || !l.maySeeLocked(m, r) {
		// A private room the member may not see answers as if it did not
		// exist: it may have turned private on the way.
		if s != nil {
			l.noticeLocked(s, true, "There is no room named %s. /list shows the rooms.", c.Room)
		}
		return nil
	}
	if r == m.room {
		if s != nil {
			l.noticeLocked(s, false, "You are already in %s.", r.name)
		}
		return nil
	}
	l.order.bans.prune(l, kindBan, r, c.At)
	if why := l.joinBanLocked(m, r, c.At); why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	l.enterRoomLocked(m, r, c)
	return nil
}

func (l *Lobby) applyLeave(c *Change) error {
	m := l.members[c.Session]
	if m == nil {
		return nil
	}
	s := m.sess
	if m.room == nil {
		if s != nil {
			l.noticeLocked(s, true, "You are not in a room.")
		}
		return nil
	}
	left := m.room
	label := convLabel(m, left)
	l.leaveRoomLocked(m, fmt.Sprintf("%s left %s", m.name, left.name), c)
	l.saveMemberLocked(m)
	if s != nil {
		l.deliverLocked(s, Event{Kind: EventEntered})
		if left.conv != nil {
			l.noticeLocked(s, false, "You left %s.", label)
		} else {
			l.noticeLocked(s, false, "You left room %s.", label)
		}
	}
	l.changedLocked()
	return nil
}

func (l *Lobby) applySay(c *Change) error {
	m := l.members[c.Session]
	if m == nil {
		return nil
	}
	if m.room == nil || foldKey(m.room.name) != foldKey(c.Room) {
		// Moved out of the room by someone else before the line came
		// back: it is not said anywhere else.
		if s := m.sess; s != nil {
			where := c.Room
			if isConvName(where) {
				where = "that conversation"
			}
			l.noticeLocked(s, true, "Your message was not sent: you are no longer in %s.", where)
		}
		return nil
	}
	if why := l.speakRefusalLocked(m, m.room, c.At); why != "" {
		// Muted, or a guest under the raid guard, since the line was sent.
		l.tellLocked(m.sess, true, "%s", why)
		return nil
	}
	kind := KindChat
	if c.Flag {
		kind = KindAction
	}
	seq := l.sayLocked(m, m.room, kind, c.Text, c)
	if s := m.sess; s != nil {
		s.rememberLocked(m.room, seq)
	}
	return nil
}

// enterRoomLocked moves m into r (a room, or one of its conversations),
// out of the room it was in, and tells its session, if on this node, with
// the history it should show and where its unread lines start. l.mu must
// be held.
func (l *Lobby) enterRoomLocked(m *member, r *room, c *Change) {
	l.loadLocked(r)
	if m.room != nil {
		l.leaveRoomLocked(m, fmt.Sprintf("%s left %s", m.name, m.room.name), c)
	}
	r.members[m] = struct{}{}
	m.room = r
	l.saveMemberLocked(m)
	if s := m.sess; s != nil {
		r.locals[s] = struct{}{}
		history := r.recent[max(0, len(r.recent)-l.cfg.History):] // recent holds more
		ev := Event{Kind: EventEntered, Room: r.name, History: s.view.filter(s.name, slices.Clone(history)), Topic: r.meta.Topic}
		if m.rd != nil {
			if p := m.rd.pos[r]; p != nil && p.unread(r) > 0 {
				ev.NewFrom = p.seq + 1
			}
			if r.conv != nil {
				ev.With = r.conv.other(m.rd).shown()
				ev.Room = "@" + ev.With
			}
		}
		l.deliverLocked(s, ev)
		if !r.loaded {
			l.noticeLocked(s, true, "The history of %s could not be read: you see only what is said from now on.", ev.Room)
		}
	}
	if r.conv == nil {
		l.presenceLocked(r, m.name, fmt.Sprintf("%s joined %s", m.name, r.name), c)
	}
	l.changedLocked()
}

// leaveRoomLocked takes m out of its room, which is told with notice (a
// conversation is told nothing), and moves m's read position there to the
// room's last line. l.mu must be held.
func (l *Lobby) leaveRoomLocked(m *member, notice string, c *Change) {
	r := m.room
	delete(r.members, m)
	if m.sess != nil {
		delete(r.locals, m.sess)
	}
	m.room = nil
	if r.conv == nil {
		l.presenceLocked(r, m.name, notice, c)
	}
	if m.rd != nil {
		l.markReadLocked(m.rd, r)
	}
}

// loadLocked fills r's recent lines from the store the first time the
// room is touched after start-up. The store holds every batch applied
// before the current one, and the current one's lines for r come after
// this, so recent ends up whole. l.mu must be held.
func (l *Lobby) loadLocked(r *room) {
	if r.loaded {
		return
	}
	// Once per room per process: the tail is small and indexed.
	recent, err := l.store.Recent(context.Background(), r.name, l.recentKeep())
	if err != nil {
		l.logger.Error("load history", "room", r.name, "err", errors.Join(ErrHistoryStore, err))
		return // tried again at the next touch; newcomers see less meanwhile
	}
	r.recent, r.loaded = recent, true
	for i := range recent {
		if m := &recent[i]; m.Said() {
			r.noteSpokeLocked(m.From, m.At.UnixNano())
		}
	}
}

// recentKeep is how many of a room's newest lines it keeps in memory, at
// least: the replay on join, and every line that may still be edited,
// which every node must have at hand alike whatever its History.
func (l *Lobby) recentKeep() int { return max(l.cfg.History, EditLines) }

// presenceLocked posts a join or leave line about name. l.mu must be held.
func (l *Lobby) presenceLocked(r *room, name, text string, c *Change) {
	l.postLineLocked(r, Message{Kind: KindSystem, From: name, Text: text, Presence: true}, c)
}

// isChat reports whether a line of this kind is chat, something a user
// said (a line or an action): what unread counts count and mentions are
// looked for in.
func isChat(k Kind) bool { return k == KindChat || k == KindAction }

// postLocked adds a line to r, stores it with the batch (unless r is a
// conversation that is not kept) and delivers it to r's members on this
// node, or to a conversation's parties, and returns its Seq. l.mu must be
// held.
func (l *Lobby) postLocked(r *room, kind Kind, from, text string, c *Change) uint64 {
	return l.postLineLocked(r, Message{Kind: kind, From: from, Text: text}, c)
}

// postLineLocked is postLocked for a line msg (Kind, From, Text and
// Presence set); it fills in the rest. l.mu must be held.
func (l *Lobby) postLineLocked(r *room, msg Message, c *Change) uint64 {
	l.loadLocked(r)
	r.seq++
	msg.Room, msg.Seq, msg.At = r.name, r.seq, c.Time()
	kind, from := msg.Kind, msg.From
	if r.kept() {
		l.writes.Messages = append(l.writes.Messages, msg)
	}
	var author *reader
	if isChat(kind) {
		l.countChatLocked(r)
		if m := l.members[c.Session]; m != nil {
			author = m.rd
		}
	}
	if r.loaded {
		r.recent = append(r.recent, msg)
		if n, keep := len(r.recent), l.recentKeep(); n >= 2*keep {
			r.recent = slices.Clone(r.recent[n-keep:])
		}
	}
	if msg.Said() {
		r.noteSpokeLocked(from, c.At)
	}
	shared := &msg // one copy shared by every member's event
	if r.conv != nil {
		delivered := l.deliverConvLocked(r, shared, author)
		if l.obs != nil {
			l.observePostLocked(kind, delivered, c)
		}
		return msg.Seq
	}
	var named []*Session
	if isChat(kind) {
		named = l.mentionsLocked(r, shared, author)
		l.unreadTouchedLocked(r)
	}
	facts := lineFacts{msg: shared, r: r}
	delivered := 0
	for s := range r.locals {
		if s.view.hides(s.name, &facts) {
			continue
		}
		if kind == KindSystem && from != s.name && len(s.events) >= cap(s.events)/2 {
			// A join or leave line for a member already half a queue
			// behind (a login storm in a big room): skip it for them
			// rather than let notices crowd out chat and get the member
			// cut loose. It is in the room's history all the same.
			s.skipped++
			continue
		}
		ev := Event{Kind: EventMessage, Msg: shared}
		if named != nil && slices.Contains(named, s) {
			ev.Mention = true
		}
		if l.deliverLocked(s, ev) {
			delivered++
		}
	}
	if l.obs != nil {
		l.observePostLocked(kind, delivered, c)
	}
	return msg.Seq
}

// observePostLocked tells the Observer of a line posted and queued for
// delivered sessions. One clock reading per line, not per session: the
// fan-out above takes microseconds. l.mu must be held.
func (l *Lobby) observePostLocked(kind Kind, delivered int, c *Change) {
	l.obs.LinePosted(kind)
	if delivered == 0 {
		return
	}
	now := l.cfg.Now()
	if c.Node == l.node {
		l.obs.LinesDelivered(delivered, now.Sub(c.Time()), true)
	} else {
		l.obs.LinesDelivered(delivered, now.Sub(l.batchAt), false)
	}
}

func leaveNotice(name, roomName string, reason error) string {
	if r := reasonFor(reason); r != nil && r.left != "" {
		return fmt.Sprintf("%s left %s (%s)", name, roomName, r.left)
	}
	return fmt.Sprintf("%s left %s", name, roomName)
}
