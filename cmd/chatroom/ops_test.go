package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

var defaultOps = opsConfig{logFormat: "text", logLevel: "info"}

func TestOpsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    opsConfig
		wantErr string
	}{
		{name: "defaults", want: defaultOps},
		{
			name: "flags",
			args: []string{"--log-format", "json", "--log-level", "debug", "--metrics-addr", "127.0.0.1:9090", "--drain", "5s"},
			want: opsConfig{logFormat: "json", logLevel: "debug", metricsAddr: "127.0.0.1:9090", drain: 5 * time.Second},
		},
		{
			name: "environment twins",
			env:  map[string]string{"CHATROOM_LOG_FORMAT": "json", "CHATROOM_LOG_LEVEL": "warn", "CHATROOM_METRICS_ADDR": ":9090", "CHATROOM_DRAIN": "2s", "CHATROOM_DEBUG_PUBLIC": "true"},
			want: opsConfig{logFormat: "json", logLevel: "warn", metricsAddr: ":9090", drain: 2 * time.Second, debugPublic: true},
		},
		{name: "unknown format", args: []string{"--log-format", "xml"}, wantErr: "--log-format"},
		{name: "unknown level", args: []string{"--log-level", "loud"}, wantErr: "--log-level"},
		{name: "negative drain", args: []string{"--drain", "-1s"}, wantErr: "--drain"},
		{name: "profiles on loopback", args: []string{"--debug-addr", "127.0.0.1:6060"}, want: defaultOps},
		{name: "profiles on localhost", args: []string{"--debug-addr", "localhost:6060"}, want: defaultOps},
		{name: "profiles on IPv6 loopback", args: []string{"--debug-addr", "[::1]:6060"}, want: defaultOps},
		{name: "profiles on every interface", args: []string{"--debug-addr", ":6060"}, wantErr: "--debug-public"},
		{name: "profiles on a public address", args: []string{"--debug-addr", "0.0.0.0:6060"}, wantErr: "--debug-public"},
		{name: "profiles on a host name", args: []string{"--debug-addr", "example.org:6060"}, wantErr: "--debug-public"},
		{
			name: "profiles anywhere, meant",
			args: []string{"--debug-addr", ":6060", "--debug-public"},
			want: opsConfig{logFormat: "text", logLevel: "info", debugPublic: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ops != tt.want {
				t.Fatalf("got %+v, want %+v", got.ops, tt.want)
			}
		})
	}
}

// TestHooksWithoutMetrics: without --metrics-addr every hook handed to the
// chat is a true nil, not a nil *Metrics inside an interface (which the
// lobby would call, and which would crash).
func TestHooksWithoutMetrics(t *testing.T) {
	o, err := startOps(defaultOps, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if o.lobbyObserver() != nil || o.sshObserver() != nil || o.natsReconnected() != nil || len(o.storeOptions()) != 0 {
		t.Fatal("a hook is set without --metrics-addr")
	}
	on := defaultOps
	on.metricsAddr = "127.0.0.1:0"
	o, err = startOps(on, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if o.lobbyObserver() == nil || o.sshObserver() == nil || o.natsReconnected() == nil || len(o.storeOptions()) != 1 {
		t.Fatal("a hook is missing with --metrics-addr")
	}
}

// TestReadyLineAtAnyLevel: the ready line is logged even when the level
// asked for would hide an info line.
func TestReadyLineAtAnyLevel(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--log-level", "error") // fails unless it says Hosting at
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, p.logText())
	}
	if strings.Count(p.logText(), "\n") != 1 {
		t.Errorf("at --log-level error, the log holds more than the ready line:\n%s", p.logText())
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"chatroom ", "module   github.com/chatroom-ssh/chatroom\n", "go       go1."} {
		if !strings.Contains(text, want) {
			t.Errorf("version says:\n%s\nwant it to contain %q", text, want)
		}
	}
	// A build in a checkout says which commit (CI builds without it).
	if m := regexp.MustCompile(`(?m)^revision (\S+)`).FindStringSubmatch(text); m != nil && !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(m[1]) {
		t.Errorf("revision %q is not a commit hash", m[1])
	}
	if err := exec.Command(binary(t), "version", "extra").Run(); err == nil {
		t.Error("version with an argument succeeded")
	}
}

var metricsRE = regexp.MustCompile(`metrics at http://([^/\s"]+)/metrics`)

// metricsAddr is where the process serves its metrics, from its log.
func (p *process) metricsAddr(t *testing.T) string {
	t.Helper()
	m := metricsRE.FindStringSubmatch(p.logText())
	if m == nil {
		t.Fatalf("the server did not say where its metrics are:\n%s", p.logText())
	}
	return m[1]
}

// get fetches http://addr/path and returns its status and body.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: e2e.WaitTimeout}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// metric reads one series' value from /metrics, as Prometheus would.
func metric(t *testing.T, addr, series string) float64 {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", series, body)
	return 0
}

func waitMetric(t *testing.T, addr, series string, want float64) {
	t.Helper()
	testutil.Eventually(t, series+" to be "+strconv.FormatFloat(want, 'g', -1, 64), func() bool {
		return metric(t, addr, series) == want
	})
}

