// Package sshserver is chatroom's front door: the SSH server (host key, auth,
// the session limit, timeouts), and for each session either a Bubble Tea
// program running the tui (sessions with a PTY) or the plain line mode (no
// PTY: bots, scripts, screen readers).
//
// It owns the slots of its sessions: a session holds one of the chat's
// slots (lobby.Lobby.Open, the limit users see) from the moment its handler
// starts, name prompt included, until the handler returns or the lobby cuts
// it loose. It does not know how chat works: everything after the
// connection is the lobby's (via its Go API) and the tui's, and so is what
// a session says when it ends (lobby.Lobby.Ending) and at the prompt
// (lobby.Prompt).
//
// # Where things are
//
//	server.go    Config, Server (Listen, Serve, Shutdown), the session handler
//	             (handle), the slot it holds, watchDrop, a refusal at the door,
//	             the TZ a client sent (the lobby session's zone until /tz)
//	door.go      the door between a client and its session: what a connection may
//	             hold (connState), the filter of a session channel's requests
//	             (doorChannel), the window a client's size is kept in
//	limits.go    new connections per address per second, open ones per address,
//	             the allowed-keys file
//	observe.go   the Observer: sessions opened, closed and refused, for metrics
//	tui.go       a session with a PTY: its program (runTUI), input reader, resize
//	             forwarding, frame rate
//	linemode.go  a session without a PTY (runLineMode): plain lines in and out
//
// The door (door.go) caps the connections per address and the channels per
// connection, closes a connection with no session running, and answers
// every request a session channel sends, passing on to charm.land/ssh only
// the few it must see.
//
// Every client gets in (unless --allowed-keys limits the door to some keys),
// but one with SSH keys has to prove it holds one (see publicAuth): the
// fingerprint of that key, and whether it is a server operator's, go to the
// lobby with the session. No other key material leaves this package (and
// internal/authkeys, which reads keys). Before the name prompt the door
// turns away a key that opened too many sessions in the last minute
// (Config.KeyRate) and, on the lobby's word (lobby.ErrBanned from Open), a
// key or a guest's address banned from the server.
//
// # Goroutines
//
// charm.land/ssh runs a connection's handshake and requests, and each of
// its channels, on goroutines of its own, which end with the connection.
// Beside them, and what ends each:
//
// Per connection:
//   - the no-session timer (connState.armLocked): a time.AfterFunc, so no
//     goroutine while it waits; if it fires (no session for
//     NoSessionTimeout) it closes the connection. Stopped when a session
//     starts or the connection closes.
//
// Per session channel:
//   - the door's filter (doorChannel.filter): reads the channel's requests
//     as they come; ends when the client's requests do (the channel closes
//     or the connection goes).
//   - the handler (handle), started by the library on shell or exec: the
//     session itself. Its slot is released when it returns, or earlier by
//     watchDrop.
//
// A session with a PTY (runTUI), whose handler runs the program (p.Run):
//   - forwardResizes: the window's changes to the program; ends when the
//     program does.
//   - watchDrop: waits for the lobby to cut the session loose (too slow,
//     flooding), then frees the slot and closes the connection, which
//     unblocks a program stuck writing to a client that stopped reading;
//     ends then, or when the program does. Both are waited for before the
//     handler goes on.
//   - readInput, with the terminal reader it starts: the client's keys and
//     mouse to the program (Program.Send); ends when the session's input
//     does, which may be after the handler returned: nothing waits for it,
//     and a Send after the program ended returns at once.
//   - the program's own: its renderer's ticker, and the tui's Cmds (the
//     event pump in Session.NextBatch, the timers), which end with the
//     program's context: the session's, or the server's shutdown.
//
// A session without a PTY (runLineMode):
//   - the handler writes what the lobby says (Session.Next) until the
//     session ends.
//   - a reader: the client's lines, to Claim and then to Exec; ends at the
//     end of input (a quit), or when Exec says the session is over, or when
//     the handler closes the session at its end; waited for.
//   - watchDrop, once the session is named, as above; waited for.
//   - the prompt timer: a time.AfterFunc that ends a session still at the
//     prompt after PromptTimeout; stopped once a name is taken.
//
// Server.Shutdown tells the lobby (every session hears ErrShutdown), then
// cancels the context every session derives from (programs at the name
// prompt end too), waits for the slots to be released, and closes every
// connection.
//
// # Locks
//
// Server.mu guards the listener, the slots and closing; connState.mu a
// connection's counts, timer and windows; window.mu a client's size; the
// limiters' own mutexes their maps. Lock order: Server.mu before Lobby.mu
// (acquire hands back a slot it cannot keep while holding Server.mu); the
// others are taken alone. No lock is held across a write to a client but
// line mode's writer lock, which keeps one session's lines whole and is
// taken only by that session's goroutines and its prompt timer.
package sshserver
