package lobby

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command is one entry of the command list, as /commands shows it.
type Command struct {
	Usage string
	Does  string
}

// command is one command: how it is typed and what it does.
type command struct {
	name    string // after the slash, lower case
	aliases []string
	usage   string
	does    string
	// bare commands work without the slash in the Lobby, as the original
	// chatroom's did.
	bare bool
	// order marks the commands of keeping order, which /commands sums up
	// in a line and /commands order lists: most people never need them.
	order bool
	// run carries the command out for s with its argument, under the
	// lobby's lock. It proposes changes, or answers with notices; it
	// returns an error only when the session ended.
	run func(s *Session, arg string) error
	// outside, for a command that reads the store (/search), is run
	// instead of run: it checks the command under the lock and returns
	// what to do next outside it (nil when there is nothing), which takes
	// the lock again to answer.
	outside func(s *Session, arg string) func(context.Context)
	// lines keeps the line breaks of the argument (a pasted block),
	// which every other command sees as spaces.
	lines bool
}

// commandList is the whole command set, in the order /commands lists it.
var commandList = []*command{
	{name: "commands", aliases: []string{"help"}, usage: "/commands [order]", does: "show every command (also /help)", bare: true, run: (*Session).cmdCommands},
	{name: "create", usage: "/create NAME [private]", does: "create a room and move into it; private hides it", bare: true, run: (*Session).cmdCreate},
	{name: "list", usage: "/list", does: "list the rooms and how many are in each", bare: true, run: (*Session).cmdList},
	{name: "join", usage: "/join NAME", does: "join a room, leaving the one you are in", bare: true, run: (*Session).cmdJoin},
	{name: "leave", usage: "/leave", does: "go back to the Lobby", bare: true, run: (*Session).cmdLeave},
	{name: "quit", usage: "/quit", does: "leave the chat", bare: true, run: (*Session).cmdQuit},
	{name: "msg", aliases: []string{"dm"}, usage: "/msg NAME [text]", does: "a direct message to NAME; without text, open your conversation with NAME (also /dm)", run: (*Session).cmdMsg},
	{name: "reply", usage: "/reply text", does: "answer the last direct message you were sent", run: (*Session).cmdReply},
	{name: "register", usage: "/register", does: "hold your name for your SSH key", run: (*Session).cmdRegister},
	{name: "keys", usage: "/keys [add|remove]", does: "your name's SSH keys: list them, add one (a second machine), remove one", run: (*Session).cmdKeys},
	{name: "unregister", usage: "/unregister", does: "let your registered name go", run: (*Session).cmdUnregister},
	{name: "whois", usage: "/whois NAME", does: "whether NAME is registered, and the key in use", run: (*Session).cmdWhois},

	// Talking (talk.go).
	{name: "me", usage: "/me ACTION", does: "an action line: * you ACTION", run: (*Session).cmdMe},
	{name: "who", usage: "/who [ROOM]", does: "who is in your room (or ROOM, or the Lobby), idle or away", run: (*Session).cmdWho},
	{name: "away", usage: "/away [MESSAGE]", does: "mark yourself away, for /who and whoever messages you", run: (*Session).cmdAway},
	{name: "back", usage: "/back", does: "you are back from /away", run: (*Session).cmdBack},
	{name: "nick", usage: "/nick NEW", does: "change your name (your room is told)", run: (*Session).cmdNick},
	{name: "topic", usage: "/topic [TEXT|-]", does: "show the room's topic, set it, or clear it with -", run: (*Session).cmdTopic},
	{name: "edit", usage: "/edit TEXT", does: "replace your last line in the room (Up on an empty input brings it back)", run: (*Session).cmdEdit, lines: true},
	{name: "delete", usage: "/delete", does: "delete your last line in the room", run: (*Session).cmdDelete},
	{name: "search", usage: "/search WORDS", does: "find lines in the rooms you can read, newest first", outside: (*Session).searchLocked},
	{name: "goto", usage: "/goto N", does: "open the room of search result N at that line", outside: (*Session).gotoLocked},
	{name: "ignore", usage: "/ignore [NAME]", does: "hide NAME's lines and messages from you (alone: whom you ignore)", run: (*Session).cmdIgnore},
	{name: "unignore", usage: "/unignore NAME", does: "see NAME's lines again", run: (*Session).cmdUnignore},
	{name: "joins", usage: "/joins all|talkers|none", does: "which join and leave lines you see", run: (*Session).cmdJoins},
	{name: "bell", usage: "/bell on|off", does: "the terminal bell on mentions and direct messages", run: (*Session).cmdBell},
	{name: "tz", usage: "/tz [Area/City]", does: "the timezone your times are shown in", run: (*Session).cmdTz},

	// Keeping order (modcommands.go): for a room's owner, its room
	// operators and server operators; in the Lobby, server operators act
	// on the whole server.
	{name: "kick", usage: "/kick NAME [reason]", does: "send NAME out of this room, back to the Lobby", order: true, run: (*Session).cmdKick},
	{name: "ban", usage: "/ban NAME [DURATION] [reason]", does: "keep NAME's keys out of this room (in the Lobby: the server)", order: true, run: (*Session).cmdBan},
	{name: "unban", usage: "/unban NAME", does: "lift a ban", order: true, run: (*Session).cmdUnban},
	{name: "bans", usage: "/bans", does: "who is banned or muted here (in the Lobby: server-wide)", order: true, run: (*Session).cmdBans},
	{name: "mute", usage: "/mute NAME [DURATION]", does: "NAME may read, not speak, here (in the Lobby: everywhere)", order: true, run: (*Session).cmdMute},
	{name: "unmute", usage: "/unmute NAME", does: "lift a mute", order: true, run: (*Session).cmdUnmute},
	{name: "private", usage: "/private on|off", does: "hide this room from all but its members and the invited", order: true, run: (*Session).cmdPrivate},
	{name: "invite", usage: "/invite NAME", does: "let NAME see and join this private room", order: true, run: (*Session).cmdInvite},
	{name: "op", usage: "/op NAME", does: "make the registered NAME a room operator (owners)", order: true, run: (*Session).cmdOp},
	{name: "deop", usage: "/deop NAME", does: "take NAME's room operator rights (owners)", order: true, run: (*Session).cmdDeop},
	{name: "owner", usage: "/owner NAME", does: "give this room to the registered NAME (server operators)", order: true, run: (*Session).cmdOwner},
	{name: "mode", usage: "/mode registered on|off", does: "raid guard: only registered names may speak here (owners)", order: true, run: (*Session).cmdMode},
	{name: "announce", usage: "/announce TEXT", does: "a notice to every session (server operators)", order: true, run: (*Session).cmdAnnounce},
}

