package sshserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	uv "github.com/charmbracelet/ultraviolet"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/tui"
)

// finalModel is what runTUI needs of the model a finished program returns.
type finalModel interface {
	Ending() lobby.Ending
}

// runTUI runs one Bubble Tea program for a PTY session. It does what wish's
// bubbletea middleware does, plus what that middleware cannot: it keeps the
// final model (for the good-bye line and exit status), quits when the
// client closes its input, and never leaves the program running after the
// session.
func (s *Server) runTUI(ctx context.Context, cancel func(), sl *slot, log *slog.Logger) {
	sess := sl.ssh
	pty, _, _ := sess.Pty()
	win := sessionWindow(sess)
	select {
	case <-win.changed: // taken in the size read next
	default:
	}
	width, height := win.size()
	model := tui.New(tui.Options{
		Lobby:         s.cfg.Lobby,
		Session:       sl.lobby,
		Context:       ctx,
		MaxSessions:   s.cfg.Lobby.MaxSessions(),
		Width:         width,
		Height:        height,
		PromptTimeout: s.cfg.PromptTimeout,
		// ssh -t host ROOM. Times are shown in the lobby session's
		// zone (/tz, or the TZ the client sent), which the UI reads.
		Room: execRoom(sess.Command()),
	})
	opts := append(bm.MakeOptions(sess),
		// The program gets its input from readInput below, not from a
		// reader of its own: see there.
		tea.WithInput(nil),
		tea.WithContext(ctx),
		// Otherwise every program would catch the server's own SIGINT.
		tea.WithoutSignalHandler(),
		tea.WithFPS(frameRate(s.Sessions())),
		// These replace MakeOptions' own: the environment without the
		// door's entry, the size the UI draws, and a filter that does
		// what wish's does and more.
		tea.WithEnvironment(append(sessionEnv(sess), "TERM="+pty.Term)),
		tea.WithWindowSize(drawn(width, height)),
		tea.WithFilter(filterMsg),
	)
	p := tea.NewProgram(model, opts...)
	input := &quitOnEOF{r: sess, quit: p.Quit}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		forwardResizes(p, win, done)
	}()
	go func() {
		defer wg.Done()
		s.watchDrop(sl, done, cancel, log)
	}()
	// Not waited for: it reads the session until the session closes, which
	// happens only after this handler returns.
	go readInput(ctx, input, pty.Term, p)
	final, err := p.Run()
	close(done)
	wg.Wait()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		log.Error("tui ended with an error", "err", err)
	}

	sl.lobby.Close() // frees the name even when the program was killed
	end := s.cfg.Lobby.Ending(sl.lobby.Err(), sl.lobby.Name())
	if fm, ok := final.(finalModel); ok {
		end = fm.Ending()
	}
	if sess.Context().Err() == nil {
		wish.Println(sess, end.Farewell)
	}
	_ = sess.Exit(end.Code)
}

// forwardResizes sends the client's window changes to the program until
// done: the whole window for the UI to know, then the part it draws.
func forwardResizes(p *tea.Program, win *window, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-win.changed:
			w, h := win.size()
			// Send returns once the program has it, or at once after the
			// program has ended.
			p.Send(tui.TerminalSizeMsg{Width: w, Height: h})
			dw, dh := drawn(w, h)
			p.Send(tea.WindowSizeMsg{Width: dw, Height: dh})
		}
	}
}

// drawn is the part of a w×h window the UI draws in.
func drawn(w, h int) (int, int) { return min(w, tui.MaxWidth), min(h, tui.MaxHeight) }

// filterMsg is the program's message filter. It does what wish's does (a
// suspend would stop the whole server; it becomes a resume) and holds
// every window size to what the UI draws, whoever sent it: the renderer
// sizes its buffers by it.
func filterMsg(_ tea.Model, msg tea.Msg) tea.Msg {
	switch msg := msg.(type) {
	case tea.SuspendMsg:
		return tea.ResumeMsg{}
	case tea.WindowSizeMsg:
		msg.Width, msg.Height = drawn(msg.Width, msg.Height)
		return msg
	}
	return msg
}

// readInput decodes the client's keystrokes, mouse and terminal replies and
// hands them to the program. Bubble Tea's own reader sends each event into
// the program with a blocking channel send and no way out, so input that
// arrives as the program ends (a client typing while it hangs up, a late
// reply to a terminal query) left that goroutine, and through it the whole
// program, alive forever. Program.Send, used here, returns at once once the
// program has ended.
func readInput(ctx context.Context, r io.Reader, term string, p *tea.Program) {
	events := make(chan uv.Event)
	go func() {
		defer close(events)
		tr := uv.NewTerminalReader(r, term)
		tr.EscTimeout = escTimeout
		_ = tr.StreamEvents(ctx, events)
	}()
	for ev := range events {
		if _, ok := ev.(uv.WindowSizeEvent); ok {
			// A size report typed into the input: the window's size is
			// what the SSH window changes say.
			continue
		}
		p.Send(ev)
	}
}

// escTimeout is how long a lone ESC waits for the rest of an escape
// sequence before it counts as the Esc key. The library's 50ms suits a local
// terminal; over a network a mouse report or an arrow key can arrive in two
// packets further apart than that and would turn into stray typed text.
// Nothing in the UI does anything hasty on a bare Esc, so waiting is cheap.
const escTimeout = 250 * time.Millisecond

// quitOnEOF ends the program when the client closes its input. Without it a
// client that closes the session channel but keeps the connection (ssh
// multiplexing, libraries) would leave the program running.
type quitOnEOF struct {
	r    io.Reader
	quit func()
}

func (q *quitOnEOF) Read(b []byte) (int, error) {
	n, err := q.r.Read(b)
	if err != nil {
		go q.quit() // Quit may wait for the event loop, which may be busy
	}
	return n, err
}

// frameRate is the renderer tick rate for a session that opens while open
// sessions are open (itself included).
//
// Output leaves only on the renderer's tick, so the highest rate (120, the
// most Bubble Tea allows) halves the wait a new line spends before it is
// drawn. But every program's ticker also wakes when nothing changed: about
// 8% of a core per 100 sessions at 120, which at a thousand sessions is most
// of a core spent on waking up. So the server keeps the sum of all rates
// near a budget, with a floor that keeps the tick wait at most 50ms; in a
// crowd that size a line's fan-out takes longer than the tick anyway. Bubble
// Tea reads the rate once, when the program starts, so a session keeps the
// rate of the crowd it arrived in.
func frameRate(open int) int {
	const (
		budget  = 12000 // ticks per second, summed over sessions
		fastest = 120
		slowest = 20
	)
	return min(fastest, max(slowest, budget/max(open, 1)))
}
