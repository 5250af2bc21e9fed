package lobby

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

// fixedTime is the clock of every test lobby unless a test moves it.
var fixedTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bubbled holds the tests running in a synctest bubble (see inBubble).
var bubbled sync.Map

// inBubble runs f in a synctest bubble: time is fake (a wait that must time
// out does so at once, and exactly), and the bubble checks that every
// goroutine started in it has ended.
func inBubble(t *testing.T, f func(t *testing.T)) {
	synctest.Test(t, func(t *testing.T) {
		bubbled.Store(t, true)
		t.Cleanup(func() { bubbled.Delete(t) })
		f(t)
	})
}

// newLobby starts a lobby on cfg (a MemoryStore, the fixed clock and a silent
// logger unless set) and, when the test ends, closes it and checks that no
// goroutine it started is left (in a bubble, the bubble checks).
func newLobby(t *testing.T, cfg Config) *Lobby {
	t.Helper()
	_, inBubble := bubbled.Load(t)
	before := runtime.NumGoroutine()
	if cfg.Store == nil {
		cfg.Store = NewMemoryStore()
	}
	if cfg.Log == nil {
		cfg.Log = NewMemoryLog()
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 1000 // tests that count slots say so
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedTime }
	}
	if cfg.Logger == nil {
		cfg.Logger = testutil.Logger(t)
	}
	l, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if !inBubble {
			testutil.WaitGoroutines(t, before)
		}
	})
	return l
}

// register admits name or fails the test, and reads the first event (where
// the user is).
func register(t *testing.T, l *Lobby, name string) *Session {
	t.Helper()
	s, err := l.Register(context.Background(), name)
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	ev := next(t, s)
	if ev.Kind != EventEntered || ev.Room != "" {
		t.Fatalf("first event of %q = %+v, want EventEntered in the Lobby", name, ev)
	}
	return s
}

// inAlpha signs in alice and bob, and puts them in the room alpha, which
// alice creates; it reads their events up to bob's arrival.
func inAlpha(t *testing.T, l *Lobby) (alice, bob *Session) {
	t.Helper()
	alice = register(t, l, "alice")
	bob = register(t, l, "bob")
	createRoom(t, alice, "alpha")
	joinRoom(t, bob, "alpha")
	line(t, alice, KindSystem, "bob joined alpha")
	return alice, bob
}

// next returns s's next event other than a room-list refresh.
func next(t *testing.T, s *Session) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
	defer cancel()
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("%s: Next: %v", s.Name(), err)
		}
		if ev.Kind != EventRoomsChanged {
			return ev
		}
	}
}

// until reads s's events up to and including the first that match reports
// true for, and returns them all, room-list refreshes left out.
func until(t *testing.T, s *Session, match func(Event) bool) []Event {
	t.Helper()
	var seen []Event
	for {
		ev := next(t, s)
		seen = append(seen, ev)
		if match(ev) {
			return seen
		}
	}
}

// isLine matches a live line with this text.
func isLine(text string) func(Event) bool {
	return func(ev Event) bool { return ev.Kind == EventMessage && ev.Msg.Text == text }
}

// exec runs line for s and fails the test on an unexpected error.
func exec(t *testing.T, s *Session, line string) {
	t.Helper()
	if err := s.Exec(context.Background(), line); err != nil {
		t.Fatalf("%s: Exec(%q): %v", s.Name(), line, err)
	}
}

// notice reads s's next event, which must be a notice of the given kind
// containing want.
func notice(t *testing.T, s *Session, isErr bool, want string) Event {
	t.Helper()
	ev := next(t, s)
	if ev.Kind != EventNotice || ev.Error != isErr || !strings.Contains(ev.Text, want) {
		t.Fatalf("%s: got %s, want notice (error %v) containing %q", s.Name(), describe(ev), isErr, want)
	}
	return ev
}

// entered reads s's next event, which must say it is now in room.
func entered(t *testing.T, s *Session, room string) Event {
	t.Helper()
	ev := next(t, s)
	if ev.Kind != EventEntered || ev.Room != room {
		t.Fatalf("%s: got %s, want EventEntered %q", s.Name(), describe(ev), room)
	}
	return ev
}

// line reads s's next event, which must be a live line with this text.
func line(t *testing.T, s *Session, kind Kind, text string) *Message {
	t.Helper()
	ev := next(t, s)
	if ev.Kind != EventMessage || ev.Msg.Kind != kind || ev.Msg.Text != text {
		t.Fatalf("%s: got %s, want %v line %q", s.Name(), describe(ev), kind, text)
	}
	return ev.Msg
}