// commandIndex finds a command by any of its names.
var commandIndex = make(map[string]*command)

// Commands is the whole command set, in the order /commands lists it.
var Commands []Command

// originalCommands are those of the original chatroom (the ones with bare
// forms), which ShortHelp lists; everyday are those /commands lists in
// full, and orderCommands those of keeping order, which /commands order
// lists.
var originalCommands, everyday, orderCommands []Command

func init() {
	// In init, not in the declarations: commands refer to CommandHelp,
	// which reads the list.
	for _, c := range commandList {
		for _, n := range append([]string{c.name}, c.aliases...) {
			if commandIndex[n] != nil {
				panic("lobby: two commands named " + n)
			}
			commandIndex[n] = c
		}
		cmd := Command{Usage: c.usage, Does: c.does}
		Commands = append(Commands, cmd)
		if c.bare {
			originalCommands = append(originalCommands, cmd)
		}
		if c.order {
			orderCommands = append(orderCommands, cmd)
		} else {
			everyday = append(everyday, cmd)
		}
	}
}

// CommandHelp is the command list as text, one command a line; the
// commands of keeping order are summed up in a line (see OrderHelp).
func CommandHelp() string {
	var names []string
	for _, c := range orderCommands {
		name, _, _ := strings.Cut(c.Usage, " ")
		names = append(names, name)
	}
	return helpText(everyday, "\nIn the Lobby the bare forms work too (list, join NAME...). In a room, a line is chat unless it starts with /; start it with // to send a line that begins with /."+
		"\nKeeping order (room owners, room operators, server operators): "+strings.Join(names, " ")+"; /commands order explains them.")
}

