package lobby

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Keeping order: who may do what in a room, which rooms a session may see,
// and the bans and mutes that keep people out or quiet.
//
// Roles come from identity. A room's owner and room operators are
// registered names kept in its roomMeta, so a role is held by whoever
// holds the name (its keys); server operators are sessions whose key the
// front door knows as an operator's (member.operator). Each role outranks
// the ones below it, and nobody may act on someone they do not outrank.
//
// Bans and mutes are state records (kindBan, kindMute), each holding the
// keys of the name it was made against (every key of a registered name,
// and the session's own) and, for a guest, its address: a ban outlives a
// new name on the same key. A ban holds a registered name itself too. Each
// carries its deadline as a time, never a timer: whether it still holds is
// decided by comparing with the time a change carries, so every node
// decides alike and a restart changes nothing.
//
// Everything here changes only in appliers, like all shared state; the
// commands (modcommands.go) check first, so that a refusal is immediate,
// and the appliers check again, since the log may have brought a change of
// rights in between.

// Kinds of StateRecord for keeping order.
const (
	kindBan  = "ban"  // a ban, by restriction.recordKey
	kindMute = "mute" // a mute, likewise
	kindMode = "mode" // a server-wide mode that is on, by name (modeRegistered)
)

// Modes a room or the server can be switched to (ChangeMode's Target).
const (
	modePrivate    = "private"    // a room hidden from all but its members and the invited
	modeRegistered = "registered" // only registered names may speak: the raid guard
)

// Limits on what keeping order stores.
const (
	// maxRestrictions is how many bans, and how many mutes, one room or
	// the server holds.
	maxRestrictions = 1000
	// maxRoomNames is how many room operators, and how many invitations,
	// one room holds.
	maxRoomNames = 1000
)

// orderState is the chat's bans, mutes and server-wide modes. Guarded by
// Lobby.mu; shared state, changed only by appliers.
type orderState struct {
	bans, mutes    restrictions
	registeredOnly bool // the server's raid guard: only registered names speak
	// guestInvites indexes roomMeta.InvitedSessions by session, so that an
	// invitation for a guest's session goes when the session does.
	guestInvites map[SessionID][]*room
}

func newOrderState() orderState {
	return orderState{bans: make(restrictions), mutes: make(restrictions), guestInvites: make(map[SessionID][]*room)}
}

// restriction is one ban or mute, as it is kept and stored.
type restriction struct {
	Room       string   `json:"room,omitempty"` // the room's name as created; "" for the whole server
	Name       string   `json:"name"`           // whom it was made against, as shown then
	Registered bool     `json:"registered,omitempty"`
	Keys       []string `json:"keys,omitempty"` // SSH key fingerprints
	Addr       string   `json:"addr,omitempty"` // a guest's IP address, without the port
	By         string   `json:"by"`
	Reason     string   `json:"reason,omitempty"`
	At         int64    `json:"at"`              // Unix nanoseconds
	Until      int64    `json:"until,omitempty"` // Unix nanoseconds; 0 until lifted
}

// restrictions are the bans (or the mutes) of the chat, by scope: the
// foldKey of a room's name, or "" for the whole server.
type restrictions map[string][]*restriction

// scopeOf is the scope of r's restrictions; nil is the server.
func scopeOf(r *room) string {
	if r == nil {
		return ""
	}
	return foldKey(r.name)
}

func (x *restriction) recordKey() string { return x.Room + "/" + x.Name }

// activeAt reports whether x still holds at the time at (Unix nanoseconds).
func (x *restriction) activeAt(at int64) bool { return x.Until == 0 || at < x.Until }

// holds reports whether x holds the member m, whose registered name (held by
// its key) is held, "" for none.
func (x *restriction) holds(m *member, held string) bool {
	switch {
	case m.fp != "" && slices.Contains(x.Keys, m.fp):
		return true
	case x.Registered && held != "" && held == x.Name:
		return true
	case x.Addr != "" && m.fp == "" && hostOf(m.addr) == x.Addr:
		// An address holds only guests: people with keys are known by
		// them, and many may share an address.
		return true
	}
	return false
}

// find returns the restriction on name in scope, matched as names are.
func (rs restrictions) find(scope, name string) (int, *restriction) {
	k := userKey(name)
	for i, x := range rs[scope] {
		if userKey(x.Name) == k {
			return i, x
		}
	}
	return -1, nil
}

// holding returns the restriction that holds m in r (room or server-wide;
// nil r: server-wide only) at the time at, or nil.
func (rs restrictions) holding(m *member, held string, r *room, at int64) *restriction {
	for _, scope := range []string{scopeOf(r), ""} {
		for _, x := range rs[scope] {
			if x.activeAt(at) && x.holds(m, held) {
				return x
			}
		}
		if r == nil {
			break
		}
	}
	return nil
}

// atDoor returns the server ban that holds a session opening with key
// (a fingerprint, "" for none) from addr at the time at, or nil.
func (rs restrictions) atDoor(key, addr string, at int64) *restriction {
	for _, x := range rs[""] {
		if !x.activeAt(at) {
			continue
		}
		if key != "" && slices.Contains(x.Keys, key) || key == "" && x.Addr != "" && hostOf(addr) == x.Addr {
			return x
		}
	}
	return nil
}

