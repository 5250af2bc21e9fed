// Package e2e drives chatroom the way people do, for end-to-end tests: real
// SSH clients (golang.org/x/crypto/ssh) with a PTY whose output feeds a
// terminal emulator (x/vt), read as the visible screen, and plain line-mode
// clients without a PTY. Every wait has a deadline; nothing sleeps a fixed time.
package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// WaitTimeout bounds every wait for something to appear: the tests' own
// (testutil.WaitTimeout).
const WaitTimeout = testutil.WaitTimeout

// Terminal is one user at a terminal: an SSH session with a PTY whose output
// is fed into a terminal emulator, read as the visible screen.
type Terminal struct {
	t      testing.TB
	conn   *gossh.Client
	Sess   *gossh.Session
	Emu    *vt.SafeEmulator
	stdin  io.WriteCloser
	exit   chan error // the session's end, once
	copies sync.WaitGroup
	closed sync.Once

	wrote chan struct{} // capacity 1: output arrived since the last look

	rawMu     sync.Mutex
	recording bool
	raw       []byte // what arrived since StartRecording
}

// StartRecording keeps every byte the server sends from now on, for
// assertions on the raw stream rather than the screen.
func (c *Terminal) StartRecording() {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	c.recording, c.raw = true, nil
}

// Recorded returns the bytes received since StartRecording.
func (c *Terminal) Recorded() []byte {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	return append([]byte(nil), c.raw...)
}

// Write feeds the emulator, keeping a copy while recording.
func (c *Terminal) Write(p []byte) (int, error) {
	c.rawMu.Lock()
	if c.recording {
		c.raw = append(c.raw, p...)
	}
	c.rawMu.Unlock()
	n, err := c.safeWrite(p)
	select {
	case c.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// Dial connects to addr as any user without a key, trusting any host key.
func Dial(addr string) (*gossh.Client, error) {
	return DialKey(addr, nil)
}

// DialKey connects to addr with the key of signer, or as a client without
// keys when signer is nil: then it answers keyboard-interactive with
// nothing, as OpenSSH does for a server that asks no questions.
func DialKey(addr string, signer gossh.Signer) (*gossh.Client, error) {
	auth := []gossh.AuthMethod{gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		return make([]string, len(qs)), nil
	})}
	if signer != nil {
		auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
	}
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            "tester",
		Auth:            auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         WaitTimeout,
	})
}

// NewKey makes a new ed25519 key for a test client.
func NewKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// AuthorizedLine is the authorized_keys line of signer's public key, with
// comment after it (none when empty).
func AuthorizedLine(signer gossh.Signer, comment string) string {
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
	if comment != "" {
		line += " " + comment
	}
	return line
}

// Fingerprint is the SHA256 fingerprint of signer's public key.
func Fingerprint(signer gossh.Signer) string {
	return gossh.FingerprintSHA256(signer.PublicKey())
}

// Connect opens a PTY session of w×h cells to addr without a key, failing
// the test on error.
func Connect(t testing.TB, addr string, w, h int) *Terminal {
	t.Helper()
	return ConnectKey(t, addr, w, h, nil)
}