// OrderHelp lists the commands of keeping order, one a line.
func OrderHelp() string {
	return helpText(orderCommands, "\nIn a room they act on the room, for its owner, its room operators and server operators; in the Lobby, server operators act on the whole server. A DURATION is like 10m, 2h or 7d; without one, until lifted.")
}

// ShortHelp is the start of the command list, for the Lobby's screen: the
// original chatroom's commands, and where to find the rest.
func ShortHelp() string {
	return helpText(originalCommands, "\nAnd more (/msg, /who, /me, /nick, /topic, /search...): /commands lists them all.")
}

func helpText(list []Command, end string) string {
	var b strings.Builder
	b.WriteString("Commands:")
	width := 0
	for _, c := range list {
		width = max(width, len(c.Usage))
	}
	for _, c := range list {
		fmt.Fprintf(&b, "\n  %-*s %s", width, c.Usage, c.Does)
	}
	b.WriteString(end)
	return b.String()
}

type verb int

const (
	verbChat verb = iota
	verbCommand
	verbUnknown
	verbNotChat // a line in the Lobby that is no command
	verbEmpty
)

// parseLine splits a submitted line into what it asks for and its argument.
// Slash commands work everywhere; in the Lobby, where there is no chat, the
// bare forms of the original chatroom do too. "//text" in a room is chat
// that starts with "/". A command's argument is trimmed and holds no line
// break (a pasted one becomes a space), so it can only be refused whole,
// never half-used.
func parseLine(line string, inRoom bool) (verb, *command, string) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return verbEmpty, nil, ""
	}
	if inRoom && strings.HasPrefix(trimmed, "//") {
		return verbChat, nil, strings.TrimLeftFunc(line, unicode.IsSpace)[1:]
	}
	word, arg, rest := trimmed, "", ""
	if i := strings.IndexFunc(trimmed, unicode.IsSpace); i >= 0 {
		word, rest = trimmed[:i], trimmed[i:]
		arg = strings.TrimSpace(strings.Map(breakToSpace, rest))
	}
	if w, ok := strings.CutPrefix(word, "/"); ok {
		if c := commandIndex[strings.ToLower(w)]; c != nil {
			if c.lines {
				arg = strings.TrimLeft(rest, " \t")
			}
			return verbCommand, c, arg
		}
		return verbUnknown, nil, word
	}
	if inRoom {
		return verbChat, nil, line
	}
	if c := commandIndex[strings.ToLower(word)]; c != nil && c.bare {
		return verbCommand, c, arg
	}
	return verbNotChat, nil, ""
}

func breakToSpace(r rune) rune {
	if isLineBreak(r) || r == '\u0085' {
		return ' '
	}
	return r
}

// maxEcho is how much of a user's own input a notice quotes back.
const maxEcho = 40

// echo is untrusted input made fit to quote in a notice: clean, and short.
func echo(s string) string {
	const maxBytes = 8 * maxEcho // bounds the cleaning, which comes first
	cut := false
	if len(s) > maxBytes {
		i := maxBytes
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, cut = s[:i], true
	}
	s = CleanText(s)
	if utf8.RuneCountInString(s) > maxEcho {
		n := 0
		for i := range s {
			if n == maxEcho-1 {
				s, cut = s[:i], true
				break
			}
			n++
		}
	}
	if cut {
		s += "…"
	}
	return s
}

// maxLineBytes bounds the work done under the Lobby's lock for one line. A
// line this long cannot clean down to MaxMessageLen characters unless it is
// mostly escape sequences, which nobody types.
const maxLineBytes = 16 * MaxMessageLen

