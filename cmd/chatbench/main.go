package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == natsServeFlag {
		if err := serveNATS(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "chatbench:", err)
			os.Exit(2)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chatbench:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, out, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	jsonOut, serverLog := out.json, out.serverLog
	if out.cpuProfile != "" {
		// The tool's own profile: at large N its CPU competes with the
		// server's on the same cores, and this says where it goes.
		f, err := os.Create(out.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if serverLog != "" {
		f, err := os.Create(serverLog)
		if err != nil {
			return fmt.Errorf("server log: %w", err)
		}
		defer f.Close()
		cfg.ServerLog = f
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	if jsonOut != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		if err := os.WriteFile(jsonOut, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	fmt.Fprintln(stdout, summary(res))
	return nil
}

// outputs are the files a run writes besides its summary line.
type outputs struct {
	json, serverLog, cpuProfile string
}

func parseFlags(args []string, stderr io.Writer) (cfg Config, out outputs, err error) {
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		prof, size, sargs, senv string
		quiet, dump             bool
	)
	fs.StringVar(&cfg.Addr, "addr", "", "a running server, HOST:PORT")
	fs.StringVar(&cfg.Server, "server", "", "a server binary to start on 127.0.0.1:0 with a temporary data folder (memory and CPU are then measured too)")
	fs.StringVar(&sargs, "server-args", "", "extra arguments for -server, split on spaces, e.g. \"--max-sessions 200 --conn-rate 0\"")
	fs.StringVar(&senv, "server-env", "", "extra environment for -server, KEY=VALUE separated by spaces, e.g. \"GOGC=50\"")
	fs.IntVar(&cfg.PID, "pid", 0, "with -addr: the server's PID, to read its memory and CPU from /proc")
	fs.StringVar(&cfg.Label, "label", "", "free text stored in the JSON result, e.g. scale")
	fs.StringVar(&prof, "profile", "tui", "login script: tui (chatroom, PTY), line (chatroom without PTY) or sshchat")
	fs.IntVar(&cfg.N, "n", 10, "clients")
	fs.IntVar(&cfg.Nodes, "nodes", 1, "servers to start (with -server), joined on a NATS JetStream the tool starts; clients are spread over them")
	fs.IntVar(&cfg.Emulate, "emulate", 0, "receivers that read their screen to time tokens; the rest only drain (default: all, at most 10)")
	fs.IntVar(&cfg.Senders, "senders", 1, "clients that post messages")
	fs.Float64Var(&cfg.Rate, "rate", 1.5, "messages per second per sender")
	fs.IntVar(&cfg.Count, "count", 20, "messages per sender")
	fs.IntVar(&cfg.Pad, "pad", 0, "pad every message with chat-like text to this many bytes")
	fs.StringVar(&size, "size", "120x40", "PTY size, WIDTHxHEIGHT")
	fs.StringVar(&cfg.Room, "room", "bench", "room everyone joins (chatroom)")
	fs.IntVar(&cfg.Stall, "stall", 0, "clients that stop reading their connection after login")
	fs.IntVar(&cfg.StallFill, "stall-fill", 40, "window changes each stalled client sends to fill its buffers before the send phase")
	fs.Float64Var(&cfg.StallResize, "stall-resize", 0, "window changes per second each stalled client keeps sending during the send phase (forces full repaints, so its buffers fill fast)")
	fs.IntVar(&cfg.Rooms, "rooms", 0, "extra rooms to create first, to fill the sidebar (chatroom)")
	fs.BoolVar(&cfg.Unread, "unread", false, "put unread counts in play (chatroom): every client has been in a room where a line is said for every line of the run, and has an unread direct message")
	fs.IntVar(&cfg.History, "history", 0, "lines to post into the room before the logins (chatroom; needs the flood limit off, and --history on the server to replay them)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 0, "connections dialled at once (default: all)")
	fs.DurationVar(&cfg.LoginTimeout, "login-timeout", 90*time.Second, "per client, from dial to joined")
	fs.DurationVar(&cfg.Grace, "grace", 5*time.Second, "how long to wait for tokens after the last send")
	fs.DurationVar(&cfg.Settle, "settle", 3*time.Second, "quiet time after the logins before idle memory is read")
	fs.StringVar(&out.serverLog, "server-log", "", "with -server: write everything the server prints to this file")
	fs.StringVar(&out.cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to this file")
	fs.StringVar(&out.json, "json", "", "write the full result as JSON to this file")
	fs.StringVar(&out.json, "out", "", "same as -json")
	fs.BoolVar(&quiet, "q", false, "no progress lines on stderr")
	fs.BoolVar(&dump, "dump", false, "print the last receiver's screen after the send phase, on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: chatbench (-addr HOST:PORT [-pid PID] | -server BINARY [-server-args ARGS]) [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, out, err
	}
	if fs.NArg() > 0 {
		return cfg, out, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Profile, err = parseProfile(prof); err != nil {
		return cfg, out, err
	}
	w, h, ok := strings.Cut(size, "x")
	cfg.W, _ = strconv.Atoi(w)
	cfg.H, _ = strconv.Atoi(h)
	if !ok || cfg.W < 20 || cfg.H < 10 {
		return cfg, out, fmt.Errorf("-size %q: want WIDTHxHEIGHT, at least 20x10", size)
	}
	if cfg.Emulate == 0 {
		cfg.Emulate = min(cfg.N, 10)
	}
	cfg.ServerArgs = strings.Fields(sargs)
	cfg.ServerEnv = strings.Fields(senv)
	if !quiet {
		cfg.Log = stderr
	}
	if dump {
		cfg.Dump = stderr
	}
	return cfg, out, nil
}

// summary is the one closing line: key=value pairs, stable order.
func summary(r *Result) string {
	mb := func(kb int64) string { return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) }
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	kv := [][2]string{
		{"server", r.Server},
		{"profile", r.Profile},
		{"n", strconv.Itoa(r.N)},
		{"emulate", strconv.Itoa(r.Emulate)},
		{"senders", strconv.Itoa(r.Senders)},
		{"rate", f(r.Rate, 2)},
		{"count", strconv.Itoa(r.Count)},
		{"size", r.Size},
		{"rooms", strconv.Itoa(r.Rooms)},
		{"unread", strconv.FormatBool(r.Unread)},
		{"history", strconv.Itoa(r.History)},
		{"stall", strconv.Itoa(r.Stall)},
		{"sent", strconv.Itoa(r.Sent)},
		{"lost", strconv.Itoa(r.Lost)},
		{"lost_msgs", strconv.Itoa(r.LostMsgs)},
		{"p50_ms", f(r.P50, 1)},
		{"p95_ms", f(r.P95, 1)},
		{"p99_ms", f(r.P99, 1)},
		{"max_ms", f(r.Max, 1)},
		{"mean_ms", f(r.Mean, 1)},
		{"p50_late_ms", f(r.P50Late, 1)},
		{"p99_late_ms", f(r.P99Late, 1)},
		{"bytes_per_msg", f(r.BytesPerMsg, 0)},
		{"reads_per_msg", f(r.ReadsPerMsg, 2)},
		{"login_s", f(r.LoginS, 2)},
		{"join_s", f(r.JoinS, 2)},
		{"login_reads", f(r.LoginReads, 1)},
		{"login_failed", strconv.Itoa(r.LoginFailed)},
		{"rss_base_mb", mb(r.RSSBaseKB)},
		{"rss_idle_mb", mb(r.RSSIdleKB)},
		{"rss_idle_kb_per_session", f(r.RSSIdleKBPerSession, 0)},
		{"rss_peak_mb", mb(r.RSSPeakKB)},
		{"rss_peak_ratio", f(r.RSSPeakRatio, 2)},
		{"rss_after_mb", mb(r.RSSAfterKB)},
		{"cpu_ms_per_delivery", f(r.CPUMsPerDelivery, 3)},
		{"server_cpu_send_s", f(r.ServerCPUSendS, 2)},
		{"server_cpu_login_s", f(r.ServerCPULoginS, 2)},
		{"tool_cpu_s", f(r.ToolCPUS, 2)},
		{"dropped", strconv.Itoa(r.Dropped)},
		{"stalled_dropped", strconv.Itoa(r.StalledDropped)},
	}
	parts := make([]string, len(kv))
	for i, p := range kv {
		parts[i] = p[0] + "=" + p[1]
	}
	return strings.Join(parts, " ")
}
