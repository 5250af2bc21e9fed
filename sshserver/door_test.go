package sshserver

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/ssh"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// Tests of the door: what a client may send before, beside or instead of a
// chat session. Most speak raw SSH requests with hand-made payloads, as a
// hostile client would.

func ptyReqPayload(term string, w, h int) []byte {
	return gossh.Marshal(struct {
		Term                  string
		Columns, Rows, PW, PH uint32
		Modes                 string
	}{term, uint32(w), uint32(h), 0, 0, "\x00"})
}

func windowPayload(w, h int) []byte {
	return gossh.Marshal(struct{ Columns, Rows, PW, PH uint32 }{uint32(w), uint32(h), 0, 0})
}

func envPayload(name, value string) []byte {
	return gossh.Marshal(envRequest{name, value})
}

// rawSession opens a session channel on a new connection, closed when the
// test ends.
func rawSession(t testing.TB, addr string) (*gossh.Client, gossh.Channel) {
	t.Helper()
	conn, err := e2e.Dial(addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	go gossh.DiscardRequests(reqs)
	return conn, ch
}

// ask sends a request that wants an answer and returns it, failing the test
// if none comes in time. (On a timeout the sender is left blocked until the
// test's cleanup closes the connection.)
func ask(t testing.TB, ch gossh.Channel, typ string, payload []byte) bool {
	t.Helper()
	type answer struct {
		ok  bool
		err error
	}
	got := make(chan answer, 1)
	go func() {
		ok, err := ch.SendRequest(typ, true, payload)
		got <- answer{ok, err}
	}()
	select {
	case a := <-got:
		if a.err != nil {
			t.Fatalf("%s: %v", typ, a.err)
		}
		return a.ok
	case <-time.After(e2e.WaitTimeout):
		t.Fatalf("the server did not answer %s in %v", typ, e2e.WaitTimeout)
	}
	return false
}

// waitClosed waits until the server closes conn, and returns how long that
// took.
func waitClosed(t testing.TB, conn *gossh.Client) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() { _ = conn.Wait(); close(done) }()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(e2e.WaitTimeout):
		t.Fatalf("the server did not close the connection in %v", e2e.WaitTimeout)
	}
	return 0
}

