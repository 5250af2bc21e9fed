package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/chatroom-ssh/chatroom/internal/testutil"
)

const roChildEnv = "CHATROOM_STORE_RO_EXPORT"

// TestReadOnlyChild is the process the read-only tests run as an
// unprivileged user when they run as root, who may write anywhere. It
// exports room alpha of the database in the folder it is given.
func TestReadOnlyChild(t *testing.T) {
	dir := os.Getenv(roChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of the read-only tests")
	}
	if err := exportFrom(dir, os.Stdout); err != nil {
		fmt.Println("error:", err)
	}
}

func exportFrom(dir string, w io.Writer) error {
	ctx := context.Background()
	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Export(ctx, "alpha", w, FormatText)
}

// exportReadOnly exports room alpha from dir, which the caller has made
// read-only, as a user for whom it really is: this process, or a child
// running as nobody when this one is root. It returns the export, or
// "error: " and the error.
func exportReadOnly(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		var b bytes.Buffer
		if err := exportFrom(dir, &b); err != nil {
			return "error: " + err.Error()
		}
		return b.String()
	}
	// nobody must reach the folder and run a copy of this test binary.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	bin := filepath.Join(t.TempDir(), "store.test")
	copyFile(t, os.Args[0], bin, 0o755)
	os.Chmod(filepath.Dir(bin), 0o755)
	os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755)
	cmd := exec.Command(bin, "-test.run=^TestReadOnlyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), roChildEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = "/"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	// What the child printed, without go test's closing PASS line.
	s := string(out)
	if i := strings.LastIndex(s, "PASS\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}

// readOnlyCopy copies the named files of the database folder src into a
// new folder and makes folder and files read-only.
func readOnlyCopy(t *testing.T, src string, names ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		copyFile(t, filepath.Join(src, n), filepath.Join(dst, n), 0o444)
	}
	if err := os.Chmod(dst, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dst, 0o755) }) // so that it can be removed
	return dst
}

// TestExportReadOnlyCopy is finding 9 of issue #8: export failed on a
// read-only copy of a cleanly closed database ("unable to open database
// file (14)").
func TestExportReadOnlyCopy(t *testing.T) {
	src := t.TempDir()
	writeDatabase(t, src)
	var want bytes.Buffer
	if err := exportFrom(src, &want); err != nil {
		t.Fatal(err)
	}
	dst := readOnlyCopy(t, src, FileName)
	got := exportReadOnly(t, dst)
	if got != want.String() {
		t.Fatalf("export of the read-only copy: got %d bytes (%.300q), want %d", len(got), got, want.Len())
	}
	if n := strings.Count(got, "\n"); n != 3000 {
		t.Errorf("export has %d lines, want 3000", n)
	}
	entries, _ := os.ReadDir(dst)
	if len(entries) != 1 {
		t.Errorf("the read-only folder holds %d files, want only the database", len(entries))
	}
}

// TestExportReadOnlyCopyWithEmptyLog: a copy that kept an empty -wal (no
// changes waiting in it) is read as it stands.
func TestExportReadOnlyCopyWithEmptyLog(t *testing.T) {
	src := t.TempDir()
	writeDatabase(t, src)
	if err := os.WriteFile(filepath.Join(src, FileName+"-wal"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := readOnlyCopy(t, src, FileName, FileName+"-wal")
	if got := exportReadOnly(t, dst); strings.Count(got, "\n") != 3000 {
		t.Fatalf("export of the read-only copy: %.300q", got)
	}
}

// TestExportReadOnlyCopyWithPendingLog: a copy taken while a server ran,
// with lines still in its log, cannot be read in a read-only folder without
// losing them; the error says what to do.
func TestExportReadOnlyCopyWithPendingLog(t *testing.T) {
	src := t.TempDir()
	s := openT(t, src)
	createRooms(t, s, "alpha")
	appendT(t, s, lines("alpha", 1, 50))
	if fi, err := os.Stat(filepath.Join(src, FileName+"-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("no log with lines in it: %v", err)
	}
	dst := readOnlyCopy(t, src, FileName, FileName+"-wal")
	got := exportReadOnly(t, dst)
	if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "copy the folder somewhere writable") {
		t.Fatalf("export of a copy with a pending log: %.400q, want an error saying what to do", got)
	}
}

// TestReadOnlySchemaVersions: export says what is true of a database of
// another schema version, as the server does.
func TestReadOnlySchemaVersions(t *testing.T) {
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		version  int
		want     string
		wantOpen string // what the server says, "" if it opens
	}{
		{"newer", len(migs) + 1, "use that newer chatroom", "use that newer chatroom"},
		{"older", len(migs) - 1, "start the server on it once", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir)
			createRooms(t, s, "alpha")
			if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", tc.version)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			_, err := OpenReadOnly(context.Background(), dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenReadOnly = %v, want it to say %q", err, tc.want)
			}
			if tc.version > len(migs) && strings.Contains(err.Error(), "start the server") {
				t.Errorf("OpenReadOnly of a newer database = %v: the server refuses it too", err)
			}
			if tc.wantOpen == "" {
				return
			}
			w, err := Open(context.Background(), dir, testutil.Logger(t))
			if err == nil {
				w.Close()
				t.Fatalf("Open of a newer database succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantOpen) {
				t.Errorf("Open = %v, want it to say %q", err, tc.wantOpen)
			}
		})
	}
}
