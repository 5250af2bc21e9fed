package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/chatroom-ssh/chatroom/internal/authkeys"
)

// loadOperators reads the operators' keys: the file --operators names,
// which must exist, or else DATA/operators, which may come later (a
// SIGHUP reads it).
func loadOperators(cfg config, logger *slog.Logger) (*authkeys.Set, error) {
	var (
		ops *authkeys.Set
		err error
	)
	if cfg.operators != "" {
		ops, err = authkeys.LoadSet(cfg.operators)
	} else {
		ops, err = authkeys.LoadOptionalSet(filepath.Join(cfg.data, "operators"))
	}
	if err != nil {
		return nil, fmt.Errorf("operators: %w", err)
	}
	logger.Info("operators", "file", ops.Path(), "keys", ops.Len())
	return ops, nil
}

// reloadOnHUP reads the operators' file again on every SIGHUP, until the
// returned function is called. A file that cannot be read leaves the keys
// as they were.
func reloadOnHUP(ops *authkeys.Set, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-hup:
				if err := ops.Reload(); err != nil {
					logger.Error("reload operators; keeping the keys read before", "err", err)
					continue
				}
				logger.Info("operators reloaded", "file", ops.Path(), "keys", ops.Len())
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
		<-finished
	}
}
