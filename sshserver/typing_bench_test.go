package sshserver

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
)

// BenchmarkTyping types 200 KB of 'a' into a real SSH session's input line,
// as a script writing to its PTY (or a paste without bracketed paste mode)
// does, written in chunks of the given size, and then Enter. One op is the
// whole 200 KB; cpu-s/op is the process's CPU time (getrusage) from the
// first byte until the sent line is on the screen. The client runs in the
// same process but only encrypts the bytes and feeds the few frames the
// server sends back into its terminal emulator: almost all of that CPU is
// the server's.
func BenchmarkTyping(b *testing.B) {
	const typed = 200_000
	for _, chunk := range []int{4096, 64} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			ts := startServer(b)
			c := ts.connectSized(b, 120, 40)
			c.Login("typer")
			c.TypeLine("/create bench")
			c.WaitText("You created bench")
			in := c.Emu.InputPipe()
			data := bytes.Repeat([]byte{'a'}, chunk)
			var cpu time.Duration
			n := 0
			for b.Loop() {
				n++
				// A mark first, so each op's line is told from the last.
				mark := fmt.Sprintf("op%d: ", n)
				before := processCPU()
				if _, err := in.Write([]byte(mark)); err != nil {
					b.Fatal(err)
				}
				for sent := 0; sent < typed; sent += chunk {
					if _, err := in.Write(data[:min(chunk, typed-sent)]); err != nil {
						b.Fatal(err)
					}
				}
				// The input holds at most the message cap; what it kept is
				// sent, and its start shows on the screen.
				if _, err := in.Write([]byte("\r")); err != nil {
					b.Fatal(err)
				}
				waitScreen(b, c, "typer: "+strings.TrimSpace(mark), 5*time.Minute)
				cpu += processCPU() - before
			}
			b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
			if !strings.Contains(c.Screen(), "bench") {
				b.Fatalf("left the room:\n%s", c.Screen())
			}
		})
	}
}

// waitScreen is Terminal.WaitText with a deadline of its own: before the
// input was made cheap, 200 KB took longer than e2e.WaitTimeout.
func waitScreen(b *testing.B, c *e2e.Terminal, text string, limit time.Duration) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(c.Screen(), text) {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %q; screen:\n%s", text, c.Screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
