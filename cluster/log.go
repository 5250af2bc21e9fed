// Package cluster makes several chatroom nodes one chat over NATS
// JetStream. It owns two things: the Log every node appends its changes to
// and follows (one JetStream stream, so one order for everyone), and the
// heartbeats by which the nodes learn that one of them died, so that its
// users leave the rooms and free their names and slots.
//
// The lobby package knows nothing of NATS: it is handed a lobby.Log, and
// Watch calls its exported methods (DeclareGone, LogDown, LogUp). Each node
// keeps its own SQLite copy of the chat, applied from the stream in order,
// so history reads stay local; the stream itself need only hold enough for
// a node that was down to catch up (--nats-retention).
//
// # Goroutines
//
// Open starts none of its own; the NATS client runs its connection
// goroutines until Close. Follow runs on the caller's goroutine (the
// lobby's applier) with one ordered consumer. Watch runs until its context
// ends: a ticker that publishes this node's heartbeat and checks the
// others', and a subscription whose callback records who was heard.
package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Config sets up a connection to the cluster. A zero field takes the
// default named beside it.
type Config struct {
	URL       string        // NATS server URL(s), comma-separated; required
	Node      string        // this node's name, for the connection's name; required
	CredsFile string        // NATS credentials file (.creds); none
	CAFile    string        // PEM CA for the servers' TLS certificates; system roots
	Stream    string        // the stream's name; "CHATROOM"
	Replicas  int           // copies of the stream; 0: 3 when NATS runs 3 servers or more, else 1
	Retention time.Duration // how long the stream keeps a batch; 0: for ever
	Logger    *slog.Logger  // slog.Default()
	// Reconnected, when set, is called each time the connection to NATS
	// comes back after it was lost, for metrics. It must return at once.
	Reconnected func()

	// AppendTimeout bounds one Append, retries included; 30s, well over a
	// stream leader's election takes (4 to 9 s).
	AppendTimeout time.Duration
	// HeartbeatEvery is how often a node says it is alive; 1s.
	HeartbeatEvery time.Duration
	// DeadAfter is how long a node may stay silent before the others take
	// it for dead and end its sessions; 3s.
	DeadAfter time.Duration
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "CHATROOM"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AppendTimeout <= 0 {
		c.AppendTimeout = 30 * time.Second
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = time.Second
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = 3 * time.Second
	}
}

// Subjects. Every node publishes its batches under logSubject, one token
// per node so that an operator can tell them apart; the stream takes them
// all, in one order.
const (
	logPrefix      = "chatroom.log."
	aliveSubject   = "chatroom.alive"
	apiWaitDefault = 5 * time.Second
)

// stallCheck is how long Follow waits for a batch before it asks the stream
// whether it is behind.
const stallCheck = 2 * time.Second

// errStalled: the consumer stopped delivering what the stream holds. The
// lobby follows again from its cursor with a new consumer.
var errStalled = errors.New("the consumer stalled")

// Log is the cluster's lobby.Log: one JetStream stream. It is safe for
// concurrent use.
type Log struct {
	cfg      Config
	log      *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream
	id       string
	subject  string
	events   *connEvents
	heard    *heartbeats
	aliveSub *nats.Subscription
}

var _ lobby.Log = (*Log)(nil)

// Open connects to NATS and makes sure the stream exists.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.URL == "" {
		return nil, errors.New("open the cluster log: no NATS URL")
	}
	if cfg.Node == "" {
		return nil, errors.New("open the cluster log: no node name")
	}
	cfg.setDefaults()
	g := &Log{cfg: cfg, log: cfg.Logger, subject: logPrefix + cfg.Node, events: newConnEvents(), heard: &heartbeats{heard: make(map[string]time.Time)}}
	opts := []nats.Option{
		nats.Name("chatroom " + cfg.Node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			g.log.Warn("lost NATS", "err", err)
			g.events.set(false)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			g.log.Info("NATS again", "server", nc.ConnectedUrlRedacted())
			g.events.set(true)
			if g.cfg.Reconnected != nil {
				g.cfg.Reconnected()
			}
		}),
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("open the cluster log: read CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("open the cluster log: %s holds no PEM certificate", cfg.CAFile)
		}
		opts = append(opts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.URL, err)
	}
	g.nc = nc
	g.js, err = jetstream.New(nc, jetstream.WithDefaultTimeout(apiWaitDefault))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	if err := g.openStream(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	g.aliveSub, err = nc.Subscribe(aliveSubject, func(msg *nats.Msg) { g.heard.record(string(msg.Data)) })
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("hear the other nodes: %w", err)
	}
	return g, nil
}

