package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// elsewhere is the room -unread has every client visit before the bench
// room, and where lines are said during the run, so that every client's
// unread count of it changes all along.
const elsewhere = "elsewhere"

// directMessages has every client send the next one a direct message, so
// that each has a Direct section with a conversation it has read (its
// own) and one it has not (the previous client's). It waits until each
// emulating client has seen its echo; the others only drain, and the
// settling before the send phase lets their messages through.
func (b *bench) directMessages(ctx context.Context) error {
	live := b.clientsWhere(func(int, *client) bool { return true })
	if len(live) < 2 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.LoginTimeout)
	defer cancel()
	errs := make([]error, len(live))
	var wg sync.WaitGroup
	for i, c := range live {
		to := live[(i+1)%len(live)]
		wg.Go(func() {
			if errs[i] = c.typeLine("/msg " + to.name + " hello from " + c.name); errs[i] == nil && !c.drainReq.Load() {
				errs[i] = c.waitText(ctx, "you → "+to.name)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("direct message from %s: %w", live[i].name, err)
		}
	}
	b.logf("%d direct messages sent, one to each client", len(live))
	return nil
}

// startElsewhere connects one line-mode client per sender into the room
// elsewhere and has each say Count lines at the senders' rate, the same
// number of lines as the run's, in step with them. The lines name nobody.
// The posters are closed when the function it returns is called.
func (b *bench) startElsewhere(ctx context.Context) (stop func(), err error) {
	cfg := b.cfg
	var posters []*client
	closeAll := func() {
		for _, c := range posters {
			c.close()
		}
	}
	for s := range cfg.Senders {
		c := &client{id: -2 - s, name: fmt.Sprintf("e%s%03d", b.run, s), prof: profLine}
		posters = append(posters, c)
		if err := c.connect(ctx, b.addr); err != nil {
			closeAll()
			return nil, fmt.Errorf("connect a poster elsewhere: %w", err)
		}
		s := lineScript{ctx: ctx, c: c}
		err := s.await("the name prompt", namePrompt)
		if err == nil {
			err = c.typeLine(c.name)
		}
		if err == nil {
			err = s.await("the lobby", "You are in the Lobby")
		}
		if err == nil {
			err = s.enter(elsewhere)
		}
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("a poster elsewhere: %w", err)
		}
		c.drainReq.Store(true)
	}
	p := &posts{done: make(chan struct{}), at: make([]atomic.Int64, cfg.Senders*cfg.Count)}
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now().Add(50 * time.Millisecond)
	epoch := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for s, c := range posters {
		lines := make([]string, cfg.Count)
		for i := range lines {
			lines[i] = fmt.Sprintf("elsewhere %03d-%05d", s, i)
		}
		wg.Go(func() {
			first := start.Add(time.Duration(s)*interval/time.Duration(cfg.Senders) + interval/2)
			b.post(ctx, c, lines, s*cfg.Count, first, interval, epoch, p)
		})
	}
	b.logf("%d posters elsewhere", len(posters))
	return func() {
		cancel()
		wg.Wait()
		closeAll()
	}, nil
}
