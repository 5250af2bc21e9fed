package lobby

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Read positions and unread counts.
//
// Every room and conversation a user has been in keeps their read position:
// the Seq of the last line they had when they left it, the room's count of
// chat lines at that point, and the lines since then that name them. A
// room counts its chat lines as they are applied (room.chats; joins, leaves
// and other notices are not chat), so the unread count of a room is one
// subtraction, never a walk through its history.
//
// Who keeps positions is a reader: a registered name (the positions are
// shared state, stored, and come back with the name on any node, on any of
// its keys) or, for a guest, the member itself (kept on every node while
// the session lasts, never stored).
//
// The rule for when a position moves: when its reader leaves the room, as
// part of applying that leave: /leave, /join of another room, the end of
// the session, or the death of its node all apply a change on the log, and
// its applier sets the position to the room's last line at that point of
// the log. So a position costs no change of its own, never one per line,
// and lands at the same place on every node. While a reader is in a room
// the room has nothing unread for them by definition; the lines they are
// shown there count as read when they leave. A conversation moves the
// position of whoever says something in it to their own line as well: a
// reply shows what it answers was read. The only other writes are the
// mentions of a reader who is not in the room (rare), and each room's
// chat count, once per batch of the log that added chat lines to it.

// Kinds of StateRecord for read positions.
const (
	kindRead  = "read"  // a registered name's position in a room, by "name/room"
	kindChats = "chats" // a room's count of chat lines, by the room's name
)

// maxMentions bounds the mentions a position keeps one by one; more are
// only counted (readPos.older).
const maxMentions = 1000

// reader keeps read positions for a name: a registered name's (reg set) or
// a guest's (reg nil), for as long as the session lasts. Guarded by
// Lobby.mu.
type reader struct {
	name  string
	reg   *registration
	m     *member            // the member using the name now, nil when nobody is
	pos   map[*room]*readPos // by room or conversation
	convs map[*reader]*room  // the reader's conversations, by the other party
}

// convsOrNil is rd's conversations, nil for no reader.
func (rd *reader) convsOrNil() map[*reader]*room {
	if rd == nil {
		return nil
	}
	return rd.convs
}

func newReader(name string, reg *registration) *reader {
	return &reader{name: name, reg: reg, pos: make(map[*room]*readPos), convs: make(map[*reader]*room)}
}

// shown is the reader's name as it is shown now: its member's, since a
// guest may change it.
func (rd *reader) shown() string {
	if rd.m != nil && rd.m.name != "" {
		return rd.m.name
	}
	return rd.name
}

// session is this node's session of the reader, nil when it has none.
func (rd *reader) session() *Session {
	if rd.m == nil || rd.m.sess == nil || rd.m.sess.closed {
		return nil
	}
	return rd.m.sess
}

// readPos is where a reader has read a room up to. Guarded by Lobby.mu.
type readPos struct {
	seq   uint64 // the Seq of the last line read
	chats uint64 // the room's chat lines up to seq
	// mentions are the Seqs of the lines after seq that name the reader,
	// oldest first: the newest maxMentions of them, and older counts those
	// let go.
	mentions []uint64
	older    uint64
}

// unread is how many chat lines of r come after p.
func (p *readPos) unread(r *room) int {
	if r.chats <= p.chats {
		return 0
	}
	return int(r.chats - p.chats)
}

func (p *readPos) mentionCount() int { return len(p.mentions) + int(p.older) }

func (p *readPos) addMention(seq uint64) {
	if len(p.mentions) >= maxMentions {
		p.mentions = slices.Delete(p.mentions, 0, 1)
		p.older++
	}
	p.mentions = append(p.mentions, seq)
}

// readRecord is a position as the store keeps it.
type readRecord struct {
	Seq      uint64   `json:"seq"`
	Chats    uint64   `json:"chats"`
	Mentions []uint64 `json:"mentions,omitempty"`
	Older    uint64   `json:"older,omitempty"`
}

func readRecordKey(name, roomName string) string { return name + "/" + roomName }

// kept reports whether r's lines and positions are stored: every room but a
// conversation with a guest.
func (r *room) kept() bool { return r.conv == nil || r.conv.kept }

// posLocked is rd's position in r, made at the start of r when rd has none.
// l.mu must be held.
func (l *Lobby) posLocked(rd *reader, r *room) *readPos {
	if p := rd.pos[r]; p != nil {
		return p
	}
	p := &readPos{}
	rd.pos[r] = p
	if s := rd.session(); s != nil {
		r.watchers[s] = struct{}{}
	}
	return p
}

// markReadLocked moves rd's position in r to r's last line. l.mu must be
// held, in an applier.
func (l *Lobby) markReadLocked(rd *reader, r *room) {
	p := l.posLocked(rd, r)
	p.seq, p.chats, p.mentions, p.older = r.seq, r.chats, nil, 0
	l.saveReadLocked(rd, r, p)
}