// TestWindowChangesBeforeTheShell: a client may send any number of window
// changes before its shell. The last one is the size the program starts
// at, and none of them leaves anything behind when the client goes.
// charm.land/ssh queued the second one behind the first in a one-slot
// channel that nothing read before the shell: its request loop blocked
// for good, the shell was never answered, and a goroutine stayed for
// every such connection after it had gone.
func TestWindowChangesBeforeTheShell(t *testing.T) {
	ts := startServer(t, withMaxSessions(64))
	warm := connectPTY(t, ts.addr)
	warm.WaitText(lobby.Prompt)
	hangUp(warm)
	waitNoSessions(t, ts)
	baseG, baseF := settledGoroutines(), fdCount()
	const n = 40
	for i := range n {
		conn, ch := rawSession(t, ts.addr)
		if !ask(t, ch, "pty-req", ptyReqPayload("xterm", 80, 24)) {
			t.Fatalf("connection %d: pty-req refused", i)
		}
		for _, w := range []int{100, 120, 140} {
			if _, err := ch.SendRequest("window-change", false, windowPayload(w, 40)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ch.SendRequest("shell", false, nil); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close()
	}
	waitNoSessions(t, ts)
	g, f := waitBaseline(t, baseG, baseF)
	t.Logf("after %d connections: %d goroutines (baseline %d), %d fds (baseline %d)", n, g, baseG, f, baseF)

	t.Run("the last one is drawn", func(t *testing.T) {
		c, err := e2e.TryConnectWith(t, ts.addr, 420, 160, func(s *gossh.Session) error {
			for _, size := range [][2]int{{100, 30}, {1000, 1000}, {120, 40}, {500, 200}} {
				if err := s.WindowChange(size[1], size[0]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeEmuInput(c) })
		c.WaitText("window 500×200: showing 400×150")
	})
	t.Run("a flood of them", func(t *testing.T) {
		_, ch := rawSession(t, ts.addr)
		if !ask(t, ch, "pty-req", ptyReqPayload("xterm", 80, 24)) {
			t.Fatal("pty-req refused")
		}
		for i := range 5000 {
			if _, err := ch.SendRequest("window-change", false, windowPayload(80+i%50, 24)); err != nil {
				t.Fatal(err)
			}
		}
		if !ask(t, ch, "shell", nil) {
			t.Fatal("shell refused after window changes")
		}
	})
}

func waitNoSessions(t testing.TB, ts *testServer) {
	t.Helper()
	testutil.Eventually(t, "every session to end", func() bool { return ts.srv.Sessions() == 0 && ts.lobby.Online() == 0 })
}

// TestEnvBeforeTheShell: only the variables the server uses are kept, a
// few of them and short; everything else is refused and costs nothing.
func TestEnvBeforeTheShell(t *testing.T) {
	ts := startServer(t)
	environ := make(chan []string, 1)
	ts.srv.sessionHook = func(sess ssh.Session) { environ <- sess.Environ() }
	_, ch := rawSession(t, ts.addr)

	tests := []struct {
		name, value string
		want        bool
	}{
		{"LANG", "C.UTF-8", true},
		{"TZ", "Europe/Paris", true},
		{"TERM", "xterm-256color", true},
		{"COLORTERM", "truecolor", true},
		{"LC_ALL", "C.UTF-8", true},
		{"PATH", "/bin", false},
		{"LD_PRELOAD", "/tmp/x.so", false},
		{"LC_", "x", false},
		{"lang", "C", false},
		{windowEnv, "1", false},
		{"TZ", strings.Repeat("x", maxEnvValueLen+1), false},
		{"LC_" + strings.Repeat("X", maxEnvNameLen), "C", false},
	}
	for _, tt := range tests {
		if got := ask(t, ch, "env", envPayload(tt.name, tt.value)); got != tt.want {
			t.Errorf("env %.20s=%.20s: accepted %v, want %v", tt.name, tt.value, got, tt.want)
		}
	}
	if ask(t, ch, "env", []byte("\x00\x00\x00\xffLANG")) {
		t.Error("a malformed env request was accepted")
	}
	// Five kept so far; the rest of the room goes to these.
	for i := range 20 {
		want := 5+i < maxEnvVars
		if got := ask(t, ch, "env", envPayload(fmt.Sprintf("LC_V%d", i), "C")); got != want {
			t.Errorf("LC_V%d with %d kept: accepted %v, want %v", i, 5+i, got, want)
		}
	}

	// A flood of 60 MB: refused, and none of it kept.
	before := liveHeap()
	big := strings.Repeat("x", 30<<10)
	for i := range 2000 {
		if _, err := ch.SendRequest("env", false, envPayload(fmt.Sprintf("LC_BIG%d", i), big)); err != nil {
			t.Fatal(err)
		}
	}
	if ask(t, ch, "env", envPayload("LANG", "C")) {
		t.Error("an env request over the count was accepted")
	}
	grew := liveHeap() - before
	t.Logf("live heap after 2,000 env requests of 30 KB: %+.1f MB", float64(grew)/(1<<20))
	if grew > 8<<20 {
		t.Errorf("the live heap grew by %.1f MB after 60 MB of refused env requests, want under 8 MB", float64(grew)/(1<<20))
	}

	if !ask(t, ch, "shell", nil) {
		t.Fatal("shell refused")
	}
	var env []string
	select {
	case env = <-environ:
	case <-time.After(e2e.WaitTimeout):
		t.Fatal("no session started")
	}
	if len(env) != maxEnvVars {
		t.Errorf("the session has %d variables, want %d: %.300q", len(env), maxEnvVars, env)
	}
	for _, want := range []string{"LANG=C.UTF-8", "TZ=Europe/Paris", "COLORTERM=truecolor", "LC_V10=C"} {
		if !slices.Contains(env, want) {
			t.Errorf("the session's environment lacks %s: %.300q", want, env)
		}
	}
	if ask(t, ch, "env", envPayload("LANG", "C")) {
		t.Error("an env request after the shell was accepted")
	}
}

func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestRequestsTheServerDoesNotServe are refused, before and after the
// shell: nothing here forwards ports, X11 or an agent, or runs subsystems.
func TestRequestsTheServerDoesNotServe(t *testing.T) {
	ts := startServer(t)
	conn, ch := rawSession(t, ts.addr)
	refused := func(when string, reqs ...string) {
		t.Helper()
		for _, r := range reqs {
			var payload []byte
			switch r {
			case "subsystem":
				payload = gossh.Marshal(struct{ Name string }{"sftp"})
			case "x11-req":
				payload = gossh.Marshal(struct {
					Single        bool
					Proto, Cookie string
					Screen        uint32
				}{false, "MIT-MAGIC-COOKIE-1", "00", 0})
			case "signal":
				payload = gossh.Marshal(struct{ Sig string }{"INT"})
			case "break":
				payload = gossh.Marshal(struct{ Ms uint32 }{100})
			case "window-change":
				payload = windowPayload(80, 24)
			case "pty-req":
				payload = ptyReqPayload("xterm", 80, 24)
			case "exec":
				payload = gossh.Marshal(struct{ Cmd string }{"alpha"})
			}
			if ask(t, ch, r, payload) {
				t.Errorf("%s: %s was accepted", when, r)
			}
		}
	}
	refused("before the shell", "x11-req", "auth-agent-req@openssh.com", "subsystem", "signal", "break", "keepalive@openssh.com", "window-change", "no-such-request")
	if ask(t, ch, "pty-req", ptyReqPayload(strings.Repeat("x", maxTermLen+1), 80, 24)) {
		t.Error("a pty-req with a terminal name over the limit was accepted")
	}
	if ask(t, ch, "exec", gossh.Marshal(struct{ Cmd string }{strings.Repeat("x", maxCommandLen+1)})) {
		t.Error("an exec with a command over the limit was accepted")
	}
	if !ask(t, ch, "pty-req", ptyReqPayload("xterm", 80, 24)) {
		t.Fatal("pty-req refused")
	}
	refused("after a PTY", "pty-req")
	if !ask(t, ch, "shell", nil) {
		t.Fatal("shell refused")
	}
	refused("after the shell", "shell", "exec", "pty-req", "env", "x11-req", "auth-agent-req@openssh.com", "subsystem")

	for _, r := range []string{"tcpip-forward", "streamlocal-forward@openssh.com", "no-more-sessions@openssh.com"} {
		ok, _, err := conn.SendRequest(r, true, gossh.Marshal(struct {
			Addr string
			Port uint32
		}{"127.0.0.1", 0}))
		if err != nil || ok {
			t.Errorf("global %s: accepted %v, %v", r, ok, err)
		}
	}
	for _, typ := range []string{"direct-tcpip", "x11", "auth-agent@openssh.com", "direct-streamlocal@openssh.com"} {
		if _, _, err := conn.OpenChannel(typ, nil); err == nil {
			t.Errorf("a %s channel was opened", typ)
		}
	}
}

// TestWindowIsDrawnAtMost400x150: a larger window, from the PTY request or
// a window change, is drawn at 400×150 in its top-left corner, and the
// status line says so.
func TestWindowIsDrawnAtMost400x150(t *testing.T) {
	ts := startServer(t)
	c := e2e.Connect(t, ts.addr, 420, 160)
	t.Cleanup(func() { closeEmuInput(c) })
	c.WaitText("window 420×160: showing 400×150")
	c.Login("alice")
	c.WaitText("alice · Lobby")
	checkDrawnWithin(t, c, 400, 150, "window 420×160: showing 400×150")

	if err := c.Sess.WindowChange(24, 80); err != nil {
		t.Fatal(err)
	}
	c.WaitGone("showing 400×150")
	checkDrawnWithin(t, c, 80, 24, "")

	if err := c.Sess.WindowChange(1000, 1000); err != nil {
		t.Fatal(err)
	}
	c.WaitText("window 1000×1000: showing 400×150")
	checkDrawnWithin(t, c, 400, 150, "window 1000×1000: showing 400×150")
}

// checkDrawnWithin checks that nothing is drawn outside the top-left w×h
// cells, that the frame reaches its last row, and that the status line
// there carries notice (or no size notice when it is "").
func checkDrawnWithin(t *testing.T, c *e2e.Terminal, w, h int, notice string) {
	t.Helper()
	screen := c.WaitFor(fmt.Sprintf("a frame of %d×%d", w, h), func(s string) bool {
		rows := strings.Split(s, "\n")
		return len(rows) >= h && strings.TrimSpace(rows[h-1]) != "" && strings.Contains(s, "alice · Lobby")
	})
	rows := strings.Split(screen, "\n")
	status := ""
	for y, row := range rows {
		row = strings.TrimRight(row, " ")
		if y >= h && row != "" {
			t.Errorf("row %d, under the %d drawn, has %q", y, h, row)
		}
		if width := ansi.StringWidth(row); width > w {
			t.Errorf("row %d is %d cells wide, over the %d drawn: %q", y, width, w, row)
		}
		if strings.Contains(row, "alice · Lobby") {
			status = row
		}
	}
	switch {
	case notice != "" && !strings.Contains(status, notice):
		t.Errorf("status line %q, want it to say %q", status, notice)
	case notice == "" && strings.Contains(status, "showing"):
		t.Errorf("status line %q has a size notice", status)
	}
}

// TestConnectionWithoutSessionIsClosed: a connection with no session
// running, from its login on or since its last session ended, is closed
// after the timeout; one with a session is not.
func TestConnectionWithoutSessionIsClosed(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.NoSessionTimeout = timeout })

	t.Run("no channel", func(t *testing.T) {
		conn, err := e2e.Dial(ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if d := waitClosed(t, conn); d < timeout/2 {
			t.Errorf("closed after %v, before the %v timeout", d, timeout)
		}
	})
	t.Run("a channel and a PTY but no shell", func(t *testing.T) {
		conn, ch := rawSession(t, ts.addr)
		if !ask(t, ch, "pty-req", ptyReqPayload("xterm", 80, 24)) {
			t.Fatal("pty-req refused")
		}
		waitClosed(t, conn)
	})
	t.Run("after its session ended", func(t *testing.T) {
		conn, err := e2e.Dial(ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		sess.Stdin = strings.NewReader("bob\n/quit\n")
		if out, err := sess.CombinedOutput(""); err != nil {
			t.Fatalf("session: %v\n%s", err, out)
		}
		waitClosed(t, conn)
	})
	t.Run("not while a session runs", func(t *testing.T) {
		c := ts.connectLine(t)
		c.WaitText(lobby.Prompt)
		c.Send("carol")
		c.WaitText("You are in the Lobby.")
		// Keep talking for several timeouts; each echo is waited for.
		start := time.Now()
		for i := 0; time.Since(start) < 4*timeout; i++ {
			c.Send(fmt.Sprintf("/create r%d", i))
			c.WaitText(fmt.Sprintf("You created r%d.", i))
		}
		c.Send("/list")
		c.WaitText("r1")
	})
}

// TestChannelsPerConnectionAreCapped: one connection holds at most
// ChannelsPerConn session channels; a closed one frees its place, and
// nothing is left when the connection goes.
func TestChannelsPerConnectionAreCapped(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.ChannelsPerConn = 3 })
	warm, _ := rawSession(t, ts.addr)
	_ = warm.Close()
	baseG, baseF := settledGoroutines(), fdCount()

	conn, err := e2e.Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var chans []gossh.Channel
	for i := range 3 {
		ch, reqs, err := conn.OpenChannel("session", nil)
		if err != nil {
			t.Fatalf("channel %d: %v", i, err)
		}
		go gossh.DiscardRequests(reqs)
		chans = append(chans, ch)
	}
	for range 100 {
		_, _, err := conn.OpenChannel("session", nil)
		var oce *gossh.OpenChannelError
		if !errors.As(err, &oce) || oce.Reason != gossh.ResourceShortage {
			t.Fatalf("a channel over the cap: %v, want a resource shortage", err)
		}
	}
	_ = chans[0].Close()
	testutil.Eventually(t, "a closed channel to free its place", func() bool {
		ch, reqs, err := conn.OpenChannel("session", nil)
		if err != nil {
			return false
		}
		go gossh.DiscardRequests(reqs)
		_ = ch
		return true
	})
	_ = conn.Close()
	g, f := waitBaseline(t, baseG, baseF)
	t.Logf("after: %d goroutines (baseline %d), %d fds (baseline %d)", g, baseG, f, baseF)
}

// TestConnectionsPerAddressAreCapped: one address holds at most
// ConnPerAddr connections at once; one that closes frees its place.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.ConnPerAddr = 3 })
	var conns []*gossh.Client
	for i := range 3 {
		conn, err := e2e.Dial(ts.addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer conn.Close()
		conns = append(conns, conn)
	}
	for range 10 {
		if conn, err := e2e.Dial(ts.addr); err == nil {
			_ = conn.Close()
			t.Fatal("a connection over the cap was let in")
		}
	}
	// A raw TCP connection is counted too, before any SSH is spoken.
	c := dialTCP(t, ts.addr)
	_ = c.SetReadDeadline(time.Now().Add(e2e.WaitTimeout))
	if n, err := io.Copy(io.Discard, c); err != nil || n != 0 {
		t.Errorf("a TCP connection over the cap: read %d bytes, %v; want it closed at once", n, err)
	}
	_ = c.Close()

	_ = conns[0].Close()
	testutil.Eventually(t, "a closed connection to free its place", func() bool {
		conn, err := e2e.Dial(ts.addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		return true
	})
}
