package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

const namePrompt = "Enter your screen name"

// setup prepares chatroom in line mode: the extra rooms, the bench room and
// its history. Posting history fast needs the flood limit off.
func (b *bench) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	c := &client{id: -1, name: "setup" + b.run, prof: profLine}
	if err := c.connect(ctx, b.addr); err != nil {
		return err
	}
	defer c.close()
	s := lineScript{ctx: ctx, c: c}
	if err := s.await("the name prompt", namePrompt); err != nil {
		return err
	}
	if err := c.typeLine(c.name); err != nil {
		return err
	}
	if err := s.await("the lobby", "You are in the Lobby"); err != nil {
		return err
	}
	for i := 1; i <= b.cfg.Rooms; i++ {
		if _, err := s.create(fmt.Sprintf("room%02d", i)); err != nil {
			return err
		}
	}
	if b.cfg.Unread {
		if _, err := s.create(elsewhere); err != nil {
			return err
		}
	}
	if err := s.enter(b.cfg.Room); err != nil {
		return err
	}
	if err := b.postHistory(s); err != nil {
		return err
	}
	_ = c.typeLine("/quit")
	return nil
}

// lineScript drives a line-mode client step by step, each step with its
// own deadline.
type lineScript struct {
	ctx context.Context
	c   *client
}

// await waits up to 30 s for the output to show one of texts.
func (s lineScript) await(what string, texts ...string) error {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	return s.c.waitFor(ctx, what, func(out string) bool {
		for _, t := range texts {
			if strings.Contains(out, t) {
				return true
			}
		}
		return false
	})
}

// create creates room, or finds that it exists.
func (s lineScript) create(room string) (created bool, err error) {
	s.c.clearText()
	if err := s.c.typeLine("/create " + room); err != nil {
		return false, err
	}
	if err := s.await("room "+room, "created "+room, room+" already exists"); err != nil {
		return false, err
	}
	return s.c.shows("created " + room), nil
}

// enter creates room and so moves into it, or joins it if it exists.
func (s lineScript) enter(room string) error {
	created, err := s.create(room)
	if err != nil || created {
		return err
	}
	s.c.clearText()
	if err := s.c.typeLine("/join " + room); err != nil {
		return err
	}
	return s.await("joining "+room, s.c.name+" joined "+room, "already in "+room)
}

// postHistory posts History lines into the room s is in, a hundred at a
// time.
func (b *bench) postHistory(s lineScript) error {
	if b.cfg.History <= 0 {
		return nil
	}
	start := time.Now()
	const batch = 100
	for i := 0; i < b.cfg.History; i += batch {
		var sb strings.Builder
		last := ""
		for j := i; j < min(i+batch, b.cfg.History); j++ {
			last = fmt.Sprintf("hist%s-%05d", b.run, j)
			fmt.Fprintf(&sb, "%s %s\n", last, filler[j%len(filler)])
		}
		s.c.clearText()
		if _, err := io.WriteString(s.c.stdin, sb.String()); err != nil {
			return fmt.Errorf("post history: %w", err)
		}
		if err := s.await("history line "+last+" (is the flood limit off? --flood-rate -1)", last+" "); err != nil {
			return err
		}
	}
	b.logf("posted %d history lines in %.1f s", b.cfg.History, time.Since(start).Seconds())
	return nil
}

// filler is chat-like text for history lines.
var filler = []string{
	"did anyone try the new build on arm64 yet?",
	"yes, works for me, but the sidebar flickers when I resize",
	"lunch in ten minutes",
	"I pushed the fix for the reconnect loop, please review",
	"can we move the standup to 10:30 tomorrow",
	"ok",
	"the deploy finished, graphs look normal",
	"who owns the flaky e2e test in sshserver?",
}

func (c *client) clearText() {
	c.mu.Lock()
	c.text = c.text[:0]
	c.mu.Unlock()
}

func (c *client) shows(text string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Contains(c.currentLocked(), text)
}

// login connects every client at once (bounded by Concurrency), runs the
// login script and joins the room, sampling the server's memory meanwhile.
func (b *bench) login(ctx context.Context) error {
	cfg := b.cfg
	var cpu0 time.Duration
	if b.pid > 0 {
		if st, err := b.readServer(); err == nil {
			cpu0 = st.cpu
			b.res.RSSPeakKB = st.rssKB
		}
	}
	stopSampling := b.samplePeakRSS()
	t0 := time.Now()
	all, times, errs := b.loginAll(ctx, t0)
	elapsed := time.Since(t0)
	b.res.LoginReads = float64(trafficOf(all).reads) / float64(len(all))
	stopSampling()
	if b.pid > 0 {
		if st, err := b.readServer(); err == nil {
			b.res.ServerCPULoginS = (st.cpu - cpu0).Seconds()
		}
	}

	for i, c := range all {
		if errs[i] != nil {
			c.close()
		}
	}
	b.clients = all
	b.res.addLogins(times, errs)
	b.logf("%d of %d clients in %s in %.2f s (login %.2f s, join %.2f s); server CPU %.2f s; peak RSS %d MB",
		cfg.N-b.res.LoginFailed, cfg.N, cfg.Room, elapsed.Seconds(), b.res.LoginS, b.res.JoinS, b.res.ServerCPULoginS, b.res.RSSPeakKB>>10)
	if b.res.LoginFailed > 0 {
		b.logf("first login error: %s", b.res.LoginError)
		// Measuring with some clients missing would mislead: stop here
		// unless only a few drainers are missing.
		for i := range all {
			if errs[i] != nil && (b.isSender(i) || b.isEmulator(i)) {
				return fmt.Errorf("%d logins failed, among them sender or receiver %d: %v", b.res.LoginFailed, i, errs[i])
			}
		}
	}
	return nil
}

