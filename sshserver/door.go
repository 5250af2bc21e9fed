package sshserver

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The door is everything between a client's TCP connection and its chat
// session: what a connection may hold (channels, time without a session)
// and what a session channel may ask before and beside its shell. Its rule
// is that nothing a client sends there may cost the server more than it
// costs the client: every request is answered as it arrives, and only a
// small, fixed amount of it is kept.
//
// charm.land/ssh's session handler keeps everything it is told before the
// shell (every env request, each one appended) and hands window changes
// to a one-slot channel that nothing reads until the shell starts: a
// second window change before the shell blocked its request loop for good,
// with the connection long gone. So the door stands between the client and
// that handler. It passes on only what the handler must see (the first
// pty-req, a few env variables, the first shell or exec), answers
// everything else itself, and keeps window changes away from the library
// altogether: it holds the latest size in a window, which the session's
// program reads.

// Limits on what a session channel may ask before its shell.
const (
	maxEnvVars     = 16   // env variables kept per session
	maxEnvNameLen  = 64   // bytes
	maxEnvValueLen = 256  // bytes
	maxTermLen     = 64   // bytes of the pty-req's terminal type
	maxCommandLen  = 4096 // bytes of an exec request's command
	maxWindowDim   = 65535
)

// windowEnv is the env entry by which the door tells a session's handler
// which window is its own: the library offers no other way to tie a
// Session to the channel it came from. Clients cannot set it: the door
// passes on only the env variables keepEnv names.
const windowEnv = "CHATROOM_DOOR_WINDOW"

// keepEnv reports whether an env variable is one the server uses: the
// locale, the terminal's name and colours, and the timezone.
func keepEnv(name string) bool {
	switch name {
	case "TZ", "LANG", "TERM", "COLORTERM":
		return true
	}
	return strings.HasPrefix(name, "LC_") && len(name) > 3
}

// connState is one client connection as the door sees it. It is the
// net.Conn the SSH server reads, so closing it (on a timeout, or by the
// server) gives back the connection's place in the per-address count.
type connState struct {
	net.Conn
	log      *slog.Logger
	release  func() // gives back the per-address count
	timeout  time.Duration
	channels int // most session channels open at once

	mu         sync.Mutex // guards every field below
	closed     bool
	open       int // session channels open
	running    int // session handlers running
	gen        int // which arming of the timer is current
	timer      *time.Timer
	nextWindow int
	windows    map[string]*window // by the id given in windowEnv
}

type connKey struct{}

func connOf(ctx ssh.Context) *connState {
	c, _ := ctx.Value(connKey{}).(*connState)
	return c
}

func (c *connState) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if first {
		c.release()
	}
	return c.Conn.Close()
}

// authenticated starts the clock for a connection that opens no session.
func (c *connState) authenticated() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running == 0 {
		c.armLocked()
	}
}

// sessionStarted and sessionEnded bracket a session's handler: while one
// runs, the connection is in use.
func (c *connState) sessionStarted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running++
	c.gen++ // a timer that fires now finds itself stale
	if c.timer != nil {
		c.timer.Stop()
	}
}

func (c *connState) sessionEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running--
	if c.running == 0 {
		c.armLocked()
	}
}

// armLocked closes the connection after the timeout unless a session starts
// first. time.AfterFunc holds no goroutine while it waits; the one it
// starts only closes the connection.
func (c *connState) armLocked() {
	if c.closed {
		return
	}
	c.gen++
	gen := c.gen
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(c.timeout, func() {
		c.mu.Lock()
		stale := gen != c.gen || c.running > 0 || c.closed
		c.mu.Unlock()
		if stale {
			return
		}
		c.log.Info("closed: no session", "after", c.timeout)
		_ = c.Close()
	})
}

// openChannel takes a place for a session channel, if one is free.
func (c *connState) openChannel() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open >= c.channels {
		return false
	}
	c.open++
	return true
}

// closeChannel gives the place back, and forgets the channel's window.
func (c *connState) closeChannel(windowID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open--
	delete(c.windows, windowID)
}

// addWindow files a session's window under a new id for its handler.
func (c *connState) addWindow(w *window) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextWindow++
	id := strconv.Itoa(c.nextWindow)
	if c.windows == nil {
		c.windows = make(map[string]*window)
	}
	c.windows[id] = w
	return id
}

func (c *connState) window(id string) *window {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.windows[id]
}

// window is the latest size a session's client gave. A client may send
// window changes far faster than a program redraws, and only the last one
// matters, so a change replaces the one before and never waits.
type window struct {
	mu      sync.Mutex
	w, h    int
	changed chan struct{} // one slot: a change not yet taken
}

func newWindow(w, h int) *window {
	return &window{w: w, h: h, changed: make(chan struct{}, 1)}
}

// set records a size; the same size again still counts as a change (a
// client asks for a full repaint that way).
func (win *window) set(w, h int) {
	win.mu.Lock()
	win.w, win.h = w, h
	win.mu.Unlock()
	select {
	case win.changed <- struct{}{}:
	default:
	}
}

func (win *window) size() (w, h int) {
	win.mu.Lock()
	defer win.mu.Unlock()
	return win.w, win.h
}

// sessionWindow finds the window the door keeps for sess. A session whose
// channel is already gone gets one that never changes.
func sessionWindow(sess ssh.Session) *window {
	if c := connOf(sess.Context()); c != nil {
		for _, kv := range sess.Environ() {
			if id, ok := strings.CutPrefix(kv, windowEnv+"="); ok {
				if w := c.window(id); w != nil {
					return w
				}
			}
		}
	}
	pty, _, _ := sess.Pty()
	return newWindow(pty.Window.Width, pty.Window.Height)
}

