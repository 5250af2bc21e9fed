package lobby

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Direct messages.
//
// A direct message is a line in a conversation: a room whose meta says
// Conversation, kept apart from the rooms (Lobby.convs), so that it has a
// history, pages of older lines (Session.Older), read positions and a
// place in the store like any room, while nobody can list it, join it by
// name or read it but its two parties. Sending one is a change on the log
// (ChangeDirect), like every change of shared state, so it reaches the
// recipient on any node.
//
// Between two registered names the conversation is kept: its room is named
// "@a@b" after the names as registered (a name no room can have, since
// room names hold no '@'), stored with its lines, and there for both
// whenever they come back, with the recipient's unread count. When one of
// the names is let go (/unregister) its conversations are closed: their
// Parties are emptied, so that whoever registers the name next reads
// nothing of them, and a new conversation between the same names gets a
// room of its own ("@a@b#2").
//
// With a guest on either side a conversation lasts while both sessions do
// and is never stored: its room lives in memory on every node, named after
// the two sessions ("~id~id"), its lines are kept out of the messages the
// store writes, and it ends, with its lines, when either session ends. Its
// text still travels in the log's changes, which are durable by design:
// on a node on its own the log's rows are deleted in the same transaction
// that applies them (so the text leaves the database once applied; its
// bytes may linger in freed pages and the write-ahead log until SQLite
// reuses or checkpoints them); in a cluster the
// stream keeps the changes as long as --nats-retention says (package
// cluster), like every other change. The sender is told that such a
// conversation is not kept.
//
// Front ends name a session's conversation "@NAME" after the other party:
// RoomInfo.Name in Session.Rooms, Event.Room of EventEntered, and the
// argument of SelectRoom and Session.Older. Message.Room holds the room's
// own name, which no front end needs to show.

// conversation is what a conversation's room has besides a room's state.
// Guarded by Lobby.mu.
type conversation struct {
	parties [2]*reader // nil once closed
	kept    bool       // between two registered names: stored
}

// other is the party of c that is not rd.
func (c *conversation) other(rd *reader) *reader {
	if c.parties[0] == rd {
		return c.parties[1]
	}
	return c.parties[0]
}

func (c *conversation) closed() bool { return c.parties[0] == nil }

// peerLocked finds who m's direct message to target would reach: the
// reader of the member online under that name, else of the registered
// name; kept says whether their conversation is stored. why is the
// sentence that refuses it, "" when it may go. l.mu must be held.
func (l *Lobby) peerLocked(m *member, target string) (to *reader, kept bool, why string) {
	tm, online := l.names.find(target)
	reg, registered := l.regs.find(target)
	switch {
	case online && tm == m, registered && m.rd != nil && reg.rd == m.rd:
		return nil, false, "That is you: a direct message is for someone else."
	case online && tm.rd != nil:
		to = tm.rd
	case registered:
		to = reg.rd
	default:
		return nil, false, fmt.Sprintf("Nobody called %s is online, and the name is not registered, so no message can be kept for it.", target)
	}
	if m.rd == nil {
		return nil, false, "You cannot send direct messages yet."
	}
	kept = m.rd.reg != nil && to.reg != nil
	if !kept && to.m == nil {
		return nil, false, fmt.Sprintf("%s is not online, and messages from a guest are not kept: /register your name to leave %s a message.", to.shown(), to.shown())
	}
	return to, kept, ""
}

