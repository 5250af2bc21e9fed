package lobby

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Store keeps a node's copy of the chat: rooms, their history and the rest
// of the shared state, as of the last batch of the log it applied.
//
// The Lobby calls Apply from its single applier goroutine only, and the
// read methods from any goroutine, so implementations must be safe for
// concurrent use. Room names are passed exactly as created; the Lobby has
// already made them unique without regard to case.
type Store interface {
	// Load returns everything the Lobby needs to start: the rooms (with the
	// Seq of each one's newest line, not their histories), the shared state
	// records, the counters, and how far the log was applied. It runs at
	// start-up, so it must not read whole histories.
	Load(ctx context.Context) (Snapshot, error)
	// Apply stores the effect of one applied batch of the log in one
	// transaction, together with the new log position: all or none. When
	// it returns nil the writes must survive a crash.
	Apply(ctx context.Context, w *Writes) error
	// Recent returns up to n of the room's newest lines, oldest first.
	Recent(ctx context.Context, room string, n int) ([]Message, error)
	// Before returns up to n lines with Seq < seq, oldest first.
	Before(ctx context.Context, room string, seq uint64, n int) ([]Message, error)
	// Search returns up to q.Limit lines that someone said (chat and
	// actions, not deleted) in the rooms q.Rooms, whose text holds every
	// word of q.Words as a whole word (without regard to case or accents),
	// newest first: in the order they were stored.
	Search(ctx context.Context, q SearchQuery) ([]Message, error)
}

// SearchQuery is what Store.Search looks for.
type SearchQuery struct {
	Words []string // clean, without spaces; at least one
	Rooms []string // the rooms to look in, names as created
	Limit int
}

// Snapshot is a Store's content as Load reads it.
type Snapshot struct {
	LogID    string            // the log the Cursor belongs to; "" before the first Apply
	Cursor   uint64            // the last sequence number of that log applied
	Rooms    []RoomRecord      // every room, with LastSeq
	State    []StateRecord     // every shared state record
	Counters map[string]uint64 // named counters, such as "users"
}

// StateRecord is one record of shared state other than rooms and their
// lines: a session, a node instance known dead... Kind and Key identify it;
// Value is the Lobby's own encoding. A record written with a nil Value is
// deleted.
type StateRecord struct {
	Kind  string
	Key   string
	Value []byte
}

// Writes is what applying one batch of the log changes in the Store.
type Writes struct {
	LogID    string            // the log applied
	Cursor   uint64            // its sequence number of the batch applied
	Rooms    []RoomRecord      // new rooms, or rooms whose Meta changed (by Name)
	Messages []Message         // new lines, in order
	Edits    []Message         // stored lines changed (edited, deleted), by Room and Seq, in order
	State    []StateRecord     // records put, or deleted when Value is nil
	Counters map[string]uint64 // counters set to these values
}

func (w *Writes) reset() {
	w.Rooms = w.Rooms[:0]
	clear(w.Messages) // the lines' strings live on in the rooms' recent lines
	w.Messages = w.Messages[:0]
	clear(w.Edits)
	w.Edits = w.Edits[:0]
	w.State = w.State[:0]
	clear(w.Counters)
}

// MemoryStore is a Store that keeps everything in memory. Only tests use
// it: a server always keeps its chat in a data folder (package store). It
// forgets everything when the process ends.
type MemoryStore struct {
	mu       sync.Mutex // guards every field below
	logID    string
	cursor   uint64
	rooms    map[string]*memRoom
	order    []string // room names in creation order
	state    map[[2]string][]byte
	counters map[string]uint64
	stored   uint64 // lines stored, in every room: the order Search sorts by
}

type memRoom struct {
	rec   RoomRecord
	lines []Message
	order []uint64 // beside lines: when each was stored, counting every room's
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		rooms:    make(map[string]*memRoom),
		state:    make(map[[2]string][]byte),
		counters: make(map[string]uint64),
	}
}

// Load implements Store.
func (s *MemoryStore) Load(context.Context) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{LogID: s.logID, Cursor: s.cursor, Counters: maps.Clone(s.counters)}
	for _, name := range s.order {
		snap.Rooms = append(snap.Rooms, s.rooms[name].rec)
	}
	for k, v := range s.state {
		snap.State = append(snap.State, StateRecord{Kind: k[0], Key: k[1], Value: slices.Clone(v)})
	}
	slices.SortFunc(snap.State, func(a, b StateRecord) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
	})
	return snap, nil
}

