package tui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/chatroom-ssh/chatroom/internal/attacks"
	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestPromptShowsWelcome(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 80, 24)
	if got, want := h.screen(), lobby.Prompt; !strings.Contains(got, want) {
		t.Fatalf("prompt screen = %q, want it to contain %q", got, want)
	}
	if h.m.Session() != nil {
		t.Fatalf("Session() = %v before a name, want nil", h.m.Session())
	}
}

func TestEmptyNameGivesGuest(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 80, 24)
	h.enter()
	h.waitText("You are in the Lobby, Guest1.")
	if got := h.m.Session(); got == nil || got.Name() != "Guest1" {
		t.Fatalf("Session() = %v, want the session of Guest1", got)
	}
	// The Lobby screen: command list, keys, status line.
	for _, want := range []string{"/create NAME", "/join NAME", "Ctrl+N", "Guest1 · Lobby · 1 online / 10", " Rooms", "Lobby"} {
		if !strings.Contains(h.screen(), want) {
			t.Errorf("Lobby screen lacks %q:\n%s", want, h.screen())
		}
	}
}

func TestNameRefusedInPlace(t *testing.T) {
	tests := []struct {
		name, typed, want string
	}{
		{"taken, other case", "ALICE", lobby.Sentence(lobby.ErrNameTaken.Error())},
		{"invalid", "a/b", lobby.Sentence(lobby.ErrNameInvalid.Error())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lobbytest.New(t, lobby.Config{})
			lobbytest.Register(t, l, "alice")
			h := newHarness(t, l, 200, 24) // the refusal on one row
			h.line(tt.typed)
			h.waitText(tt.want)
			if got := h.screen(); !strings.Contains(got, lobby.Prompt) || !strings.Contains(got, "> "+tt.typed) {
				t.Fatalf("after a refused name the prompt should stay with the name typed; screen:\n%s", got)
			}
			// Fix it in place and go on.
			for range tt.typed {
				h.key(tea.KeyBackspace)
			}
			h.login("carol")
		})
	}
}

func TestCreateJoinChat(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	a := newHarness(t, l, 100, 30)
	b := newHarness(t, l, 100, 30)
	a.login("alice")
	b.login("bob")

	a.line("/create alpha")
	a.waitText("You created alpha.")
	a.waitText("alice joined alpha")
	a.waitText("alice · alpha · 2 online / 10")

	b.waitText("alpha") // the sidebar learns of the room
	b.line("/join alpha")
	b.waitText("bob joined alpha")
	a.waitText("bob joined alpha")

	a.line("hi")
	for _, h := range []*harness{a, b} {
		h.waitText("alice: hi")
	}
	// Own lines are not echoed locally: exactly once on alice's screen.
	if n := strings.Count(a.screen(), "alice: hi"); n != 1 {
		t.Fatalf("alice sees %q %d times, want 1", "alice: hi", n)
	}
	// The sidebar highlights the room and counts its users.
	if got := b.screen(); !strings.Contains(got, "alpha") || !strings.Contains(got, "2 ") {
		t.Fatalf("bob's sidebar should list alpha with 2 users:\n%s", got)
	}
}

func TestHistoryIsMarked(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	alice := lobbytest.Register(t, l, "alice")
	seen := drain(t, alice)
	lobbytest.Exec(t, alice, "/create alpha")
	for i := range 3 {
		say(t, alice, seen, fmt.Sprintf("old line %d", i))
	}
	h := newHarness(t, l, 100, 30)
	h.login("bob")
	h.waitText("alpha")
	h.line("/join alpha")
	h.waitText("bob joined alpha")

	rows := rowsOf(h.screen())
	find := func(s string) int {
		for i, r := range rows {
			if strings.Contains(r, s) {
				return i
			}
		}
		t.Fatalf("no row contains %q:\n%s", s, h.screen())
		return -1
	}
	begin, hist, old, now, live := find("This is the beginning of alpha."), find("── history"), find("alice: old line 2"), find("── now"), find("bob joined alpha")
	if !(begin < hist && hist < old && old < now && now < live) {
		t.Fatalf("rows: beginning %d, history rule %d, old line %d, now rule %d, live %d; want increasing:\n%s", begin, hist, old, now, live, h.screen())
	}
	// History lines are dimmed (SGR 2), live ones are not.
	raw := rowsOf(h.m.View().Content)
	if !strings.Contains(raw[old], "\x1b[2") && !strings.Contains(raw[old], ";2m") {
		t.Errorf("history row is not faint: %q", raw[old])
	}
}

