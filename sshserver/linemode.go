package sshserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// maxLineBytes bounds one input line in line mode: a message at the length
// limit in 4-byte characters fits, and a client that never sends a newline
// cannot grow the server's memory past it.
const maxLineBytes = 4*lobby.MaxMessageLen + 1024

// heldHint tells a session whose key holds a registered name that Enter
// gives it.
func heldHint(name string) string {
	return "(Your SSH key holds the name " + name + " " + lobby.RegisteredMark + ": press Enter alone to use it.)"
}

// runLineMode serves a session without a PTY: bots, scripts and screen
// readers. It speaks plain lines, with the same prompt, commands and notices
// as the TUI and no escape sequence at all. End of input is a quit.
func (s *Server) runLineMode(ctx context.Context, cancel func(), sl *slot, log *slog.Logger) {
	sess := sl.ssh
	out := bufio.NewWriter(sess)
	var outMu sync.Mutex // the reader refuses overlong lines itself
	say := func(lines ...string) bool {
		outMu.Lock()
		defer outMu.Unlock()
		for _, l := range lines {
			out.WriteString(l)
			out.WriteByte('\n')
		}
		return out.Flush() == nil
	}
	in := newLineReader(sess)
	chat := s.cfg.Lobby
	end := func(e lobby.Ending) {
		say(e.Farewell)
		_ = sess.Exit(e.Code)
	}
	ls := sl.lobby
	hint := ""
	if held := ls.HeldName(); held != "" {
		hint = heldHint(held)
	}
	askName := func(lines ...string) {
		lines = append(lines, lobby.Prompt)
		if hint != "" {
			lines = append(lines, hint)
		}
		say(lines...)
	}
	askName()
	// A name prompt holds a session slot: it may not hold it forever.
	promptTimer := time.AfterFunc(s.cfg.PromptTimeout, func() {
		log.Info("name prompt timed out")
		end(chat.Ending(lobby.ErrPromptTimeout, ""))
		_ = sess.Close()
	})
	defer promptTimer.Stop()
	for named := false; !named; {
		line, err := in.next()
		if errors.Is(err, errLineTooLong) {
			askName(tooLong)
			continue
		}
		if err != nil {
			end(chat.Ending(nil, ""))
			return
		}
		err = ls.Claim(ctx, line)
		switch {
		case err == nil:
			named = true
		case lobby.NameRefused(err):
			askName(lobby.Sentence(err.Error()))
		default:
			if !errors.Is(err, lobby.ErrUnavailable) { // else the lobby logged the cause
				log.Error("claim a name", "err", err)
			}
			end(chat.Ending(err, ""))
			return
		}
	}
	defer ls.Close()
	if !promptTimer.Stop() {
		return // timed out while the name was being registered
	}
	log = log.With("name", ls.Name())
	log.Info("signed in")
	if room := execRoom(sess.Command()); room != "" {
		// ssh -T host ROOM: straight into ROOM (or told why not).
		if err := ls.SelectRoom(ctx, room); err != nil {
			return
		}
	}
	done := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		s.watchDrop(sl, done, cancel, log)
	}()
	defer func() { close(done); watch.Wait() }()

	// The reader feeds the lobby; this goroutine writes what the lobby says
	// back. Each side waits only on this one client.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			// The handler's recover cannot see this goroutine.
			if r := recover(); r != nil {
				log.Error("session panic", "panic", r, "stack", string(debug.Stack()))
				ls.Close()
			}
		}()
		for {
			line, err := in.next()
			if errors.Is(err, errLineTooLong) {
				// The rest of the line was skipped unread into memory.
				say(tooLong)
				continue
			}
			if err != nil {
				// End of input is a quit, once what was sent before it has
				// come back: a script that posts a line and hangs up at once
				// sees its own line. The writer below prints what is queued
				// before it sees the session end.
				sctx, cancel := context.WithTimeout(ctx, syncOnEOF)
				_ = chat.Sync(sctx)
				cancel()
				ls.Close()
				return
			}
			// One line per message in line mode: a stray CR or other
			// break inside a line is a space, as it always was.
			if err := ls.Exec(ctx, strings.Map(lineBreakToSpace, line)); err != nil {
				return
			}
		}
	}()

	var reason error
	for {
		ev, err := ls.Next(ctx)
		if err != nil {
			reason = err
			break
		}
		me := ""
		if ev.With != "" {
			me = ls.Name() // a guest may change names
		}
		if !say(formatEvent(ev, time.Now(), ls.Location(), me)...) {
			ls.Close()
		}
	}
	e := chat.Ending(reason, ls.Name())
	if e.Code != 0 {
		log.Info("session ended", "reason", reason)
	}
	end(e)
	_ = sess.Close() // unblocks the reader
	wg.Wait()
}

// syncOnEOF bounds the wait for a line-mode user's last lines to come back
// after its input ended; the store's group commit takes milliseconds.
const syncOnEOF = 2 * time.Second

