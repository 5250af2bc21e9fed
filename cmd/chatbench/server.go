package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// hostingRE finds the bound address in a server's log: chatroom says
// "Hosting at ADDR", ssh-chat "Listening for connections on ADDR".
var hostingRE = regexp.MustCompile(`(?:Hosting at|Listening for connections on) (\S+)`)

// serverProc is a chat server the tool started on a loopback port.
type serverProc struct {
	cmd  *exec.Cmd
	dir  string // temporary data folder, removed on stop
	addr string
	pid  int

	logMu  sync.Mutex
	log    []string  // the last lines it printed, for error messages
	logOut io.Writer // every line, if set
	done   chan struct{}
}

// startServer runs binary on 127.0.0.1:0 with a fresh data folder and waits
// until it says where it listens.
func startServer(ctx context.Context, binary string, prof profile, extra []string, env []string, logOut io.Writer) (*serverProc, error) {
	// The server runs in its data folder: resolve a relative path first.
	binary, err := exec.LookPath(binary)
	if err != nil {
		return nil, fmt.Errorf("server binary: %w", err)
	}
	if binary, err = filepath.Abs(binary); err != nil {
		return nil, fmt.Errorf("server binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "chatbench-*")
	if err != nil {
		return nil, fmt.Errorf("make data folder: %w", err)
	}
	var args []string
	switch prof {
	case profSSHChat:
		// ssh-chat wants a host key file; give it a throwaway one.
		key := filepath.Join(dir, "host_ed25519")
		if err := writeHostKey(key); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args = []string{"--bind", "127.0.0.1:0", "-i", key}
	default:
		args = []string{"--listen", "127.0.0.1:0", "--data", dir}
	}
	args = append(args, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// Never outlive the tool, even if it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server stdout: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &serverProc{cmd: cmd, dir: dir, pid: cmd.Process.Pid, done: make(chan struct{}), logOut: logOut}
	found := make(chan string, 1)
	go s.readLog(stdout, found)
	go func() { _ = cmd.Wait(); close(s.done) }()

	select {
	case s.addr = <-found:
		return s, nil
	case <-s.done:
		err = fmt.Errorf("server exited before listening:\n%s", s.tail())
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("server did not say where it listens within 30 s:\n%s", s.tail())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, err
}

func (s *serverProc) readLog(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.logMu.Lock()
		if s.logOut != nil {
			fmt.Fprintln(s.logOut, line)
		}
		s.log = append(s.log, line)
		if len(s.log) > 200 {
			s.log = s.log[len(s.log)-100:]
		}
		s.logMu.Unlock()
		if !sent {
			if m := hostingRE.FindStringSubmatch(line); m != nil {
				found <- m[1]
				sent = true
			}
		}
	}
}

func (s *serverProc) tail() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return strings.Join(s.log, "\n")
}

// stop asks the server to shut down (SIGTERM), kills it if it takes longer
// than 10 s, and removes its data folder.
func (s *serverProc) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

func writeHostKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		return fmt.Errorf("marshal host key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write host key: %w", err)
	}
	return nil
}

// procStat is what /proc says about a process at one moment.
type procStat struct {
	rssKB, hwmKB int64
	cpu          time.Duration // user + system
	threads      int
}

// readProcs sums readProc over several processes (a cluster's nodes and
// its NATS server): their CPU, RSS, peak RSS and threads.
func readProcs(pids []int) (procStat, error) {
	var sum procStat
	if len(pids) == 0 {
		return sum, errors.New("no server process")
	}
	for _, pid := range pids {
		st, err := readProc(pid)
		if err != nil {
			return sum, err
		}
		sum.cpu += st.cpu
		sum.rssKB += st.rssKB
		sum.hwmKB += st.hwmKB
		sum.threads += st.threads
	}
	return sum, nil
}

// clkTck is USER_HZ, the unit of utime and stime in /proc/PID/stat; it is
// 100 on every Linux this runs on.
const clkTck = 100

// readProc reads VmRSS, VmHWM and Threads from /proc/PID/status and
// utime+stime from /proc/PID/stat.
func readProc(pid int) (procStat, error) {
	var st procStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, fmt.Errorf("read status: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			st.rssKB = n
		case "VmHWM":
			st.hwmKB = n
		case "Threads":
			st.threads = int(n)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, fmt.Errorf("read stat: %w", err)
	}
	// The command name may hold spaces and parentheses: fields count from
	// the last ')'. utime and stime are fields 14 and 15 of the whole line.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return st, errors.New("parse stat: no ')'")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return st, errors.New("parse stat: too few fields")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	st.cpu = time.Duration(ut+stt) * time.Second / clkTck
	return st, nil
}
