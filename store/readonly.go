package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// OpenReadOnly opens the database in dir for reading only, for tools such as
// export. It works while a server has the same database open: in WAL mode a
// reader sees the last committed state and never blocks the writer. It
// works on a read-only copy too (a backup on read-only media, a folder the
// user may not write): with no write-ahead log beside the file, no server
// has it open and nothing is waiting to be written into it, so the file is
// read as immutable, which needs no -shm file. It does not create or
// migrate anything; a database of another schema version is refused with
// what to do about it.
func OpenReadOnly(ctx context.Context, dir string) (*SQLite, error) {
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("open store read-only: %w", err)
	}
	// Without this check SQLite would report a bare "unable to open".
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store read-only: %w", err)
	}
	wal, walErr := os.Stat(path + "-wal")
	immutable := errors.Is(walErr, os.ErrNotExist)
	s, err := openReader(ctx, path, immutable)
	if err != nil && !immutable && wal.Size() == 0 {
		// A leftover empty log in a folder SQLite may not write (it needs
		// a -shm file beside the log): nothing waits in it, so read the
		// file as it stands.
		s, err = openReader(ctx, path, true)
	}
	if err != nil {
		if !immutable && wal.Size() > 0 && !isCorrupt(err) {
			return nil, fmt.Errorf("open store read-only %s: its write-ahead log (%s-wal) holds changes not yet in the file, "+
				"and SQLite cannot read them here (it needs to create %s-shm beside it); "+
				"copy the folder somewhere writable and read the copy, or start the server on it once: %w",
				path, FileName, FileName, err)
		}
		return nil, fmt.Errorf("open store read-only %s: %w", path, err)
	}
	return s, nil
}

// openReader opens the reader pool on path and checks the schema version.
func openReader(ctx context.Context, path string, immutable bool) (*SQLite, error) {
	q := url.Values{
		"mode":          {"ro"},
		"_busy_timeout": {strconv.Itoa(busyTimeoutMS)},
		"_query_only":   {"1"},
	}
	if immutable {
		q.Set("immutable", "1")
	}
	s := &SQLite{path: path, log: slog.New(slog.DiscardHandler), readOnly: true, ids: make(map[string]int64)}
	var err error
	s.r, err = sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return nil, err
	}
	s.r.SetMaxOpenConns(readConns)
	s.r.SetMaxIdleConns(readConns)

	var have int
	if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		s.r.Close()
		return nil, err
	}
	migs, err := migrations()
	if err != nil {
		s.r.Close()
		return nil, err
	}
	switch want := len(migs); {
	case have > want:
		s.r.Close()
		return nil, newerSchema(have, want)
	case have < want:
		s.r.Close()
		return nil, fmt.Errorf("its schema version %d is older than this build reads (%d): start the server on it once, which upgrades it, then export", have, want)
	}
	if err := s.prepare(ctx); err != nil {
		s.closeDBs(false)
		return nil, err
	}
	return s, nil
}

// newerSchema is the error for a database written by a newer chatroom,
// which this build must neither read nor upgrade.
func newerSchema(have, want int) error {
	return fmt.Errorf("it was written by a newer chatroom (schema version %d; this build knows up to %d): use that newer chatroom, or a newer build of it, on this data", have, want)
}
