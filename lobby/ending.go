package lobby

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// How a session ends is decided here, for every front end: why it ended
// (the reasons below), what its room is told, what its user reads last and
// the exit status of the SSH session. A front end passes on whatever error
// ended the session and prints what Ending says.

// reason is one way a session ends.
type reason struct {
	err error
	// code names it in a close change (Change.Text), "" for a reason no
	// close carries.
	code string
	// left follows "alice left alpha" in the room, in brackets; "" for
	// nothing.
	left string
}

// reasons are the ways a session ends. Session.Next, Exec and Err return
// one of them once the session is over.
var reasons = []reason{
	{err: ErrQuit, code: "quit"},
	{err: ErrClosed, code: "closed"},
	{err: ErrTooSlow, code: "slow", left: "connection too slow"},
	{err: ErrFlooding, code: "flood", left: "flooding"},
	{err: ErrShutdown, code: "shutdown", left: "server shutting down"},
	{err: ErrLost, code: "lost", left: "connection lost"},
	// A server ban's own line tells the room (modapply.go), so the leave
	// says nothing more.
	{err: ErrBanned, code: "banned"},
	{err: ErrLobbyClosed},
	{err: ErrPromptTimeout},
}

func reasonFor(err error) *reason {
	for i := range reasons {
		if errors.Is(err, reasons[i].err) {
			return &reasons[i]
		}
	}
	return nil
}

// reasonCode is how a close change names err.
func reasonCode(err error) string {
	if r := reasonFor(err); r != nil && r.code != "" {
		return r.code
	}
	return "closed"
}

// reasonOf reads a close change's reason.
func reasonOf(code string) error {
	for _, r := range reasons {
		if r.code != "" && r.code == code {
			return r.err
		}
	}
	return ErrClosed
}

// SessionOver reports whether err, returned by Session.Exec or SelectRoom,
// means the session has ended; any other error is about that one line.
func SessionOver(err error) bool { return reasonFor(err) != nil }

// NameRefused reports whether err, from Claim, refuses only the name asked
// for: the session stays at the prompt, its user reads the error's text as
// a sentence (see Sentence) and may try another. Any other error from Claim
// ends the session (see Ending).
func NameRefused(err error) bool {
	return errors.Is(err, ErrNameTaken) || errors.Is(err, ErrNameInvalid) || errors.Is(err, ErrNameRegistered)
}

// Ending is what a front end does when a session ends: the last line its
// user reads, and the exit status the SSH session ends with.
type Ending struct {
	Farewell string
	Code     int
}

// Ending says how to end a session that ended for reason, for the user
// called name ("" before a name was given). reason is what the front end
// saw: the error of Next, Exec, Open or Claim, Session.Err, ErrPromptTimeout,
// or nil when the user left (Ctrl+C, end of input, a closed connection).
//
// The exit status is 0 when the user chose to go or the server shut down,
// and 1 when the chat refused or cut off the session. Once this node is
// shutting down, a session that ended without a reason of its own is told
// so: it may have ended before it read the notice.
func (l *Lobby) Ending(reason error, name string) Ending {
	bye := "Goodbye."
	if name != "" {
		bye = "Goodbye, " + name + "."
	}
	shutdown := Ending{Farewell: "The server is shutting down. " + bye}
	switch {
	case errors.Is(reason, ErrShutdown), errors.Is(reason, ErrLobbyClosed):
		return shutdown
	case reason == nil, errors.Is(reason, ErrQuit), errors.Is(reason, ErrClosed),
		errors.Is(reason, context.Canceled), errors.Is(reason, context.DeadlineExceeded):
		if l.shuttingDown() {
			return shutdown
		}
		return Ending{Farewell: bye}
	case errors.Is(reason, ErrPromptTimeout):
		return Ending{Farewell: Sentence(ErrPromptTimeout.Error()) + " Goodbye.", Code: 1}
	case errors.Is(reason, ErrFull):
		n := l.cfg.MaxSessions
		return Ending{Farewell: fmt.Sprintf("Server is full: %d of %d sessions in use. Try again later.", n, n), Code: 1}
	case errors.Is(reason, ErrUnavailable):
		// Its cause is for the log, where the lobby put it.
		return Ending{Farewell: Sentence(ErrUnavailable.Error()), Code: 1}
	case errors.Is(reason, ErrBanned) && name == "":
		// Refused at the door: the ban says by whom, why and until when.
		return Ending{Farewell: Sentence(reason.Error()), Code: 1}
	case name == "" && reasonFor(reason) == nil:
		// Refused before it began, for a reason nobody foresaw.
		return Ending{Farewell: "Sorry, the chat cannot take you right now: " + Sentence(reason.Error()), Code: 1}
	}
	// Cut loose (too slow, flooding), or this node lost the chat.
	return Ending{Farewell: "Disconnected: " + strings.TrimSuffix(reason.Error(), ".") + ".", Code: 1}
}

func (l *Lobby) shuttingDown() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Sentence makes an error's text (or any phrase) a sentence for users:
// capitalised, and ended with a full stop unless it has one.
func Sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
