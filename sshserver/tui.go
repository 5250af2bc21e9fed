package sshserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/tui"
)

// finalModel is what runTUI needs of the model a finished program returns.
type finalModel interface {
	Session() *lobby.Session
	Goodbye() string
	ExitCode() int
}

// runTUI runs one Bubble Tea program for a PTY session. It does what wish's
// bubbletea middleware does, plus what that middleware cannot: it keeps the
// final model (for the good-bye line and exit status), quits when the
// client closes its input, and never leaves the program running after the
// session.
func (s *Server) runTUI(ctx context.Context, cancel func(), ss *session, log *slog.Logger) {
	sess := ss.ssh
	registered := make(chan *lobby.Session, 1)
	pty, windowChanges, _ := sess.Pty()
	model := tui.New(tui.Options{
		Lobby:         s.cfg.Lobby,
		Context:       ctx,
		MaxSessions:   s.cfg.MaxSessions,
		Width:         pty.Window.Width,
		Height:        pty.Window.Height,
		PromptTimeout: s.cfg.PromptTimeout,
		OnSession:     func(ls *lobby.Session) { registered <- ls },
	})
	input := &quitOnEOF{r: sess}
	opts := append(bm.MakeOptions(sess),
		tea.WithInput(input),
		tea.WithContext(ctx),
		// Otherwise every program would catch the server's own SIGINT.
		tea.WithoutSignalHandler(),
	)
	p := tea.NewProgram(model, opts...)
	input.setQuit(p.Quit)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		forwardResizes(p, windowChanges, done)
	}()
	go func() {
		defer wg.Done()
		s.watchDrop(ss, registered, done, cancel, log)
	}()
	final, err := p.Run()
	close(done)
	wg.Wait()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		log.Error("tui ended with an error", "err", err)
	}

	code, goodbye := 0, "Goodbye."
	if fm, ok := final.(finalModel); ok {
		if ls := fm.Session(); ls != nil {
			ls.Close() // frees the name even when the program was killed
		}
		code, goodbye = fm.ExitCode(), fm.Goodbye()
	}
	if s.shutdown.Err() != nil && !strings.Contains(goodbye, "shutting down") {
		// Killed at the prompt, or before the lobby's notice was read.
		goodbye = "The server is shutting down. Goodbye."
	}
	if sess.Context().Err() == nil {
		wish.Println(sess, goodbye)
	}
	_ = sess.Exit(code)
}

// forwardResizes sends the client's window changes to the program until done.
func forwardResizes(p *tea.Program, windowChanges <-chan ssh.Window, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case w, ok := <-windowChanges:
			if !ok {
				return
			}
			// Send returns once the program has it, or at once after the
			// program has ended.
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		}
	}
}

// quitOnEOF ends the program when the client closes its input. Without it a
// client that closes the session channel but keeps the connection (ssh
// multiplexing, libraries) would leave the program running.
type quitOnEOF struct {
	r    io.Reader
	mu   sync.Mutex
	quit func()
}

func (q *quitOnEOF) setQuit(quit func()) {
	q.mu.Lock()
	q.quit = quit
	q.mu.Unlock()
}

func (q *quitOnEOF) Read(b []byte) (int, error) {
	n, err := q.r.Read(b)
	if err != nil {
		q.mu.Lock()
		quit := q.quit
		q.mu.Unlock()
		if quit != nil {
			go quit() // Quit may wait for the event loop, which may be waiting on us
		}
	}
	return n, err
}

func debugStack() []byte { return debug.Stack() }
