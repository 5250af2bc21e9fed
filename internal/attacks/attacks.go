// Package attacks reads the project's list of hostile terminal inputs,
// lobby/testdata/terminal-attacks.txt, for the tests of every package that
// must show that such input reaches other people's terminals inert.
package attacks

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Attack is one entry: a short name and the hostile text itself.
type Attack struct {
	Name, Payload string
}

// Path is where the list lives, found from this file so that tests in any
// package can read it whatever their working directory.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "lobby", "testdata", "terminal-attacks.txt")
}

// Load reads the list at Path.
func Load() ([]Attack, error) {
	f, err := os.Open(Path())
	if err != nil {
		return nil, fmt.Errorf("open attack list: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads lines of NAME, a tab, and the payload as a Go string literal;
// blank lines and lines starting with # are skipped.
func Parse(r io.Reader) ([]Attack, error) {
	var out []Attack
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, lit, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("attack line without a tab: %q", line)
		}
		payload, err := strconv.Unquote(lit)
		if err != nil {
			return nil, fmt.Errorf("attack %s: %w", name, err)
		}
		out = append(out, Attack{Name: name, Payload: payload})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read attack list: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no attacks in the list")
	}
	return out, nil
}
