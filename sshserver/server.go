package sshserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/authkeys"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// Config sets up a Server. As for every Config in chatroom: a zero field
// takes the default named beside it; a limit that can be turned off says so
// and is off when negative; any other negative value counts as zero.
type Config struct {
	Listen      string       // address to bind; ":2222"
	HostKeyPath string       // ed25519 key, created with mode 0600 if missing; required
	Lobby       *lobby.Lobby // the chat, which also holds the session limit; required
	Logger      *slog.Logger // slog.Default()
	Observer    Observer     // hears sessions open, close and be refused; nil hears nothing

	// HandshakeTimeout bounds the SSH handshake, as OpenSSH's
	// LoginGraceTime does; 20s.
	HandshakeTimeout time.Duration
	// PromptTimeout is how long a session may sit at the name prompt; 2m.
	// It cannot be turned off: a session at the prompt holds a slot.
	PromptTimeout time.Duration
	// IdleTimeout ends a connection with no traffic either way for this
	// long. Off by default (so 0 is off too).
	IdleTimeout time.Duration
	// ConnRate limits new connections per source IP: a burst of 3×ConnRate,
	// then ConnRate a second. Off by default (so 0 is off too).
	ConnRate float64
	// ConnPerAddr caps the connections open at once from one source IP, so
	// that one address cannot use up the server's file descriptors. 0
	// means no cap.
	ConnPerAddr int
	// NoSessionTimeout closes a connection that has no session running for
	// this long: from when it authenticates, or from when its last session
	// ends; 20s.
	NoSessionTimeout time.Duration
	// ChannelsPerConn caps the session channels one connection may hold
	// open at once; 4.
	ChannelsPerConn int
	// AllowedKeysPath, when set, names an authorized_keys file: only those
	// keys may connect.
	AllowedKeysPath string
	// IsOperator says whether the key with this SHA256 fingerprint is a
	// server operator's; it is asked once per session, when it opens. nil:
	// nobody is.
	IsOperator func(fingerprint string) bool
	// KeyRate limits the sessions one SSH key may open per minute, on top
	// of the limits per address: past it, the key is refused for
	// keyRateHold. A raid that makes one key log in again and again is
	// stopped by it; one that makes a new key each time meets the limits
	// per address. Server operators' keys are never refused. Off by
	// default (so 0 is off too).
	KeyRate int
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = ":2222"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 20 * time.Second
	}
	if c.PromptTimeout <= 0 {
		c.PromptTimeout = 2 * time.Minute
	}
	if c.NoSessionTimeout <= 0 {
		c.NoSessionTimeout = 20 * time.Second
	}
	if c.ChannelsPerConn <= 0 {
		c.ChannelsPerConn = 4
	}
}

// Server serves chatroom over SSH. Create it with New, start it with Listen
// and Serve, stop it with Shutdown.
type Server struct {
	cfg Config
	log *slog.Logger
	srv *ssh.Server

	// shutdown is canceled by Shutdown, once the lobby has told every
	// session; every session's context derives from it, so programs at the
	// name prompt end too.
	shutdown       context.Context
	cancelShutdown context.CancelFunc

	// sessionHook, when set (by tests), runs at the start of every session
	// that holds a slot: a place to inject a panic.
	sessionHook func(ssh.Session)

	keyRate *keyLimiter // nil: off

	mu      sync.Mutex // guards every field below
	ln      net.Listener
	slots   map[*slot]struct{}
	closing bool
	idle    chan struct{} // closed when closing and slots is empty
}

// slot is one of the chat's slots (see lobby.Open), held by an open SSH
// session of this server from the moment its handler starts, name prompt
// included, until the handler returns or the lobby cuts the session loose.
type slot struct {
	ssh     ssh.Session
	lobby   *lobby.Session // holds the slot; named at the prompt
	kind    string         // KindTUI or KindLine
	release sync.Once
}

