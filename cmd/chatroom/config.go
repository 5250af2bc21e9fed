package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

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
	keyRate     int
	idle        time.Duration
	prompt      time.Duration
	allowedKeys string
	operators   string
	debugAddr   string
	ops         opsConfig // logs, metrics, health, shutdown: ops.go

	// Many nodes, one chat (cluster.go).
	node          string
	nats          string
	natsCreds     string
	natsCA        string
	natsStream    string
	natsReplicas  int
	natsRetention time.Duration
}

const usage = `Usage: chatroom [flags] [HOST[:PORT]]
       chatroom export [--data DIR] [--format text|jsonl] ROOM
       chatroom backup [--data DIR] DEST
       chatroom version

Each flag may also be set by its environment variable, named in brackets;
a flag on the command line wins.

Flags:
`

// parseFlags reads the command line, then the CHATROOM_* twin of every flag
// it did not set, over the defaults. A value that does not parse or is out
// of range is refused with the flag or variable that gave it.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := newFlagSet("chatroom", usage, stderr)
	var cfg config
	fs.StringVar(&cfg.listen, "listen", ":2222", "address to listen on, HOST:PORT")
	fs.StringVar(&cfg.data, "data", "data", "folder for the history database and host key")
	fs.StringVar(&cfg.hostKey, "host-key", "", "host key file, created once (default DATA/host_ed25519)")
	fs.IntVar(&cfg.maxSessions, "max-sessions", 10, "most sessions at once, name prompts included")
	fs.IntVar(&cfg.history, "history", 100, "history lines replayed on join, and per page when scrolling back")
	fs.IntVar(&cfg.floodBurst, "flood-burst", 10, "lines a user may send at once")
	fs.Float64Var(&cfg.floodRate, "flood-rate", 2, "lines per second after the burst; negative turns the limit off")
	fs.Float64Var(&cfg.connRate, "conn-rate", 10, "new connections per second per source address, after a burst of 3x; 0 turns the limit off")
	fs.IntVar(&cfg.connPerAddr, "conn-per-addr", 20, "connections open at once per source address; 0 no cap")
	fs.IntVar(&cfg.keyRate, "key-rate", 20, "sessions one SSH key may open per minute; past it the key is refused for 5 minutes; 0 turns the limit off")
	fs.DurationVar(&cfg.idle, "idle-timeout", 0, "end connections silent both ways this long; 0 never")
	fs.DurationVar(&cfg.prompt, "prompt-timeout", 2*time.Minute, "how long a session may sit at the name prompt")
	fs.StringVar(&cfg.allowedKeys, "allowed-keys", "", "authorized_keys file: admit only these keys")
	fs.StringVar(&cfg.operators, "operators", "", "authorized_keys file of the server operators' keys, read again on SIGHUP (default DATA/operators, when there is one)")
	fs.StringVar(&cfg.debugAddr, "debug-addr", "", "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060; off when empty")
	fs.StringVar(&cfg.nats, "nats", "", "join the nodes on this NATS JetStream as one chat, e.g. nats://10.0.0.5:4222 (comma-separated for several servers); off when empty")
	fs.StringVar(&cfg.node, "node", defaultNodeName(), "this node's name among the nodes, unique to it: letters, digits, '-', '_' (with --nats)")
	fs.StringVar(&cfg.natsCreds, "nats-creds", "", "NATS credentials file (with --nats)")
	fs.StringVar(&cfg.natsCA, "nats-ca", "", "PEM file of the CA that signed the NATS servers' TLS certificates (with --nats)")
	fs.StringVar(&cfg.natsStream, "nats-stream", "CHATROOM", "the JetStream stream the nodes share (with --nats)")
	fs.IntVar(&cfg.natsReplicas, "nats-replicas", 0, "copies of the stream; 0: 3 when NATS runs 3 servers or more, else 1 (with --nats)")
	fs.DurationVar(&cfg.natsRetention, "nats-retention", 7*24*time.Hour, "how long the stream keeps a change for nodes to catch up; 0 keeps everything (with --nats)")
	addOpsFlags(fs, &cfg.ops)
	src, rest, err := parse(fs, args, false)
	if err != nil {
		return cfg, err
	}
	switch len(rest) {
	case 0:
	case 1:
		if src.onCommandLine("listen") {
			return cfg, fmt.Errorf("give the address once: --listen %s or %s", cfg.listen, rest[0])
		}
		cfg.listen = positionalAddr(rest[0])
	default:
		return cfg, fmt.Errorf("one address at most, got %q", rest)
	}
	if name, problem := cfg.check(); problem != "" {
		return cfg, fmt.Errorf("%s: %s", src.describe(name), problem)
	}
	if name, problem := cfg.ops.check(cfg.debugAddr); problem != "" {
		return cfg, fmt.Errorf("%s: %s", src.describe(name), problem)
	}
	if cfg.hostKey == "" {
		cfg.hostKey = filepath.Join(cfg.data, "host_ed25519")
	}
	return cfg, nil
}

