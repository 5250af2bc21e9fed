package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
)

// profile is how a client logs in and what the server shows it.
type profile int

const (
	profTUI     profile = iota // chatroom's full-screen TUI over a PTY
	profLine                   // chatroom's line mode: no PTY, plain lines
	profSSHChat                // ssh-chat: PTY, name from the SSH user, one room
)

func parseProfile(s string) (profile, error) {
	switch strings.ToLower(s) {
	case "tui", "":
		return profTUI, nil
	case "line":
		return profLine, nil
	case "sshchat", "ssh-chat":
		return profSSHChat, nil
	}
	return 0, fmt.Errorf("unknown profile %q (want tui, line or sshchat)", s)
}

func (p profile) String() string {
	switch p {
	case profLine:
		return "line"
	case profSSHChat:
		return "sshchat"
	}
	return "tui"
}

// tokenSet is the run's message tokens, fixed before the send phase starts
// and only read after, so readers need no lock to look tokens up.
type tokenSet struct {
	prefix string           // "tk" + the run's id + "-": marks a token on screen
	length int              // every token has the same length, so a truncated one never matches
	index  map[string]int32 // token → its number
	epoch  time.Time        // times are kept as nanoseconds since epoch
}

// client is one SSH session driven by the tool.
type client struct {
	id    int
	name  string
	prof  profile
	w, h  int
	stall bool // a client that stops reading once logged in
	ok    bool // logged in and joined; set by the login goroutine before the send phase

	conn   *stallConn
	ssh    *gossh.Client
	sess   *gossh.Session
	stdin  io.Writer
	stdout io.Reader
	stderr lockedBuffer

	bytes     atomic.Int64 // everything read from stdout
	reads     atomic.Int64 // reads that returned data: about one per frame the server wrote
	drainReq  atomic.Bool  // stop emulating at the next chunk
	seenCount atomic.Int64 // tokens seen so far

	mu     sync.Mutex   // guards everything below: owned by the reader goroutine, shared with waiters
	emu    *vt.Emulator // nil for line mode and once draining
	text   []byte       // line mode: the recent output, for waits
	carry  []byte       // line mode: an unfinished line
	want   func(string) bool
	wantCh chan struct{}
	toks   *tokenSet // non-nil while tokens are being looked for
	seen   []int64   // per token: first seen, ns since toks.epoch; 0 = not yet
	rowBuf strings.Builder
	// The screen's rows as last read. Row by row, as they change: building
	// the whole screen from its cells for every chunk of output cost a
	// quarter of the tool's CPU in a 1,000-client login.
	rows []string

	readDone  chan struct{} // closed when the reader goroutine returns
	readErr   error         // set before readDone is closed
	ended     chan struct{} // closed when the session ends
	replyDone chan struct{} // closed when the emulator's reply copier returns
	closeOnce sync.Once
}

// lockedBuffer keeps the first few KB written to it; it is the session's
// stderr, where a server says it is full.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 4096 {
		b.buf.Write(p[:min(len(p), 4096-b.buf.Len())])
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stallConn is a TCP connection whose reads can be stopped: a stalled client
// stops reading at the socket, as a frozen terminal or a dead link would, so
// the server's writes to it block once the socket buffers fill.
type stallConn struct {
	net.Conn
	stalled atomic.Bool
	resume  chan struct{} // closed to end the stall for good
	once    sync.Once
}

func (c *stallConn) Read(p []byte) (int, error) {
	if c.stalled.Load() {
		<-c.resume
	}
	return c.Conn.Read(p)
}

func (c *stallConn) unstall() { c.once.Do(func() { close(c.resume) }) }

func (c *stallConn) Close() error {
	c.unstall()
	return c.Conn.Close()
}

// stallRcvBuf is the receive buffer a stalled client asks for, so the server
// feels the stall after a few KB rather than after megabytes.
const stallRcvBuf = 4096

// stallMSS is the TCP segment size a stalled client announces.
const stallMSS = 1200

