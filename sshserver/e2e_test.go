package sshserver

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestPromptAndGuestName(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.connect(t)
	a.WaitText(lobby.Prompt)
	a.TypeLine("")
	a.WaitText("Guest1")
	b := ts.connect(t)
	b.Login("")
	b.WaitText("Guest2")
}

func TestDuplicateNameIsExplainedAndPromptStays(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.connect(t)
	a.Login("alice")
	b := ts.connectSized(t, 200, 30) // a refusal on one row
	b.WaitText(lobby.Prompt)
	b.TypeLine("ALICE")
	b.WaitText(lobby.Sentence(lobby.ErrNameTaken.Error()))
	if s := b.Screen(); !strings.Contains(s, lobby.Prompt) {
		t.Fatalf("prompt went away after a taken name:\n%s", s)
	}
	clearInput := uv.KeyPressEvent{Code: 'u', Mod: uv.ModCtrl}
	b.Key(clearInput) // the refused name stays in the field, to be edited
	b.TypeLine("bad name!")
	b.WaitText(lobby.Sentence(lobby.ErrNameInvalid.Error()))
	b.Key(clearInput)
	b.TypeLine("bob")
	b.WaitGone(lobby.Prompt)
}

func TestCommandsAndRefusals(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.connect(t)
	a.Login("alice")

	steps := []struct {
		line string
		want string
	}{
		{"/list", "No rooms yet"},
		{"list", "No rooms yet"},
		{"hello?", "no chat"},
		{"/join nowhere", "There is no room named nowhere"},
		{"/leave", "You are not in a room"},
		{"/bogus", "There is no command /bogus"},
		{"/create", "Usage: /create NAME"},
		{"/create bad/name", "a room name is 1 to 32"},
		{"/create alpha", "You created alpha"},
		{"/create ALPHA", "A room named alpha already exists"},
		{"/join alpha", "You are already in alpha"},
		{"/commands", "/create NAME"},
		{"/leave", "You left room alpha"},
		{"create beta", "You created beta"},
		{"/help", "/join NAME"},
		{"/list", "beta (1 user)"},
	}
	for _, st := range steps {
		a.TypeLine(st.line)
		a.WaitFor(fmt.Sprintf("%q after %q", st.want, st.line), func(s string) bool {
			return strings.Contains(strings.ToLower(s), strings.ToLower(st.want))
		})
	}
}

func TestTwoUsersChatAndNewcomerGetsHistory(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.creator(t, "alice", "alpha")

	b := ts.connect(t)
	b.Login("bob")
	b.TypeLine("/join alpha")
	a.WaitText("bob joined alpha")
	a.TypeLine("hi bob")
	b.WaitText("alice: hi bob")
	a.WaitText("alice: hi bob") // your own lines come back to you
	b.TypeLine("hey alice 你好 🙂")
	a.WaitText("bob: hey alice 你好 🙂")

	c := ts.connect(t)
	c.Login("carol")
	c.TypeLine("/join ALPHA")
	c.WaitText("alice: hi bob") // replayed history
	c.WaitText("bob: hey alice")
	c.WaitText("history")
}

func TestSwitchingRoomsOldRoomSeesLeave(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.creator(t, "alice", "alpha")
	b := ts.creator(t, "bob", "beta")
	b.TypeLine("/join alpha")
	a.WaitText("bob joined alpha")
	b.TypeLine("/join beta")
	a.WaitText("bob left alpha")
}

func TestKeysAndMouseSwitchRooms(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.creator(t, "alice", "alpha")
	a.TypeLine("/create beta")
	a.WaitText("You created beta")
	watcher := ts.connect(t)
	watcher.Login("watcher")
	watcher.TypeLine("/join alpha")
	watcher.WaitText("watcher joined alpha")

	// Sidebar order is Lobby, alpha, beta: from beta, Ctrl+N wraps to the
	// Lobby, and Ctrl+N again goes to alpha. Each step waits for alice's own
	// status line: the watcher's screen already holds older join and leave
	// lines of alice's in alpha's history.
	ctrl := func(r rune) uv.KeyPressEvent { return uv.KeyPressEvent{Code: r, Mod: uv.ModCtrl} }
	a.Key(ctrl('n'))
	a.WaitText(" alice · Lobby · ")
	a.Key(ctrl('n'))
	a.WaitText(" alice · alpha · ")
	watcher.WaitText("alice joined alpha")
	a.Key(ctrl('p'))
	a.WaitText(" alice · Lobby · ")

	// Click "beta" in the sidebar, then "alpha".
	a.Click(sidebarEntry(t, a, "beta"))
	a.WaitText(" alice · beta · ")
	a.Click(sidebarEntry(t, a, "alpha"))
	a.WaitText(" alice · alpha · ")
}

