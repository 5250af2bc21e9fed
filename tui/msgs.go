package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Every call into the lobby that can wait (store I/O, the event queue) runs
// in a tea.Cmd and reports back with one of these messages; Update itself
// never blocks and nothing here calls Program.Send.

// registeredMsg is the outcome of Lobby.Register.
type registeredMsg struct {
	sess   *lobby.Session
	rooms  []lobby.RoomInfo
	online int
	err    error
}

// eventMsg is one read of the session's queue: the event waited for and
// whatever was queued behind it (Session.NextBatch), handled in one Update
// so that a burst costs one View and at most one frame. When one of them is
// EventRoomsChanged it carries the room list and online count, read in the
// Cmd so Update never takes the lobby's lock.
type eventMsg struct {
	evs    []lobby.Event
	rooms  []lobby.RoomInfo
	online int
	// After an entry into a room or a change of the room list: the members
	// of the room the session is in, for their colours (see roomColours);
	// none for a crowd.
	membersOf string
	members   []string
	// bell says to ring the terminal's bell: a line among evs is meant
	// for the user (see meantFor) and the user has not turned it off.
	bell bool
}

// eventBatch bounds one read of a session's queue: half of what it holds
// (lobby.Lobby.Queue) keeps the Update that handles a batch short.
func eventBatch(l *lobby.Lobby) int { return max(1, l.Queue()/2) }

// promptTimeoutMsg says the name prompt has waited Options.PromptTimeout.
type promptTimeoutMsg struct{}

// presenceFlushMsg says it is time to show the held-back join/leave lines.
type presenceFlushMsg struct{}

// presenceFlushCmd fires after d, or gives up when ctx ends.
func presenceFlushCmd(ctx context.Context, d time.Duration) tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return presenceFlushMsg{}
		case <-ctx.Done():
			return nil
		}
	}
}

// endedMsg says Session.Next returned: the session is over.
type endedMsg struct{ err error }

// execDoneMsg is the outcome of one Session.Exec or Session.SelectRoom.
type execDoneMsg struct {
	err    error
	choose bool // it was a SelectRoom
}

// olderMsg is a page from Session.Older. gen ties it to the scrollback that
// asked, so a page for a room the user has since left is dropped.
type olderMsg struct {
	gen  uint64
	page lobby.Page
	err  error
}

// promptDeadlineCmd fires once the prompt has waited d. Unlike tea.Tick it
// gives up when ctx ends, so no goroutine outlives the session.
func promptDeadlineCmd(ctx context.Context, d time.Duration) tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return promptTimeoutMsg{}
		case <-ctx.Done():
			return nil
		}
	}
}

func registerCmd(ctx context.Context, l *lobby.Lobby, opened *lobby.Session, name string) tea.Cmd {
	return func() tea.Msg {
		s := opened
		var err error
		if s == nil {
			s, err = l.Register(ctx, name)
		} else {
			err = s.Claim(ctx, name)
		}
		if err != nil {
			return registeredMsg{err: err}
		}
		// The program can end before this message is read (Ctrl+C while
		// Register ran, a dropped connection); then nobody would ever see
		// this session to close it. Tie it to the SSH session's context.
		context.AfterFunc(ctx, s.Close)
		return registeredMsg{sess: s, rooms: s.Rooms(), online: l.Online()}
	}
}

// nextEventCmd waits for the session's next event: the event pump. Update
// issues it again after each event, so exactly one is waiting at a time.
func nextEventCmd(ctx context.Context, l *lobby.Lobby, s *lobby.Session) tea.Cmd {
	return func() tea.Msg {
		evs, err := s.NextBatch(ctx, eventBatch(l))
		if err != nil {
			return endedMsg{err: err}
		}
		msg := eventMsg{evs: evs}
		membership := false
		for _, ev := range evs {
			switch {
			case ev.Kind == lobby.EventRoomsChanged && msg.rooms == nil:
				msg.rooms, msg.online = s.Rooms(), l.Online()
				membership = true
			case ev.Kind == lobby.EventEntered:
				membership = true
			}
		}
		if membership {
			msg.membersOf, msg.members = s.RoomMembers(paletteSize)
		}
		msg.bell = rings(s, evs)
		return msg
	}
}

func execCmd(ctx context.Context, s *lobby.Session, o op) tea.Cmd {
	return func() tea.Msg {
		if o.choose {
			return execDoneMsg{err: s.SelectRoom(ctx, o.room), choose: true}
		}
		return execDoneMsg{err: s.Exec(ctx, o.line)}
	}
}

// olderCmd reads a page as the user may see it (Session.Older: the lines
// of people they ignore and the joins they chose not to see left out).
func olderCmd(ctx context.Context, s *lobby.Session, gen uint64, room string, before uint64) tea.Cmd {
	return func() tea.Msg {
		page, err := s.Older(ctx, room, before)
		return olderMsg{gen: gen, page: page, err: err}
	}
}
