package lobby

import "time"

// Kind tells a chat line from a system notice. Both live in a room's history.
type Kind uint8

const (
	// KindChat is a line a user typed.
	KindChat Kind = iota + 1
	// KindSystem is a notice the server wrote into the room, such as a join
	// or a leave. From is the user it is about.
	KindSystem
)

// String names the kind as the store and exports spell it.
func (k Kind) String() string {
	switch k {
	case KindChat:
		return "message"
	case KindSystem:
		return "system"
	default:
		return "unknown"
	}
}

// Message is one line of a room's history. Seq numbers a room's lines from 1
// with no reuse, so a page of older history is "the n lines before Seq".
type Message struct {
	Room string // the room's name as it was created
	Seq  uint64
	At   time.Time
	From string
	Kind Kind
	Text string
}

// RoomRecord is what the Store keeps of a room itself.
type RoomRecord struct {
	Name    string
	Created time.Time
	LastSeq uint64 // the Seq of the newest stored line, 0 when empty
	// Meta is what the Lobby keeps of the room besides its lines, in its
	// own encoding; the Store keeps it as it is.
	Meta []byte
}
