package tui

import (
	"strings"
	"testing"
)

// TestUserIndexIsStable pins the palette slot of some names: a user keeps
// one colour across restarts and releases, so the mapping must not change
// (these are the slots the hand-written FNV-1a gave before hash/fnv).
func TestUserIndexIsStable(t *testing.T) {
	want := map[string]int{
		"alice": 11, "Alice": 11, "ALICE": 11, "bob": 8, "carol": 2, "dave": 7,
		"李小龍": 10, "zoë": 4, "mallory": 1, "trent": 0, "Guest1": 10, "Guest12": 8,
	}
	for name, slot := range want {
		if got := userIndex(name); got != slot {
			t.Errorf("userIndex(%q) = %d, want %d", name, got, slot)
		}
	}
}

func BenchmarkUserIndex(b *testing.B) {
	names := append([]string{}, benchNames...)
	names = append(names, strings.ToUpper(names[0]))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = userIndex(names[i%len(names)])
		i++
	}
}
