package sshserver

// Observer hears what the server does with sessions, for an operator's
// metrics. Config's nil Observer hears nothing. Its methods are called from
// connections' goroutines and must return at once.
type Observer interface {
	// SessionOpened and SessionClosed bracket a session that holds a slot
	// on this server, by kind: KindTUI or KindLine.
	SessionOpened(kind string)
	SessionClosed(kind string)
	// SessionRefused: a connection or session was turned away, for
	// reason: one of the Refused values.
	SessionRefused(reason string)
}

// Kinds of session, as Observer hears them.
const (
	KindTUI  = "tui"  // a PTY session running the full-screen UI
	KindLine = "line" // a session without a PTY, in line mode
)

// Reasons a session is refused, as Observer hears them.
const (
	RefusedFull       = "full"         // the chat holds its maximum of sessions
	RefusedRate       = "rate_limited" // its address opened connections too fast (--conn-rate)
	RefusedPerAddress = "per_address"  // its address holds too many connections (--conn-per-addr)
	RefusedBanned     = "banned"       // its key (a guest's address) is banned from the server
	RefusedKeyRate    = "key_rate"     // its key opened too many sessions in a minute (--key-rate)
)

// Refusals lists every refusal reason, for metrics that show them all from
// the start.
var Refusals = []string{RefusedFull, RefusedRate, RefusedPerAddress, RefusedBanned, RefusedKeyRate}

// noObserver is the Observer of a server configured without one.
type noObserver struct{}

func (noObserver) SessionOpened(string)  {}
func (noObserver) SessionClosed(string)  {}
func (noObserver) SessionRefused(string) {}
