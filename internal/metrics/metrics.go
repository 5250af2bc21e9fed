package metrics

import (
	"context"
	"errors"
	"math"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/sshserver"
	"github.com/chatroom-ssh/chatroom/store"
)

// Metrics holds every metric of one server process, in a registry of its
// own. It is the lobby's and the SSH server's Observer and the store's
// commit timer. It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	sessionsOpen *prometheus.GaugeVec
	tuiOpen      prometheus.Gauge
	lineOpen     prometheus.Gauge
	refused      *prometheus.CounterVec
	chatLines    prometheus.Counter
	systemLines  prometheus.Counter
	deliveries   prometheus.Counter
	latency      *latencyHistograms
	cutSlow      prometheus.Counter
	cutFlood     prometheus.Counter
	floodRefused prometheus.Counter
	commitAppend prometheus.Observer
	commitApply  prometheus.Observer
	reconnects   prometheus.Counter
}

var (
	_ lobby.Observer     = (*Metrics)(nil)
	_ sshserver.Observer = (*Metrics)(nil)
)

// Buckets, in seconds. Delivery starts with the log's synced append (about
// 0.3 ms on an SSD) and a chat is slow past a second; a commit is a few
// hundred microseconds, and a disk in trouble takes seconds.
var (
	latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	commitBuckets  = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}
)

// New makes the metrics, with Go's runtime and the process's own (CPU,
// memory, descriptors) beside them.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	f := factory{reg}

	m.sessionsOpen = f.gaugeVec("chatroom_sessions_open", "Sessions open on this server, name prompts included, by kind: tui (a PTY, the full-screen UI) or line (no PTY).", "kind")
	m.tuiOpen = m.sessionsOpen.WithLabelValues(sshserver.KindTUI)
	m.lineOpen = m.sessionsOpen.WithLabelValues(sshserver.KindLine)

	m.refused = f.counterVec("chatroom_sessions_refused_total", "Connections and sessions turned away, by reason: full (the session limit), rate_limited (--conn-rate), per_address (--conn-per-addr), banned (a server ban on the key or a guest's address), key_rate (--key-rate).", "reason")
	for _, r := range sshserver.Refusals {
		m.refused.WithLabelValues(r)
	}

	lines := f.counterVec("chatroom_lines_posted_total", "Lines added to rooms' histories, by kind: message (typed by a user) or system (joins, leaves and other notices). Every node of a cluster applies, and counts, every line.", "kind")
	m.chatLines = lines.WithLabelValues(lobby.KindChat.String())
	m.systemLines = lines.WithLabelValues(lobby.KindSystem.String())

	m.deliveries = f.counter("chatroom_deliveries_total", "Lines queued for this server's sessions: one per line per member of its room.")
	m.latency = newLatencyHistograms()
	reg.MustRegister(m.latency)

	cut := f.counterVec("chatroom_sessions_cut_loose_total", "Sessions ended by the server, by reason: too_slow (fell a whole queue behind) or flooding (kept sending past the flood limit).", "reason")
	m.cutSlow = cut.WithLabelValues("too_slow")
	m.cutFlood = cut.WithLabelValues("flooding")
	m.floodRefused = f.counter("chatroom_flood_refusals_total", "Lines refused by the flood limit.")

	commit := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "chatroom_store_commit_seconds",
		Help:    "Time of the store's write transactions, BEGIN to COMMIT, by op: append (a batch into this node's own log, synced to disk) or apply (an applied batch and the log position).",
		Buckets: commitBuckets,
	}, []string{"op"})
	reg.MustRegister(commit)
	m.commitAppend = commit.WithLabelValues(store.OpAppend)
	m.commitApply = commit.WithLabelValues(store.OpApply)

	m.reconnects = f.counter("chatroom_nats_reconnects_total", "Times the connection to NATS came back after it was lost (with --nats).")

	version, revision := buildVersion()
	info := f.gaugeVec("chatroom_build_info", "Always 1: the version and VCS revision of the running binary.", "version", "revision")
	info.WithLabelValues(version, revision).Set(1)

	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is where the metrics are, for /metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchLobby adds the gauges read from the lobby when metrics are
