package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chatroom-ssh/chatroom/store"
)

// runBackup writes a consistent copy of a data folder, taken while the
// server runs, into a new folder DEST that `chatroom --data DEST` starts
// on: the database through store.Backup (never a file copy of a live
// database), and beside it the folder's other files as they are (the host
// key, an operators file).
func runBackup(args []string, out, stderr io.Writer) error {
	fs := newFlagSet("chatroom backup", backupUsage, stderr)
	data := fs.String("data", "data", "the server's data folder")
	src, rest, err := parse(fs, args, true)
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 1:
		return fmt.Errorf("backup needs exactly one destination folder, got %d (chatroom backup -h)", len(rest))
	case *data == "":
		return fmt.Errorf("%s: must not be empty", src.describe("data"))
	}
	dest := rest[0]
	if err := backupFolder(context.Background(), *data, dest); err != nil {
		return err
	}
	fmt.Fprintf(out, "Backed up %s to %s. Start a server on it with: chatroom --data %s\n", *data, dest, dest)
	return nil
}

const backupUsage = `Usage: chatroom backup [--data DIR] DEST

Copies the data folder into the new folder DEST (an existing one must be
empty), consistently, while the server runs; chatroom --data DEST starts on
the copy. Each flag may also be set by its environment variable, named in
brackets.

Flags:
`

// dataOwnFiles are the files of a data folder that belong to the database
// or to the running server: the backup makes its own database and never
// copies these.
var dataOwnFiles = map[string]bool{
	store.FileName:              true,
	store.FileName + "-wal":     true,
	store.FileName + "-shm":     true,
	store.FileName + "-journal": true,
	"chatroom.lock":             true,
}

// backupFolder fills a temporary folder beside dest and renames it to
// dest once complete, so that dest never holds half a backup.
func backupFolder(ctx context.Context, data, dest string) error {
	if _, err := os.Stat(filepath.Join(data, store.FileName)); err != nil {
		return fmt.Errorf("back up %s: no chat database there: %w", data, err)
	}
	if err := checkDest(dest); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dest)), "."+filepath.Base(dest)+".partial-")
	if err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	if err := store.Backup(ctx, data, filepath.Join(tmp, store.FileName)); err != nil {
		return err
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	for _, e := range entries {
		if dataOwnFiles[e.Name()] || !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(data, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return fmt.Errorf("back up: %w", err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	// An empty dest is allowed (made ready by hand, or a mount point's
	// subfolder); checked again right before it goes.
	if err := checkDest(dest); err != nil {
		return err
	}
	if err := os.Remove(dest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	done = true
	return syncDir(filepath.Dir(filepath.Clean(dest)))
}

// checkDest refuses a destination that exists and is not an empty folder.
func checkDest(dest string) error {
	fi, err := os.Lstat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("back up to %s: it exists and is not a folder; give a new folder", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("back up to %s: the folder is not empty; give a new folder", dest)
	}
	return nil
}

// copyFile copies a regular file with its permission bits, synced.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	outf, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(outf, in); err != nil {
		outf.Close()
		return err
	}
	if err := outf.Sync(); err != nil {
		outf.Close()
		return err
	}
	return outf.Close()
}

// syncDir makes a folder's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