// formatEvent renders one lobby event as plain lines, with times as now
// is in the user's zone loc. me is the user's name, needed only for lines
// of a conversation (ev.With set).
func formatEvent(ev lobby.Event, now time.Time, loc *time.Location, me string) []string {
	switch ev.Kind {
	case lobby.EventMessage, lobby.EventDirect:
		return formatMessage(ev.Msg, now, loc, ev.With, me)
	case lobby.EventMention:
		m := ev.Msg
		return indent(fmt.Sprintf("[%s] %s mentioned you in %s: ", m.Stamp(now, loc), m.From, m.Room), m.Lines())
	case lobby.EventNotice, lobby.EventSearch:
		return strings.Split(ev.Text, "\n")
	case lobby.EventEntered:
		if ev.Room == "" {
			return []string{"You are in the Lobby. Type /commands to see what you can do."}
		}
		lines := []string{"You are in " + ev.Room + "."}
		if ev.With != "" {
			lines[0] = "You are in your conversation with " + ev.With + ": what you type goes to them. /leave ends it."
		}
		if ev.Topic != "" {
			lines = append(lines, "Topic: "+ev.Topic)
		}
		if len(ev.History) > 0 {
			head := fmt.Sprintf("-- history: the last %d lines --", len(ev.History))
			if len(ev.History) == 1 {
				head = "-- history: the last line --"
			}
			lines = append(lines, head)
			rule := ev.NewFrom != 0
			for i := range ev.History {
				m := &ev.History[i]
				if rule && m.Seq >= ev.NewFrom && m.Said() {
					lines = append(lines, "-- new --")
					rule = false
				}
				lines = append(lines, formatMessage(m, now, loc, ev.With, me)...)
			}
			lines = append(lines, "-- end of history --")
		}
		return lines
	case lobby.EventEdited:
		m := ev.Msg
		at := m.Stamp(now, loc)
		if m.Deleted {
			return []string{fmt.Sprintf("* %s deleted their line of %s", m.From, at)}
		}
		return indent(fmt.Sprintf("* %s edited their line of %s: ", m.From, at), m.Lines())
	case lobby.EventNamed:
		return []string{"You are now " + ev.Text + "."}
	case lobby.EventJump:
		lines := []string{fmt.Sprintf("-- %s, the lines around the one you asked for (marked >) --", ev.Room)}
		for i := range ev.History {
			m := &ev.History[i]
			for j, l := range formatMessage(m, now, loc, "", "") {
				mark := "  "
				if m.Seq == ev.Seq && j == 0 {
					mark = "> "
				}
				lines = append(lines, mark+l)
			}
		}
		return append(lines, "-- end; the room goes on from its newest lines --")
	case lobby.EventTopic:
		return nil // the room's own line says it
	}
	return nil
}

// formatMessage renders a line: the time, the author and the text, as
// "[15:04] alice: text" in a room, and in a conversation with with as
// "[15:04] alice → you: text" from them and "[15:04] you → bob: text" from
// the user (me); a block of several lines goes on indented under its
// first, so that none of its lines can pass for someone else's.
func formatMessage(m *lobby.Message, now time.Time, loc *time.Location, with, me string) []string {
	at := m.Stamp(now, loc)
	from := m.From
	switch {
	case with == "":
	case m.From == me && m.From != with:
		from = "you → " + with
	default:
		from = m.From + " → you"
	}
	switch {
	case m.Kind == lobby.KindSystem:
		return []string{"* " + m.Text}
	case m.Deleted:
		return []string{fmt.Sprintf("[%s] %s: (message deleted)", at, from)}
	}
	lines := m.Lines()
	if !m.Edited.IsZero() {
		lines[len(lines)-1] += " (edited)"
	}
	if m.Kind == lobby.KindAction {
		return indent(fmt.Sprintf("[%s] * %s ", at, from), lines)
	}
	return indent(fmt.Sprintf("[%s] %s: ", at, from), lines)
}

// indent puts head before the first line and as many spaces before each
// other.
func indent(head string, lines []string) []string {
	out := make([]string, len(lines))
	pad := strings.Repeat(" ", utf8.RuneCountInString(head))
	for i, l := range lines {
		if i == 0 {
			out[i] = head + l
		} else {
			out[i] = pad + l
		}
	}
	return out
}

// execRoom is the room an exec request names (ssh host ROOM): its words
// joined, so that a name with a space in it is refused as a room name
// rather than cut.
func execRoom(cmd []string) string {
	return strings.TrimSpace(strings.Join(cmd, " "))
}

func lineBreakToSpace(r rune) rune {
	switch r {
	case '\r', '\n', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return ' '
	}
	return r
}

var errLineTooLong = errors.New("line too long")

var tooLong = fmt.Sprintf("That line is over %d bytes long, so it was not sent.", maxLineBytes)

// lineReader reads lines of at most maxLineBytes. A longer line is skipped
// to its end and reported once, so its size never reaches memory.
type lineReader struct {
	r *bufio.Reader
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, maxLineBytes)}
}

func (lr *lineReader) next() (string, error) {
	line, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = lr.r.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil && (len(line) == 0 || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return string(bytes.TrimRight(line, "\r\n")), nil
}
