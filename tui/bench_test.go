package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/internal/lobbytest"
	"github.com/chatroom-ssh/chatroom/lobby"
)

var benchNames = []string{"alice", "bob", "carol", "dave", "李小龍", "zoë", "mallory", "trent"}

// benchMessage is a chat line of varied length, some with wide characters.
func benchMessage(seq int) *lobby.Message {
	words := []string{"hello", "there", "漢字", "😀", "quite", "a", "long", "message", "about", "nothing", "much"}
	var b strings.Builder
	for i := range 3 + seq%25 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[(seq+i)%len(words)])
	}
	return &lobby.Message{Room: "alpha", Seq: uint64(seq), At: time.Now(), From: benchNames[seq%len(benchNames)], Kind: lobby.KindChat, Text: b.String()}
}

// benchModel is a signed-in model in room alpha at w×h, with a sidebar of
// rooms (alpha among them) and lines of scrollback made by msg: 100 replayed
// as history, the rest live, as the real event path builds it.
func benchModel(tb testing.TB, w, h, lines, rooms int, msg func(int) *lobby.Message) *Model {
	l := lobbytest.New(tb, lobby.Config{})
	m := New(Options{Lobby: l, MaxSessions: 100, Width: w, Height: h, Scrollback: lines + 100})
	m.screen, m.me, m.online = screenMain, "alice", 42
	var list []lobby.RoomInfo
	for i := range rooms - 1 {
		list = append(list, lobby.RoomInfo{Name: fmt.Sprintf("room-%02d", i), Users: i})
	}
	list = append(list, lobby.RoomInfo{Name: "alpha", Users: 42})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventRoomsChanged}}, rooms: list, online: 50})
	var hist []lobby.Message
	for i := 1; i <= min(lines, 100); i++ {
		hist = append(hist, *msg(i))
	}
	m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventEntered, Room: "alpha", History: hist}}})
	for i := 101; i <= lines; i++ {
		m.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: msg(i)}}})
	}
	m.View()
	return m
}

func BenchmarkView(b *testing.B) {
	for _, lines := range []int{100, 5000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			m := benchModel(b, 120, 40, lines, 5, benchMessage)
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

func BenchmarkNewMessage(b *testing.B) {
	for _, lines := range []int{100, 5000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			m := benchModel(b, 120, 40, lines, 5, benchMessage)
			msgs := make([]eventMsg, 1024)
			for i := range msgs {
				msgs[i] = eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: benchMessage(lines + 1 + i)}}}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Update(msgs[i%len(msgs)])
				_ = m.View()
				i++
			}
		})
	}
}

// TestViewCostIndependentOfScrollback checks the property the benchmarks
// measure: a frame allocates the same with 100 or 5,000 lines behind it.
func TestViewCostIndependentOfScrollback(t *testing.T) {
	small := benchModel(t, 120, 40, 100, 5, benchMessage)
	big := benchModel(t, 120, 40, 5000, 5, benchMessage)
	a := testing.AllocsPerRun(50, func() { _ = small.View() })
	b := testing.AllocsPerRun(50, func() { _ = big.View() })
	if a != b || a > 4 {
		t.Fatalf("allocations per View: %v with 100 lines, %v with 5000; want equal and small", a, b)
	}
	next := 6000
	a = testing.AllocsPerRun(50, func() {
		small.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: benchMessage(next)}}})
		_ = small.View()
		next++
	})
	b = testing.AllocsPerRun(50, func() {
		big.Update(eventMsg{evs: []lobby.Event{{Kind: lobby.EventMessage, Msg: benchMessage(next)}}})
		_ = big.View()
		next++
	})
	if diff := a - b; diff > 2 || diff < -2 {
		t.Fatalf("allocations per new line: %v with 100 lines, %v with 5000; want about equal", a, b)
	}
}
