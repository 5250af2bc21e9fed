package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// startNode runs a chatroom node as its own process on the cluster at url.
func startNode(t *testing.T, url, name, dir string) *process {
	t.Helper()
	return startProcess(t, dir, "--nats", url, "--node", name, "--flood-rate", "-1", "--history", "1000", "--max-sessions", "50")
}

// lineUser signs name in on the node at addr in line mode.
func lineUser(t *testing.T, addr, name string) *e2e.Line {
	t.Helper()
	c := e2e.ConnectLine(t, addr)
	c.WaitText(lobby.Prompt)
	c.Send(name)
	c.WaitText("You are in the Lobby")
	return c
}

var burstRE = regexp.MustCompile(`sender: (burst-\d+)\n`)

// TestClusterNodeKilled: a node killed with SIGKILL takes no acknowledged
// line with it; the other node sees its users leave within seconds; lines
// said while it was down are in its history when it comes back, each once.
func TestClusterNodeKilled(t *testing.T) {
	ns := natstest.Start(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startNode(t, ns.URL(), "a", dirA)
	b := startNode(t, ns.URL(), "b", dirB)

	sender := lineUser(t, a.addr, "sender")
	sender.Send("/create alpha")
	sender.WaitText("You are in alpha")
	bob := lineUser(t, b.addr, "bob")
	bob.Send("/join alpha")
	bob.WaitText("You are in alpha")
	sender.WaitText("bob joined alpha")

	// A burst from a, cut short by the kill: bob displays what was
	// acknowledged, a prefix of it.
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Written straight to the session: the kill ends it mid-burst.
			if _, err := fmt.Fprintf(sender.Stdin, "burst-%04d\n", i); err != nil {
				return
			}
			time.Sleep(2 * time.Millisecond) // a brisk chat, not a flood that b would lag behind

		}
	}()
	testutil.Eventually(t, "part of the burst on b", func() bool {
		return len(burstRE.FindAllString(bob.Output(), -1)) >= 100
	})
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	a.wait(t)
	close(stop)
	<-sent

	bob.WaitText("sender left alpha (connection lost)")
	t.Logf("b noticed a's death after %v", time.Since(killed).Round(time.Millisecond))
	seen := burstRE.FindAllStringSubmatch(bob.Output(), -1)

	bob.Send("said while a was down")
	bob.WaitText("bob: said while a was down")

	// a comes back on its folder, catches up, and serves it all, once.
	a2 := startNode(t, ns.URL(), "a", dirA)
	late := lineUser(t, a2.addr, "late")
	late.Send("/join alpha")
	late.WaitText("-- end of history --")
	hist := late.Output()
	if !strings.Contains(hist, "bob: said while a was down") {
		t.Errorf("a's history after restart lacks the line said while it was down:\n%s", tail(hist, 800))
	}
	out, err := exec.Command(binary(t), "export", "--data", dirA, "--format", "text", "alpha").CombinedOutput()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	stored := burstRE.FindAllStringSubmatch(string(out), -1)
	if len(stored) < len(seen) {
		t.Fatalf("a stored %d burst lines, b displayed %d", len(stored), len(seen))
	}
	count := map[string]int{}
	for _, m := range stored {
		count[m[1]]++
	}
	for i, m := range seen {
		if stored[i][1] != m[1] {
			t.Fatalf("line %d: a stored %s, b displayed %s", i, stored[i][1], m[1])
		}
	}
	for line, n := range count {
		if n != 1 {
			t.Errorf("%s stored %d times", line, n)
		}
	}
}

// TestClusterNATSDownAndBack: a node that loses NATS tells its users and
// refuses their input with a clear line; when NATS is back it catches up
// with no gap.
func TestClusterNATSDownAndBack(t *testing.T) {
	ns := natstest.Start(t)
	a := startNode(t, ns.URL(), "a", t.TempDir())
	b := startNode(t, ns.URL(), "b", t.TempDir())
	alice := lineUser(t, a.addr, "alice")
	alice.Send("/create alpha")
	alice.WaitText("You are in alpha")
	bob := lineUser(t, b.addr, "bob")
	bob.Send("/join alpha")
	bob.WaitText("You are in alpha")
	alice.Send("line-1")
	bob.WaitText("alice: line-1")

	ns.Stop(0)
	alice.WaitText("reconnecting")
	bob.WaitText("reconnecting") // both nodes noticed before NATS is back
	alice.Send("into the void")
	alice.WaitText("That was not sent.")
	ns.Restart(0)
	alice.WaitText("Reconnected")
	bob.WaitText("Reconnected")
	alice.Send("line-2")
	bob.Send("line-3")
	for _, c := range []*e2e.Line{alice, bob} {
		c.WaitText("alice: line-2")
		c.WaitText("bob: line-3")
		if strings.Contains(c.Output(), "into the void\n") && strings.Contains(c.Output(), ": into the void") {
			t.Errorf("a refused line was sent")
		}
	}
}