func TestWindowTooSmall(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 80, 24)
	h.login("alice")
	h.send(tea.WindowSizeMsg{Width: 30, Height: 10})
	if got, want := h.screen(), "Window too small: 30×10, need at least 40×12."; strings.Join(strings.Fields(got), " ") != want {
		t.Fatalf("screen = %q, want %q", got, want)
	}
	h.send(tea.WindowSizeMsg{Width: 40, Height: 12})
	if got := h.screen(); strings.Contains(got, "too small") || !strings.Contains(got, "alice") {
		t.Fatalf("at 40x12 the UI should draw:\n%s", got)
	}
	for i, r := range rowsOf(h.screen()) {
		if w := ansi.StringWidth(r); w > 40 {
			t.Errorf("row %d is %d cells wide at 40 columns: %q", i, w, r)
		}
	}
	if n := len(rowsOf(h.screen())); n != 12 {
		t.Errorf("screen has %d rows, want 12", n)
	}
}

func TestResizeRewraps(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	h := newHarness(t, l, 120, 30)
	h.login("alice")
	h.create("alpha")
	long := "漢字とemoji 😀 mixed with plain words that go on and on until the line is long"
	h.line(long)
	h.waitText("alice: 漢字")
	check := func(w int) {
		t.Helper()
		screen := h.screen()
		var got strings.Builder
		for i, r := range rowsOf(screen) {
			if cw := ansi.StringWidth(r); cw > w {
				t.Errorf("width %d: row %d is %d cells: %q", w, i, cw, r)
			}
			if strings.Contains(r, "alice: 漢字") || got.Len() > 0 && got.Len() < len(long)+20 {
				got.WriteString(r[strings.Index(r, "│")+len("│"):])
			}
		}
		if flat := strings.Join(strings.Fields(got.String()), ""); !strings.Contains(flat, strings.Join(strings.Fields(long), "")) {
			t.Errorf("width %d: the message is not intact across its rows:\n%s", w, screen)
		}
	}
	check(120)
	for _, w := range []int{60, 47, 41, 90} {
		h.send(tea.WindowSizeMsg{Width: w, Height: 30})
		check(w)
	}
}

func TestQuitAndCtrlC(t *testing.T) {
	tests := []struct {
		name string
		do   func(h *harness)
	}{
		{"/quit", func(h *harness) { h.line("/quit") }},
		{"ctrl+c", func(h *harness) { h.key('c', tea.ModCtrl) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lobbytest.New(t, lobby.Config{}), 80, 24)
			h.login("alice")
			tt.do(h)
			h.waitQuit()
			checkEnding(t, h.m, nil, "alice")
		})
	}
}

func TestCtrlCOnPrompt(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 80, 24)
	h.key('c', tea.ModCtrl)
	h.waitQuit()
	checkEnding(t, h.m, nil, "")
}

func TestShutdownSaysSo(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	h := newHarness(t, l, 80, 24)
	h.login("alice")
	l.Shutdown()
	h.waitQuit()
	checkEnding(t, h.m, lobby.ErrShutdown, "alice")
}

func TestTooSlowExitsWithOne(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{Queue: 4})
	h := newHarness(t, l, 80, 24)
	h.login("alice")
	h.create("alpha")
	bob := lobbytest.Register(t, l, "bob")
	seen := drain(t, bob)
	lobbytest.Exec(t, bob, "/join alpha")
	// The harness reads nothing while these arrive, like a stalled client.
	// One line at a time, so that bob (who reads) is never sent a batch
	// bigger than his own small queue.
	for i := range 20 {
		say(t, bob, seen, fmt.Sprintf("line %d", i))
	}
	h.waitQuit()
	checkEnding(t, h.m, lobby.ErrTooSlow, "alice")
}

