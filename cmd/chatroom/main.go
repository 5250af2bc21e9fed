// Command chatroom is an SSH chat server: `chatroom` serves, `chatroom export
// ROOM` writes a room's history out. Flags have CHATROOM_* environment twins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/sshserver"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chatroom:", err)
		}
		os.Exit(2)
	}
}

// config is everything the flags and environment set.
type config struct {
	listen      string
	data        string
	hostKey     string
	maxSessions int
	history     int
	floodBurst  int
	floodRate   float64
	connRate    float64
	connPerAddr int
	idle        time.Duration
	prompt      time.Duration
	allowedKeys string
	debugAddr   string
	ops         opsConfig // logs, metrics, health, shutdown: ops.go
}

func run(args []string, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "export":
			return runExport(args[1:], os.Stdout, stderr)
		case "backup":
			return runBackup(args[1:], os.Stdout, stderr)
		case "version":
			return runVersion(args[1:], os.Stdout)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.ops)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, logger)
}

// parseFlags reads flags over CHATROOM_* variables over defaults.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("chatroom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.listen, "listen", envString("LISTEN", ":2222"), "address to listen on, HOST:PORT (env CHATROOM_LISTEN)")
	fs.StringVar(&cfg.data, "data", envString("DATA", "data"), "folder for the history database and host key (env CHATROOM_DATA)")
	fs.StringVar(&cfg.hostKey, "host-key", envString("HOST_KEY", ""), "host key file, created once (env CHATROOM_HOST_KEY; default DATA/host_ed25519)")
	fs.IntVar(&cfg.maxSessions, "max-sessions", envInt("MAX_SESSIONS", 10), "most sessions at once, name prompts included (env CHATROOM_MAX_SESSIONS)")
	fs.IntVar(&cfg.history, "history", envInt("HISTORY", 100), "history lines replayed on join, and per page when scrolling back (env CHATROOM_HISTORY)")
	fs.IntVar(&cfg.floodBurst, "flood-burst", envInt("FLOOD_BURST", 10), "lines a user may send at once (env CHATROOM_FLOOD_BURST)")
	fs.Float64Var(&cfg.floodRate, "flood-rate", envFloat("FLOOD_RATE", 2), "lines per second after the burst; negative turns the limit off (env CHATROOM_FLOOD_RATE)")
	fs.Float64Var(&cfg.connRate, "conn-rate", envFloat("CONN_RATE", 10), "new connections per second per source address, after a burst of 3x; 0 turns the limit off (env CHATROOM_CONN_RATE)")
	fs.IntVar(&cfg.connPerAddr, "conn-per-addr", envInt("CONN_PER_ADDR", 20), "connections open at once per source address; 0 no cap (env CHATROOM_CONN_PER_ADDR)")
	fs.DurationVar(&cfg.idle, "idle-timeout", envDuration("IDLE_TIMEOUT", 0), "end connections silent both ways this long; 0 never (env CHATROOM_IDLE_TIMEOUT)")
	fs.DurationVar(&cfg.prompt, "prompt-timeout", envDuration("PROMPT_TIMEOUT", 2*time.Minute), "how long a session may sit at the name prompt (env CHATROOM_PROMPT_TIMEOUT)")
	fs.StringVar(&cfg.allowedKeys, "allowed-keys", envString("ALLOWED_KEYS", ""), "authorized_keys file: admit only these keys (env CHATROOM_ALLOWED_KEYS)")
	fs.StringVar(&cfg.debugAddr, "debug-addr", envString("DEBUG_ADDR", ""), "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060; off when empty (env CHATROOM_DEBUG_ADDR)")
	addOpsFlags(fs, &cfg.ops)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: chatroom [flags] [HOST[:PORT]]\n       chatroom export [--data DIR] [--format text|jsonl] ROOM\n       chatroom backup [--data DIR] DEST\n       chatroom version\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		cfg.listen = positionalAddr(fs.Arg(0))
	default:
		return cfg, fmt.Errorf("one address at most, got %q", fs.Args())
	}
	if cfg.hostKey == "" {
		cfg.hostKey = filepath.Join(cfg.data, "host_ed25519")
	}
	switch {
	case cfg.maxSessions < 1:
		return cfg, errors.New("--max-sessions must be at least 1")
	case cfg.history < 1:
		return cfg, errors.New("--history must be at least 1")
	case cfg.floodBurst < 1:
		return cfg, errors.New("--flood-burst must be at least 1")
	case cfg.connRate < 0:
		return cfg, errors.New("--conn-rate must not be negative")
	case cfg.connPerAddr < 0:
		return cfg, errors.New("--conn-per-addr must not be negative")
	case cfg.prompt <= 0:
		return cfg, errors.New("--prompt-timeout must be positive")
	}
	if err := cfg.ops.check(cfg.debugAddr); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// positionalAddr accepts the original chatServer.py form, a bare host, as
// well as HOST:PORT.
func positionalAddr(a string) string {
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	return net.JoinHostPort(strings.Trim(a, "[]"), "2222")
}

func envString(name, def string) string {
	if v, ok := os.LookupEnv("CHATROOM_" + name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv("CHATROOM_" + name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, ok := os.LookupEnv("CHATROOM_" + name); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv("CHATROOM_" + name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	ops, err := startOps(cfg.ops, logger)
	if err != nil {
		return err
	}
	defer ops.close()
	st, lg, closeStore, err := openStore(ctx, cfg.data, logger, ops.storeOptions()...)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStore(); err != nil {
			logger.Error("close store", "err", err)
		}
	}()
	ops.catchingUp()
	lb, err := lobby.New(ctx, lobby.Config{
		Store:       st,
		Log:         lg,
		Observer:    ops.lobbyObserver(),
		MaxSessions: cfg.maxSessions,
		History:     cfg.history,
		Logger:      logger.With("part", "lobby"),
		FloodBurst:  cfg.floodBurst,
		FloodRate:   cfg.floodRate,
	})
	if err != nil {
		return err
	}
	srv, err := sshserver.New(sshserver.Config{
		Listen:          cfg.listen,
		HostKeyPath:     cfg.hostKey,
		Lobby:           lb,
		Logger:          logger.With("part", "ssh"),
		Observer:        ops.sshObserver(),
		ConnRate:        cfg.connRate,
		ConnPerAddr:     cfg.connPerAddr,
		IdleTimeout:     cfg.idle,
		PromptTimeout:   cfg.prompt,
		AllowedKeysPath: cfg.allowedKeys,
	})
	if err != nil {
		return err
	}
	addr, err := srv.Listen()
	if err != nil {
		return err
	}
	if cfg.debugAddr != "" {
		stopDebug, err := serveDebug(cfg.debugAddr, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	govCtx, stopGov := context.WithCancel(context.Background())
	defer stopGov()
	go governMemory(govCtx)
	ops.serving(lb, lg)
	logger.Log(ctx, ops.readyLevel(), "Hosting at "+addr.String(), "addr", addr.String(), "data", cfg.data, "max_sessions", cfg.maxSessions)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	ops.stopping()
	logger.Info("shutting down: telling every session")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	<-served
	if err := lb.Close(sctx); err != nil {
		return fmt.Errorf("flush history: %w", err)
	}
	logger.Info("stopped")
	return nil
}