// openStream finds the stream, or creates it. The meta leader of a freshly
// started NATS cluster may not be elected yet: that is waited out.
func (g *Log) openStream(ctx context.Context) error {
	replicas := g.cfg.Replicas
	if replicas <= 0 {
		replicas = 1
		if len(g.nc.Servers()) >= 3 {
			replicas = 3
		}
	}
	sc := jetstream.StreamConfig{
		Name:        g.cfg.Stream,
		Description: "chatroom: every change of the chat, in order",
		Subjects:    []string{logPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxAge:      g.cfg.Retention,
		Duplicates:  2 * time.Minute,
		Discard:     jetstream.DiscardOld,
	}
	var lastErr error
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := g.js.Stream(actx, g.cfg.Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			st, err = g.js.CreateStream(actx, sc)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				st, err = g.js.Stream(actx, g.cfg.Stream) // another node was first
			}
		}
		cancel()
		if err == nil {
			g.stream = st
			info := st.CachedInfo()
			if info.Config.Replicas != replicas && g.cfg.Replicas > 0 {
				g.log.Warn("the stream has another replica count than asked; keeping it", "stream", g.cfg.Stream, "replicas", info.Config.Replicas, "asked", replicas)
			}
			// The creation time tells this stream from one deleted and
			// made again under the same name: a node must not resume a
			// cursor into a different history.
			g.id = "nats:" + g.cfg.Stream + "@" + strconv.FormatInt(info.Created.UnixNano(), 10)
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("open the stream %s: %w", g.cfg.Stream, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close ends the connection.
func (g *Log) Close() error {
	if err := g.nc.Drain(); err != nil {
		g.nc.Close()
		return fmt.Errorf("close NATS: %w", err)
	}
	return nil
}

// ID implements lobby.Log.
func (g *Log) ID() string { return g.id }

// Append implements lobby.Log. The batch's id goes with it as its
// Nats-Msg-Id, so a retry of a publish whose acknowledgement was lost is
// kept once; retries go on until AppendTimeout, which rides out a stream
// leader's election.
func (g *Log) Append(ctx context.Context, id string, batch []lobby.Change) (uint64, error) {
	data, err := lobby.EncodeBatch(batch)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.AppendTimeout)
	defer cancel()
	wait := 20 * time.Millisecond
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		ack, err := g.js.Publish(actx, g.subject, data, jetstream.WithMsgID(id), jetstream.WithExpectStream(g.cfg.Stream))
		acancel()
		if err == nil {
			return ack.Sequence, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("append to the stream %s: %w", g.cfg.Stream, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// Head implements lobby.Log.
func (g *Log) Head(ctx context.Context) (uint64, error) {
	info, err := g.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the stream %s: %w", g.cfg.Stream, err)
	}
	return info.State.LastSeq, nil
}

// First implements lobby.Log.
func (g *Log) First(ctx context.Context) (uint64, error) {
	info, err := g.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the stream %s: %w", g.cfg.Stream, err)
	}
	if info.State.Msgs == 0 {
		return info.State.LastSeq + 1, nil
	}
	return info.State.FirstSeq, nil
}

// Follow implements lobby.Log with an ordered consumer, which the client
// library recreates from the last sequence it delivered whenever the
// server it lives on goes away.
func (g *Log) Follow(ctx context.Context, after uint64, apply func(uint64, []lobby.Change) error) error {
	// A few attempts to make the consumer again after its server went,
	// then Follow fails and the lobby follows again with a new one: the
	// library's own retries, endless by default, were seen to fail for
	// minutes on end after a stream leader's death.
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy, MaxResetAttempts: 3}
	if after > 0 {
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := g.stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return fmt.Errorf("follow the stream %s: %w", g.cfg.Stream, err)
	}
	// A heartbeat a second: a consumer whose server died is noticed and
	// made again on another in a few seconds, not the default ten.
	it, err := cons.Messages(jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("follow the stream %s: %w", g.cfg.Stream, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	next := after + 1
	for {
		msg, err := it.Next(jetstream.NextMaxWait(stallCheck))
		if errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			// Quiet: an idle chat, or a consumer that lost its server and
			// was not made again (seen after a stream leader's death, for
			// over a minute). The stream says which.
			ictx, cancel := context.WithTimeout(ctx, stallCheck)
			head, herr := g.Head(ictx)
			cancel()
			if herr == nil && head >= next {
				return fmt.Errorf("follow the stream %s: nothing for %v though it holds up to %d: %w", g.cfg.Stream, stallCheck, head, errStalled)
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("follow the stream %s: %w", g.cfg.Stream, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("follow the stream %s: %w", g.cfg.Stream, err)
		}
		seq := md.Sequence.Stream
		switch {
		case seq < next:
			continue // delivered again after the consumer was recreated
		case seq > next:
			return fmt.Errorf("follow the stream %s: wanted %d, got %d: %w", g.cfg.Stream, next, seq, lobby.ErrLogGap)
		}
		batch, err := lobby.DecodeBatch(msg.Data())
		if err != nil {
			return fmt.Errorf("follow the stream %s at %d: %w", g.cfg.Stream, seq, err)
		}
		if err := apply(seq, batch); err != nil {
			return err
		}
		next++
	}
}
