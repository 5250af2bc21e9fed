package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"time"
)

// bench is the state of one run.
type bench struct {
	cfg     Config
	addr    string   // the first node's
	addrs   []string // every node's, clients go to them in turn
	pid     int      // the first node's, 0 when unknown
	pids    []int    // every server process: the nodes, and NATS
	run     string   // random id: names and tokens of this run
	clients []*client
	res     Result
	srv     *serverProc   // the first node; nil with -addr
	srvs    []*serverProc // every node
}

// addrFor is the node client i connects to.
func (b *bench) addrFor(i int) string {
	if len(b.addrs) == 0 || i < 0 {
		return b.addr
	}
	return b.addrs[i%len(b.addrs)]
}

// readServer is every server process's figures summed: CPU, memory,
// threads.
func (b *bench) readServer() (procStat, error) {
	return readProcs(b.pids)
}

func (b *bench) logf(format string, args ...any) {
	if b.cfg.Log != nil {
		fmt.Fprintf(b.cfg.Log, "chatbench: "+time.Now().Format("15:04:05.000")+" "+format+"\n", args...)
	}
}

// Run performs one load run and returns what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, addr: cfg.Addr, pid: cfg.PID, run: randID(4)}
	if cfg.PID > 0 {
		b.pids = []int{cfg.PID}
	}
	b.res = Result{
		Label: cfg.Label, Server: cfg.Addr, Profile: cfg.Profile.String(), Started: time.Now().UTC(),
		N: cfg.N, Emulate: cfg.Emulate, Senders: cfg.Senders, Rate: cfg.Rate, Count: cfg.Count,
		Size: fmt.Sprintf("%dx%d", cfg.W, cfg.H), Rooms: cfg.Rooms, History: cfg.History, Stall: cfg.Stall, Unread: cfg.Unread,
		ServerArgs: cfg.ServerArgs,
	}
	if cfg.Profile == profLine {
		b.res.Size = "none"
	}
	if cfg.Server != "" {
		stop, err := b.startServers(ctx)
		defer stop()
		if err != nil {
			return nil, err
		}
		b.res.Server = serverName(cfg.Server)
		b.res.Nodes = max(1, cfg.Nodes)
	}
	defer b.closeAll()

	if cfg.Profile != profSSHChat {
		if err := b.setup(ctx); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	if b.pid > 0 {
		b.settle(ctx, 0)
		if st, err := b.readServer(); err == nil {
			b.res.RSSBaseKB = st.rssKB
		}
	}
	if err := b.login(ctx); err != nil {
		return nil, err
	}
	if cfg.Unread {
		if err := b.directMessages(ctx); err != nil {
			return nil, err
		}
	}
	if b.pid > 0 {
		b.settle(ctx, cfg.Settle)
		if st, err := b.readServer(); err == nil {
			b.res.addIdleMemory(st, len(b.clients))
		}
	}
	if err := b.send(ctx); err != nil {
		return nil, err
	}
	if b.pid > 0 {
		if st, err := b.readServer(); err == nil {
			b.res.RSSAfterKB = st.rssKB
		}
	}
	b.checkStalled()
	b.countDropped()
	return &b.res, nil
}

func serverName(path string) string {
	base := path[strings.LastIndexByte(path, '/')+1:]
	if strings.Contains(strings.ToLower(base), "ssh-chat") || strings.Contains(strings.ToLower(base), "sshchat") {
		return "ssh-chat"
	}
	return base
}

// randID is n random lower-case letters and digits.
func randID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, n)
	for i := range out {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		out[i] = alphabet[v.Int64()]
	}
	return string(out)
}

// Roles: senders are the first clients, stalled ones come next, emulating
// receivers are the last.
func (b *bench) isSender(i int) bool  { return i < b.cfg.Senders }
func (b *bench) isStalled(i int) bool { return i >= b.cfg.Senders && i < b.cfg.Senders+b.cfg.Stall }
func (b *bench) isEmulator(i int) bool {
	return i >= b.cfg.N-b.cfg.Emulate && !b.isStalled(i)
}

// settle waits until the server's CPU use stops falling (at most 30 s),
// then for quiet more.
func (b *bench) settle(ctx context.Context, quiet time.Duration) {
	const window = 500 * time.Millisecond
	prev := time.Duration(-1)
	last, err := b.readServer()
	if err != nil {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if !sleepCtx(ctx, window) {
			return
		}
		st, err := b.readServer()
		if err != nil {
			return
		}
		d := st.cpu - last.cpu
		last = st
		if prev >= 0 && d <= prev+prev/4+10*time.Millisecond {
			break
		}
		prev = d
	}
	sleepCtx(ctx, quiet)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// checkStalled lets stalled clients read again and counts those whose
// session the server had closed.
func (b *bench) checkStalled() {
	var stalled []*client
	for i, c := range b.clients {
		if b.isStalled(i) && c.ok {
			stalled = append(stalled, c)
			c.conn.unstall()
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, c := range stalled {
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-c.readDone:
			b.res.StalledDropped++
		case <-t.C: // still connected: the server kept it
		}
		t.Stop()
	}
}

// countDropped counts the sessions, stalled ones aside, that the server
// closed during the run, and logs why for the first few.
func (b *bench) countDropped() {
	for _, c := range b.clients {
		if c.ok && !c.stall && !c.alive() {
			b.res.Dropped++
			if b.res.Dropped <= 3 {
				b.logf("server closed %s's session (%v); stderr %q", c.name, c.readErr, strings.TrimSpace(c.stderr.String()))
			}
		}
	}
	if b.res.Dropped > 0 && b.srv != nil {
		b.logf("the server's last lines:\n%s", lastLines(b.srv.tail(), 15))
	}
}

// closeAll hangs up every client, a bounded number at a time.
func (b *bench) closeAll() {
	sem := make(chan struct{}, max(runtime.NumCPU()*16, 32))
	var wg sync.WaitGroup
	for _, c := range b.clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
		}()
	}
	wg.Wait()
}
