package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/chatroom-ssh/chatroom/cluster"
)

// openCluster connects to the NATS JetStream that --nats names, as node
// --node.
func openCluster(ctx context.Context, cfg config, ops *operations, logger *slog.Logger) (*cluster.Log, error) {
	g, err := cluster.Open(ctx, cluster.Config{
		URL:       cfg.nats,
		Node:      cfg.node,
		CredsFile: cfg.natsCreds,
		CAFile:    cfg.natsCA,
		Stream:    cfg.natsStream,
		Replicas:  cfg.natsReplicas,
		Retention: cfg.natsRetention,
		Logger:    logger.With("part", "cluster"),
		// Counted for /metrics.
		Reconnected: ops.natsReconnected(),
	})
	if err != nil {
		return nil, fmt.Errorf("join the cluster: %w", err)
	}
	return g, nil
}

// defaultNodeName is the host's name, made fit for a node name, or "node".
func defaultNodeName() string {
	h, err := os.Hostname()
	if err != nil {
		return "node"
	}
	h, _, _ = strings.Cut(h, ".")
	h = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, h)
	if !validNodeName(h) {
		return "node"
	}
	return h
}

// validNodeName: a node's name is one token of a NATS subject and part of
// every session's ID.
func validNodeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
