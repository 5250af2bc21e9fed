package lobby

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Talking: what people type without thinking in every chat (issue 13).
// Shared state changes through the log like everything else: a change of
// name (ChangeNick), away status (ChangeAway), a room's topic (ChangeTopic)
// and an edit or deletion of a line (ChangeEdit), and the settings of a
// registered name (ChangeSetting: /tz, /bell, /joins, /ignore). What one
// user chose to see (prefs) filters what is delivered to them, never what
// is stored. Reads of the store (/search, /goto) happen outside the lobby's
// lock, as Older does.

// Limits on what users may set.
const (
	// MaxTopicLen is the longest topic, in characters.
	MaxTopicLen = 300
	// MaxAwayLen is the longest away message, in characters.
	MaxAwayLen = 200
	// MaxIgnores is how many names one user may ignore.
	MaxIgnores = 100
	// EditLines and EditAge bound /edit and /delete: your last line of
	// the room, if it is among the room's last EditLines lines and no
	// older than EditAge.
	EditLines = 100
	EditAge   = 24 * time.Hour
)

// The settings talking keeps for a user (Session.Setting).
const (
	// SettingTZ is the zone times are shown in (/tz), "" for the default.
	SettingTZ = "tz"
	// SettingBell is "off" when the user silenced the bell (/bell off).
	SettingBell = "bell"
	// SettingJoins is "talkers" or "none" (/joins); "" shows every join.
	SettingJoins = "joins"
	// SettingIgnore lists the names the user ignores, space separated.
	SettingIgnore = "ignore"
)

const (
	searchWords   = 8  // words one search may hold
	searchWordLen = 64 // characters of one word
	searchResults = 20 // results one search shows
	gotoBefore    = 10 // lines /goto shows before the line it opens
	gotoAfter     = 10 // and after it
	talkerWindow  = time.Hour
	ownLines      = 10  // lines per room a session remembers it said
	whoMost       = 200 // names /who lists; the rest are counted
	spokeMost     = 256 // names a room remembers as talkers before pruning
)

// ---- what a user chose to see ----

type joinsMode uint8

const (
	joinsAll joinsMode = iota
	joinsTalkers
	joinsNone
)

// prefs is what a user chose to see, read from their settings. A prefs
// value is never changed in place (a new one replaces it), so a copy taken
// under the lock may be used outside it.
type prefs struct {
	joins  joinsMode
	ignore map[string]string // by userKey: the name as the user typed it
}

// lineFacts is what delivering one line to many sessions needs to know of
// it, each fact worked out once, when first asked for.
type lineFacts struct {
	msg    *Message
	r      *room // for talkedLocked; nil for a line out of history
	key    string
	talked int8 // 0 not known yet, 1 yes, -1 no
	spoke  map[string]int64
}

func (f *lineFacts) fromKey() string {
	if f.key == "" {
		f.key = userKey(f.msg.From)
	}
	return f.key
}

// hasTalked reports whether the line's author said something in its room
// in the hour before it.
func (f *lineFacts) hasTalked() bool {
	if f.talked == 0 {
		var at int64
		if f.r != nil {
			at = f.r.spoke[f.msg.From]
		} else {
			at = f.spoke[f.msg.From]
		}
		f.talked = -1
		if at != 0 && at >= f.msg.At.UnixNano()-int64(talkerWindow) {
			f.talked = 1
		}
	}
	return f.talked > 0
}

// hides reports whether the user called me chose not to see the line:
// lines and joins of someone they ignore, and joins and leaves (/joins).
// A user always sees their own.
func (v *prefs) hides(me string, f *lineFacts) bool {
	m := f.msg
	if m.From == me || !(m.Said() || m.Presence) {
		return false
	}
	if len(v.ignore) > 0 {
		if _, ok := v.ignore[f.fromKey()]; ok {
			return true
		}
	}
	if m.Presence {
		switch v.joins {
		case joinsNone:
			return true
		case joinsTalkers:
			return !f.hasTalked()
		}
	}
	return false
}

// filter leaves out of lines, oldest first, those hides hides, in place.
func (v *prefs) filter(me string, lines []Message) []Message {
	if len(v.ignore) == 0 && v.joins == joinsAll {
		return lines
	}
	spoke := make(map[string]int64)
	out := lines[:0]
	for i := range lines {
		m := lines[i]
		f := lineFacts{msg: &m, spoke: spoke}
		if v.hides(me, &f) {
			continue
		}
		if m.Said() {
			spoke[m.From] = m.At.UnixNano()
		}
		out = append(out, m)
	}
	clear(lines[len(out):])
	return out
}

// noteSpokeLocked records that name said something at at (Unix ns), for
// /joins talkers. l.mu must be held.
func (r *room) noteSpokeLocked(name string, at int64) {
	if r.spoke == nil {
		r.spoke = make(map[string]int64)
	}
	if len(r.spoke) >= spokeMost {
		for n, t := range r.spoke {
			if t < at-int64(talkerWindow) {
				delete(r.spoke, n)
			}
		}
	}
	r.spoke[name] = max(r.spoke[name], at)
}

