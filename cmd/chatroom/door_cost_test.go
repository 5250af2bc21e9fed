package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
)

// TestDoorCost measures what clients that never chat cost the server: the
// figures behind the README's "Rude clients" promises. Each case runs
// against its own server process (the real binary, default flags but
// --conn-rate 0, profiles on a loopback port) and prints the server's
// goroutines, live heap after a GC, resident memory and open descriptors,
// before the hostile clients and while they do their worst. It asserts
// nothing: it is a measurement, run only when asked, from any commit:
//
//	go test ./cmd/chatroom -run DoorCost -v -door-cost [-door-case winch]
var (
	doorCost     = flag.Bool("door-cost", false, "measure what hostile clients cost the server (slow; prints figures)")
	doorCase     = flag.String("door-case", "", "run only this case of TestDoorCost")
	doorWinch    = flag.Int("door-winch", 2000, "connections that send pty-req, two window-changes and shell, then hang up")
	doorEnv      = flag.Int("door-env", 15000, "env requests of 30 KB on one session before its shell")
	doorWindows  = flag.Int("door-windows", 6, "sessions that resize to 1000x1000")
	doorBare     = flag.Int("door-bare", 1000, "connections from one address that open no session")
	doorChannels = flag.Int("door-channels", 5000, "session channels opened on one connection")
)

func TestDoorCost(t *testing.T) {
	if !*doorCost {
		t.Skip("a measurement; run with -door-cost")
	}
	cases := []struct {
		name string
		run  func(t *testing.T, p *probe)
	}{
		{"winch", costWinch},
		{"env", costEnv},
		{"window", costWindow},
		{"bare", costBare},
		{"channels", costChannels},
	}
	for _, c := range cases {
		if *doorCase != "" && *doorCase != c.name {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			p := startProbe(t)
			p.report(t, "idle server")
			c.run(t, p)
		})
	}
}

// costWinch: pty-req, two window changes and a shell, then a hang-up, many
// times over. The library queued the second size behind the first in a
// one-slot channel nobody read before the shell.
func costWinch(t *testing.T, p *probe) {
	n := *doorWinch
	var failed atomic.Int64
	parallel(n, 16, func(i int) {
		conn, err := e2e.Dial(p.addr)
		if err != nil {
			failed.Add(1)
			return
		}
		defer conn.Close()
		ch, reqs, err := conn.OpenChannel("session", nil)
		if err != nil {
			failed.Add(1)
			return
		}
		go gossh.DiscardRequests(reqs)
		if ok, err := ch.SendRequest("pty-req", true, ptyPayload(80, 24)); err != nil || !ok {
			failed.Add(1)
			return
		}
		_, _ = ch.SendRequest("window-change", false, windowPayload(100, 30))
		_, _ = ch.SendRequest("window-change", false, windowPayload(120, 40))
		// No reply asked for: before the fix the server never answered.
		_, _ = ch.SendRequest("shell", false, nil)
	})
	t.Logf("%d connections, %d failed", n, failed.Load())
	p.settle(t)
	p.report(t, fmt.Sprintf("%d connections gone", n))
}

