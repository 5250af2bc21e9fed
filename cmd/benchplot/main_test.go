package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestDrawsEveryChart(t *testing.T) {
	dir := t.TempDir()
	results := []result{
		{Label: "scale", Server: "chatroom", N: 10, P50: 9, P95: 11, P99: 12, RSSIdleKBPerSession: 2300, CPUMsPerDelivery: 1.2},
		{Label: "scale", Server: "chatroom", N: 100, P50: 20, P95: 40, P99: 50, RSSIdleKBPerSession: 2000, CPUMsPerDelivery: 0.8},
		{Label: "scale", Server: "ssh-chat", N: 100, P50: 3, P95: 6, P99: 8, RSSIdleKBPerSession: 120, CPUMsPerDelivery: 0.05},
		{Label: "other", Server: "chatroom", N: 1000, P50: 1},
	}
	for i, r := range results {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "r"+string(rune('a'+i))+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	var log bytes.Buffer
	if err := run([]string{"-out", out, filepath.Join(dir, "*.json")}, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	for _, f := range []string{"bench-latency.png", "bench-memory.png", "bench-cpu.png"} {
		st, err := os.Stat(filepath.Join(out, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if st.Size() < 1000 {
			t.Errorf("%s is %d bytes, want a real image", f, st.Size())
		}
	}
}

func TestByServerKeepsOneRunPerN(t *testing.T) {
	got := byServer([]result{{Server: "a", N: 100, P50: 1}, {Server: "a", N: 10}, {Server: "a", N: 100, P50: 2}})["a"]
	if len(got) != 2 || got[0].N != 10 || got[1].N != 100 || got[1].P50 != 2 {
		t.Errorf("byServer = %+v, want N 10 then N 100 with the later run (p50 2)", got)
	}
}

func TestMissingInputIsAnError(t *testing.T) {
	var log bytes.Buffer
	if err := run([]string{"-out", t.TempDir(), filepath.Join(t.TempDir(), "none-*.json")}, &log); err == nil {
		t.Error("run with no matching file succeeded, want an error")
	}
}

func TestFirstLabelWins(t *testing.T) {
	got := byServer([]result{
		{Server: "a", N: 100, P50: 1, rank: 1},
		{Server: "a", N: 100, P50: 2, rank: 0},
		{Server: "a", N: 100, P50: 3, rank: 1},
		{Server: "a", N: 10, P50: 4, rank: 1},
	})["a"]
	if len(got) != 2 || got[0].P50 != 4 || got[1].P50 != 2 {
		t.Errorf("byServer = %+v, want N 10 from the second label and N 100 from the first", got)
	}
}
