package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unit is a systemd unit file: its sections' keys, each with every value
// it is given, in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			key = strings.TrimSpace(key)
			u[section][key] = append(u[section][key], strings.TrimSpace(value))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// TestUnitAsks checks what the issue asks of the service: a user of its
// own, a state folder, restarts on failure, the hardening options, and
// the one capability port 22 needs.
func TestUnitAsks(t *testing.T) {
	u := parseUnit(t, "chatroom.service")
	want := []struct{ section, key, value string }{
		{"Service", "ExecStart", "/usr/local/bin/chatroom"},
		{"Service", "DynamicUser", "yes"},
		{"Service", "User", "chatroom"},
		{"Service", "StateDirectory", "chatroom"},
		{"Service", "Environment", "CHATROOM_DATA=%S/chatroom"},
		{"Service", "Restart", "on-failure"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "AmbientCapabilities", "CAP_NET_BIND_SERVICE"},
		{"Service", "CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, w := range want {
		if !slices.Contains(u[w.section][w.key], w.value) {
			t.Errorf("[%s] %s = %q, want %q among them", w.section, w.key, u[w.section][w.key], w.value)
		}
	}
	// The data folder the service writes is the state folder, and nothing
	// else is writable under ProtectSystem=strict.
	if got := u.get("Service", "ReadWritePaths"); got != "" {
		t.Errorf("ReadWritePaths = %q: the state folder should be all it writes", got)
	}
	if u.get("Service", "User") == "root" {
		t.Error("the service runs as root")
	}
}

// TestUnitVerifies runs systemd's own checker on the unit where this
// machine has it: unknown keys and bad values are warnings there, so any
// word it says about the file fails the test.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed; TestUnitAsks still checks the keys")
	}
	data, err := os.ReadFile("chatroom.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify wants ExecStart to exist: any executable will do, such as
	// this test.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "ExecStart=/usr/local/bin/chatroom", "ExecStart="+self, 1)
	path := filepath.Join(t.TempDir(), "chatroom.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "chatroom.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
	line int
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends inside a continued instruction", path)
	}
	return out
}

// TestDockerfile checks the container recipe without a container engine:
// a static build stage, and a final stage that runs the binary as a user
// other than root, with the data folder in a volume and port 2222.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "Dockerfile")
	known := []string{"FROM", "WORKDIR", "COPY", "RUN", "USER", "ENV", "VOLUME", "EXPOSE", "STOPSIGNAL", "ENTRYPOINT", "CMD", "ARG", "LABEL", "HEALTHCHECK"}
	var stages [][]instruction
	for _, in := range ins {
		if !slices.Contains(known, in.cmd) {
			t.Errorf("line %d: unknown instruction %s", in.line, in.cmd)
		}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("line %d: %s before any FROM", in.line, in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[1]
	if !strings.HasSuffix(build[0].args, " AS build") {
		t.Errorf("the first stage is %q, want one named build", build[0].args)
	}
	static := false
	for _, in := range build {
		if in.cmd == "RUN" && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/chatroom") {
			static = true
			if _, err := os.Stat(filepath.Join("..", "cmd", "chatroom", "main.go")); err != nil {
				t.Errorf("the build names ./cmd/chatroom: %v", err)
			}
		}
	}
	if !static {
		t.Error("no static build (CGO_ENABLED=0 go build ./cmd/chatroom) in the build stage")
	}

	last := map[string]string{}
	var envs []string
	for _, in := range final {
		last[in.cmd] = in.args
		if in.cmd == "ENV" {
			envs = append(envs, strings.Fields(in.args)...)
		}
		if in.cmd == "COPY" && !strings.Contains(in.args, "--from=build") {
			t.Errorf("line %d: the final stage copies from outside the build: %s", in.line, in.args)
		}
	}
	if u := last["USER"]; u == "" || u == "root" || strings.HasPrefix(u, "0:") || u == "0" {
		t.Errorf("USER %q: the final stage must not run as root", u)
	}
	var volumes []string
	if err := json.Unmarshal([]byte(last["VOLUME"]), &volumes); err != nil || !slices.Contains(volumes, "/data") {
		t.Errorf("VOLUME %s, want /data (%v)", last["VOLUME"], err)
	}
	if !slices.Contains(strings.Fields(last["EXPOSE"]), "2222") {
		t.Errorf("EXPOSE %q, want 2222", last["EXPOSE"])
	}
	if !slices.Contains(envs, "CHATROOM_DATA=/data") {
		t.Errorf("ENV %q: want CHATROOM_DATA=/data, the volume", envs)
	}
	var entry []string
	if err := json.Unmarshal([]byte(last["ENTRYPOINT"]), &entry); err != nil || len(entry) == 0 || entry[0] != "/chatroom" {
		t.Errorf("ENTRYPOINT %s: want the exec form running /chatroom (so SIGTERM reaches it) (%v)", last["ENTRYPOINT"], err)
	}
}