// put keeps x in place of any restriction on the same name in its scope,
// and has the store keep it. l.mu must be held, in an applier.
func (rs restrictions) put(l *Lobby, kind, scope string, x *restriction) {
	b, err := json.Marshal(x)
	if err != nil {
		panic(fmt.Sprintf("encode %s: %v", kind, err)) // strings and numbers: cannot fail
	}
	if i, old := rs.find(scope, x.Name); old != nil {
		if old.recordKey() != x.recordKey() {
			l.writes.State = append(l.writes.State, StateRecord{Kind: kind, Key: old.recordKey()})
		}
		rs[scope][i] = x
	} else {
		rs[scope] = append(rs[scope], x)
	}
	l.writes.State = append(l.writes.State, StateRecord{Kind: kind, Key: x.recordKey(), Value: b})
}

// drop forgets the i-th restriction of scope, in the store too. l.mu must
// be held, in an applier.
func (rs restrictions) drop(l *Lobby, kind, scope string, i int) {
	x := rs[scope][i]
	rs[scope] = slices.Delete(rs[scope], i, i+1)
	if len(rs[scope]) == 0 {
		delete(rs, scope)
	}
	l.writes.State = append(l.writes.State, StateRecord{Kind: kind, Key: x.recordKey()})
}

// prune forgets the restrictions of scope that have run out by the time at.
// Expiry needs no timer: a restriction that has run out holds nobody, and
// this only tidies up. l.mu must be held, in an applier.
func (rs restrictions) prune(l *Lobby, kind, scope string, at int64) {
	for i := len(rs[scope]) - 1; i >= 0; i-- {
		if !rs[scope][i].activeAt(at) {
			rs.drop(l, kind, scope, i)
		}
	}
}

// hostOf is the IP address of a client's address, without its port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// restoreOrder adds a stored ban, mute or mode to a Lobby being made.
func (l *Lobby) restoreOrder(rec StateRecord) error {
	if rec.Kind == kindMode {
		if rec.Key == modeRegistered {
			l.order.registeredOnly = true
		}
		return nil
	}
	var x restriction
	if err := json.Unmarshal(rec.Value, &x); err != nil {
		return fmt.Errorf("%s %s: %w", rec.Kind, rec.Key, err)
	}
	set := l.order.bans
	if rec.Kind == kindMute {
		set = l.order.mutes
	}
	scope := ""
	if x.Room != "" {
		scope = foldKey(x.Room)
	}
	set[scope] = append(set[scope], &x)
	return nil
}

// ---- what a ban says ----

// BannedError is why a ban keeps someone out: of the server (Open refuses
// them at the door, or their session ends) or of a room (/join refuses
// them). errors.Is(err, ErrBanned) holds for it.
type BannedError struct {
	Room   string    // "" for the whole server
	By     string    // who banned them
	Reason string    // why, "" when nobody said
	Until  time.Time // the zero time: until lifted
}

