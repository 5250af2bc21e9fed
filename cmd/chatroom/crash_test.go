package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

var seenRE = regexp.MustCompile(`sender: (msg-\d+)`)

// TestSIGKILLLosesNothingAnyoneSaw kills the server mid-burst and checks
// that every line a client had displayed is in the history after a restart,
// in order, and that the host key did not change.
func TestSIGKILLLosesNothingAnyoneSaw(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server")
	}
	dir := t.TempDir()
	p := startProcess(t, dir, "--flood-rate", "-1", "--history", "50")
	watcher := e2e.ConnectLine(t, p.addr)
	watcher.WaitText(lobby.Prompt)
	watcher.Send("watcher")
	watcher.Send("/create alpha")
	watcher.WaitText("You are in alpha")
	sender := e2e.ConnectLine(t, p.addr)
	sender.WaitText(lobby.Prompt)
	sender.Send("sender")
	sender.Send("/join alpha")
	watcher.WaitText("sender joined alpha")
	key, _ := os.ReadFile(filepath.Join(dir, "host_ed25519"))

	// A burst the server is still in the middle of when it dies. It goes in
	// chunks of 50, each sent once the watcher showed the previous one, so a
	// slow test machine never makes the watcher fall behind and be dropped.
	stop := make(chan struct{})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for chunk := 0; ; chunk++ {
			var b strings.Builder
			for i := chunk * 50; i < (chunk+1)*50; i++ {
				fmt.Fprintf(&b, "msg-%d\n", i)
			}
			if _, err := sender.Stdin.Write([]byte(b.String())); err != nil {
				return
			}
			last := fmt.Sprintf("sender: msg-%d\n", (chunk+1)*50-1)
			for !strings.Contains(watcher.Output(), last) {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	defer func() {
		if t.Failed() {
			t.Logf("watcher output tail: %q", tail(watcher.Output(), 600))
		}
	}()
	testutil.Eventually(t, "part of the burst to be displayed", func() bool {
		return len(seenRE.FindAllString(watcher.Output(), -1)) >= 200
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	close(stop)
	<-senderDone
	displayed := seenRE.FindAllStringSubmatch(watcher.Output(), -1)
	t.Logf("the watcher displayed %d lines before the kill", len(displayed))

	// A restart serves the same rooms and history under the same host key.
	// It first applies what the log held that the store had not applied
	// when the process died: a line is shown only once it is in the log.
	p2 := startProcess(t, dir, "--history", "50")
	after, _ := os.ReadFile(filepath.Join(dir, "host_ed25519"))
	if !bytes.Equal(key, after) {
		t.Fatal("the host key changed across the crash")
	}

	out, err := exec.Command(binary(t), "export", "--data", dir, "--format", "text", "alpha").CombinedOutput()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	stored := seenRE.FindAllStringSubmatch(string(out), -1)
	if len(stored) < len(displayed) {
		t.Fatalf("%d lines stored, but %d were displayed", len(stored), len(displayed))
	}
	for i, d := range displayed {
		if stored[i][1] != d[1] {
			t.Fatalf("line %d: stored %s, displayed %s", i, stored[i][1], d[1])
		}
	}

	late := e2e.ConnectLine(t, p2.addr)
	late.WaitText(lobby.Prompt)
	late.Send("late")
	late.Send("/join alpha")
	late.WaitText("sender: " + stored[len(stored)-1][1] + "\n")
	late.WaitText("-- end of history --")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
