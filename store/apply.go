package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Keys of the local table.
const (
	localLogID  = "log_id"
	localCursor = "cursor"
)

// Load implements lobby.Store. It reads the rooms with, per room, the
// greatest seq from the end of the primary key (O(rooms · log lines)), the
// state records and counters, and how far the log was applied; in one read
// transaction, so that it is one consistent state.
func (s *SQLite) Load(ctx context.Context) (lobby.Snapshot, error) {
	var snap lobby.Snapshot
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return snap, fmt.Errorf("load: %w", err)
	}
	defer tx.Rollback()

	rows, err := tx.QueryContext(ctx, `
		SELECT r.id, r.name, r.created, r.meta,
		       coalesce((SELECT max(m.seq) FROM messages m WHERE m.room_id = r.id), 0)
		FROM rooms r ORDER BY r.id`)
	if err != nil {
		return snap, fmt.Errorf("load rooms: %w", err)
	}
	ids := make(map[string]int64)
	for rows.Next() {
		var (
			id, created, last int64
			name, meta        string
		)
		if err := rows.Scan(&id, &name, &created, &meta, &last); err != nil {
			rows.Close()
			return snap, fmt.Errorf("load rooms: %w", err)
		}
		ids[name] = id
		snap.Rooms = append(snap.Rooms, lobby.RoomRecord{Name: name, Created: fromNanos(created), LastSeq: uint64(last), Meta: []byte(meta)})
	}
	if err := closeRows(rows); err != nil {
		return snap, fmt.Errorf("load rooms: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT kind, key, value FROM state ORDER BY kind, key`)
	if err != nil {
		return snap, fmt.Errorf("load state: %w", err)
	}
	for rows.Next() {
		var rec lobby.StateRecord
		var value string
		if err := rows.Scan(&rec.Kind, &rec.Key, &value); err != nil {
			rows.Close()
			return snap, fmt.Errorf("load state: %w", err)
		}
		rec.Value = []byte(value)
		snap.State = append(snap.State, rec)
	}
	if err := closeRows(rows); err != nil {
		return snap, fmt.Errorf("load state: %w", err)
	}

	snap.Counters = make(map[string]uint64)
	rows, err = tx.QueryContext(ctx, `SELECT name, value FROM counters`)
	if err != nil {
		return snap, fmt.Errorf("load counters: %w", err)
	}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			rows.Close()
			return snap, fmt.Errorf("load counters: %w", err)
		}
		snap.Counters[name] = uint64(v)
	}
	if err := closeRows(rows); err != nil {
		return snap, fmt.Errorf("load counters: %w", err)
	}

	local, err := readLocal(ctx, tx)
	if err != nil {
		return snap, err
	}
	snap.LogID = local[localLogID]
	if c := local[localCursor]; c != "" {
		if snap.Cursor, err = strconv.ParseUint(c, 10, 64); err != nil {
			return snap, fmt.Errorf("load: cursor %q: %w", c, err)
		}
	}

	s.mu.Lock()
	for name, id := range ids {
		s.ids[name] = id
	}
	s.mu.Unlock()
	return snap, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readLocal(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM local`)
	if err != nil {
		return nil, fmt.Errorf("load local facts: %w", err)
	}
	out := make(map[string]string)
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load local facts: %w", err)
		}
		out[k] = v
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("load local facts: %w", err)
	}
	return out, nil
}

// Apply implements lobby.Store: one transaction with every write of the
// batch and the new cursor, so that a crash leaves the store at one batch
// or the next, never between. When the cursor is the node's own log's, the
// batches it covers leave the log table: they are applied for good.
func (s *SQLite) Apply(ctx context.Context, w *lobby.Writes) (err error) {
	if s.readOnly {
		return fmt.Errorf("apply: %w", errReadOnly)
	}
	// NORMAL: in WAL mode the commit is in order but not synced. The
	// batch is in the log already (synced, or held by the cluster), so a
	// power cut that takes this commit back only makes the node apply the
	// batch again at its next start, from the log rows it did not trim.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	start := time.Now()
	tx, err := s.beginAt(ctx, syncNormal)
	if err != nil {
		return fmt.Errorf("apply batch %d: %w", w.Cursor, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, r := range w.Rooms {
		meta := string(r.Meta)
		if meta == "" {
			meta = "{}"
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO rooms (name, created, meta) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET meta = excluded.meta`, r.Name, toNanos(r.Created), meta); err != nil {
			return fmt.Errorf("apply batch %d: room %q: %w", w.Cursor, r.Name, err)
		}
	}
	found, err := s.insertMessages(ctx, tx, w.Messages)
	if err != nil {
		return fmt.Errorf("apply batch %d: %w", w.Cursor, err)
	}
	if len(w.Edits) > 0 {
		if found == nil {
			found = make(map[string]int64)
		}
		if err := s.editMessages(ctx, tx, w.Edits, found); err != nil {
			return fmt.Errorf("apply batch %d: %w", w.Cursor, err)
		}
	}
	for _, rec := range w.State {
		if rec.Value == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM state WHERE kind = ? AND key = ?`, rec.Kind, rec.Key)
		} else {
			_, err = tx.ExecContext(ctx, `
				INSERT INTO state (kind, key, value) VALUES (?, ?, ?)
				ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`, rec.Kind, rec.Key, string(rec.Value))
		}
		if err != nil {
			return fmt.Errorf("apply batch %d: state %s %q: %w", w.Cursor, rec.Kind, rec.Key, err)
		}
	}
	for name, v := range w.Counters {
		if v > math.MaxInt64 {
			return fmt.Errorf("apply batch %d: counter %s = %d out of range", w.Cursor, name, v)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO counters (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, int64(v)); err != nil {
			return fmt.Errorf("apply batch %d: counter %s: %w", w.Cursor, name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO local (key, value) VALUES (?, ?), (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		localLogID, w.LogID, localCursor, strconv.FormatUint(w.Cursor, 10)); err != nil {
		return fmt.Errorf("apply batch %d: %w", w.Cursor, err)
	}
	if w.LogID == LocalLogID && w.Cursor <= math.MaxInt64 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM log WHERE seq <= ?`, int64(w.Cursor)); err != nil {
			return fmt.Errorf("apply batch %d: trim the log: %w", w.Cursor, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch %d: %w", w.Cursor, err)
	}
	s.timed(OpApply, start)
	// Only now: a rolled-back room must not stay in the cache.
	s.mu.Lock()
	for name, id := range found {
		s.ids[name] = id
	}
	s.mu.Unlock()
	return nil
}

