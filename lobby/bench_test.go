package lobby

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkCleanText(b *testing.B) {
	typical := "Has anyone tried the new build? It crashed twice for me on startup, then worked."
	mixed := "Zoë: the café opens at 9 — see you there 🙂 (日本語もOK) and bring the ½ kg of tea"
	cases := []struct{ name, s string }{
		{"ascii-80", typical},
		{"mixed-80", mixed},
		{"ascii-2000", strings.Repeat(typical, 25)},
		{"mixed-2000", strings.Repeat(mixed, 25)[:2000]},
		{"hostile-2000", strings.Repeat("\x1b[31mred\x1b[0m \x1b]0;t\x07\u202e\u0301\u0302 ", 2000/28)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = CleanText(c.s)
			}
		})
	}
}

func BenchmarkValidName(b *testing.B) {
	for _, name := range []string{"alice", "Zoë-Ångström", "山田タロウ"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				validName(name, MaxNameLen)
			}
		})
	}
}

// BenchmarkNameLookup: what matching a name against the names in use
// costs (Claim does it under the lobby's lock, and now again against the
// registered names): userKey alone, and the look-alike index's find.
func BenchmarkNameLookup(b *testing.B) {
	x := make(lookIndex[*member])
	for i := range 1000 {
		name := "user" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
		x.add(name, &member{name: name})
	}
	for _, name := range []string{"alice", "Zoë-Ångström", "山田タロウ"} {
		b.Run("userKey/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = userKey(name)
			}
		})
		b.Run("find/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.find(name)
			}
		})
	}
}

// BenchmarkMentions: what finding the names in a line costs the applier,
// once per chat line (not per member), with 1000 readers to look them up
// among.
//
//	go test ./lobby -run '^$' -bench Mentions
func BenchmarkMentions(b *testing.B) {
	l := &Lobby{readers: make(map[string]*reader)}
	for i := range 1000 {
		l.indexReaderLocked(newReader(fmt.Sprintf("user%03d", i), nil))
	}
	r := &room{name: "alpha"}
	for _, c := range []struct{ name, text string }{
		{"plain-80", "Has anyone tried the new build? It crashed twice for me on startup, then worked."},
		{"naming-80", "user042: has anyone tried the new build? @user007 said it crashed, user999 too."},
		{"mixed-80", "Zoë: the café opens at 9 — see you there 🙂 (日本語もOK) and bring the ½ kg of tea"},
		{"hostile-2000", strings.Repeat("_.-", 300) + strings.Repeat("a_b.c-d ", 137)},
	} {
		msg := &Message{Room: "alpha", Seq: 1, Text: c.text}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				l.mentionsLocked(r, msg, nil)
			}
		})
	}
}

// BenchmarkSpeakCheck: what keeping order adds to every chat line (the
// command and the applier both ask whether its author may speak): nothing
// to look up while nobody is muted and the raid guard is off; a look-up of
// the author's registration otherwise.
//
//	go test ./lobby -run '^$' -bench SpeakCheck
func BenchmarkSpeakCheck(b *testing.B) {
	l := &Lobby{regs: make(lookIndex[*registration]), keyNames: make(map[string]*registration), order: newOrderState()}
	reg := &registration{name: "alice", keys: []heldKey{{FP: "SHA256:a"}}}
	l.regs.add(reg.name, reg)
	l.keyNames["SHA256:a"] = reg
	r := &room{name: "alpha"}
	alice := &member{name: "alice", fp: "SHA256:a", room: r}
	guest := &member{name: "Guest7", addr: "192.0.2.1:1", room: r}
	check := func(b *testing.B, m *member) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.speakRefusalLocked(m, r, 1)
		}
	}
	b.Run("nothing-holds", func(b *testing.B) { check(b, alice) })
	l.order.mutes[nil] = []*restriction{{Name: "carol", Keys: []string{"SHA256:c"}}}
	b.Run("a-mute-elsewhere/registered", func(b *testing.B) { check(b, alice) })
	b.Run("a-mute-elsewhere/guest", func(b *testing.B) { check(b, guest) })
	l.order.mutes = make(restrictions)
	r.meta.RegisteredOnly = true
	b.Run("raid-guard/registered", func(b *testing.B) { check(b, alice) })
}
