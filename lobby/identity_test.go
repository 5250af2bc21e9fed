package lobby

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fp is a made-up fingerprint for key number n.
func fp(n int) string { return fmt.Sprintf("SHA256:%043d", n) }

// fakeParseKey stands in for the SSH layer's parser: "key N comment" is
// key number N.
func fakeParseKey(line string) (string, string, error) {
	f := strings.Fields(line)
	var n int
	if len(f) < 2 || f[0] != "key" {
		return "", "", errors.New("that is not an SSH public key")
	}
	if _, err := fmt.Sscan(f[1], &n); err != nil {
		return "", "", errors.New("that is not an SSH public key")
	}
	return fp(n), strings.Join(f[2:], " "), nil
}

// identityLobby is a lobby that reads keys with fakeParseKey.
func identityLobby(t *testing.T, cfg Config) *Lobby {
	t.Helper()
	if cfg.ParseKey == nil {
		cfg.ParseKey = fakeParseKey
	}
	return newLobby(t, cfg)
}

// openKeyed opens a session presenting the key with fingerprint key ("" for
// none).
func openKeyed(t *testing.T, l *Lobby, key string) *Session {
	t.Helper()
	s, err := l.Open(context.Background(), Visitor{Key: key, Addr: "192.0.2.1:1234"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// signIn opens a session with key and claims name, failing the test if it
// is refused, and reads the first event.
func signIn(t *testing.T, l *Lobby, key, name string) *Session {
	t.Helper()
	s := openKeyed(t, l, key)
	if err := s.Claim(context.Background(), name); err != nil {
		t.Fatalf("Claim(%q) with key %q: %v", name, key, err)
	}
	entered(t, s, "")
	return s
}

// registered signs in with key as name and registers the name.
func registered(t *testing.T, l *Lobby, key, name string) *Session {
	t.Helper()
	s := signIn(t, l, key, name)
	exec(t, s, "/register")
	notice(t, s, false, "is now registered to your SSH key "+key)
	return s
}

func TestRegisterAndClaim(t *testing.T) {
	ctx := context.Background()
	l := identityLobby(t, Config{})
	alice := registered(t, l, fp(1), "Alice")
	exec(t, alice, "/keys")
	ev := notice(t, alice, false, "Keys of Alice "+RegisteredMark)
	if !strings.Contains(ev.Text, fp(1)) || !strings.Contains(ev.Text, "this session") {
		t.Errorf("/keys = %q, want the key of this session", ev.Text)
	}
	alice.Close()
	barrier(t, l)

	// Refused to everyone else, spelled any way that matches.
	for _, tc := range []struct {
		key, name string
		keyless   bool
	}{
		{fp(2), "Alice", false},
		{fp(2), "alice", false},
		{fp(2), "ALICE", false},
		{fp(2), "a1ice", false}, // digit one for l
		{fp(2), "aIice", false}, // capital I for l
		{"", "alice", true},
	} {
		s := openKeyed(t, l, tc.key)
		err := s.Claim(ctx, tc.name)
		if !errors.Is(err, ErrNameRegistered) {
			t.Fatalf("Claim(%q) with key %q = %v, want ErrNameRegistered", tc.name, tc.key, err)
		}
		if want := "Alice " + RegisteredMark + " is registered"; !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
		if got := strings.Contains(err.Error(), "without an SSH key"); got != tc.keyless {
			t.Errorf("refusal %q: mentions no key %v, want %v", err, got, tc.keyless)
		}
		// The prompt stays: another name is fine.
		if err := s.Claim(ctx, "bob"); err != nil {
			t.Fatalf("Claim(bob) after a refusal: %v", err)
		}
		s.Close()
		barrier(t, l)
	}

	// The owner's key: the name as registered, typed any way, or on Enter.
	if got := signIn(t, l, fp(1), "alice").Name(); got != "Alice" {
		t.Errorf("owner typing alice got %q, want Alice as registered", got)
	}
	// A second session of the same key while the first is online: in use.
	s := openKeyed(t, l, fp(1))
	if got := s.HeldName(); got != "Alice" {
		t.Errorf("HeldName() = %q, want Alice", got)
	}
	if err := s.Claim(ctx, ""); !errors.Is(err, ErrNameTaken) {
		t.Errorf("Enter for a held name in use = %v, want ErrNameTaken", err)
	}
	if got := openKeyed(t, l, fp(2)).HeldName(); got != "" {
		t.Errorf("HeldName() of another key = %q", got)
	}
	if got := openKeyed(t, l, "").HeldName(); got != "" {
		t.Errorf("HeldName() without a key = %q", got)
	}
}

func TestEnterGivesTheHeldName(t *testing.T) {
	ctx := context.Background()
	l := identityLobby(t, Config{})
	alice := registered(t, l, fp(1), "alice")
	alice.Close()
	barrier(t, l)
	s := openKeyed(t, l, fp(1))
	if err := s.Claim(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := s.Name(); got != "alice" {
		t.Errorf("Enter with alice's key gave %q", got)
	}
	// Another key, or none, still gets a guest name.
	if got := signIn(t, l, fp(2), "").Name(); !strings.HasPrefix(got, "Guest") {
		t.Errorf("Enter with another key gave %q", got)
	}
}

// TestIdentityRefusals: every refusal of the identity commands, each a
// notice that changes nothing.
func TestIdentityRefusals(t *testing.T) {
	tests := []struct {
		name     string
		key      string                                // of the session that types line
		as       string                                // its name
		setup    func(t *testing.T, l *Lobby) *Session // the session to type line, if it makes it
		noParser bool
		line     string
		want     string
	}{
		{name: "register without a key", key: "", as: "alice", line: "/register", want: "without an SSH key"},
		{name: "register a guest name", key: fp(1), as: "", line: "/register", want: "Guest names such as Guest1 cannot be registered"},
		{name: "register a hand-typed guest name", key: fp(1), as: "GUEST7", line: "/register", want: "cannot be registered"},
		{name: "register a guest look-alike", key: fp(1), as: "Guestl", line: "/register", want: "cannot be registered"},
		{name: "register twice", setup: aliceRegistered, line: "/register", want: "registered to your key already"},
		{name: "register another name", key: fp(1), as: "alice", line: "/register bob", want: "it takes no other"},
		{name: "one key, two names", key: fp(1), as: "carol", setup: func(t *testing.T, l *Lobby) *Session {
			registered(t, l, fp(1), "bob").Close()
			return nil
		}, line: "/register", want: "Your SSH key holds the name bob already"},

		{name: "unregister unregistered", key: fp(1), as: "alice", line: "/unregister", want: "alice is not registered"},
		{name: "keys add unregistered", key: fp(1), as: "alice", line: "/keys add key 2", want: "alice is not registered"},
		{name: "keys remove unregistered", key: fp(1), as: "alice", line: "/keys remove " + fp(1), want: "alice is not registered"},
		{name: "keys add nothing", setup: aliceRegistered, line: "/keys add", want: "Usage: /keys add"},
		{name: "keys add garbage", setup: aliceRegistered, line: "/keys add hello there", want: "That is not an SSH public key."},
		{name: "keys add own key", setup: aliceRegistered, line: "/keys add key 1", want: "one of alice's keys already"},
		{name: "keys add another name's key", setup: func(t *testing.T, l *Lobby) *Session {
			registered(t, l, fp(9), "bob").Close()
			return aliceRegistered(t, l)
		}, line: "/keys add key 9", want: "That key holds another name already"},
		{name: "keys add past the limit", setup: func(t *testing.T, l *Lobby) *Session {
			s := aliceRegistered(t, l)
			for i := 2; i <= MaxKeys; i++ {
				exec(t, s, fmt.Sprintf("/keys add key %d", i))
				notice(t, s, false, "Added the key")
			}
			return s
		}, line: "/keys add key 99", want: "the most a name may have"},
		{name: "keys add without a parser", setup: aliceRegistered, noParser: true, line: "/keys add key 2", want: "cannot read keys"},
		{name: "keys remove nothing", setup: aliceRegistered, line: "/keys remove", want: "Usage: /keys remove"},
		{name: "keys remove unknown", setup: aliceRegistered, line: "/keys remove SHA256:nope", want: "alice has no key SHA256:nope"},
		{name: "keys remove the last", setup: aliceRegistered, line: "/keys remove " + fp(1), want: "the only key of alice"},
		{name: "keys unknown", setup: aliceRegistered, line: "/keys frobnicate", want: "Usage: /keys"},
		{name: "unregister by a removed key", setup: func(t *testing.T, l *Lobby) *Session {
			s := aliceRegistered(t, l)
			exec(t, s, "/keys add key 2")
			notice(t, s, false, "Added the key")
			exec(t, s, "/keys remove "+fp(1))
			notice(t, s, false, "Removed the key")
			return s
		}, line: "/unregister", want: "not one of alice's keys any more"},
		{name: "whois nothing", key: fp(1), as: "alice", line: "/whois", want: "Usage: /whois NAME"},
		{name: "whois invalid", key: fp(1), as: "alice", line: "/whois no body!", want: "not a valid name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{ParseKey: fakeParseKey, FloodRate: -1}
			if tc.noParser {
				cfg.ParseKey = nil
			}
			l := newLobby(t, cfg)
			var s *Session
			if tc.setup != nil {
				s = tc.setup(t, l)
			}
			if s == nil {
				s = signIn(t, l, tc.key, tc.as)
			}
			before := snapshot(l)
			exec(t, s, tc.line)
			notice(t, s, true, tc.want)
			barrier(t, l)
			quiet(t, s)
			if after := snapshot(l); after != before {
				t.Errorf("a refusal changed the registrations:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// aliceRegistered signs in as alice with key 1 and registers the name.
func aliceRegistered(t *testing.T, l *Lobby) *Session {
	t.Helper()
	return registered(t, l, fp(1), "alice")
}

// snapshot describes every registration, its keys and settings.
func snapshot(l *Lobby) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l.regs)) {
		r := l.regs[k]
		fmt.Fprintf(&b, "%s=%s%v%v;", k, r.name, r.keys, r.settings)
	}
	fmt.Fprintf(&b, " keys %d", len(l.keyNames))
	return b.String()
}

func TestSecondKeyAndRemoval(t *testing.T) {
	ctx := context.Background()
	l := identityLobby(t, Config{})
	alice := registered(t, l, fp(1), "alice")
	exec(t, alice, "/keys add  key 2   laptop  \x1b[31mred\x1b[0m")
	notice(t, alice, false, "Added the key "+fp(2)+" to alice")
	exec(t, alice, "/keys")
	ev := notice(t, alice, false, "(2 of at most")
	if !strings.Contains(ev.Text, fp(2)+"  laptop red  (added 2026-03-14)") {
		t.Errorf("/keys = %q, want the second key with its cleaned label", ev.Text)
	}
	alice.Close()
	barrier(t, l)

	// The second machine: Enter gives the name.
	second := openKeyed(t, l, fp(2))
	if err := second.Claim(ctx, ""); err != nil || second.Name() != "alice" {
		t.Fatalf("Enter with the second key: %q, %v", second.Name(), err)
	}
	entered(t, second, "")
	// From it, the first key is removed, and no longer works.
	exec(t, second, "/keys remove "+strings.TrimPrefix(fp(1), "SHA256:"))
	notice(t, second, false, "Removed the key "+fp(1)+" from alice: it no longer holds the name")
	second.Close()
	barrier(t, l)
	first := openKeyed(t, l, fp(1))
	if err := first.Claim(ctx, "alice"); !errors.Is(err, ErrNameRegistered) {
		t.Fatalf("a removed key claimed alice: %v", err)
	}
	if got := first.HeldName(); got != "" {
		t.Errorf("HeldName() of a removed key = %q", got)
	}
}

func TestUnregisterLetsTheNameGo(t *testing.T) {
	ctx := context.Background()
	l := identityLobby(t, Config{})
	alice := registered(t, l, fp(1), "alice")
	if err := alice.SetSetting(ctx, "tz", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	exec(t, alice, "/unregister")
	notice(t, alice, false, "alice is no longer registered")
	if _, ok := alice.Setting("tz"); ok {
		t.Error("a setting outlived the registration")
	}
	alice.Close()
	barrier(t, l)
	// Anyone may take it now, and the key holds nothing.
	signIn(t, l, fp(2), "alice").Close()
	barrier(t, l)
	s := openKeyed(t, l, fp(1))
	if got := s.HeldName(); got != "" {
		t.Errorf("HeldName() after unregister = %q", got)
	}
	if err := s.Claim(ctx, ""); err != nil || !strings.HasPrefix(s.Name(), "Guest") {
		t.Errorf("Enter after unregister: %q, %v", s.Name(), err)
	}
	if snap := snapshot(l); snap != " keys 0" {
		t.Errorf("registrations left: %s", snap)
	}
}

func TestWhois(t *testing.T) {
	l := identityLobby(t, Config{})
	root := openKeyedOp(t, l, fp(7))
	if err := root.Claim(context.Background(), "root"); err != nil {
		t.Fatal(err)
	}
	entered(t, root, "")
	alice := registered(t, l, fp(1), "alice")
	guest := signIn(t, l, "", "bob")
	registered(t, l, fp(3), "carol").Close()
	barrier(t, l)
	tests := []struct {
		name  string
		wants []string
	}{
		{"alice", []string{"alice " + RegisteredMark + " is registered (since 2026-03-14, 1 key).", "Online, with the key " + ShortFingerprint(fp(1)) + "."}},
		{"ALICE", []string{"alice " + RegisteredMark + " is registered"}},
		{"a1ice", []string{"alice " + RegisteredMark + " is registered"}},
		{"bob", []string{"bob is not registered.", "Online, without an SSH key."}},
		{"carol", []string{"carol " + RegisteredMark + " is registered", "Not online."}},
		{"root", []string{"root is not registered.", "Online, with the key " + ShortFingerprint(fp(7)), "A server operator."}},
		{"dave", []string{"Nobody is called dave"}},
	}
	for _, tc := range tests {
		exec(t, guest, "/whois "+tc.name)
		ev := notice(t, guest, false, tc.wants[0])
		for _, w := range tc.wants[1:] {
			if !strings.Contains(ev.Text, w) {
				t.Errorf("/whois %s = %q, want %q", tc.name, ev.Text, w)
			}
		}
		if tc.name != "root" && strings.Contains(ev.Text, "operator") {
			t.Errorf("/whois %s = %q names an operator", tc.name, ev.Text)
		}
	}
	if len(ShortFingerprint(fp(1))) != len("SHA256:")+12 {
		t.Errorf("ShortFingerprint = %q", ShortFingerprint(fp(1)))
	}
	id, ok := l.Whois("Alice")
	if !ok || !id.Registered || !id.Online || id.Key != fp(1) || !id.KeyHolds || id.Operator || id.Keys != 1 {
		t.Errorf("Whois(Alice) = %+v, %v", id, ok)
	}
	if !root.Operator() || alice.Operator() {
		t.Error("Operator() wrong")
	}
	if alice.Key() != fp(1) || guest.Key() != "" {
		t.Error("Key() wrong")
	}
}

// openKeyedOp opens a server operator's session.
func openKeyedOp(t *testing.T, l *Lobby, key string) *Session {
	t.Helper()
	s, err := l.Open(context.Background(), Visitor{Key: key, Operator: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestGuestNumbersSkipRegisteredNames(t *testing.T) {
	l := identityLobby(t, Config{})
	// Guest2 is typed by hand, so it cannot be registered; a look-alike of
	// Guest3 cannot either. So the guest numbers are never held by keys.
	for _, name := range []string{"Guest2", "Guest3", "GUEST4", "Guest5", "Guest1O"} {
		s := signIn(t, l, fp(len(name)), name)
		exec(t, s, "/register")
		notice(t, s, true, "cannot be registered")
		s.Close()
	}
	for _, name := range []string{"Guest7", "Guest12", "guest0", "GuestI", "GUESTIO", "Guest", "Guests1", "Guesti"} {
		if want := name != "Guest" && name != "Guests1" && name != "Guesti"; guestLike(name) != want {
			t.Errorf("guestLike(%q) = %v, want %v", name, !want, want)
		}
	}
}

func TestRegistrationSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	l := identityLobby(t, Config{Store: store})
	alice := registered(t, l, fp(1), "alice")
	exec(t, alice, "/keys add key 2 laptop")
	notice(t, alice, false, "Added the key")
	if err := alice.SetSetting(ctx, "tz", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	if err := alice.SetSetting(ctx, "read/alpha", "42"); err != nil {
		t.Fatal(err)
	}
	if err := alice.SetSetting(ctx, "read/alpha", ""); err != nil {
		t.Fatal(err)
	}
	bob := registered(t, l, fp(3), "bob")
	if err := bob.SetSetting(ctx, "bell", "off"); err != nil {
		t.Fatal(err)
	}
	exec(t, bob, "/unregister")
	notice(t, bob, false, "no longer registered")
	before := snapshot(l)
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}

	l2 := identityLobby(t, Config{Store: store})
	if after := snapshot(l2); after != before {
		t.Fatalf("after a restart:\n%s\nwant\n%s", after, before)
	}
	s := signIn(t, l2, fp(2), "")
	if s.Name() != "alice" {
		t.Fatalf("the second key's Enter after a restart gave %q", s.Name())
	}
	if v, _ := s.Setting("tz"); v != "Europe/Paris" {
		t.Errorf("tz after a restart = %q", v)
	}
	if _, ok := s.Setting("read/alpha"); ok {
		t.Error("a removed setting came back")
	}
	if v, ok := l2.Setting("ALICE", "tz"); !ok || v != "Europe/Paris" {
		t.Errorf("Lobby.Setting = %q, %v", v, ok)
	}
	if err := openKeyed(t, l2, fp(9)).Claim(ctx, "alice"); !errors.Is(err, ErrNameTaken) {
		t.Errorf("alice claimed by another key while online: %v", err)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	l := identityLobby(t, Config{})
	alice := registered(t, l, fp(1), "alice")
	guest := signIn(t, l, "", "bob")
	for _, s := range []*Session{alice, guest} {
		if err := s.SetSetting(ctx, "bell", "off"); err != nil {
			t.Fatal(err)
		}
		if v, ok := s.Setting("bell"); !ok || v != "off" {
			t.Errorf("%s: Setting(bell) = %q, %v", s.Name(), v, ok)
		}
		for _, bad := range [][2]string{
			{"", "x"},
			{"a b", "x"},
			{"a\x1b", "x"},
			{strings.Repeat("k", MaxSettingKey+1), "x"},
			{"k", strings.Repeat("v", MaxSettingValue+1)},
			{"k", "\xff"},
		} {
			if err := s.SetSetting(ctx, bad[0], bad[1]); !errors.Is(err, ErrSettingInvalid) {
				t.Errorf("%s: SetSetting(%q, %q) = %v, want ErrSettingInvalid", s.Name(), bad[0], bad[1], err)
			}
		}
	}
	// A guest's settings are the session's own; a registered name's are
	// the name's, on any of its keys.
	if _, ok := l.Setting("bob", "bell"); ok {
		t.Error("a guest's setting is kept for the name")
	}
	if v, ok := l.Setting("alice", "bell"); !ok || v != "off" {
		t.Errorf("alice's bell = %q, %v", v, ok)
	}
	for i := range MaxSettings - 1 {
		if err := alice.SetSetting(ctx, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.SetSetting(ctx, "one-too-many", "v"); !errors.Is(err, ErrSettingInvalid) {
		t.Errorf("setting %d = %v, want ErrSettingInvalid", MaxSettings+1, err)
	}
	if err := alice.SetSetting(ctx, "k0", "changed"); err != nil {
		t.Errorf("changing a setting at the limit: %v", err)
	}
}

// TestOneKeyTwoNamesRace: two sessions with one key register two names at
// once; the log's order gives the key to one of them only.
func TestOneKeyTwoNamesRace(t *testing.T) {
	for range 20 {
		l := identityLobby(t, Config{})
		a := signIn(t, l, fp(1), "alice")
		b := signIn(t, l, fp(1), "bob")
		var wg sync.WaitGroup
		for _, s := range []*Session{a, b} {
			wg.Go(func() {
				if err := s.Exec(context.Background(), "/register"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		barrier(t, l)
		won := 0
		for _, s := range []*Session{a, b} {
			ev := next(t, s)
			if strings.Contains(ev.Text, "is now registered") {
				won++
			} else if !strings.Contains(ev.Text, "Your SSH key holds the name") {
				t.Fatalf("%s: %s", s.Name(), describe(ev))
			}
		}
		if won != 1 {
			t.Fatalf("%d registrations with one key", won)
		}
	}
}