// connect dials addr and opens the session: with a PTY of w×h unless the
// profile is line mode.
func (c *client) connect(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 30 * time.Second}
	if c.stall {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, stallRcvBuf)
				if serr == nil {
					// Loopback's 64 KB segments let the server's send buffer
					// grow to megabytes; a modest MSS keeps it near the
					// initial 16 KB, as on a real network path.
					serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, stallMSS)
				}
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	c.conn = &stallConn{Conn: raw, resume: make(chan struct{})}
	cfg := &gossh.ClientConfig{
		User: c.name,
		Auth: []gossh.AuthMethod{
			// ssh-chat admits anonymous keyboard-interactive; chatroom
			// takes "none", which the library tries first anyway.
			gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
				return make([]string, len(qs)), nil
			}),
		},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         30 * time.Second,
	}
	// The handshake has no context; bound it by the connection deadline.
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	sc, chans, reqs, err := gossh.NewClientConn(c.conn, addr, cfg)
	if err != nil {
		raw.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	_ = raw.SetDeadline(time.Time{})
	c.ssh = gossh.NewClient(sc, chans, reqs)
	sess, err := c.ssh.NewSession()
	if err != nil {
		c.ssh.Close()
		return fmt.Errorf("new session: %w", err)
	}
	c.sess = sess
	if c.prof != profLine {
		modes := gossh.TerminalModes{gossh.ECHO: 0, gossh.TTY_OP_ISPEED: 38400, gossh.TTY_OP_OSPEED: 38400}
		if err := sess.RequestPty("xterm-256color", c.h, c.w, modes); err != nil {
			c.ssh.Close()
			return fmt.Errorf("request pty: %w", err)
		}
		c.emu = vt.NewEmulator(c.w, c.h)
		c.rows = make([]string, c.h)
		// Only the screen matters; keep the emulator's own scrollback tiny.
		c.emu.SetScrollbackSize(1)
	}
	c.stdin, err = sess.StdinPipe()
	if err != nil {
		c.ssh.Close()
		return fmt.Errorf("stdin: %w", err)
	}
	c.stdout, err = sess.StdoutPipe()
	if err != nil {
		c.ssh.Close()
		return fmt.Errorf("stdout: %w", err)
	}
	sess.Stderr = &c.stderr
	if err := sess.Shell(); err != nil {
		c.ssh.Close()
		return fmt.Errorf("shell: %w", err)
	}
	c.readDone = make(chan struct{})
	c.ended = make(chan struct{})
	c.replyDone = make(chan struct{})
	go c.readLoop()
	go func() { _ = sess.Wait(); close(c.ended) }()
	if c.emu != nil {
		go c.replyLoop(c.emu)
	} else {
		close(c.replyDone)
	}
	return nil
}

// replyLoop carries the emulator's answers to terminal queries back to the
// server. Without it the emulator blocks on its first reply. It runs until
// the emulator's pipe is closed, and swallows replies once stdin fails, so
// the emulator never blocks.
func (c *client) replyLoop(emu *vt.Emulator) {
	defer close(c.replyDone)
	buf := make([]byte, 1024)
	broken := false
	for {
		n, err := emu.Read(buf)
		if err != nil {
			return
		}
		if !broken {
			if _, err := c.stdin.Write(buf[:n]); err != nil {
				broken = true
			}
		}
	}
}

// readLoop reads the session's output until it ends. It feeds the emulator
// (or the line buffer), looks for tokens and checks the current wait after
// every chunk, timing each chunk when it arrives; once told to drain it only
// counts bytes.
func (c *client) readLoop() {
	defer close(c.readDone)
	buf := make([]byte, 32<<10)
	draining := false
	for {
		n, err := c.stdout.Read(buf)
		if n > 0 {
			c.bytes.Add(int64(n))
			c.reads.Add(1)
			if !draining {
				now := time.Now()
				c.mu.Lock()
				c.handle(buf[:n], now)
				if c.drainReq.Load() {
					c.dropEmulatorLocked()
					draining = true
				}
				c.mu.Unlock()
			}
		}
		if err != nil {
			c.readErr = err
			return
		}
	}
}

// dropEmulatorLocked frees the emulator of a client that only drains from
// now on, and ends its reply copier. c.mu must be held.
func (c *client) dropEmulatorLocked() {
	if c.emu != nil {
		closePipe(c.emu)
		c.emu = nil
	}
	c.text, c.carry, c.rows = nil, nil, nil
}

// closePipe ends the emulator's reply pipe without touching its unguarded
// closed flag (Emulator.Close races with Read).
func closePipe(emu *vt.Emulator) {
	if cl, ok := emu.InputPipe().(io.Closer); ok {
		_ = cl.Close()
	}
}

