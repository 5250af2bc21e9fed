package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is one load run.
type Config struct {
	Addr       string   // a running server, HOST:PORT; or
	Server     string   // a server binary to start on 127.0.0.1:0
	ServerArgs []string // extra arguments for Server
	ServerEnv  []string // extra KEY=VALUE environment for Server
	PID        int      // the running server's PID, to read /proc (with Addr)
	Label      string   // free text kept in the result, e.g. "scale"

	Profile     profile
	N           int     // clients
	Emulate     int     // receivers that read their screen; the rest drain
	Senders     int     // clients that post
	Rate        float64 // messages per second per sender
	Count       int     // messages per sender
	Pad         int     // pad each message with text to this many bytes
	W, H        int     // PTY size
	Room        string  // the room everyone joins
	Stall       int     // clients that stop reading after login
	StallFill   int     // window changes a stalled client sends to fill its buffers
	StallResize float64 // window changes per second a stalled client keeps sending while the others are measured
	Rooms       int     // extra rooms created first, to fill the sidebar
	History     int     // lines posted into Room before anyone joins

	Concurrency  int           // connections dialled at once; 0 = all
	LoginTimeout time.Duration // per client, connect to joined
	Grace        time.Duration // wait for late tokens after the last send
	Settle       time.Duration // quiet time before idle memory is read

	Log       io.Writer // progress lines; nil = none
	ServerLog io.Writer // every line the started server prints; nil = none
	Dump      io.Writer // if set, the last receiver's screen after the send phase
}

// Result is what a run measured. Times are in milliseconds or seconds as
// the names say; memory in KB or MB.
type Result struct {
	Label      string    `json:"label,omitempty"`
	Server     string    `json:"server"`
	Profile    string    `json:"profile"`
	Started    time.Time `json:"started"`
	N          int       `json:"n"`
	Emulate    int       `json:"emulate"`
	Senders    int       `json:"senders"`
	Rate       float64   `json:"rate"`
	Count      int       `json:"count"`
	Size       string    `json:"size"`
	Rooms      int       `json:"rooms"`
	History    int       `json:"history"`
	Stall      int       `json:"stall"`
	ServerArgs []string  `json:"server_args,omitempty"`

	Sent      int     `json:"sent"`
	Expected  int     `json:"expected"`  // (emulating receiver, token) pairs
	Delivered int     `json:"delivered"` // of those, seen in time
	Lost      int     `json:"lost"`      // pairs never seen
	LostMsgs  int     `json:"lost_msgs"` // tokens no emulating receiver saw
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	Mean      float64 `json:"mean_ms"`
	// The same for messages sent in the last third of the send phase: with
	// stalled readers, after their buffers had time to fill.
	P50Late     float64 `json:"p50_late_ms"`
	P99Late     float64 `json:"p99_late_ms"`
	BytesPerMsg float64 `json:"bytes_per_msg"`
	// Reads with data per message per client: about the frames the server
	// wrote for each message (a read may hold more than one frame).
	ReadsPerMsg float64 `json:"reads_per_msg"`

	LoginS    float64 `json:"login_s"` // until every client showed the main screen
	JoinS     float64 `json:"join_s"`  // until every client had joined the room
	LoginP50S float64 `json:"login_p50_s"`
	// Reads with data per client from dial until every client had joined:
	// about the frames a login storm cost each session (its own screens
	// and the refreshes others' arrivals caused). Steadier than login_s
	// for comparing servers, which the load tool's own CPU also sways.
	LoginReads  float64 `json:"login_reads"`
	LoginFailed int     `json:"login_failed"`
	LoginError  string  `json:"login_error,omitempty"`

	RSSBaseKB           int64   `json:"rss_base_kb"`  // before the logins
	RSSPeakKB           int64   `json:"rss_peak_kb"`  // highest sampled during the logins
	RSSHWMKB            int64   `json:"rss_hwm_kb"`   // VmHWM after the logins
	RSSIdleKB           int64   `json:"rss_idle_kb"`  // settled after the logins
	RSSAfterKB          int64   `json:"rss_after_kb"` // after the send phase
	RSSIdleKBPerSession float64 `json:"rss_idle_kb_per_session"`
	RSSPeakRatio        float64 `json:"rss_peak_ratio"` // peak ÷ idle
	Threads             int     `json:"threads"`

	CPUMsPerDelivery float64 `json:"cpu_ms_per_delivery"`
	ServerCPUSendS   float64 `json:"server_cpu_send_s"`
	ServerCPULoginS  float64 `json:"server_cpu_login_s"`
	SendWindowS      float64 `json:"send_window_s"`
	ToolCPUS         float64 `json:"tool_cpu_s"`

	Dropped        int `json:"dropped"`         // sessions the server closed during the run
	StalledDropped int `json:"stalled_dropped"` // stalled sessions the server cut loose
}