// checkEnding checks that m ends as the lobby says a session ends for
// reason, for the user called name.
func checkEnding(t *testing.T, m *Model, reason error, name string) {
	t.Helper()
	if got, want := m.Ending(), m.lobby.Ending(reason, name); got != want {
		t.Errorf("Ending() = %+v, want %+v (for %v)", got, want, reason)
	}
}

func TestCtrlNCtrlPCycleRooms(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	other := lobbytest.Register(t, l, "zed")
	lobbytest.Exec(t, other, "/create beta")
	lobbytest.Exec(t, other, "/create alpha")
	lobbytest.Exec(t, other, "/leave")
	h := newHarness(t, l, 100, 30)
	h.login("alice")
	h.waitText("beta")
	steps := []struct {
		mod  rune
		want string
	}{
		{'n', "alice · alpha"},
		{'n', "alice · beta"},
		{'n', "alice · Lobby"},
		{'p', "alice · beta"},
		{'p', "alice · alpha"},
	}
	for _, s := range steps {
		h.key(s.mod, tea.ModCtrl)
		h.waitText(s.want)
	}
}

func TestTabFocusesSidebar(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	other := lobbytest.Register(t, l, "zed")
	lobbytest.Exec(t, other, "/create alpha")
	lobbytest.Exec(t, other, "/leave")
	h := newHarness(t, l, 100, 30)
	h.login("alice")
	h.waitText("alpha")

	h.key(tea.KeyTab)
	h.waitText("Rooms (esc: back)")
	if !strings.Contains(h.screen(), ">Lobby") {
		t.Fatalf("the cursor should start on the current room (Lobby):\n%s", h.screen())
	}
	h.key(tea.KeyDown)
	h.waitText(">alpha")
	h.enter()
	h.waitText("alice · alpha")
	if h.m.focus != focusInput {
		t.Errorf("after joining from the sidebar focus = %v, want the input", h.m.focus)
	}
	// Esc goes back to the input and changes nothing else.
	h.key(tea.KeyTab)
	h.waitText("Rooms (esc: back)")
	h.key(tea.KeyEscape)
	if h.m.focus != focusInput || !strings.Contains(h.screen(), "alice · alpha") {
		t.Fatalf("Esc should only return focus to the input:\n%s", h.screen())
	}
	// Typing while the sidebar is focused types into the input.
	h.key(tea.KeyTab)
	h.typeText("x")
	if h.m.focus != focusInput || h.m.input.Value() != "x" {
		t.Fatalf("typing in the sidebar: focus %v, input %q; want input focused holding \"x\"", h.m.focus, h.m.input.Value())
	}
}

func TestQuestionMarkHelp(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 100, 30)
	h.login("alice")
	full := "scroll a line" // only in the full help
	if strings.Contains(h.screen(), full) {
		t.Fatalf("full help shown before asked:\n%s", h.screen())
	}
	h.typeText("?")
	if !strings.Contains(h.screen(), full) || h.m.input.Value() != "" {
		t.Fatalf("? on an empty input should toggle the full help and not be typed; input %q:\n%s", h.m.input.Value(), h.screen())
	}
	h.typeText("?")
	if strings.Contains(h.screen(), full) {
		t.Fatalf("a second ? should hide the full help:\n%s", h.screen())
	}
	h.typeText("why?")
	if got := h.m.input.Value(); got != "why?" {
		t.Fatalf("? after text is a character: input = %q, want %q", got, "why?")
	}
	if strings.Contains(h.screen(), full) {
		t.Fatalf("a typed ? must not toggle the help")
	}
	h.key(tea.KeyF1)
	if !strings.Contains(h.screen(), full) {
		t.Fatalf("F1 should toggle the help even with text typed:\n%s", h.screen())
	}
}