// saveReadLocked has the store keep p, when rd is a registered name's and
// r is kept. l.mu must be held, in an applier.
func (l *Lobby) saveReadLocked(rd *reader, r *room, p *readPos) {
	if rd.reg == nil || !r.kept() {
		return
	}
	b, err := json.Marshal(readRecord{Seq: p.seq, Chats: p.chats, Mentions: p.mentions, Older: p.older})
	if err != nil {
		panic(fmt.Sprintf("encode read position: %v", err)) // numbers: cannot fail
	}
	l.writes.State = append(l.writes.State, StateRecord{Kind: kindRead, Key: readRecordKey(rd.reg.name, r.name), Value: b})
}

// dropPosLocked forgets rd's position in r. l.mu must be held, in an
// applier.
func (l *Lobby) dropPosLocked(rd *reader, r *room) {
	if _, ok := rd.pos[r]; !ok {
		return
	}
	delete(rd.pos, r)
	if s := rd.session(); s != nil {
		delete(r.watchers, s)
	}
	if rd.reg != nil && r.kept() {
		l.writes.State = append(l.writes.State, StateRecord{Kind: kindRead, Key: readRecordKey(rd.reg.name, r.name)})
	}
}

// countChatLocked counts one more chat line in r; the count is stored once
// per batch (flushChatsLocked). l.mu must be held, in an applier.
func (l *Lobby) countChatLocked(r *room) {
	r.chats++
	if r.kept() && !r.chatsDirty {
		r.chatsDirty = true
		l.dirtyChats = append(l.dirtyChats, r)
	}
}

// flushChatsLocked adds the chat counts that changed in this batch to its
// writes. l.mu must be held, in the applier.
func (l *Lobby) flushChatsLocked() {
	for _, r := range l.dirtyChats {
		r.chatsDirty = false
		l.writes.State = append(l.writes.State, StateRecord{Kind: kindChats, Key: r.name, Value: strconv.AppendUint(nil, r.chats, 10)})
	}
	clear(l.dirtyChats)
	l.dirtyChats = l.dirtyChats[:0]
}

// attachReaderLocked gives a member that has just taken its name the
// reader that keeps its positions: its registered name's when its key
// holds the name, else a new one of its own. l.mu must be held.
func (l *Lobby) attachReaderLocked(m *member) {
	if reg, ok := l.regs.find(m.name); ok && reg.name == m.name && reg.hasKey(m.fp) {
		m.rd = reg.rd
	} else {
		m.rd = newReader(m.name, nil)
		l.indexReaderLocked(m.rd)
	}
	m.rd.m = m
	if s := m.sess; s != nil {
		for r := range m.rd.pos {
			r.watchers[s] = struct{}{}
		}
	}
}

// detachReaderLocked lets go of a member's reader as its session ends (or
// it takes another name): conversations that lasted only while it was
// here end, and a guest's positions are forgotten. l.mu must be held.
func (l *Lobby) detachReaderLocked(m *member, why string) {
	rd := m.rd
	if rd == nil {
		return
	}
	for _, r := range l.sortedConvs(rd) {
		if !r.conv.kept {
			l.endConversationLocked(r, rd, why)
		}
	}
	if s := m.sess; s != nil {
		for r := range rd.pos {
			delete(r.watchers, s)
		}
	}
	if rd.m == m {
		rd.m = nil
	}
	if rd.reg == nil {
		l.unindexReaderLocked(rd)
	}
	m.rd = nil
}

// renamedLocked moves m's reader along with a change of its name from old
// (for /nick): a guest keeps its positions under the new name; a member
// that leaves a registered name, or takes one its key holds, changes
// readers. l.mu must be held, in an applier, with m.name already new.
func (l *Lobby) renamedLocked(m *member, old string) {
	rd := m.rd
	if rd == nil {
		return
	}
	reg, held := l.regs.find(m.name)
	held = held && reg.name == m.name && reg.hasKey(m.fp)
	if rd.reg == nil && !held {
		l.unindexReaderLocked(rd)
		rd.name = m.name
		l.indexReaderLocked(rd)
		return
	}
	l.detachReaderLocked(m, old+" is now "+m.name+": your conversation with them is over, and it was not kept.")
	l.attachReaderLocked(m)
	if r := m.room; r != nil && r.conv != nil && !slices.Contains(r.conv.parties[:], m.rd) {
		// In a conversation of the name it left: back to the Lobby.
		delete(r.members, m)
		if m.sess != nil {
			delete(r.locals, m.sess)
			l.deliverLocked(m.sess, Event{Kind: EventEntered})
		}
		m.room = nil
	}
}

func (l *Lobby) indexReaderLocked(rd *reader) {
	if k := mentionKey(rd.name); l.readers[k] == nil {
		l.readers[k] = rd
	}
}

func (l *Lobby) unindexReaderLocked(rd *reader) {
	if k := mentionKey(rd.name); l.readers[k] == rd {
		delete(l.readers, k)
	}
}

// readerNamed is the reader of the name a mention candidate spells, if
// any. l.mu must be held.
func (l *Lobby) readerNamed(cand string) *reader {
	if !isPlainASCII(cand) {
		return l.readers[foldKey(cand)]
	}
	b := append(l.keyBuf[:0], cand...)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	l.keyBuf = b
	return l.readers[string(b)] // no allocation for a map lookup
}

