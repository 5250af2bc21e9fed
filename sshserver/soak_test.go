package sshserver

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"

	"github.com/chatroom-ssh/chatroom/internal/e2e"
	"github.com/chatroom-ssh/chatroom/internal/testutil"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// The soak test runs briefly by default; for a long run:
//
//	go test -race -run Soak ./sshserver/ -soak=10m [-soakseed=N]
var (
	soakFor  = flag.Duration("soak", 0, "run the soak test this long (default: a short run)")
	soakSeed = flag.Uint64("soakseed", 0, "seed for the soak test's random actions (default: from the clock)")
)

const (
	soakShort = 8 * time.Second
	soakPTYs  = 4 // PTY users acting at once
	soakLines = 3 // line-mode users acting at once
)

// Witnessed rooms have a line-mode witness sitting in them for the whole
// run; the spare ones are created by the actors and watched only by
// whichever line-mode actors happen to be in them.
var (
	soakWitnessed = []string{"alpha", "beta", "gamma"}
	soakSpare     = []string{"delta", "epsilon"}
)

// soakPost is one chat line an actor sent and saw come back.
type soakPost struct {
	from, room, token string
	sent, seen        time.Time // before sending; once the echo was seen
}

// soakStay is a line-mode client's time in a room: from once it saw that
// it was in, to before it asked to leave. Every line posted in between must
// reach it.
type soakStay struct {
	conn     int
	room     string
	from, to time.Time
}

// soakRun is the shared record of one soak run.
type soakRun struct {
	t    *testing.T
	ts   *testServer
	seed uint64
	end  time.Time
	stop atomic.Bool

	mu      sync.Mutex // guards every field below
	posts   []soakPost
	stays   []soakStay
	seen    map[int]map[string]bool // conn → tokens it received live
	names   map[int]string
	errs    []string
	actions map[string]int
	conns   int
}

// TestSoakRandomUsers has PTY and line-mode users doing random things for a
// while, and checks that no line is lost or reordered, nobody is cut off,
// the server logs no warning, and nothing is left running afterwards.
func TestSoakRandomUsers(t *testing.T) {
	run := *soakFor
	if run <= 0 {
		run = soakShort
	}
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak for %v, seed %d (rerun with -soakseed %d)", run, seed, seed)

	warn := &warnings{}
	ts := startServer(t, withMaxSessions(32), func(c *Config, lc *lobbyConfig) {
		log := slog.New(&warnCatcher{next: c.Logger.Handler(), into: warn})
		c.Logger, lc.Logger = log, log
	})

	// Warm-up, so that what is made once per process is in the baseline.
	if err := runScoped(t, func(st *scopedT) { soakWarmUp(st, ts) }); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	testutil.Eventually(t, "the warm-up sessions to end", func() bool {
		return ts.srv.Sessions() == 0 && ts.lobby.Online() == 0
	})
	baseG, baseF := settledGoroutines(), fdCount()
	t.Logf("baseline: %d goroutines, %d fds", baseG, baseF)

	r := &soakRun{
		t: t, ts: ts, seed: seed,
		seen: make(map[int]map[string]bool), names: make(map[int]string), actions: make(map[string]int),
	}
	var acted time.Duration
	if err := runScoped(t, func(st *scopedT) { acted = r.runWithWitnesses(st, run) }); err != nil {
		t.Fatal(err)
	}

	r.mu.Lock()
	for _, e := range r.errs {
		t.Error(e)
	}
	if len(r.errs) > 0 {
		r.mu.Unlock()
		t.FailNow()
	}
	checked, perRoom := r.checkDeliveries()
	var acts []string
	for _, a := range slices.Sorted(maps.Keys(r.actions)) {
		acts = append(acts, fmt.Sprintf("%s %d", a, r.actions[a]))
	}
	t.Logf("%d users over %v: %d sessions, %d lines posted (%s), %d deliveries to line-mode clients checked; actions: %s",
		soakPTYs+soakLines, acted.Round(time.Millisecond), r.conns, len(r.posts), perRoom, checked, strings.Join(acts, ", "))
	r.mu.Unlock()

	if w := warn.list(); len(w) > 0 {
		t.Errorf("the server logged %d warnings or errors; first: %s", len(w), strings.Join(w[:min(len(w), 5)], "\n"))
	}
	testutil.Eventually(t, "every session and user gone", func() bool {
		return ts.srv.Sessions() == 0 && ts.lobby.Online() == 0
	})
	g, f := waitBaseline(t, baseG, baseF)
	t.Logf("after: %d goroutines (baseline %d), %d fds (baseline %d)", g, baseG, f, baseF)
}