// TestPasteKeepsItsLines: a paste of several lines is one message of
// several lines (issue 13), never a message per line.
func TestPasteKeepsItsLines(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 100, 30)
	h.login("alice")
	h.send(tea.PasteMsg{Content: "one\ntwo\r\nthree"})
	if got, want := h.m.input.Value(), "one\ntwo\nthree"; got != want {
		t.Fatalf("after a paste the input = %q, want %q", got, want)
	}
	h.m.input.Reset()
	h.key('v', tea.ModCtrl) // must not read the server's clipboard
	h.settle()
	if got := h.m.input.Value(); got != "" {
		t.Fatalf("ctrl+v put %q into the input, want nothing", got)
	}
}

func TestClickRoomJoins(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	other := lobbytest.Register(t, l, "zed")
	lobbytest.Exec(t, other, "/create alpha")
	lobbytest.Exec(t, other, "/create beta")
	lobbytest.Exec(t, other, "/leave")
	h := newHarness(t, l, 100, 30)
	h.login("alice")
	h.waitText("beta")
	y := -1
	for i, r := range rowsOf(h.screen()) {
		if strings.HasPrefix(r, " beta") {
			y = i
		}
	}
	if y < 0 {
		t.Fatalf("no sidebar row for beta:\n%s", h.screen())
	}
	h.send(tea.MouseClickMsg{X: 3, Y: y, Button: tea.MouseLeft})
	h.waitText("alice · beta")
	// A click right of the sidebar joins nothing.
	h.send(tea.MouseClickMsg{X: 40, Y: y - 1, Button: tea.MouseLeft})
	h.settle()
	if !strings.Contains(h.screen(), "alice · beta") {
		t.Fatalf("a click in the scrollback changed the room:\n%s", h.screen())
	}
}

func TestPagingOlderHistory(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{History: 10})
	alice := lobbytest.Register(t, l, "alice")
	seen := drain(t, alice)
	lobbytest.Exec(t, alice, "/create alpha")
	const lines = 45
	for i := 1; i <= lines; i++ {
		lobbytest.Exec(t, alice, fmt.Sprintf("line %02d", i))
	}
	waitLine(t, seen, fmt.Sprintf("line %02d", lines)) // stored, so it is history
	lobbytest.Exec(t, alice, "/leave")

	h := newHarness(t, l, 80, 20)
	h.login("bob")
	h.waitText("alpha")
	h.line("/join alpha")
	h.waitText("bob joined alpha")
	if strings.Contains(h.screen(), "beginning of alpha") {
		t.Fatalf("only the last page was replayed, yet the beginning is shown:\n%s", h.screen())
	}

	// Scroll up a line at a time: at the top a page is fetched, and the
	// line that was first on screen stays on its row.
	for guard := 0; !strings.Contains(h.screen(), "This is the beginning of alpha."); guard++ {
		if guard > 500 {
			t.Fatalf("never reached the beginning:\n%s", h.screen())
		}
		h.key(tea.KeyUp)
		if !h.m.sb.loading {
			continue
		}
		if !strings.Contains(h.screen(), "loading older messages") {
			t.Fatalf("no loading line while a page is fetched:\n%s", h.screen())
		}
		before := rowsOf(h.screen())
		h.waitFor("the page", func(string) bool { return !h.m.sb.loading })
		after := rowsOf(h.screen())
		// The first message line on screen keeps its row.
		for i := range before {
			if strings.Contains(before[i], "alice: line") {
				if got, want := pane(after[i]), pane(before[i]); got != want {
					t.Fatalf("view moved when the page arrived: row %d was %q, now %q\nbefore:\n%s\nafter:\n%s", i, want, got, strings.Join(before, "\n"), strings.Join(after, "\n"))
				}
				break
			}
		}
	}
	if !strings.Contains(h.screen(), "alice: line 01") {
		t.Fatalf("the first line should be on screen under the beginning marker:\n%s", h.screen())
	}
	// End returns to the live end.
	h.key(tea.KeyEnd)
	h.waitText("bob joined alpha")
}

