package sshserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// leakKind is one way a connection can live and end.
type leakKind int

const (
	kindTCPClose          leakKind = iota // TCP connect, close at once
	kindTCPAfterBanner                    // read the server's version line, close
	kindPartialBanner                     // half a version line, close
	kindGarbage                           // bytes that are no SSH at all, close
	kindHalfKex                           // a version line, then half a packet, close
	kindHandshakeOnly                     // the whole SSH handshake, no session
	kindChannelNoShell                    // a session channel that never asks for a shell
	kindPTYPrompt                         // PTY session closed at the name prompt
	kindLinePrompt                        // no-PTY session hung up at the prompt
	kindLineEOF                           // no-PTY session whose input ends at the prompt
	kindPTYDrop                           // logs in, joins, says a line; TCP cut (FIN)
	kindPTYReset                          // the same, cut with a TCP reset
	kindPTYHangUp                         // the same; the client closes channel and connection
	kindLineDrop                          // line mode logs in, joins, says a line; TCP cut
	kindPTYQuit                           // logs in, joins, says a line, /quit
	kindLineQuit                          // the same in line mode
	kindHandshakeDeadline                 // silent TCP, cut by the handshake deadline
	kindKexStall                          // a version line then silence, cut by the deadline
	kindPTYPromptTimeout                  // PTY prompt left alone, cut by the prompt timeout
	kindLinePromptTimeout                 // no-PTY prompt left alone, cut the same way
	numLeakKinds
)

var leakKindNames = [numLeakKinds]string{
	"tcp-close", "tcp-after-banner", "partial-banner", "garbage", "half-kex",
	"handshake-only", "channel-no-shell", "pty-prompt", "line-prompt", "line-eof",
	"pty-drop", "pty-reset", "pty-hangup", "line-drop", "pty-quit", "line-quit",
	"handshake-deadline", "kex-stall", "pty-prompt-timeout", "line-prompt-timeout",
}

func (k leakKind) String() string { return leakKindNames[k] }

// leakMix is how many of each kind make up the thousand cycles.
var leakMix = [numLeakKinds]int{
	kindTCPClose: 100, kindTCPAfterBanner: 100, // (a) 200
	kindPartialBanner: 50, kindGarbage: 50, kindHalfKex: 50, // (b) 150
	kindHandshakeOnly: 100, kindChannelNoShell: 50, // (c) 150
	kindPTYPrompt:  150,                  // (d) 150
	kindLinePrompt: 100, kindLineEOF: 50, // (e) 150
	kindPTYDrop: 45, kindPTYReset: 30, kindPTYHangUp: 25, kindLineDrop: 25, // (f) 125
	kindPTYQuit: 15, kindLineQuit: 10, // (g) 25
	kindHandshakeDeadline: 15, kindKexStall: 10, kindPTYPromptTimeout: 10, kindLinePromptTimeout: 15, // 50
}

const (
	leakWorkers          = 8
	leakHandshakeTimeout = 300 * time.Millisecond
	leakPromptTimeout    = 500 * time.Millisecond
	leakRooms            = 8
	// settleTimeout bounds the wait for goroutines and descriptors to come
	// back down: server handlers unwind asynchronously after a client goes.
	settleTimeout = 30 * time.Second
)

// leakRig is the servers a leak run talks to: one with the default
// timeouts for most cycles, and two with tight ones, so that the cycles
// meant to be cut by a deadline are, while an ordinary handshake on a busy
// two-core machine under -race is never cut by mistake.
type leakRig struct {
	main, handshake, prompt *testServer
}

