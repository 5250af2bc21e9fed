// Package lobby owns the chat itself: the connected users, the rooms and who is
// in them, the command set, room history and the fan-out of every line to the
// members of a room.
//
// It knows nothing of SSH, terminals or Bubble Tea: a front end (the TUI, the
// line mode, a test) registers a Session, feeds it the lines its user submits
// with Session.Exec, and renders what Session.Next returns. Everything a user
// sees — replies to commands, refusals, chat lines, join and leave notices —
// arrives through that one ordered stream, so every front end shows the same
// thing in the same order.
//
// Concurrency: one mutex (Lobby.mu) guards all shared state. Lines are
// persisted by a single committer goroutine in batches (group commit) and only
// then delivered, so nobody is ever shown a line that is not in the Store.
// Delivery is a non-blocking send into each session's bounded queue; a session
// whose queue is full is disconnected with ErrTooSlow instead of slowing
// anybody else down. Nothing under the mutex waits on a session.
//
// Untrusted text: every message and command argument passes through
// CleanText, and every screen name and room name must pass validName, before
// anybody else can see it, so that nothing a user types can act on another
// user's terminal or pass for another user's name. Front ends may show
// Message fields and notices as they are.
//
// Imports point inward: lobby imports no SSH, terminal or SQL package.
package lobby