// Exec carries out one line the user submitted: a command, or chat in the
// current room. It first waits until what the user did before has been
// applied, so that the line sees its effects ("/join alpha" then "hello"
// says hello in alpha). What it says back arrives as events, in order with
// everything else. It returns ErrQuit when the line ended the session, the
// session's end reason when it had already ended, and nil otherwise: a
// refused command is a notice, not an error.
func (s *Session) Exec(ctx context.Context, line string) error {
	l := s.lobby
	l.mu.Lock()
	later, err := s.execLocked(ctx, line)
	l.mu.Unlock()
	if later != nil {
		later(ctx)
	}
	return err
}

// execLocked is Exec under the lock; what it returns is the part of a
// command to carry out outside the lock, if any. l.mu must be held.
func (s *Session) execLocked(ctx context.Context, line string) (func(context.Context), error) {
	l := s.lobby
	if err := s.waitSettledLocked(ctx); err != nil {
		return nil, err
	}
	if s.name == "" {
		return nil, errors.New("exec: the session has no name yet")
	}
	if ok, err := s.allowLocked(); !ok {
		return nil, err
	}
	if len(line) > maxLineBytes {
		l.noticeLocked(s, true, "That message is %d characters long; the limit is %d. It was not sent.", utf8.RuneCountInString(line), MaxMessageLen)
		return nil, nil
	}
	if l.logDown != "" {
		l.noticeLocked(s, true, "%s That was not sent.", l.logDown)
		return nil, nil
	}
	var later func(context.Context)
	r := s.roomLocked()
	v, cmd, arg := parseLine(line, r != nil)
	switch v {
	case verbEmpty:
	case verbChat:
		s.chatLocked(r, arg)
	case verbCommand:
		if cmd.outside != nil {
			later = cmd.outside(s, arg)
		} else if err := cmd.run(s, arg); err != nil {
			return nil, err
		}
	case verbUnknown:
		l.noticeLocked(s, true, "There is no command %s. Type /commands to see them all.", echo(arg))
	case verbNotChat:
		l.noticeLocked(s, true, "You are in the Lobby, where there is no chat. Join a room with /join NAME or create one with /create NAME; /list shows the rooms.")
	}
	if s.closed {
		// Dropped while answering (its queue overflowed): say why.
		return nil, s.err
	}
	return later, nil
}

// roomLocked is the room s is in, nil in the Lobby. l.mu must be held.
func (s *Session) roomLocked() *room {
	if m := s.lobby.members[s.id]; m != nil {
		return m.room
	}
	return nil
}

func (s *Session) chatLocked(r *room, text string) {
	l := s.lobby
	if why := l.speakRefusalLocked(l.members[s.id], r, l.cfg.Now().UnixNano()); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return
	}
	if text, ok := s.chatTextLocked(text); ok {
		s.proposeFromLocked(Change{Type: ChangeSay, Room: r.name, Text: text})
	}
}