// pane is the scrollback part of a screen row.
func pane(row string) string {
	_, after, _ := strings.Cut(row, "│")
	return after
}

// drain reads a directly registered session's events until it ends, so it
// is never dropped as too slow. It returns the chat lines it sees.
func drain(t *testing.T, s *lobby.Session) <-chan string {
	done := make(chan struct{})
	lines := make(chan string, 1024)
	go func() {
		defer close(done)
		for {
			ev, err := s.Next(context.Background())
			if err != nil {
				return
			}
			if ev.Msg != nil && ev.Msg.Kind == lobby.KindChat {
				select {
				case lines <- ev.Msg.Text:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return lines
}

// say sends a chat line and waits until it comes back, stored and delivered.
func say(t *testing.T, s *lobby.Session, seen <-chan string, text string) {
	t.Helper()
	lobbytest.Exec(t, s, text)
	waitLine(t, seen, text)
}

func waitLine(t *testing.T, seen <-chan string, text string) {
	t.Helper()
	deadline := time.After(testutil.WaitTimeout)
	for {
		select {
		case got := <-seen:
			if got == text {
				return
			}
		case <-deadline:
			t.Fatalf("%q never came back", text)
		}
	}
}

func TestWheelScrollsAndCountsNewLines(t *testing.T) {
	l := lobbytest.New(t, lobby.Config{})
	alice := lobbytest.Register(t, l, "alice")
	seen := drain(t, alice)
	lobbytest.Exec(t, alice, "/create alpha")
	for i := 1; i <= 40; i++ {
		lobbytest.Exec(t, alice, fmt.Sprintf("line %02d", i))
	}
	waitLine(t, seen, "line 40")
	h := newHarness(t, l, 80, 20)
	h.login("bob")
	h.waitText("alpha")
	h.line("/join alpha")
	h.waitText("bob joined alpha")

	h.send(tea.MouseWheelMsg{X: 40, Y: 5, Button: tea.MouseWheelUp})
	h.send(tea.MouseWheelMsg{X: 40, Y: 5, Button: tea.MouseWheelUp})
	if strings.Contains(h.screen(), "bob joined alpha") {
		t.Fatalf("wheel up did not scroll:\n%s", h.screen())
	}
	say(t, alice, seen, "while you were away")
	h.waitText("↓ 1 new")
	if strings.Contains(h.screen(), "while you were away") {
		t.Fatalf("a new line moved a scrolled-up view:\n%s", h.screen())
	}
	for range 3 {
		h.send(tea.MouseWheelMsg{X: 40, Y: 5, Button: tea.MouseWheelDown})
	}
	h.waitText("alice: while you were away")
	if strings.Contains(h.screen(), "new · End") {
		t.Fatalf("back at the bottom the new-lines count should go:\n%s", h.screen())
	}
}

// TestNoCursorBlink checks that typing and moving the focus start no timer:
// a blinking cursor would re-render every session twice a second.
func TestNoCursorBlink(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 80, 24)
	if _, cmd := h.m.Update(tea.KeyPressMsg{Code: 'a', Text: "a"}); cmd != nil {
		t.Fatalf("typing at the name prompt returned a Cmd (a blink timer?)")
	}
	h.m.prompt.name.Reset()
	h.login("alice")
	for _, k := range []tea.KeyPressMsg{{Code: tea.KeyTab}, {Code: tea.KeyTab}, {Code: 'a', Text: "a"}, {Code: tea.KeyLeft}} {
		if _, cmd := h.m.Update(k); cmd != nil {
			t.Fatalf("%s in the main screen returned a Cmd (a blink timer?)", k)
		}
	}
	if h.m.focus != focusInput {
		t.Fatalf("two Tabs left the focus at %v, want the input", h.m.focus)
	}
}

// TestAttacksRenderInert sends every known terminal attack as chat and
// checks that the receiving screen holds no escape sequence but the UI's
// own colours (SGR), and no raw control character.
func TestAttacksRenderInert(t *testing.T) {
	list, err := attacks.Load()
	if err != nil {
		t.Fatal(err)
	}
	l := lobbytest.New(t, lobby.Config{})
	alice := lobbytest.Register(t, l, "alice")
	drain(t, alice)
	lobbytest.Exec(t, alice, "/create alpha")
	h := newHarness(t, l, 100, 30)
	h.login("bob")
	h.waitText("alpha")
	h.line("/join alpha")
	h.waitText("bob joined alpha")

	sgrOnly := regexp.MustCompile("\x1b\\[[0-9;:]*m")
	n := 0
	for _, a := range list {
		name, payload := a.Name, a.Payload
		n++
		marker := fmt.Sprintf("attack %d ", n)
		lobbytest.Exec(t, alice, marker+payload)
		h.waitText("alice: " + strings.TrimSpace(marker))
		rest := sgrOnly.ReplaceAllString(h.m.View().Content, "")
		for i, r := range rest {
			if r == '\n' {
				continue
			}
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("%s: control character %U at byte %d reached the screen", name, r, i)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no attacks read")
	}
}

func TestPasteOverTheLimitIsRefusedNotCut(t *testing.T) {
	h := newHarness(t, lobbytest.New(t, lobby.Config{}), 100, 30)
	h.login("alice")
	h.send(tea.PasteMsg{Content: strings.Repeat("y", lobby.MaxMessageLen+1)})
	if v := h.m.input.Value(); v != "" {
		t.Fatalf("input holds %d characters after an overlong paste, want none", len(v))
	}
	if s := h.screen(); !strings.Contains(s, "That paste is 2001 characters long") {
		t.Fatalf("no notice for an overlong paste:\n%s", s)
	}
	h.send(tea.PasteMsg{Content: "fits"})
	if v := h.m.input.Value(); v != "fits" {
		t.Fatalf("input %q after a short paste, want %q", v, "fits")
	}
}

func TestOptionsLocation(t *testing.T) {
	zone := time.FixedZone("UTC+10", 10*3600)
	if m := New(Options{Lobby: lobbytest.New(t, lobby.Config{}), Location: zone}); m.sb.loc != zone {
		t.Errorf("the scrollback shows times in %v, want %v", m.sb.loc, zone)
	}
	if m := New(Options{Lobby: lobbytest.New(t, lobby.Config{})}); m.sb.loc != time.Local {
		t.Errorf("by default the scrollback shows times in %v, want the server's", m.sb.loc)
	}
}

func TestPromptTimesOut(t *testing.T) {
	m := New(Options{Lobby: lobbytest.New(t, lobby.Config{}), PromptTimeout: time.Millisecond})
	if m.Init() == nil {
		t.Fatal("no prompt deadline started")
	}
	_, cmd := m.Update(promptTimeoutMsg{})
	if cmd == nil {
		t.Fatal("the prompt timed out and the program goes on")
	}
	checkEnding(t, m, lobby.ErrPromptTimeout, "")
}

func TestOthersPresenceLinesAreHeldBackAndKeepOrder(t *testing.T) {
	m := New(Options{Lobby: lobbytest.New(t, lobby.Config{}), Width: 100, Height: 30})
	m.screen, m.me = screenMain, "alice"
	m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventEntered, Room: "alpha"}}})
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	sys := func(who, text string) tea.Msg {
		return eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: &lobby.Message{Room: "alpha", From: who, Kind: lobby.KindSystem, Text: text, At: at}}}}
	}
	chat := func(who, text string) tea.Msg {
		return eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: &lobby.Message{Room: "alpha", From: who, Kind: lobby.KindChat, Text: text, At: at}}}}
	}
	screen := func() string { return ansi.Strip(m.View().Content) }

	if _, cmd := m.Update(sys("alice", "alice joined alpha")); cmd != nil || !strings.Contains(screen(), "alice joined alpha") {
		t.Fatal("your own join line was held back")
	}
	_, cmd := m.Update(sys("bob", "bob joined alpha"))
	if cmd == nil {
		t.Fatal("no flush was scheduled for a held-back line")
	}
	m.Update(sys("carol", "carol joined alpha"))
	if s := screen(); strings.Contains(s, "bob joined") || strings.Contains(s, "carol joined") {
		t.Fatalf("others' join lines shown at once, before the flush:\n%s", s)
	}
	m.Update(presenceFlushMsg{})
	if s := screen(); !strings.Contains(s, "bob joined") || !strings.Contains(s, "carol joined") {
		t.Fatalf("held-back lines missing after the flush:\n%s", s)
	}
	// A chat line brings pending presence lines out first, in order.
	m.Update(sys("dave", "dave joined alpha"))
	m.Update(chat("dave", "hello"))
	s := screen()
	if i, j := strings.Index(s, "dave joined"), strings.Index(s, "dave: hello"); i < 0 || j < 0 || i > j {
		t.Fatalf("join line not shown before the chat line that followed it:\n%s", s)
	}
}

