package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file Open creates inside its folder.
const FileName = "chatroom.db"

// ErrInUse means another process (another server) has the data folder open
// for writing.
var ErrInUse = errors.New("the data folder is in use by another chatroom server")

func lockPath(dir string) string { return filepath.Join(dir, "chatroom.lock") }

// busyTimeoutMS is how long a statement waits for a lock held by another
// connection (the sqlite3 shell taking a backup, say) before failing.
const busyTimeoutMS = 5000

// walSizeLimit is the size the write-ahead log is cut back to after a
// checkpoint (PRAGMA journal_size_limit).
const walSizeLimit = 64 << 20

// readConns bounds the reader pool. Reads never wait on the writer in WAL
// mode; a few connections let a history page and a start-up scan overlap.
const readConns = 4

// Synchronous levels, as PRAGMA synchronous spells them.
const (
	syncFull   = "FULL"
	syncNormal = "NORMAL"
)

// defaultSync is the level Open uses; doc.go explains the choice and
// bench_test.go measures both.
const defaultSync = syncFull

//go:embed migrations/*.sql
var migrationFS embed.FS

// SQLite is the lobby.Store kept in one SQLite database file. Apply and
// the log's appends go through a single writer connection; the read
// methods use a pool of reader connections that WAL mode never blocks. It is
// safe for concurrent use.
type SQLite struct {
	path     string
	log      *slog.Logger
	readOnly bool

	lock   *os.File // held while open for writing; see lockDir
	marker string   // markerPath, once this process has made it; see check.go

	w *sql.DB // one connection; nil when read-only
	r *sql.DB // readers

	insert   *sql.Stmt // on w
	recent   *sql.Stmt // on r
	search   *sql.Stmt // on r
	allRooms *sql.Stmt // on r
	before   *sql.Stmt // on r
	page     *sql.Stmt // on r, for Export
	last     *sql.Stmt // on r
	byName   *sql.Stmt // on r

	mu  sync.RWMutex     // guards ids
	ids map[string]int64 // room name as created → rooms.id; rooms are never deleted

	// wmu is held across each write transaction together with the
	// synchronous level it runs at: the log's appends at the level asked
	// for (FULL by default), the applied state's writes at NORMAL. See
	// "Durability" in doc.go.
	wmu  sync.Mutex
	sync string // the level asked for

	commitTimer func(op string, d time.Duration) // nil: off

	closeOnce sync.Once
	closeErr  error
}

var _ lobby.Store = (*SQLite)(nil)

type options struct {
	synchronous string
	commitTimer func(op string, d time.Duration)
	// checkLimit is the largest database checked at every start (others
	// only after an unclean shutdown); 0 means checkAlwaysBelow, and a
	// negative value checks only after an unclean shutdown.
	checkLimit int64
}

// Option changes how Open opens a store.
type Option func(*options)

// Operations a commit timer is told of.
const (
	OpAppend = "append" // LocalLog.Append: a batch into the node's own log, synced
	OpApply  = "apply"  // Apply: an applied batch's effects and the cursor
)

// WithCommitTimer has the store tell fn how long each write transaction
// took, from its BEGIN to the return of its COMMIT, by operation: OpAppend
// or OpApply. fn is called on the writer's goroutine and must return at
// once.
func WithCommitTimer(fn func(op string, d time.Duration)) Option {
	return func(o *options) { o.commitTimer = fn }
}

// Open opens (creating if needed) the database in dir, brings its schema up
// to date and returns the store. dir is created with mode 0700 if missing.
// A nil logger means slog.Default().
func Open(ctx context.Context, dir string, logger *slog.Logger, opts ...Option) (*SQLite, error) {
	o := options{synchronous: defaultSync}
	for _, opt := range opts {
		opt(&o)
	}
	return open(ctx, dir, logger, o)
}

// timed tells the commit timer, if any, of a transaction of op begun at
// start.
func (s *SQLite) timed(op string, start time.Time) {
	if s.commitTimer != nil {
		s.commitTimer(op, time.Since(start))
	}
}

