package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// send runs the send phase: stalls, tokens at the set rate, then the wait
// for stragglers; and computes the figures.
func (b *bench) send(ctx context.Context) error {
	cfg := b.cfg
	live := b.clientsWhere(func(int, *client) bool { return true })
	b.stallClients(ctx)
	stopResizing := b.keepResizingStalled()
	defer stopResizing()

	if cfg.Unread {
		stop, err := b.startElsewhere(ctx)
		if err != nil {
			return err
		}
		defer stop()
	}

	toks, names := b.tokens()
	receivers := b.clientsWhere(func(i int, _ *client) bool { return b.isEmulator(i) })
	toks.epoch = time.Now()
	for _, c := range receivers {
		c.startScan(toks)
	}
	// Bytes are counted on clients that neither send (their typing echoes)
	// nor stall, unless every client sends.
	counted := b.clientsWhere(func(i int, _ *client) bool {
		return !b.isStalled(i) && (!b.isSender(i) || cfg.Senders == cfg.N)
	})
	before := trafficOf(counted)
	cpu0 := toolCPU()
	server := &cpuSampler{pids: b.pids, epoch: toks.epoch}
	server.sample()

	b.logf("sending: %d senders × %d at %.2f/s (%.1f msg/s in all) to %d receivers (%d emulating, %d stalled)",
		cfg.Senders, cfg.Count, cfg.Rate, cfg.Rate*float64(cfg.Senders), len(live), len(receivers), cfg.Stall)
	posts := b.startSenders(ctx, names, toks.epoch)
	expected := len(receivers) * len(names)
	if err := b.awaitDelivery(ctx, posts.done, receivers, int64(expected), server); err != nil {
		return err
	}
	after := trafficOf(counted)
	b.res.ToolCPUS = (toolCPU() - cpu0).Seconds()
	if v := posts.failed.Load(); v != nil {
		b.logf("a sender failed: %v", v)
	}

	b.res.Sent = int(posts.sent.Load())
	b.res.Expected = expected
	b.dumpScreen(receivers)
	seen := make([][]int64, len(receivers))
	for i, c := range receivers {
		seen[i] = c.stopScan()
	}
	lastSeen := b.res.addLatencies(seen, posts.times(), cfg.Count)
	b.res.addTraffic(traffic{after.bytes - before.bytes, after.reads - before.reads}, len(counted))
	b.res.addServerCPU(server.samples, lastSeen, len(live)-cfg.Stall)
	return nil
}

// clientsWhere is the logged-in clients for which keep returns true.
func (b *bench) clientsWhere(keep func(i int, c *client) bool) []*client {
	var out []*client
	for i, c := range b.clients {
		if c.ok && keep(i, c) {
			out = append(out, c)
		}
	}
	return out
}