// TestMetricsFollowRealSessions: /metrics counts real SSH sessions by kind
// and real lines, and /healthz says 200 while serving and 503 from the
// first SIGTERM on.
func TestMetricsFollowRealSessions(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--metrics-addr", "127.0.0.1:0", "--drain", "30s", "--flood-rate", "-1")
	addr := p.metricsAddr(t)
	if code, body := get(t, addr, "/healthz"); code != http.StatusOK || body != "serving\n" {
		t.Fatalf("/healthz while serving: %d %q", code, body)
	}
	const tui, line = `chatroom_sessions_open{kind="tui"}`, `chatroom_sessions_open{kind="line"}`
	const chat = `chatroom_lines_posted_total{kind="message"}`
	waitMetric(t, addr, tui, 0)
	waitMetric(t, addr, line, 0)

	alice := e2e.Connect(t, p.addr, 100, 30)
	alice.Login("alice")
	waitMetric(t, addr, tui, 1)
	alice.TypeLine("/create alpha")
	alice.WaitText("You created alpha")
	bob := e2e.ConnectLine(t, p.addr)
	bob.WaitText(lobby.Prompt)
	waitMetric(t, addr, line, 1)
	bob.Send("bob")
	bob.Send("/join alpha")
	bob.WaitText("You are in alpha")
	if got := metric(t, addr, "chatroom_rooms"); got != 1 {
		t.Errorf("chatroom_rooms = %v, want 1", got)
	}
	if got := metric(t, addr, "chatroom_users_online"); got != 2 {
		t.Errorf("chatroom_users_online = %v, want 2", got)
	}

	before := metric(t, addr, chat)
	deliveries := metric(t, addr, "chatroom_deliveries_total")
	alice.TypeLine("hello from the terminal")
	bob.WaitText("alice: hello from the terminal")
	bob.Send("hello from a script")
	alice.WaitText("bob: hello from a script")
	waitMetric(t, addr, chat, before+2)
	// Each line reached both of them.
	testutil.Eventually(t, "four more deliveries", func() bool {
		return metric(t, addr, "chatroom_deliveries_total") >= deliveries+4
	})
	if got := metric(t, addr, `chatroom_delivery_latency_seconds_count{origin="local"}`); got < 4 {
		t.Errorf("delivery latency observations = %v, want at least 4", got)
	}
	if got := metric(t, addr, `chatroom_store_commit_seconds_count{op="append"}`); got < 1 {
		t.Errorf("store commits timed = %v, want some", got)
	}
	for _, series := range []string{"go_goroutines", "process_resident_memory_bytes", `chatroom_sessions_refused_total{reason="banned"}`} {
		metric(t, addr, series) // present
	}

	bob.Send("/quit")
	bob.WaitExit()
	waitMetric(t, addr, line, 0)
	if got := metric(t, addr, tui); got != 1 {
		t.Errorf("%s = %v after bob left, want 1", tui, got)
	}

	// SIGTERM: /healthz says so at once, and through the drain.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "/healthz to say shutting down", func() bool {
		code, body := get(t, addr, "/healthz")
		return code == http.StatusServiceUnavailable && body == "shutting down\n"
	})
	// The drain is for load balancers: the sessions go on meanwhile.
	alice.TypeLine("still here")
	alice.WaitText("alice: still here")
	// A second signal ends the drain; the sessions are told.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	alice.WaitText("shutting down")
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d, want 0:\n%s", code, p.logText())
	}
}

// TestJSONLogs: with --log-format json every line on stderr is one JSON
// object; the ready line still says Hosting at HOST:PORT; sessions are
// logged with who (address, session) and never with what they said.
func TestJSONLogs(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--log-format", "json", "--log-level", "debug")
	bob := e2e.ConnectLine(t, p.addr)
	bob.WaitText(lobby.Prompt)
	bob.Send("bob")
	bob.Send("/create alpha")
	const secret = "zebra-secret-words"
	bob.Send(secret)
	bob.WaitText("bob: " + secret)
	bob.Send("/quit")
	bob.WaitExit()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, p.logText())
	}

	logText := p.logText()
	if strings.Contains(logText, secret) {
		t.Errorf("the log holds what a user said:\n%s", logText)
	}
	var hosting, opened bool
	for i, l := range strings.Split(strings.TrimRight(logText, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %d is not one JSON object: %v\n%s", i+1, err, l)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line %d has no %q: %s", i+1, k, l)
			}
		}
		msg, _ := rec["msg"].(string)
		if msg == "Hosting at "+p.addr {
			hosting = true
			if rec["addr"] != p.addr {
				t.Errorf("the ready line's addr = %v, want %s", rec["addr"], p.addr)
			}
		}
		if msg == "session open" {
			opened = true
			for _, k := range []string{"remote", "session", "kind"} {
				if s, _ := rec[k].(string); s == "" {
					t.Errorf("session open has no %q: %s", k, l)
				}
			}
		}
	}
	if !hosting {
		t.Errorf("no line with the message %q:\n%s", "Hosting at "+p.addr, logText)
	}
	if !opened {
		t.Errorf("no session open line:\n%s", logText)
	}
}
