package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"charm.land/log/v2"

	"github.com/chatroom-ssh/chatroom/internal/metrics"
	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/sshserver"
	"github.com/chatroom-ssh/chatroom/store"
)

// opsConfig is what the operator's flags set: logs, metrics, health, the
// profiles' listener and how the server stops.
type opsConfig struct {
	logFormat   string // text or json
	logLevel    string // debug, info, warn or error
	metricsAddr string // "" for none
	debugPublic bool   // --debug-addr may be a non-loopback address
	drain       time.Duration
}

// addOpsFlags defines the operator's flags on fs; parse gives them their
// CHATROOM_* twins.
func addOpsFlags(fs *flag.FlagSet, o *opsConfig) {
	fs.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text, or json (one object per line)")
	fs.StringVar(&o.logLevel, "log-level", "info", "least level logged: debug, info, warn or error (the ready line is logged at any level)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics and health at /healthz on this address, e.g. 127.0.0.1:9090; off when empty")
	fs.BoolVar(&o.debugPublic, "debug-public", false, "allow --debug-addr on an address other than loopback: profiles show the server's insides to whoever reaches them")
	fs.DurationVar(&o.drain, "drain", 0, "on SIGTERM, answer 503 at /healthz this long before telling sessions and stopping, so a load balancer stops sending users first; a second signal cuts it short")
}

// check returns the first of the operator's flags whose value is refused,
// and what is wrong with it; or "", "".
func (o opsConfig) check(debugAddr string) (name, problem string) {
	switch {
	case o.logFormat != "text" && o.logFormat != "json":
		return "log-format", "use text or json"
	case !validLevel(o.logLevel):
		return "log-level", "use debug, info, warn or error"
	case o.metricsAddr != "" && !isHostPort(o.metricsAddr):
		return "metrics-addr", "want HOST:PORT, such as 127.0.0.1:9090"
	case o.drain < 0:
		return "drain", "must not be negative"
	}
	if debugAddr != "" && !o.debugPublic {
		if err := loopbackOnly(debugAddr); err != nil {
			return "debug-addr", err.Error() + "; add --debug-public if you mean it"
		}
	}
	return "", ""
}

func validLevel(s string) bool {
	_, err := parseLevel(s)
	return err == nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: use debug, info, warn or error", s)
}

// logHandler writes the server's log on w: charm's readable lines, or one
// JSON object per line for a log collector.
func logHandler(w io.Writer, o opsConfig) slog.Handler {
	level, err := parseLevel(o.logLevel)
	if err != nil {
		level = slog.LevelInfo // parseFlags refused it already
	}
	if o.logFormat == "json" {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	}
	return log.NewWithOptions(w, log.Options{ReportTimestamp: true, TimeFormat: time.DateTime, Level: log.Level(level)})
}

// operations is the operator's side of one run of the server: metrics,
// health and the drain on shutdown. Without --metrics-addr it has no
// metrics and no listener, and every hook it hands out is nil.
type operations struct {
	cfg    opsConfig
	log    *slog.Logger
	m      *metrics.Metrics
	health *metrics.Health
	srv    *metrics.Server
}

// startOps starts the metrics listener, if asked for, first of all: so
// that /healthz says "starting" while the store opens and the lobby
// catches up.
func startOps(cfg opsConfig, logger *slog.Logger) (*operations, error) {
	o := &operations{cfg: cfg, log: logger, health: metrics.NewHealth("starting")}
	if cfg.metricsAddr == "" {
		return o, nil
	}
	o.m = metrics.New()
	srv, err := metrics.Serve(cfg.metricsAddr, o.m, o.health, logger.With("part", "metrics"))
	if err != nil {
		return nil, err
	}
	o.srv = srv
	logger.Info("metrics at http://"+srv.Addr().String()+"/metrics", "addr", srv.Addr().String())
	return o, nil
}

// storeOptions time the store's commits.
func (o *operations) storeOptions() []store.Option {
	if o.m == nil {
		return nil
	}
	return []store.Option{store.WithCommitTimer(o.m.CommitTimer)}
}

// lobbyObserver is the lobby's Observer: nil (not a nil *Metrics) when off.
func (o *operations) lobbyObserver() lobby.Observer {
	if o.m == nil {
		return nil
	}
	return o.m
}

// sshObserver is the SSH server's Observer: nil when off.
func (o *operations) sshObserver() sshserver.Observer {
	if o.m == nil {
		return nil
	}
	return o.m
}

// natsReconnected is cluster.Config.Reconnected: nil when off.
func (o *operations) natsReconnected() func() {
	if o.m == nil {
		return nil
	}
	return o.m.NATSReconnected
}

// readyLevel is the level of the ready line, "Hosting at HOST:PORT": info,
// or the least level logged when that is higher, so that scripts and
// tests waiting for it see it whatever --log-level says.
func (o *operations) readyLevel() slog.Level {
	level, err := parseLevel(o.cfg.logLevel)
	if err != nil {
		return slog.LevelInfo
	}
	return max(slog.LevelInfo, level)
}

// catchingUp: the store is open, and the lobby catches up with the log.
func (o *operations) catchingUp() { o.health.NotServing("catching up with the log") }

// serving: the SSH listener is up. From here /healthz answers 200 unless
// the lobby's log cannot be reached.
func (o *operations) serving(lb *lobby.Lobby, lg lobby.Log) {
	if o.m != nil {
		o.m.WatchLobby(lb)
		o.m.WatchLag(lg.Head, lb.Applied)
	}
	o.health.Serving(lb.Unavailable)
}

// stopping: /healthz answers 503 from now on, and the drain, if any, lets
// a load balancer see it before sessions are told. A second SIGINT or
// SIGTERM ends the drain at once.
func (o *operations) stopping() {
	o.health.NotServing("shutting down")
	if o.cfg.drain <= 0 {
		return
	}
	o.log.Info("draining: /healthz says 503 before sessions are told", "for", o.cfg.drain)
	again := make(chan os.Signal, 1)
	signal.Notify(again, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(again)
	t := time.NewTimer(o.cfg.drain)
	defer t.Stop()
	select {
	case <-t.C:
	case <-again:
	}
}

// close stops the metrics listener: the last thing the server does, so
// that /healthz says "shutting down" until the process ends.
func (o *operations) close() {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := o.srv.Close(ctx); err != nil {
		o.log.Warn("close the metrics listener", "err", err)
	}
}
