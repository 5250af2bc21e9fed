// Package logthrottle keeps a storm of one error from filling the log. A
// full disk once made the server log the same failure 153,166 times (17 MB)
// in 25 seconds; behind this handler it logs it once, then once per
// interval with the number of times it was left out.
//
// Records are grouped by level and message. The first of a group passes at
// once; the rest are counted, and at the end of each interval in which any
// were left out one summary record goes out: the last of them, with the
// attributes "repeated" (how many were left out) and "interval". An
// interval with none ends the group, so the next such record passes at once
// again. Records below the handler's level (Info and Debug by default) are
// never held back: they are not where storms come from, and each one says
// something different (who signed in).
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxGroups bounds the groups tracked at once. Messages are constant
// strings in the code, so a few dozen is a lot; past the bound records pass
// unthrottled rather than grow memory.
const maxGroups = 1024

// Handler is a slog.Handler that passes records on to another one, holding
// back repeats as the package doc says. It is safe for concurrent use; the
// handlers WithAttrs and WithGroup derive from it share its groups, so a
// message logged through many loggers (one per session) is throttled as
// one.
type Handler struct {
	next  slog.Handler
	state *state
}

type state struct {
	interval time.Duration
	min      slog.Level

	mu     sync.Mutex // guards groups and closed
	groups map[key]*group
	closed bool

	sending sync.WaitGroup // summaries on their way out, for Close
}

type key struct {
	level slog.Level
	msg   string
}

// group is one message at one level while it repeats.
type group struct {
	held  int          // records left out in this interval
	last  slog.Record  // the latest of them
	via   slog.Handler // the handler last came through, with its attributes
	timer *time.Timer
}

// Options adjust a Handler.
type Options struct {
	// Level is the least level that is throttled; default slog.LevelWarn.
	Level slog.Leveler
}

// New returns a Handler in front of next that lets each repeated message
// through once per interval.
func New(next slog.Handler, interval time.Duration, opts *Options) *Handler {
	st := &state{interval: interval, min: slog.LevelWarn, groups: make(map[key]*group)}
	if opts != nil && opts.Level != nil {
		st.min = opts.Level.Level()
	}
	return &Handler{next: next, state: st}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), state: h.state}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), state: h.state}
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	st := h.state
	if r.Level < st.min {
		return h.next.Handle(ctx, r)
	}
	k := key{r.Level, r.Message}
	st.mu.Lock()
	if g, ok := st.groups[k]; ok {
		g.held++
		g.last, g.via = r.Clone(), h.next
		st.mu.Unlock()
		return nil
	}
	if !st.closed && len(st.groups) < maxGroups {
		g := &group{}
		g.timer = time.AfterFunc(st.interval, func() { st.tick(k, g) })
		st.groups[k] = g
	}
	st.mu.Unlock()
	return h.next.Handle(ctx, r)
}

// tick ends one interval of group g: it sends the summary of what was held
// back, or ends the group when nothing was.
func (st *state) tick(k key, g *group) {
	st.mu.Lock()
	if st.groups[k] != g {
		st.mu.Unlock()
		return // ended by Close
	}
	if g.held == 0 {
		delete(st.groups, k)
		st.mu.Unlock()
		return
	}
	rec, via := st.summary(g)
	g.timer.Reset(st.interval)
	st.sending.Add(1)
	st.mu.Unlock()
	// Outside the lock: a slow writer must not hold up every logger.
	defer st.sending.Done()
	_ = via.Handle(context.Background(), rec)
}

// summary makes the record that stands for g's held-back records and starts
// a new count. st.mu must be held.
func (st *state) summary(g *group) (slog.Record, slog.Handler) {
	rec := slog.NewRecord(time.Now(), g.last.Level, g.last.Message, g.last.PC)
	g.last.Attrs(func(a slog.Attr) bool {
		rec.AddAttrs(a)
		return true
	})
	rec.AddAttrs(slog.Int("repeated", g.held), slog.Duration("interval", st.interval))
	via := g.via
	g.held, g.last, g.via = 0, slog.Record{}, nil
	return rec, via
}

// Close sends the summaries of everything held back so far, stops the
// timers and returns once every summary is out; records after it pass
// unthrottled. Call it before the program
// exits, so that the last counts are not lost.
func (h *Handler) Close() {
	st := h.state
	st.mu.Lock()
	st.closed = true
	var recs []slog.Record
	var vias []slog.Handler
	for k, g := range st.groups {
		g.timer.Stop()
		if g.held > 0 {
			rec, via := st.summary(g)
			recs, vias = append(recs, rec), append(vias, via)
		}
		delete(st.groups, k)
	}
	st.mu.Unlock()
	for i, rec := range recs {
		_ = vias[i].Handle(context.Background(), rec)
	}
	st.sending.Wait()
}
