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
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Config sets up a Server. As for every Config in chatroom: a zero field
// takes the default named beside it; a limit that can be turned off says so
// and is off when negative; any other negative value counts as zero.
type Config struct {
	Listen      string       // address to bind; ":2222"
	HostKeyPath string       // ed25519 key, created with mode 0600 if missing; required
	MaxSessions int          // open sessions at once, name prompts included; 10
	Lobby       *lobby.Lobby // required
	Logger      *slog.Logger // slog.Default()

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
	// AllowedKeysPath, when set, names an authorized_keys file: only those
	// keys may connect.
	AllowedKeysPath string
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = ":2222"
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 20 * time.Second
	}
	if c.PromptTimeout <= 0 {
		c.PromptTimeout = 2 * time.Minute
	}
}

// Server serves chatroom over SSH. Create it with New, start it with Listen
// and Serve, stop it with Shutdown.
type Server struct {
	cfg Config
	log *slog.Logger
	srv *ssh.Server

	// shutdown is canceled when Shutdown starts; every session's context
	// derives from it, so programs at the name prompt end too.
	shutdown       context.Context
	cancelShutdown context.CancelFunc

	// sessionHook, when set (by tests), runs at the start of every session
	// that holds a slot: a place to inject a panic.
	sessionHook func(ssh.Session)

	mu       sync.Mutex // guards every field below
	ln       net.Listener
	sessions map[*session]struct{}
	closing  bool
	idle     chan struct{} // closed when closing and sessions is empty
}

// session is one open SSH session holding a slot.
type session struct {
	ssh     ssh.Session
	release sync.Once
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
		cfg:      cfg,
		log:      cfg.Logger,
		sessions: make(map[*session]struct{}),
		idle:     make(chan struct{}),
	}
	s.shutdown, s.cancelShutdown = context.WithCancel(context.Background())
	opts := []ssh.Option{
		wish.WithAddress(cfg.Listen),
		wish.WithHostKeyPath(cfg.HostKeyPath),
		func(srv *ssh.Server) error {
			srv.HandshakeTimeout = cfg.HandshakeTimeout
			srv.IdleTimeout = cfg.IdleTimeout
			if lim := newConnLimiter(cfg.ConnRate); lim != nil {
				srv.ConnCallback = func(_ ssh.Context, conn net.Conn) net.Conn {
					if !lim.allow(conn.RemoteAddr(), time.Now()) {
						s.log.Warn("refused: connection rate", "remote", conn.RemoteAddr().String())
						return nil // the server closes it
					}
					return conn
				}
			}
			return nil
		},
		wish.WithMiddleware(s.handle),
	}
	// Without an allowed-keys file this is a public chat: anyone may
	// connect, with any key or none, and is never asked for a password.
	if cfg.AllowedKeysPath != "" {
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

// Sessions is the number of open sessions, name prompts included.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown tells every session the server is shutting down and ends it, then
// closes the listener and every connection. Sessions get until ctx's deadline
// to say good-bye; past it they are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	if len(s.sessions) == 0 {
		closeOnce(s.idle)
	}
	s.mu.Unlock()

	s.cancelShutdown()
	s.cfg.Lobby.Shutdown()
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

// acquire takes a session slot, atomically against every other connection.
func (s *Server) acquire(sess ssh.Session) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || len(s.sessions) >= s.cfg.MaxSessions {
		return nil, false
	}
	ss := &session{ssh: sess}
	s.sessions[ss] = struct{}{}
	return ss, true
}

// releaseSlot frees the slot; it is safe to call more than once, so a
// session cut loose can free it at once while its handler is still unwinding.
func (s *Server) releaseSlot(ss *session) {
	ss.release.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.sessions, ss)
		if s.closing && len(s.sessions) == 0 {
			closeOnce(s.idle)
		}
	})
}

// handle is the only middleware: it is the whole session.
func (s *Server) handle(ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		_, _, hasPTY := sess.Pty()
		log := s.log.With("remote", sess.RemoteAddr().String(), "user", sess.User(), "pty", hasPTY)
		ss, ok := s.acquire(sess)
		if !ok {
			log.Info("refused: server full", "limit", s.cfg.MaxSessions)
			wish.Fatalln(sess, fmt.Sprintf("Server is full: %d of %d sessions in use. Try again later.", s.cfg.MaxSessions, s.cfg.MaxSessions))
			return
		}
		defer s.releaseSlot(ss)
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
		ctx, cancel := mergeContexts(sess.Context(), s.shutdown)
		defer cancel()
		if s.sessionHook != nil {
			s.sessionHook(sess)
		}
		if hasPTY {
			s.runTUI(ctx, cancel, ss, log)
		} else {
			s.runLineMode(ctx, cancel, ss, log)
		}
	}
}

// watchDrop frees the session's slot the moment the lobby cuts it loose (too
// slow, flooding), without waiting for its handler, which may be stuck
// writing to a client that stopped reading. A too-slow session is closed at
// once; a flooder gets a few seconds to read why before it is closed.
func (s *Server) watchDrop(ss *session, registered <-chan *lobby.Session, done <-chan struct{}, cancel func(), log *slog.Logger) {
	var ls *lobby.Session
	select {
	case ls = <-registered:
	case <-done:
		return
	}
	select {
	case <-ls.Done():
	case <-done:
		return
	}
	reason := ls.Err()
	if !errors.Is(reason, lobby.ErrTooSlow) && !errors.Is(reason, lobby.ErrFlooding) {
		return // a quit or a shutdown: the session ends by itself
	}
	s.releaseSlot(ss)
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
	_ = ss.ssh.Close() // unblocks a write stuck on the client's full window
}

// cutGrace is how long a session cut loose for flooding may take to say why.
const cutGrace = 5 * time.Second

// mergeContexts returns a context that ends when either a or b does.
func mergeContexts(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}