// handle takes one chunk of output. c.mu must be held.
func (c *client) handle(p []byte, now time.Time) {
	if c.emu != nil {
		_, _ = c.emu.Write(p)
		touched := c.emu.Touched()
		for y, ld := range touched {
			if ld == nil || y >= len(c.rows) {
				continue
			}
			touched[y] = nil // Touched is the live slice: this marks the row read
			c.rows[y] = c.row(y)
			if c.toks != nil {
				c.scan(c.rows[y], now)
			}
		}
		if c.want != nil && c.want(strings.Join(c.rows, "\n")) {
			c.satisfyLocked()
		}
		return
	}
	// Line mode: whole lines, scanned as they complete.
	c.text = append(c.text, p...)
	if len(c.text) > 64<<10 {
		c.text = append(c.text[:0], c.text[len(c.text)-32<<10:]...)
	}
	if c.toks != nil {
		c.carry = append(c.carry, p...)
		for {
			i := bytes.IndexByte(c.carry, '\n')
			if i < 0 {
				break
			}
			c.scan(string(c.carry[:i]), now)
			c.carry = c.carry[i+1:]
		}
		if len(c.carry) == 0 {
			c.carry = nil
		}
	}
	if c.want != nil && c.want(string(c.text)) {
		c.satisfyLocked()
	}
}

// row is the text of screen row y.
func (c *client) row(y int) string {
	c.rowBuf.Reset()
	for x := 0; x < c.w; x++ {
		cell := c.emu.CellAt(x, y)
		if cell == nil || cell.Content == "" {
			c.rowBuf.WriteByte(' ')
			continue
		}
		c.rowBuf.WriteString(cell.Content)
	}
	return c.rowBuf.String()
}

// scan records the first sighting of every token in s. c.mu must be held.
func (c *client) scan(s string, now time.Time) {
	t := c.toks
	for {
		i := strings.Index(s, t.prefix)
		if i < 0 {
			return
		}
		s = s[i:]
		if len(s) < t.length {
			return
		}
		if idx, ok := t.index[s[:t.length]]; ok && c.seen[idx] == 0 {
			c.seen[idx] = int64(now.Sub(t.epoch))
			c.seenCount.Add(1)
		}
		s = s[len(t.prefix):]
	}
}

func (c *client) satisfyLocked() {
	c.want = nil
	close(c.wantCh)
}

// current is what the client shows now: the screen, or the recent lines.
// c.mu must be held.
func (c *client) currentLocked() string {
	if c.emu != nil {
		return strings.Join(c.rows, "\n")
	}
	return string(c.text)
}

// waitFor blocks until cond holds for what the client shows, the session
// ends, or ctx is done.
func (c *client) waitFor(ctx context.Context, what string, cond func(string) bool) error {
	c.mu.Lock()
	if cond(c.currentLocked()) {
		c.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	c.want, c.wantCh = cond, ch
	c.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-c.readDone:
		err := fmt.Errorf("session ended while waiting for %s (stderr %q)", what, strings.TrimSpace(c.stderr.String()))
		c.mu.Lock()
		c.want = nil
		c.mu.Unlock()
		return err
	case <-ctx.Done():
		c.mu.Lock()
		c.want = nil
		shown := c.currentLocked()
		c.mu.Unlock()
		return fmt.Errorf("waiting for %s: %w; it shows:\n%s", what, ctx.Err(), lastLines(shown, 12))
	}
}

func (c *client) waitText(ctx context.Context, text string) error {
	return c.waitFor(ctx, fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n "), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// enter is the key that submits a line: Enter on a PTY, a newline otherwise.
func (c *client) enter() string {
	if c.prof == profLine {
		return "\n"
	}
	return "\r"
}

// typeLine sends text and Enter in one write, as a paste-free fast typist.
func (c *client) typeLine(text string) error {
	if _, err := io.WriteString(c.stdin, text+c.enter()); err != nil {
		return fmt.Errorf("type %q: %w", text, err)
	}
	return nil
}

// startScan makes the client record tokens of toks from now on.
func (c *client) startScan(toks *tokenSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.toks = toks
	c.seen = make([]int64, len(toks.index))
}

// stopScan stops looking for tokens and returns what was seen.
func (c *client) stopScan() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.toks = nil
	return c.seen
}

// alive reports whether the session is still open.
func (c *client) alive() bool {
	select {
	case <-c.readDone:
		return false
	default:
		return true
	}
}

// close hangs up and waits for the client's goroutines.
func (c *client) close() {
	c.closeOnce.Do(func() {
		if c.readDone == nil { // connect failed: no goroutines to wait for
			if c.ssh != nil {
				_ = c.ssh.Close()
			} else if c.conn != nil {
				_ = c.conn.Close()
			}
			return
		}
		if c.sess != nil {
			_ = c.sess.Close()
		}
		_ = c.ssh.Close() // closes the stallConn, which also ends a stall
		<-c.readDone
		c.mu.Lock()
		if c.emu != nil {
			closePipe(c.emu)
		}
		c.mu.Unlock()
		<-c.replyDone
		<-c.ended
	})
}
