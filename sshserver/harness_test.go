package sshserver

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/authkeys"
	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/store"
)

// testServer is the real server on a loopback port, with an in-memory store.
type testServer struct {
	srv   *Server
	lobby *lobby.Lobby
	addr  string
	store lobby.Store

	stopOnce sync.Once
	stopFn   func(testing.TB)
}

type lobbyConfig = lobby.Config

type serverOption func(*Config, *lobbyConfig)

func withMaxSessions(n int) serverOption {
	return func(_ *Config, lc *lobby.Config) { lc.MaxSessions = n }
}

func withHistory(n int) serverOption {
	return func(_ *Config, lc *lobby.Config) { lc.History = n }
}

func withStore(st lobby.Store) serverOption {
	return func(_ *Config, lc *lobby.Config) {
		lc.Store = st
		if withLog, ok := st.(interface {
			Log(context.Context) (*store.LocalLog, error)
		}); ok {
			g, err := withLog.Log(context.Background())
			if err != nil {
				panic(err)
			}
			lc.Log = g
		}
	}
}

func withLobbyConfig(f func(*lobby.Config)) serverOption {
	return func(_ *Config, lc *lobby.Config) { f(lc) }
}

func startServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	log := testutil.Logger(t)
	lc := lobby.Config{Store: lobby.NewMemoryStore(), Log: lobby.NewMemoryLog(), Logger: log, FloodRate: -1, MaxSessions: 10, ParseKey: authkeys.Parse}
	cfg := Config{
		Listen:      "127.0.0.1:0",
		HostKeyPath: filepath.Join(t.TempDir(), "host_ed25519"),
		Logger:      log,
	}
	for _, o := range opts {
		o(&cfg, &lc)
	}
	l := lobbytest.New(t, lc) // closed after the server, which is stopped first
	cfg.Lobby = l
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	ts := &testServer{srv: srv, lobby: l, addr: addr.String(), store: lc.Store}
	ts.stopFn = func(t testing.TB) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := l.Close(ctx); err != nil {
			t.Errorf("close lobby: %v", err)
		}
	}
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop shuts the server down, once; tests leave it to their cleanup.
func (ts *testServer) stop(t testing.TB) {
	ts.stopOnce.Do(func() { ts.stopFn(t) })
}

func (ts *testServer) connect(t testing.TB) *e2e.Terminal {
	t.Helper()
	return e2e.Connect(t, ts.addr, 100, 30)
}

func (ts *testServer) connectSized(t testing.TB, w, h int) *e2e.Terminal {
	t.Helper()
	return e2e.Connect(t, ts.addr, w, h)
}

func (ts *testServer) connectLine(t testing.TB) *e2e.Line {
	t.Helper()
	return e2e.ConnectLine(t, ts.addr)
}

// connectKey connects a PTY user presenting key (none when nil), on a
// terminal wide enough that a fingerprint stays on one row.
func (ts *testServer) connectKey(t testing.TB, key gossh.Signer) *e2e.Terminal {
	t.Helper()
	return e2e.ConnectKey(t, ts.addr, 140, 36, key)
}

// lineKey connects a line-mode client presenting key and answers the
// prompt with name, without waiting for the answer.
func (ts *testServer) lineKey(t testing.TB, key gossh.Signer, name string) *e2e.Line {
	t.Helper()
	c := e2e.ConnectLineKey(t, ts.addr, key)
	c.WaitText(lobby.Prompt)
	c.Send(name)
	return c
}

// withOperators makes the sessions of these keys server operators'.
func withOperators(keys ...gossh.Signer) serverOption {
	return func(c *Config, _ *lobbyConfig) {
		c.IsOperator = func(fp string) bool {
			for _, k := range keys {
				if e2e.Fingerprint(k) == fp {
					return true
				}
			}
			return false
		}
	}
}

// script is `printf INPUT | ssh -T host`: it connects in line mode, sends
// all of input at once once the prompt is there, closes its input, and
// returns everything it got once the session has ended with status 0.
func (ts *testServer) script(t testing.TB, input string) string {
	t.Helper()
	c := ts.connectLine(t)
	c.WaitText(lobby.Prompt)
	if _, err := io.WriteString(c.Stdin, input); err != nil {
		t.Fatal(err)
	}
	if err := c.Stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if code := c.WaitExit(); code != 0 {
		t.Fatalf("exit status %d, want 0; got:\n%s", code, c.Output())
	}
	return c.Output()
}

// creator connects a PTY user, signs in as name and creates room, which the
// user is then in.
func (ts *testServer) creator(t testing.TB, name, room string) *e2e.Terminal {
	t.Helper()
	c := ts.connect(t)
	c.Login(name)
	c.TypeLine("/create " + room)
	c.WaitText("You created " + room)
	return c
}

// lineCreator connects a line-mode client, signs in as name and creates
// room, which the client is then in.
func (ts *testServer) lineCreator(t testing.TB, name, room string) *e2e.Line {
	t.Helper()
	c := ts.lineUser(t, name)
	c.Send("/create " + room)
	c.WaitText("You are in " + room + ".")
	return c
}

// lineUser connects a line-mode client and answers the prompt with name;
// it does not wait for the answer, so a refused name can be tested too.
func (ts *testServer) lineUser(t testing.TB, name string) *e2e.Line {
	t.Helper()
	c := ts.connectLine(t)
	c.WaitText(lobby.Prompt)
	c.Send(name)
	return c
}
