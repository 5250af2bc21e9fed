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
// room they hold in, or nil for the whole server. Rooms are never removed,
// so a room's pointer names it for as long as the lobby runs.
type restrictions map[*room][]*restriction

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
func (rs restrictions) find(scope *room, name string) (int, *restriction) {
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
	for _, scope := range []*room{r, nil} {
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
	for _, x := range rs[nil] {
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
func (rs restrictions) put(l *Lobby, kind string, scope *room, x *restriction) {
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
func (rs restrictions) drop(l *Lobby, kind string, scope *room, i int) {
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
func (rs restrictions) prune(l *Lobby, kind string, scope *room, at int64) {
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
	var scope *room
	if x.Room != "" {
		if scope = l.rooms[foldKey(x.Room)]; scope == nil {
			return fmt.Errorf("%s %s: no room %q", rec.Kind, rec.Key, x.Room)
		}
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

// endSentence ends s, which may end with what a user typed, with a full
// stop unless it ends with one already (or with ! or ?).
func endSentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
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
	// A key holds one name, and a session holding its key's name has it
	// exactly as registered (Claim and the prompt give it so): a map
	// look-up, not a look-alike search, since every chat line asks.
	if r := l.keyNames[m.fp]; r != nil && r.name == m.name {
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
	return l.seerLocked(m)(r)
}

// seerLocked returns maySeeLocked for m, for asking about many rooms: m's
// registered name is looked up once, and only if a private room needs it.
// l.mu must be held while it is used.
func (l *Lobby) seerLocked(m *member) func(*room) bool {
	held, looked := "", false
	return func(r *room) bool {
		switch {
		case !r.meta.Private:
			return true
		case m == nil:
			return false
		case m.room == r || m.operator:
			return true
		}
		if !looked {
			held, looked = l.heldNameLocked(m), true
		}
		if held != "" && (nameRole(held, r) > roleMember || slices.Contains(r.meta.Invited, held)) {
			return true
		}
		return slices.Contains(r.meta.InvitedSessions, string(m.id))
	}
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
	guarded := l.order.registeredOnly || r != nil && r.meta.RegisteredOnly
	if !guarded && len(l.order.mutes) == 0 {
		return "" // every line asks: nothing to look up unless something holds
	}
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
