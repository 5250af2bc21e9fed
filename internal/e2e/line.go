package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Line is a script talking to the server without a PTY, as `ssh -T`
// or a bot would.
type Line struct {
	t     testing.TB
	conn  *gossh.Client
	sess  *gossh.Session
	Stdin io.WriteCloser
	exit  chan error
	read  sync.WaitGroup

	mu      sync.Mutex
	out     bytes.Buffer  // everything received, stdout and stderr
	grew    chan struct{} // closed and replaced whenever out grows or a reader ends
	readers int           // of stdout and stderr, still reading
}

// ConnectLine opens a session without a PTY to addr, without a key.
func ConnectLine(t testing.TB, addr string) *Line {
	t.Helper()
	return ConnectLineKey(t, addr, nil)
}

// ConnectLineKey opens a session without a PTY to addr with signer's key
// (none when nil).
func ConnectLineKey(t testing.TB, addr string, signer gossh.Signer) *Line {
	t.Helper()
	return ConnectLineWith(t, addr, signer, nil, "")
}

// ConnectLineWith opens a session without a PTY to addr with signer's key
// (none when nil), running setup (when not nil) before the shell, or
// before the exec request for command, as `ssh -T host COMMAND` sends,
// when command is not "".
func ConnectLineWith(t testing.TB, addr string, signer gossh.Signer, setup func(*gossh.Session) error, command string) *Line {
	t.Helper()
	conn, err := DialKey(addr, signer)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	stderr, _ := sess.StderrPipe()
	c := &Line{t: t, conn: conn, sess: sess, Stdin: stdin, exit: make(chan error, 1), grew: make(chan struct{}), readers: 2}
	if setup != nil {
		if err := setup(sess); err != nil {
			t.Fatal(err)
		}
	}
	if command != "" {
		err = sess.Start(command)
	} else {
		err = sess.Shell()
	}
	if err != nil {
		t.Fatal(err)
	}
	c.read.Add(2)
	go c.copy(stdout)
	go c.copy(stderr)
	go func() { c.exit <- sess.Wait() }()
	t.Cleanup(func() {
		_ = sess.Close()
		_ = conn.Close()
		c.read.Wait()
	})
	return c
}

func (c *Line) copy(r io.Reader) {
	defer c.read.Done()
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		c.mu.Lock()
		c.out.Write(buf[:n])
		if err != nil {
			c.readers--
		}
		if n > 0 || err != nil {
			close(c.grew) // wakes every WaitText
			c.grew = make(chan struct{})
		}
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Output is everything received so far, stdout and stderr.
func (c *Line) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// Send writes one line.
func (c *Line) Send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.Stdin, line+"\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// WaitText waits until text has been received.
func (c *Line) WaitText(text string) {
	c.t.Helper()
	want := []byte(text)
	c.wait(fmt.Sprintf("%q", text), func(out []byte) bool { return bytes.Contains(out, want) })
}

// WaitFor waits until cond holds for everything received so far.
func (c *Line) WaitFor(what string, cond func(out string) bool) {
	c.t.Helper()
	c.wait(what, func(out []byte) bool { return cond(string(out)) })
}

// wait waits until cond holds for the output, looking again whenever
// output arrives, and gives up once no more can come or after WaitTimeout.
func (c *Line) wait(what string, cond func(out []byte) bool) {
	c.t.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		done, grew, ended := cond(c.out.Bytes()), c.grew, c.readers == 0
		c.mu.Unlock()
		switch {
		case done:
			return
		case ended:
			c.t.Fatalf("the session ended without %s; got:\n%s", what, c.Output())
		}
		select {
		case <-grew:
		case <-deadline.C:
			c.t.Fatalf("timed out waiting for %s; got:\n%s", what, c.Output())
		}
	}
}

// WaitExit waits for the session to end and returns its exit status.
func (c *Line) WaitExit() int {
	c.t.Helper()
	select {
	case err := <-c.exit:
		c.exit <- err
		c.read.Wait() // everything sent before the exit has been read
		code, ok := exitStatus(err)
		if !ok {
			c.t.Fatalf("session ended without a status: %v", err)
		}
		return code
	case <-time.After(WaitTimeout):
		c.t.Fatalf("session did not end; got:\n%s", c.Output())
	}
	return -1
}

// exitStatus reads the exit status out of Session.Wait's error.
func exitStatus(err error) (int, bool) {
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return 0, true
	case errors.As(err, &ee):
		return ee.ExitStatus(), true
	}
	return 0, false
}