// samplePeakRSS raises RSSPeakKB to the server's RSS every 20 ms until the
// function it returns is called.
func (b *bench) samplePeakRSS() (stop func()) {
	if b.pid <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if st, err := b.readServer(); err == nil && st.rssKB > b.res.RSSPeakKB {
					b.res.RSSPeakKB = st.rssKB
				}
			}
		}
	}()
	return func() { close(done); <-sampled }
}

// loginAll starts every client's login at once, Concurrency of them
// connecting at a time, and waits for them all. Each client that logged in
// and joined is marked ok; those that do not emulate start draining.
func (b *bench) loginAll(ctx context.Context, t0 time.Time) ([]*client, []loginTimes, []error) {
	cfg := b.cfg
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = cfg.N
	}
	sem := make(chan struct{}, conc)
	all := make([]*client, cfg.N)
	times := make([]loginTimes, cfg.N)
	errs := make([]error, cfg.N)
	var wg sync.WaitGroup
	for i := range cfg.N {
		c := &client{id: i, name: fmt.Sprintf("b%s%04d", b.run, i), prof: cfg.Profile, w: cfg.W, h: cfg.H, stall: b.isStalled(i)}
		all[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, cfg.LoginTimeout)
			defer cancel()
			l, j, err := b.loginOne(lctx, c, sem, t0)
			times[i], errs[i] = loginTimes{l, j}, err
			if err == nil {
				c.ok = true
				if !b.isEmulator(i) {
					c.drainReq.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return all, times, errs
}

// loginOne connects c (holding a place in sem meanwhile), gives its name and
// joins the room. The times are since t0.
func (b *bench) loginOne(ctx context.Context, c *client, sem chan struct{}, t0 time.Time) (login, join time.Duration, err error) {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	err = c.connect(ctx, b.addrFor(c.id))
	<-sem
	if err != nil {
		return 0, 0, err
	}
	if err := c.signIn(ctx); err != nil {
		return 0, 0, err
	}
	login = time.Since(t0)
	if c.prof == profSSHChat {
		// ssh-chat puts everyone in its one room.
		return login, login, nil
	}
	if b.cfg.Unread {
		// Been there: its lines count as unread from now on.
		if err := c.join(ctx, elsewhere); err != nil {
			return 0, 0, err
		}
	}
	if err := c.join(ctx, b.cfg.Room); err != nil {
		return 0, 0, err
	}
	return login, time.Since(t0), nil
}

// signIn waits for the name prompt, gives the client's name and waits until
// the server has taken it.
func (c *client) signIn(ctx context.Context) error {
	switch c.prof {
	case profSSHChat:
		// ssh-chat takes the name from the SSH user; the prompt
		// "[name] " says it is done.
		return c.waitText(ctx, "["+c.name+"]")
	case profLine:
		if err := c.waitText(ctx, namePrompt); err != nil {
			return err
		}
		if err := c.typeLine(c.name); err != nil {
			return err
		}
		return c.waitText(ctx, "You are in the Lobby")
	default:
		if err := c.waitText(ctx, namePrompt); err != nil {
			return err
		}
		if err := c.typeLine(c.name); err != nil {
			return err
		}
		return c.waitFor(ctx, "the main screen", func(s string) bool {
			return strings.Contains(s, c.name) && !strings.Contains(s, namePrompt)
		})
	}
}

// join joins room and waits until the client's screen says so.
func (c *client) join(ctx context.Context, room string) error {
	if err := c.typeLine("/join " + room); err != nil {
		return err
	}
	// In a join storm the TUI may never draw a session's own join line:
	// frames coalesce and it scrolls away between two of them. The status
	// line ("NAME · ROOM · N online") says it too.
	joined := c.name + " joined " + room
	status := c.name + " · " + room + " ·"
	return c.waitFor(ctx, fmt.Sprintf("%q", joined), func(s string) bool {
		return strings.Contains(s, joined) || c.prof == profTUI && strings.Contains(s, status)
	})
}