func (e *BannedError) Error() string {
	where := "this server"
	if e.Room != "" {
		where = e.Room
	}
	s := fmt.Sprintf("you are banned from %s by %s %s", where, e.By, untilText(e.Until))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes a BannedError ErrBanned.
func (e *BannedError) Is(target error) bool { return target == ErrBanned }

func (x *restriction) bannedError() *BannedError {
	return &BannedError{Room: x.Room, By: x.By, Reason: x.Reason, Until: unixTime(x.Until)}
}

// unixTime is a deadline as a time, the zero time for none.
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// untilText says until when, for a deadline (the zero time: none).
func untilText(t time.Time) string {
	if t.IsZero() {
		return "until it is lifted"
	}
	return "until " + t.UTC().Format("2006-01-02 15:04 MST")
}

// forText says for how long, in the trail: " for 1h", or "" until lifted.
func forText(x *restriction) string {
	if x.Until == 0 {
		return ""
	}
	return " for " + formatSpan(time.Duration(x.Until-x.At))
}

// reasonText ends a sentence with its reason: ": spam", or "".
func reasonText(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// ---- roles and what they may see ----

// role is what a member may do in a room; each outranks those before it.
type role int

const (
	roleMember   role = iota
	roleOp            // a room operator, named by the owner (/op)
	roleOwner         // the registered creator, or whom an operator named (/owner)
	roleServerOp      // a server operator: every power in every room
)

// heldNameLocked is m's name when it is registered and m's key holds it,
// "" otherwise. Roles and invitations belong to such names. l.mu must be
// held.
func (l *Lobby) heldNameLocked(m *member) string {
	if m == nil || m.name == "" || m.fp == "" {
		return ""
	}
	if r, ok := l.regs.find(m.name); ok && r.hasKey(m.fp) {
		return r.name
	}
	return ""
}

// roleLocked is m's role in r (nil: the Lobby, where only server operators
// have one). l.mu must be held.
func (l *Lobby) roleLocked(m *member, r *room) role {
	if m.operator {
		return roleServerOp
	}
	return nameRole(l.heldNameLocked(m), r)
}

// nameRole is the role the registered name name has in r.
func nameRole(name string, r *room) role {
	switch {
	case name == "" || r == nil:
		return roleMember
	case name == r.meta.Owner:
		return roleOwner
	case slices.Contains(r.meta.Ops, name):
		return roleOp
	}
	return roleMember
}

// describeRole names a role in r, for refusals.
func describeRole(ro role, r *room) string {
	switch ro {
	case roleServerOp:
		return "a server operator"
	case roleOwner:
		return "the owner of " + r.name
	case roleOp:
		return "a room operator of " + r.name
	}
	return "a member"
}

// maySeeLocked is the one rule for private rooms, which every path that
// names a room to a session asks (/list and the sidebar through
// Session.Rooms, /join and a room picked by key or mouse, /create, the
// history): a private room is there only for those in it, its owner and
// room operators, server operators and the invited. For everyone else it
// does not exist. m may be nil (no session: a public room only). l.mu must
// be held.
func (l *Lobby) maySeeLocked(m *member, r *room) bool {
	if !r.meta.Private {
		return true
	}
	if m == nil {
		return false
	}
	if m.room == r || m.operator {
		return true
	}
	if name := l.heldNameLocked(m); name != "" {
		if nameRole(name, r) > roleMember || slices.Contains(r.meta.Invited, name) {
			return true
		}
	}
	return slices.Contains(r.meta.InvitedSessions, string(m.id))
}

// mayReadLocked says whether m may read r's history beyond what it was
// shown on joining: anyone a public room's, and a private room's only those
// in it. m may be nil (no session). l.mu must be held.
func (l *Lobby) mayReadLocked(m *member, r *room) bool {
	return !r.meta.Private || m != nil && m.room == r
}

// speakRefusalLocked is why m may not say a line in r at the time at (Unix
// nanoseconds), or "" when it may: a mute (of the room or the whole
// server) or, for a guest, the raid guard. l.mu must be held.
func (l *Lobby) speakRefusalLocked(m *member, r *room, at int64) string {
	held := l.heldNameLocked(m)
	if x := l.order.mutes.holding(m, held, r, at); x != nil && !m.operator {
		where := "here"
		if x.Room == "" {
			where = "everywhere"
		}
		return fmt.Sprintf("%s muted you %s %s: you may read, not speak, so that was not sent.", x.By, where, untilText(unixTime(x.Until)))
	}
	if held != "" || m.operator {
		return ""
	}
	switch {
	case r != nil && r.meta.RegisteredOnly:
		return fmt.Sprintf("Only registered names may speak in %s for now (a guard against raids), so that was not sent; you may read. /register holds your name for your SSH key.", r.name)
	case l.order.registeredOnly:
		return "Only registered names may speak for now (a guard against raids), so that was not sent; you may read. /register holds your name for your SSH key."
	}
	return ""
}

// roomMarkLocked is what /who shows beside m's name in r for its role
// there: "owner", "op" (a room operator), or "" for neither. Server
// operators are marked by identity's own mark. l.mu must be held.
func (l *Lobby) roomMarkLocked(m *member, r *room) string {
	switch nameRole(l.heldNameLocked(m), r) {
	case roleOwner:
		return "owner"
	case roleOp:
		return "op"
	}
	return ""
}

// ---- invitations ----

// indexGuestInvites builds orderState.guestInvites from the rooms' meta,
// when the lobby is made.
func (l *Lobby) indexGuestInvites() {
	for _, r := range l.rooms {
		for _, id := range r.meta.InvitedSessions {
			sid := SessionID(id)
			l.order.guestInvites[sid] = append(l.order.guestInvites[sid], r)
		}
	}
}

// inviteLocked lets m (its registered name, or for a guest its session)
// see and join r, and reports whether that is new. l.mu must be held, in
// an applier, which saves r.
func (l *Lobby) inviteLocked(r *room, name string, m *member) bool {
	if name != "" {
		if slices.Contains(r.meta.Invited, name) {
			return false
		}
		r.meta.Invited = append(r.meta.Invited, name)
		return true
	}
	if m == nil || slices.Contains(r.meta.InvitedSessions, string(m.id)) {
		return false
	}
	r.meta.InvitedSessions = append(r.meta.InvitedSessions, string(m.id))
	l.order.guestInvites[m.id] = append(l.order.guestInvites[m.id], r)
	return true
}

// uninviteLocked takes back an invitation of m to r, if there is one. l.mu
// must be held, in an applier, which saves r.
func (l *Lobby) uninviteLocked(r *room, m *member) {
	if name := l.heldNameLocked(m); name != "" {
		r.meta.Invited = slices.DeleteFunc(r.meta.Invited, func(n string) bool { return n == name })
	}
	if slices.Contains(r.meta.InvitedSessions, string(m.id)) {
		r.meta.InvitedSessions = slices.DeleteFunc(r.meta.InvitedSessions, func(id string) bool { return id == string(m.id) })
		l.order.guestInvites[m.id] = slices.DeleteFunc(l.order.guestInvites[m.id], func(x *room) bool { return x == r })
		if len(l.order.guestInvites[m.id]) == 0 {
			delete(l.order.guestInvites, m.id)
		}
	}
}

// forgetSessionLocked takes back the invitations of m's session, which is
// ending: an invitation for a guest lasts as long as its session. l.mu must
// be held, in an applier.
func (l *Lobby) forgetSessionLocked(m *member) {
	rooms := l.order.guestInvites[m.id]
	if len(rooms) == 0 {
		return
	}
	delete(l.order.guestInvites, m.id)
	for _, r := range rooms {
		r.meta.InvitedSessions = slices.DeleteFunc(r.meta.InvitedSessions, func(id string) bool { return id == string(m.id) })
		l.saveRoomLocked(r)
	}
}

// forgetNameLocked takes the registered name name out of every room's
// owner, room operators and invitations: it is being let go, and whoever
// registers it next is somebody else. l.mu must be held, in an applier.
func (l *Lobby) forgetNameLocked(name string) {
	for _, r := range sortedRooms(l.rooms) {
		changed := false
		if r.meta.Owner == name {
			r.meta.Owner, changed = "", true
		}
		for _, list := range []*[]string{&r.meta.Ops, &r.meta.Invited} {
			if slices.Contains(*list, name) {
				*list = slices.DeleteFunc(*list, func(n string) bool { return n == name })
				changed = true
			}
		}
		if changed {
			l.saveRoomLocked(r)
		}
	}
}

// sortedRooms is rooms in name order, so that what an applier writes for
// each comes in the same order on every node.
func sortedRooms(rooms map[string]*room) []*room {
	out := make([]*room, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *room) int { return strings.Compare(a.name, b.name) })
	return out
}

// ---- who may do what ----

// action is one kind of moderation, for the rights it needs.
type action struct {
	cmd  string // the command, for refusals
	verb string // what it does, after "may"
	// need is the role it needs in a room; roleMember: it cannot be done
	// in a room.
	need role
	// server: a server operator may do it in the Lobby, for the whole
	// server.
	server bool
}

var (
	actKick     = action{cmd: "kick", verb: "kick people out of it", need: roleOp}
	actBan      = action{cmd: "ban", verb: "ban people", need: roleOp, server: true}
	actUnban    = action{cmd: "unban", verb: "lift bans", need: roleOp, server: true}
	actBans     = action{cmd: "bans", verb: "see the bans", need: roleOp, server: true}
	actMute     = action{cmd: "mute", verb: "mute people", need: roleOp, server: true}
	actUnmute   = action{cmd: "unmute", verb: "lift mutes", need: roleOp, server: true}
	actInvite   = action{cmd: "invite", verb: "invite people", need: roleOp}
	actPrivate  = action{cmd: "private", verb: "make it private or public", need: roleOp}
	actOp       = action{cmd: "op", verb: "name its room operators", need: roleOwner}
	actOwner    = action{cmd: "owner", verb: "give it an owner", need: roleServerOp}
	actMode     = action{cmd: "mode", verb: "switch its raid guard", need: roleOwner, server: true}
	actAnnounce = action{cmd: "announce", verb: "announce", need: roleServerOp, server: true}
)

// refusalLocked is why a may not do act where it is doing it (r; nil for
// the Lobby), or "" when it may. l.mu must be held.
func (l *Lobby) refusalLocked(a *member, r *room, act action) string {
	if r == nil {
		switch {
		case !act.server:
			return fmt.Sprintf("/%s works in a room: join it first.", act.cmd)
		case !a.operator && act.need == roleServerOp:
			return fmt.Sprintf("Only server operators may %s.", act.verb)
		case !a.operator:
			return fmt.Sprintf("In the Lobby, /%s acts on the whole server, which only server operators may do.", act.cmd)
		}
		return ""
	}
	if l.roleLocked(a, r) >= act.need {
		return ""
	}
	switch act.need {
	case roleOp:
		return fmt.Sprintf("Only the owner of %s, its room operators and server operators may %s.", r.name, act.verb)
	case roleOwner:
		return fmt.Sprintf("Only the owner of %s and server operators may %s.", r.name, act.verb)
	}
	return fmt.Sprintf("Only server operators may %s.", act.verb)
}

// target is whom a moderation command names: a member online with the name,
// and the registration of the name when that member's key holds it or
// nobody has the name online.
type target struct {
	name string // as shown: as registered, or as used online
	m    *member
	reg  *registration
}

// targetLocked finds whom name names, or says why nobody. l.mu must be held.
func (l *Lobby) targetLocked(name string) (target, string) {
	m, online := l.names.find(name)
	reg, registered := l.regs.find(name)
	if online && registered && !reg.hasKey(m.fp) {
		reg, registered = nil, false
	}
	switch {
	case registered:
		return target{name: reg.name, m: m, reg: reg}, ""
	case online:
		return target{name: m.name, m: m}, ""
	}
	return target{}, fmt.Sprintf("Nobody is called %s: nobody online has the name, and it is not registered.", name)
}

// roleIn is t's role in r (nil: the server).
func (t target) roleIn(r *room) role {
	if t.m != nil && t.m.operator {
		return roleServerOp
	}
	if t.reg == nil {
		return roleMember
	}
	return nameRole(t.reg.name, r)
}

// isSelf reports whether t is a itself.
func (t target) isSelf(a *member, aHeld string) bool {
	return t.m == a || t.reg != nil && t.reg.name == aHeld
}

// outrankRefusalLocked is why a may not do verb to t in r, or "": nobody
// acts on themselves, or on someone they do not outrank. l.mu must be
// held.
func (l *Lobby) outrankRefusalLocked(a *member, t target, r *room, verb string) string {
	if t.isSelf(a, l.heldNameLocked(a)) {
		return fmt.Sprintf("You cannot %s yourself.", verb)
	}
	if tr := t.roleIn(r); tr >= l.roleLocked(a, r) {
		return fmt.Sprintf("You cannot %s %s, who is %s: you do not outrank them.", verb, t.name, describeRole(tr, r))
	}
	return ""
}

// restrictionLocked makes the ban or mute of t in r (nil: the server) that
// a would make, or says why it may not: it must not hold a itself. l.mu
// must be held.
func (l *Lobby) restrictionLocked(a *member, t target, r *room, verb string) (*restriction, string) {
	if why := l.outrankRefusalLocked(a, t, r, verb); why != "" {
		return nil, why
	}
	x := &restriction{Name: t.name}
	if r != nil {
		x.Room = r.name
	}
	if t.reg != nil {
		x.Registered = true
		for _, k := range t.reg.keys {
			x.Keys = append(x.Keys, k.FP)
		}
	}
	if m := t.m; m != nil {
		switch {
		case m.fp != "" && !slices.Contains(x.Keys, m.fp):
			x.Keys = append(x.Keys, m.fp)
		case m.fp == "":
			x.Addr = hostOf(m.addr)
		}
	}
	if x.holds(a, l.heldNameLocked(a)) {
		return nil, fmt.Sprintf("You cannot %s %s: it would hold your own key or address too.", verb, t.name)
	}
	return x, ""
}

// ---- appliers ----

// actorLocked starts every moderation applier: the member that proposed c,
// still under the name it proposed it with, its session if on this node,
// and the room c acts in (nil: the server). ok is false when the change is
// void. l.mu must be held.
func (l *Lobby) actorLocked(c *Change, act action) (a *member, s *Session, r *room, ok bool) {
	a, s, ok = l.proposerLocked(c)
	if !ok {
		return nil, nil, nil, false
	}
	if c.Room != "" {
		if r = l.rooms[foldKey(c.Room)]; r == nil {
			return nil, nil, nil, false // rooms are never removed: cannot happen
		}
	}
	if why := l.refusalLocked(a, r, act); why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil, nil, nil, false
	}
	return a, s, r, true
}