// check returns the first flag whose value is out of range, and what is
// wrong with it; or "", "". The ranges keep each flag's documented meaning:
// --conn-rate 0 is off, a negative --flood-rate is off, --idle-timeout 0 is
// never. --flood-rate 0 is refused, not read as the lobby's default.
func (c *config) check() (name, problem string) {
	switch {
	case !isHostPort(c.listen):
		return "listen", "want HOST:PORT, such as :2222 or 127.0.0.1:2222"
	case c.data == "":
		return "data", "must not be empty"
	case c.maxSessions < 1:
		return "max-sessions", "must be at least 1"
	case c.history < 1:
		return "history", "must be at least 1"
	case c.floodBurst < 1:
		return "flood-burst", "must be at least 1"
	case math.IsNaN(c.floodRate) || math.IsInf(c.floodRate, 0):
		return "flood-rate", "must be a number of lines per second"
	case c.floodRate == 0:
		return "flood-rate", "must not be 0: give lines per second, or a negative number to turn the limit off"
	case math.IsNaN(c.connRate) || math.IsInf(c.connRate, 0):
		return "conn-rate", "must be a number of connections per second"
	case c.connRate < 0:
		return "conn-rate", "must not be negative (0 turns the limit off)"
	case c.connPerAddr < 0:
		return "conn-per-addr", "must not be negative (0 means no cap)"
	case c.keyRate < 0:
		return "key-rate", "must not be negative (0 turns the limit off)"
	case c.idle < 0:
		return "idle-timeout", "must not be negative (0 means never)"
	case c.prompt <= 0:
		return "prompt-timeout", "must be positive"
	case c.debugAddr != "" && !isHostPort(c.debugAddr):
		return "debug-addr", "want HOST:PORT, such as 127.0.0.1:6060"
	case !validNodeName(c.node):
		return "node", "want 1 to 64 letters, digits, '-' or '_'"
	case c.natsStream == "" || strings.ContainsAny(c.natsStream, ". *>"):
		return "nats-stream", "want a name without spaces, '.', '*' or '>'"
	case c.natsReplicas < 0 || c.natsReplicas > 5:
		return "nats-replicas", "want 0 (automatic) to 5"
	case c.natsRetention < 0:
		return "nats-retention", "must not be negative (0 keeps everything)"
	}
	return "", ""
}

func isHostPort(addr string) bool {
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}

// positionalAddr accepts the original chatServer.py form, a bare host, as
// well as HOST:PORT.
func positionalAddr(a string) string {
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	return net.JoinHostPort(strings.Trim(a, "[]"), "2222")
}

// newFlagSet makes a FlagSet whose usage is head followed by the flags, each
// with its environment variable.
func newFlagSet(name, head string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	named := false
	fs.Usage = func() {
		if !named {
			fs.VisitAll(func(f *flag.Flag) { f.Usage += " [" + envName(f.Name) + "]" })
			named = true
		}
		fmt.Fprint(fs.Output(), head)
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment twin of a flag: CHATROOM_ and the flag's name
// in upper snake case (--max-sessions: CHATROOM_MAX_SESSIONS).
func envName(flagName string) string {
	return "CHATROOM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// sources records where each flag's value came from, for messages.
type sources struct {
	fs      *flag.FlagSet
	cmdLine map[string]bool
	env     map[string]string // flag name → the variable's value
}

func (s sources) onCommandLine(name string) bool { return s.cmdLine[name] }

// describe names where flag name's value came from, with the value as it
// was given: --max-sessions="0", CHATROOM_MAX_SESSIONS="0", or the default.
func (s sources) describe(name string) string {
	if v, ok := s.env[name]; ok {
		return fmt.Sprintf("%s=%q", envName(name), v)
	}
	f := s.fs.Lookup(name)
	if s.cmdLine[name] {
		return fmt.Sprintf("--%s=%q", name, f.Value.String())
	}
	return fmt.Sprintf("--%s (default %q)", name, f.DefValue)
}

// parse parses args into fs, then sets each flag that args did not set from
// its environment twin, and returns the arguments that are not flags. With
// interspersed, flags may also follow those, as people type them
// (chatroom export ROOM --data D).
func parse(fs *flag.FlagSet, args []string, interspersed bool) (src sources, positional []string, err error) {
	src = sources{fs: fs, cmdLine: make(map[string]bool), env: make(map[string]string)}
	for {
		if err := parseLine(fs, args); err != nil {
			return src, nil, err
		}
		if !interspersed || fs.NArg() == 0 {
			positional = append(positional, fs.Args()...)
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) { src.cmdLine[f.Name] = true })
	return src, positional, setFromEnv(fs, src)
}

// parseLine is fs.Parse with errors in one line: the flag package would
// print the usage after any mistake; it is printed only for -h.
func parseLine(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return fmt.Errorf("%w (%s -h lists the flags)", err, fs.Name())
	}
	return nil
}

// setFromEnv sets every flag of fs that the command line did not from its
// environment twin, through the flag's own Set: a variable is held to what
// its flag accepts. The range checks after it see no difference between
// the two.
func setFromEnv(fs *flag.FlagSet, src sources) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if err != nil || !ok || src.cmdLine[f.Name] {
			return
		}
		if setErr := f.Value.Set(v); setErr != nil {
			err = fmt.Errorf("%s=%q: %s", envName(f.Name), v, wantFor(f))
			return
		}
		src.env[f.Name] = v
	})
	return err
}

// wantFor says what a flag's value must look like, for a variable that
// does not parse (the flag package's own message is only "parse error").
func wantFor(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "not a valid value"
	}
	switch g.Get().(type) {
	case int:
		return "want a whole number"
	case float64:
		return "want a number"
	case time.Duration:
		return "want a duration with its unit, such as 90s, 5m or 1h30m"
	}
	return "not a valid value"
}
