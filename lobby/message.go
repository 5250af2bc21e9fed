package lobby

import (
	"strings"
	"time"
)

// Kind tells a chat line from a system notice. Both live in a room's history.
type Kind uint8

const (
	// KindChat is a line a user typed.
	KindChat Kind = iota + 1
	// KindSystem is a notice the server wrote into the room, such as a join
	// or a leave. From is the user it is about.
	KindSystem
	// KindAction is an action a user typed with /me: "* alice waves".
	KindAction
)

// String names the kind as the store and exports spell it.
func (k Kind) String() string {
	switch k {
	case KindChat:
		return "message"
	case KindSystem:
		return "system"
	case KindAction:
		return "action"
	default:
		return "unknown"
	}
}

// Message is one line of a room's history. Seq numbers a room's lines from 1
// with no reuse, so a page of older history is "the n lines before Seq".
//
// A Message handed to a front end is never changed: an edit or a deletion
// arrives as a new Message with the same Room and Seq (EventEdited).
type Message struct {
	Room string // the room's name as it was created
	Seq  uint64
	At   time.Time
	From string
	Kind Kind
	// Text is clean (CleanText, line by line). A block of several lines
	// (a paste) holds them joined by '\n': see Lines.
	Text string
	// Presence marks a KindSystem line saying From joined or left the
	// room, which /joins may hide.
	Presence bool
	// Edited is when the author last changed Text; zero if never.
	Edited time.Time
	// Deleted says the author removed the line; Text is then "".
	Deleted bool
}

// Lines splits the text into the lines a front end shows, one or more.
func (m *Message) Lines() []string { return strings.Split(m.Text, "\n") }

// Said reports whether the line is something a user said (chat or an
// action), as opposed to a notice.
func (m *Message) Said() bool { return m.Kind == KindChat || m.Kind == KindAction }

// RoomRecord is what the Store keeps of a room itself.
type RoomRecord struct {
	Name    string
	Created time.Time
	LastSeq uint64 // the Seq of the newest stored line, 0 when empty
	// Meta is what the Lobby keeps of the room besides its lines, in its
	// own encoding; the Store keeps it as it is.
	Meta []byte
}

// Stamp is the time of m as every front end shows it, in the user's zone
// loc (time.Local when nil): the time alone for a line from today (as now
// is, in loc), with its day for an earlier line of this year ("Mar 14
// 15:04"), and with its whole date for an older one ("2025-03-14 15:04").
func (m *Message) Stamp(now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	at, now := m.At.In(loc), now.In(loc)
	switch {
	case SameDay(at, now):
		return at.Format("15:04")
	case at.Year() == now.Year():
		return at.Format("Jan 02 15:04")
	}
	return at.Format("2006-01-02 15:04")
}

// SameDay reports whether a and b fall on one day in a's zone.
func SameDay(a, b time.Time) bool {
	b = b.In(a.Location())
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