// checkDeliveries checks that every line reached every line-mode client
// that was in its room from before it was sent until after its echo came
// back. r.mu must be held.
// soakWarmUp runs one PTY and one line-mode session to their end.
func soakWarmUp(t testing.TB, ts *testServer) {
	pty := connectPTY(t, ts.addr)
	pty.Login("warm")
	pty.TypeLine("/quit")
	pty.WaitExit()
	hangUp(pty)
	line := e2e.ConnectLine(t, ts.addr)
	line.WaitText(lobby.Prompt)
	line.Send("warm2")
	line.Send("/quit")
	line.WaitExit()
}

// runWithWitnesses sits a witness in each witnessed room, runs the actors
// for d, then lets the witnesses go, and returns how long the actors ran.
func (r *soakRun) runWithWitnesses(t testing.TB, d time.Duration) time.Duration {
	type witness struct {
		c    *e2e.Line
		conn int
		room string
		from time.Time
	}
	var witnesses []witness
	for _, room := range soakWitnessed {
		c := e2e.ConnectLine(t, r.ts.addr)
		c.WaitText(lobby.Prompt)
		c.Send("w-" + room)
		c.Send("/create " + room) // the witnesses make the witnessed rooms
		c.WaitText("You are in " + room + ".")
		witnesses = append(witnesses, witness{c, r.newConn("w-" + room), room, time.Now()})
	}

	start := time.Now()
	r.end = start.Add(d)
	var wg sync.WaitGroup
	for i := range soakPTYs + soakLines {
		wg.Go(func() { r.actor(i, i < soakPTYs) })
	}
	wg.Wait()
	acted := time.Since(start)

	for _, w := range witnesses {
		r.addStay(w.conn, w.room, w.from, time.Now())
		w.c.Send("/quit")
		if code := w.c.WaitExit(); code != 0 {
			t.Errorf("witness in %s: exit status %d, want 0", w.room, code)
		}
		r.snapshot(w.conn, w.c.Output())
	}
	return acted
}

func (r *soakRun) checkDeliveries() (checked int, perRoom string) {
	byRoom := map[string][]soakStay{}
	for _, s := range r.stays {
		byRoom[s.room] = append(byRoom[s.room], s)
	}
	count := map[string]int{}
	for _, p := range r.posts {
		count[p.room]++
		for _, s := range byRoom[p.room] {
			if !s.from.Before(p.sent) || !p.seen.Before(s.to) {
				continue
			}
			checked++
			if !r.seen[s.conn][p.token] {
				r.t.Errorf("lost line: %s posted %q in %s (sent %v, echoed %v), and %s, there from %v to %v, never got it",
					p.from, p.token, p.room, p.sent.Format("15:04:05.000"), p.seen.Format("15:04:05.000"),
					r.names[s.conn], s.from.Format("15:04:05.000"), s.to.Format("15:04:05.000"))
			}
		}
	}
	var parts []string
	for _, room := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%s %d", room, count[room]))
	}
	return checked, strings.Join(parts, ", ")
}

func (r *soakRun) over() bool { return r.stop.Load() || time.Now().After(r.end) }

func (r *soakRun) newConn(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns++
	r.names[r.conns] = name
	return r.conns
}

func (r *soakRun) did(action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actions[action]++
}

func (r *soakRun) addPost(p soakPost) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts = append(r.posts, p)
}

func (r *soakRun) addStay(conn int, room string, from, to time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stays = append(r.stays, soakStay{conn, room, from, to})
}

func (r *soakRun) fail(err error) {
	r.stop.Store(true)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err.Error())
}