func open(ctx context.Context, dir string, logger *slog.Logger, opt options) (*SQLite, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &SQLite{path: path, log: logger, lock: lock, ids: make(map[string]int64), sync: opt.synchronous, commitTimer: opt.commitTimer}
	ok := false
	defer func() {
		if !ok {
			s.closeDBs(false)
		}
	}()

	// _txlock=immediate: every transaction takes the write lock at BEGIN, so
	// it waits (busy_timeout) instead of failing half way when another
	// process writes.
	s.w, err = sql.Open("sqlite", dsn(path, url.Values{
		"_busy_timeout": {strconv.Itoa(busyTimeoutMS)},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		// After a checkpoint, shrink a log that a long reader let grow.
		"_pragma":      {fmt.Sprintf("journal_size_limit(%d)", walSizeLimit)},
		"_synchronous": {opt.synchronous},
		"_txlock":      {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer: SQLite serialises writers anyway, and one connection keeps
	// the WAL and its prepared statements warm.
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)

	// Before anything writes: a damaged database is refused as it is.
	limit := cmp.Or(opt.checkLimit, checkAlwaysBelow)
	if err := s.check(ctx, dir, limit); err != nil {
		return nil, err // it names the file and says what to do
	}
	if err := os.WriteFile(markerPath(dir), nil, 0o600); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.marker = markerPath(dir)

	if err := s.migrate(ctx); err != nil {
		if isCorrupt(err) {
			return nil, damaged(path, err.Error())
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}

	s.r, err = sql.Open("sqlite", dsn(path, url.Values{
		"_busy_timeout": {strconv.Itoa(busyTimeoutMS)},
		"_query_only":   {"1"},
	}))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(readConns)
	s.r.SetMaxIdleConns(readConns)

	if err := s.prepare(ctx); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	ok = true
	var version string
	_ = s.r.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version)
	s.log.Info("store open", "path", path, "sqlite", version, "synchronous", opt.synchronous)
	return s, nil
}

// beginAt starts a write transaction that commits at the synchronous level
// given. The caller must hold s.wmu until the transaction ends, so that no
// other transaction runs at the wrong level in between.
func (s *SQLite) beginAt(ctx context.Context, level string) (*sql.Tx, error) {
	if _, err := s.w.ExecContext(ctx, "PRAGMA synchronous = "+level); err != nil {
		return nil, err
	}
	return s.w.BeginTx(ctx, nil)
}

// dsn builds a file: URI for the modernc driver. The path is escaped, so a
// folder name with '?' or '#' in it still works.
func dsn(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Path is the database file's absolute path.
func (s *SQLite) Path() string { return s.path }

// Close checkpoints the write-ahead log into the database file, so that the
// file alone is a complete copy, and closes every connection. Everything
// Append returned nil for is already durable before Close. It is safe to call
// more than once.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		if s.w != nil {
			var busy, logPages, moved int
			err := s.w.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &moved)
			switch {
			case err != nil:
				s.log.Warn("store checkpoint", "err", err)
			case busy != 0:
				// Another process (a backup, an export) is still reading; the
				// log stays and is replayed on the next open.
				s.log.Info("store checkpoint incomplete: database in use elsewhere", "wal_pages", logPages, "moved", moved)
			}
		}
		s.closeErr = s.closeDBs(true)
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close store: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// closeDBs closes every statement and connection, then gives up the lock.
// clean says the server is stopping as it should: then, if everything
// closed, the marker of an open database goes too.
func (s *SQLite) closeDBs(clean bool) error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insert, s.recent, s.search, s.allRooms, s.before, s.page, s.last, s.byName} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if clean && s.marker != "" && errors.Join(errs...) == nil {
		// Before the lock goes: the next server's marker must not be ours.
		errs = append(errs, os.Remove(s.marker))
	}
	if s.lock != nil {
		// Last: the database is closed before another server may open it.
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

func (s *SQLite) prepare(ctx context.Context) error {
	var err error
	prep := func(db *sql.DB, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("prepare %q: %w", q, err)
		}
		return st
	}
	if s.w != nil {
		// line counts every room's lines in the order they are stored:
		// the newest is the end of its unique index, one short walk.
		s.insert = prep(s.w, `INSERT INTO messages (room_id, seq, line, at, author, kind, text, edited, deleted)
			VALUES (?1, ?2, (SELECT coalesce(max(line), 0) + 1 FROM messages), ?3, ?4, ?5, ?6, ?7, ?8)`)
	}
	// Newest first with a LIMIT walks the primary key backwards from the
	// end of the range: cost grows with n, not with the room's history.
	s.recent = prep(s.r, `SELECT seq, at, author, kind, text, edited, deleted FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?`)
	s.before = prep(s.r, `SELECT seq, at, author, kind, text, edited, deleted FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`)
	s.page = prep(s.r, `SELECT seq, at, author, kind, text, edited, deleted FROM messages WHERE room_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`)
	// The index hands hits over newest first (by line, its rowid), so a
	// LIMIT stops the walk early however common the words are. The query
	// (ftsQuery) names the rooms too.
	s.search = prep(s.r, `
		SELECT m.room_id, m.seq, m.at, m.author, m.kind, m.text, m.edited, m.deleted
		FROM messages_fts f JOIN messages m ON m.line = f.rowid
		WHERE messages_fts MATCH ?1
		ORDER BY f.rowid DESC LIMIT ?2`)
	s.allRooms = prep(s.r, `SELECT id FROM rooms`)
	s.last = prep(s.r, `SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = ?`)
	s.byName = prep(s.r, `SELECT id FROM rooms WHERE name = ?`)
	return err
}

// migration is one schema step: migrations/NNNN_name.sql brings the schema
// to version NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(entries)
	out := make([]migration, 0, len(entries))
	for i, e := range entries {
		base := filepath.Base(e)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name like %04d_what.sql", base, i+1)
		}
		b, err := migrationFS.ReadFile(e)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	return out, nil
}

// migrate applies the migrations the database has not seen, each in its own
// transaction together with the PRAGMA user_version that records it, so a
// failure leaves the schema at the last complete version.
func (s *SQLite) migrate(ctx context.Context) error {
	migs, err := migrations()
	if err != nil {
		return err
	}
	var have int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migs) {
		return newerSchema(have, len(migs))
	}
	for _, m := range migs[have:] {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to %s: %w", m.name, err)
		}
		// Another process may have migrated between our read and our BEGIN
		// IMMEDIATE; check again now that we hold the write lock.
		var now int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&now); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %s: %w", m.name, err)
		}
		if now >= m.version {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to %s: %w", m.name, err)
		}
		s.log.Info("store migrated", "to", m.name)
	}
	return nil
}
