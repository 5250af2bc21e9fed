package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
)

// clearEnv unsets every CHATROOM_ variable for the test, so that the
// environment of whoever runs the tests cannot change what they see.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CHATROOM_") {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
}

func TestParseFlags(t *testing.T) {
	def := config{listen: ":2222", data: "data", hostKey: filepath.Join("data", "host_ed25519"), maxSessions: 10, history: 100, floodBurst: 10, floodRate: 2, connRate: 10, connPerAddr: 20, keyRate: 20, prompt: 2 * time.Minute,
		node: defaultNodeName(), natsStream: "CHATROOM", natsRetention: 7 * 24 * time.Hour, ops: defaultOps}
	with := func(change func(*config)) config {
		c := def
		change(&c)
		return c
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{name: "defaults", want: def},
		{
			name: "flags",
			args: []string{"--listen", "127.0.0.1:0", "--data", "/tmp/x", "--max-sessions", "3", "--history", "20", "--host-key", "/k"},
			want: with(func(c *config) {
				c.listen, c.data, c.hostKey, c.maxSessions, c.history = "127.0.0.1:0", "/tmp/x", "/k", 3, 20
			}),
		},
		{
			name: "environment twins",
			env:  map[string]string{"CHATROOM_LISTEN": "127.0.0.1:9", "CHATROOM_DATA": "/d", "CHATROOM_MAX_SESSIONS": "4", "CHATROOM_HISTORY": "7", "CHATROOM_FLOOD_RATE": "-1"},
			want: with(func(c *config) {
				c.listen, c.data, c.hostKey, c.maxSessions, c.history, c.floodRate = "127.0.0.1:9", "/d", filepath.Join("/d", "host_ed25519"), 4, 7, -1
			}),
		},
		{
			name: "every flag has its twin",
			env: map[string]string{
				"CHATROOM_HOST_KEY": "/hk", "CHATROOM_FLOOD_BURST": "3", "CHATROOM_CONN_RATE": "0",
				"CHATROOM_IDLE_TIMEOUT": "5m", "CHATROOM_PROMPT_TIMEOUT": "30s",
				"CHATROOM_ALLOWED_KEYS": "/ak", "CHATROOM_DEBUG_ADDR": "127.0.0.1:6060",
				"CHATROOM_CONN_PER_ADDR": "5", "CHATROOM_KEY_RATE": "7",
				"CHATROOM_NATS": "nats://127.0.0.1:4222", "CHATROOM_NODE": "n1", "CHATROOM_NATS_CREDS": "/c",
				"CHATROOM_NATS_CA": "/ca", "CHATROOM_NATS_STREAM": "S", "CHATROOM_NATS_REPLICAS": "3",
				"CHATROOM_NATS_RETENTION": "1h",
			},
			want: with(func(c *config) {
				c.hostKey, c.floodBurst, c.connRate, c.idle, c.prompt, c.allowedKeys, c.debugAddr = "/hk", 3, 0, 5*time.Minute, 30*time.Second, "/ak", "127.0.0.1:6060"
				c.connPerAddr, c.keyRate = 5, 7
				c.nats, c.node, c.natsCreds, c.natsCA, c.natsStream, c.natsReplicas, c.natsRetention = "nats://127.0.0.1:4222", "n1", "/c", "/ca", "S", 3, time.Hour
			}),
		},
		{
			name: "flag beats environment",
			args: []string{"--max-sessions", "5"},
			env:  map[string]string{"CHATROOM_MAX_SESSIONS": "4"},
			want: with(func(c *config) { c.maxSessions = 5 }),
		},
		{
			// The variable is not read at all when its flag is given.
			name: "flag beats a malformed variable",
			args: []string{"--max-sessions", "5"},
			env:  map[string]string{"CHATROOM_MAX_SESSIONS": "abc"},
			want: with(func(c *config) { c.maxSessions = 5 }),
		},
		{
			name: "bare positional host, as chatServer.py took",
			args: []string{"127.0.0.1"},
			want: with(func(c *config) { c.listen = "127.0.0.1:2222" }),
		},
		{
			name: "positional host:port",
			args: []string{"127.0.0.1:0"},
			want: with(func(c *config) { c.listen = "127.0.0.1:0" }),
		},
		{
			name: "positional address beats the variable",
			args: []string{"127.0.0.1:0"},
			env:  map[string]string{"CHATROOM_LISTEN": "127.0.0.1:9"},
			want: with(func(c *config) { c.listen = "127.0.0.1:0" }),
		},
		{
			name: "the documented offs",
			args: []string{"--conn-rate", "0", "--flood-rate", "-1", "--idle-timeout", "0", "--key-rate", "0"},
			want: with(func(c *config) { c.connRate, c.floodRate, c.keyRate = 0, -1, 0 }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestParseFlagsRefuses: a value a flag refuses is refused from its
// variable too, and the message names whichever gave it.
func TestParseFlagsRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // all in the message
	}{
		{name: "letters for a number", env: map[string]string{"CHATROOM_MAX_SESSIONS": "abc"}, want: []string{`CHATROOM_MAX_SESSIONS="abc"`, "whole number"}},
		{name: "a letter O for a zero", env: map[string]string{"CHATROOM_MAX_SESSIONS": "5O"}, want: []string{`CHATROOM_MAX_SESSIONS="5O"`}},
		{name: "a duration without its unit", env: map[string]string{"CHATROOM_IDLE_TIMEOUT": "5"}, want: []string{`CHATROOM_IDLE_TIMEOUT="5"`, "unit"}},
		{name: "the same as a flag", args: []string{"--idle-timeout", "5"}, want: []string{"-idle-timeout"}},
		{name: "a rate that is no number", env: map[string]string{"CHATROOM_FLOOD_RATE": "fast"}, want: []string{"CHATROOM_FLOOD_RATE", "number"}},
		{name: "negative idle timeout", args: []string{"--idle-timeout", "-5s"}, want: []string{"--idle-timeout", "negative"}},
		{name: "negative idle timeout from the variable", env: map[string]string{"CHATROOM_IDLE_TIMEOUT": "-5s"}, want: []string{"CHATROOM_IDLE_TIMEOUT", "negative"}},
		{name: "zero sessions", args: []string{"--max-sessions", "0"}, want: []string{"--max-sessions", "at least 1"}},
		{name: "negative sessions from the variable", env: map[string]string{"CHATROOM_MAX_SESSIONS": "-3"}, want: []string{"CHATROOM_MAX_SESSIONS", "at least 1"}},
		{name: "zero history", env: map[string]string{"CHATROOM_HISTORY": "0"}, want: []string{"CHATROOM_HISTORY"}},
		{name: "zero burst", args: []string{"--flood-burst", "0"}, want: []string{"--flood-burst"}},
		// Zero would silently become the lobby's default of 2.
		{name: "zero flood rate", args: []string{"--flood-rate", "0"}, want: []string{"--flood-rate", "negative"}},
		{name: "flood rate NaN", env: map[string]string{"CHATROOM_FLOOD_RATE": "NaN"}, want: []string{"CHATROOM_FLOOD_RATE"}},
		{name: "infinite conn rate", args: []string{"--conn-rate", "+Inf"}, want: []string{"--conn-rate"}},
		{name: "negative key rate", args: []string{"--key-rate", "-1"}, want: []string{"--key-rate", "negative"}},
		{name: "negative conn rate", env: map[string]string{"CHATROOM_CONN_RATE": "-1"}, want: []string{"CHATROOM_CONN_RATE", "negative"}},
		{name: "zero prompt timeout", env: map[string]string{"CHATROOM_PROMPT_TIMEOUT": "0s"}, want: []string{"CHATROOM_PROMPT_TIMEOUT", "positive"}},
		{name: "empty data folder", env: map[string]string{"CHATROOM_DATA": ""}, want: []string{`CHATROOM_DATA=""`, "empty"}},
		{name: "listen without a port", args: []string{"--listen", "localhost"}, want: []string{"--listen", "HOST:PORT"}},
		{name: "debug address without a port", env: map[string]string{"CHATROOM_DEBUG_ADDR": "localhost"}, want: []string{"CHATROOM_DEBUG_ADDR"}},
		{name: "two addresses", args: []string{"a", "b"}, want: []string{"one address"}},
		{name: "address by flag and by argument", args: []string{"--listen", ":1", "127.0.0.1"}, want: []string{"once"}},
		{name: "an unknown flag", args: []string{"--bogus"}, want: []string{"-bogus", "chatroom -h"}},
		{name: "a node name with a dot", args: []string{"--node", "a.b"}, want: []string{"--node", "letters"}},
		{name: "an empty node name", env: map[string]string{"CHATROOM_NODE": ""}, want: []string{"CHATROOM_NODE"}},
		{name: "a stream name with a wildcard", args: []string{"--nats-stream", "A*"}, want: []string{"--nats-stream"}},
		{name: "too many replicas", env: map[string]string{"CHATROOM_NATS_REPLICAS": "7"}, want: []string{"CHATROOM_NATS_REPLICAS"}},
		{name: "negative retention", args: []string{"--nats-retention", "-1h"}, want: []string{"--nats-retention", "negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := parseFlags(tt.args, io.Discard)
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
		})
	}
}

func TestExportRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "no room", args: nil, want: "one room"},
		{name: "two rooms", args: []string{"a", "b"}, want: "one room"},
		{name: "unknown format, flag after the room", args: []string{"a", "--format", "xml"}, want: `--format="xml"`},
		{name: "unknown format from the variable", args: []string{"a"}, env: map[string]string{"CHATROOM_FORMAT": "xml"}, want: `CHATROOM_FORMAT="xml"`},
		{name: "empty data folder from the variable", args: []string{"a"}, env: map[string]string{"CHATROOM_DATA": ""}, want: `CHATROOM_DATA=""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := runExport(tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestBadVariableStopsTheServer runs the binary as an operator would: a
// variable that does not parse stops it before it listens, with status 2
// and one line on stderr.
func TestBadVariableStopsTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	dir := t.TempDir()
	// A server that does start is killed at the deadline, failing the test.
	ctx, cancel := context.WithTimeout(context.Background(), e2e.WaitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "--listen", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(), "CHATROOM_IDLE_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit: %v, want status 2\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "CHATROOM_IDLE_TIMEOUT") {
		t.Fatalf("output %q, want one line naming CHATROOM_IDLE_TIMEOUT", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the server touched its data folder before refusing: %v", entries)
	}
}