// scraped: rooms, users online and the chat's sessions (on every node).
func (m *Metrics) WatchLobby(l *lobby.Lobby) {
	f := factory{m.reg}
	f.gaugeFunc("chatroom_rooms", "Rooms in the chat.", func() float64 { return float64(l.RoomCount()) })
	f.gaugeFunc("chatroom_users_online", "Named users in the chat, on every node (name prompts not counted).", func() float64 { return float64(l.Online()) })
	f.gaugeFunc("chatroom_chat_sessions", "Sessions of the whole chat, on every node, name prompts included: what --max-sessions limits.", func() float64 { return float64(l.Sessions()) })
}

// WatchLag adds chatroom_log_apply_lag, read when metrics are scraped: how
// many batches the log holds that this node has not applied yet (the log's
// head minus the applied cursor). A node on its own is at most a batch or
// two behind; a cluster's node that is catching up shows how far it has to
// go.
func (m *Metrics) WatchLag(head func(context.Context) (uint64, error), applied func() uint64) {
	factory{m.reg}.gaugeFunc("chatroom_log_apply_lag", "Batches of the log not yet applied by this node: the log's head minus the applied cursor.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h, err := head(ctx)
		if err != nil {
			return math.NaN() // the log cannot be read: unknown, not 0
		}
		a := applied()
		if a >= h {
			return 0
		}
		return float64(h - a)
	})
}

// LinePosted implements lobby.Observer.
func (m *Metrics) LinePosted(kind lobby.Kind) {
	if kind == lobby.KindSystem {
		m.systemLines.Inc()
		return
	}
	m.chatLines.Inc()
}

// LinesDelivered implements lobby.Observer.
func (m *Metrics) LinesDelivered(n int, latency time.Duration, local bool) {
	m.deliveries.Add(float64(n))
	m.latency.observe(latency, n, local)
}

// SessionCutLoose implements lobby.Observer.
func (m *Metrics) SessionCutLoose(reason error) {
	if errors.Is(reason, lobby.ErrFlooding) {
		m.cutFlood.Inc()
		return
	}
	m.cutSlow.Inc()
}

// FloodRefused implements lobby.Observer.
func (m *Metrics) FloodRefused() { m.floodRefused.Inc() }

// SessionOpened implements sshserver.Observer.
func (m *Metrics) SessionOpened(kind string) { m.openGauge(kind).Inc() }

// SessionClosed implements sshserver.Observer.
func (m *Metrics) SessionClosed(kind string) { m.openGauge(kind).Dec() }

func (m *Metrics) openGauge(kind string) prometheus.Gauge {
	switch kind {
	case sshserver.KindTUI:
		return m.tuiOpen
	case sshserver.KindLine:
		return m.lineOpen
	}
	return m.sessionsOpen.WithLabelValues(kind) // a kind the server added; still a fixed set
}

// SessionRefused implements sshserver.Observer.
func (m *Metrics) SessionRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// CommitTimer is the store's commit timer (store.WithCommitTimer).
func (m *Metrics) CommitTimer(op string, d time.Duration) {
	switch op {
	case store.OpAppend:
		m.commitAppend.Observe(d.Seconds())
	case store.OpApply:
		m.commitApply.Observe(d.Seconds())
	}
}

// NATSReconnected counts a reconnection to NATS (cluster.Config.Reconnected).
func (m *Metrics) NATSReconnected() { m.reconnects.Inc() }

// buildVersion is the module version and VCS revision the binary was built
// from, as runtime/debug tells them.
func buildVersion() (version, revision string) {
	version, revision = "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, revision
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return version, revision
}

// factory makes metrics and registers them.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeFunc(name, help string, fn func() float64) {
	f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}