// conversationLocked is the conversation between m's reader and to, made
// when they have none. l.mu must be held, in an applier.
func (l *Lobby) conversationLocked(m *member, to *reader, kept bool, c *Change) *room {
	from := m.rd
	if r := from.convs[to]; r != nil {
		return r
	}
	var name string
	a, b := from, to
	if kept {
		if cmp.Compare(mentionKey(a.name), mentionKey(b.name)) > 0 {
			a, b = b, a
		}
		base := "@" + a.name + "@" + b.name
		name = base
		for n := 2; l.convs[foldKey(name)] != nil; n++ {
			name = base + "#" + strconv.Itoa(n)
		}
	} else {
		ida, idb := a.m.id, b.m.id
		if compareIDs(ida, idb) > 0 {
			ida, idb = idb, ida
		}
		name = "~" + string(ida) + "~" + string(idb)
	}
	r := &room{
		name:     name,
		created:  c.Time(),
		members:  make(map[*member]struct{}),
		locals:   make(map[*Session]struct{}),
		watchers: make(map[*Session]struct{}),
		loaded:   true, // new: nothing to load
		conv:     &conversation{parties: [2]*reader{a, b}, kept: kept},
	}
	if kept {
		r.meta = roomMeta{Conversation: true, Parties: []string{a.name, b.name}}
		l.saveRoomLocked(r)
	}
	l.convs[foldKey(name)] = r
	from.convs[to], to.convs[from] = r, r
	for _, rd := range r.conv.parties {
		l.saveReadLocked(rd, r, l.posLocked(rd, r))
		if s := rd.session(); s != nil {
			if !kept {
				l.noticeLocked(s, false, "Messages between you and %s are not kept: they last while you are both connected.", r.conv.other(rd).shown())
			}
			select {
			case s.changed <- struct{}{}:
			default:
			}
		}
	}
	return r
}

// endConversationLocked ends the conversation r because of its party gone:
// one not kept is forgotten with its lines; a kept one is closed for
// both, its lines staying in the store for nobody. Whoever is in it goes
// back to the Lobby; the other party is told why. l.mu must be held, in an
// applier.
func (l *Lobby) endConversationLocked(r *room, gone *reader, why string) {
	conv := r.conv
	if conv.closed() {
		return
	}
	for _, m := range slices.SortedFunc(maps.Keys(r.members), func(a, b *member) int { return compareIDs(a.id, b.id) }) {
		delete(r.members, m)
		if m.sess != nil {
			delete(r.locals, m.sess)
		}
		m.room = nil
		l.saveMemberLocked(m)
		if s := m.sess; s != nil && !s.closed {
			l.deliverLocked(s, Event{Kind: EventEntered})
		}
	}
	for _, rd := range conv.parties {
		l.dropPosLocked(rd, r)
		delete(rd.convs, conv.other(rd))
		if s := rd.session(); s != nil {
			if rd != gone {
				l.noticeLocked(s, false, "%s", why)
			}
			select {
			case s.changed <- struct{}{}:
			default:
			}
		}
	}
	conv.parties = [2]*reader{}
	if conv.kept {
		// The name is what would let another in: empty the parties, keep
		// the room so that its name stays taken.
		r.meta.Parties = nil
		l.saveRoomLocked(r)
		return
	}
	delete(l.convs, foldKey(r.name))
	r.recent = nil
}

// sortedConvs is rd's conversations in a fixed order, so that every node
// ends them alike.
func (l *Lobby) sortedConvs(rd *reader) []*room {
	out := make([]*room, 0, len(rd.convs))
	for _, r := range rd.convs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *room) int { return strings.Compare(a.name, b.name) })
	return out
}

// applyDirect carries out a /msg: the conversation between the sender and
// Target is made if need be, then the line Text is said in it, or, with no
// Text, the sender moves into it.
func (l *Lobby) applyDirect(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	to, kept, why := l.peerLocked(m, c.Target)
	if why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	if c.Text != "" {
		if why := l.speakRefusalLocked(m, nil, c.At); why != "" {
			// Muted, or a guest under the raid guard, since it was sent.
			l.tellLocked(s, true, "%s", why)
			return nil
		}
	}
	r := l.conversationLocked(m, to, kept, c)
	if c.Text == "" {
		if m.room == r {
			l.tellLocked(s, false, "You are already in your conversation with %s.", to.shown())
			return nil
		}
		l.enterRoomLocked(m, r, c)
		return nil
	}
	seq := l.sayLocked(m, r, KindChat, c.Text, c)
	if s != nil {
		s.rememberLocked(r, seq) // /edit and /delete find it
	}
	if to.m != nil {
		if why, away := l.awayLocked(to.m); away {
			if why != "" {
				l.tellLocked(s, false, "%s is away: %s", to.shown(), why)
			} else {
				l.tellLocked(s, false, "%s is away.", to.shown())
			}
		}
	}
	return nil
}

