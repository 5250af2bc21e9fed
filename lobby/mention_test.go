package lobby

import (
	"strings"
	"testing"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		name, text string
		want       bool
	}{
		// Whole words, any case, with or without @.
		{"alice", "alice", true},
		{"alice", "hi alice", true},
		{"alice", "hi Alice!", true},
		{"alice", "ALICE: look", true},
		{"alice", "@alice look", true},
		{"Alice", "@ALICE look", true},
		{"alice", "ping@alice", true},
		{"alice", "(alice)", true},
		{"alice", "alice, bob", true},
		{"alice", "«alice»", true},
		{"alice", "hello alice.", true},
		{"alice", "alice...", true},
		{"alice", "...alice", true},
		{"alice", "-alice-", true},
		// Inside other words: never.
		{"alice", "malice", false},
		{"alice", "alices", false},
		{"alice", "alice2", false},
		{"alice", "alice.bob", false},
		{"alice", "bob.alice", false},
		{"alice", "alice-bob", false},
		{"alice", "bob_alice", false},
		{"alice", "me@alice.com", false},
		{"alice", "a l i c e", false},
		{"alice", "", false},
		{"al", "alice", false},
		// Names with '.', '-', '_'.
		{"a.b", "hi a.b", true},
		{"a.b", "hi a.b.", true},
		{"a.b", "hi a.bc", false},
		{"a.b", "hi a-b", false},
		{"a.b", "hi xa.b", false},
		{"bob_", "thanks bob_", true},
		{"bob_", "thanks bob_.", true},
		{"bob_", "thanks bob", false},
		{"bob", "thanks bob_", true}, // trailing punctuation, as "bob."
		{"_x_", "__x__", true},
		{"-dash", "see -dash!", true},
		{"dash-", "dash-, hi", true},
		{"j.r.r", "j.r.r.tolkien", false},
		// Punctuation alone is no word.
		{"...", "wait...", false},
		{"...", "...", false},
		// Other scripts and marks, compared as names are.
		{"Ölaf", "hej ölaf", true},
		{"Ölaf", "hej Ölafur", false},
		{"José", "oi jose", false},
		{"José", "oi JOSÉ", true},
		{"渡辺", "渡辺さん", false}, // no spaces between words in Japanese: only the whole run counts
		{"渡辺", "@渡辺 hi", true},
		{"", "anything", false},
	}
	for _, tt := range tests {
		if got := Mentions(tt.text, tt.name); got != tt.want {
			t.Errorf("Mentions(%q, %q) = %v, want %v", tt.text, tt.name, got, tt.want)
		}
	}
}

// TestMentionsBounded: a hostile line costs candidates in proportion to its
// length, not its square.
func TestMentionsBounded(t *testing.T) {
	text := strings.Repeat("_", 2000) + "alice" + strings.Repeat(".", 2000)
	calls := 0
	mentionWords(text, func(string) bool { calls++; return false })
	if calls > (maxKeptPunct+1)*(maxKeptPunct+1) {
		t.Errorf("%d candidates for one word, want at most %d", calls, (maxKeptPunct+1)*(maxKeptPunct+1))
	}
	if Mentions(text, "alice") != true {
		t.Error("a name inside a run of punctuation is still named")
	}
}

func FuzzMentions(f *testing.F) {
	for _, s := range []string{"hi alice.", "@alice", "alice.bob", "_x_", "ölaf", "\x1b[31malice"} {
		f.Add(s, "alice")
	}
	f.Fuzz(func(t *testing.T, text, name string) {
		got := Mentions(text, name)
		// Naming is a property of the words: an '@' or a space around the
		// text changes nothing.
		if Mentions(" "+text+" ", name) != got || Mentions("@"+text, name) != got {
			t.Fatalf("Mentions(%q, %q) = %v changes with spaces or @ around it", text, name, got)
		}
		if n, ok := validName(name, MaxNameLen); ok && Mentions(n, n) != hasNameLetters(n) {
			t.Fatalf("a valid name %q does not name itself", n)
		}
	})
}

// hasNameLetters reports whether a name is more than punctuation, which
// names nobody.
func hasNameLetters(name string) bool {
	return strings.ContainsFunc(name, func(r rune) bool { return r != '.' && r != '-' && r != '_' })
}