// ConnectKey opens a PTY session of w×h cells to addr with signer's key
// (none when nil), failing the test on error.
func ConnectKey(t testing.TB, addr string, w, h int, signer gossh.Signer) *Terminal {
	t.Helper()
	c, err := tryConnect(t, addr, w, h, signer, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ConnectExec opens a PTY session of w×h cells to addr without a key, as
// `ssh -t host COMMAND` does: an exec request for command instead of a
// shell.
func ConnectExec(t testing.TB, addr string, w, h int, command string) *Terminal {
	t.Helper()
	c, err := tryConnect(t, addr, w, h, nil, nil, command)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TryConnect opens a PTY session of w×h cells to addr. The session is closed
// when the test ends.
func TryConnect(t testing.TB, addr string, w, h int) (*Terminal, error) {
	return tryConnect(t, addr, w, h, nil, nil, "")
}

// TryConnectWith is TryConnect with a step between the PTY request and the
// shell (window changes, env requests), when beforeShell is not nil. It
// gives up on a shell request the server does not answer.
func TryConnectWith(t testing.TB, addr string, w, h int, beforeShell func(*gossh.Session) error) (*Terminal, error) {
	return tryConnect(t, addr, w, h, nil, beforeShell, "")
}

// tryConnect connects with signer's key (none when nil), running
// beforeShell (when not nil) between the PTY request and the shell, or the
// exec request for command when it is not "".
func tryConnect(t testing.TB, addr string, w, h int, signer gossh.Signer, beforeShell func(*gossh.Session) error, command string) (*Terminal, error) {
	conn, err := DialKey(addr, signer)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("new session: %w", err)
	}
	modes := gossh.TerminalModes{gossh.ECHO: 0}
	if err := sess.RequestPty("xterm-256color", h, w, modes); err != nil {
		conn.Close()
		return nil, fmt.Errorf("pty: %w", err)
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	stderr, _ := sess.StderrPipe()
	c := &Terminal{t: t, conn: conn, Sess: sess, Emu: vt.NewSafeEmulator(w, h), stdin: stdin, exit: make(chan error, 1), wrote: make(chan struct{}, 1)}
	if beforeShell != nil {
		if err := beforeShell(sess); err != nil {
			conn.Close()
			return nil, fmt.Errorf("before the shell: %w", err)
		}
	}
	shell := make(chan error, 1)
	go func() {
		if command != "" {
			shell <- sess.Start(command)
			return
		}
		shell <- sess.Shell()
	}()
	select {
	case err = <-shell:
	case <-time.After(WaitTimeout):
		conn.Close() // ends the request
		<-shell
		err = fmt.Errorf("no answer in %v", WaitTimeout)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("shell: %w", err)
	}
	c.copies.Add(3)
	go func() { defer c.copies.Done(); _, _ = io.Copy(c, stdout) }()
	go func() { defer c.copies.Done(); _, _ = io.Copy(c, stderr) }()
	// The emulator answers the program's terminal queries through Read; it
	// blocks its writer until someone reads them.
	go func() { defer c.copies.Done(); _, _ = io.Copy(stdin, c.Emu) }()
	go func() { c.exit <- sess.Wait() }()
	t.Cleanup(c.Close)
	return c, nil
}

// Close hangs up and waits for every goroutine the client started.
func (c *Terminal) Close() {
	c.closed.Do(func() {
		_ = c.Sess.Close()
		_ = c.conn.Close()
		// Wake the reply copier, blocked reading the emulator's input. Close
		// rather than write: if the copier already quit, a write would wait
		// forever for a reader.
		if pw, ok := c.Emu.InputPipe().(*io.PipeWriter); ok {
			_ = pw.CloseWithError(io.EOF)
		} else {
			_, _ = c.Emu.InputPipe().Write([]byte{0})
		}
		c.copies.Wait()
	})
}

// Screen is the visible text of the terminal.
func (c *Terminal) Screen() string {
	return ansi.Strip(c.Emu.Render())
}

// Lines is the visible text, a row each.
func (c *Terminal) Lines() []string {
	return strings.Split(c.Screen(), "\n")
}

// WaitFor polls the screen until cond holds, failing the test after WaitTimeout.
func (c *Terminal) WaitFor(what string, cond func(screen string) bool) string {
	c.t.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	// Look again whenever output arrives, and at least every 10ms (keys
	// sent from cond produce output too).
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s := c.Screen()
		if cond(s) {
			return s
		}
		select {
		case <-c.wrote:
		case <-tick.C:
		case <-deadline.C:
			c.t.Fatalf("timed out waiting for %s; screen:\n%s", what, c.Screen())
		}
	}
}

// WaitText waits until text is on the screen.
func (c *Terminal) WaitText(text string) string {
	c.t.Helper()
	return c.WaitFor(fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

// WaitGone waits until text has left the screen.
func (c *Terminal) WaitGone(text string) string {
	c.t.Helper()
	return c.WaitFor(fmt.Sprintf("%q to go", text), func(s string) bool { return !strings.Contains(s, text) })
}

// TypeLine types text and presses Enter.
func (c *Terminal) TypeLine(text string) {
	c.Emu.SendText(text)
	c.Emu.SendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
}

// Key presses one key.
func (c *Terminal) Key(k uv.KeyPressEvent) { c.Emu.SendKey(k) }

// Login answers the name prompt and waits for the main screen.
func (c *Terminal) Login(name string) {
	c.t.Helper()
	c.WaitText(lobby.Prompt)
	c.TypeLine(name)
	if name != "" {
		c.WaitFor("the main screen for "+name, func(s string) bool {
			return strings.Contains(s, name) && !strings.Contains(s, lobby.Prompt)
		})
	}
}

// WaitExit waits for the session to end and returns its exit status.
func (c *Terminal) WaitExit() int {
	c.t.Helper()
	select {
	case err := <-c.exit:
		c.exit <- err
		code, ok := exitStatus(err)
		if !ok {
			c.t.Fatalf("session ended without a status: %v", err)
		}
		return code
	case <-time.After(WaitTimeout):
		c.t.Fatalf("session did not end; screen:\n%s", c.Screen())
	}
	return -1
}

// safeWrite feeds the emulator, surviving its known crash: x/vt v0.1.0
// indexes past the screen when a scroll region drawn for a larger window
// arrives after the emulator shrank (a resize race every real terminal
// handles). The screen is then what the test inspects next; the process
// must not die with it.
func (c *Terminal) safeWrite(p []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.t.Logf("terminal emulator panicked on %d bytes (x/vt resize bug): %v", len(p), r)
			n, err = len(p), nil
		}
	}()
	return c.Emu.Write(p)
}

// WaitEnd waits for the session to end, with or without an exit status.
func (c *Terminal) WaitEnd() {
	c.t.Helper()
	select {
	case err := <-c.exit:
		c.exit <- err
	case <-time.After(WaitTimeout):
		c.t.Fatalf("session did not end; screen:\n%s", c.Screen())
	}
}

// FindText returns the cell position of the first occurrence of text on the
// screen, for clicking it.
func (c *Terminal) FindText(text string) (x, y int, ok bool) {
	for y, line := range c.Lines() {
		if i := strings.Index(line, text); i >= 0 {
			return ansi.StringWidth(line[:i]), y, true
		}
	}
	return 0, 0, false
}

// Click presses and releases the left button at cell (x, y).
func (c *Terminal) Click(x, y int) {
	c.Emu.SendMouse(vt.MouseClick{X: x, Y: y, Button: vt.MouseLeft})
	c.Emu.SendMouse(vt.MouseRelease{X: x, Y: y, Button: vt.MouseLeft})
}