// sayLocked says m's line text (chat or an action) in r, a room or a
// conversation, and returns its Seq. l.mu must be held, in an applier.
func (l *Lobby) sayLocked(m *member, r *room, kind Kind, text string, c *Change) uint64 {
	seq := l.postLocked(r, kind, m.name, text, c)
	if r.conv == nil || m.rd == nil {
		return seq
	}
	// Whoever writes in a conversation has read it.
	l.markReadLocked(m.rd, r)
	if other := r.conv.other(m.rd); l.readerIgnoresLocked(other, m.name) {
		// Dropped for them (and kept for the sender as usual): nothing of
		// it reaches them, not even a count.
		l.markReadLocked(other, r)
	}
	return seq
}

// deliverConvLocked hands a conversation's line to its parties' sessions
// on this node: as a line of the pane to whoever is in the conversation,
// as a direct message in whatever pane they have otherwise. It returns how
// many were handed it. l.mu must be held, in an applier.
func (l *Lobby) deliverConvLocked(r *room, msg *Message, author *reader) int {
	delivered := 0
	for _, rd := range r.conv.parties {
		s := rd.session()
		if s == nil {
			continue
		}
		other := r.conv.other(rd)
		if rd != author && author != nil && l.readerIgnoresLocked(rd, author.shown()) {
			continue
		}
		ev := Event{Kind: EventDirect, Msg: msg, With: other.shown()}
		if rd.m.room == r {
			ev.Kind = EventMessage
		}
		if rd != author && msg.Kind == KindChat {
			s.replyTo = other
			if ev.Kind == EventDirect {
				select {
				case s.changed <- struct{}{}: // its count changed
				default:
				}
			}
		}
		if l.deliverLocked(s, ev) {
			delivered++
		}
	}
	return delivered
}

// readerIgnoresLocked reports whether rd hides name's lines and messages
// (/ignore): online, as its member does; away, as its registered name's
// setting says. l.mu must be held.
func (l *Lobby) readerIgnoresLocked(rd *reader, name string) bool {
	switch {
	case rd == nil:
		return false
	case rd.m != nil:
		return l.ignoresLocked(rd.m, name)
	case rd.reg != nil:
		k := userKey(name)
		for _, n := range strings.Fields(rd.reg.settings[SettingIgnore]) {
			if userKey(n) == k {
				return true
			}
		}
	}
	return false
}

// convLabel is how a notice names the room r for m: "your conversation
// with NAME", or the room's name.
func convLabel(m *member, r *room) string {
	if r.conv == nil {
		return r.name
	}
	if m.rd == nil || r.conv.closed() {
		return "that conversation"
	}
	return "your conversation with " + r.conv.other(m.rd).shown()
}

// isConvName reports whether name is a conversation's own name.
func isConvName(name string) bool {
	return strings.HasPrefix(name, "@") || strings.HasPrefix(name, "~")
}

// ---- commands ----

const msgUsage = "Usage: /msg NAME text sends NAME a direct message (also /dm); /msg NAME opens your conversation with NAME."

func (s *Session) cmdMsg(arg string) error {
	l := s.lobby
	m := l.members[s.id]
	if m == nil {
		return nil
	}
	target, text, _ := strings.Cut(arg, " ")
	target = strings.TrimPrefix(target, "@")
	if target == "" {
		l.noticeLocked(s, true, "%s", msgUsage)
		return nil
	}
	name, ok := validName(target, MaxNameLen)
	if !ok {
		l.noticeLocked(s, true, "Nobody is called %s: that is not a valid name.", echo(target))
		return nil
	}
	if text = strings.TrimSpace(text); text != "" {
		var ok bool
		if text, ok = s.chatTextLocked(text); !ok {
			return nil // told why
		}
		// A mute of the whole server, or the raid guard for a guest,
		// holds for direct messages as for any line.
		if why := l.speakRefusalLocked(m, nil, l.cfg.Now().UnixNano()); why != "" {
			l.noticeLocked(s, true, "%s", why)
			return nil
		}
	}
	to, _, why := l.peerLocked(m, name)
	if why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	if text == "" && m.room != nil && m.room == m.rd.convs[to] {
		l.noticeLocked(s, false, "You are already in your conversation with %s.", to.shown())
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeDirect, Name: m.name, Target: name, Text: text})
	return nil
}

