package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// LocalLogID is the ID of a node's own log, the log table of its database.
// It names no file, so that a data folder moved or copied elsewhere goes on
// with its own log.
const LocalLogID = "local"

// maxMemBatches bounds the batches LocalLog keeps in memory for its
// follower. A follower further behind reads them from the table.
const maxMemBatches = 1024

// LocalLog is the lobby.Log of a node on its own: the log table of its
// database. Append writes a batch in its own transaction, synced to disk
// (synchronous=FULL) before it returns, so a batch anyone was shown
// survives a crash; the applier then writes its effects and removes it
// (SQLite.Apply). A batch that was appended but not applied when the
// process died is still in the table and is applied at the next start.
//
// Its one follower, the node's lobby, normally gets each batch from memory
// as it is appended, without reading it back.
type LocalLog struct {
	s *SQLite

	mu   sync.Mutex // guards every field below; held across an append, which orders them
	head uint64     // the last sequence number appended
	mem  []memBatch // appended batches the follower has not taken, oldest first
	grew chan struct{}
}

type memBatch struct {
	seq   uint64
	batch []lobby.Change
}

var _ lobby.Log = (*LocalLog)(nil)

// Log returns the database's own log.
func (s *SQLite) Log(ctx context.Context) (*LocalLog, error) {
	if s.readOnly {
		return nil, fmt.Errorf("open the log: %w", errReadOnly)
	}
	head, err := s.logHead(ctx)
	if err != nil {
		return nil, err
	}
	return &LocalLog{s: s, head: head, grew: make(chan struct{})}, nil
}

// logHead is the last sequence number the log table has handed out: its
// newest row, or, once applied rows are trimmed, the applied cursor.
func (s *SQLite) logHead(ctx context.Context) (uint64, error) {
	var maxSeq int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM log`).Scan(&maxSeq); err != nil {
		return 0, fmt.Errorf("open the log: %w", err)
	}
	local, err := readLocal(ctx, s.r)
	if err != nil {
		return 0, err
	}
	head := uint64(maxSeq)
	if local[localLogID] == LocalLogID {
		cursor, err := strconv.ParseUint(local[localCursor], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("open the log: cursor %q: %w", local[localCursor], err)
		}
		head = max(head, cursor)
	}
	return head, nil
}

// Unapplied is the number of batches in the log table that the store has
// not applied: what a server that stopped abruptly applies at its next
// start. Tools that read the store (export) say so when it is not 0.
func (s *SQLite) Unapplied(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM log WHERE seq > coalesce((SELECT CAST(value AS INTEGER) FROM local WHERE key = 'cursor'), 0)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unapplied batches: %w", err)
	}
	return n, nil
}

// ID implements lobby.Log.
func (g *LocalLog) ID() string { return LocalLogID }

// Append implements lobby.Log. The id is not needed: an append either
// commits or fails, so the lobby never has to retry one it cannot tell.
func (g *LocalLog) Append(ctx context.Context, _ string, batch []lobby.Change) (uint64, error) {
	data, err := lobby.EncodeBatch(batch)
	if err != nil {
		return 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	seq := g.head + 1
	if seq > math.MaxInt64 {
		return 0, fmt.Errorf("append to the log: sequence %d out of range", seq)
	}
	// An explicit transaction, so that a failed commit is reported rather
	// than lost in the implicit one of a single statement.
	g.s.wmu.Lock()
	defer g.s.wmu.Unlock()
	start := time.Now()
	tx, err := g.s.beginAt(ctx, g.s.sync)
	if err != nil {
		return 0, fmt.Errorf("append to the log: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO log (seq, batch) VALUES (?, ?)`, int64(seq), string(data)); err != nil {
		tx.Rollback()
		return 0, fmt.Errorf("append to the log: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("append to the log: %w", err)
	}
	g.s.timed(OpAppend, start)
	g.head = seq
	if len(g.mem) >= maxMemBatches {
		g.mem = g.mem[1:]
	}
	g.mem = append(g.mem, memBatch{seq: seq, batch: append([]lobby.Change(nil), batch...)})
	close(g.grew)
	g.grew = make(chan struct{})
	return seq, nil
}

// Head implements lobby.Log.
func (g *LocalLog) Head(context.Context) (uint64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.head, nil
}

// First implements lobby.Log: the oldest batch not yet applied and trimmed,
// or Head+1 when every one is.
func (g *LocalLog) First(ctx context.Context) (uint64, error) {
	var first sql.NullInt64
	if err := g.s.r.QueryRowContext(ctx, `SELECT min(seq) FROM log`).Scan(&first); err != nil {
		return 0, fmt.Errorf("read the log: %w", err)
	}
	if first.Valid {
		return uint64(first.Int64), nil
	}
	head, err := g.Head(ctx)
	return head + 1, err
}

// Follow implements lobby.Log.
func (g *LocalLog) Follow(ctx context.Context, after uint64, apply func(uint64, []lobby.Change) error) error {
	next := after + 1
	for {
		g.mu.Lock()
		head, grew := g.head, g.grew
		var batch []lobby.Change
		for len(g.mem) > 0 && g.mem[0].seq <= next {
			if g.mem[0].seq == next {
				batch = g.mem[0].batch
			}
			g.mem[0] = memBatch{}
			g.mem = g.mem[1:]
			if batch != nil {
				break
			}
		}
		g.mu.Unlock()

		switch {
		case batch != nil:
			if err := apply(next, batch); err != nil {
				return err
			}
			next++
		case next <= head:
			// Behind what memory holds: a start-up replay, or a follower
			// that fell far behind. Read a page from the table.
			n, err := g.replay(ctx, next, head, apply)
			if err != nil {
				return err
			}
			next += n
		default:
			select {
			case <-grew:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// replay applies the batches from next to at most head from the table, a
// page at a time, and says how many it applied.
func (g *LocalLog) replay(ctx context.Context, next, head uint64, apply func(uint64, []lobby.Change) error) (uint64, error) {
	const page = 64
	rows, err := g.s.r.QueryContext(ctx, `SELECT seq, batch FROM log WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`, int64(next), int64(head), page)
	if err != nil {
		return 0, fmt.Errorf("read the log: %w", err)
	}
	type row struct {
		seq  uint64
		data string
	}
	var got []row
	for rows.Next() {
		var r row
		var seq int64
		if err := rows.Scan(&seq, &r.data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read the log: %w", err)
		}
		r.seq = uint64(seq)
		got = append(got, r)
	}
	if err := closeRows(rows); err != nil {
		return 0, fmt.Errorf("read the log: %w", err)
	}
	var n uint64
	for _, r := range got {
		if r.seq != next+n {
			return n, fmt.Errorf("read the log at %d: found %d: %w", next+n, r.seq, lobby.ErrLogGap)
		}
		batch, err := lobby.DecodeBatch([]byte(r.data))
		if err != nil {
			return n, fmt.Errorf("read the log at %d: %w", r.seq, err)
		}
		if err := apply(r.seq, batch); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("read the log at %d: nothing there: %w", next, lobby.ErrLogGap)
	}
	return n, nil
}
