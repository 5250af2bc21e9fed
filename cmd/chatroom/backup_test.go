package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/store"
)

// TestBackupDuringAWriteBurst takes a backup while a script floods a room,
// then starts a second server on the copy: it must hold every line the
// script had seen come back (so had been stored) before the backup began,
// in order, with the same host key and the count of users.
func TestBackupDuringAWriteBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two servers")
	}
	dir := t.TempDir()
	p := startProcess(t, dir, "--flood-rate", "-1", "--history", "50")
	sender := e2e.ConnectLine(t, p.addr)
	sender.WaitText(lobby.Prompt)
	sender.Send("sender")
	sender.Send("/create alpha")
	sender.WaitText("You are in alpha")

	// Chunks of 50, each sent once the previous one came back, so the
	// sender never falls a queue behind and is cut loose.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for chunk := 0; ; chunk++ {
			var b strings.Builder
			for i := chunk * 50; i < (chunk+1)*50; i++ {
				fmt.Fprintf(&b, "msg-%d\n", i)
			}
			if _, err := sender.Stdin.Write([]byte(b.String())); err != nil {
				return
			}
			last := fmt.Sprintf("sender: msg-%d\n", (chunk+1)*50-1)
			for !strings.Contains(sender.Output(), last) {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	testutil.Eventually(t, "part of the burst to come back", func() bool {
		return len(seenRE.FindAllString(sender.Output(), -1)) >= 300
	})

	acked := seenRE.FindAllStringSubmatch(sender.Output(), -1)
	dest := filepath.Join(t.TempDir(), "copy")
	out, err := exec.Command(binary(t), "backup", "--data", dir, dest).CombinedOutput()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	during := len(seenRE.FindAllString(sender.Output(), -1))
	t.Logf("%d lines had come back when the backup began, %d when it ended", len(acked), during)
	if during == len(acked) {
		t.Log("no line came back during the backup: it was not concurrent with the burst this time")
	}

	// A backup never goes over something.
	out, err = exec.Command(binary(t), "backup", "--data", dir, dest).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not empty") {
		t.Errorf("a second backup into %s: %v\n%s\nwant a refusal", dest, err, out)
	}

	// The copy serves, beside the original.
	p2 := startProcess(t, dest, "--history", "50")
	out, err = exec.Command(binary(t), "export", "--data", dest, "--format", "text", "alpha").CombinedOutput()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	stored := seenRE.FindAllStringSubmatch(string(out), -1)
	if len(stored) < len(acked) {
		t.Fatalf("the copy holds %d lines, but %d had come back before the backup", len(stored), len(acked))
	}
	for i, a := range acked {
		if stored[i][1] != a[1] {
			t.Fatalf("line %d: the copy has %s, the sender saw %s", i, stored[i][1], a[1])
		}
	}
	key, _ := os.ReadFile(filepath.Join(dir, "host_ed25519"))
	keyCopy, _ := os.ReadFile(filepath.Join(dest, "host_ed25519"))
	if len(key) == 0 || !bytes.Equal(key, keyCopy) {
		t.Error("the copy's host key is not the original's")
	}
	// The count of users came along: the copy's first guest is the second
	// user ever.
	guest := e2e.ConnectLine(t, p2.addr)
	guest.WaitText(lobby.Prompt)
	guest.Send("")
	guest.Send("/join alpha")
	guest.WaitFor("the guest's join after the history", func(out string) bool {
		_, after, ok := strings.Cut(out, "-- end of history --")
		return ok && strings.Contains(after, " joined alpha\n")
	})
	if !strings.Contains(guest.Output(), "Guest2 joined alpha") {
		t.Errorf("the first guest on the copy is not Guest2:\n%s", guest.Output())
	}
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p2.wait(t); code != 0 {
		t.Fatalf("the copy's server exited %d:\n%s", code, p2.logText())
	}
}

func TestBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	tests := []struct {
		name    string
		setup   func(t *testing.T) []string
		wantErr string
	}{
		{"no database", func(t *testing.T) []string { return []string{"--data", t.TempDir(), filepath.Join(t.TempDir(), "x")} }, "no chat database"},
		{"no destination", func(t *testing.T) []string { return []string{"--data", dir} }, "exactly one destination"},
		{"a file as destination", func(t *testing.T) []string {
			f := filepath.Join(t.TempDir(), "file")
			os.WriteFile(f, []byte("x"), 0o600)
			return []string{"--data", dir, f}
		}, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runBackup(tt.setup(t), &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