// insertMessages adds lines to their rooms' histories inside tx, and
// returns the ids of the rooms it had to look up.
func (s *SQLite) insertMessages(ctx context.Context, tx *sql.Tx, batch []lobby.Message) (map[string]int64, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	ins := tx.StmtContext(ctx, s.insert)
	defer ins.Close()
	found := make(map[string]int64)
	var (
		lastRoom string
		lastID   int64 = -1
	)
	for i := range batch {
		m := &batch[i]
		if lastID < 0 || m.Room != lastRoom {
			id, err := s.roomIDIn(ctx, tx, m.Room, found)
			if err != nil {
				return nil, fmt.Errorf("append to %q: %w", m.Room, err)
			}
			lastID, lastRoom = id, m.Room
		}
		kind, err := kindText(m)
		if err != nil {
			return nil, fmt.Errorf("append to %q seq %d: %w", m.Room, m.Seq, err)
		}
		if m.Seq == 0 || m.Seq > math.MaxInt64 {
			return nil, fmt.Errorf("append to %q: seq %d out of range", m.Room, m.Seq)
		}
		if _, err := ins.ExecContext(ctx, lastID, int64(m.Seq), toNanos(m.At), m.From, kind, m.Text, toNanos(m.Edited), m.Deleted); err != nil {
			return nil, fmt.Errorf("append to %q seq %d: %w", m.Room, m.Seq, err)
		}
	}
	return found, nil
}

// roomIDIn is the id of the room named name inside tx, which may have
// created it: found keeps what it looked up.
func (s *SQLite) roomIDIn(ctx context.Context, tx *sql.Tx, name string, found map[string]int64) (int64, error) {
	if id, ok := s.cachedID(name); ok {
		return id, nil
	}
	if id, ok := found[name]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM rooms WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = lobby.ErrNoSuchRoom
	}
	if err != nil {
		return 0, err
	}
	found[name] = id
	return id, nil
}

// editMessages changes stored lines inside tx (an edit, a deletion); the
// search index follows by trigger.
func (s *SQLite) editMessages(ctx context.Context, tx *sql.Tx, edits []lobby.Message, found map[string]int64) error {
	for i := range edits {
		e := &edits[i]
		id, err := s.roomIDIn(ctx, tx, e.Room, found)
		if err != nil {
			return fmt.Errorf("edit %q line %d: %w", e.Room, e.Seq, err)
		}
		if e.Seq == 0 || e.Seq > math.MaxInt64 {
			return fmt.Errorf("edit %q: seq %d out of range", e.Room, e.Seq)
		}
		res, err := tx.ExecContext(ctx, `UPDATE messages SET text = ?, edited = ?, deleted = ? WHERE room_id = ? AND seq = ?`,
			e.Text, toNanos(e.Edited), e.Deleted, id, int64(e.Seq))
		if err != nil {
			return fmt.Errorf("edit %q line %d: %w", e.Room, e.Seq, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("edit %q line %d: no such line (%d rows, %v)", e.Room, e.Seq, n, err)
		}
	}
	return nil
}
