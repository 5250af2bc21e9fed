package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
)

var errReadOnly = errors.New("store is open read-only")

// roomID maps a room name, exactly as created, to its rooms.id. Rooms are
// never deleted, so a name once found stays valid; a miss asks the database,
// which may hold rooms another process created.
func (s *SQLite) roomID(ctx context.Context, room string) (int64, error) {
	if id, ok := s.cachedID(room); ok {
		return id, nil
	}
	var id int64
	err := s.byName.QueryRowContext(ctx, room).Scan(&id)
	return s.rememberID(room, id, err)
}

func (s *SQLite) cachedID(room string) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.ids[room]
	return id, ok
}

func (s *SQLite) rememberID(room string, id int64, err error) (int64, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, lobby.ErrNoSuchRoom
	case err != nil:
		return 0, err
	}
	s.mu.Lock()
	s.ids[room] = id
	s.mu.Unlock()
	return id, nil
}

// Recent implements lobby.Store. The lobby calls it holding its lock, once
// per room per process; it is one backwards range scan of n rows.
func (s *SQLite) Recent(ctx context.Context, room string, n int) ([]lobby.Message, error) {
	id, err := s.roomID(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("recent of %q: %w", room, err)
	}
	if n <= 0 {
		return nil, nil
	}
	out, err := s.scanDesc(ctx, room, s.recent, n, id, n)
	if err != nil {
		return nil, fmt.Errorf("recent of %q: %w", room, err)
	}
	return out, nil
}

// Before implements lobby.Store.
func (s *SQLite) Before(ctx context.Context, room string, seq uint64, n int) ([]lobby.Message, error) {
	id, err := s.roomID(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("history of %q: %w", room, err)
	}
	if n <= 0 || seq <= 1 {
		return nil, nil
	}
	out, err := s.scanDesc(ctx, room, s.before, n, id, int64(min(seq, math.MaxInt64)), n)
	if err != nil {
		return nil, fmt.Errorf("history of %q before %d: %w", room, seq, err)
	}
	return out, nil
}

// scanDesc runs a newest-first query and returns its rows oldest first.
func (s *SQLite) scanDesc(ctx context.Context, room string, st *sql.Stmt, n int, args ...any) ([]lobby.Message, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]lobby.Message, 0, min(n, 512))
	for rows.Next() {
		m, err := scanMessage(rows, room)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

func scanMessage(rows *sql.Rows, room string) (lobby.Message, error) {
	var (
		seq, at, edited  int64
		from, kind, text string
		deleted          bool
	)
	if err := rows.Scan(&seq, &at, &from, &kind, &text, &edited, &deleted); err != nil {
		return lobby.Message{}, err
	}
	m := lobby.Message{Room: room, Seq: uint64(seq), At: fromNanos(at), From: from, Text: text, Edited: fromNanos(edited), Deleted: deleted}
	if err := parseKind(&m, kind); err != nil {
		return lobby.Message{}, fmt.Errorf("seq %d: %w", seq, err)
	}
	return m, nil
}

// kindPresence is how the kind column spells a KindSystem line with
// Presence set: a join or a leave.
const kindPresence = "presence"

// kindText is what the kind column holds for m.
func kindText(m *lobby.Message) (string, error) {
	switch {
	case m.Kind == lobby.KindSystem && m.Presence:
		return kindPresence, nil
	case m.Kind == lobby.KindChat, m.Kind == lobby.KindSystem, m.Kind == lobby.KindAction:
		return m.Kind.String(), nil
	}
	return "", fmt.Errorf("unknown kind %d", m.Kind)
}

// parseKind sets m's Kind (and Presence) from the kind column.
func parseKind(m *lobby.Message, s string) error {
	switch s {
	case lobby.KindChat.String():
		m.Kind = lobby.KindChat
	case lobby.KindSystem.String():
		m.Kind = lobby.KindSystem
	case lobby.KindAction.String():
		m.Kind = lobby.KindAction
	case kindPresence:
		m.Kind, m.Presence = lobby.KindSystem, true
	default:
		return fmt.Errorf("unknown kind %q", s)
	}
	return nil
}

// toNanos stores a time as Unix nanoseconds (UTC), which keeps it exact and
// sortable; the zero time is stored as 0.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