// admit is the server's ConnCallback: the first thing done with a new TCP
// connection, before any SSH work. It refuses an address over its rate or
// its count of open connections (the server then closes the connection)
// and wraps the rest in the door's connState.
func (s *Server) admit(rate *connLimiter, perAddr *addrConns) ssh.ConnCallback {
	return func(ctx ssh.Context, conn net.Conn) net.Conn {
		ip := addrIP(conn.RemoteAddr())
		if rate != nil && !rate.allow(conn.RemoteAddr(), time.Now()) {
			s.log.Warn("refused: connection rate", "remote", conn.RemoteAddr().String())
			s.cfg.Observer.SessionRefused(RefusedRate)
			return nil
		}
		release, ok := perAddr.acquire(ip)
		if !ok {
			s.log.Warn("refused: connections from one address", "remote", conn.RemoteAddr().String(), "limit", s.cfg.ConnPerAddr)
			s.cfg.Observer.SessionRefused(RefusedPerAddress)
			return nil
		}
		c := &connState{
			Conn:     conn,
			log:      s.log.With("remote", conn.RemoteAddr().String()),
			release:  release,
			timeout:  s.cfg.NoSessionTimeout,
			channels: s.cfg.ChannelsPerConn,
		}
		ctx.SetValue(connKey{}, c)
		return c
	}
}

// New builds a Server; it does not bind yet.
func New(cfg Config) (*Server, error) {
	if cfg.Lobby == nil {
		return nil, errors.New("new ssh server: no lobby")
	}
	if cfg.HostKeyPath == "" {
		return nil, errors.New("new ssh server: no host key path")
	}
	cfg.setDefaults()
	if err := os.MkdirAll(filepath.Dir(cfg.HostKeyPath), 0o700); err != nil {
		return nil, fmt.Errorf("host key folder: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		slots:   make(map[*slot]struct{}),
		idle:    make(chan struct{}),
		keyRate: newKeyLimiter(cfg.KeyRate),
	}
	s.shutdown, s.cancelShutdown = context.WithCancel(context.Background())
	opts := []ssh.Option{
		wish.WithAddress(cfg.Listen),
		wish.WithHostKeyPath(cfg.HostKeyPath),
		func(srv *ssh.Server) error {
			srv.HandshakeTimeout = cfg.HandshakeTimeout
			srv.IdleTimeout = cfg.IdleTimeout
			srv.ConnCallback = s.admit(newConnLimiter(cfg.ConnRate), newAddrConns(cfg.ConnPerAddr))
			srv.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
				return &gossh.ServerConfig{
					// Called after every attempt; a nil error is the
					// one that let the client in.
					AuthLogCallback: func(_ gossh.ConnMetadata, _ string, err error) {
						if c := connOf(ctx); c != nil && err == nil {
							c.authenticated()
						}
					},
				}
			}
			// Only sessions: every other channel type (port forwarding,
			// X11, agent) is refused by the library for want of a handler.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
			return nil
		},
		wish.WithMiddleware(s.handle),
	}
	if cfg.AllowedKeysPath == "" {
		opts = append(opts, publicAuth()...)
	} else {
		keys, err := loadAuthorizedKeys(cfg.AllowedKeysPath)
		if err != nil {
			return nil, err
		}
		opts = append(opts, wish.WithPublicKeyAuth(func(_ ssh.Context, key ssh.PublicKey) bool {
			for _, k := range keys {
				if ssh.KeysEqual(k, key) {
					return true
				}
			}
			return false
		}))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("new ssh server: %w", err)
	}
	if err := os.Chmod(cfg.HostKeyPath, 0o600); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	s.srv = srv
	return s, nil
}

// Listen binds the configured address and returns the address really bound
// (so ":0" tells the port).
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return ln.Addr(), nil
}

// Serve accepts connections until Shutdown. It returns nil after a Shutdown.
func (s *Server) Serve() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("serve: Listen was not called")
	}
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Sessions is the number of this server's open sessions, name prompts
// included. (The chat's limit counts every node's: Lobby.Sessions.)
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}

