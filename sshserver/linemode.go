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
	loc := zone(sess)
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
			if err := ls.Exec(ctx, line); err != nil {
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
		if !say(formatEvent(ev, time.Now(), loc)...) {
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
// is in the user's zone loc.
func formatEvent(ev lobby.Event, now time.Time, loc *time.Location) []string {
	switch ev.Kind {
	case lobby.EventMessage:
		return []string{formatMessage(ev.Msg, now, loc)}
	case lobby.EventNotice:
		return strings.Split(ev.Text, "\n")
	case lobby.EventEntered:
		if ev.Room == "" {
			return []string{"You are in the Lobby. Type /commands to see what you can do."}
		}
		lines := []string{"You are in " + ev.Room + "."}
		if len(ev.History) > 0 {
			head := fmt.Sprintf("-- history: the last %d lines --", len(ev.History))
			if len(ev.History) == 1 {
				head = "-- history: the last line --"
			}
			lines = append(lines, head)
			for i := range ev.History {
				lines = append(lines, formatMessage(&ev.History[i], now, loc))
			}
			lines = append(lines, "-- end of history --")
		}
		return lines
	}
	return nil
}

func formatMessage(m *lobby.Message, now time.Time, loc *time.Location) string {
	if m.Kind == lobby.KindSystem {
		return "* " + m.Text
	}
	return fmt.Sprintf("[%s] %s: %s", m.Stamp(now, loc), m.From, m.Text)
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
