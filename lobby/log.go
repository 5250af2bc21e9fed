package lobby

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Log is the ordered log of changes that is the Lobby's spine: every change
// of shared state is appended to it, and every node applies what it holds,
// in its order, to its Lobby and its Store. On one node it is kept in the
// node's own database (store.SQLite's local log); in a cluster it is a
// NATS JetStream stream (package cluster). Implementations must be safe for
// concurrent use.
type Log interface {
	// ID names the log, so that a node's store, which remembers how far it
	// has applied the log, is never resumed against a different one.
	ID() string
	// Append stores batch after every batch appended before it, by any
	// node, and returns its sequence number. When it returns nil the batch
	// is durable. id names the batch: appending the same id again (a retry
	// after a lost reply) must not store it twice.
	Append(ctx context.Context, id string, batch []Change) (uint64, error)
	// Head is the sequence number of the last batch appended so far.
	Head(ctx context.Context) (uint64, error)
	// First is the sequence number of the oldest batch still held (1 for a
	// log that keeps everything, Head+1 when it holds nothing).
	First(ctx context.Context) (uint64, error)
	// Follow calls apply with every batch after after, in order and with
	// no gap, waiting for new ones, until ctx ends or apply fails; it
	// returns why it stopped. apply runs on one goroutine at a time.
	Follow(ctx context.Context, after uint64, apply func(seq uint64, batch []Change) error) error
}

// ErrLogGap means the log no longer holds batches a node has not applied
// yet: the node's data is too old to catch up from the log alone.
var ErrLogGap = errors.New("the log no longer holds what this node missed")

// MemoryLog is a Log kept in memory, for tests. It forgets everything when
// the process ends.
type MemoryLog struct {
	mu      sync.Mutex // guards every field below
	batches [][]Change // batches[i] has sequence number i+1
	ids     map[string]uint64
	grew    chan struct{} // closed and replaced on every append
	fail    error         // when set, Append fails with it
}

var _ Log = (*MemoryLog)(nil)

// NewMemoryLog returns an empty MemoryLog.
func NewMemoryLog() *MemoryLog {
	return &MemoryLog{ids: make(map[string]uint64), grew: make(chan struct{})}
}

// ID implements Log.
func (m *MemoryLog) ID() string { return fmt.Sprintf("memory:%p", m) }

// FailAppends makes every Append fail with err until it is called with nil.
func (m *MemoryLog) FailAppends(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Append implements Log.
func (m *MemoryLog) Append(_ context.Context, id string, batch []Change) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return 0, m.fail
	}
	if seq, ok := m.ids[id]; ok && id != "" {
		return seq, nil
	}
	// A copy, as a real log would hold: the caller may reuse its slice.
	m.batches = append(m.batches, append([]Change(nil), batch...))
	seq := uint64(len(m.batches))
	m.ids[id] = seq
	close(m.grew)
	m.grew = make(chan struct{})
	return seq, nil
}

// Head implements Log.
func (m *MemoryLog) Head(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.batches)), nil
}

// First implements Log.
func (m *MemoryLog) First(context.Context) (uint64, error) { return 1, nil }

// Follow implements Log.
func (m *MemoryLog) Follow(ctx context.Context, after uint64, apply func(uint64, []Change) error) error {
	next := after + 1
	for {
		m.mu.Lock()
		var batch []Change
		if next <= uint64(len(m.batches)) {
			batch = m.batches[next-1]
		}
		grew := m.grew
		m.mu.Unlock()
		if batch != nil {
			if err := apply(next, batch); err != nil {
				return err
			}
			next++
			continue
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
