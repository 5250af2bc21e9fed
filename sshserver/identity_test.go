package sshserver

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/natstest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

var clearInput = uv.KeyPressEvent{Code: 'u', Mod: uv.ModCtrl}

// refusedAtPrompt connects with key (none when nil), types name at the
// prompt and waits for the refusal of a registered name; the prompt stays.
// It returns the terminal, its field cleared.
func refusedAtPrompt(t *testing.T, ts *testServer, key gossh.Signer, name, why string) *e2e.Terminal {
	t.Helper()
	c := ts.connectKey(t, key)
	c.WaitText("your name, or Enter for a guest name")
	c.TypeLine(name)
	screen := c.WaitText(why)
	if !strings.Contains(screen, lobby.Prompt) {
		t.Fatalf("the prompt went away after %s was refused:\n%s", name, screen)
	}
	if !strings.Contains(screen, "The name alice "+lobby.RegisteredMark+" is registered") {
		t.Fatalf("the refusal of %s does not show the registered name with its mark:\n%s", name, screen)
	}
	c.Key(clearInput)
	c.WaitText("your name, or Enter for a guest name")
	return c
}

// TestNamesHeldByKeys is the whole story over SSH with real, distinct
// ed25519 keys and a client without one.
func TestNamesHeldByKeys(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	home, laptop, stranger := e2e.NewKey(t), e2e.NewKey(t), e2e.NewKey(t)

	// Register from home, and see the key in /keys.
	alice := ts.connectKey(t, home)
	alice.Login("alice")
	alice.TypeLine("/register")
	alice.WaitText("alice " + lobby.RegisteredMark + " is now registered to your SSH key")
	alice.TypeLine("/keys")
	alice.WaitText("Keys of alice")
	alice.WaitText(e2e.Fingerprint(home))
	alice.TypeLine("/quit")
	alice.WaitExit()

	// While she is away: refused to another key, to a client without a
	// key, and in any case or look-alike spelling.
	for _, name := range []string{"alice", "ALICE", "a1ice", "aIice"} {
		refusedAtPrompt(t, ts, stranger, name, "your SSH key is not one of its keys").Close()
	}
	other := refusedAtPrompt(t, ts, nil, "Alice", "you connected without an SSH key")
	// Enter still gives them a guest name.
	other.TypeLine("")
	other.WaitText("You are in the Lobby, Guest")

	// Home again: the placeholder offers the name, and Enter takes it.
	alice = ts.connectKey(t, home)
	alice.WaitText("Enter for alice (your key's name)")
	alice.TypeLine("")
	alice.WaitText("You are in the Lobby, alice.")

	// A second machine.
	alice.TypeLine("/keys add " + e2e.AuthorizedLine(laptop, "alice@laptop"))
	alice.WaitText("Added the key " + e2e.Fingerprint(laptop))
	alice.TypeLine("/keys")
	alice.WaitText("alice@laptop")
	alice.TypeLine("/quit")
	alice.WaitExit()
	fromLaptop := ts.connectKey(t, laptop)
	fromLaptop.Login("alice")
	// It removes the home key, which then no longer works.
	fromLaptop.TypeLine("/keys remove " + e2e.Fingerprint(home))
	fromLaptop.WaitText("Removed the key")
	fromLaptop.TypeLine("/quit")
	fromLaptop.WaitExit()
	refusedAtPrompt(t, ts, home, "alice", "your SSH key is not one of its keys")
}

// TestIdentityInLineMode: every identity command works without a PTY and
// answers in plain lines.
func TestIdentityInLineMode(t *testing.T) {
	testutil.CheckGoroutines(t)
	root := e2e.NewKey(t)
	ts := startServer(t, withOperators(root))
	home, laptop := e2e.NewKey(t), e2e.NewKey(t)

	bot := ts.lineKey(t, home, "alice")
	bot.WaitText("You are in the Lobby")
	bot.Send("/register")
	bot.WaitText("alice " + lobby.RegisteredMark + " is now registered to your SSH key " + e2e.Fingerprint(home) + ":")
	bot.Send("/keys add " + e2e.AuthorizedLine(laptop, "laptop"))
	bot.WaitText("Added the key " + e2e.Fingerprint(laptop) + " to alice")
	bot.Send("/keys")
	bot.WaitText("\n  " + e2e.Fingerprint(laptop) + "  laptop  (added ")
	bot.Send("/keys add ssh-ed25519 garbage")
	bot.WaitText("That is not an SSH public key: paste one line of your .pub file")
	bot.Send("/keys remove " + e2e.Fingerprint(laptop))
	bot.WaitText("Removed the key " + e2e.Fingerprint(laptop) + " from alice")
	bot.Send("/keys remove " + e2e.Fingerprint(home))
	bot.WaitText("That is the only key of alice")
	bot.Send("/whois alice")
	bot.WaitText("alice " + lobby.RegisteredMark + " is registered (since ")
	bot.WaitText("Online, with the key " + lobby.ShortFingerprint(e2e.Fingerprint(home)) + ".\n")
	bot.Send("/quit")
	bot.WaitExit()

	// Refused in line mode, and the prompt comes again.
	intruder := ts.lineKey(t, nil, "alice")
	intruder.WaitText("The name alice " + lobby.RegisteredMark + " is registered, and you connected without an SSH key: pick another name.\n" + lobby.Prompt + "\n")
	intruder.Send("mallory")
	intruder.WaitText("You are in the Lobby")

	// The prompt offers the held name in line mode too.
	back := e2e.ConnectLineKey(t, ts.addr, home)
	back.WaitText(lobby.Prompt + "\n(Your SSH key holds the name alice " + lobby.RegisteredMark + ": press Enter alone to use it.)\n")
	back.Send("")
	back.WaitText("You are in the Lobby")

	// An operator is marked, by key, whatever the name.
	op := ts.lineKey(t, root, "sam")
	op.WaitText("You are in the Lobby")
	op.Send("/whois mallory")
	op.WaitText("mallory is not registered.\nOnline, without an SSH key.\n")
	intruder.Send("/whois sam")
	intruder.WaitText("sam is not registered.\nOnline, with the key " + lobby.ShortFingerprint(e2e.Fingerprint(root)) + ".\nA server operator.\n")

	back.Send("/unregister")
	back.WaitText("alice is no longer registered")
	back.Send("/whois alice")
	back.WaitText("alice is not registered.")
}