// loadPrefsLocked reads the user's settings into what filters their lines
// and the zone their times are shown in. It runs whenever the settings
// that apply may have changed: a name given or changed, a setting set, a
// name registered or let go. l.mu must be held.
func (s *Session) loadPrefsLocked() {
	var v prefs
	switch j, _ := s.settingLocked(SettingJoins); j {
	case "talkers":
		v.joins = joinsTalkers
	case "none":
		v.joins = joinsNone
	}
	if list, _ := s.settingLocked(SettingIgnore); list != "" {
		v.ignore = make(map[string]string)
		for _, name := range strings.Fields(list) {
			v.ignore[userKey(name)] = name
		}
	}
	s.view = v
	loc := s.defaultTZ
	if tz, _ := s.settingLocked(SettingTZ); tz != "" {
		if z, err := loadZone(tz); err == nil {
			loc = z
		}
	}
	if loc == nil {
		loc = time.Local
	}
	s.loc.Store(loc)
}

// settingsChangedLocked has the session of the registered name name, if it
// is on this node, read its settings again. l.mu must be held.
func (l *Lobby) settingsChangedLocked(name string) {
	if m, ok := l.names.find(name); ok && m.sess != nil {
		m.sess.loadPrefsLocked()
	}
}

// Location is the zone the session's user sees times in: the one they set
// with /tz, else the TZ their SSH client sent, else the server's. It may be
// called from any goroutine.
func (s *Session) Location() *time.Location {
	if loc := s.loc.Load(); loc != nil {
		return loc
	}
	return time.Local
}

// Bell reports whether the user wants the terminal bell (on mentions and
// direct messages): yes unless they said /bell off.
func (s *Session) Bell() bool {
	v, _ := s.Setting(SettingBell)
	return v != "off"
}

// ignoresLocked reports whether who chose not to see what name says (its
// lines, its direct messages). l.mu must be held.
func (l *Lobby) ignoresLocked(who *member, name string) bool {
	if s := who.sess; s != nil {
		_, ok := s.view.ignore[userKey(name)]
		return ok
	}
	// On another node: a guest's settings live there, a registered name's
	// are here too.
	if r, _ := l.regs.find(who.name); r != nil && r.hasKey(who.fp) {
		for _, n := range strings.Fields(r.settings[SettingIgnore]) {
			if userKey(n) == userKey(name) {
				return true
			}
		}
	}
	return false
}

// awayLocked is m's away message and whether m is away, for whoever
// messages m. l.mu must be held.
func (l *Lobby) awayLocked(m *member) (string, bool) {
	return m.awayMsg, m.away
}

// whoMarksLocked is what /who says of m besides its name: its roles. l.mu
// must be held.
func (l *Lobby) whoMarksLocked(m *member, r *room) []string {
	var marks []string
	if m.operator {
		marks = append(marks, "server operator")
	}
	if r != nil {
		if role := l.roomMarkLocked(m, r); role != "" {
			marks = append(marks, role)
		}
	}
	return marks
}

// registeredLocked reports whether m's name is registered and held by its
// key. l.mu must be held.
func (l *Lobby) registeredLocked(m *member) bool {
	r, _ := l.regs.find(m.name)
	return r != nil && r.hasKey(m.fp)
}

// ---- zones ----