// TestEventBatch covers one read of the queue carrying a burst: handled in
// order in one Update, and a burst of others' joins alone leaves the frame
// as it was (Bubble Tea asks for the view after every message).
func TestEventBatch(t *testing.T) {
	m := New(Options{Lobby: lobbytest.New(t, lobby.Config{}), Width: 100, Height: 30})
	m.screen, m.me = screenMain, "alice"
	m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventEntered, Room: "alpha"}}})
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	msg := func(kind lobby.Kind, who, text string) lobby.Event {
		return lobby.Event{Kind: lobby.EventMessage, Msg: &lobby.Message{Room: "alpha", From: who, Kind: kind, Text: text, At: at}}
	}
	before := m.View().Content

	var joins []lobby.Event
	for i := range 10 {
		joins = append(joins, msg(lobby.KindSystem, fmt.Sprint("user", i), fmt.Sprintf("user%d joined alpha", i)))
	}
	if _, cmd := m.Update(eventMsg{evs: joins}); cmd == nil {
		t.Fatal("no presence flush scheduled for the held-back joins")
	}
	if after := m.View().Content; after != before || unsafe.StringData(after) != unsafe.StringData(before) {
		t.Fatal("a burst of held-back joins rebuilt the frame")
	}

	m.Update(eventMsg{evs: []lobby.Event{
		msg(lobby.KindChat, "bob", "first"),
		msg(lobby.KindSystem, "carol", "carol joined alpha"),
		msg(lobby.KindChat, "carol", "second"),
	}})
	s := ansi.Strip(m.View().Content)
	last := -1
	for _, want := range []string{"user0 joined", "user9 joined", "bob: first", "carol joined", "carol: second"} {
		i := strings.Index(s, want)
		if i < last {
			t.Fatalf("%q missing or out of order:\n%s", want, s)
		}
		last = i
	}
}

