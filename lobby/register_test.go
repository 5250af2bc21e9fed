package lobby

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRegisterNames(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // the name given; "" when refused
	}{
		{"plain", "alice", "alice"},
		{"punctuation", "a.b-c_d", "a.b-c_d"},
		{"digits", "r2d2", "r2d2"},
		{"surrounding spaces trimmed", "  bob\t", "bob"},
		{"longest", strings.Repeat("n", MaxNameLen), strings.Repeat("n", MaxNameLen)},
		{"accented", "Zoë", "Zoë"},
		{"decomposed becomes NFC", "e\u0301tienne", "\u00e9tienne"},
		{"Greek", "Ωμέγα", "Ωμέγα"},
		{"Cyrillic alone", "Иван", "Иван"},
		{"Japanese mix", "山田タロウ", "山田タロウ"},
		{"Devanagari with marks", "अंकित", "अंकित"},
		{"Thai with marks", "สมศักดิ์", "สมศักดิ์"},
		{"Hebrew", "אבי", "אבי"},
		{"hand-picked guest name", "Guest77", "Guest77"},

		{"too long", strings.Repeat("n", MaxNameLen+1), ""},
		{"too long in characters", strings.Repeat("é", MaxNameLen+1), ""},
		{"inner space", "alice smith", ""},
		{"symbol", "alice!", ""},
		{"at sign", "@alice", ""},
		{"NUL", "ali\x00ce", ""},
		{"escape", "\x1b[31malice", ""},
		{"only an escape", "\x1b[2J", ""},
		{"newline", "alice\nbob", ""},
		{"DEL", "alice\x7f", ""},
		{"C1", "alice\u009b", ""},
		{"invalid UTF-8", "alice\xff", ""},
		{"zero-width space", "ali\u200bce", ""},
		{"zero-width joiner", "ali\u200dce", ""},
		{"word joiner", "ali\u2060ce", ""},
		{"BOM", "\ufeffalice", ""},
		{"combining grapheme joiner", "ali\u034fce", ""},
		{"Hangul filler", "\u3164", ""},
		{"fullwidth", "ａｌｉｃｅ", ""},
		{"fullwidth digit", "alice１", ""},
		{"mathematical bold", "\U0001d41a\U0001d425\U0001d422\U0001d41c\U0001d41e", ""},
		{"ligature", "\ufb01sh", ""},
		{"Cyrillic a among Latin", "\u0430lice", ""},
		{"Greek omicron among Latin", "b\u03bfb", ""},
		{"Latin and Greek and Cyrillic", "aβж", ""},
		{"bidi override", "\u202etxt.exe", ""},
		{"RTL then Latin", "אבa", ""},
		{"mark on nothing", "\u0301alice", ""},
		{"mark after punctuation", "a.\u0301b", ""},
		{"combining flood", "Z\u0300\u0301\u0302\u0303\u0304\u0305", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLobby(t, Config{})
			s, err := l.Register(context.Background(), tc.input)
			if tc.want == "" {
				if !errors.Is(err, ErrNameInvalid) {
					t.Fatalf("Register(%q) = %v, %v; want ErrNameInvalid", tc.input, s, err)
				}
				if got := l.Online(); got != 0 {
					t.Errorf("Online() = %d after a refusal, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Register(%q): %v", tc.input, err)
			}
			if got := s.Name(); got != tc.want {
				t.Errorf("Name() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRegisterTaken(t *testing.T) {
	tests := []struct{ first, second string }{
		{"alice", "alice"},
		{"alice", "ALICE"},
		{"Alice", "aLiCe "},
		{"Straße", "STRASSE"},
		{"\u00e9tienne", "E\u0301TIENNE"},
		{"ΣΊΣΥΦΟΣ", "σίσυφος"},
		{"Guest1", "guest1"},
		// Whole-script look-alikes: one alphabet each, so the one-script
		// rule lets them through; the confusable skeleton does not.
		{"ape", "аре"},         // Cyrillic а р е
		{"coco", "сосо"},       // Cyrillic с о с о
		{"paypal", "paypa1"},   // digit one for l
		{"Guest10", "Guest1O"}, // letter O for zero
		// A capital I for a small l: case folding alone would make it an i.
		{"alice", "aIice"},
		{"Alice", "AIice"},
		{"aIice", "alice"},
		{"bill", "biII"},
		{"Alice", "aIice"},
		{"AIice", "alice"},
		{"AIice", "ALICE"},
	}
	for _, tc := range tests {
		t.Run(tc.first+"/"+tc.second, func(t *testing.T) {
			l := newLobby(t, Config{})
			register(t, l, tc.first)
			second := tc.second
			if _, err := l.Register(context.Background(), second); !errors.Is(err, ErrNameTaken) {
				t.Fatalf("Register(%q) after %q = %v, want ErrNameTaken", second, tc.first, err)
			}
		})
	}
}

// TestRegisterNotConfusable: names that merely share letters, or are the
// same word in another alphabet that does not look alike, are all free.
func TestRegisterNotConfusable(t *testing.T) {
	l := newLobby(t, Config{})
	for _, name := range []string{"ape", "apes", "apex", "Иван", "Ivan", "alice", "alicia", "bob", "b0b2", "ALLCE", "aiice"} {
		register(t, l, name)
	}
}

func TestGuestNumbers(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	l := newLobby(t, Config{Store: store})
	var got []string
	for _, name := range []string{"", "alice", "", "Guest5", "", ""} {
		got = append(got, register(t, l, name).Name())
	}
	// Every user counts, named or not. The fourth user took "Guest5" by
	// hand, the name the next guest was due, so that guest is counted
	// twice (5 is taken, 6 is free) and numbering goes on from there.
	want := []string{"Guest1", "alice", "Guest3", "Guest5", "Guest6", "Guest7"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("names = %q, want %q", got, want)
	}

	// The counter lives in the store, so it survives a restart.
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l2 := newLobby(t, Config{Store: store})
	if got := register(t, l2, "").Name(); got != "Guest8" {
		t.Errorf("first guest after restart = %q, want Guest8", got)
	}
}

func TestRegisterFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("log fails", func(t *testing.T) {
		log := NewMemoryLog()
		l := newLobby(t, Config{Log: log})
		log.FailAppends(errDisk)
		_, err := l.Register(ctx, "")
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errDisk) {
			t.Errorf("Register = %v, want ErrUnavailable wrapping the log's error", err)
		}
		if got := l.Online(); got != 0 {
			t.Errorf("Online() = %d, want 0", got)
		}
		log.FailAppends(nil)
		register(t, l, "alice") // and it recovers
	})
	t.Run("lobby closed", func(t *testing.T) {
		l := newLobby(t, Config{})
		l.Shutdown()
		if _, err := l.Register(ctx, "alice"); !errors.Is(err, ErrLobbyClosed) {
			t.Errorf("Register after Shutdown = %v, want ErrLobbyClosed", err)
		}
		if _, err := l.Register(ctx, ""); !errors.Is(err, ErrLobbyClosed) {
			t.Errorf("Register guest after Shutdown = %v, want ErrLobbyClosed", err)
		}
	})
}
