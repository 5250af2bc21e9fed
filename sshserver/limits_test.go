package sshserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestConnLimiter(t *testing.T) {
	a := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1000}
	b := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1000}
	samePortless := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2000}
	now := time.Unix(1000, 0)
	lim := newConnLimiter(10) // burst 30, then 10/s
	for i := range 30 {
		if !lim.allow(a, now) {
			t.Fatalf("connection %d of the burst refused", i+1)
		}
	}
	if lim.allow(samePortless, now) {
		t.Fatal("31st connection from one IP (another port) allowed")
	}
	if !lim.allow(b, now) {
		t.Fatal("another IP was limited by the first one's burst")
	}
	if !lim.allow(a, now.Add(100*time.Millisecond)) {
		t.Fatal("no token after 100ms at 10/s")
	}
	// Entries idle long enough to have refilled are forgotten.
	lim.allow(b, now.Add(time.Hour))
	if n := len(lim.byIP); n != 1 {
		t.Fatalf("%d entries kept after an hour, want 1", n)
	}
	if newConnLimiter(0) != nil {
		t.Fatal("rate 0 should turn the limiter off")
	}
}

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAddrConns(t *testing.T) {
	if release, ok := newAddrConns(0).acquire("10.0.0.1"); !ok {
		t.Fatal("no cap refused a connection")
	} else {
		release()
	}
	a := newAddrConns(2)
	r1, ok1 := a.acquire("10.0.0.1")
	r2, ok2 := a.acquire("10.0.0.1")
	_, ok3 := a.acquire("10.0.0.1")
	rOther, okOther := a.acquire("10.0.0.2")
	if !ok1 || !ok2 || ok3 || !okOther {
		t.Fatalf("acquire: %v %v %v (another address %v), want true true false (true)", ok1, ok2, ok3, okOther)
	}
	r1()
	r1() // a second release gives nothing back twice
	if _, ok := a.acquire("10.0.0.1"); !ok {
		t.Fatal("a released place was not free")
	}
	if _, ok := a.acquire("10.0.0.1"); ok {
		t.Fatal("a double release freed two places")
	}
	r2()
	rOther()
	if n := len(a.open); n != 1 {
		t.Fatalf("%d addresses counted, want 1 (only the one still open)", n)
	}
}

func TestLoadAuthorizedKeys(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := newSigner(t), newSigner(t)
	good := filepath.Join(dir, "good")
	data := "# friends\n" + string(gossh.MarshalAuthorizedKey(k1.PublicKey())) + "\n" +
		strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k2.PublicKey()))) + " bob@laptop\n"
	if err := os.WriteFile(good, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := loadAuthorizedKeys(good)
	if err != nil || len(keys) != 2 {
		t.Fatalf("got %d keys, %v; want 2", len(keys), err)
	}
	for name, content := range map[string]string{"empty": "\n# nothing\n", "garbage": "ssh-ed25519 not-base64\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadAuthorizedKeys(p); err == nil {
			t.Errorf("%s file accepted", name)
		}
	}
	if _, err := loadAuthorizedKeys(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestConnectionRateLimitPerAddress(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.ConnRate = 1 }) // burst 3
	refused := 0
	for range 6 {
		conn, err := e2e.Dial(ts.addr)
		if err != nil {
			refused++
			continue
		}
		conn.Close()
	}
	if refused < 2 {
		t.Fatalf("%d of 6 rapid connections refused at 1/s with a burst of 3, want at least 2", refused)
	}
}

func TestAllowedKeysAdmitOnlyListed(t *testing.T) {
	testutil.CheckGoroutines(t)
	friend, stranger := newSigner(t), newSigner(t)
	keys := filepath.Join(t.TempDir(), "allowed")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(friend.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.AllowedKeysPath = keys })
	dial := func(s gossh.Signer) error {
		conn, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
			User:            "x",
			Auth:            []gossh.AuthMethod{gossh.PublicKeys(s)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(),
			Timeout:         e2e.WaitTimeout,
		})
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial(friend); err != nil {
		t.Fatalf("listed key refused: %v", err)
	}
	if err := dial(stranger); err == nil {
		t.Fatal("unlisted key admitted")
	}
	if _, err := e2e.Dial(ts.addr); err == nil {
		t.Fatal("a client with no key was admitted")
	}
}

func TestLineModePromptTimesOut(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.PromptTimeout = 300 * time.Millisecond })
	bot := ts.connectLine(t)
	bot.WaitText(lobby.Prompt)
	bot.WaitText(lobby.Sentence(lobby.ErrPromptTimeout.Error()))
	if code := bot.WaitExit(); code == 0 {
		t.Fatal("a timed-out prompt exited with status 0")
	}
	testutil.Eventually(t, "the slot to be freed", func() bool { return ts.srv.Sessions() == 0 })
}

func TestIdleTimeoutEndsSilentConnections(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.IdleTimeout = 500 * time.Millisecond })
	a := ts.connect(t)
	a.Login("idler")
	a.WaitEnd() // the connection is cut: no exit status
	testutil.Eventually(t, "the idle session's slot and name to be freed", func() bool {
		return ts.srv.Sessions() == 0 && ts.lobby.Online() == 0
	})
}

func TestFrameRate(t *testing.T) {
	for _, tc := range []struct{ open, want int }{
		{0, 120}, {1, 120}, {100, 120}, {150, 80}, {200, 60}, {600, 20}, {5000, 20},
	} {
		if got := frameRate(tc.open); got != tc.want {
			t.Errorf("frameRate(%d) = %d, want %d", tc.open, got, tc.want)
		}
	}
}

func TestKeyLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	lim := newKeyLimiter(3)
	for i := range 3 {
		if !lim.allow("SHA256:a", now.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("session %d of 3 refused", i+1)
		}
	}
	if !lim.allow("SHA256:b", now) {
		t.Fatal("another key was held by the first one's count")
	}
	if lim.allow("SHA256:a", now.Add(10*time.Second)) {
		t.Fatal("a fourth session within the minute allowed")
	}
	// Held for keyRateHold, even once its minute has passed.
	if lim.allow("SHA256:a", now.Add(keyRateHold)) {
		t.Fatal("allowed before the hold was over")
	}
	if !lim.allow("SHA256:a", now.Add(10*time.Second+keyRateHold)) {
		t.Fatal("still refused after the hold")
	}
	// Spread over more than a minute, any number is fine.
	lim = newKeyLimiter(3)
	for i := range 20 {
		if !lim.allow("SHA256:a", now.Add(time.Duration(i)*21*time.Second)) {
			t.Fatalf("session %d refused at 3 a minute", i+1)
		}
	}
	// Keys neither counted nor held are forgotten.
	lim.allow("SHA256:c", now.Add(time.Hour))
	if n := len(lim.byKey); n != 1 {
		t.Errorf("%d keys kept, want 1", n)
	}
	if newKeyLimiter(0) != nil || !(*keyLimiter)(nil).allow("x", now) {
		t.Error("a limit of 0 is not off")
	}
}
