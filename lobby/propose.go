package lobby

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// proposeLocked hands c to the proposer, stamped with this instance, a
// reference and the time, and returns the reference. l.mu must be held.
func (l *Lobby) proposeLocked(c Change) uint64 {
	l.nextRef++
	c.Node, c.Ref = l.node, l.nextRef
	if c.At == 0 {
		c.At = l.cfg.Now().UnixNano()
	}
	l.outbox = append(l.outbox, c)
	l.proposed++
	if s := l.locals[c.Session]; s != nil {
		s.proposed++
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return c.Ref
}

// proposeWaitLocked proposes c and returns where its outcome will be sent:
// nil once it is applied, the refusal otherwise. l.mu must be held.
func (l *Lobby) proposeWaitLocked(c Change) chan error {
	ch := make(chan error, 1)
	l.waiters[l.proposeLocked(c)] = ch
	return ch
}

// await waits for an outcome from proposeWaitLocked.
func (l *Lobby) await(ctx context.Context, ch chan error) error {
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// proposeFromLocked proposes c on behalf of s, whose next Exec waits until
// it is settled, so that what a user does next sees what they did before.
// l.mu must be held.
func (s *Session) proposeFromLocked(c Change) uint64 {
	c.Session = s.id
	return s.lobby.proposeLocked(c)
}

// maxBatch bounds one batch of the log. A batch is applied and delivered at
// once, so one bigger than a session's queue would drop every member of a
// busy room however fast they read; half a queue leaves room for what they
// have not read yet.
func (l *Lobby) maxBatch() int { return max(1, l.cfg.Queue/2) }

// retryBackoff bounds the wait between attempts to append changes that must
// not be lost (a session's close) while the log refuses them.
const (
	retryFirst = 50 * time.Millisecond
	retryMost  = 2 * time.Second
)

// backOff doubles *d (from retryFirst up to retryMost) and waits that long;
// it reports false, at once, if ctx ends first.
func backOff(ctx context.Context, d *time.Duration) bool {
	*d = min(max(2**d, retryFirst), retryMost)
	t := time.NewTimer(*d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// proposeLoop is the only caller of Log.Append. It takes everything
// proposed since its last pass as one batch and appends it, so that a slow
// log makes batches bigger rather than making proposers wait on each other
// (group commit). It does not apply anything: the applier does, when the
// batch comes back from the log like every other node's.
func (l *Lobby) proposeLoop(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		select {
		case <-l.wake:
		case <-ctx.Done():
			return
		}
		for {
			l.mu.Lock()
			n := min(len(l.outbox), l.maxBatch())
			if n == 0 {
				l.mu.Unlock()
				break
			}
			batch := make([]Change, n)
			copy(batch, l.outbox)
			rest := copy(l.outbox, l.outbox[n:])
			clear(l.outbox[rest:])
			l.outbox = l.outbox[:rest]
			l.mu.Unlock()

			// The first change's reference is new for every batch this
			// instance makes: the log keeps one copy of a retried id.
			id := fmt.Sprintf("%s-%d", batch[0].Node, batch[0].Ref)
			_, err := l.log.Append(ctx, id, batch)
			if err == nil {
				backoff = 0
				continue
			}
			if ctx.Err() != nil {
				l.mu.Lock()
				l.failLocked(batch, ErrLobbyClosed)
				l.mu.Unlock()
				return
			}
			l.logger.Error("append to the log", "changes", len(batch), "err", err)
			l.mu.Lock()
			keep := l.failLocked(batch, fmt.Errorf("%w: %w", ErrUnavailable, err))
			// What must not be lost goes back to the head of the line.
			l.outbox = append(keep, l.outbox...)
			l.mu.Unlock()
			if len(keep) > 0 && !backOff(ctx, &backoff) {
				return
			}
		}
	}
}

// mustKeep reports whether a change has to reach the log even when that
// takes retries: the end of a session or of a node, which nobody is waiting
// to be told about but which free slots and names for everyone.
func mustKeep(c *Change) bool {
	return c.Type == ChangeClose || c.Type == ChangeGone
}

// failLocked settles the changes of a batch the log refused, telling whoever
// waits or proposed them, and returns those to try again. l.mu must be held.
func (l *Lobby) failLocked(batch []Change, err error) []Change {
	var keep []Change
	for i := range batch {
		c := &batch[i]
		if mustKeep(c) && !errors.Is(err, ErrLobbyClosed) {
			keep = append(keep, *c)
			continue
		}
		if s := l.locals[c.Session]; s != nil && c.Type == ChangeOpen {
			s.refused = true
		}
		if ch, ok := l.waiters[c.Ref]; ok {
			ch <- err
			delete(l.waiters, c.Ref)
		} else if s := l.locals[c.Session]; s != nil && c.Type != ChangeOpen && c.Type != ChangeName {
			l.noticeLocked(s, true, "%s", failedText(c))
		}
		l.settleLocked(c)
	}
	return keep
}

// failedText tells a user that what they did was not carried out.
func failedText(c *Change) string {
	if c.Type == ChangeSay {
		return "Your message could not be sent: the chat cannot save anything right now. Please try again in a moment."
	}
	return "That could not be done: the chat cannot save anything right now. Please try again in a moment."
}

// settleLocked counts c, one of this instance's changes, as done: applied,
// or given up on. l.mu must be held.
func (l *Lobby) settleLocked(c *Change) {
	if s := l.locals[c.Session]; s != nil {
		s.settled++
		close(s.settledCh)
		s.settledCh = make(chan struct{})
	}
	l.settled++
	close(l.settledCh)
	l.settledCh = make(chan struct{})
}