// snapshot records the lines a line-mode connection received live, once
// it has ended, and checks that each poster's lines came in the order
// they were sent, each once.
func (r *soakRun) snapshot(conn int, out string) {
	seen := map[string]bool{}
	last := map[string]int{}
	for _, cl := range liveChat(out) {
		from, n, ok := parseToken(cl.text)
		if !ok || from != cl.from {
			continue
		}
		if prev, ok := last[from]; ok && n <= prev {
			r.fail(fmt.Errorf("%s received %s's line %d after line %d: out of order or twice", r.names[conn], from, n, prev))
		}
		last[from] = n
		seen[cl.text] = true
	}
	if strings.Contains(out, "Disconnected") {
		r.fail(fmt.Errorf("%s was disconnected:\n%s", r.names[conn], tail(out, 20)))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[conn] = seen
}

type chatLine struct{ from, text string }

// liveChat is the chat lines a line-mode client received live, leaving
// out replayed history.
func liveChat(out string) []chatLine {
	var lines []chatLine
	inHistory := false
	for l := range strings.SplitSeq(out, "\n") {
		switch {
		case strings.HasPrefix(l, "-- history:"):
			inHistory = true
		case l == "-- end of history --":
			inHistory = false
		case inHistory || !strings.HasPrefix(l, "["):
		default:
			_, rest, ok := strings.Cut(l, "] ")
			from, text, ok2 := strings.Cut(rest, ": ")
			if ok && ok2 {
				lines = append(lines, chatLine{from, text})
			}
		}
	}
	return lines
}

func token(name string, n int) string { return "t." + name + "." + strconv.Itoa(n) }

func parseToken(s string) (from string, n int, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "t" {
		return "", 0, false
	}
	n, err := strconv.Atoi(parts[2])
	return parts[1], n, err == nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// actor is one user coming and going under new names until the run ends.
func (r *soakRun) actor(id int, pty bool) {
	rng := rand.New(rand.NewPCG(r.seed, uint64(id)))
	kind := "l"
	if pty {
		kind = "p"
	}
	for gen := 0; ; gen++ {
		name := fmt.Sprintf("%s%dx%d", kind, id, gen)
		again := false
		err := runScoped(r.t, func(st *scopedT) {
			if pty {
				again = r.ptyLife(st, rng, name)
			} else {
				again = r.lineLife(st, rng, name)
			}
		})
		if err != nil {
			r.fail(fmt.Errorf("%s: %w", name, err))
			return
		}
		if !again {
			return
		}
	}
}

// think is the pause between two actions.
func think(rng *rand.Rand) {
	time.Sleep(time.Duration(10+rng.IntN(110)) * time.Millisecond)
}

// weighted picks one of the choices with probability proportional to its weight.
func weighted(rng *rand.Rand, choices map[string]int) string {
	total := 0
	keys := slices.Sorted(maps.Keys(choices)) // a fixed order, so a seed replays
	for _, k := range keys {
		total += choices[k]
	}
	n := rng.IntN(total)
	for _, k := range keys {
		if n -= choices[k]; n < 0 {
			return k
		}
	}
	return keys[len(keys)-1]
}

// rooms lists the rooms that exist now; rooms are never removed.
func (r *soakRun) rooms() []string {
	var out []string
	for _, ri := range r.ts.lobby.Rooms() {
		out = append(out, ri.Name)
	}
	return out
}

func pickOther(rng *rand.Rand, from []string, not string) string {
	var c []string
	for _, s := range from {
		if s != not {
			c = append(c, s)
		}
	}
	if len(c) == 0 {
		return ""
	}
	return c[rng.IntN(len(c))]
}

// ---- line mode ----

// lineUser is one line-mode connection and what it knows of where it is.
type lineUser struct {
	t    testing.TB
	c    *e2e.Line
	name string
	conn int
	off  int       // output before this offset has been looked at
	room string    // "" is the Lobby
	in   time.Time // when it saw it was in room
	n    int
}

// wait waits until one of texts appears past u.off and returns its index,
// moving u.off past it.
func (u *lineUser) wait(texts ...string) int {
	u.t.Helper()
	deadline := time.Now().Add(e2e.WaitTimeout)
	for {
		out := u.c.Output()
		for i, text := range texts {
			if j := strings.Index(out[u.off:], text); j >= 0 {
				u.off += j + len(text)
				return i
			}
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: timed out waiting for %q; last output:\n%s", u.name, texts, tail(out, 30))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// moved records that u left its room (asked at asked) and is now in room.
func (r *soakRun) moved(u *lineUser, asked time.Time, room string) {
	if u.room != "" {
		r.addStay(u.conn, u.room, u.in, asked)
	}
	u.room, u.in = room, time.Now()
}

// lineLife is one line-mode session; it reports whether the user comes
// back under a new name.
func (r *soakRun) lineLife(st *scopedT, rng *rand.Rand, name string) (again bool) {
	u := &lineUser{t: st, c: e2e.ConnectLine(st, r.ts.addr), name: name, conn: r.newConn(name)}
	u.wait(lobby.Prompt)
	u.c.Send(name)
	u.wait("You are in the Lobby")
	ended := false
	defer func() {
		if !ended { // a Fatal: keep what was seen, for the report
			r.moved(u, time.Now(), "")
		}
	}()
	for !r.over() {
		think(rng)
		action := weighted(rng, map[string]int{"post": 40, "join": 15, "leave": 6, "create": 6, "list": 8, "help": 3, "reconnect": 4})
		if u.room == "" && (action == "post" || action == "leave") {
			action = "join"
		}
		r.did("line " + action)
		switch action {
		case "post":
			u.n++
			tok := token(name, u.n)
			sent := time.Now()
			u.c.Send(tok)
			u.wait(name + ": " + tok + "\n")
			r.addPost(soakPost{name, u.room, tok, sent, time.Now()})
		case "join":
			room := pickOther(rng, append(slices.Clone(soakWitnessed), soakSpare...), u.room)
			asked := time.Now()
			u.c.Send("/join " + room)
			if u.wait("You are in "+room+".\n", "There is no room named "+room) == 0 {
				r.moved(u, asked, room)
			}
		case "leave":
			asked := time.Now()
			u.c.Send("/leave")
			u.wait("You left room " + u.room + ".\n")
			r.moved(u, asked, "")
		case "create":
			room := pickOther(rng, append(slices.Clone(soakWitnessed), soakSpare...), u.room)
			asked := time.Now()
			u.c.Send("/create " + room)
			if u.wait("You are in "+room+".\n", "A room named "+room+" already exists") == 0 {
				r.moved(u, asked, room)
			}
		case "list":
			u.c.Send("/list")
			u.wait("Rooms:\n")
		case "help":
			u.c.Send("/commands")
			u.wait("Commands:\n")
		case "reconnect":
			r.endLine(u, rng.IntN(3))
			ended = true
			return true
		}
	}
	r.endLine(u, 0)
	ended = true
	return false
}

// endLine ends a line-mode session: 0 /quit, 1 end of input, 2 hang up.
func (r *soakRun) endLine(u *lineUser, how int) {
	r.moved(u, time.Now(), "")
	switch how {
	case 0, 1:
		if how == 0 {
			u.c.Send("/quit")
		} else {
			_ = u.c.Stdin.Close()
		}
		if code := u.c.WaitExit(); code != 0 {
			u.t.Fatalf("%s: exit status %d, want 0:\n%s", u.name, code, tail(u.c.Output(), 20))
		}
		u.wait("Goodbye, " + u.name + ".")
	case 2:
		// Whatever was sent before the hang-up must have arrived first: an
		// unknown command's reply comes after every line queued before it.
		mark := "/zz" + u.name
		u.c.Send(mark)
		u.wait("There is no command " + mark)
	}
	r.snapshot(u.conn, u.c.Output())
	// The scoped cleanup hangs up.
}

// ---- PTY ----

var soakSizes = [][2]int{{80, 24}, {100, 30}, {72, 22}, {120, 36}}

// ptyUser is one PTY session and what it knows of where it is.
type ptyUser struct {
	t    testing.TB
	c    *e2e.Terminal
	name string
	room string   // "" is the Lobby
	n    int      // chat lines sent
	m    int      // barriers sent
	w, h int      // the window size the server was last told
	did  []string // the last few actions, for a failure message
}

// barrier types an unknown command and waits for its refusal: the
// program runs a session's lines and room moves in order, so once it is
// on screen, everything typed before it has been done and drawn.
func (u *ptyUser) barrier() {
	u.t.Helper()
	u.m++
	mark := "/zz" + u.name + "m" + strconv.Itoa(u.m)
	u.c.TypeLine(mark)
	u.c.WaitText("no command " + mark + ".")
}

// where reads the room from the status line: " NAME · ROOM · N online".
func (u *ptyUser) where() string {
	u.t.Helper()
	screen := u.c.Screen()
	lines := strings.Split(screen, "\n")
	if row := u.statusRow(screen); row >= 0 {
		_, rest, _ := strings.Cut(lines[row], " "+u.name+" · ")
		if room, _, ok := strings.Cut(rest, " · "); ok {
			if room == "Lobby" {
				return ""
			}
			return room
		}
	}
	u.t.Fatalf("%s: no status line on screen after %s:\n%s", u.name, strings.Join(u.did, ", "), screen)
	return ""
}

func (u *ptyUser) expectRoom(want, after string) {
	u.t.Helper()
	if got := u.where(); got != want {
		u.t.Fatalf("%s: in %q after %s, want %q; screen:\n%s", u.name, got, after, want, u.c.Screen())
	}
}

// statusRow is the row of the bottom-most status line on screen, or -1.
func (u *ptyUser) statusRow(screen string) int {
	row := -1
	for i, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, " "+u.name+" · ") {
			row = i
		}
	}
	return row
}

// resize changes the window to w×h in a way that the emulator and the
// program both survive. Two weaknesses of the libraries shape it:
//
//   - x/vt v0.1.0 takes a scroll region (DECSTBM) below its last row
//     without clamping it, and panics on the next scroll. So the emulator
//     grows before the program hears of the new size, and shrinks only once
//     everything drawn for the old size has been taken in.
//   - The renderer resets the scroll margins by naming its own height
//     (CSI 1;H r) rather than with a bare CSI r. A frame in flight when the
//     window grows therefore leaves a partial scroll region in the grown
//     terminal, and the program's first frames at the new size, which
//     assume full margins, scroll rows away that it never redraws.
//     Resizing the emulator in the middle of a frame can do the same. So,
//     once the program has drawn at the new size, the margins are reset as
//     a terminal does on resize, and a full repaint is asked for.
func (u *ptyUser) resize(w, h int) {
	u.t.Helper()
	if w == u.w && h == u.h {
		return
	}
	if w > u.w || h > u.h {
		u.c.Emu.Resize(max(w, u.w), max(h, u.h))
	}
	u.windowChange(w, h)
	if h < 10 {
		u.c.WaitText("too small") // drawn after the repaint's erase
		u.c.Emu.Resize(w, h)
		u.w, u.h = w, h
		return
	}
	u.barrier() // typed after the repaint began, so drawn after all of it
	u.c.Emu.Resize(w, h)
	u.w, u.h = w, h
	_, _ = u.c.Emu.Write([]byte("\x1b[r"))
	u.windowChange(w, h) // the same size again: a full repaint
	u.barrier()
}

// windowChange tells the program the window is w×h and waits until the
// full repaint that follows (it starts by erasing the screen) arrives.
func (u *ptyUser) windowChange(w, h int) {
	u.t.Helper()
	u.c.StartRecording()
	if err := u.c.Sess.WindowChange(h, w); err != nil {
		u.t.Fatalf("%s: window change: %v", u.name, err)
	}
	deadline := time.Now().Add(e2e.WaitTimeout)
	for !bytes.Contains(u.c.Recorded(), []byte("\x1b[2J")) {
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: no repaint after a resize to %dx%d; screen:\n%s", u.name, w, h, u.c.Screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ptyLife is one PTY session; it reports whether the user comes back
// under a new name.
func (r *soakRun) ptyLife(st *scopedT, rng *rand.Rand, name string) (again bool) {
	size := soakSizes[rng.IntN(len(soakSizes))]
	c := e2e.Connect(st, r.ts.addr, size[0], size[1])
	st.Cleanup(func() { closeEmuInput(c) }) // see connectPTY
	r.newConn(name)
	u := &ptyUser{t: st, c: c, name: name, w: size[0], h: size[1]}
	c.Login(name)
	for !r.over() {
		think(rng)
		action := weighted(rng, map[string]int{
			"post": 35, "join": 12, "leave": 5, "next": 7, "prev": 5, "list": 6,
			"create": 3, "resize": 6, "scroll": 8, "help": 2, "reconnect": 4,
		})
		if u.room == "" && (action == "post" || action == "leave") {
			action = "join"
		}
		r.did("pty " + action)
		u.did = append(u.did[max(0, len(u.did)-9):], action)
		switch action {
		case "post":
			u.n++
			tok := token(name, u.n)
			sent := time.Now()
			c.TypeLine(tok)
			c.WaitText(name + ": " + tok)
			r.addPost(soakPost{name, u.room, tok, sent, time.Now()})
		case "join":
			room := pickOther(rng, r.rooms(), u.room)
			c.TypeLine("/join " + room)
			u.barrier()
			u.expectRoom(room, "/join "+room)
			u.room = room
		case "leave":
			c.TypeLine("/leave")
			u.barrier()
			u.expectRoom("", "/leave")
			u.room = ""
		case "next", "prev":
			k := uv.KeyPressEvent{Code: 'n', Mod: uv.ModCtrl}
			if action == "prev" {
				k.Code = 'p'
			}
			c.Key(k)
			u.barrier()
			was := u.room
			u.room = u.where()
			if u.room == was {
				u.t.Fatalf("%s: still in %q after ctrl+%c", name, was, k.Code)
			}
		case "list":
			c.TypeLine("/list")
			u.barrier()
		case "create": // of a room that exists: refused, and nobody moves
			room := pickOther(rng, r.rooms(), "")
			c.TypeLine("/create " + room)
			u.barrier()
			u.expectRoom(u.room, "/create of existing "+room)
		case "resize":
			if rng.IntN(4) == 0 {
				u.resize(30, 8) // waits for "too small"
			}
			// Never the same size: x/vt resets its scroll region on any
			// Resize, and a frame in flight that scrolls would then move
			// rows the program never redraws, since for the program
			// nothing changed.
			sizes := slices.DeleteFunc(slices.Clone(soakSizes), func(s [2]int) bool { return s == [2]int{u.w, u.h} })
			size := sizes[rng.IntN(len(sizes))]
			u.resize(size[0], size[1])
			u.barrier()
			u.expectRoom(u.room, "a resize")
		case "scroll":
			n := 1 + rng.IntN(4)
			for range n {
				c.Key(uv.KeyPressEvent{Code: uv.KeyPgUp})
			}
			if rng.IntN(2) == 0 {
				c.Key(uv.KeyPressEvent{Code: uv.KeyHome})
			}
			for range rng.IntN(n + 1) {
				c.Key(uv.KeyPressEvent{Code: uv.KeyPgDown})
			}
			c.Key(uv.KeyPressEvent{Code: uv.KeyEnd})
			u.barrier()
		case "help":
			c.Key(uv.KeyPressEvent{Code: uv.KeyF1})
			u.barrier()
		case "reconnect":
			r.endPTY(u, rng.IntN(3))
			return true
		}
	}
	r.endPTY(u, 0)
	return false
}

// endPTY ends a PTY session: 0 /quit, 1 Ctrl+C, 2 hang up.
func (r *soakRun) endPTY(u *ptyUser, how int) {
	switch how {
	case 0, 1:
		if how == 0 {
			u.c.TypeLine("/quit")
		} else {
			u.c.Key(uv.KeyPressEvent{Code: 'c', Mod: uv.ModCtrl})
		}
		if code := u.c.WaitExit(); code != 0 {
			u.t.Fatalf("%s: exit status %d, want 0; screen:\n%s", u.name, code, u.c.Screen())
		}
		s := u.c.WaitText("Goodbye")
		if strings.Contains(s, "Disconnected") {
			u.t.Fatalf("%s: disconnected; screen:\n%s", u.name, s)
		}
	}
	hangUp(u.c)
}

// ---- server log ----

// warnings collects what the server logs at Warn or above.
type warnings struct {
	mu   sync.Mutex
	recs []string
}

func (w *warnings) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs = append(w.recs, s)
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.recs)
}

// warnCatcher passes records on to next, and keeps those at Warn or above.
type warnCatcher struct {
	next  slog.Handler
	into  *warnings
	attrs []slog.Attr
}

func (h *warnCatcher) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *warnCatcher) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
		for _, a := range h.attrs {
			fmt.Fprintf(&b, " %s", a)
		}
		rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
		h.into.add(b.String())
	}
	if h.next.Enabled(ctx, rec.Level) {
		if err := h.next.Handle(ctx, rec); err != nil {
			return fmt.Errorf("log: %w", err)
		}
	}
	return nil
}

func (h *warnCatcher) WithAttrs(as []slog.Attr) slog.Handler {
	return &warnCatcher{next: h.next.WithAttrs(as), into: h.into, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *warnCatcher) WithGroup(name string) slog.Handler {
	return &warnCatcher{next: h.next.WithGroup(name), into: h.into, attrs: h.attrs}
}