// expelLocked moves m out of its room to the Lobby without a line of its
// own (the action's line says why) and tells it, if on this node. l.mu must
// be held.
func (l *Lobby) expelLocked(m *member, told string) {
	r := m.room
	delete(r.members, m)
	if m.sess != nil {
		delete(r.locals, m.sess)
	}
	m.room = nil
	l.saveMemberLocked(m)
	if s := m.sess; s != nil {
		l.deliverLocked(s, Event{Kind: EventEntered})
		l.noticeLocked(s, true, "%s", told)
	}
	l.changedLocked()
}

// membersHeldLocked is every member x holds, in a fixed order, so that
// what is done to each comes out alike on every node. l.mu must be held.
func (l *Lobby) membersHeldLocked(x *restriction, in *room) []*member {
	var out []*member
	for _, m := range l.members {
		if (in == nil || m.room == in) && !m.operator && x.holds(m, l.heldNameLocked(m)) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *member) int { return compareIDs(a.id, b.id) })
	return out
}

func (l *Lobby) applyKick(c *Change) error {
	a, s, r, ok := l.actorLocked(c, actKick)
	if !ok || r == nil {
		return nil
	}
	t, why := l.kickTargetLocked(a, r, c.Target)
	if why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	l.expelLocked(t.m, fmt.Sprintf("%s kicked you out of %s%s.", a.name, r.name, reasonText(c.Text)))
	// Out means out: a private room's invitation goes too.
	l.uninviteLocked(r, t.m)
	l.saveRoomLocked(r)
	l.postLocked(r, KindSystem, a.name, fmt.Sprintf("%s kicked %s%s", a.name, t.name, reasonText(c.Text)), c)
	l.trailLocked(c, "kick", a, &restriction{Room: r.name, Name: t.name, Keys: keysOf(t), Addr: addrOf(t), Reason: c.Text})
	return nil
}

