package lobby

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Store persists rooms, their history and the count of users ever seen.
//
// The Lobby calls Append from its single committer goroutine only, and the
// read methods from any goroutine, so implementations must be safe for
// concurrent use. Room names are passed exactly as created; the Lobby has
// already made them unique without regard to case.
type Store interface {
	// Rooms returns every room with the Seq of its newest line. It must not
	// read whole histories: it runs at start-up.
	Rooms(ctx context.Context) ([]RoomRecord, error)
	// CreateRoom records a new, empty room.
	CreateRoom(ctx context.Context, r RoomRecord) error
	// Append durably stores a batch of lines, in order, all or none. When it
	// returns nil the lines must survive a crash.
	Append(ctx context.Context, batch []Message) error
	// Recent returns up to n of the room's newest lines, oldest first.
	Recent(ctx context.Context, room string, n int) ([]Message, error)
	// Before returns up to n lines with Seq < seq, oldest first.
	Before(ctx context.Context, room string, seq uint64, n int) ([]Message, error)
	// CountUser adds one to the number of users ever seen and returns the new
	// total; it keeps counting across restarts.
	CountUser(ctx context.Context) (uint64, error)
}

// MemoryStore is a Store that keeps everything in memory: for tests, and for
// running without a data folder. It forgets everything when the process ends.
type MemoryStore struct {
	mu    sync.Mutex // guards every field below
	rooms map[string]*memRoom
	users uint64
}

type memRoom struct {
	rec   RoomRecord
	lines []Message
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{rooms: make(map[string]*memRoom)}
}

// Rooms implements Store.
func (s *MemoryStore) Rooms(context.Context) ([]RoomRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RoomRecord, 0, len(s.rooms))
	for _, r := range s.rooms {
		out = append(out, r.rec)
	}
	return out, nil
}

// CreateRoom implements Store.
func (s *MemoryStore) CreateRoom(_ context.Context, r RoomRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rooms[r.Name]; ok {
		return fmt.Errorf("create room %q: already stored", r.Name)
	}
	s.rooms[r.Name] = &memRoom{rec: r}
	return nil
}

// Append implements Store.
func (s *MemoryStore) Append(_ context.Context, batch []Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range batch {
		if _, ok := s.rooms[m.Room]; !ok {
			return fmt.Errorf("append to %q: %w", m.Room, ErrNoSuchRoom)
		}
	}
	for _, m := range batch {
		r := s.rooms[m.Room]
		r.lines = append(r.lines, m)
		r.rec.LastSeq = m.Seq
	}
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
	end, _ := slices.BinarySearchFunc(r.lines, seq, func(m Message, seq uint64) int {
		switch {
		case m.Seq < seq:
			return -1
		case m.Seq > seq:
			return 1
		}
		return 0
	})
	return slices.Clone(r.lines[max(0, end-n):end]), nil
}

// CountUser implements Store.
func (s *MemoryStore) CountUser(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users++
	return s.users, nil
}