// TestLeaksConnectDisconnectCycles: a thousand connections that end every
// way a client can leave goroutines and open descriptors where they were.
func TestLeaksConnectDisconnectCycles(t *testing.T) {
	rig := leakRig{
		main: startServer(t, withMaxSessions(64), withHistory(10)),
		handshake: startServer(t, func(c *Config, _ *lobbyConfig) {
			c.HandshakeTimeout = leakHandshakeTimeout
		}),
		prompt: startServer(t, withMaxSessions(64), func(c *Config, _ *lobbyConfig) {
			c.PromptTimeout = leakPromptTimeout
		}),
	}
	preG, preF := runtime.NumGoroutine(), fdCount()
	// Warm-up: make the rooms, and run one cycle of each kind, so that
	// whatever is created once per process (the rooms' loaded history,
	// lazily started pools) is in the baseline, not counted as a leak.
	err := runScoped(t, func(st *scopedT) {
		warm := e2e.ConnectLine(st, rig.main.addr)
		warm.WaitText(lobby.Prompt)
		warm.Send("warmup")
		for i := range leakRooms {
			warm.Send(fmt.Sprintf("/create r%d", i))
			warm.WaitText(fmt.Sprintf("You created r%d.", i))
		}
		warm.Send("/quit")
		warm.WaitExit()
	})
	if err != nil {
		t.Fatalf("make the rooms: %v", err)
	}
	for k := range numLeakKinds {
		if err := runScoped(t, func(st *scopedT) { rig.cycle(st, k, fmt.Sprintf("w%d", k)) }); err != nil {
			t.Fatalf("warm-up cycle %v: %v", k, err)
		}
	}
	rig.waitIdle(t)
	baseG, baseF := settledGoroutines(), fdCount()
	t.Logf("baseline: %d goroutines, %d fds (before warm-up: %d, %d)", baseG, baseF, preG, preF)
	if baseF < 0 {
		t.Log("no /proc/self/fd here: open descriptors are not checked")
	}

	var jobs []leakKind
	for k, n := range leakMix {
		for range n {
			jobs = append(jobs, leakKind(k))
		}
	}
	seed := time.Now().UnixNano()
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })

	start := time.Now()
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errs   []string
		took   [numLeakKinds]time.Duration
		wg     sync.WaitGroup
	)
	for range leakWorkers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				k := jobs[i]
				t0 := time.Now()
				err := runScoped(t, func(st *scopedT) { rig.cycle(st, k, fmt.Sprintf("c%d", i)) })
				mu.Lock()
				took[k] += time.Since(t0)
				if err != nil {
					failed.Store(true)
					errs = append(errs, fmt.Sprintf("cycle %d (%v): %v", i, k, err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	done := min(int(next.Load()), len(jobs))
	if len(errs) > 0 {
		t.Fatalf("%d of %d cycles failed; first: %s", len(errs), done, strings.Join(errs[:min(len(errs), 5)], "\n"))
	}
	var perKind []string
	for k, d := range took {
		perKind = append(perKind, fmt.Sprintf("%v %d×%v", leakKind(k), leakMix[k], (d/time.Duration(leakMix[k])).Round(time.Millisecond)))
	}
	t.Logf("%d cycles in %v with %d at once; mean time per cycle by kind: %s",
		len(jobs), elapsed.Round(time.Millisecond), leakWorkers, strings.Join(perKind, ", "))

	rig.waitIdle(t)
	g, f := waitBaseline(t, baseG, baseF)
	t.Logf("after: %d goroutines (baseline %d), %d fds (baseline %d), settled %v after the last cycle",
		g, baseG, f, baseF, time.Since(start.Add(elapsed)).Round(time.Millisecond))
}

// waitIdle waits until no server holds a session and no user is online.
func (r leakRig) waitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for _, ts := range []*testServer{r.main, r.handshake, r.prompt} {
		for ts.srv.Sessions() != 0 || ts.lobby.Online() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("sessions still open: %d, users still online: %d\n%s",
					ts.srv.Sessions(), ts.lobby.Online(), goroutineDump())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// cycle runs one connection of kind k to its end; name is unique to it.
func (r leakRig) cycle(t *scopedT, k leakKind, name string) {
	addr := r.main.addr
	switch k {
	case kindTCPClose:
		c := dialTCP(t, addr)
		_ = c.Close()
	case kindTCPAfterBanner:
		c := dialTCP(t, addr)
		readVersion(t, c)
		_ = c.Close()
	case kindPartialBanner:
		c := dialTCP(t, addr)
		_, _ = io.WriteString(c, "SSH-2.0-lea")
		_ = c.Close()
	case kindGarbage:
		c := dialTCP(t, addr)
		junk := []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x00\x01\x02\xff\xfe", strings.Repeat("A", 300) + "\r\n", "\x1b[6n\r\n"}
		_, _ = io.WriteString(c, junk[pick(name, len(junk))])
		_ = c.Close()
	case kindHalfKex:
		c := dialTCP(t, addr)
		readVersion(t, c)
		// A packet header promising 256 bytes, and only a few of them.
		_, _ = c.Write([]byte("SSH-2.0-leaktest\r\n\x00\x00\x01\x00\x0a\x14abc"))
		_ = c.Close()
	case kindHandshakeOnly:
		conn, err := e2e.Dial(addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		_ = conn.Close()
	case kindChannelNoShell:
		conn, err := e2e.Dial(addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatalf("new session: %v", err)
		}
		if pick(name, 2) == 0 {
			if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
				t.Fatalf("pty: %v", err)
			}
		}
		_ = sess.Close()
		_ = conn.Close()
	case kindPTYPrompt:
		c := connectPTY(t, addr)
		c.WaitText(lobby.Prompt)
		hangUp(c)
	case kindLinePrompt:
		c := e2e.ConnectLine(t, addr)
		c.WaitText(lobby.Prompt)
		// The scoped cleanup hangs up.
	case kindLineEOF:
		c := e2e.ConnectLine(t, addr)
		c.WaitText(lobby.Prompt)
		_ = c.Stdin.Close()
		if code := c.WaitExit(); code != 0 {
			t.Fatalf("input closed at the prompt: exit status %d, want 0", code)
		}
	case kindPTYDrop, kindPTYReset:
		p := newCutProxy(t, addr)
		c := connectPTY(t, p.addr())
		r.ptyChat(c, name)
		p.cut(k == kindPTYReset)
		hangUp(c)
	case kindPTYHangUp:
		c := connectPTY(t, addr)
		r.ptyChat(c, name)
		hangUp(c)
	case kindLineDrop:
		p := newCutProxy(t, addr)
		c := e2e.ConnectLine(t, p.addr())
		r.lineChat(c, name)
		p.cut(false)
	case kindPTYQuit:
		c := connectPTY(t, addr)
		r.ptyChat(c, name)
		c.TypeLine("/quit")
		if code := c.WaitExit(); code != 0 {
			t.Fatalf("/quit: exit status %d, want 0", code)
		}
		c.WaitText("Goodbye, " + name)
		hangUp(c)
	case kindLineQuit:
		c := e2e.ConnectLine(t, addr)
		r.lineChat(c, name)
		c.Send("/quit")
		if code := c.WaitExit(); code != 0 {
			t.Fatalf("/quit: exit status %d, want 0", code)
		}
		c.WaitText("Goodbye, " + name + ".")
	case kindHandshakeDeadline, kindKexStall:
		c := dialTCP(t, r.handshake.addr)
		start := time.Now()
		if k == kindKexStall {
			_, _ = io.WriteString(c, "SSH-2.0-stall\r\n")
		}
		// The server speaks first (its version, then its key exchange
		// offer) and must hang up once its deadline passes.
		_ = c.SetReadDeadline(time.Now().Add(e2e.WaitTimeout))
		_, err := io.Copy(io.Discard, c)
		_ = c.Close()
		if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Fatalf("the server did not hang up on a silent client: %v after %v", err, time.Since(start))
		}
		if el := time.Since(start); el < leakHandshakeTimeout/2 {
			t.Fatalf("cut after %v, before the %v handshake deadline", el, leakHandshakeTimeout)
		}
	case kindPTYPromptTimeout:
		c := connectPTY(t, r.prompt.addr)
		// On a loaded machine the prompt may be gone before it is seen.
		c.WaitFor("the prompt or its timeout", func(s string) bool {
			return strings.Contains(s, lobby.Prompt) || strings.Contains(s, lobby.Sentence(lobby.ErrPromptTimeout.Error()))
		})
		if code := c.WaitExit(); code != 1 {
			t.Fatalf("prompt timeout: exit status %d, want 1", code)
		}
		c.WaitText(lobby.Sentence(lobby.ErrPromptTimeout.Error()))
		hangUp(c)
	case kindLinePromptTimeout:
		c := e2e.ConnectLine(t, r.prompt.addr)
		c.WaitText(lobby.Prompt)
		if code := c.WaitExit(); code != 1 {
			t.Fatalf("prompt timeout: exit status %d, want 1", code)
		}
		c.WaitText(lobby.Sentence(lobby.ErrPromptTimeout.Error()))
	default:
		t.Fatalf("unknown kind %d", k)
	}
}

// ptyChat logs in as name, joins a room and says a line.
func (r leakRig) ptyChat(c *e2e.Terminal, name string) {
	room := fmt.Sprintf("r%d", pick(name, leakRooms))
	c.Login(name)
	c.TypeLine("/join " + room)
	c.WaitText(name + " joined " + room)
	c.TypeLine("hello from " + name)
	c.WaitText(name + ": hello from " + name)
}

// lineChat does what ptyChat does, without a PTY.
func (r leakRig) lineChat(c *e2e.Line, name string) {
	room := fmt.Sprintf("r%d", pick(name, leakRooms))
	c.WaitText(lobby.Prompt)
	c.Send(name)
	c.Send("/join " + room)
	c.WaitText("You are in " + room + ".")
	c.Send("hello from " + name)
	c.WaitText(name + ": hello from " + name)
}

// pick chooses one of n variants from a cycle's name, so that each variant
// gets its share whatever order the cycles run in.
func pick(name string, n int) int {
	h := 0
	for _, c := range []byte(name) {
		h = h*31 + int(c)
	}
	return h % n
}

// connectPTY opens an 80×24 PTY session whose hang-up cannot hang.
//
// e2e.Terminal.Close wakes its reply copier by writing a byte into the
// emulator's input pipe; if that copier has already ended (its write of a
// query reply failed because the session was closing), nothing reads the
// pipe and Close blocks for ever. Closing the pipe first makes that write
// (and any reply the emulator writes meanwhile) fail at once instead. The
// cleanup registered here runs before the one e2e registered, as cleanups
// run newest first.
func connectPTY(t testing.TB, addr string) *e2e.Terminal {
	t.Helper()
	c := e2e.Connect(t, addr, 80, 24)
	t.Cleanup(func() { closeEmuInput(c) })
	return c
}

func closeEmuInput(c *e2e.Terminal) {
	if pw, ok := c.Emu.InputPipe().(*io.PipeWriter); ok {
		_ = pw.CloseWithError(io.EOF)
	}
}

// hangUp closes the client's end: the channel and the connection.
func hangUp(c *e2e.Terminal) {
	closeEmuInput(c)
	c.Close()
}

func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, e2e.WaitTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return c
}

// readVersion reads the server's SSH version line.
func readVersion(t testing.TB, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(e2e.WaitTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SSH-2.0-") {
		t.Fatalf("server version: %q, %v", line, err)
	}
	_ = c.SetReadDeadline(time.Time{})
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// cutProxy forwards one TCP connection to a server and can cut it, both
// ways at once, the way a network that drops does: the server never hears
// an SSH good-bye.
type cutProxy struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []*net.TCPConn
	done  bool
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &cutProxy{ln: ln}
	p.wg.Go(func() {
		down, err := ln.Accept()
		_ = ln.Close() // one connection only
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			_ = down.Close()
			return
		}
		if !p.track(down.(*net.TCPConn), up.(*net.TCPConn)) {
			return
		}
		// The readers are wrapped so that io.Copy cannot splice: splice
		// borrows pipes from a pool the runtime frees only at a GC, and
		// they would read as leaked descriptors.
		p.wg.Go(func() { _, _ = io.Copy(up, struct{ io.Reader }{down}); _ = up.(*net.TCPConn).CloseWrite() })
		_, _ = io.Copy(down, struct{ io.Reader }{up})
		_ = down.(*net.TCPConn).CloseWrite()
	})
	t.Cleanup(func() { p.cut(false) })
	return p
}

func (p *cutProxy) track(cs ...*net.TCPConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

// cut closes both sides; with reset, the server gets a TCP RST rather
// than a FIN. It waits for the proxy's goroutines.
func (p *cutProxy) cut(reset bool) {
	_ = p.ln.Close()
	p.mu.Lock()
	p.done = true
	for _, c := range p.conns {
		if reset {
			_ = c.SetLinger(0)
		}
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// scopedT is a testing.TB whose cleanups run when one client's life ends
// rather than when the whole test does, and whose Fatal ends only that life
// (from any goroutine) and reports it as an error: the e2e clients take a
// testing.TB, and a thousand of them must neither pile up until the test
// ends nor call t.Fatal off the test's goroutine.
type scopedT struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	errs     []string
}

// scopeFailed is the panic that carries a Fatal out of a scoped life.
type scopeFailed struct{ msg string }

func (s *scopedT) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

func (s *scopedT) Fatal(args ...any) { panic(scopeFailed{fmt.Sprint(args...)}) }
func (s *scopedT) Fatalf(format string, args ...any) {
	panic(scopeFailed{fmt.Sprintf(format, args...)})
}
func (s *scopedT) FailNow() { panic(scopeFailed{"FailNow"}) }

func (s *scopedT) Error(args ...any) { s.Errorf("%s", fmt.Sprint(args...)) }
func (s *scopedT) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// runScoped runs f with a fresh scopedT, then its cleanups, newest first.
// It returns f's Fatal or Errors as an error.
func runScoped(parent testing.TB, f func(t *scopedT)) (err error) {
	s := &scopedT{TB: parent}
	defer func() {
		if r := recover(); r != nil {
			sf, ok := r.(scopeFailed)
			if !ok {
				panic(r)
			}
			err = errors.New(sf.msg)
		}
		s.mu.Lock()
		cleanups := s.cleanups
		s.cleanups = nil
		s.mu.Unlock()
		for _, c := range slices.Backward(cleanups) {
			c()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if err == nil && len(s.errs) > 0 {
			err = errors.New(strings.Join(s.errs, "; "))
		}
	}()
	f(s)
	return nil
}

// fdCount is the number of open file descriptors, or -1 where /proc is
// not there to tell.
func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// fdList names every open descriptor, for a failure message.
func fdList() string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(&b, "  %s -> %s\n", e.Name(), target)
	}
	return b.String()
}

func goroutineDump() string {
	buf := make([]byte, 4<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// settledGoroutines waits for the goroutine count to stop moving (handlers
// of connections that just ended are still unwinding) and returns it.
func settledGoroutines() int {
	const stableFor = 10
	n, same := runtime.NumGoroutine(), 0
	deadline := time.Now().Add(settleTimeout)
	for same < stableFor && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// waitBaseline waits until goroutines and descriptors are back at (or
// under) their baseline, and fails with a goroutine dump and the open
// descriptors if they are not by the deadline. It returns the final figures.
func waitBaseline(t testing.TB, baseG, baseF int) (g, f int) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		g, f = runtime.NumGoroutine(), fdCount()
		if g <= baseG && f <= baseF {
			return g, f
		}
		if time.Now().After(deadline) {
			t.Fatalf("not back at baseline after %v: %d goroutines (baseline %d), %d fds (baseline %d)\nopen fds:\n%s\ngoroutines:\n%s",
				settleTimeout, g, baseG, f, baseF, fdList(), goroutineDump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