// kickTargetLocked finds whom a kick of name out of r by a names, or says
// why it cannot be done. l.mu must be held.
func (l *Lobby) kickTargetLocked(a *member, r *room, name string) (target, string) {
	t, why := l.targetLocked(name)
	switch {
	case why != "":
		return t, why
	case t.m == a:
		return t, "You cannot kick yourself; /leave takes you back to the Lobby."
	case t.m == nil || t.m.room != r:
		return t, fmt.Sprintf("%s is not in %s.", t.name, r.name)
	}
	return t, l.outrankRefusalLocked(a, t, r, "kick")
}

// keysOf and addrOf are what the trail says of a target's keys and address.
func keysOf(t target) []string {
	var keys []string
	if t.reg != nil {
		for _, k := range t.reg.keys {
			keys = append(keys, k.FP)
		}
	}
	if t.m != nil && t.m.fp != "" && !slices.Contains(keys, t.m.fp) {
		keys = append(keys, t.m.fp)
	}
	return keys
}

func addrOf(t target) string {
	if t.m != nil {
		return hostOf(t.m.addr)
	}
	return ""
}

func (l *Lobby) applyBan(c *Change) error {
	a, s, r, ok := l.actorLocked(c, actBan)
	if !ok {
		return nil
	}
	x, why := l.newRestrictionLocked(c, a, r, "ban", l.order.bans, kindBan)
	if why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	ban := x.bannedError()
	if r != nil {
		// Everyone the ban holds leaves the room, whatever name they use.
		for _, m := range l.membersHeldLocked(x, r) {
			l.expelLocked(m, fmt.Sprintf("%s banned you from %s %s%s.", a.name, r.name, untilText(ban.Until), reasonText(x.Reason)))
		}
		if t, _ := l.targetLocked(c.Target); t.m != nil {
			l.uninviteLocked(r, t.m)
		}
		l.saveRoomLocked(r)
		l.postLocked(r, KindSystem, a.name, fmt.Sprintf("%s banned %s%s%s", a.name, x.Name, forText(x), reasonText(x.Reason)), c)
	} else {
		// Every session the ban holds ends, on every node; its room is
		// told why.
		for _, m := range l.membersHeldLocked(x, nil) {
			if m.room != nil {
				l.leaveRoomLocked(m, fmt.Sprintf("%s banned %s from the server%s%s", a.name, m.name, forText(x), reasonText(x.Reason)), c)
			}
			l.removeMemberLocked(m, ban, c)
		}
		l.tellLocked(s, false, "You banned %s from the server%s (%s)%s.", x.Name, forText(x), untilText(ban.Until), reasonText(x.Reason))
	}
	l.trailLocked(c, "ban", a, x)
	return nil
}

