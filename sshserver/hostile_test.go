package sshserver

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/chatroom-ssh/chatroom/internal/attacks"
	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func loadAttacks(t *testing.T) []attacks.Attack {
	t.Helper()
	list, err := attacks.Load()
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// neverSent are byte sequences the TUI itself never writes once it is
// running, so seeing one in a victim's stream means an attack got through.
var neverSent = []struct{ name, seq string }{
	{"OSC", "\x1b]"}, {"DCS", "\x1bP"}, {"APC", "\x1b_"}, {"PM", "\x1b^"}, {"SOS", "\x1bX"},
	{"RIS", "\x1bc"}, {"DECALN", "\x1b#8"}, {"charset", "\x1b(0"}, {"SO", "\x0e"}, {"SI", "\x0f"},
	{"BEL", "\x07"}, {"BS", "\x08"}, {"VT", "\x0b"}, {"FF", "\x0c"}, {"NUL", "\x00"}, {"DEL", "\x7f"},
	{"DSR query", "\x1b[6n"}, {"title report", "\x1b[21t"}, {"window ops", "\x1b[8;1;1t"},
	{"conceal", "\x1b[8m"}, {"RLO", "\u202e"}, {"LRI", "\u2066"}, {"RLI", "\u2067"}, {"PDI", "\u2069"},
}

func checkInert(t *testing.T, raw []byte) {
	t.Helper()
	for _, n := range neverSent {
		if i := bytes.Index(raw, []byte(n.seq)); i >= 0 {
			t.Errorf("victim received %s at byte %d: %q", n.name, i, raw[max(0, i-40):min(len(raw), i+40)])
		}
	}
	for i := 0; i+1 < len(raw); i++ { // 8-bit C1 controls, UTF-8 encoded or raw
		if raw[i] == 0xc2 && raw[i+1] >= 0x80 && raw[i+1] <= 0x9f {
			t.Errorf("victim received C1 U+%04X at byte %d", raw[i+1], i)
		}
	}
}

func TestInjectionReachesOthersAsInertText(t *testing.T) {
	testutil.CheckGoroutines(t)
	attacks := loadAttacks(t)
	ts := startServer(t, withMaxSessions(20))
	victim := ts.creator(t, "victim", "alpha")

	victim.StartRecording()
	// Names: each attack is refused at the prompt, or is a harmless name
	// (a composed "étienne" is fine) that others then see join.
	accepted := 0
	for _, a := range attacks {
		c := ts.connectLine(t)
		c.WaitText(lobby.Prompt)
		c.Send(a.Payload)
		c.Send("/join alpha")
		c.Send("/quit")
		_ = c.Stdin.Close()
		c.WaitExit()
		switch out := c.Output(); {
		case strings.Contains(out, "You are in the Lobby"):
			accepted++
		case !strings.Contains(out, lobby.Sentence(lobby.ErrNameInvalid.Error())):
			t.Errorf("name %s: neither accepted nor explained:\n%s", a.Name, out)
		}
	}
	t.Logf("%d of %d attack payloads were acceptable names", accepted, len(attacks))

	bot := ts.lineUser(t, "mallory")
	bot.WaitText("You are in the Lobby")
	bot.Send("/join alpha")
	victim.WaitText("mallory joined alpha")

	pasted := ts.connect(t)
	pasted.Login("paster")
	pasted.TypeLine("/join alpha")
	victim.WaitText("paster joined alpha")

	for i, a := range attacks {
		// Through line mode (raw bytes), as a message and as a room name...
		bot.Send(fmt.Sprintf("L%02d %s", i, a.Payload))
		victim.WaitText(fmt.Sprintf("mallory: L%02d", i))
		bot.Send("/create " + a.Payload)
		bot.Send("/join alpha") // a harmless name makes a room, and moves the bot
		// ...and pasted into the TUI, the way a terminal user would try it.
		pasted.Emu.Paste(fmt.Sprintf("P%02d %s", i, a.Payload))
		pasted.TypeLine("")
		victim.WaitText(fmt.Sprintf("paster: P%02d", i))
	}
	bot.Send("done")
	victim.WaitText("mallory: done")
	checkInert(t, victim.Recorded())
	for _, r := range ts.lobby.Rooms() {
		if strings.ContainsAny(r.Name, "\x1b\x07\u202e") {
			t.Errorf("room created with a control in its name: %q", r.Name)
		}
	}
	if !victim.Emu.IsAltScreen() {
		t.Error("the victim's terminal left the alternate screen")
	}
}

func TestHugeLineNeitherCrashesNorStalls(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	other := ts.creator(t, "other", "alpha")

	a := ts.connect(t)
	a.Login("paster")
	a.TypeLine("/join alpha")
	other.WaitText("paster joined alpha")
	a.Emu.Paste(strings.Repeat("y", 200_000))
	a.TypeLine("")
	a.WaitText("at most 2000")
	a.TypeLine("after the paste")
	other.WaitText("paster: after the paste")

	bot := ts.lineUser(t, "bot")
	bot.Send("/join alpha")
	bot.WaitText("You are in alpha")
	bot.Send(strings.Repeat("z", 200_000))
	bot.WaitText("was not sent")
	bot.Send("still fine")
	other.WaitText("bot: still fine")
}

func TestFloodIsRefusedThenCut(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, withLobbyConfig(func(c *lobby.Config) {
		c.FloodRate, c.FloodBurst = 2, 10
	}))
	other := ts.creator(t, "other", "alpha")

	flooder := ts.lineUser(t, "flooder")
	flooder.Send("/join alpha")
	other.WaitText("flooder joined alpha")
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "flood %03d\n", i)
	}
	start := time.Now()
	_, _ = io.WriteString(flooder.Stdin, b.String())
	flooder.WaitText("Slow down")
	if code := flooder.WaitExit(); code == 0 {
		t.Fatal("a persistent flooder exited with status 0")
	}
	flooder.WaitText("Disconnected")
	other.WaitText("flooder left alpha (flooding)")
	t.Logf("flooder cut after %v", time.Since(start).Round(time.Millisecond))

	// Everyone else is still served, at once.
	third := ts.connect(t)
	third.Login("third")
	third.TypeLine("/join alpha")
	third.TypeLine("still here")
	other.WaitText("third: still here")
}