// Shutdown tells every session the server is shutting down and ends it, then
// closes the listener and every connection. Sessions get until ctx's deadline
// to say good-bye; past it they are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	if len(s.slots) == 0 {
		closeOnce(s.idle)
	}
	s.mu.Unlock()

	// The lobby first: every session hears why it ends (ErrShutdown) before
	// its context ends, and one that ends some other way meanwhile is told
	// the server is shutting down all the same (see lobby.Lobby.Ending).
	s.cfg.Lobby.Shutdown()
	s.cancelShutdown()
	var err error
	select {
	case <-s.idle:
	case <-ctx.Done():
		err = fmt.Errorf("wait for sessions to end: %w", ctx.Err())
	}
	// srv.Shutdown waits for TCP connections, which clients keep open after
	// their session ends; Close cuts them, and everything is said by now.
	if cerr := s.srv.Close(); cerr != nil && !errors.Is(cerr, ssh.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("close ssh server: %w", cerr))
	}
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close() // in case Serve never ran
	}
	s.mu.Unlock()
	return err
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// acquire takes a session slot: the chat's, atomically against every
// other connection to any node (see lobby.Open), and this server's record
// of it, for shutting down.
func (s *Server) acquire(ctx context.Context, sess ssh.Session, kind string) (*slot, error) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return nil, lobby.ErrLobbyClosed
	}
	v := lobby.Visitor{Addr: sess.RemoteAddr().String(), TZ: envValue(sess.Environ(), "TZ")}
	if pk := sess.PublicKey(); pk != nil {
		v.Key = authkeys.Fingerprint(pk)
		v.Operator = s.isOperator(v.Key)
	}
	ls, err := s.cfg.Lobby.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	sl := &slot{ssh: sess, lobby: ls, kind: kind}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		ls.Close()
		return nil, lobby.ErrLobbyClosed
	}
	s.slots[sl] = struct{}{}
	s.cfg.Observer.SessionOpened(kind)
	return sl, nil
}

// isOperator reports whether the key with this fingerprint is a server
// operator's.
func (s *Server) isOperator(fp string) bool {
	return s.cfg.IsOperator != nil && s.cfg.IsOperator(fp)
}

// releaseSlot frees the slot; it is safe to call more than once, so a
// session cut loose can free it at once while its handler is still unwinding.
func (s *Server) releaseSlot(sl *slot) {
	sl.release.Do(func() {
		sl.lobby.Close()
		s.cfg.Observer.SessionClosed(sl.kind)
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.slots, sl)
		if s.closing && len(s.slots) == 0 {
			closeOnce(s.idle)
		}
	})
}

// handle is the only middleware: it is the whole session.
func (s *Server) handle(ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if c := connOf(sess.Context()); c != nil {
			c.sessionStarted()
			defer c.sessionEnded()
		}
		_, _, hasPTY := sess.Pty()
		kind := KindLine
		if hasPTY {
			kind = KindTUI
		}
		// Who connected, never what they say: the remote address, the key
		// they proved they hold, the SSH user name, and below the session.
		log := s.log.With("remote", sess.RemoteAddr().String(), "key", keyFingerprint(sess), "user", sess.User(), "kind", kind)
		ctx, cancel := mergeContexts(sess.Context(), s.shutdown)
		defer cancel()
		if key := keyFingerprint(sess); key != "" && !s.isOperator(key) && !s.keyRate.allow(key, time.Now()) {
			log.Warn("refused: sessions per key", "limit_per_minute", s.cfg.KeyRate)
			s.cfg.Observer.SessionRefused(RefusedKeyRate)
			refuse(sess, lobby.Ending{Code: 1, Farewell: fmt.Sprintf("This SSH key opened more than %d sessions in a minute, so it is refused for %d minutes. Try again later.", s.cfg.KeyRate, keyRateHold/time.Minute)})
			return
		}
		sl, err := s.acquire(ctx, sess, kind)
		if err != nil {
			switch {
			case errors.Is(err, lobby.ErrFull):
				log.Info("refused: server full", "limit", s.cfg.Lobby.MaxSessions())
				s.cfg.Observer.SessionRefused(RefusedFull)
			case errors.Is(err, lobby.ErrBanned):
				// The door's record of a ban at work: whom it kept out and
				// which ban; the lobby logged the ban itself when it was made.
				log.Info("refused: banned", "ban", err.Error())
				s.cfg.Observer.SessionRefused(RefusedBanned)
			case errors.Is(err, lobby.ErrUnavailable):
				log.Warn("refused: the chat cannot save") // the lobby logged the cause
			case errors.Is(err, lobby.ErrLobbyClosed), errors.Is(err, context.Canceled):
			default:
				log.Error("open session", "err", err)
			}
			refuse(sess, s.cfg.Lobby.Ending(err, ""))
			return
		}
		defer s.releaseSlot(sl)
		log = log.With("session", string(sl.lobby.ID()))
		start := time.Now()
		log.Info("session open")
		defer func() {
			if r := recover(); r != nil {
				// One session's bug ends that session, not the server.
				log.Error("session panic", "panic", r, "stack", string(debug.Stack()))
				wish.Errorln(sess, "Sorry: the server hit an error in your session and has to close it.")
				_ = sess.Exit(1)
				_ = sess.Close()
			}
			log.Info("session closed", "duration", time.Since(start).Round(time.Millisecond))
		}()
		if s.sessionHook != nil {
			s.sessionHook(sess)
		}
		if hasPTY {
			s.runTUI(ctx, cancel, sl, log)
		} else {
			s.runLineMode(ctx, cancel, sl, log)
		}
	}
}