// costEnv: one session sends a flood of large env requests before its shell.
func costEnv(t *testing.T, p *probe) {
	conn, err := e2e.Dial(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go gossh.DiscardRequests(reqs)
	value := strings.Repeat("x", 30<<10)
	accepted := 0
	for i := range *doorEnv {
		want := i == *doorEnv-1 // the last one waits for its answer, so all were read
		ok, err := ch.SendRequest("env", want, gossh.Marshal(struct{ Name, Value string }{fmt.Sprintf("V%d", i), value}))
		if err != nil {
			t.Fatalf("env %d: %v", i, err)
		}
		if want && ok {
			accepted++
		}
	}
	p.report(t, fmt.Sprintf("%d env requests of 30 KB read (the last one accepted: %v)", *doorEnv, accepted == 1))
}

// costWindow: sessions that say their window is 1000x1000 cells.
func costWindow(t *testing.T, p *probe) {
	var wg sync.WaitGroup
	var got atomic.Int64
	for range *doorWindows {
		conn, err := e2e.Dial(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestPty("xterm-256color", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		out, _ := sess.StdoutPipe()
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			n, _ := io.Copy(io.Discard, out)
			got.Add(n)
		})
		if err := sess.WindowChange(1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	// The programs draw on their next frame; wait until the output stops.
	var last int64 = -1
	for got.Load() != last {
		last = got.Load()
		time.Sleep(time.Second)
	}
	p.report(t, fmt.Sprintf("%d sessions at 1000x1000 (%d bytes drawn)", *doorWindows, got.Load()))
}

// costBare: connections from one address that authenticate and open no
// session, as `ssh -N` does, held open.
func costBare(t *testing.T, p *probe) {
	n := *doorBare
	var (
		mu    sync.Mutex
		conns []*gossh.Client
		fail  atomic.Int64
	)
	parallel(n, 16, func(int) {
		c, err := e2e.Dial(p.addr)
		if err != nil {
			fail.Add(1)
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	})
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	p.report(t, fmt.Sprintf("%d connections asked for, %d refused or failed", n, fail.Load()))
	time.Sleep(25 * time.Second)
	open := 0
	for _, c := range conns {
		if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err == nil {
			open++
		}
	}
	p.report(t, fmt.Sprintf("25 s later: %d of them still open", open))
}

// costChannels: one connection opens session channels and never asks for a
// shell on any.
func costChannels(t *testing.T, p *probe) {
	conn, err := e2e.Dial(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	opened, refused := 0, 0
	for range *doorChannels {
		ch, reqs, err := conn.OpenChannel("session", nil)
		var oce *gossh.OpenChannelError
		switch {
		case errors.As(err, &oce):
			refused++
			continue
		case err != nil:
			t.Fatal(err)
		}
		opened++
		go gossh.DiscardRequests(reqs)
		defer ch.Close()
	}
	p.report(t, fmt.Sprintf("%d channels asked for on one connection: %d opened, %d refused", *doorChannels, opened, refused))
}

// parallel runs f(0..n-1) on at most width goroutines.
func parallel(n, width int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range width {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

func ptyPayload(w, h int) []byte {
	return gossh.Marshal(struct {
		Term                  string
		Columns, Rows, PW, PH uint32
		Modes                 string
	}{"xterm-256color", uint32(w), uint32(h), 0, 0, "\x00"})
}

func windowPayload(w, h int) []byte {
	return gossh.Marshal(struct{ Columns, Rows, PW, PH uint32 }{uint32(w), uint32(h), 0, 0})
}

// probe is a server process and the address of its profiles.
type probe struct {
	*process
	debug string
}

var profilesRE = regexp.MustCompile(`profiles at http://(\S+)/debug/pprof/`)

func startProbe(t *testing.T) *probe {
	p := startProcess(t, t.TempDir(), "--debug-addr", "127.0.0.1:0")
	deadline := time.Now().Add(e2e.WaitTimeout)
	for {
		if m := profilesRE.FindStringSubmatch(p.logText()); m != nil {
			return &probe{process: p, debug: m[1]}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no profiles address in the log:\n%s", p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cost is the server's footprint at one moment.
type cost struct {
	goroutines int
	heap       int64 // live heap after a GC
	rss, hwm   int64 // resident memory now and at its peak
	fds        int
}

func (p *probe) measure(t *testing.T) cost {
	t.Helper()
	var c cost
	body := p.get(t, "/debug/pprof/goroutine?debug=1")
	if _, err := fmt.Sscanf(body, "goroutine profile: total %d", &c.goroutines); err != nil {
		t.Fatalf("goroutine profile: %v", err)
	}
	if m := regexp.MustCompile(`# HeapAlloc = (\d+)`).FindStringSubmatch(p.get(t, "/debug/pprof/heap?debug=1&gc=1")); m != nil {
		c.heap, _ = strconv.ParseInt(m[1], 10, 64)
	}
	pid := p.cmd.Process.Pid
	c.rss, c.hwm = procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		c.fds = len(ents)
	}
	return c
}

func (p *probe) report(t *testing.T, what string) {
	t.Helper()
	c := p.measure(t)
	t.Logf("%-60s goroutines %6d  heap %8.1f MB  RSS %8.1f MB  peak RSS %8.1f MB  fds %5d",
		what+":", c.goroutines, mb(c.heap), mb(c.rss), mb(c.hwm), c.fds)
}

// settle waits until the server's goroutine count stops moving: handlers of
// connections that just ended are still unwinding.
func (p *probe) settle(t *testing.T) {
	last, same := -1, 0
	for deadline := time.Now().Add(60 * time.Second); same < 3 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		g := p.measure(t).goroutines
		if g == last {
			same++
		} else {
			last, same = g, 0
		}
	}
}

func (p *probe) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.debug + path)
	if err != nil {
		t.Fatalf("profiles: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("profiles: %v", err)
	}
	return string(b)
}

// procStatus reads a "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
