package lobby

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The commands of keeping order (moderation.go has the rules they share
// with their appliers). Each checks everything it can before it proposes,
// so that a refusal is one sentence at once and changes nothing; the
// applier checks again against the state the log has reached by then.

// cutWord splits the first word off s.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return s[:i], strings.TrimSpace(s[i:])
	}
	return s, ""
}

// nameArg checks the NAME a command was given, as /whois does, or says why
// nobody can be called that.
func nameArg(word string) (string, string) {
	name, ok := validName(word, MaxNameLen)
	if !ok {
		return "", fmt.Sprintf("Nobody is called %s: that is not a valid name.", echo(word))
	}
	return name, ""
}

// reasonArg cleans the reason given for a kick or a ban. A reason is held
// to the length of a message; one with nothing visible in it is none.
func reasonArg(rest string) (string, string) {
	reason := strings.TrimSpace(CleanText(rest))
	if !visible(reason) {
		return "", ""
	}
	if n := utf8.RuneCountInString(reason); n > MaxMessageLen {
		return "", fmt.Sprintf("That reason is %d characters long; the limit is %d, as for a message. Nothing was done.", n, MaxMessageLen)
	}
	return reason, ""
}

// moderatorLocked starts every moderation command: the member typing it,
// the room it is in (nil in the Lobby), and whether it may do act there
// (when not, it has been told why). l.mu must be held.
func (s *Session) moderatorLocked(act action) (*member, *room, bool) {
	l := s.lobby
	a := l.members[s.id]
	if a == nil {
		return nil, nil, false
	}
	r := a.room
	if r != nil && r.conv != nil {
		// A conversation has nobody to keep order in it: only what is
		// not done in a room is done from there.
		if act != actAnnounce {
			l.noticeLocked(s, true, "/%s works in a room, not in a conversation.", act.cmd)
			return nil, nil, false
		}
		r = nil
	}
	if why := l.refusalLocked(a, r, act); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil, nil, false
	}
	return a, r, true
}

// refuse tells s why its command was not carried out.
func (s *Session) refuse(why string) error {
	s.lobby.noticeLocked(s, true, "%s", why)
	return nil
}

func (s *Session) cmdKick(arg string) error {
	a, r, ok := s.moderatorLocked(actKick)
	if !ok {
		return nil
	}
	word, rest := cutWord(arg)
	if word == "" {
		return s.refuse("Usage: /kick NAME [reason]")
	}
	name, why := nameArg(word)
	if why != "" {
		return s.refuse(why)
	}
	reason, why := reasonArg(rest)
	if why != "" {
		return s.refuse(why)
	}
	t, why := s.lobby.kickTargetLocked(a, r, name)
	if why != "" {
		return s.refuse(why)
	}
	s.proposeFromLocked(Change{Type: ChangeKick, Name: a.name, Room: r.name, Target: t.name, Text: reason})
	return nil
}

func (s *Session) cmdBan(arg string) error {
	return s.restrictLocked(arg, actBan, ChangeBan, "ban", true)
}

func (s *Session) cmdMute(arg string) error {
	return s.restrictLocked(arg, actMute, ChangeMute, "mute", false)
}

// restrictLocked carries out /ban NAME [DURATION] [reason] and
// /mute NAME [DURATION]: in a room for the room, in the Lobby (server
// operators) for the whole server.
func (s *Session) restrictLocked(arg string, act action, typ ChangeType, verb string, withReason bool) error {
	l := s.lobby
	a, r, ok := s.moderatorLocked(act)
	if !ok {
		return nil
	}
	usage := "Usage: /mute NAME [DURATION], such as /mute bob 10m; without a duration, until /unmute."
	if withReason {
		usage = "Usage: /ban NAME [DURATION] [reason], such as /ban bob 2h spam; without a duration, until /unban."
	}
	word, rest := cutWord(arg)
	if word == "" {
		return s.refuse(usage)
	}
	name, why := nameArg(word)
	if why != "" {
		return s.refuse(why)
	}
	now := l.cfg.Now()
	var until int64
	if span, after := cutWord(rest); span != "" && (!withReason || looksLikeSpan(span)) {
		d, why := parseSpan(span)
		if why != "" {
			return s.refuse(why)
		}
		until, rest = now.Add(d).UnixNano(), after
	}
	if !withReason && rest != "" {
		return s.refuse(usage)
	}
	reason, why := reasonArg(rest)
	if why != "" {
		return s.refuse(why)
	}
	t, why := l.targetLocked(name)
	if why != "" {
		return s.refuse(why)
	}
	if _, why := l.restrictionLocked(a, t, r, verb); why != "" {
		return s.refuse(why)
	}
	s.proposeFromLocked(Change{Type: typ, Name: a.name, Room: roomName(r), Target: t.name, Text: reason, At: now.UnixNano(), Until: until})
	return nil
}

