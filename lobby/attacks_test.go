package lobby

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// attack is one entry of testdata/terminal-attacks.txt, a copy of the
// project's shared list of hostile inputs.
type attack struct {
	name, payload string
}

func loadAttacks(t testing.TB) []attack {
	t.Helper()
	f, err := os.Open("testdata/terminal-attacks.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []attack
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, lit, ok := strings.Cut(text, "\t")
		if !ok {
			t.Fatalf("attack line without a tab: %q", text)
		}
		payload, err := strconv.Unquote(lit)
		if err != nil {
			t.Fatalf("attack %s: %v", name, err)
		}
		out = append(out, attack{name, payload})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no attacks in testdata/terminal-attacks.txt")
	}
	return out
}
