package lobby

import "time"

// Observer hears what the lobby does, for an operator's metrics. Config's
// nil Observer hears nothing. The lobby calls it with its lock held, from
// the applier and from sessions' goroutines: every method must return at
// once and must not call back into the lobby.
type Observer interface {
	// LinePosted: a line of kind was added to a room's history. Every node
	// of a cluster applies every line, so each counts them all.
	LinePosted(kind Kind)
	// LinesDelivered: a line was queued for n of this node's sessions,
	// latency after it was sent. A line sent on this node is timed from
	// its proposal (local); one from another node from the moment this
	// node took its batch from the log, since the nodes' clocks need not
	// agree. latency is taken once the line is queued for the last of the
	// n, so it bounds each of them from above.
	LinesDelivered(n int, latency time.Duration, local bool)
	// SessionCutLoose: one of this node's sessions was ended for reason,
	// ErrTooSlow or ErrFlooding.
	SessionCutLoose(reason error)
	// FloodRefused: a line was refused by the flood limit.
	FloodRefused()
}
