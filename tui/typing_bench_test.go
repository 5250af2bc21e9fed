package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// typedBytes is what BenchmarkTyping types: the 200 KB.
const typedBytes = 200_000

// BenchmarkTyping is the CPU a session's model spends on 200 KB typed one
// key at a time, as a client pasting without bracketed paste (or a script
// writing to its PTY) sends it: every byte is one key press, and Bubble Tea
// asks for the view after each. "frames" also draws the view through the
// renderer's parse and diff every hundredth key when it changed, as the
// renderer's ticker would for a fast typist (it skips a view equal to the
// last one drawn). One op is the whole 200 KB; the bound is 2 s of
// server CPU for it.
func BenchmarkTyping(b *testing.B) {
	for _, c := range []struct {
		name  string
		every int // look for a new frame every this many keys; 0: never
	}{
		{"model", 0},
		{"frames", 100},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b, 120, 40, 100, 5, benchMessage)
			var rig *frameRig
			if c.every > 0 {
				rig = newFrameRig(m)
			}
			key := tea.KeyPressMsg{Code: 'a', Text: "a"}
			b.ReportAllocs()
			frames := 0
			for b.Loop() {
				m.input.Reset()
				last := ""
				for i := range typedBytes {
					m.Update(key)
					v := m.View().Content
					if rig != nil && i%c.every == 0 && v != last {
						rig.frame()
						last = v
						frames++
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/typedBytes, "ns/key")
			if rig != nil {
				b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
			}
		})
	}
}

// BenchmarkKeyInLongInput is one key press, and the view after it, with the
// cursor in the middle of an input that holds almost the message cap: a
// typed character and a backspace in turn, or a move left and right.
func BenchmarkKeyInLongInput(b *testing.B) {
	for _, c := range []struct {
		name string
		keys [2]tea.KeyPressMsg
	}{
		{"type", [2]tea.KeyPressMsg{{Code: 'x', Text: "x"}, {Code: tea.KeyBackspace}}},
		{"move", [2]tea.KeyPressMsg{{Code: tea.KeyLeft}, {Code: tea.KeyRight}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b, 120, 40, 100, 5, benchMessage)
			m.Update(tea.PasteMsg{Content: strings.Repeat("word ", 398)}) // 1990 characters
			for range 1000 {
				m.Update(tea.KeyPressMsg{Code: tea.KeyLeft})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Update(c.keys[i%2])
				_ = m.View()
				i++
			}
		})
	}
}