// TestTitleRow covers the row above the scrollback: where you are and how
// many are there, cut to fit.
func TestTitleRow(t *testing.T) {
	rooms := []lobby.RoomInfo{{Name: "alpha", Users: 3}, {Name: "a-rather-long-room-name", Users: 12}}
	tests := []struct {
		name string
		w, h int
		room string
		want string // the title row's text after the sidebar
	}{
		{name: "in a room", w: 100, h: 30, room: "alpha", want: "alpha · 3 here"},
		{name: "in the Lobby", w: 100, h: 30, room: "", want: "Lobby · 5 here"},
		{name: "narrow: the count goes first", w: 40, h: 30, room: "a-rather-long-room-name", want: "a-rather-long-room-name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Options{Lobby: lobbytest.New(t, lobby.Config{}), Width: tc.w, Height: tc.h})
			m.screen, m.me = screenMain, "alice"
			m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventEntered, Room: tc.room}, {Kind: lobby.EventRoomsChanged}}, rooms: rooms, online: 20})
			first := strings.Split(ansi.Strip(m.View().Content), "\n")[0]
			got := strings.TrimSpace(first[strings.Index(first, "│")+len("│"):])
			if got != tc.want {
				t.Fatalf("title row = %q, want %q (row: %q)", got, tc.want, first)
			}
		})
	}
}