// sessionEnv is the session's environment without the door's own entry.
func sessionEnv(sess ssh.Session) []string {
	env := sess.Environ()
	kept := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, windowEnv+"=") {
			kept = append(kept, kv)
		}
	}
	return kept
}

// sessionChannel is the server's handler for "session" channels: it holds
// the connection to its channel limit and puts the door's request filter
// in front of the library's own session handler.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	c := connOf(ctx)
	if c == nil { // not admitted through the door: cannot happen
		_ = nc.Reject(gossh.ConnectionFailed, "not ready")
		return
	}
	if !c.openChannel() {
		_ = nc.Reject(gossh.ResourceShortage, fmt.Sprintf("at most %d sessions at once on one connection", c.channels))
		return
	}
	d := &doorChannel{NewChannel: nc, conn: c, libDone: make(chan struct{})}
	defer close(d.libDone)
	ssh.DefaultSessionHandler(srv, conn, d, ctx)
}

// doorChannel is a session channel whose requests pass the door's filter
// before the library sees them.
type doorChannel struct {
	gossh.NewChannel
	conn    *connState
	libDone chan struct{} // closed when the library's handler has returned

	// The filter's own state; only its goroutine touches it.
	win      *window
	windowID string
	envKept  int
	started  bool
}

// Accept accepts the channel and returns the filtered request stream in
// place of the client's.
func (d *doorChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, in, err := d.NewChannel.Accept()
	if err != nil {
		d.conn.closeChannel("")
		return nil, nil, err
	}
	out := make(chan *gossh.Request)
	// Ends when the client's requests do: when the channel closes or the
	// connection goes.
	go d.filter(in, out)
	return ch, out, nil
}

// filter answers the client's requests, passing on to the library only
// the few it must see. It reads every request as it arrives, so the
// connection's reader never waits on it. The library's handling of what
// it is passed never waits either (it records the request and answers, or
// starts the handler), so out is never blocked for long; libDone covers a
// library that stopped reading anyway.
func (d *doorChannel) filter(in <-chan *gossh.Request, out chan<- *gossh.Request) {
	defer func() {
		close(out)
		d.conn.closeChannel(d.windowID)
	}()
	pass := func(req *gossh.Request) {
		select {
		case out <- req:
		case <-d.libDone:
			_ = req.Reply(false, nil)
		}
	}
	for req := range in {
		switch ok := d.allow(req); {
		case !ok:
			_ = req.Reply(false, nil)
		case req.Type == "window-change":
			_ = req.Reply(true, nil) // kept by the door, never passed on
		case req.Type == "shell" || req.Type == "exec":
			if d.win != nil {
				d.windowID = d.conn.addWindow(d.win)
				pass(&gossh.Request{Type: "env", Payload: gossh.Marshal(envRequest{windowEnv, d.windowID})})
			}
			pass(req)
		default:
			pass(req)
		}
	}
}

type envRequest struct{ Name, Value string }

// allow decides one request, and keeps what the door itself keeps (the
// window). Before the shell a session may ask for one PTY, a few env
// variables, and one shell or exec; after it, only window changes. Nothing
// else is served here: X11, agent forwarding, subsystems, signals, breaks.
func (d *doorChannel) allow(req *gossh.Request) bool {
	switch req.Type {
	case "pty-req":
		if d.started || d.win != nil {
			return false
		}
		w, h, ok := parsePtyRequest(req.Payload)
		if !ok {
			return false
		}
		d.win = newWindow(w, h)
		return true
	case "window-change":
		if d.win == nil {
			return false
		}
		w, h, ok := parseWindowChange(req.Payload)
		if ok {
			d.win.set(w, h)
		}
		return ok
	case "env":
		if d.started || d.envKept >= maxEnvVars {
			return false
		}
		var kv envRequest
		if gossh.Unmarshal(req.Payload, &kv) != nil || len(kv.Name) > maxEnvNameLen || len(kv.Value) > maxEnvValueLen || !keepEnv(kv.Name) {
			return false
		}
		d.envKept++
		return true
	case "shell", "exec":
		if d.started {
			return false
		}
		if req.Type == "exec" {
			var cmd struct{ Command string }
			if gossh.Unmarshal(req.Payload, &cmd) != nil || len(cmd.Command) > maxCommandLen {
				return false
			}
		}
		d.started = true
		return true
	}
	return false
}

// parsePtyRequest reads a pty-req payload (RFC 4254, 6.2): terminal type,
// columns, rows, width and height in pixels, terminal modes. It returns
// the size in cells.
func parsePtyRequest(payload []byte) (w, h int, ok bool) {
	var p struct {
		Term                  string
		Columns, Rows, PW, PH uint32
		Modes                 string
	}
	if gossh.Unmarshal(payload, &p) != nil || p.Term == "" || len(p.Term) > maxTermLen {
		return 0, 0, false
	}
	return windowDim(p.Columns), windowDim(p.Rows), true
}

// parseWindowChange reads a window-change payload (RFC 4254, 6.7): columns,
// rows, width and height in pixels. It returns the size in cells.
func parseWindowChange(payload []byte) (w, h int, ok bool) {
	var p struct{ Columns, Rows, PW, PH uint32 }
	if gossh.Unmarshal(payload, &p) != nil {
		return 0, 0, false
	}
	return windowDim(p.Columns), windowDim(p.Rows), true
}

// windowDim keeps a size sane as an int on any platform; the UI draws at
// most a few hundred cells of it anyway.
func windowDim(n uint32) int { return int(min(n, maxWindowDim)) }
