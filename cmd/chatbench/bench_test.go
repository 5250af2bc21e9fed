package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// buildChatroom compiles the server into a temporary folder.
func buildChatroom(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatroom")
	cmd := exec.Command("go", "build", "-o", bin, "../chatroom")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../chatroom: %v\n%s", err, out)
	}
	return bin
}

// TestShortLoad runs a small load against a chatroom the tool starts, with
// the tool's own code in-process, and checks that nothing is lost. Timings
// are printed, not asserted: they depend on the machine.
func TestShortLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	bin := buildChatroom(t)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"tui", Config{Profile: profTUI, N: 6, Emulate: 3, Senders: 2, Count: 10, Rate: 5, W: 120, H: 40, Rooms: 2, History: 30}},
		{"line", Config{Profile: profLine, N: 4, Emulate: 2, Senders: 2, Count: 10, Rate: 5}},
		{"tui-unread", Config{Profile: profTUI, N: 4, Emulate: 2, Senders: 1, Count: 10, Rate: 5, W: 120, H: 40, Unread: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			cfg := tc.cfg
			cfg.Server = bin
			cfg.ServerArgs = []string{"--conn-rate", "0", "--flood-rate", "-1"}
			cfg.Room = "bench"
			cfg.LoginTimeout = 20 * time.Second
			cfg.Grace = 5 * time.Second
			cfg.Settle = 100 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := Run(ctx, cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			t.Log(summary(res))
			if want := cfg.Senders * cfg.Count; res.Sent != want {
				t.Errorf("sent %d, want %d", res.Sent, want)
			}
			if res.Lost != 0 || res.LostMsgs != 0 {
				t.Errorf("lost %d deliveries (%d messages), want 0", res.Lost, res.LostMsgs)
			}
			if want := cfg.Emulate * cfg.Senders * cfg.Count; res.Delivered != want {
				t.Errorf("delivered %d, want %d", res.Delivered, want)
			}
			if res.LoginFailed != 0 || res.Dropped != 0 {
				t.Errorf("login failed %d, dropped %d; want 0, 0 (%s)", res.LoginFailed, res.Dropped, res.LoginError)
			}
			if res.RSSIdleKB == 0 {
				t.Errorf("no idle RSS read from /proc")
			}
			testutil.WaitGoroutines(t, before) // every client goroutine ends with the run
		})
	}
}

func TestPercentile(t *testing.T) {
	vals := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		p    float64
		want float64
	}{{50, 5}, {95, 10}, {99, 10}, {10, 1}, {0, 1}, {100, 10}}
	for _, tc := range tests {
		if got := percentile(vals, tc.p); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(empty) = %v, want 0", got)
	}
}

func TestScanFindsWholeTokensOnly(t *testing.T) {
	toks := &tokenSet{prefix: "tkabcd-", index: map[string]int32{"tkabcd-000-00001": 0, "tkabcd-000-00010": 1}, epoch: time.Now()}
	toks.length = len("tkabcd-000-00001")
	c := &client{toks: toks, seen: make([]int64, 2)}
	now := toks.epoch.Add(time.Millisecond)
	// A cut-off token must not count; two on one row both do.
	c.scan("03:23 b1: tkabcd-000-0001… | 03:23 b2: tkabcd-000-00010 tkabcd-000-00001", now)
	if c.seen[0] == 0 || c.seen[1] == 0 {
		t.Errorf("seen = %v, want both tokens seen", c.seen)
	}
	if got := c.seenCount.Load(); got != 2 {
		t.Errorf("seenCount = %d, want 2", got)
	}
	c.scan("tkabcd-000-00001 again", now.Add(time.Second))
	if got := time.Duration(c.seen[0]); got != time.Millisecond {
		t.Errorf("first sighting moved to %v, want %v", got, time.Millisecond)
	}
}

func TestSummaryIsOneLineOfPairs(t *testing.T) {
	s := summary(&Result{Server: "chatroom", N: 10, P99: 12.34})
	if strings.Contains(s, "\n") {
		t.Fatalf("summary has a newline: %q", s)
	}
	for _, want := range []string{"n=10", "p99_ms=12.3", "lost=0", "bytes_per_msg=", "rss_idle_kb_per_session=", "cpu_ms_per_delivery="} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.rssKB <= 0 || st.threads <= 0 {
		t.Errorf("readProc(self) = %+v, want positive RSS and threads", st)
	}
}