func (s *Session) cmdReply(arg string) error {
	l := s.lobby
	switch {
	case arg == "":
		l.noticeLocked(s, true, "Usage: /reply text answers the last direct message you were sent.")
	case s.replyTo == nil:
		l.noticeLocked(s, true, "Nobody has sent you a direct message in this session, so there is nobody to reply to. /msg NAME text writes to someone.")
	case s.replyTo.m == nil && s.replyTo.reg == nil:
		l.noticeLocked(s, true, "%s has left the chat, so there is nobody to reply to.", s.replyTo.shown())
	default:
		// By the name they have now: a guest may have changed it.
		return s.cmdMsg(s.replyTo.shown() + " " + arg)
	}
	return nil
}

// convByAliasLocked is the session's conversation with the party called
// name ("@" before it or not), nil when it has none. l.mu must be held.
func (s *Session) convByAliasLocked(name string) *room {
	m := s.lobby.members[s.id]
	if m == nil || m.rd == nil {
		return nil
	}
	k := foldKey(strings.TrimPrefix(name, "@"))
	for other, r := range m.rd.convs {
		if foldKey(other.shown()) == k {
			return r
		}
	}
	return nil
}

// awayNoticeLocked tells a registered user who has just signed in of the
// direct messages that came while they were away. l.mu must be held.
func (l *Lobby) awayNoticeLocked(s *Session, rd *reader) {
	var from []string
	total := 0
	for _, r := range l.sortedConvs(rd) {
		if p := rd.pos[r]; p != nil {
			if n := p.unread(r); n > 0 {
				total += n
				from = append(from, r.conv.other(rd).shown())
			}
		}
	}
	if total == 0 {
		return
	}
	l.noticeLocked(s, false, "While you were away: %s from %s. /msg NAME opens a conversation.", plural(total, "direct message"), strings.Join(from, ", "))
}

// linkConversations finds the parties of the kept conversations restored
// from the store, once the registrations are in. One whose names are not
// both registered any more stays closed.
func (l *Lobby) linkConversations() {
	for _, r := range l.convs {
		ps := r.meta.Parties
		if len(ps) != 2 {
			continue
		}
		a, okA := l.regs.find(ps[0])
		b, okB := l.regs.find(ps[1])
		if !okA || !okB || a.name != ps[0] || b.name != ps[1] || a == b {
			continue
		}
		r.conv.parties = [2]*reader{a.rd, b.rd}
		a.rd.convs[b.rd], b.rd.convs[a.rd] = r, r
	}
}

// readerRegisteredLocked makes m's reader the one of the name it has just
// registered, so that the positions it has kept as a guest are kept for the
// name from now on. l.mu must be held, in an applier.
func (l *Lobby) readerRegisteredLocked(m *member, reg *registration) {
	rd := m.rd
	if rd == nil {
		rd = newReader(reg.name, nil)
		l.indexReaderLocked(rd)
	}
	reg.rd, rd.reg = rd, reg
	for r, p := range rd.pos {
		l.saveReadLocked(rd, r, p)
	}
}

// readerUnregisteredLocked forgets what a name that is let go kept: its
// stored positions, and its kept conversations, which close. Its member,
// online, goes on as a guest with its positions in memory. l.mu must be
// held, in an applier.
func (l *Lobby) readerUnregisteredLocked(reg *registration) {
	rd := reg.rd
	if rd == nil {
		return
	}
	for _, r := range l.sortedConvs(rd) {
		if r.conv.kept {
			l.endConversationLocked(r, rd, reg.name+" is no longer registered: your conversation with them is closed.")
		}
	}
	for r := range rd.pos {
		if r.kept() {
			l.writes.State = append(l.writes.State, StateRecord{Kind: kindRead, Key: readRecordKey(reg.name, r.name)})
		}
	}
	rd.reg, reg.rd = nil, nil
	if rd.m == nil {
		l.unindexReaderLocked(rd)
	}
}