func (s *Session) cmdUnban(arg string) error {
	return s.liftLocked(arg, actUnban, ChangeUnban, s.lobby.order.bans, "ban")
}

func (s *Session) cmdUnmute(arg string) error {
	return s.liftLocked(arg, actUnmute, ChangeUnmute, s.lobby.order.mutes, "mute")
}

// liftLocked carries out /unban NAME and /unmute NAME.
func (s *Session) liftLocked(arg string, act action, typ ChangeType, set restrictions, noun string) error {
	l := s.lobby
	a, r, ok := s.moderatorLocked(act)
	if !ok {
		return nil
	}
	word, rest := cutWord(arg)
	if word == "" || rest != "" {
		return s.refuse(fmt.Sprintf("Usage: /%s NAME", act.cmd))
	}
	name, why := nameArg(word)
	if why != "" {
		return s.refuse(why)
	}
	_, x := set.find(r, name)
	if x == nil || !x.activeAt(l.cfg.Now().UnixNano()) {
		return s.refuse(notRestrictedText(name, noun, r))
	}
	s.proposeFromLocked(Change{Type: typ, Name: a.name, Room: roomName(r), Target: x.Name})
	return nil
}

func (s *Session) cmdBans(string) error {
	l := s.lobby
	a, r, ok := s.moderatorLocked(actBans)
	if !ok {
		return nil
	}
	now := l.cfg.Now().UnixNano()
	scope := r
	var b strings.Builder
	for _, part := range []struct {
		set  restrictions
		head string
	}{{l.order.bans, "Banned"}, {l.order.mutes, "Muted"}} {
		first := true
		for _, x := range part.set[scope] {
			if !x.activeAt(now) {
				continue
			}
			if first {
				if b.Len() > 0 {
					b.WriteString("\n")
				}
				where := "from the server:"
				if r != nil {
					where = "in " + r.name + ":"
				} else if part.head == "Muted" {
					where = "everywhere:"
				}
				fmt.Fprintf(&b, "%s %s", part.head, where)
				first = false
			}
			b.WriteString("\n  " + x.describe(a.operator))
		}
	}
	if b.Len() == 0 {
		if r == nil {
			return s.refuseNot("Nobody is banned from the server, and nobody is muted everywhere.")
		}
		return s.refuseNot(fmt.Sprintf("Nobody is banned or muted in %s.", r.name))
	}
	l.noticeLocked(s, false, "%s", b.String())
	return nil
}

// refuseNot answers s with a plain notice (not a refusal).
func (s *Session) refuseNot(text string) error {
	s.lobby.noticeLocked(s, false, "%s", text)
	return nil
}

// describe is one line of /bans. Addresses are shown only to server
// operators.
func (x *restriction) describe(showAddr bool) string {
	var b strings.Builder
	b.WriteString(x.Name)
	if x.Registered {
		b.WriteString(" " + RegisteredMark)
	}
	var held []string
	for _, k := range x.Keys {
		held = append(held, "key "+ShortFingerprint(k))
	}
	if x.Addr != "" {
		if showAddr {
			held = append(held, "address "+x.Addr)
		} else {
			held = append(held, "a guest's address")
		}
	}
	if len(held) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(held, ", "))
	}
	fmt.Fprintf(&b, " by %s, %s", x.By, untilText(unixTime(x.Until)))
	b.WriteString(reasonText(x.Reason))
	return b.String()
}

func (s *Session) cmdOp(arg string) error    { return s.roleLocked(arg, actOp, giveOp) }
func (s *Session) cmdDeop(arg string) error  { return s.roleLocked(arg, actOp, takeOp) }
func (s *Session) cmdOwner(arg string) error { return s.roleLocked(arg, actOwner, giveOwner) }

// roleLocked carries out /op, /deop and /owner NAME.
func (s *Session) roleLocked(arg string, act action, what string) error {
	a, r, ok := s.moderatorLocked(act)
	if !ok {
		return nil
	}
	word, rest := cutWord(arg)
	if word == "" || rest != "" {
		return s.refuse(fmt.Sprintf("Usage: /%s NAME", what))
	}
	name, why := nameArg(word)
	if why != "" {
		return s.refuse(why)
	}
	name, why = s.lobby.roleChangeLocked(r, what, name)
	if why != "" {
		return s.refuse(why)
	}
	s.proposeFromLocked(Change{Type: ChangeRole, Name: a.name, Room: r.name, Target: name, Text: what})
	return nil
}