// stallClients makes the stalled clients stop reading, and their sessions'
// output fill their buffers (each resize repaints the whole screen) before
// anything is measured.
func (b *bench) stallClients(ctx context.Context) {
	cfg := b.cfg
	for i, c := range b.clients {
		if b.isStalled(i) && c.ok {
			c.conn.stalled.Store(true)
		}
	}
	if cfg.Stall <= 0 || cfg.Profile == profLine {
		return
	}
	for k := range cfg.StallFill {
		for i, c := range b.clients {
			if b.isStalled(i) && c.sess != nil {
				_ = c.sess.WindowChange(cfg.H, cfg.W-k%2)
			}
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	sleepCtx(ctx, time.Second)
}

// keepResizingStalled makes stalled clients keep resizing during the send
// phase (-stall-resize): each resize makes a full-screen server repaint
// them, so their socket buffers fill within seconds however large the
// kernel made them. The function it returns stops them and waits.
func (b *bench) keepResizingStalled() (stop func()) {
	cfg := b.cfg
	done := make(chan struct{})
	var resizers sync.WaitGroup
	if cfg.Stall > 0 && cfg.StallResize > 0 && cfg.Profile != profLine {
		for i, c := range b.clients {
			if !b.isStalled(i) || !c.ok {
				continue
			}
			resizers.Add(1)
			go func() {
				defer resizers.Done()
				t := time.NewTicker(time.Duration(float64(time.Second) / cfg.StallResize))
				defer t.Stop()
				for k := 0; ; k++ {
					select {
					case <-done:
						_ = c.sess.WindowChange(cfg.H, cfg.W)
						return
					case <-t.C:
						_ = c.sess.WindowChange(cfg.H, cfg.W-k%2)
					}
				}
			}()
		}
	}
	return func() { close(done); resizers.Wait() }
}

// tokens makes the run's tokens: sender s's message i is names[s*Count+i].
// They have a fixed length, so a cut-off one never matches another. The
// epoch is left for the caller to set.
func (b *bench) tokens() (*tokenSet, []string) {
	cfg := b.cfg
	toks := &tokenSet{prefix: "tk" + b.run + "-", index: make(map[string]int32, cfg.Senders*cfg.Count)}
	names := make([]string, 0, cfg.Senders*cfg.Count)
	for s := range cfg.Senders {
		for i := range cfg.Count {
			t := fmt.Sprintf("%s%03d-%05d", toks.prefix, s, i)
			toks.index[t] = int32(len(names))
			names = append(names, t)
		}
	}
	toks.length = len(names[0])
	return toks, names
}

// posts is the senders' side of the send phase.
type posts struct {
	done   chan struct{}  // closed when every sender has finished
	sent   atomic.Int64   // messages typed
	at     []atomic.Int64 // per token: when it was typed, ns since the epoch
	failed atomic.Value   // the first error a sender met
}

// times is when each token was typed, once done is closed.
func (p *posts) times() []int64 {
	out := make([]int64, len(p.at))
	for i := range p.at {
		out[i] = p.at[i].Load()
	}
	return out
}

// startSenders starts every logged-in sender posting its tokens at the set
// rate, the senders spread evenly over one interval.
func (b *bench) startSenders(ctx context.Context, names []string, epoch time.Time) *posts {
	cfg := b.cfg
	p := &posts{done: make(chan struct{}), at: make([]atomic.Int64, len(names))}
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now().Add(50 * time.Millisecond)
	var wg sync.WaitGroup
	for s := range cfg.Senders {
		c := b.clients[s]
		if !c.ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := start.Add(time.Duration(s) * interval / time.Duration(cfg.Senders))
			b.post(ctx, c, names[s*cfg.Count:(s+1)*cfg.Count], s*cfg.Count, first, interval, epoch, p)
		}()
	}
	go func() { wg.Wait(); close(p.done) }()
	return p
}

// post types one sender's tokens, the first at first and then one every
// interval; the token toks[i] is number base+i of the run.
func (b *bench) post(ctx context.Context, c *client, toks []string, base int, first time.Time, interval time.Duration, epoch time.Time, p *posts) {
	for i, text := range toks {
		if !sleepCtx(ctx, time.Until(first.Add(time.Duration(i)*interval))) {
			return
		}
		if b.cfg.Pad > len(text) {
			text += " " + padText(b.cfg.Pad-len(text)-1)
		}
		p.at[base+i].Store(int64(time.Since(epoch)))
		if err := c.typeLine(text); err != nil {
			p.failed.CompareAndSwap(nil, err)
			return
		}
		p.sent.Add(1)
	}
}

// awaitDelivery samples the server's CPU until the senders are done and then
// every receiver has seen every token or the grace period is over: the CPU
// window then ends when the last token shows, not when the grace runs out.
func (b *bench) awaitDelivery(ctx context.Context, sendDone <-chan struct{}, receivers []*client, expected int64, server *cpuSampler) error {
	seenAll := func() bool {
		var n int64
		for _, c := range receivers {
			n += c.seenCount.Load()
		}
		return n >= expected
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var graceEnd time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sendDone:
			sendDone = nil
			graceEnd = time.Now().Add(b.cfg.Grace)
		case <-tick.C:
			server.sample()
			if sendDone == nil && (seenAll() || time.Now().After(graceEnd)) {
				return nil
			}
		}
	}
}

// dumpScreen writes the last receiver's screen to Dump, if it is set.
func (b *bench) dumpScreen(receivers []*client) {
	if b.cfg.Dump == nil || len(receivers) == 0 {
		return
	}
	c := receivers[len(receivers)-1]
	c.mu.Lock()
	fmt.Fprintf(b.cfg.Dump, "--- screen of %s ---\n%s\n---\n", c.name, c.currentLocked())
	c.mu.Unlock()
}

func padText(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(filler[sb.Len()%len(filler)])
		sb.WriteByte(' ')
	}
	return sb.String()[:n]
}
