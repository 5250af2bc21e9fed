package tui

import (
	"context"
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Tab completion: Tab with something typed completes the word before the
// cursor: a command after "/" at the start of the line, a room name after
// /join and /who, a name anywhere else (the people of the room who spoke
// last first, then the rest of the room, then everyone online: see
// lobby.Session.Names). Tab again offers the next candidate, Shift+Tab the
// one before. With an empty input Tab still moves to the room list.

// completion is the word being completed and the candidates offered.
type completion struct {
	start, end int      // the runes of the input replaced, [start, end)
	cands      []string // what replaces them, each with what follows it
	i          int      // the candidate shown
	ver        uint64   // the input's version when it was shown
}

// namesMsg brings the names to complete (lobby.Session.Names, which takes
// the lobby's lock, so it runs in a Cmd) for the input as it was at ver.
type namesMsg struct {
	ver   uint64
	names []string
}

func namesCmd(ctx context.Context, s *lobby.Session, ver uint64) tea.Cmd {
	return func() tea.Msg {
		if ctx.Err() != nil {
			return nil
		}
		return namesMsg{ver: ver, names: s.Names()}
	}
}

// complete answers Tab (back: Shift+Tab) in a non-empty input.
func (m *Model) complete(back bool) tea.Cmd {
	in := &m.input
	if c := &m.comp; c.ver == in.ver && len(c.cands) > 0 {
		// Tab again, nothing typed since: the next candidate.
		step := 1
		if back {
			step = len(c.cands) - 1
		}
		c.i = (c.i + step) % len(c.cands)
		m.showCompletion()
		return nil
	}
	start := in.pos
	for start > 0 && !unicode.IsSpace(in.value[start-1]) {
		start--
	}
	if start == in.pos {
		return nil // no word before the cursor
	}
	word := string(in.value[start:in.pos])
	before := strings.TrimLeftFunc(string(in.value[in.lineStart(start):start]), unicode.IsSpace)
	first := before == "" && in.lineStart(start) == 0
	var cands []string
	switch {
	case first && strings.HasPrefix(word, "/"):
		cands = prefixed(commandWords(), word, " ")
	case first && m.room == "":
		// In the Lobby a line is a command: the bare forms.
		cands = prefixed(bareWords(), word, " ")
	case roomCommand(before, m.room == ""):
		var rooms []string
		for _, it := range m.side.items {
			if it.name != "" {
				rooms = append(rooms, it.name)
			}
		}
		cands = prefixed(rooms, word, " ")
	default:
		if m.sess == nil {
			return nil
		}
		// Names are the lobby's: fetched, then offered if nothing was
		// typed meanwhile.
		m.comp = completion{start: start, end: in.pos, ver: in.ver}
		return namesCmd(m.ctx, m.sess, in.ver)
	}
	m.offer(start, cands)
	return nil
}

// completeNames offers the names fetched for a Tab, if the input is still
// as it was.
func (m *Model) completeNames(msg namesMsg) {
	c := &m.comp
	if msg.ver != m.input.ver || c.ver != msg.ver || len(c.cands) > 0 {
		return
	}
	in := &m.input
	word := string(in.value[c.start:c.end])
	at := strings.HasPrefix(word, "@")
	bare := strings.TrimPrefix(word, "@")
	lineStart := in.lineStart(c.start) == c.start && c.start == 0
	suffix := " "
	if lineStart && !at && m.room != "" {
		suffix = ": " // addressing someone, as chats do
	}
	var cands []string
	for _, n := range msg.names {
		if hasPrefixFold(n, bare) {
			if at {
				n = "@" + n
			}
			cands = append(cands, n+suffix)
		}
	}
	m.offer(c.start, cands)
}

// offer shows the first of cands in place of the word from start.
func (m *Model) offer(start int, cands []string) {
	if len(cands) == 0 {
		m.comp = completion{}
		return
	}
	m.comp = completion{start: start, end: m.input.pos, cands: cands}
	m.showCompletion()
}

// showCompletion puts the candidate c.i in place of the word being
// completed, the cursor after it.
func (m *Model) showCompletion() {
	c, in := &m.comp, &m.input
	cand := c.cands[c.i]
	if !in.replace(c.start, c.end, cand) {
		m.comp = completion{} // it would not fit under the limit
		return
	}
	c.end = c.start + len([]rune(cand))
	c.ver = in.ver
	m.frame.inputDirty = true
}

// prefixed is the words of list that start with prefix, without regard to
// case, each followed by suffix.
func prefixed(list []string, prefix, suffix string) []string {
	var out []string
	for _, w := range list {
		if hasPrefixFold(w, prefix) {
			out = append(out, w+suffix)
		}
	}
	return out
}

func hasPrefixFold(s, prefix string) bool {
	return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
}

// commandWords is every command as typed: "/join", "/who"...
func commandWords() []string {
	out := make([]string, 0, len(lobby.Commands)+1)
	for _, c := range lobby.Commands {
		out = append(out, strings.Fields(c.Usage)[0])
	}
	return append(out, "/help")
}

// bareWords is the commands the Lobby takes without a slash.
func bareWords() []string {
	return []string{"commands", "create", "help", "join", "leave", "list", "quit"}
}

// roomCommand reports whether the words before the word being completed
// make it a room's name: /join ROOM, /who ROOM (join ROOM in the Lobby).
func roomCommand(before string, inLobby bool) bool {
	f := strings.Fields(strings.ToLower(before))
	if len(f) != 1 {
		return false
	}
	switch f[0] {
	case "/join", "/who":
		return true
	case "join":
		return inLobby
	}
	return false
}