func (c *Config) check() error {
	switch {
	case c.Addr == "" && c.Server == "":
		return errors.New("give -addr or -server")
	case c.Addr != "" && c.Server != "":
		return errors.New("give -addr or -server, not both")
	case c.N < 1:
		return errors.New("-n must be at least 1")
	case c.Senders < 1 || c.Senders > c.N:
		return fmt.Errorf("-senders must be between 1 and -n (%d)", c.N)
	case c.Emulate < 1 || c.Emulate > c.N:
		return fmt.Errorf("-emulate must be between 1 and -n (%d)", c.N)
	case c.Stall < 0 || c.Stall > 0 && c.Senders+c.Stall+c.Emulate > c.N:
		return errors.New("-stall needs senders + stall + emulate ≤ n, so stalled clients neither send nor emulate")
	case c.Rate <= 0 || c.Count < 1:
		return errors.New("-rate and -count must be positive")
	case c.Senders > 999 || c.Count > 99999:
		return errors.New("at most 999 senders and 99999 messages each")
	case c.Profile == profSSHChat && (c.Rooms > 0 || c.History > 0):
		return errors.New("-rooms and -history need chatroom (ssh-chat has one room)")
	}
	return nil
}

// bench is the state of one run.
type bench struct {
	cfg     Config
	addr    string
	pid     int
	run     string // random id: names and tokens of this run
	clients []*client
	res     Result
	srv     *serverProc // nil with -addr
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
	b.res = Result{
		Label: cfg.Label, Server: cfg.Addr, Profile: cfg.Profile.String(), Started: time.Now().UTC(),
		N: cfg.N, Emulate: cfg.Emulate, Senders: cfg.Senders, Rate: cfg.Rate, Count: cfg.Count,
		Size: fmt.Sprintf("%dx%d", cfg.W, cfg.H), Rooms: cfg.Rooms, History: cfg.History, Stall: cfg.Stall,
		ServerArgs: cfg.ServerArgs,
	}
	if cfg.Profile == profLine {
		b.res.Size = "none"
	}
	if cfg.Server != "" {
		srv, err := startServer(ctx, cfg.Server, cfg.Profile, cfg.ServerArgs, cfg.ServerEnv, cfg.ServerLog)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		b.srv = srv
		b.addr, b.pid = srv.addr, srv.pid
		b.res.Server = serverName(cfg.Server)
		b.logf("server %s (pid %d) at %s", cfg.Server, b.pid, b.addr)
	}
	defer b.closeAll()

	if cfg.Profile != profSSHChat {
		if err := b.setup(ctx); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	if b.pid > 0 {
		b.settle(ctx, 0)
		if st, err := readProc(b.pid); err == nil {
			b.res.RSSBaseKB = st.rssKB
		}
	}
	if err := b.login(ctx); err != nil {
		return nil, err
	}
	if b.pid > 0 {
		b.settle(ctx, cfg.Settle)
		if st, err := readProc(b.pid); err == nil {
			b.res.RSSIdleKB = st.rssKB
			b.res.RSSHWMKB = st.hwmKB
			b.res.Threads = st.threads
			n := len(b.clients)
			if n > 0 {
				b.res.RSSIdleKBPerSession = float64(st.rssKB-b.res.RSSBaseKB) / float64(n)
			}
			if st.rssKB > 0 {
				b.res.RSSPeakRatio = float64(b.res.RSSPeakKB) / float64(st.rssKB)
			}
		}
	}
	if err := b.send(ctx); err != nil {
		return nil, err
	}
	if b.pid > 0 {
		if st, err := readProc(b.pid); err == nil {
			b.res.RSSAfterKB = st.rssKB
		}
	}
	b.checkStalled()
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
	step := func(what string, cond func(string) bool) error {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return c.waitFor(wctx, what, cond)
	}
	has := func(texts ...string) func(string) bool {
		return func(s string) bool {
			for _, t := range texts {
				if strings.Contains(s, t) {
					return true
				}
			}
			return false
		}
	}
	if err := step("the name prompt", has(namePrompt)); err != nil {
		return err
	}
	if err := c.typeLine(c.name); err != nil {
		return err
	}
	if err := step("the lobby", has("You are in the Lobby")); err != nil {
		return err
	}
	create := func(room string) (created bool, err error) {
		c.clearText()
		if err := c.typeLine("/create " + room); err != nil {
			return false, err
		}
		if err := step("room "+room, has("created "+room, room+" already exists")); err != nil {
			return false, err
		}
		return c.shows("created " + room), nil
	}
	for i := 1; i <= b.cfg.Rooms; i++ {
		if _, err := create(fmt.Sprintf("room%02d", i)); err != nil {
			return err
		}
	}
	created, err := create(b.cfg.Room)
	if err != nil {
		return err
	}
	if !created {
		c.clearText()
		if err := c.typeLine("/join " + b.cfg.Room); err != nil {
			return err
		}
		if err := step("joining "+b.cfg.Room, has(c.name+" joined "+b.cfg.Room, "already in "+b.cfg.Room)); err != nil {
			return err
		}
	}
	if b.cfg.History > 0 {
		start := time.Now()
		const batch = 100
		for i := 0; i < b.cfg.History; i += batch {
			var sb strings.Builder
			last := ""
			for j := i; j < min(i+batch, b.cfg.History); j++ {
				last = fmt.Sprintf("hist%s-%05d", b.run, j)
				fmt.Fprintf(&sb, "%s %s\n", last, filler[j%len(filler)])
			}
			c.clearText()
			if _, err := io.WriteString(c.stdin, sb.String()); err != nil {
				return fmt.Errorf("post history: %w", err)
			}
			if err := step("history line "+last+" (is the flood limit off? --flood-rate -1)", has(last+" ")); err != nil {
				return err
			}
		}
		b.logf("posted %d history lines in %.1f s", b.cfg.History, time.Since(start).Seconds())
	}
	_ = c.typeLine("/quit")
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

// Roles: senders are the first clients, stalled ones come next, emulating
// receivers are the last.
func (b *bench) isSender(i int) bool  { return i < b.cfg.Senders }
func (b *bench) isStalled(i int) bool { return i >= b.cfg.Senders && i < b.cfg.Senders+b.cfg.Stall }
func (b *bench) isEmulator(i int) bool {
	return i >= b.cfg.N-b.cfg.Emulate && !b.isStalled(i)
}

// login connects every client at once (bounded by Concurrency), runs the
// login script and joins the room, sampling the server's memory meanwhile.
func (b *bench) login(ctx context.Context) error {
	cfg := b.cfg
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = cfg.N
	}
	sem := make(chan struct{}, conc)
	all := make([]*client, cfg.N)
	type times struct{ login, join time.Duration }
	got := make([]times, cfg.N)
	errs := make([]error, cfg.N)

	var cpu0 time.Duration
	if b.pid > 0 {
		if st, err := readProc(b.pid); err == nil {
			cpu0 = st.cpu
			b.res.RSSPeakKB = st.rssKB
		}
	}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		if b.pid <= 0 {
			return
		}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				if st, err := readProc(b.pid); err == nil && st.rssKB > b.res.RSSPeakKB {
					b.res.RSSPeakKB = st.rssKB
				}
			}
		}
	}()

	t0 := time.Now()
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
			got[i], errs[i] = times{l, j}, err
			if err == nil {
				c.ok = true
				if !b.isEmulator(i) {
					c.drainReq.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	var reads int64
	for _, c := range all {
		reads += c.reads.Load()
	}
	b.res.LoginReads = float64(reads) / float64(len(all))
	close(stopSampling)
	<-sampled
	if b.pid > 0 {
		if st, err := readProc(b.pid); err == nil {
			b.res.ServerCPULoginS = (st.cpu - cpu0).Seconds()
		}
	}

	var logins []float64
	for i, c := range all {
		if errs[i] != nil {
			b.res.LoginFailed++
			if b.res.LoginError == "" {
				b.res.LoginError = fmt.Sprintf("client %d: %v", i, errs[i])
			}
			c.close()
			continue
		}
		logins = append(logins, got[i].login.Seconds())
		b.res.LoginS = max(b.res.LoginS, got[i].login.Seconds())
		b.res.JoinS = max(b.res.JoinS, got[i].join.Seconds())
	}
	b.clients = all
	if len(logins) > 0 {
		slices.Sort(logins)
		b.res.LoginP50S = percentile(logins, 50)
	}
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

func (b *bench) loginOne(ctx context.Context, c *client, sem chan struct{}, t0 time.Time) (login, join time.Duration, err error) {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	err = c.connect(ctx, b.addr)
	<-sem
	if err != nil {
		return 0, 0, err
	}
	room := b.cfg.Room
	switch c.prof {
	case profSSHChat:
		// ssh-chat takes the name from the SSH user and puts everyone in
		// its one room; the prompt "[name] " says it is done.
		if err := c.waitText(ctx, "["+c.name+"]"); err != nil {
			return 0, 0, err
		}
		d := time.Since(t0)
		return d, d, nil
	case profLine:
		if err := c.waitText(ctx, namePrompt); err != nil {
			return 0, 0, err
		}
		if err := c.typeLine(c.name); err != nil {
			return 0, 0, err
		}
		if err := c.waitText(ctx, "You are in the Lobby"); err != nil {
			return 0, 0, err
		}
	default:
		if err := c.waitText(ctx, namePrompt); err != nil {
			return 0, 0, err
		}
		if err := c.typeLine(c.name); err != nil {
			return 0, 0, err
		}
		err := c.waitFor(ctx, "the main screen", func(s string) bool {
			return strings.Contains(s, c.name) && !strings.Contains(s, namePrompt)
		})
		if err != nil {
			return 0, 0, err
		}
	}
	login = time.Since(t0)
	if err := c.typeLine("/join " + room); err != nil {
		return 0, 0, err
	}
	// In a join storm the TUI may never draw a session's own join line:
	// frames coalesce and it scrolls away between two of them. The status
	// line ("NAME · ROOM · N online") says it too.
	joined := c.name + " joined " + room
	status := c.name + " · " + room + " ·"
	err = c.waitFor(ctx, fmt.Sprintf("%q", joined), func(s string) bool {
		return strings.Contains(s, joined) || c.prof == profTUI && strings.Contains(s, status)
	})
	if err != nil {
		return 0, 0, err
	}
	return login, time.Since(t0), nil
}

// settle waits until the server's CPU use stops falling (at most 30 s),
// then for quiet more.
func (b *bench) settle(ctx context.Context, quiet time.Duration) {
	const window = 500 * time.Millisecond
	prev := time.Duration(-1)
	last, err := readProc(b.pid)
	if err != nil {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if !sleepCtx(ctx, window) {
			return
		}
		st, err := readProc(b.pid)
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

// cpuSample is the server's CPU time at one moment of the send phase.
type cpuSample struct {
	at  time.Duration // since the epoch
	cpu time.Duration
}

// send runs the send phase: stalls, tokens at the set rate, then the wait
// for stragglers; and computes the figures.
func (b *bench) send(ctx context.Context) error {
	cfg := b.cfg
	var live []*client
	for _, c := range b.clients {
		if c.ok {
			live = append(live, c)
		}
	}
	// Stall first, and make the stalled sessions' output fill their
	// buffers (each resize repaints the whole screen) before measuring.
	for i, c := range b.clients {
		if b.isStalled(i) && c.ok {
			c.conn.stalled.Store(true)
		}
	}
	if cfg.Stall > 0 && cfg.Profile != profLine {
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

	// With -stall-resize, stalled clients keep resizing during the send
	// phase: each resize makes a full-screen server repaint them, so their
	// socket buffers fill within seconds however large the kernel made them.
	stopResize := make(chan struct{})
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
					case <-stopResize:
						_ = c.sess.WindowChange(cfg.H, cfg.W)
						return
					case <-t.C:
						_ = c.sess.WindowChange(cfg.H, cfg.W-k%2)
					}
				}
			}()
		}
	}
	defer func() { close(stopResize); resizers.Wait() }()

	// Tokens: fixed length, so a cut-off one never matches another.
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
	var receivers []*client
	for i, c := range b.clients {
		if b.isEmulator(i) && c.ok {
			receivers = append(receivers, c)
		}
	}
	toks.epoch = time.Now()
	for _, c := range receivers {
		c.startScan(toks)
	}
	sendAt := make([]atomic.Int64, len(names))

	// Bytes are counted on clients that neither send (their typing echoes)
	// nor stall, unless every client sends.
	var counted []*client
	for i, c := range b.clients {
		if c.ok && !b.isStalled(i) && (!b.isSender(i) || cfg.Senders == cfg.N) {
			counted = append(counted, c)
		}
	}
	bytes0 := make([]int64, len(counted))
	reads0 := make([]int64, len(counted))
	for i, c := range counted {
		bytes0[i] = c.bytes.Load()
		reads0[i] = c.reads.Load()
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var samples []cpuSample
	sample := func() {
		if b.pid > 0 {
			if st, err := readProc(b.pid); err == nil {
				samples = append(samples, cpuSample{time.Since(toks.epoch), st.cpu})
			}
		}
	}
	sample()

	b.logf("sending: %d senders × %d at %.2f/s (%.1f msg/s in all) to %d receivers (%d emulating, %d stalled)",
		cfg.Senders, cfg.Count, cfg.Rate, cfg.Rate*float64(cfg.Senders), len(live), len(receivers), cfg.Stall)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now().Add(50 * time.Millisecond)
	var wg sync.WaitGroup
	var sent atomic.Int64
	var sendErr atomic.Value
	for s := range cfg.Senders {
		c := b.clients[s]
		if !c.ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := time.Duration(s) * interval / time.Duration(cfg.Senders)
			for i := range cfg.Count {
				at := start.Add(offset + time.Duration(i)*interval)
				if !sleepCtx(ctx, time.Until(at)) {
					return
				}
				idx := s*cfg.Count + i
				text := names[idx]
				if cfg.Pad > len(text) {
					text += " " + padText(cfg.Pad-len(text)-1)
				}
				sendAt[idx].Store(int64(time.Since(toks.epoch)))
				if err := c.typeLine(text); err != nil {
					sendErr.CompareAndSwap(nil, err)
					return
				}
				sent.Add(1)
			}
		}()
	}
	// Sample the server's CPU while sending, to end its window when the
	// last token shows rather than when the grace period runs out.
	sendDone := make(chan struct{})
	go func() { wg.Wait(); close(sendDone) }()
	expected := int64(len(receivers) * len(names))
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
	var byteEnd []int64
	for done := false; !done; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sendDone:
			sendDone = nil
			graceEnd = time.Now().Add(cfg.Grace)
		case <-tick.C:
			sample()
			if sendDone == nil && (seenAll() || time.Now().After(graceEnd)) {
				done = true
			}
		}
	}
	byteEnd = make([]int64, len(counted))
	var reads int64
	for i, c := range counted {
		byteEnd[i] = c.bytes.Load()
		reads += c.reads.Load() - reads0[i]
	}
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.res.ToolCPUS = (rusageCPU(ru1) - rusageCPU(ru0)).Seconds()
	if v := sendErr.Load(); v != nil {
		b.logf("a sender failed: %v", v)
	}

	// Latency over every (receiver, token) pair.
	b.res.Sent = int(sent.Load())
	b.res.Expected = int(expected)
	if cfg.Dump != nil && len(receivers) > 0 {
		c := receivers[len(receivers)-1]
		c.mu.Lock()
		fmt.Fprintf(cfg.Dump, "--- screen of %s ---\n%s\n---\n", c.name, c.currentLocked())
		c.mu.Unlock()
	}
	var lat, late []float64
	var lastSeen int64
	seenBy := make([]int, len(names))
	lateFrom := cfg.Count * 2 / 3 // per sender: the last third of its messages
	for _, c := range receivers {
		seen := c.stopScan()
		for idx, at := range seen {
			if at == 0 {
				b.res.Lost++
				continue
			}
			seenBy[idx]++
			lastSeen = max(lastSeen, at)
			ms := float64(at-sendAt[idx].Load()) / 1e6
			lat = append(lat, ms)
			if idx%cfg.Count >= lateFrom {
				late = append(late, ms)
			}
		}
	}
	if len(late) > 0 {
		slices.Sort(late)
		b.res.P50Late = percentile(late, 50)
		b.res.P99Late = percentile(late, 99)
	}
	for _, n := range seenBy {
		if n == 0 {
			b.res.LostMsgs++
		}
	}
	b.res.Delivered = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		b.res.P50 = percentile(lat, 50)
		b.res.P95 = percentile(lat, 95)
		b.res.P99 = percentile(lat, 99)
		b.res.Max = lat[len(lat)-1]
		var sum float64
		for _, v := range lat {
			sum += v
		}
		b.res.Mean = sum / float64(len(lat))
	}
	var total int64
	for i := range counted {
		total += byteEnd[i] - bytes0[i]
	}
	if len(counted) > 0 && b.res.Sent > 0 {
		b.res.BytesPerMsg = float64(total) / float64(len(counted)) / float64(b.res.Sent)
		b.res.ReadsPerMsg = float64(reads) / float64(len(counted)) / float64(b.res.Sent)
	}
	// Server CPU from the first send to the first sample after the last
	// token showed (or the end of the grace period if some never did).
	if len(samples) >= 2 {
		end := samples[len(samples)-1]
		if b.res.Lost == 0 {
			for _, s := range samples {
				if int64(s.at) >= lastSeen {
					end = s
					break
				}
			}
		}
		b.res.ServerCPUSendS = (end.cpu - samples[0].cpu).Seconds()
		b.res.SendWindowS = (end.at - samples[0].at).Seconds()
		sessions := len(live) - cfg.Stall
		if sessions > 0 && b.res.Sent > 0 {
			b.res.CPUMsPerDelivery = b.res.ServerCPUSendS * 1000 / float64(b.res.Sent*sessions)
		}
	}
	return nil
}

func rusageCPU(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func padText(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(filler[sb.Len()%len(filler)])
		sb.WriteByte(' ')
	}
	return sb.String()[:n]
}

// percentile is the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
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