// stallProxy forwards one TCP connection, with small socket buffers, and
// can stop reading from the server: a client whose network stalled.
type stallProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	stalled bool
	resume  chan struct{}
	wg      sync.WaitGroup
	conns   []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, resume: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		down, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			down.Close()
			return
		}
		_ = up.(*net.TCPConn).SetReadBuffer(4096)
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		p.wg.Add(1)
		go func() { defer p.wg.Done(); _, _ = io.Copy(up, down); _ = up.Close() }()
		buf := make([]byte, 4096)
		for {
			p.mu.Lock()
			stalled := p.stalled
			p.mu.Unlock()
			if stalled {
				<-p.resume
			}
			n, err := up.Read(buf)
			if n > 0 {
				if _, werr := down.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = down.Close()
	}()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

func (p *stallProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	close(p.resume)
	p.wg.Wait()
}

// TestTimingStalledReaderDoesNotSlowOthers: a client that stopped reading
// costs the others nothing they can see. Its assertion is on time, so it
// runs without the race detector (.ci/run runs TestTiming... without it).
func TestTimingStalledReaderDoesNotSlowOthers(t *testing.T) {
	testutil.SkipUnderRace(t)
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	sender := ts.lineCreator(t, "sender", "alpha")

	var others []*e2e.Terminal
	for i := range 2 {
		c := ts.connectSized(t, 100, 30)
		c.Login(fmt.Sprintf("reader%d", i))
		c.TypeLine("/join alpha")
		c.WaitText(fmt.Sprintf("reader%d joined alpha", i))
		others = append(others, c)
	}
	proxy := newStallProxy(t, ts.addr)
	stuck := e2e.Connect(t, proxy.addr(), 200, 60)
	stuck.Login("stuck")
	stuck.TypeLine("/join alpha")
	stuck.WaitText("stuck joined alpha")
	proxy.stall()

	var worst time.Duration
	long := strings.Repeat("padding-to-make-frames-big ", 10)
	for i := range 150 {
		token := fmt.Sprintf("m%03d", i)
		start := time.Now()
		sender.Send(token + " " + long)
		for _, c := range others {
			c.WaitText("sender: " + token)
		}
		worst = max(worst, time.Since(start))
	}
	inAlpha := 0
	for _, r := range ts.lobby.Rooms() {
		if r.Name == "alpha" {
			inAlpha = r.Users
		}
	}
	t.Logf("worst delivery to the others with a stalled reader: %v; users left in alpha: %d of 4",
		worst.Round(time.Millisecond), inAlpha)
	if worst > time.Second {
		t.Fatalf("worst delivery %v with a stalled reader, want under 1s", worst)
	}
}

// TestStalledReaderIsCutLooseAndFreesItsSlot: once a stalled client's queue
// overflows, the lobby drops it, and its slot is free at once even though
// its program is stuck writing to it.
func TestStalledReaderIsCutLooseAndFreesItsSlot(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, withMaxSessions(2), withLobbyConfig(func(c *lobby.Config) { c.Queue = 8 }))
	sender := ts.lineCreator(t, "sender", "alpha")

	proxy := newStallProxy(t, ts.addr)
	stuck := e2e.Connect(t, proxy.addr(), 200, 60)
	stuck.Login("stuck")
	stuck.TypeLine("/join alpha")
	stuck.WaitText("stuck joined alpha")
	proxy.stall()

	// A frame of new lines is small (the renderer scrolls), so the SSH
	// window (2 MB) would take minutes to fill; a stalled client that keeps
	// resizing gets a full repaint per frame and fills it in seconds.
	long := strings.Repeat("a frame-filling line of text ", 60)
	sent := 0
	for ts.lobby.Online() == 2 {
		if sent == 2000 {
			t.Fatal("the stalled reader was never cut loose")
		}
		if err := stuck.Sess.WindowChange(60, 200-sent%2); err != nil {
			t.Fatal(err)
		}
		token := fmt.Sprintf("m%04d", sent)
		sender.Send(token + " " + long)
		sender.WaitText("sender: " + token)
		sent++
	}
	t.Logf("cut loose after %d messages", sent)
	testutil.Eventually(t, "the stalled session's slot to be free", func() bool { return ts.srv.Sessions() == 1 })
	next := ts.connect(t)
	next.WaitText(lobby.Prompt)
}

func TestPanicInOneSessionIsContained(t *testing.T) {
	testutil.CheckGoroutines(t)
	var logs testutil.LockedBuffer
	ts := startServer(t, func(c *Config, _ *lobbyConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ts.srv.sessionHook = func(sess ssh.Session) {
		if sess.User() == "boom" {
			panic("injected failure")
		}
	}
	a := ts.creator(t, "alice", "alpha")

	conn, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{User: "boom", Auth: []gossh.AuthMethod{gossh.Password("")}, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: e2e.WaitTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := sess.CombinedOutput("")
	if !strings.Contains(string(out), "has to close it") {
		t.Fatalf("the failed session was told %q", out)
	}
	testutil.Eventually(t, "the panic to be logged with the session's fields", func() bool {
		l := logs.String()
		return strings.Contains(l, "session panic") && strings.Contains(l, "user=boom") && strings.Contains(l, "injected failure")
	})
	testutil.Eventually(t, "the failed session's slot to be free", func() bool { return ts.srv.Sessions() == 1 })

	// Everyone else carries on.
	a.TypeLine("still here")
	a.WaitText("alice: still here")
	b := ts.connect(t)
	b.Login("bob")
}
