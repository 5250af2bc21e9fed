package tui

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

// frameWriter hands every write (one per rendered frame) to a channel.
type frameWriter struct{ frames chan int }

func (w *frameWriter) Write(p []byte) (int, error) {
	w.frames <- len(p)
	return len(p), nil
}

// BenchmarkWireBytesPerMessage runs the model in a real tea.Program and
// measures what the renderer writes to the terminal for each new line while
// following the bottom: the figure that multiplies by sessions × messages.
//
// Rows holding a wide character (CJK, emoji) are repainted by the renderer
// whenever they move, whatever the layout (ultraviolet treats them as
// "drift-prone": the terminal may measure them differently), so the
// benchmark runs with plain text and with mixed text.
func BenchmarkWireBytesPerMessage(b *testing.B) {
	for _, text := range []string{"ascii", "mixed"} {
		for _, rooms := range []int{5, 40} {
			b.Run(fmt.Sprintf("text=%s/rooms=%d", text, rooms), func(b *testing.B) {
				msg := benchMessage
				if text == "ascii" {
					msg = asciiMessage
				}
				benchWire(b, rooms, msg)
			})
		}
	}
}

func asciiMessage(seq int) *lobby.Message {
	m := benchMessage(seq)
	m.From = fmt.Sprintf("user%d", seq%8)
	m.Text = strings.Repeat("plain words ", 1+seq%12)
	return m
}

func benchWire(b *testing.B, rooms int, msg func(int) *lobby.Message) {
	l := lobbytest.New(b, lobby.Config{})
	m := New(Options{Lobby: l, MaxSessions: 100, Width: 120, Height: 40})
	m.screen, m.me, m.online = screenMain, "alice", 42
	var list []lobby.RoomInfo
	for i := range rooms {
		list = append(list, lobby.RoomInfo{Name: fmt.Sprintf("room-%02d", i), Users: i})
	}
	list = append(list, lobby.RoomInfo{Name: "alpha", Users: 3})
	m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventRoomsChanged}}, rooms: list, online: 50})
	var hist []lobby.Message
	for i := 1; i <= 100; i++ {
		hist = append(hist, *msg(i))
	}
	m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventEntered, Room: "alpha", History: hist}}})

	w := &frameWriter{frames: make(chan int, 64)}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(w), tea.WithWindowSize(120, 40),
		tea.WithColorProfile(colorprofile.ANSI256), tea.WithoutSignalHandler())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.Run()
	}()
	defer func() {
		p.Quit()
		go func() { _, _ = io.Copy(io.Discard, chanReader(w.frames)) }()
		<-done
	}()
	<-w.frames // the first, full frame
	drainFor(w.frames, 50*time.Millisecond)

	seq := 10000
	total := 0
	b.ResetTimer()
	for range b.N {
		p.Send(eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: msg(seq)}}})
		seq++
		total += <-w.frames
	}
	b.ReportMetric(float64(total)/float64(b.N), "bytes/msg")
}

func drainFor(c chan int, d time.Duration) {
	for {
		select {
		case <-c:
		case <-time.After(d):
			return
		}
	}
}

// chanReader lets io.Copy drain the frame channel until the program ends.
type chanReader chan int

func (c chanReader) Read(p []byte) (int, error) {
	select {
	case <-c:
		return 0, nil
	case <-time.After(time.Second):
		return 0, io.EOF
	}
}
