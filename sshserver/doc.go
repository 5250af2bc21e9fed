// Package sshserver is chatroom's front door: the SSH server (host key, auth,
// the session limit, timeouts), and for each session either a Bubble Tea
// program running the tui (sessions with a PTY) or the plain line mode (no
// PTY: bots, scripts, screen readers).
//
// The door (door.go) stands between a client and its session: it caps the
// connections per address and the channels per connection, closes a
// connection with no session running, and answers every request a session
// channel sends, passing on to charm.land/ssh only the few it must see.
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
// It owns the count of open sessions, which is the limit users see: a
// session holds a slot from the moment its channel opens, name prompt
// included, until its handler returns or the lobby cuts it loose. It does not
// know how chat works: everything after the connection is the lobby's (via
// its Go API) and the tui's. Config.Observer (observe.go) hears sessions
// open, close and be refused, for metrics.
package sshserver