func (l *Lobby) applyMute(c *Change) error {
	a, s, r, ok := l.actorLocked(c, actMute)
	if !ok {
		return nil
	}
	x, why := l.newRestrictionLocked(c, a, r, "mute", l.order.mutes, kindMute)
	if why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	until := untilText(unixTime(x.Until))
	where, line := "everywhere", fmt.Sprintf("%s muted %s everywhere%s", a.name, x.Name, forText(x))
	if r != nil {
		where, line = "in "+r.name, fmt.Sprintf("%s muted %s%s", a.name, x.Name, forText(x))
	}
	for _, m := range l.membersHeldLocked(x, r) {
		l.tellLocked(m.sess, true, "%s muted you %s %s: you may read, not speak.", a.name, where, until)
	}
	if r != nil {
		l.postLocked(r, KindSystem, a.name, line, c)
	} else {
		l.tellLocked(s, false, "You muted %s everywhere%s (%s).", x.Name, forText(x), until)
	}
	l.trailLocked(c, "mute", a, x)
	return nil
}

// newRestrictionLocked makes and keeps the ban or mute c asks a to make
// in r (nil: the server), or says why not. l.mu must be held, in an
// applier.
func (l *Lobby) newRestrictionLocked(c *Change, a *member, r *room, verb string, set restrictions, kind string) (*restriction, string) {
	t, why := l.targetLocked(c.Target)
	if why != "" {
		return nil, why
	}
	x, why := l.restrictionLocked(a, t, r, verb)
	if why != "" {
		return nil, why
	}
	scope := scopeOf(r)
	set.prune(l, kind, scope, c.At)
	if _, old := set.find(scope, x.Name); old == nil && len(set[scope]) >= maxRestrictions {
		return nil, fmt.Sprintf("There are %d %ss here, the most there may be: lift some first.", maxRestrictions, kind)
	}
	x.By, x.Reason, x.At, x.Until = a.name, c.Text, c.At, c.Until
	set.put(l, kind, scope, x)
	return x, ""
}

func (l *Lobby) applyUnban(c *Change) error {
	return l.applyLift(c, actUnban, l.order.bans, kindBan, "ban")
}

func (l *Lobby) applyUnmute(c *Change) error {
	return l.applyLift(c, actUnmute, l.order.mutes, kindMute, "mute")
}

// applyLift lifts the ban or mute on c.Target where c was proposed.
func (l *Lobby) applyLift(c *Change, act action, set restrictions, kind, noun string) error {
	a, s, r, ok := l.actorLocked(c, act)
	if !ok {
		return nil
	}
	scope := scopeOf(r)
	set.prune(l, kind, scope, c.At)
	i, x := set.find(scope, c.Target)
	if x == nil {
		l.tellLocked(s, true, "%s", notRestrictedText(c.Target, noun, r))
		return nil
	}
	set.drop(l, kind, scope, i)
	line := fmt.Sprintf("%s lifted the %s on %s", a.name, noun, x.Name)
	if r != nil {
		l.postLocked(r, KindSystem, a.name, line, c)
	} else {
		l.tellLocked(s, false, "You lifted the server-wide %s on %s.", noun, x.Name)
	}
	if noun == "mute" {
		for _, m := range l.membersHeldLocked(x, r) {
			if m.sess != nil && m.sess != s {
				l.noticeLocked(m.sess, false, "%s lifted your mute: you may speak again.", a.name)
			}
		}
	}
	l.trailLocked(c, "un"+noun, a, x)
	return nil
}

