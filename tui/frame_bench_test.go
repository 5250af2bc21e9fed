package tui

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// frameRig renders a model's views the way Bubble Tea's renderer does in the
// alt screen: clear the cell buffer, parse the whole view into it, diff it
// against what the terminal shows (with the scroll optimisation), write the
// difference. That pipeline is most of a session's CPU per delivered line, so
// the benchmarks below measure it together with the model's own Update and
// View instead of the model alone.
type frameRig struct {
	m   *Model
	buf uv.ScreenBuffer
	scr *uv.TerminalRenderer
	out bytes.Buffer
}

func newFrameRig(m *Model) *frameRig {
	r := &frameRig{m: m, buf: uv.NewScreenBuffer(m.w, m.h)}
	r.scr = uv.NewTerminalRenderer(&r.out, []string{"TERM=xterm-256color"})
	r.scr.SetColorProfile(colorprofile.ANSI256)
	r.scr.SetTabStops(-1)
	r.scr.SetScrollOptim(true)
	r.scr.SetFullscreen(true)
	r.scr.SetRelativeCursor(false)
	r.scr.Resize(m.w, m.h)
	r.scr.Erase()
	r.frame()
	return r
}

// frame renders the model's current view and returns the bytes it wrote.
func (r *frameRig) frame() int {
	r.out.Reset()
	r.buf.Clear()
	uv.NewStyledString(r.m.View().Content).Draw(r.buf, r.buf.Bounds())
	r.scr.Render(r.buf.RenderBuffer)
	_ = r.scr.Flush()
	return r.out.Len()
}

// BenchmarkFrame is the CPU one session spends to show one new chat line:
// the model's Update and View plus the renderer's parse, diff and write.
// The bound is 0.85 ms per line at 120x40, the same with 100 or
// 5,000 lines of scrollback. sessions=100 renders 100 models in turn, as a
// server does, so their cell buffers (about 1 MB each) no longer fit in the
// CPU's caches: that is the figure a busy server sees.
func BenchmarkFrame(b *testing.B) {
	for _, c := range []struct {
		w, h, lines, rooms, sessions int
		text                         string
	}{
		{120, 40, 100, 5, 1, "tokens"},
		{120, 40, 5000, 5, 1, "tokens"},
		{120, 40, 100, 5, 100, "tokens"},
		{120, 40, 100, 5, 1, "prose"},
		{120, 40, 100, 40, 1, "tokens"},
		{80, 24, 100, 5, 1, "tokens"},
		{200, 60, 100, 5, 1, "tokens"},
	} {
		name := fmt.Sprintf("%dx%d/lines=%d/rooms=%d/sessions=%d/%s", c.w, c.h, c.lines, c.rooms, c.sessions, c.text)
		b.Run(name, func(b *testing.B) {
			msg := tokenMessage
			if c.text == "prose" {
				msg = asciiMessage
			}
			rigs := make([]*frameRig, c.sessions)
			for i := range rigs {
				rigs[i] = newFrameRig(benchModel(b, c.w, c.h, c.lines, c.rooms, msg))
			}
			msgs := make([]eventMsg, 1024)
			for i := range msgs {
				msgs[i] = eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: msg(c.lines + 1 + i)}}}
			}
			b.ReportAllocs()
			total, i := 0, 0
			for b.Loop() {
				r := rigs[i%len(rigs)]
				r.m.Update(msgs[(i/len(rigs))%len(msgs)])
				total += r.frame()
				i++
			}
			b.ReportMetric(float64(total)/float64(i), "bytes/line")
		})
	}
}

// tokenMessage is a line like the load tool's: a short name and a token.
func tokenMessage(seq int) *lobby.Message {
	m := benchMessage(seq)
	m.From = fmt.Sprintf("bq7x%04d", seq%100)
	m.Text = fmt.Sprintf("tkq7x-%03d-%05d", seq%5, seq)
	return m
}

// BenchmarkFrameUnread is what unread counts cost a session with a sidebar
// of 40 rooms and a Direct section: a line in its room while another
// room's count goes up in the same frame (the worst case: the lobby
// refreshes a session's counts at most five times a second, whatever the
// rate of lines elsewhere), and a count going up alone.
//
//	go test ./tui -run '^$' -bench FrameUnread -benchtime 2000x
func BenchmarkFrameUnread(b *testing.B) {
	const w, h, lines, rooms = 120, 40, 100, 40
	list := func(n int) []lobby.RoomInfo {
		var out []lobby.RoomInfo
		for i := range rooms - 1 {
			ri := lobby.RoomInfo{Name: fmt.Sprintf("room-%02d", i), Users: i}
			if i == 7 {
				ri.Unread, ri.Mentions = n, n/10
			}
			out = append(out, ri)
		}
		out = append(out, lobby.RoomInfo{Name: "alpha", Users: 42})
		return append(out,
			lobby.RoomInfo{Name: "@bob", With: "bob", Users: 1, Unread: 1, Mentions: 1},
			lobby.RoomInfo{Name: "@carol", With: "carol"})
	}
	for _, c := range []struct {
		name        string
		line, count bool
	}{
		{"line-only", true, false},
		{"line-and-count", true, true},
		{"count-only", false, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := newFrameRig(benchModel(b, w, h, lines, rooms, tokenMessage))
			// Fewer online than a crowd: a crowd's room lists wait for
			// the next presence flush, which would hide the cost.
			r.m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventRoomsChanged}}, rooms: list(0), online: crowd - 1})
			r.frame()
			msgs := make([]eventMsg, 1024)
			for i := range msgs {
				var m eventMsg
				if c.line {
					m.evs = append(m.evs, lobby.Event{Kind: lobby.EventMessage, Msg: tokenMessage(lines + 1 + i)})
				}
				if c.count {
					m.evs = append(m.evs, lobby.Event{Kind: lobby.EventRoomsChanged})
					m.rooms, m.online = list(i+1), crowd-1
				}
				msgs[i] = m
			}
			b.ReportAllocs()
			total, i := 0, 0
			for b.Loop() {
				r.m.Update(msgs[i%len(msgs)])
				total += r.frame()
				i++
			}
			b.ReportMetric(float64(total)/float64(i), "bytes/frame")
		})
	}
}