// mentionsLocked finds who the chat line msg in room r names, its author
// aside. Named readers who are not in r have the line counted on their
// position there (if they have been in r) and, when on this node, hear of
// it (EventMention, unless r is private); the sessions in r that it names
// are returned, for their events to say so. l.mu must be held, in an
// applier.
func (l *Lobby) mentionsLocked(r *room, msg *Message, author *reader) []*Session {
	var named []*Session
	var seen []*reader
	mentionWords(msg.Text, func(cand string) bool {
		rd := l.readerNamed(cand)
		if rd == nil || rd == author || slices.Contains(seen, rd) {
			return false
		}
		seen = append(seen, rd)
		if l.readerIgnoresLocked(rd, msg.From) {
			return false // hidden from them: it names nobody they see
		}
		if rd.m != nil && rd.m.room == r {
			if s := rd.session(); s != nil {
				named = append(named, s)
			}
			return false
		}
		p := rd.pos[r]
		if p == nil {
			return false // never been there: nothing to count it on
		}
		p.addMention(msg.Seq)
		l.saveReadLocked(rd, r, p)
		// A private room's lines are only for those in it: the count
		// says someone named you there, the line stays there.
		if s := rd.session(); s != nil && !r.meta.Private {
			l.deliverLocked(s, Event{Kind: EventMention, Msg: msg})
		}
		return false
	})
	return named
}

// unreadTouchedLocked tells the sessions on this node that keep a position
// in r, and are not in it, that its counts changed. The signal coalesces,
// as every room-list refresh does. l.mu must be held.
func (l *Lobby) unreadTouchedLocked(r *room) {
	for s := range r.watchers {
		if m := l.members[s.id]; m != nil && m.room == r {
			continue
		}
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// restoreRead adds a stored position to the state being restored, once
// rooms and registrations are in; restoreChats a room's chat count.
func (l *Lobby) restoreRead(rec StateRecord) error {
	name, roomName, _ := strings.Cut(rec.Key, "/")
	reg, ok := l.regs.find(name)
	r := l.findRoomLocked(roomName)
	if !ok || reg.name != name || r == nil {
		return nil // left by a name let go, or a room that is no more
	}
	var rr readRecord
	if err := json.Unmarshal(rec.Value, &rr); err != nil {
		return fmt.Errorf("read position %s: %w", rec.Key, err)
	}
	reg.rd.pos[r] = &readPos{seq: rr.Seq, chats: rr.Chats, mentions: rr.Mentions, older: rr.Older}
	return nil
}

func (l *Lobby) restoreChats(rec StateRecord) error {
	r := l.findRoomLocked(rec.Key)
	if r == nil {
		return nil
	}
	n, err := strconv.ParseUint(string(rec.Value), 10, 64)
	if err != nil {
		return fmt.Errorf("chat count of %s: %w", rec.Key, err)
	}
	r.chats = n
	return nil
}

// findRoomLocked is the room or conversation named exactly so (as
// created, compared without case), nil when there is none. l.mu must be
// held.
func (l *Lobby) findRoomLocked(name string) *room {
	k := foldKey(name)
	if r := l.rooms[k]; r != nil {
		return r
	}
	return l.convs[k]
}

// roomsLocked is Session.Rooms with l.mu held: the rooms it may see, then
// the session's conversations, with its unread counts.
func (s *Session) roomsLocked() []RoomInfo {
	l := s.lobby
	m := l.members[s.id]
	var rd *reader
	var cur *room
	if m != nil {
		rd, cur = m.rd, m.room
	}
	out := make([]RoomInfo, 0, len(l.rooms)+len(rd.convsOrNil()))
	see := l.seerLocked(m) // private rooms only for those who may see them
	for _, r := range l.orderedRoomsLocked() {
		if !see(r) {
			continue
		}
		ri := RoomInfo{Name: r.name, Users: len(r.members)}
		if rd != nil && r != cur {
			if p := rd.pos[r]; p != nil {
				ri.Unread, ri.Mentions = p.unread(r), p.mentionCount()
			}
		}
		out = append(out, ri)
	}
	if rd == nil || len(rd.convs) == 0 {
		return out
	}
	rooms := len(out)
	for other, r := range rd.convs {
		with := other.shown()
		ri := RoomInfo{Name: "@" + with, With: with}
		if other.m != nil {
			ri.Users = 1
		}
		if p := rd.pos[r]; p != nil && r != cur {
			ri.Unread = p.unread(r)
			ri.Mentions = ri.Unread // every line of it is meant for you
		}
		out = append(out, ri)
	}
	slices.SortFunc(out[rooms:], compareRoomInfos)
	return out
}

func compareRoomInfos(a, b RoomInfo) int {
	return cmp.Or(cmp.Compare(foldKey(a.Name), foldKey(b.Name)), cmp.Compare(a.Name, b.Name))
}