// sidebarEntry is where a room's name stands in the sidebar (the left
// column), for clicking it: the same word elsewhere on screen does not count.
func sidebarEntry(t *testing.T, c *e2e.Terminal, room string) (x, y int) {
	t.Helper()
	for y, line := range c.Lines() {
		cells := []rune(line)
		left := string(cells[:min(len(cells), 20)])
		if i := strings.Index(left, " "+room+" "); i >= 0 {
			return len([]rune(left[:i])) + 2, y
		}
	}
	t.Fatalf("no %s in the sidebar:\n%s", room, c.Screen())
	return 0, 0
}

func TestResizeRelaysOut(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	a := ts.connectSized(t, 100, 30)
	a.Login("alice")
	a.TypeLine("/create alpha")
	a.WaitText("You created alpha")
	a.Emu.Resize(60, 20)
	if err := a.Sess.WindowChange(20, 60); err != nil {
		t.Fatal(err)
	}
	a.TypeLine("after resize")
	a.WaitText("alice: after resize")
	a.Emu.Resize(30, 8)
	if err := a.Sess.WindowChange(8, 30); err != nil {
		t.Fatal(err)
	}
	a.WaitText("too small")
	a.Emu.Resize(100, 30)
	if err := a.Sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	a.WaitText("alice: after resize")
}

func TestSessionLimitRefusesEleventh(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t, withMaxSessions(10))
	var clients []*e2e.Terminal
	for range 10 {
		c := ts.connect(t)
		c.WaitText(lobby.Prompt) // a prompt holds a slot
		clients = append(clients, c)
	}
	extra := ts.connect(t)
	extra.WaitText("Server is full: 10 of 10 sessions in use")
	if code := extra.WaitExit(); code == 0 {
		t.Fatalf("refused session exited with status 0")
	}
	// The ten are still served.
	clients[0].TypeLine("alice")
	clients[0].WaitGone(lobby.Prompt)
	// /quit ends with status 0 and frees the slot.
	clients[0].TypeLine("/quit")
	if code := clients[0].WaitExit(); code != 0 {
		t.Fatalf("/quit exited with status %d, want 0", code)
	}
	clients[0].WaitText("Goodbye")
	again := ts.connect(t)
	again.WaitText(lobby.Prompt)
}

func TestConnectionBurstNeverExceedsLimit(t *testing.T) {
	testutil.CheckGoroutines(t)
	const limit, burst = 10, 30
	ts := startServer(t, withMaxSessions(limit))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		served  []*e2e.Terminal
		refused int
	)
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e2e.TryConnect(t, ts.addr, 80, 24)
			if err != nil {
				t.Error(err)
				return
			}
			c.WaitFor("a prompt or a refusal", func(s string) bool {
				return strings.Contains(s, lobby.Prompt) || strings.Contains(s, "Server is full")
			})
			mu.Lock()
			defer mu.Unlock()
			if strings.Contains(c.Screen(), "Server is full") {
				refused++
			} else {
				served = append(served, c)
			}
		}()
	}
	wg.Wait()
	if len(served) != limit || refused != burst-limit {
		t.Fatalf("served %d and refused %d of %d, want %d and %d", len(served), refused, burst, limit, burst-limit)
	}
	if n := ts.srv.Sessions(); n != limit {
		t.Fatalf("server counts %d sessions, want %d", n, limit)
	}
}

func TestNoGoroutineOutlivesSessions(t *testing.T) {
	testutil.CheckGoroutines(t)
	ts := startServer(t)
	for i := range 5 {
		c := ts.connect(t)
		c.Login(fmt.Sprintf("user%d", i))
		c.TypeLine("/create room" + fmt.Sprint(i))
		c.WaitText("You created")
		if i%2 == 0 {
			c.TypeLine("/quit")
			c.WaitExit()
		}
		c.Close()
	}
	testutil.Eventually(t, "every session and user gone", func() bool {
		return ts.srv.Sessions() == 0 && ts.lobby.Online() == 0
	})
}
