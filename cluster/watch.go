package cluster

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
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

// downGrace is how long NATS may be out of reach before users are told.
const downGrace = time.Second

// lostNATS is what users read while their node cannot reach NATS.
const lostNATS = "Lost contact with the rest of the chat; reconnecting. What you type is not sent meanwhile."

// heartbeats records when each node instance was last heard, from the
// moment the log is opened: a node about to start can tell whether another
// with its name is running.
type heartbeats struct {
	mu    sync.Mutex           // guards heard
	heard map[string]time.Time // instance → last heartbeat
}

func (h *heartbeats) record(inst string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.heard[inst] = time.Now()
}

func (h *heartbeats) last(inst string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.heard[inst]
}

func (h *heartbeats) forget(inst string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.heard, inst)
}

// named lists the instances of the node called name heard since t.
func (h *heartbeats) named(name string, t time.Time) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for inst, at := range h.heard {
		if at.After(t) && strings.HasPrefix(inst, name+"~") {
			out = append(out, inst)
		}
	}
	return out
}

// NameInUse listens for a heartbeat long enough to hear every running node
// and reports an instance of a running node called name, if any. A node
// starting takes every session its name held for its own dead
// predecessors', so two nodes under one name would end each other's users:
// the second must not start.
func (g *Log) NameInUse(ctx context.Context, name string) (string, bool) {
	since := time.Now().Add(-g.cfg.HeartbeatEvery)
	t := time.NewTimer(g.cfg.HeartbeatEvery + g.cfg.HeartbeatEvery/2)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	if insts := g.heard.named(name, since); len(insts) > 0 {
		return insts[0], true
	}
	return "", false
}

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
	heard := g.heard
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
	told := false // users were told NATS is lost
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
		now := time.Now()
		switch {
		case up && told:
			m.LogUp()
			told = false
		case !up && !told && now.Sub(since) >= downGrace:
			// A reconnect to another server takes milliseconds and
			// users need not hear of it: what they type meanwhile waits
			// in the log's retries. Only a longer loss is news.
			m.LogDown(lostNATS)
			told = true
		}
		if now.Sub(lastBeat) >= g.cfg.HeartbeatEvery {
			// A lost heartbeat costs nothing: the next one follows.
			_ = g.nc.Publish(aliveSubject, []byte(m.Instance()))
			lastBeat = now
		}
		// Who holds sessions, and since when this node knows it: an
		// instance gets DeadAfter from then to be heard.
		current := m.Instances()
		for _, inst := range current {
			if _, ok := noticed[inst]; !ok {
				noticed[inst] = now
			}
		}
		for inst := range noticed {
			if !slices.Contains(current, inst) {
				delete(noticed, inst)
				heard.forget(inst)
			}
		}
		if !up || now.Sub(since) < g.cfg.DeadAfter {
			// Cut off, or not connected long enough to have heard
			// everyone: nobody's silence means anything yet.
			continue
		}
		var dead []string
		for _, inst := range current {
			if now.Sub(noticed[inst]) >= g.cfg.DeadAfter && now.Sub(heard.last(inst)) >= g.cfg.DeadAfter {
				dead = append(dead, inst)
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
