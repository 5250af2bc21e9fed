package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrCorrupt means SQLite found the database damaged (a failing disk, a copy
// taken while the server wrote, a bad restore). Open refuses such a
// database; its error says how to recover.
var ErrCorrupt = errors.New("the history database is damaged")

// checkAlwaysBelow is the largest database Open checks at every start.
// PRAGMA quick_check reads every page: about 0.45 s for a million lines
// (90 MB) with the file in the page cache, 1.9 s from a cold disk, on the
// 2-core build machine (BenchmarkQuickCheck). Up to 1 GiB, roughly ten
// million lines, that is a few seconds at start; a bigger database is
// checked only after an unclean shutdown.
const checkAlwaysBelow = 1 << 30

// maxProblems is how many of quick_check's findings are kept for the log
// and the error.
const maxProblems = 5

// markerName is a file that exists while a server has the database open:
// Open creates it, a clean Close removes it. Found at Open, it means the
// last server crashed or was killed.
const markerName = "chatroom.open"

func markerPath(dir string) string { return filepath.Join(dir, markerName) }

// uncleanShutdown reports whether the last server to open the database in
// dir did not close it, and how that shows.
func uncleanShutdown(dir, path string) (bool, string) {
	if _, err := os.Stat(markerPath(dir)); err == nil {
		return true, markerName + " was left behind"
	}
	// A clean Close checkpoints the log into the database and SQLite then
	// deletes it; one with frames in it was left by a server that stopped
	// before that (or by a reader that kept it from finishing).
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return true, "the write-ahead log was not emptied"
	}
	return false, ""
}

// check runs SQLite's quick_check on the database when it is small enough
// to check at every start or the last server did not close it, and returns
// an ErrCorrupt error if it finds damage. It only reads.
func (s *SQLite) check(ctx context.Context, dir string, limit int64) error {
	unclean, why := uncleanShutdown(dir, s.path)
	var size int64
	if fi, err := os.Stat(s.path); err == nil {
		size = fi.Size()
	}
	if !unclean && (limit < 0 || size > limit) {
		s.log.Info("store check skipped: the database is big and was closed cleanly", "bytes", size)
		return nil
	}
	if unclean {
		s.log.Warn("store was not closed cleanly; checking it", "why", why)
	}
	start := time.Now()
	problems, err := s.quickCheck(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		s.log.Error("store damaged", "path", s.path, "quick_check", problems)
		return damaged(s.path, strings.Join(problems, "; "))
	}
	s.log.Info("store checked", "bytes", size, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// quickCheck returns what PRAGMA quick_check finds wrong, nothing when the
// database is intact. A database too damaged to be read at all (its header
// overwritten) is an ErrCorrupt error.
func (s *SQLite) quickCheck(ctx context.Context) ([]string, error) {
	rows, err := s.w.QueryContext(ctx, fmt.Sprintf("PRAGMA quick_check(%d)", maxProblems))
	if err != nil {
		return nil, checkErr(s.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, checkErr(s.path, err)
		}
		if p != "ok" {
			problems = append(problems, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, checkErr(s.path, err)
	}
	return problems, nil
}

func checkErr(path string, err error) error {
	if isCorrupt(err) {
		return damaged(path, err.Error())
	}
	return fmt.Errorf("check %s: %w", path, err)
}

// isCorrupt reports whether err is SQLite saying the file is damaged or is
// no database at all.
func isCorrupt(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code, without the extended part
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// damaged is the error Open gives for a damaged database: what is wrong,
// and what to do, in words for whoever started the server.
func damaged(path, detail string) error {
	return fmt.Errorf("%w: %s (SQLite: %s). The server did not start and changed nothing. "+
		"To recover, first copy the folder %s somewhere safe; then put your latest backup in place of %s "+
		"(deleting %s-wal and %s-shm), or salvage the lines that can still be read with sqlite3 "+
		"as \"History and data\" in the README shows",
		ErrCorrupt, path, detail, filepath.Dir(path), filepath.Base(path), filepath.Base(path), filepath.Base(path))
}