// zoneName is what a zone name may look like: the tz database's Area/City
// names and the like ("UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires").
// Nothing else reaches time.LoadLocation, which reads files.
var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$`)

const maxZoneName = 64

// loadZone finds the zone name names in the time zone database.
func loadZone(name string) (*time.Location, error) {
	if len(name) > maxZoneName || !zoneName.MatchString(name) || name == "Local" {
		return nil, fmt.Errorf("%q is not a zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", name, err)
	}
	return loc, nil
}

// clientZone is the zone a client's TZ names, nil when it names none the
// database knows (a POSIX rule such as "EST5EDT,M3.2.0,M11.1.0" included).
func clientZone(tz string) *time.Location {
	tz = strings.TrimPrefix(tz, ":")
	if tz == "" {
		return nil
	}
	loc, err := loadZone(tz)
	if err != nil {
		return nil
	}
	return loc
}

// zoneNow describes loc as a user reads it: its name and the offset now.
func zoneNow(loc *time.Location, now time.Time) string {
	name := loc.String()
	if loc == time.Local {
		name = "the server's"
	}
	return fmt.Sprintf("%s (%s)", name, now.In(loc).Format("MST, UTC-07:00"))
}

// ---- commands ----

func (s *Session) me() *member { return s.lobby.members[s.id] }

func (s *Session) cmdMe(arg string) error {
	l := s.lobby
	r := s.roomLocked()
	switch {
	case r == nil:
		l.noticeLocked(s, true, "You are in the Lobby, where there is no chat: /me works in a room.")
		return nil
	case arg == "":
		l.noticeLocked(s, true, "Usage: /me ACTION, such as /me waves: the room reads * %s waves", s.name)
		return nil
	}
	if why := l.speakRefusalLocked(s.me(), r, l.cfg.Now().UnixNano()); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	text, ok := s.chatTextLocked(arg)
	if ok {
		s.proposeFromLocked(Change{Type: ChangeSay, Room: r.name, Text: text, Flag: true})
	}
	return nil
}

// chatTextLocked cleans a line the user wants said and checks it, telling
// them why when it cannot be said. l.mu must be held.
func (s *Session) chatTextLocked(text string) (string, bool) {
	l := s.lobby
	text = CleanLines(text)
	if !visible(text) {
		l.noticeLocked(s, true, "%s", invisibleNotice)
		return "", false
	}
	if n := utf8.RuneCountInString(text); n > MaxMessageLen {
		l.noticeLocked(s, true, "That message is %d characters long; the limit is %d. It was not sent.", n, MaxMessageLen)
		return "", false
	}
	if n := strings.Count(text, "\n") + 1; n > MaxLines {
		l.noticeLocked(s, true, "That message has %d lines; the limit is %d. It was not sent.", n, MaxLines)
		return "", false
	}
	return text, true
}

// rememberLocked notes that the session said line seq in r, so that it may
// edit it. l.mu must be held.
func (s *Session) rememberLocked(r *room, seq uint64) {
	if s.said == nil {
		s.said = make(map[string][]uint64)
	}
	k := foldKey(r.name)
	own := append(s.said[k], seq)
	if len(own) > ownLines {
		own = slices.Clone(own[len(own)-ownLines:])
	}
	s.said[k] = own
}

func (s *Session) cmdWho(arg string) error {
	l := s.lobby
	me := s.me()
	if me == nil {
		return nil
	}
	r := me.room
	if arg != "" {
		found, ok := l.rooms[foldKey(CleanText(arg))]
		switch {
		case ok && l.maySeeLocked(me, found):
			r = found
		case strings.EqualFold(arg, "lobby"):
			r = nil
		default:
			l.noticeLocked(s, true, "There is no room named %s. /list shows the rooms.", echo(arg))
			return nil
		}
	}
	var who []*member
	if r == nil {
		for _, m := range l.members {
			if m.name != "" && m.room == nil {
				who = append(who, m)
			}
		}
	} else {
		for m := range r.members {
			if m.name != "" {
				who = append(who, m)
			}
		}
	}
	slices.SortFunc(who, func(a, b *member) int {
		return cmp.Or(cmp.Compare(foldKey(a.name), foldKey(b.name)), cmp.Compare(a.name, b.name))
	})
	where := "the Lobby"
	if r != nil {
		where = r.name
	}
	var b strings.Builder
	switch len(who) {
	case 0:
		fmt.Fprintf(&b, "Nobody is in %s.", where)
	case 1:
		fmt.Fprintf(&b, "In %s, 1 person:", where)
	default:
		fmt.Fprintf(&b, "In %s, %d people:", where, len(who))
	}
	now := l.cfg.Now().UnixNano()
	for i, m := range who {
		if i == whoMost {
			fmt.Fprintf(&b, "\n  and %d more", len(who)-whoMost)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(m.name)
		if l.registeredLocked(m) {
			b.WriteString(" " + RegisteredMark)
		}
		for _, mark := range l.whoMarksLocked(m, r) {
			b.WriteString(" (" + mark + ")")
		}
		switch {
		case m.name == s.name:
			b.WriteString(" (you)")
		case l.ignoresLocked(me, m.name):
			b.WriteString(" (ignored)")
		}
		b.WriteString(" · " + idleText(time.Duration(now-max(m.active, m.since))))
		if msg, away := l.awayLocked(m); away {
			b.WriteString(" · away")
			if msg != "" {
				b.WriteString(": " + msg)
			}
		}
	}
	l.noticeLocked(s, false, "%s", b.String())
	return nil
}

// idleText says how long someone has done nothing, roughly.
func idleText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "active"
	case d < time.Hour:
		return fmt.Sprintf("idle %dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("idle %dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("idle %dd", int(d/(24*time.Hour)))
}

func (s *Session) cmdAway(arg string) error {
	l := s.lobby
	msg := strings.Join(strings.Fields(CleanText(arg)), " ")
	if n := utf8.RuneCountInString(msg); n > MaxAwayLen {
		l.noticeLocked(s, true, "An away message is at most %d characters; that one has %d. You were not marked away.", MaxAwayLen, n)
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeAway, Name: s.name, Text: msg, Flag: true})
	return nil
}

func (s *Session) cmdBack(string) error {
	l := s.lobby
	if m := s.me(); m == nil || !m.away {
		l.noticeLocked(s, true, "You are not marked away. /away [MESSAGE] marks you away.")
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeAway, Name: s.name})
	return nil
}

func (l *Lobby) applyAway(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	if !c.Flag && !m.away {
		return nil // back twice
	}
	m.away, m.awayMsg, m.awayAt = c.Flag, c.Text, c.At
	if !c.Flag {
		m.awayMsg, m.awayAt = "", 0
	}
	l.saveMemberLocked(m)
	switch {
	case !c.Flag:
		l.tellLocked(s, false, "Welcome back: you are no longer marked away.")
	case c.Text == "":
		l.tellLocked(s, false, "You are marked away. /back when you return.")
	default:
		l.tellLocked(s, false, "You are marked away: %s. /back when you return.", c.Text)
	}
	return nil
}

func (s *Session) cmdNick(arg string) error {
	l := s.lobby
	m := s.me()
	if m == nil {
		return nil
	}
	if arg == "" {
		l.noticeLocked(s, true, "Usage: /nick NEW, such as /nick %s_", s.name)
		return nil
	}
	name, ok := validName(arg, MaxNameLen)
	if !ok {
		l.noticeLocked(s, true, "%s", Sentence(ErrNameInvalid.Error()))
		return nil
	}
	if name == m.name {
		l.noticeLocked(s, true, "You are called %s already.", name)
		return nil
	}
	// Refused here when it is plain already; the log decides the rest.
	if _, err := l.takeableLocked(m, name); err != nil {
		l.noticeLocked(s, true, "%s", Sentence(err.Error()))
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeNick, Name: m.name, Target: name})
	return nil
}

func (l *Lobby) applyNick(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	name, err := l.takeableLocked(m, c.Target)
	if err != nil {
		l.tellLocked(s, true, "%s", Sentence(err.Error()))
		return nil
	}
	if name == m.name {
		return nil
	}
	old := m.name
	l.names.remove(old, m)
	m.name = name
	l.names.add(name, m)
	l.renamedLocked(m, old) // its read positions and conversations
	l.saveMemberLocked(m)
	if s != nil {
		s.name = name
		s.loadPrefsLocked() // a registered name brings its own settings
		l.deliverLocked(s, Event{Kind: EventNamed, Text: name})
	}
	if r := m.room; r != nil && r.conv == nil {
		if at, ok := r.spoke[old]; ok {
			r.noteSpokeLocked(name, at) // still a talker for /joins
		}
		l.postLocked(r, KindSystem, name, fmt.Sprintf("%s is now %s", old, name), c)
	}
	l.changedLocked()
	return nil
}

func (s *Session) cmdTopic(arg string) error {
	l := s.lobby
	r := s.roomLocked()
	if r == nil {
		l.noticeLocked(s, true, "You are in the Lobby, which has no topic: /topic works in a room.")
		return nil
	}
	if arg == "" {
		if r.meta.Topic == "" {
			l.noticeLocked(s, false, "%s has no topic. /topic TEXT sets one.", r.name)
			return nil
		}
		at := time.Unix(0, r.meta.TopicAt).In(s.Location()).Format("2006-01-02 15:04")
		l.noticeLocked(s, false, "Topic of %s: %s\n(set by %s, %s)", r.name, r.meta.Topic, r.meta.TopicBy, at)
		return nil
	}
	topic := ""
	if arg != "-" {
		topic = strings.Join(strings.Fields(CleanText(arg)), " ")
		if !visible(topic) {
			l.noticeLocked(s, true, "That topic has nothing visible in it, so it was not set. /topic - clears the topic.")
			return nil
		}
		if n := utf8.RuneCountInString(topic); n > MaxTopicLen {
			l.noticeLocked(s, true, "A topic is at most %d characters; that one has %d. It was not set.", MaxTopicLen, n)
			return nil
		}
	}
	switch {
	case topic == "" && r.meta.Topic == "":
		l.noticeLocked(s, true, "%s has no topic to clear.", r.name)
		return nil
	case topic == r.meta.Topic:
		l.noticeLocked(s, true, "That is the topic of %s already.", r.name)
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeTopic, Room: r.name, Name: s.name, Text: topic})
	return nil
}

func (l *Lobby) applyTopic(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	r := m.room
	if r == nil || foldKey(r.name) != foldKey(c.Room) {
		l.tellLocked(s, true, "You are no longer in %s, so its topic was not changed.", c.Room)
		return nil
	}
	r.meta.Topic, r.meta.TopicBy, r.meta.TopicAt = c.Text, m.name, c.At
	if c.Text == "" {
		r.meta.TopicBy, r.meta.TopicAt = "", 0
	}
	l.saveRoomLocked(r)
	for ls := range r.locals {
		l.deliverLocked(ls, Event{Kind: EventTopic, Room: r.name, Topic: c.Text})
	}
	if c.Text == "" {
		l.postLocked(r, KindSystem, m.name, fmt.Sprintf("%s cleared the topic", m.name), c)
	} else {
		l.postLocked(r, KindSystem, m.name, fmt.Sprintf("%s set the topic: %s", m.name, c.Text), c)
	}
	return nil
}

// Topic is the topic of the named room, "" when it has none or there is no
// such room.
func (l *Lobby) Topic(roomName string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.rooms[foldKey(roomName)]; ok {
		return r.meta.Topic
	}
	return ""
}

// ---- edit and delete ----

// editWindow is how /edit and /delete describe what they act on.
var editWindow = fmt.Sprintf("your last line in this room, if it is among the room's last %d lines and less than %d hours old", EditLines, int(EditAge/time.Hour))

// ownLastLocked finds the line /edit and /delete act on: the session's
// last line in r, if recent enough. A line by the session's name counts as
// its own when the name is registered to its key, or when this session
// said it (another may have had the name before). l.mu must be held.
func (s *Session) ownLastLocked(r *room) (*Message, string) {
	l := s.lobby
	m := s.me()
	l.loadLocked(r)
	registered := m != nil && l.registeredLocked(m)
	now := l.cfg.Now()
	for i := len(r.recent) - 1; i >= 0; i-- {
		line := &r.recent[i]
		if !editable(r, line, s.name, now) {
			if line.Seq+EditLines <= r.seq || now.Sub(line.At) > EditAge {
				break
			}
			continue
		}
		if registered || slices.Contains(s.said[foldKey(r.name)], line.Seq) {
			return line, ""
		}
		return nil, fmt.Sprintf("The last line by %s in %s was said before this session had the name, so it is not yours to change.", s.name, r.name)
	}
	return nil, fmt.Sprintf("You have no line to change: /edit and /delete act on %s.", editWindow)
}

// editable reports whether line of r may be edited by the user called
// name at now: what every node checks alike when the edit is applied.
func editable(r *room, line *Message, name string, now time.Time) bool {
	return line.Said() && !line.Deleted && line.From == name &&
		line.Seq+EditLines > r.seq && now.Sub(line.At) <= EditAge
}

// LastOwn is the text of the session's last line in its room that /edit
// would replace, "" when there is none: what Up on an empty input puts
// back to change.
func (s *Session) LastOwn() string {
	l := s.lobby
	l.mu.Lock()
	defer l.mu.Unlock()
	r := s.roomLocked()
	if r == nil {
		return ""
	}
	if line, _ := s.ownLastLocked(r); line != nil {
		return line.Text
	}
	return ""
}

func (s *Session) cmdEdit(arg string) error {
	l := s.lobby
	r := s.roomLocked()
	if r == nil {
		l.noticeLocked(s, true, "You are in the Lobby, where there is no chat: /edit works in a room.")
		return nil
	}
	if strings.TrimSpace(arg) == "" {
		l.noticeLocked(s, true, "Usage: /edit TEXT replaces %s; /delete removes it. Up on an empty input brings it back to change.", editWindow)
		return nil
	}
	line, why := s.ownLastLocked(r)
	if line == nil {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	// An edit says something: a mute holds it (a deletion it does not).
	if why := l.speakRefusalLocked(s.me(), r, l.cfg.Now().UnixNano()); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	text, ok := s.chatTextLocked(arg)
	if !ok {
		return nil
	}
	if text == line.Text {
		l.noticeLocked(s, true, "Your line says that already.")
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeEdit, Room: r.name, Seq: line.Seq, Name: s.name, Text: text})
	return nil
}

func (s *Session) cmdDelete(arg string) error {
	l := s.lobby
	r := s.roomLocked()
	if r == nil {
		l.noticeLocked(s, true, "You are in the Lobby, where there is no chat: /delete works in a room.")
		return nil
	}
	if arg != "" {
		l.noticeLocked(s, true, "/delete removes %s; it takes nothing after it.", editWindow)
		return nil
	}
	line, why := s.ownLastLocked(r)
	if line == nil {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeEdit, Room: r.name, Seq: line.Seq, Name: s.name, Flag: true})
	return nil
}

func (l *Lobby) applyEdit(c *Change) error {
	m, s, ok := l.proposerLocked(c)
	if !ok {
		return nil
	}
	r, ok := l.rooms[foldKey(c.Room)]
	if !ok {
		return nil
	}
	l.loadLocked(r)
	i, found := slices.BinarySearchFunc(r.recent, c.Seq, compareSeq)
	if !found || !editable(r, &r.recent[i], m.name, c.Time()) {
		l.tellLocked(s, true, "That line can no longer be changed: /edit and /delete act on %s.", editWindow)
		return nil
	}
	if !c.Flag {
		if why := l.speakRefusalLocked(m, r, c.At); why != "" {
			l.tellLocked(s, true, "%s", why) // muted since
			return nil
		}
	}
	line := r.recent[i] // a new value: the old one may be in events still being read
	line.Edited = c.Time()
	if c.Flag {
		line.Text, line.Deleted = "", true
	} else {
		line.Text = c.Text
	}
	r.recent[i] = line
	l.writes.Edits = append(l.writes.Edits, line)
	shared := &line
	facts := lineFacts{msg: shared, r: r}
	for ls := range r.locals {
		if !ls.view.hides(ls.name, &facts) {
			l.deliverLocked(ls, Event{Kind: EventEdited, Msg: shared})
		}
	}
	return nil
}

// ---- settings ----

// setLocked sets one of the user's settings and tells them how it went:
// done (what), or why not. l.mu must be held.
func (s *Session) setLocked(key, value, done string) {
	l := s.lobby
	if _, err := s.setSettingLocked(key, value); err != nil {
		l.noticeLocked(s, true, "That could not be kept: %s", Sentence(err.Error()))
		return
	}
	if s.registrationLocked() == nil {
		done += " (Kept while you are connected: /register keeps your settings for your name.)"
	}
	l.noticeLocked(s, false, "%s", done)
}

func (s *Session) cmdIgnore(arg string) error {
	l := s.lobby
	list := slices.Collect(func(yield func(string) bool) {
		for _, n := range s.view.ignore {
			if !yield(n) {
				return
			}
		}
	})
	slices.SortFunc(list, func(a, b string) int { return cmp.Compare(foldKey(a), foldKey(b)) })
	if arg == "" {
		if len(list) == 0 {
			l.noticeLocked(s, false, "You ignore nobody. /ignore NAME hides NAME's lines and messages from you.")
		} else {
			l.noticeLocked(s, false, "You ignore %s. /unignore NAME undoes it.", strings.Join(list, ", "))
		}
		return nil
	}
	name, ok := validName(arg, MaxNameLen)
	switch {
	case !ok:
		l.noticeLocked(s, true, "Nobody is called %s: that is not a valid name.", echo(arg))
		return nil
	case userKey(name) == userKey(s.name):
		l.noticeLocked(s, true, "You cannot ignore yourself.")
		return nil
	}
	if had, ok := s.view.ignore[userKey(name)]; ok {
		l.noticeLocked(s, true, "You ignore %s already. /unignore %s undoes it.", had, had)
		return nil
	}
	if len(list) >= MaxIgnores {
		l.noticeLocked(s, true, "You ignore %d names, the most you may. /unignore one first.", MaxIgnores)
		return nil
	}
	s.setLocked(SettingIgnore, strings.Join(append(list, name), " "),
		fmt.Sprintf("You no longer see lines or messages from %s. /unignore %s undoes it.", name, name))
	return nil
}

func (s *Session) cmdUnignore(arg string) error {
	l := s.lobby
	if arg == "" {
		l.noticeLocked(s, true, "Usage: /unignore NAME. /ignore lists whom you ignore.")
		return nil
	}
	key := userKey(CleanText(arg))
	had, ok := s.view.ignore[key]
	if !ok {
		l.noticeLocked(s, true, "You do not ignore %s. /ignore lists whom you ignore.", echo(arg))
		return nil
	}
	var rest []string
	for k, n := range s.view.ignore {
		if k != key {
			rest = append(rest, n)
		}
	}
	slices.SortFunc(rest, func(a, b string) int { return cmp.Compare(foldKey(a), foldKey(b)) })
	s.setLocked(SettingIgnore, strings.Join(rest, " "), fmt.Sprintf("You see lines and messages from %s again.", had))
	return nil
}

func (s *Session) cmdBell(arg string) error {
	l := s.lobby
	on, _ := s.settingLocked(SettingBell)
	switch strings.ToLower(arg) {
	case "":
		if on == "off" {
			l.noticeLocked(s, false, "The bell is off. /bell on rings it on mentions and direct messages.")
		} else {
			l.noticeLocked(s, false, "The bell is on: it rings on mentions and direct messages. /bell off silences it.")
		}
	case "on":
		s.setLocked(SettingBell, "", "The bell is on: it rings on mentions and direct messages.")
	case "off":
		s.setLocked(SettingBell, "off", "The bell is off.")
	default:
		l.noticeLocked(s, true, "Usage: /bell on|off")
	}
	return nil
}

func (s *Session) cmdJoins(arg string) error {
	l := s.lobby
	switch strings.ToLower(arg) {
	case "":
		now := map[joinsMode]string{
			joinsAll:     "every join and leave line (/joins all)",
			joinsTalkers: "the join and leave lines of people who spoke in the last hour (/joins talkers)",
			joinsNone:    "no join and leave lines (/joins none)",
		}[s.view.joins]
		l.noticeLocked(s, false, "You see %s. /joins all|talkers|none changes it: talkers shows them only for people who spoke in the room in the last hour.", now)
	case "all":
		s.setLocked(SettingJoins, "", "You see every join and leave line.")
	case "talkers":
		s.setLocked(SettingJoins, "talkers", "You see join and leave lines only for people who spoke in the room in the last hour.")
	case "none":
		s.setLocked(SettingJoins, "none", "You see no join and leave lines (but your own).")
	default:
		l.noticeLocked(s, true, "Usage: /joins all|talkers|none")
	}
	return nil
}

func (s *Session) cmdTz(arg string) error {
	l := s.lobby
	now := l.cfg.Now()
	switch {
	case arg == "":
		set, _ := s.settingLocked(SettingTZ)
		why := "the server's"
		switch {
		case set != "":
			why = "you set it"
		case s.defaultTZ != nil:
			why = "your SSH client sent TZ"
		}
		l.noticeLocked(s, false, "Times are shown in %s: %s. /tz Area/City (such as /tz Europe/Paris) changes it; /tz default goes back.", zoneNow(s.Location(), now), why)
	case strings.EqualFold(arg, "default"):
		loc := s.defaultTZ
		if loc == nil {
			loc = time.Local
		}
		s.setLocked(SettingTZ, "", "Times are shown in "+zoneNow(loc, now)+".")
	default:
		loc, err := loadZone(arg)
		if err != nil {
			l.noticeLocked(s, true, "There is no timezone %s. Name one as Area/City, such as Europe/Paris or America/New_York, or UTC.", echo(arg))
			return nil
		}
		s.setLocked(SettingTZ, loc.String(), "Times are shown in "+zoneNow(loc, now)+".")
	}
	return nil
}

// ---- search ----

// searchWordsOf splits what the user typed into words to look for: clean,
// with a letter or digit in each.
func searchWordsOf(arg string) []string {
	var words []string
	for _, w := range strings.Fields(CleanText(arg)) {
		if strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			words = append(words, w)
		}
	}
	return words
}

// searchLocked checks a /search, under the lock, and returns the search
// itself, which reads the store and so runs outside it. l.mu must be held.
func (s *Session) searchLocked(arg string) func(context.Context) {
	l := s.lobby
	m := s.me()
	words := searchWordsOf(arg)
	switch {
	case m == nil:
		return nil
	case len(words) == 0:
		l.noticeLocked(s, true, "Usage: /search WORDS finds the lines holding every word, newest first, in the rooms you can read.")
		return nil
	case len(words) > searchWords:
		l.noticeLocked(s, true, "A search holds at most %d words; that one has %d.", searchWords, len(words))
		return nil
	}
	for _, w := range words {
		if utf8.RuneCountInString(w) > searchWordLen {
			l.noticeLocked(s, true, "A word to search for is at most %d characters.", searchWordLen)
			return nil
		}
	}
	var rooms []string
	for _, r := range l.rooms {
		if l.mayReadLocked(m, r) {
			rooms = append(rooms, r.name)
		}
	}
	slices.Sort(rooms)
	view, me := s.view, s.name
	q := SearchQuery{Words: words, Rooms: rooms, Limit: searchResults}
	if len(view.ignore) > 0 {
		q.Limit *= 2 // some may be left out
	}
	return func(ctx context.Context) {
		hits, err := l.store.Search(ctx, q)
		if err == nil {
			hits = view.filter(me, hits)
			if len(hits) > searchResults {
				hits = hits[:searchResults]
			}
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if s.closed {
			return
		}
		if err != nil {
			l.logger.Error("search", "session", s.id, "err", err)
			l.noticeLocked(s, true, "Search is not available right now; please try again later.")
			return
		}
		s.found = hits
		l.deliverLocked(s, Event{Kind: EventSearch, Text: searchText(words, hits, s.Location()), Results: hits})
	}
}

// searchText is the results of a search as lines.
func searchText(words []string, hits []Message, loc *time.Location) string {
	what := strings.Join(words, " ")
	if len(hits) == 0 {
		return fmt.Sprintf("Nothing found for %q in the rooms you can read.", what)
	}
	var b strings.Builder
	if len(hits) == 1 {
		fmt.Fprintf(&b, "1 line found for %q:", what)
	} else {
		fmt.Fprintf(&b, "%d lines found for %q, newest first:", len(hits), what)
	}
	for i := range hits {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, ResultLine(&hits[i], loc))
	}
	b.WriteString("\n/goto N opens the room at that line.")
	return b.String()
}

// ResultLine is a search result on one line: room, time, author, the start
// of the text.
func ResultLine(m *Message, loc *time.Location) string {
	const most = 100
	text, more := m.Text, false
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text, more = text[:i], true
	}
	if utf8.RuneCountInString(text) > most {
		text, more = string([]rune(text)[:most-1]), true
	}
	if more {
		text += "…"
	}
	who := m.From + ":"
	if m.Kind == KindAction {
		who = "* " + m.From
	}
	return fmt.Sprintf("%s · %s · %s %s", m.Room, m.At.In(loc).Format("2006-01-02 15:04"), who, text)
}

// gotoLocked checks a /goto N and moves the session into the room of
// result N, under the lock, and returns what reads the lines around it,
// outside. l.mu must be held.
func (s *Session) gotoLocked(arg string) func(context.Context) {
	l := s.lobby
	m := s.me()
	if m == nil {
		return nil
	}
	n, err := strconv.Atoi(arg)
	switch {
	case len(s.found) == 0:
		l.noticeLocked(s, true, "/goto N opens result N of your last search: search first, with /search WORDS.")
		return nil
	case err != nil || n < 1 || n > len(s.found):
		l.noticeLocked(s, true, "Usage: /goto N, N from 1 to %d: the results of your last search.", len(s.found))
		return nil
	}
	hit := s.found[n-1]
	r, ok := l.rooms[foldKey(hit.Room)]
	if !ok || !l.mayReadLocked(m, r) {
		l.noticeLocked(s, true, "You cannot open %s any more.", hit.Room)
		return nil
	}
	if m.room != r {
		s.proposeFromLocked(Change{Type: ChangeJoin, Room: r.name})
	}
	view, me := s.view, s.name
	return func(ctx context.Context) {
		l.mu.Lock()
		err := s.waitSettledLocked(ctx) // in the room, or told why not
		l.mu.Unlock()
		if err != nil {
			return
		}
		lines, err := l.store.Before(ctx, r.name, hit.Seq+gotoAfter+1, gotoBefore+gotoAfter+1)
		if err == nil {
			lines = view.filter(me, lines)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case s.closed || s.roomLocked() != r:
			return // the join was refused, and said so
		case err != nil:
			l.logger.Error("goto", "session", s.id, "room", r.name, "err", err)
			l.noticeLocked(s, true, "The history of %s could not be read right now.", r.name)
			return
		}
		l.deliverLocked(s, Event{Kind: EventJump, Room: r.name, Seq: hit.Seq, History: lines})
	}
}

// Older returns up to one page of the history of roomName from before seq
// (see Lobby.Older), as the session's user may read it: nothing from a
// room they may not read (mayReadLocked: a private room's history is only
// for those in it; to anyone else the room does not exist, ErrNoSuchRoom),
// without the lines they chose not to see. "@NAME" is the session's
// conversation with NAME, and nobody else's.
func (s *Session) Older(ctx context.Context, roomName string, seq uint64) (Page, error) {
	l := s.lobby
	l.mu.Lock()
	var r *room
	if strings.HasPrefix(roomName, "@") {
		r = s.convByAliasLocked(roomName)
	} else if rr, ok := l.rooms[foldKey(roomName)]; ok && l.mayReadLocked(s.me(), rr) {
		r = rr
	}
	if r == nil {
		l.mu.Unlock()
		return Page{}, fmt.Errorf("older history of %q: %w", roomName, ErrNoSuchRoom)
	}
	view, me, name := s.view, s.name, r.name
	var msgs []Message
	var err error
	if r.kept() {
		l.mu.Unlock()
		msgs, err = l.older(ctx, name, seq)
	} else {
		// A conversation with a guest is held in memory only, up to
		// twice a page: what is not there is gone.
		end, _ := slices.BinarySearchFunc(r.recent, seq, func(m Message, seq uint64) int { return cmp.Compare(m.Seq, seq) })
		msgs = slices.Clone(r.recent[max(0, end-l.cfg.History):end])
		l.mu.Unlock()
	}
	if err != nil {
		return Page{}, err
	}
	p := Page{Next: seq, Start: len(msgs) < l.cfg.History || (len(msgs) > 0 && msgs[0].Seq <= 1)}
	if len(msgs) > 0 {
		p.Next = msgs[0].Seq
	}
	p.Lines = view.filter(me, msgs)
	return p, nil
}

// Page is one page of older history as a session sees it.
type Page struct {
	Lines []Message // oldest first
	Next  uint64    // the seq to ask Older for the page before this one
	Start bool      // the page reaches the room's first line
}

// completionNames bounds Names: Tab offers the likeliest names, not a
// crowd's whole list.
const completionNames = 500

// Names lists the names Tab completes, likeliest first: the people in the
// session's room who spoke most recently, then the rest of the room, then
// everyone else online, the user's own name last.
func (s *Session) Names() []string {
	l := s.lobby
	l.mu.Lock()
	defer l.mu.Unlock()
	r := s.roomLocked()
	type cand struct {
		name  string
		spoke int64
		here  bool
	}
	var cands []cand
	for _, m := range l.members {
		if m.name == "" || m.name == s.name {
			continue
		}
		c := cand{name: m.name, here: r != nil && m.room == r}
		if c.here {
			c.spoke = r.spoke[m.name]
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.here != b.here:
			if a.here {
				return -1
			}
			return 1
		case a.spoke != b.spoke:
			return cmp.Compare(b.spoke, a.spoke)
		}
		return cmp.Or(cmp.Compare(foldKey(a.name), foldKey(b.name)), cmp.Compare(a.name, b.name))
	})
	out := make([]string, 0, min(len(cands), completionNames)+1)
	for _, c := range cands[:min(len(cands), completionNames)] {
		out = append(out, c.name)
	}
	if s.name != "" {
		out = append(out, s.name)
	}
	return out
}
