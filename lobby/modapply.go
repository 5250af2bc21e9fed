package lobby

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The appliers of keeping order: what a kick, a ban, a mute, a role, an
// invitation, a mode or an announcement does to the shared state, on every
// node alike (see moderation.go for the rules they share with the
// commands).

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
	if m.rd != nil {
		l.markReadLocked(m.rd, r) // what it was shown there, it has read
	}
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
	l.expelLocked(t.m, endSentence(fmt.Sprintf("%s kicked you out of %s%s", a.name, r.name, reasonText(c.Text))))
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
			l.expelLocked(m, endSentence(fmt.Sprintf("%s banned you from %s %s%s", a.name, r.name, untilText(ban.Until), reasonText(x.Reason))))
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
		l.tellLocked(s, false, "%s", endSentence(fmt.Sprintf("You banned %s from the server%s (%s)%s", x.Name, forText(x), untilText(ban.Until), reasonText(x.Reason))))
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
	scope := r
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
	scope := r
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