// watchDrop closes the connection the moment the lobby cuts the session
// loose (too slow, flooding), without waiting for its handler, which may be
// stuck writing to a client that stopped reading; the lobby has freed its
// slot already. A too-slow session is closed at once; a flooder gets a few
// seconds to read why before it is closed.
func (s *Server) watchDrop(sl *slot, done <-chan struct{}, cancel func(), log *slog.Logger) {
	ls := sl.lobby
	select {
	case <-ls.Done():
	case <-done:
		return
	}
	reason := ls.Err()
	if !errors.Is(reason, lobby.ErrTooSlow) && !errors.Is(reason, lobby.ErrFlooding) {
		return // a quit or a shutdown: the session ends by itself
	}
	s.releaseSlot(sl)
	log.Warn("session cut loose", "reason", reason)
	if errors.Is(reason, lobby.ErrFlooding) {
		t := time.NewTimer(cutGrace)
		defer t.Stop()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
	cancel()
	_ = sl.ssh.Close() // unblocks a write stuck on the client's full window
}

// cutGrace is how long a session cut loose for flooding may take to say why.
const cutGrace = 5 * time.Second

// refuse ends a session that never began: its farewell goes to stderr, as
// a command's complaint does.
func refuse(sess ssh.Session, end lobby.Ending) {
	wish.Errorln(sess, end.Farewell)
	wish.Errorf(sess, "\r") // in case a PTY holds the cursor at the line's end
	_ = sess.Exit(end.Code)
	_ = sess.Close()
}

// keyFingerprint is the SHA256 fingerprint of the key the session's client
// proved it holds, "" for none.
func keyFingerprint(sess ssh.Session) string {
	if k := sess.PublicKey(); k != nil {
		return authkeys.Fingerprint(k)
	}
	return ""
}

// envValue is the value of the variable name in env ("NAME=value"
// entries), "" when it is not there.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// mergeContexts returns a context that ends when either a or b does.
func mergeContexts(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

// publicAuth admits everyone, the way a public chat must, while still
// learning the key of every client that has one. A server that offers no
// authentication at all ("none" succeeds) never sees a key: OpenSSH and
// most libraries try "none" first and stop there. So "none" fails, public
// keys are all accepted (the library then checks the client's signature,
// so the key is one it holds), and a client without keys gets in by
// keyboard-interactive with no questions (what OpenSSH tries next, without
// prompting) or by any password. None of these costs the server more than
// the client: a signature check per offered key, bounded by the library's
// limit on attempts.
func publicAuth() []ssh.Option {
	return []ssh.Option{
		// Called for every key a client offers, before it proves it holds
		// it: no side effects here; the session reads the proven key.
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }),
		wish.WithPasswordAuth(func(ssh.Context, string) bool { return true }),
	}
}
