package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// Backup writes a consistent copy of the database in dir to the new file
// dest, while a server may be running on dir. It is SQLite's VACUUM INTO
// on a read-only connection: one read transaction, so the copy is the
// database as of one commit, with the write-ahead log's recent commits in
// it (a plain copy of chatroom.db would miss them), and it never blocks
// the server's writer. The copy includes the local table, so a node
// started on it resumes its log from the cursor the source had reached,
// and any batches of a node's own log not yet applied, which it applies at
// start.
//
// dest must not exist. The copy is synced to disk before Backup returns
// (VACUUM INTO does not sync what it writes).
func Backup(ctx context.Context, dir, dest string) error {
	src, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("back up: %s: %w", dest, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(src, url.Values{
		"mode":          {"ro"},
		"_busy_timeout": {strconv.Itoa(busyTimeoutMS)},
	}))
	if err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		os.Remove(dest) // a half-written copy is worse than none
		return fmt.Errorf("back up %s: %w", src, err)
	}
	if err := syncFile(dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("back up %s: %w", src, err)
	}
	return nil
}

// syncFile flushes a file's contents to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