// TestRegisteredOnOneNodeHeldOnAnother: a name registered on node A is
// refused to other keys on node B, and given to its key there.
func TestRegisteredOnOneNodeHeldOnAnother(t *testing.T) {
	nats := natstest.Start(t)
	a := startServer(t, withCluster(t, nats.URL(), "a"))
	b := startServer(t, withCluster(t, nats.URL(), "b"))
	home, stranger := e2e.NewKey(t), e2e.NewKey(t)

	alice := a.lineKey(t, home, "alice")
	alice.WaitText("You are in the Lobby")
	alice.Send("/register")
	alice.WaitText("is now registered to your SSH key")

	// On b, while she is still on a: in use, then registered.
	intruder := b.lineKey(t, stranger, "ALICE")
	intruder.WaitText("taken by someone online")
	alice.Send("/quit")
	alice.WaitExit()
	testutil.Eventually(t, "alice registered on b, and gone", func() bool {
		id, _ := b.lobby.Whois("alice")
		return id.Registered && !id.Online
	})
	intruder.Send("alice")
	intruder.WaitText("The name alice " + lobby.RegisteredMark + " is registered, and your SSH key is not one of its keys")

	// Her key on b: Enter gives her name.
	back := b.lineKey(t, home, "")
	back.WaitText("You are in the Lobby")
	back.Send("/whois alice")
	back.WaitText("Online, with the key " + lobby.ShortFingerprint(e2e.Fingerprint(home)))
}

// TestKeysAddBadInput: what users paste into /keys add, over SSH. Each
// refusal is one sentence, and nothing is stored.
func TestKeysAddBadInput(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	home, laptop := e2e.NewKey(t), e2e.NewKey(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakKey, _ := gossh.NewPublicKey(&weak.PublicKey)
	cert := &gossh.Certificate{Key: laptop.PublicKey(), CertType: gossh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, home); err != nil {
		t.Fatal(err)
	}
	line := func(k gossh.PublicKey) string { return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k))) }

	bot := ts.lineKey(t, home, "alice")
	bot.WaitText("You are in the Lobby")
	bot.Send("/register")
	bot.WaitText("is now registered")
	for _, tc := range []struct{ paste, want string }{
		{"hello", "That is not an SSH public key: paste one line of your .pub file"},
		{line(weakKey), "That RSA key is too short: keys of at least 2048 bits are accepted"},
		{line(cert), "That is an SSH certificate: add the plain public key it certifies"},
		{"ssh-dss AAAAB3NzaC1kc3MAAACBAP1 old", "DSA keys are no longer safe"},
		{e2e.AuthorizedLine(home, ""), "That key is one of alice's keys already."},
		{strings.Repeat("A", 100<<10), "That line is over"},
	} {
		bot.Send("/keys add " + tc.paste)
		bot.WaitText(tc.want)
	}
	bot.Send("/keys")
	bot.WaitText("(1 of at most")

	// Options are ignored and the comment kept, cleaned, as the label.
	bot.Send(`/keys add no-pty,command="echo hi" ` + e2e.AuthorizedLine(laptop, "my \x1b[31mlaptop\x1b[0m"))
	bot.WaitText("Added the key " + e2e.Fingerprint(laptop))
	bot.Send("/keys")
	bot.WaitText(e2e.Fingerprint(laptop) + "  my laptop  (added ")
	if strings.Contains(bot.Output(), "\x1b") {
		t.Error("an escape sequence from a key's comment reached the client")
	}

	// A key that holds one name cannot be added to another.
	bob := ts.lineKey(t, e2e.NewKey(t), "bob")
	bob.WaitText("You are in the Lobby")
	bob.Send("/register")
	bob.WaitText("is now registered")
	bob.Send("/keys add " + e2e.AuthorizedLine(laptop, ""))
	bob.WaitText("That key holds another name already, and a key holds one name.")
}

// TestAllowedKeysAndRegistrationsCompose: --allowed-keys gates the door,
// registrations gate names.
func TestAllowedKeysAndRegistrationsCompose(t *testing.T) {
	testutil.CheckGoroutines(t)
	friend, other, stranger := e2e.NewKey(t), e2e.NewKey(t), e2e.NewKey(t)
	keys := filepath.Join(t.TempDir(), "allowed")
	if err := os.WriteFile(keys, []byte(e2e.AuthorizedLine(friend, "")+"\n"+e2e.AuthorizedLine(other, "")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(c *Config, _ *lobbyConfig) { c.AllowedKeysPath = keys })
	if _, err := e2e.DialKey(ts.addr, stranger); err == nil {
		t.Fatal("a key not allowed got in")
	}
	if _, err := e2e.DialKey(ts.addr, nil); err == nil {
		t.Fatal("a client without a key got in")
	}
	a := ts.lineKey(t, friend, "alice")
	a.WaitText("You are in the Lobby")
	a.Send("/register")
	a.WaitText("is now registered")
	a.Send("/quit")
	a.WaitExit()
	b := ts.lineKey(t, other, "alice")
	b.WaitText("your SSH key is not one of its keys")
}