// quiet checks that s has no event waiting other than room-list refreshes.
// Only meaningful once everything posted before has been delivered: see
// barrier.
func quiet(t *testing.T, s *Session) {
	t.Helper()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("%s: ended (%v), want it running and quiet", s.Name(), s.Err())
			}
			t.Fatalf("%s: unexpected %s", s.Name(), describe(ev))
		default:
			return
		}
	}
}

// barrier waits until every change proposed so far has been applied and
// delivered (and so is safe to check for absence with quiet). It assumes
// the log took every change.
func barrier(t *testing.T, l *Lobby) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
	defer cancel()
	if err := l.Sync(ctx); err != nil {
		t.Fatalf("barrier: %v", err)
	}
}

// stored waits until the store holds everything applied so far: barrier
// waits for changes to be applied, which comes before they are stored.
func stored(t *testing.T, l *Lobby) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTimeout)
	defer cancel()
	l.mu.Lock()
	cursor := l.cursor
	l.mu.Unlock()
	if err := l.waitStored(ctx, cursor); err != nil {
		t.Fatalf("stored: %v", err)
	}
}

func describe(ev Event) string {
	switch ev.Kind {
	case EventMessage:
		return "line " + ev.Msg.Kind.String() + " " + ev.Msg.From + ": " + ev.Msg.Text
	case EventNotice:
		if ev.Error {
			return "error notice " + ev.Text
		}
		return "notice " + ev.Text
	case EventEntered:
		return "entered " + ev.Room
	case EventRoomsChanged:
		return "rooms changed"
	case EventDirect:
		return "direct " + ev.Msg.From + " (with " + ev.With + "): " + ev.Msg.Text
	case EventMention:
		return "mention in " + ev.Msg.Room + " " + ev.Msg.From + ": " + ev.Msg.Text
	case EventEdited:
		return fmt.Sprintf("edited line %d: %q (deleted %v)", ev.Msg.Seq, ev.Msg.Text, ev.Msg.Deleted)
	case EventTopic:
		return "topic of " + ev.Room + ": " + ev.Topic
	case EventNamed:
		return "named " + ev.Text
	case EventSearch:
		return "search results " + ev.Text
	case EventJump:
		return fmt.Sprintf("jump to %s line %d", ev.Room, ev.Seq)
	}
	return "unknown event"
}

// reply reads s's events up to its next notice, which must be of the given
// kind and contain want; lines and other events on the way are skipped.
func reply(t *testing.T, s *Session, isErr bool, want string) Event {
	t.Helper()
	for {
		ev := next(t, s)
		if ev.Kind != EventNotice {
			continue
		}
		if ev.Error != isErr || !strings.Contains(ev.Text, want) {
			t.Fatalf("%s: got %s, want notice (error %v) containing %q", s.Name(), describe(ev), isErr, want)
		}
		return ev
	}
}

// failStore is a MemoryStore whose methods fail while their switch is on.
type failStore struct {
	*MemoryStore
	mu         sync.Mutex
	failApply  bool
	failRecent bool
	applies    int // batches stored
}

var errDisk = errors.New("disk on fire")

func newFailStore() *failStore { return &failStore{MemoryStore: NewMemoryStore()} }

func (f *failStore) set(apply, recent bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failApply, f.failRecent = apply, recent
}

func (f *failStore) Apply(ctx context.Context, w *Writes) error {
	f.mu.Lock()
	fail := f.failApply
	f.mu.Unlock()
	if fail {
		return errDisk
	}
	if err := f.MemoryStore.Apply(ctx, w); err != nil {
		return err
	}
	f.mu.Lock()
	f.applies++
	f.mu.Unlock()
	return nil
}

func (f *failStore) Recent(ctx context.Context, room string, n int) ([]Message, error) {
	f.mu.Lock()
	fail := f.failRecent
	f.mu.Unlock()
	if fail {
		return nil, errDisk
	}
	return f.MemoryStore.Recent(ctx, room, n)
}

// failLog is a MemoryLog whose Append fails for batches doom picks.
type failLog struct {
	*MemoryLog
	mu   sync.Mutex
	doom func([]Change) bool
}

func (f *failLog) Append(ctx context.Context, id string, batch []Change) (uint64, error) {
	f.mu.Lock()
	doom := f.doom
	f.mu.Unlock()
	if doom != nil && doom(batch) {
		return 0, errDisk
	}
	return f.MemoryLog.Append(ctx, id, batch)
}
