package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/sshserver"
	"github.com/chatroom-ssh/chatroom/store"
)

// family gathers m and returns the family called name, failing when absent.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// series finds the metric of f with the label name=value.
func series(t *testing.T, f *dto.MetricFamily, name, value string) *dto.Metric {
	t.Helper()
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == value {
				return m
			}
		}
	}
	t.Fatalf("%s has no series %s=%q", f.GetName(), name, value)
	return nil
}

func TestObserversMoveTheirMetrics(t *testing.T) {
	m := New()
	m.SessionOpened(sshserver.KindTUI)
	m.SessionOpened(sshserver.KindTUI)
	m.SessionOpened(sshserver.KindLine)
	m.SessionClosed(sshserver.KindTUI)
	m.SessionRefused(sshserver.RefusedFull)
	m.LinePosted(lobby.KindChat)
	m.LinePosted(lobby.KindSystem)
	m.LinePosted(lobby.KindChat)
	m.LinesDelivered(3, 2*time.Millisecond, true)
	m.LinesDelivered(2, 40*time.Millisecond, false)
	m.SessionCutLoose(lobby.ErrTooSlow)
	m.SessionCutLoose(lobby.ErrFlooding)
	m.FloodRefused()
	m.CommitTimer(store.OpAppend, 300*time.Microsecond)
	m.NATSReconnected()

	open := family(t, m, "chatroom_sessions_open")
	if got := series(t, open, "kind", "tui").GetGauge().GetValue(); got != 1 {
		t.Errorf("tui sessions open = %v, want 1", got)
	}
	if got := series(t, open, "kind", "line").GetGauge().GetValue(); got != 1 {
		t.Errorf("line sessions open = %v, want 1", got)
	}
	refused := family(t, m, "chatroom_sessions_refused_total")
	if got := series(t, refused, "reason", "full").GetCounter().GetValue(); got != 1 {
		t.Errorf("refused as full = %v, want 1", got)
	}
	// Every reason is there from the start, banned included.
	if got := series(t, refused, "reason", "banned").GetCounter().GetValue(); got != 0 {
		t.Errorf("refused as banned = %v, want 0", got)
	}
	lines := family(t, m, "chatroom_lines_posted_total")
	if got := series(t, lines, "kind", "message").GetCounter().GetValue(); got != 2 {
		t.Errorf("chat lines = %v, want 2", got)
	}
	if got := family(t, m, "chatroom_deliveries_total").GetMetric()[0].GetCounter().GetValue(); got != 5 {
		t.Errorf("deliveries = %v, want 5", got)
	}
	lat := family(t, m, "chatroom_delivery_latency_seconds")
	local := series(t, lat, "origin", "local").GetHistogram()
	if local.GetSampleCount() != 3 || local.GetSampleSum() < 0.0059 || local.GetSampleSum() > 0.0061 {
		t.Errorf("local latency: %d samples, sum %v; want 3 and 0.006", local.GetSampleCount(), local.GetSampleSum())
	}
	for _, b := range local.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 0.0025 {
			want = 3
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("local bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if got := series(t, lat, "origin", "remote").GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("remote latency samples = %d, want 2", got)
	}
	cut := family(t, m, "chatroom_sessions_cut_loose_total")
	if series(t, cut, "reason", "too_slow").GetCounter().GetValue() != 1 || series(t, cut, "reason", "flooding").GetCounter().GetValue() != 1 {
		t.Error("cut loose: want one too_slow and one flooding")
	}
	if got := family(t, m, "chatroom_flood_refusals_total").GetMetric()[0].GetCounter().GetValue(); got != 1 {
		t.Errorf("flood refusals = %v, want 1", got)
	}
	commit := family(t, m, "chatroom_store_commit_seconds")
	if got := series(t, commit, "op", "append").GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("append commits = %d, want 1", got)
	}
	if got := family(t, m, "chatroom_nats_reconnects_total").GetMetric()[0].GetCounter().GetValue(); got != 1 {
		t.Errorf("reconnects = %v, want 1", got)
	}
	family(t, m, "go_goroutines")
	family(t, m, "process_resident_memory_bytes")
}

