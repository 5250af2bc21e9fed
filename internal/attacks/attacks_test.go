package attacks

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse(strings.NewReader("# comment\n\nosc\t\"\\x1b]0;x\\x07\"\nnul\t\"a\\x00b\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Attack{{"osc", "\x1b]0;x\x07"}, {"nul", "a\x00b"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"no tab here\n", "x\t\"unterminated\n", "# only comments\n"} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
}

func TestLoadFindsTheProjectList(t *testing.T) {
	list, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 40 {
		t.Fatalf("only %d attacks loaded from %s", len(list), Path())
	}
}
