package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

const (
	crashDirEnv  = "CHATROOM_STORE_CRASH_DIR"
	crashSyncEnv = "CHATROOM_STORE_CRASH_SYNC"
)

// TestCrashChild is the process TestKillLosesNoAcknowledgedLine kills. On its
// own it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestKillLosesNoAcknowledgedLine")
	}
	ctx := context.Background()
	s, err := open(ctx, dir, testutil.Logger(t), options{synchronous: os.Getenv(crashSyncEnv)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if err := s.CreateRoom(ctx, lobby.RoomRecord{Name: "alpha", Created: t0}); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for seq := uint64(1); ; seq += 16 {
		if err := s.Append(ctx, lines("alpha", seq, seq+15)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		// Only now may anyone be shown these lines: say so to the parent.
		fmt.Fprintf(out, "stored %d\n", seq+15)
		out.Flush()
	}
}

// TestKillLosesNoAcknowledgedLine kills a writing process with SIGKILL in
// the middle of its appends and checks that every line Append had returned
// nil for is in the database afterwards, and that the database is intact. In
// WAL mode both synchronous levels must pass: a process kill leaves the
// written log in the operating system's cache. (Power loss is what tells
// them apart, and no test here can cut the power.)
func TestKillLosesNoAcknowledgedLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	for _, level := range []string{syncFull, syncNormal} {
		t.Run(level, func(t *testing.T) { killWriter(t, level) })
	}
}

func killWriter(t *testing.T, level string) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashSyncEnv+"="+level)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// A child that hangs is killed, which ends the scan below.
	hung := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer hung.Stop()

	var acked uint64
	sc := bufio.NewScanner(stdout)
	for acked < 400 && sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "stored "); ok {
			acked, err = strconv.ParseUint(n, 10, 64)
			if err != nil {
				t.Fatalf("child said %q", line)
			}
		} else if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
	}
	if acked < 400 {
		t.Fatalf("child stopped after acknowledging %d lines: %v", acked, sc.Err())
	}
	// Kill while it is still appending: it does nothing else.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()

	// The killed server left its marker: the next Open checks the database.
	if unclean, why := uncleanShutdown(dir, filepath.Join(dir, FileName)); !unclean {
		t.Errorf("no sign of the unclean shutdown after SIGKILL")
	} else {
		t.Logf("unclean shutdown seen: %s", why)
	}
	s := openT(t, dir)
	var check string
	if err := s.w.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after kill: got %q, %v", check, err)
	}
	recs, err := s.Rooms(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("Rooms after kill: got %+v, %v", recs, err)
	}
	last := recs[0].LastSeq
	if last < acked {
		t.Fatalf("after kill the room ends at seq %d, but %d had been acknowledged", last, acked)
	}
	if last%16 != 0 {
		t.Errorf("after kill the room ends at seq %d, inside a batch of 16: a batch was stored in part", last)
	}
	got, err := s.Recent(context.Background(), "alpha", int(last))
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, "history after kill", got, lines("alpha", 1, last))
	t.Logf("acknowledged %d lines, found %d after SIGKILL", acked, last)
}