// Apply implements Store.
func (s *MemoryStore) Apply(_ context.Context, w *Writes) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Check first, so that a bad batch changes nothing.
	known := func(name string) bool {
		if _, ok := s.rooms[name]; ok {
			return true
		}
		for _, r := range w.Rooms {
			if r.Name == name {
				return true
			}
		}
		return false
	}
	for _, m := range w.Messages {
		if !known(m.Room) {
			return fmt.Errorf("append to %q: %w", m.Room, ErrNoSuchRoom)
		}
	}
	for _, e := range w.Edits {
		r, ok := s.rooms[e.Room]
		if !ok || s.index(r, e.Seq) < 0 {
			if !slices.ContainsFunc(w.Messages, func(m Message) bool { return m.Room == e.Room && m.Seq == e.Seq }) {
				return fmt.Errorf("edit %q line %d: no such line", e.Room, e.Seq)
			}
		}
	}
	for _, r := range w.Rooms {
		if old, ok := s.rooms[r.Name]; ok {
			old.rec.Meta = slices.Clone(r.Meta)
			continue
		}
		rec := r
		rec.Meta = slices.Clone(r.Meta)
		s.rooms[r.Name] = &memRoom{rec: rec}
		s.order = append(s.order, r.Name)
	}
	for _, m := range w.Messages {
		r := s.rooms[m.Room]
		s.stored++
		r.lines = append(r.lines, m)
		r.order = append(r.order, s.stored)
		r.rec.LastSeq = m.Seq
	}
	for _, e := range w.Edits {
		r := s.rooms[e.Room]
		old := &r.lines[s.index(r, e.Seq)]
		old.Text, old.Edited, old.Deleted = e.Text, e.Edited, e.Deleted
	}
	for _, rec := range w.State {
		k := [2]string{rec.Kind, rec.Key}
		if rec.Value == nil {
			delete(s.state, k)
		} else {
			s.state[k] = slices.Clone(rec.Value)
		}
	}
	maps.Copy(s.counters, w.Counters)
	s.logID, s.cursor = w.LogID, w.Cursor
	return nil
}

// Recent implements Store.
func (s *MemoryStore) Recent(_ context.Context, room string, n int) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[room]
	if !ok {
		return nil, fmt.Errorf("recent of %q: %w", room, ErrNoSuchRoom)
	}
	return slices.Clone(r.lines[max(0, len(r.lines)-n):]), nil
}

// Before implements Store.
func (s *MemoryStore) Before(_ context.Context, room string, seq uint64, n int) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[room]
	if !ok {
		return nil, fmt.Errorf("history of %q: %w", room, ErrNoSuchRoom)
	}
	end, _ := slices.BinarySearchFunc(r.lines, seq, compareSeq)
	return slices.Clone(r.lines[max(0, end-n):end]), nil
}

func compareSeq(m Message, seq uint64) int { return cmp.Compare(m.Seq, seq) }

// index is where r holds the line seq, or -1. s.mu must be held.
func (s *MemoryStore) index(r *memRoom, seq uint64) int {
	if i, ok := slices.BinarySearchFunc(r.lines, seq, compareSeq); ok {
		return i
	}
	return -1
}

// Search implements Store, by looking at every line: for tests.
func (s *MemoryStore) Search(_ context.Context, q SearchQuery) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type hit struct {
		order uint64
		msg   Message
	}
	var hits []hit
	for _, name := range q.Rooms {
		r, ok := s.rooms[name]
		if !ok {
			continue
		}
		for i, m := range r.lines {
			if m.Said() && !m.Deleted && hasWords(m.Text, q.Words) {
				hits = append(hits, hit{r.order[i], m})
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(b.order, a.order) })
	out := make([]Message, 0, min(len(hits), q.Limit))
	for _, h := range hits[:min(len(hits), q.Limit)] {
		out = append(out, h.msg)
	}
	return out, nil
}

// hasWords reports whether text holds each of words as a whole word,
// without regard to case: roughly what a full-text index finds.
func hasWords(text string, words []string) bool {
	have := make(map[string]bool)
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		have[bareWord(w)] = true
	}
	for _, w := range words {
		if !have[bareWord(w)] {
			return false
		}
	}
	return len(words) > 0
}

// bareWord is a word case-folded and without accents.
func bareWord(w string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(foldKey(w)))
}
