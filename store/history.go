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

// Rooms implements lobby.Store. It reads the rooms table and, per room, the
// greatest seq from the end of the primary key: O(rooms · log lines).
func (s *SQLite) Rooms(ctx context.Context) ([]lobby.RoomRecord, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT r.id, r.name, r.created,
		       coalesce((SELECT max(m.seq) FROM messages m WHERE m.room_id = r.id), 0)
		FROM rooms r ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	defer rows.Close()
	var out []lobby.RoomRecord
	ids := make(map[string]int64)
	for rows.Next() {
		var (
			id, created, last int64
			name              string
		)
		if err := rows.Scan(&id, &name, &created, &last); err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		ids[name] = id
		out = append(out, lobby.RoomRecord{Name: name, Created: fromNanos(created), LastSeq: uint64(last)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	s.mu.Lock()
	for name, id := range ids {
		s.ids[name] = id
	}
	s.mu.Unlock()
	return out, nil
}

// CreateRoom implements lobby.Store.
func (s *SQLite) CreateRoom(ctx context.Context, r lobby.RoomRecord) error {
	if s.readOnly {
		return fmt.Errorf("create room %q: %w", r.Name, errReadOnly)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO rooms (name, created) VALUES (?, ?)`, r.Name, toNanos(r.Created))
	if err != nil {
		return fmt.Errorf("create room %q: %w", r.Name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create room %q: %w", r.Name, err)
	}
	s.mu.Lock()
	s.ids[r.Name] = id
	s.mu.Unlock()
	return nil
}

// Append implements lobby.Store: the batch is one transaction, so it is
// stored all or none, and when Append returns nil the commit is on disk (see
// the package documentation for what "on disk" means at each synchronous
// level). A line for a room that does not exist fails the whole batch with
// an error wrapping lobby.ErrNoSuchRoom.
func (s *SQLite) Append(ctx context.Context, batch []lobby.Message) (err error) {
	if s.readOnly {
		return fmt.Errorf("append: %w", errReadOnly)
	}
	if len(batch) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append %d lines: %w", len(batch), err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	ins := tx.StmtContext(ctx, s.insert)
	defer ins.Close()
	var (
		lastRoom string
		lastID   int64 = -1
	)
	for i := range batch {
		m := &batch[i]
		if lastID < 0 || m.Room != lastRoom {
			lastID, err = s.roomIDTx(ctx, tx, m.Room)
			if err != nil {
				return fmt.Errorf("append to %q: %w", m.Room, err)
			}
			lastRoom = m.Room
		}
		kind, err := kindText(m.Kind)
		if err != nil {
			return fmt.Errorf("append to %q seq %d: %w", m.Room, m.Seq, err)
		}
		if m.Seq == 0 || m.Seq > math.MaxInt64 {
			return fmt.Errorf("append to %q: seq %d out of range", m.Room, m.Seq)
		}
		if _, err := ins.ExecContext(ctx, lastID, int64(m.Seq), toNanos(m.At), m.From, kind, m.Text); err != nil {
			return fmt.Errorf("append to %q seq %d: %w", m.Room, m.Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %d lines: %w", len(batch), err)
	}
	return nil
}

// roomIDTx is roomID for the writer, inside its transaction.
func (s *SQLite) roomIDTx(ctx context.Context, tx *sql.Tx, room string) (int64, error) {
	if id, ok := s.cachedID(room); ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM rooms WHERE name = ?`, room).Scan(&id)
	return s.rememberID(room, id, err)
}

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
		seq, at          int64
		from, kind, text string
	)
	if err := rows.Scan(&seq, &at, &from, &kind, &text); err != nil {
		return lobby.Message{}, err
	}
	k, err := parseKind(kind)
	if err != nil {
		return lobby.Message{}, fmt.Errorf("seq %d: %w", seq, err)
	}
	return lobby.Message{Room: room, Seq: uint64(seq), At: fromNanos(at), From: from, Kind: k, Text: text}, nil
}

// CountUser implements lobby.Store. The counter lives in the counters table
// and is committed before the new total is returned.
func (s *SQLite) CountUser(ctx context.Context) (uint64, error) {
	if s.readOnly {
		return 0, fmt.Errorf("count user: %w", errReadOnly)
	}
	// An explicit transaction, so that a failed commit is reported rather
	// than lost in the implicit one of a single statement.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("count user: %w", err)
	}
	var n int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO counters (name, value) VALUES ('users', 1)
		ON CONFLICT (name) DO UPDATE SET value = value + 1
		RETURNING value`).Scan(&n)
	if err != nil {
		tx.Rollback()
		return 0, fmt.Errorf("count user: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("count user: %w", err)
	}
	return uint64(n), nil
}

func kindText(k lobby.Kind) (string, error) {
	switch k {
	case lobby.KindChat, lobby.KindSystem:
		return k.String(), nil
	}
	return "", fmt.Errorf("unknown kind %d", k)
}

func parseKind(s string) (lobby.Kind, error) {
	switch s {
	case lobby.KindChat.String():
		return lobby.KindChat, nil
	case lobby.KindSystem.String():
		return lobby.KindSystem, nil
	}
	return 0, fmt.Errorf("unknown kind %q", s)
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
