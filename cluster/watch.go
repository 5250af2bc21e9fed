package cluster

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Members is what Watch needs of the chat: the lobby.Lobby.
type Members interface {
	// Instance is this node's own instance name.
	Instance() string
	// Instances lists the other node instances that hold sessions.
	Instances() []string
	// DeclareGone has every node end the sessions of a dead instance.
	DeclareGone(ctx context.Context, inst string) error
	// LogDown and LogUp tell this node's users that the chat cannot be
	// reached, and then that it can again.
	LogDown(why string)
	LogUp()
}

// lostNATS is what users read while their node cannot reach NATS.
const lostNATS = "Lost contact with the rest of the chat; reconnecting. What you type is not sent meanwhile."

// connEvents passes the connection's ups and downs from the NATS client's
// callbacks to Watch.
type connEvents struct {
	mu    sync.Mutex // guards every field below
	up    bool
	since time.Time // when up last changed
	ch    chan struct{}
}

func newConnEvents() *connEvents {
	return &connEvents{up: true, since: time.Now(), ch: make(chan struct{}, 1)}
}

func (e *connEvents) set(up bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.up == up {
		return
	}
	e.up, e.since = up, time.Now()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

func (e *connEvents) state() (bool, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.up, e.since
}

// Watch keeps this node's heartbeat going and takes the others' silence
// for death: an instance that holds sessions and has not been heard for
// DeadAfter, while this node has been connected all that time, is
// declared gone, so that every node ends its sessions. Several nodes may
// declare the same instance; the log keeps the first. It also tells m's
// users when NATS is lost and found again. It returns when ctx ends.
func (g *Log) Watch(ctx context.Context, m Members) error {
	var (
		mu    sync.Mutex               // guards heard
		heard = map[string]time.Time{} // instance → last heartbeat
	)
	sub, err := g.nc.Subscribe(aliveSubject, func(msg *nats.Msg) {
		mu.Lock()
		heard[string(msg.Data)] = time.Now()
		mu.Unlock()
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()

	noticed := map[string]time.Time{} // instance → when this node first saw it hold sessions
	// Declarations run aside: one waits on the stream (seconds, during a
	// leader election) and this node's own heartbeat must not.
	var declaring sync.WaitGroup
	defer declaring.Wait()
	pending := map[string]bool{} // being declared; touched by this goroutine only
	declared := make(chan string, 16)
	tick := time.NewTicker(g.cfg.HeartbeatEvery / 2)
	defer tick.Stop()
	lastBeat := time.Time{}
	wasUp := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.events.ch:
		case <-tick.C:
		case inst := <-declared:
			delete(pending, inst)
			continue
		}
		up, since := g.events.state()
		if up != wasUp {
			if up {
				m.LogUp()
			} else {
				m.LogDown(lostNATS)
			}
			wasUp = up
		}
		now := time.Now()
		if now.Sub(lastBeat) >= g.cfg.HeartbeatEvery {
			// A lost heartbeat costs nothing: the next one follows.
			_ = g.nc.Publish(aliveSubject, []byte(m.Instance()))
			lastBeat = now
		}
		if !up || now.Sub(since) < g.cfg.DeadAfter {
			// Cut off, or not connected long enough to have heard
			// everyone: nobody's silence means anything yet.
			continue
		}
		current := m.Instances()
		mu.Lock()
		var dead []string
		for _, inst := range current {
			first, ok := noticed[inst]
			if !ok {
				noticed[inst] = now
				continue
			}
			last := heard[inst]
			if now.Sub(first) >= g.cfg.DeadAfter && now.Sub(last) >= g.cfg.DeadAfter {
				dead = append(dead, inst)
			}
		}
		mu.Unlock()
		for inst := range noticed {
			if !slices.Contains(current, inst) {
				delete(noticed, inst)
				mu.Lock()
				delete(heard, inst)
				mu.Unlock()
			}
		}
		for _, inst := range dead {
			if pending[inst] {
				continue
			}
			pending[inst] = true
			g.log.Warn("a node went silent; ending its sessions", "instance", inst, "silent_for", g.cfg.DeadAfter)
			declaring.Add(1)
			go func() {
				defer declaring.Done()
				dctx, cancel := context.WithTimeout(ctx, g.cfg.AppendTimeout)
				defer cancel()
				if err := m.DeclareGone(dctx, inst); err != nil && ctx.Err() == nil {
					g.log.Error("declare a node gone", "instance", inst, "err", err)
				}
				select {
				case declared <- inst:
				case <-ctx.Done():
				}
			}()
		}
	}
}