func notRestrictedText(name, noun string, r *room) string {
	where := "on this server"
	if r != nil {
		where = "in " + r.name
	}
	verb := "banned"
	if noun == "mute" {
		verb = "muted"
	}
	return fmt.Sprintf("Nobody called %s is %s %s. /bans lists who is.", name, verb, where)
}

// Roles a ChangeRole gives (its Text).
const (
	giveOwner = "owner"
	giveOp    = "op"
	takeOp    = "deop"
)

func (l *Lobby) applyRole(c *Change) error {
	act := actOp
	if c.Text == giveOwner {
		act = actOwner
	}
	a, s, r, ok := l.actorLocked(c, act)
	if !ok || r == nil {
		return nil
	}
	name, why := l.roleChangeLocked(r, c.Text, c.Target)
	if why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	var line, told string
	switch c.Text {
	case giveOwner:
		r.meta.Owner = name
		r.meta.Ops = slices.DeleteFunc(r.meta.Ops, func(n string) bool { return n == name })
		line, told = fmt.Sprintf("%s made %s the owner of %s", a.name, name, r.name), fmt.Sprintf("%s made you the owner of %s.", a.name, r.name)
	case giveOp:
		r.meta.Ops = append(r.meta.Ops, name)
		line, told = fmt.Sprintf("%s made %s a room operator", a.name, name), fmt.Sprintf("%s made you a room operator of %s.", a.name, r.name)
	case takeOp:
		r.meta.Ops = slices.DeleteFunc(r.meta.Ops, func(n string) bool { return n == name })
		line, told = fmt.Sprintf("%s took %s's room operator rights", a.name, name), fmt.Sprintf("%s took your room operator rights in %s.", a.name, r.name)
	}
	l.saveRoomLocked(r)
	l.postLocked(r, KindSystem, a.name, line, c)
	if m, online := l.names.find(name); online && m.room != r {
		l.tellLocked(m.sess, false, "%s", told)
	}
	l.trailLocked(c, c.Text, a, &restriction{Room: r.name, Name: name})
	return nil
}

// roleChangeLocked checks that the role change what (giveOwner, giveOp,
// takeOp) can be made for name in r and returns the name as registered, or
// says why not. l.mu must be held.
func (l *Lobby) roleChangeLocked(r *room, what, name string) (string, string) {
	reg, ok := l.regs.find(name)
	if !ok {
		return "", fmt.Sprintf("%s is not a registered name, and only registered names (held by SSH keys) can have a role in a room.", name)
	}
	name = reg.name
	switch {
	case what != takeOp && r.meta.Owner == name:
		return "", fmt.Sprintf("%s owns %s already.", name, r.name)
	case what == giveOp && slices.Contains(r.meta.Ops, name):
		return "", fmt.Sprintf("%s is a room operator of %s already.", name, r.name)
	case what == giveOp && len(r.meta.Ops) >= maxRoomNames:
		return "", fmt.Sprintf("%s has %d room operators, the most a room may have.", r.name, maxRoomNames)
	case what == takeOp && !slices.Contains(r.meta.Ops, name):
		return "", fmt.Sprintf("%s is not a room operator of %s.", name, r.name)
	}
	return name, ""
}

func (l *Lobby) applyInvite(c *Change) error {
	a, s, r, ok := l.actorLocked(c, actInvite)
	if !ok || r == nil {
		return nil
	}
	t, why := l.inviteTargetLocked(r, c.Target)
	if why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	held := ""
	if t.reg != nil {
		held = t.reg.name
	}
	l.inviteLocked(r, held, t.m)
	l.saveRoomLocked(r)
	l.postLocked(r, KindSystem, a.name, fmt.Sprintf("%s invited %s", a.name, t.name), c)
	if t.m != nil {
		l.tellLocked(t.m.sess, false, "%s invited you to %s: /join %s goes there.", a.name, r.name, r.name)
	}
	l.changedLocked() // the room shows up in the invited one's list
	l.trailLocked(c, "invite", a, &restriction{Room: r.name, Name: t.name, Keys: keysOf(t), Addr: addrOf(t)})
	return nil
}

// inviteTargetLocked finds whom an invitation to r names, or says why it
// cannot be made: a registered name is invited as such, a guest online for
// its session. l.mu must be held.
func (l *Lobby) inviteTargetLocked(r *room, name string) (target, string) {
	t, why := l.targetLocked(name)
	switch {
	case why != "":
		return t, why
	case t.m != nil && t.m.room == r:
		return t, fmt.Sprintf("%s is in %s already.", t.name, r.name)
	case t.reg != nil && slices.Contains(r.meta.Invited, t.reg.name),
		t.reg == nil && slices.Contains(r.meta.InvitedSessions, string(t.m.id)):
		return t, fmt.Sprintf("%s is invited to %s already.", t.name, r.name)
	case len(r.meta.Invited)+len(r.meta.InvitedSessions) >= maxRoomNames:
		return t, fmt.Sprintf("%s has %d invitations, the most a room may have.", r.name, maxRoomNames)
	}
	return t, ""
}

