package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/lobby"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds chatroom once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chatroom-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "chatroom")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// process is the server running as its own process.
type process struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

var hostingRE = regexp.MustCompile(`Hosting at ([^\s"]+)`) // in text or JSON logs

// startProcess runs the server binary on a free loopback port with data in
// dir and waits for its "Hosting at" line.
func startProcess(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--listen", "127.0.0.1:0", "--data", dir, "--conn-rate", "0"}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := hostingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.addr = <-addrc:
	case <-p.done:
		t.Fatalf("server exited before hosting:\n%s", p.logText())
	case <-time.After(e2e.WaitTimeout):
		t.Fatalf("server did not say Hosting at:\n%s", p.logText())
	}
	return p
}

func (p *process) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(e2e.WaitTimeout):
		t.Fatalf("server did not exit:\n%s", p.logText())
	}
	return -1
}

func TestSIGTERMTellsSessionsAndExitsZero(t *testing.T) {
	dir := t.TempDir()
	p := startProcess(t, dir)
	a := e2e.Connect(t, p.addr, 100, 30)
	a.Login("alice")
	a.TypeLine("/create alpha")
	a.WaitText("You created alpha")
	prompt := e2e.Connect(t, p.addr, 100, 30)
	prompt.WaitText(lobby.Prompt)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.WaitText("shutting down")
	prompt.WaitText("shutting down")
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0:\n%s", code, p.logText())
	}

	key := filepath.Join(dir, "host_ed25519")
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("host key mode %o, want 600", mode)
	}
	before, _ := os.ReadFile(key)
	p2 := startProcess(t, dir)
	if err := p2.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p2.wait(t); code != 0 {
		t.Fatalf("exit status %d after SIGINT, want 0", code)
	}
	after, _ := os.ReadFile(key)
	if !bytes.Equal(before, after) {
		t.Fatal("the host key changed across a restart")
	}
}
