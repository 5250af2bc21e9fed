package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// natsServeFlag makes the tool run a NATS JetStream server as its whole
// process: the server of a -nodes run, kept out of the tool's own process
// so that its CPU is measured as the servers', not the tool's.
const natsServeFlag = "-serve-nats"

// startServers starts the server, or with -nodes the NATS server and every
// node, and returns a function that stops them all.
func (b *bench) startServers(ctx context.Context) (stop func(), err error) {
	cfg := b.cfg
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	extra := func(int) []string { return cfg.ServerArgs }
	if cfg.Nodes > 1 {
		url, pid, stopNATS, err := startNATS(ctx)
		if err != nil {
			return stop, err
		}
		stops = append(stops, stopNATS)
		b.pids = append(b.pids, pid)
		b.logf("NATS (pid %d) at %s", pid, url)
		extra = func(i int) []string {
			return append([]string{"--nats", url, "--node", fmt.Sprintf("n%d", i+1)}, cfg.ServerArgs...)
		}
	}
	for i := range max(1, cfg.Nodes) {
		srv, err := startServer(ctx, cfg.Server, cfg.Profile, extra(i), cfg.ServerEnv, cfg.ServerLog)
		if err != nil {
			return stop, fmt.Errorf("node %d: %w", i+1, err)
		}
		stops = append(stops, srv.stop)
		b.srvs = append(b.srvs, srv)
		b.addrs = append(b.addrs, srv.addr)
		b.pids = append(b.pids, srv.pid)
		b.logf("server %s (pid %d) at %s", cfg.Server, srv.pid, srv.addr)
	}
	b.srv = b.srvs[0]
	b.addr, b.pid = b.srv.addr, b.srv.pid
	return stop, nil
}

// startNATS runs this binary as a NATS server on a loopback port with its
// store in a fresh folder, and returns its URL and PID.
func startNATS(ctx context.Context) (url string, pid int, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", 0, nil, fmt.Errorf("start NATS: %w", err)
	}
	dir, err := os.MkdirTemp("", "chatbench-nats-*")
	if err != nil {
		return "", 0, nil, fmt.Errorf("start NATS: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, natsServeFlag, dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, fmt.Errorf("start NATS: %w", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start NATS: %w", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		for sc.Scan() {
		}
	}()
	select {
	case line, ok := <-ready:
		if u, found := strings.CutPrefix(line, "NATS "); ok && found {
			return u, cmd.Process.Pid, stop, nil
		}
		stop()
		return "", 0, nil, errors.New("start NATS: it did not say where it listens")
	case <-time.After(30 * time.Second):
		stop()
		return "", 0, nil, errors.New("start NATS: not ready after 30 s")
	}
}

// serveNATS is the whole of a NATS server process (natsServeFlag): one
// JetStream server on a random loopback port, its store in dir, until
// SIGTERM or SIGINT.
func serveNATS(dir string) error {
	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		return fmt.Errorf("nats server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		return errors.New("nats server: not ready")
	}
	fmt.Println("NATS " + s.ClientURL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}