func (l *Lobby) applyMode(c *Change) error {
	act := actMode
	if c.Target == modePrivate {
		act = actPrivate
	}
	a, s, r, ok := l.actorLocked(c, act)
	if !ok {
		return nil
	}
	if why := modeRefusal(r, c.Target, c.Flag, l.order.registeredOnly); why != "" {
		l.tellLocked(s, true, "%s", why)
		return nil
	}
	switch {
	case r == nil:
		l.order.registeredOnly = c.Flag
		rec := StateRecord{Kind: kindMode, Key: modeRegistered}
		if c.Flag {
			rec.Value = []byte("true")
		}
		l.writes.State = append(l.writes.State, rec)
		text := fmt.Sprintf("%s let guests speak again everywhere.", a.name)
		if c.Flag {
			text = fmt.Sprintf("%s switched on the raid guard for the whole chat: only registered names may speak for now; guests may read.", a.name)
		}
		for _, ls := range l.locals {
			if ls.name != "" {
				l.noticeLocked(ls, false, "%s", text)
			}
		}
	case c.Target == modePrivate:
		r.meta.Private = c.Flag
		line := fmt.Sprintf("%s made %s public", a.name, r.name)
		if c.Flag {
			// Those in it now are its members: they may come back.
			for m := range r.members {
				if held := l.heldNameLocked(m); nameRole(held, r) == roleMember && !m.operator {
					l.inviteLocked(r, held, m)
				}
			}
			slices.Sort(r.meta.Invited)
			slices.Sort(r.meta.InvitedSessions)
			line = fmt.Sprintf("%s made %s private: only its members and the invited see it", a.name, r.name)
		}
		l.saveRoomLocked(r)
		l.postLocked(r, KindSystem, a.name, line, c)
		l.changedLocked()
	default:
		r.meta.RegisteredOnly = c.Flag
		line := fmt.Sprintf("%s let guests speak in %s again", a.name, r.name)
		if c.Flag {
			line = fmt.Sprintf("%s switched on the raid guard: only registered names may speak in %s for now; guests may read", a.name, r.name)
		}
		l.saveRoomLocked(r)
		l.postLocked(r, KindSystem, a.name, line, c)
	}
	on := "off"
	if c.Flag {
		on = "on"
	}
	l.trailLocked(c, "mode "+c.Target+" "+on, a, &restriction{Room: roomName(r)})
	return nil
}

func roomName(r *room) string {
	if r == nil {
		return ""
	}
	return r.name
}

// modeRefusal is why mode cannot be switched to on in r (nil: the server),
// or "": it is so already.
func modeRefusal(r *room, mode string, on, serverRegistered bool) string {
	var now bool
	where := "the whole chat"
	switch {
	case r == nil:
		now = serverRegistered
	case mode == modePrivate:
		now, where = r.meta.Private, r.name
	default:
		now, where = r.meta.RegisteredOnly, r.name
	}
	if now != on {
		return ""
	}
	switch {
	case mode == modePrivate && on:
		return fmt.Sprintf("%s is private already.", where)
	case mode == modePrivate:
		return fmt.Sprintf("%s is public already.", where)
	case on:
		return fmt.Sprintf("The raid guard is on for %s already: only registered names may speak.", where)
	}
	return fmt.Sprintf("The raid guard is off for %s already: guests may speak.", where)
}

func (l *Lobby) applyAnnounce(c *Change) error {
	a, _, _, ok := l.actorLocked(c, actAnnounce)
	if !ok {
		return nil
	}
	for _, s := range l.locals {
		if s.name != "" {
			l.noticeLocked(s, false, "Announcement from %s: %s", a.name, c.Text)
		}
	}
	l.trailLocked(c, "announce", a, &restriction{})
	return nil
}

// trailLocked writes the structured log record of a moderation action:
// who did what to whom (their keys and address), where, why and until when;
// never what anybody said. Every node applies the action, but only the node
// it was proposed on writes the record, so that the cluster's logs hold it
// once. l.mu must be held.
func (l *Lobby) trailLocked(c *Change, what string, a *member, x *restriction) {
	if c.Node != l.node {
		return
	}
	scope := x.Room
	if scope == "" && c.Room == "" {
		scope = "server"
	}
	attrs := []any{"action", what, "by", a.name, "by_key", a.fp, "scope", scope}
	if x.Name != "" {
		attrs = append(attrs, "target", x.Name, "target_keys", strings.Join(x.Keys, ","), "target_addr", x.Addr)
	}
	if x.Reason != "" {
		attrs = append(attrs, "reason", x.Reason)
	}
	if x.Until != 0 {
		attrs = append(attrs, "until", unixTime(x.Until).Format(time.RFC3339))
	}
	l.logger.Info("moderation", attrs...)
}