// listText is /list's answer: the rooms of a room list, conversations
// left out.
func listText(rooms []RoomInfo) string {
	var b strings.Builder
	for _, r := range rooms {
		if r.With == "" {
			fmt.Fprintf(&b, "\n  %s (%s)", r.Name, plural(r.Users, "user"))
		}
	}
	if b.Len() == 0 {
		return "No rooms yet. Create one with /create NAME."
	}
	return "Rooms:" + b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (s *Session) cmdCommands(arg string) error {
	if strings.EqualFold(arg, "order") {
		s.lobby.noticeLocked(s, false, "%s", OrderHelp())
		return nil
	}
	s.lobby.noticeLocked(s, false, "%s", CommandHelp())
	return nil
}

func (s *Session) cmdList(string) error {
	s.lobby.noticeLocked(s, false, "%s", listText(s.roomsLocked()))
	return nil
}

func (s *Session) cmdQuit(string) error {
	s.lobby.dropLocked(s, ErrQuit)
	return ErrQuit
}

func (s *Session) cmdCreate(arg string) error {
	l := s.lobby
	arg, private := createArg(arg)
	if arg == "" {
		l.noticeLocked(s, true, "Usage: /create NAME [private]")
		return nil
	}
	// Validated as typed: a name with anything else in it is refused, not
	// quietly cleaned into a different one.
	name, ok := validName(arg, MaxRoomLen)
	if !ok {
		l.noticeLocked(s, true, "%s", Sentence(ErrRoomInvalid.Error()))
		return nil
	}
	if r, exists := l.roomIx.find(name); exists {
		l.noticeLocked(s, true, "%s", s.existsTextLocked(r, name))
		return nil
	}
	if private {
		if why := l.privateCreateRefusalLocked(l.members[s.id]); why != "" {
			l.noticeLocked(s, true, "%s", why)
			return nil
		}
	}
	// Another node may be creating it at this moment: the log's order
	// decides who does, and the other is told as above.
	s.proposeFromLocked(Change{Type: ChangeCreate, Room: name, Flag: private})
	return nil
}

func (s *Session) cmdJoin(arg string) error {
	l := s.lobby
	if arg == "" {
		l.noticeLocked(s, true, "Usage: /join NAME")
		return nil
	}
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		// "@NAME" is the user's conversation with NAME, as the room
		// list names it.
		name, _, _ = strings.Cut(name, " ")
		return s.cmdMsg(name)
	}
	m := l.members[s.id]
	r, ok := l.rooms[foldKey(CleanText(arg))]
	if ok && !l.maySeeLocked(m, r) {
		ok = false // a private room answers as if it did not exist
	}
	if !ok {
		name, valid := validName(arg, MaxRoomLen)
		if like, found := l.roomIx.find(name); valid && found && l.maySeeLocked(m, like) {
			l.noticeLocked(s, true, "There is no room named %s, but %s looks the same: /join %s joins it.", name, like.name, like.name)
		} else if valid {
			l.noticeLocked(s, true, "There is no room named %s. /list shows the rooms; /create %s makes it.", name, name)
		} else {
			l.noticeLocked(s, true, "There is no room named %s. /list shows the rooms.", echo(arg))
		}
		return nil
	}
	if r == s.roomLocked() {
		l.noticeLocked(s, false, "You are already in %s.", r.name)
		return nil
	}
	if why := l.joinBanLocked(m, r, l.cfg.Now().UnixNano()); why != "" {
		l.noticeLocked(s, true, "%s", why)
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeJoin, Room: r.name})
	return nil
}

func (s *Session) cmdLeave(string) error {
	if s.roomLocked() == nil {
		s.lobby.noticeLocked(s, true, "You are not in a room.")
		return nil
	}
	s.proposeFromLocked(Change{Type: ChangeLeave})
	return nil
}

// allowLocked applies the flood limit to one action. A refused action gets a
// notice; too many refusals in a row end the session with ErrFlooding, which
// it returns. l.mu must be held.
func (s *Session) allowLocked() (bool, error) {
	l := s.lobby
	// The lobby's clock, so that tests with a fixed one decide when tokens
	// come back.
	if s.limiter == nil || s.limiter.AllowN(l.cfg.Now(), 1) {
		s.strikes = 0
		return true, nil
	}
	s.strikes++
	if l.obs != nil {
		l.obs.FloodRefused()
	}
	if s.strikes >= l.cfg.FloodStrikes {
		l.logger.Warn("disconnecting flooder", "session", s.id, "user", s.name, "refused", s.strikes)
		l.dropLocked(s, ErrFlooding)
		return false, ErrFlooding
	}
	l.noticeLocked(s, true, "Slow down: you may send %d lines at once, then %g a second. That was not sent.", l.cfg.FloodBurst, l.cfg.FloodRate)
	return false, nil
}

// SelectRoom moves the session into the named room as /join would, or back to
// the Lobby when name is "", for front ends that pick rooms by key or mouse.
// Each switch posts join and leave notices, so it counts against the flood
// limit like a typed line.
func (s *Session) SelectRoom(ctx context.Context, name string) error {
	l := s.lobby
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := s.waitSettledLocked(ctx); err != nil {
		return err
	}
	if ok, err := s.allowLocked(); !ok {
		return err
	}
	if l.logDown != "" {
		l.noticeLocked(s, true, "%s", l.logDown)
		return nil
	}
	if name == "" {
		if s.roomLocked() != nil {
			return s.cmdLeave("")
		}
		return nil
	}
	return s.cmdJoin(name)
}
