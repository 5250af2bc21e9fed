// Command chatroom is an SSH chat server: `chatroom` serves, `chatroom export
// ROOM` writes a room's history out, `chatroom backup DEST` copies the data
// folder while the server runs, `chatroom version` says what was built.
// Every flag has a CHATROOM_* environment twin (config.go); a value either
// would refuse stops the command with status 2 and a one-line message.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
	// The zone database, for /tz on a host that has none of its own (a
	// minimal system, a scratch image): the system's is used when there.
	_ "time/tzdata"

	"github.com/chatroom-ssh/chatroom/cluster"
	"github.com/chatroom-ssh/chatroom/internal/authkeys"
	"github.com/chatroom-ssh/chatroom/internal/logthrottle"
	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/sshserver"
	"github.com/chatroom-ssh/chatroom/store"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chatroom:", err)
		}
		os.Exit(2)
	}
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
	logger, flushLog := newLogger(stderr, cfg.ops)
	defer flushLog()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, logger)
}

// logRepeatEvery is how often an error that keeps happening is logged
// again, with the count of the times in between.
const logRepeatEvery = 10 * time.Second

// newLogger returns the server's logger, in the format and from the level
// the flags ask for (ops.go: logHandler), and a function that writes out
// the counts of repeated errors not yet logged; call it before exiting. A
// failing disk makes every login and every batch fail the same way, which
// once wrote 17 MB of one error in 25 seconds.
func newLogger(w io.Writer, o opsConfig) (*slog.Logger, func()) {
	th := logthrottle.New(logHandler(w, o), logRepeatEvery, nil)
	return slog.New(th), th.Close
}

// openStore opens the history database in dir, creating it on first run,
// with the log a node on its own keeps in it.
func openStore(ctx context.Context, dir string, logger *slog.Logger, opts ...store.Option) (lobby.Store, lobby.Log, func() error, error) {
	st, err := store.Open(ctx, dir, logger.With("part", "store"), opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open store: %w", err)
	}
	lg, err := st.Log(ctx)
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("open store: %w", err)
	}
	return st, lg, st.Close, nil
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
	node := ""
	var clusterLog *cluster.Log
	if cfg.nats != "" {
		clusterLog, err = openCluster(ctx, cfg, ops, logger)
		if err != nil {
			return err
		}
		defer func() {
			if err := clusterLog.Close(); err != nil {
				logger.Warn("close the cluster log", "err", err)
			}
		}()
		if inst, running := clusterLog.NameInUse(ctx, cfg.node); running {
			return fmt.Errorf("a node named %s is running (%s): give every node a --node name of its own", cfg.node, inst)
		}
		lg, node = clusterLog, cfg.node
		logger.Info("catching up with the cluster", "node", node, "stream", cfg.natsStream)
	}
	operators, err := loadOperators(cfg, logger)
	if err != nil {
		return err
	}
	defer reloadOnHUP(operators, logger)()
	ops.catchingUp()
	lb, err := lobby.New(ctx, lobby.Config{
		Store:       st,
		Log:         lg,
		Node:        node,
		ParseKey:    authkeys.Parse,
		Observer:    ops.lobbyObserver(),
		MaxSessions: cfg.maxSessions,
		History:     cfg.history,
		Logger:      logger.With("part", "lobby"),
		FloodBurst:  cfg.floodBurst,
		FloodRate:   cfg.floodRate,
	})
	if errors.Is(err, lobby.ErrLogGap) {
		return fmt.Errorf("%w: seed %s from a backup of another node (chatroom backup), or start on an empty folder while the stream still holds the whole chat", err, cfg.data)
	}
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
		KeyRate:         cfg.keyRate,
		IdleTimeout:     cfg.idle,
		PromptTimeout:   cfg.prompt,
		AllowedKeysPath: cfg.allowedKeys,
		IsOperator:      operators.Has,
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
	if clusterLog != nil {
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			_ = clusterLog.Watch(govCtx, lb)
		}()
		// Stopped after the lobby has closed (deferred first, runs last
		// but one): this node's heartbeat goes on while its users leave.
		defer func() { stopGov(); <-watched }()
	}
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