// TestNoLabelAUserChooses: every label of a chatroom_ metric is one of a
// fixed set, so no room or user name can become a series.
func TestNoLabelAUserChooses(t *testing.T) {
	m := New()
	m.WatchLag(func(context.Context) (uint64, error) { return 7, nil }, func() uint64 { return 5 })
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		"kind":   {"tui", "line", "message", "system"},
		"reason": {"full", "rate_limited", "per_address", "banned", "key_rate", "too_slow", "flooding"},
		"origin": {"local", "remote"},
		"op":     {"append", "apply"},
	}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "chatroom_") || f.GetName() == "chatroom_build_info" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				values, ok := allowed[l.GetName()]
				if !ok || !contains(values, l.GetValue()) {
					t.Errorf("%s has label %s=%q, outside the fixed sets", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if got := family(t, m, "chatroom_log_apply_lag").GetMetric()[0].GetGauge().GetValue(); got != 2 {
		t.Errorf("lag = %v, want 2", got)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestLagOfAnUnreadableLogIsUnknown(t *testing.T) {
	m := New()
	m.WatchLag(func(context.Context) (uint64, error) { return 0, errors.New("no NATS") }, func() uint64 { return 5 })
	if got := family(t, m, "chatroom_log_apply_lag").GetMetric()[0].GetGauge().GetValue(); !math.IsNaN(got) {
		t.Errorf("lag = %v, want NaN", got)
	}
}

func TestHealth(t *testing.T) {
	h := NewHealth("starting")
	down := ""
	tests := []struct {
		name   string
		set    func()
		code   int
		reason string
	}{
		{"starting", func() {}, http.StatusServiceUnavailable, "starting"},
		{"catching up", func() { h.NotServing("catching up with the log") }, http.StatusServiceUnavailable, "catching up with the log"},
		{"serving", func() { h.Serving(func() string { return down }) }, http.StatusOK, "serving"},
		{"log down", func() { down = "The chat cannot reach its log.\nMore." }, http.StatusServiceUnavailable, "The chat cannot reach its log."},
		{"log back", func() { down = "" }, http.StatusOK, "serving"},
		{"shutting down", func() { h.NotServing("shutting down") }, http.StatusServiceUnavailable, "shutting down"},
	}
	for _, tt := range tests {
		tt.set()
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, nil)
		if rec.code != tt.code || rec.body != tt.reason+"\n" {
			t.Errorf("%s: %d %q, want %d %q", tt.name, rec.code, rec.body, tt.code, tt.reason+"\n")
		}
	}
}

type recorder struct {
	header http.Header
	code   int
	body   string
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.body += string(b)
	return len(b), nil
}
func (r *recorder) WriteHeader(code int) { r.code = code }

func TestServe(t *testing.T) {
	m := New()
	m.LinePosted(lobby.KindChat)
	h := NewHealth("starting")
	s, err := Serve("127.0.0.1:0", m, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr().String()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `chatroom_lines_posted_total{kind="message"} 1`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	if code, body := get("/healthz"); code != 503 || body != "starting\n" {
		t.Errorf("/healthz while starting: %d %q", code, body)
	}
	h.Serving(nil)
	if code, body := get("/healthz"); code != 200 || body != "serving\n" {
		t.Errorf("/healthz while serving: %d %q", code, body)
	}
	if code, _ := get("/"); code != 404 {
		t.Errorf("/: %d, want 404", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the listener still answers after Close")
	}
}

func BenchmarkLinesDelivered(b *testing.B) {
	m := New()
	for b.Loop() {
		m.LinesDelivered(100, 3*time.Millisecond, true)
	}
}