func (s *Session) cmdInvite(arg string) error {
	a, r, ok := s.moderatorLocked(actInvite)
	if !ok {
		return nil
	}
	word, rest := cutWord(arg)
	if word == "" || rest != "" {
		return s.refuse("Usage: /invite NAME")
	}
	name, why := nameArg(word)
	if why != "" {
		return s.refuse(why)
	}
	t, why := s.lobby.inviteTargetLocked(r, name)
	if why != "" {
		return s.refuse(why)
	}
	s.proposeFromLocked(Change{Type: ChangeInvite, Name: a.name, Room: r.name, Target: t.name})
	return nil
}

// onOff reads "on" or "off".
func onOff(word string) (on, ok bool) {
	switch strings.ToLower(word) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

func (s *Session) cmdPrivate(arg string) error {
	a, r, ok := s.moderatorLocked(actPrivate)
	if !ok {
		return nil
	}
	on, ok := onOff(arg)
	if !ok {
		return s.refuse("Usage: /private on|off")
	}
	if why := modeRefusal(r, modePrivate, on, false); why != "" {
		return s.refuse(why)
	}
	s.proposeFromLocked(Change{Type: ChangeMode, Name: a.name, Room: r.name, Target: modePrivate, Flag: on})
	return nil
}

func (s *Session) cmdMode(arg string) error {
	a, r, ok := s.moderatorLocked(actMode)
	if !ok {
		return nil
	}
	mode, rest := cutWord(arg)
	on, ok := onOff(rest)
	if !ok || !strings.EqualFold(mode, modeRegistered) {
		return s.refuse("Usage: /mode registered on|off (only registered names may speak: a guard against raids)")
	}
	if why := modeRefusal(r, modeRegistered, on, s.lobby.order.registeredOnly); why != "" {
		return s.refuse(why)
	}
	s.proposeFromLocked(Change{Type: ChangeMode, Name: a.name, Room: roomName(r), Target: modeRegistered, Flag: on})
	return nil
}

func (s *Session) cmdAnnounce(arg string) error {
	a, _, ok := s.moderatorLocked(actAnnounce)
	if !ok {
		return nil
	}
	text := strings.TrimSpace(CleanText(arg))
	if !visible(text) {
		return s.refuse("Usage: /announce TEXT")
	}
	if n := utf8.RuneCountInString(text); n > MaxMessageLen {
		return s.refuse(fmt.Sprintf("That announcement is %d characters long; the limit is %d. It was not sent.", n, MaxMessageLen))
	}
	s.proposeFromLocked(Change{Type: ChangeAnnounce, Name: a.name, Text: text})
	return nil
}

// createArg reads /create's argument: NAME, or NAME private.
func createArg(arg string) (name string, private bool) {
	if i := strings.LastIndexFunc(arg, unicode.IsSpace); i >= 0 && strings.EqualFold(strings.TrimSpace(arg[i:]), modePrivate) {
		return strings.TrimSpace(arg[:i]), true
	}
	return arg, false
}

// privateCreateRefusalLocked is why m may not create a private room, or "".
// A private room needs someone to invite people in: its owner, the
// registered name that creates it. l.mu must be held.
func (l *Lobby) privateCreateRefusalLocked(m *member) string {
	if m.operator || l.heldNameLocked(m) != "" {
		return ""
	}
	return "Only a registered name can create a private room, since its owner is the one who invites people in. /register holds your name for your SSH key."
}

// existsTextLocked answers a /create of a name that a room r has already
// (asked is the name as typed). A room the session may not see is not
// named: it answers as if for a name that cannot be used. l.mu must be held.
func (s *Session) existsTextLocked(r *room, asked string) string {
	l := s.lobby
	if !l.maySeeLocked(l.members[s.id], r) {
		return fmt.Sprintf("The name %s cannot be used for a room: pick another.", asked)
	}
	return fmt.Sprintf("A room named %s already exists; join it with /join %s.\n%s", r.name, r.name, listText(s.roomsLocked()))
}

// joinBanLocked is why m may not join r at the time at (Unix
// nanoseconds), "" when no ban holds it. l.mu must be held.
func (l *Lobby) joinBanLocked(m *member, r *room, at int64) string {
	if x := l.order.bans.holding(m, l.heldNameLocked(m), r, at); x != nil && !m.operator {
		return Sentence(x.bannedError().Error())
	}
	return ""
}
