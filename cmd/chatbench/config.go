package main

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Config is one load run.
type Config struct {
	Addr       string   // a running server, HOST:PORT; or
	Server     string   // a server binary to start on 127.0.0.1:0
	ServerArgs []string // extra arguments for Server
	ServerEnv  []string // extra KEY=VALUE environment for Server
	// Nodes is how many servers to start (with Server), joined as one
	// chat on a NATS JetStream server the tool starts as its own process;
	// clients are spread over the nodes in turn. 1: one server, no NATS.
	Nodes int
	PID   int    // the running server's PID, to read /proc (with Addr)
	Label string // free text kept in the result, e.g. "scale"

	Profile     profile
	N           int     // clients
	Emulate     int     // receivers that read their screen; the rest drain
	Senders     int     // clients that post
	Rate        float64 // messages per second per sender
	Count       int     // messages per sender
	Pad         int     // pad each message with text to this many bytes
	W, H        int     // PTY size
	Room        string  // the room everyone joins
	Stall       int     // clients that stop reading after login
	StallFill   int     // window changes a stalled client sends to fill its buffers
	StallResize float64 // window changes per second a stalled client keeps sending while the others are measured
	Rooms       int     // extra rooms created first, to fill the sidebar
	History     int     // lines posted into Room before anyone joins
	// Unread puts unread counts in play (chatroom): every client has been
	// in a second room before Room, where a line-mode client says a line
	// for every line of the run, and has a direct message from another
	// client that it has not read.
	Unread bool

	Concurrency  int           // connections dialled at once; 0 = all
	LoginTimeout time.Duration // per client, connect to joined
	Grace        time.Duration // wait for late tokens after the last send
	Settle       time.Duration // quiet time before idle memory is read

	Log       io.Writer // progress lines; nil = none
	ServerLog io.Writer // every line the started server prints; nil = none
	Dump      io.Writer // if set, the last receiver's screen after the send phase
}

// check refuses a run that cannot be made, naming the flag to change.
func (c *Config) check() error {
	switch {
	case c.Addr == "" && c.Server == "":
		return errors.New("give -addr or -server")
	case c.Addr != "" && c.Server != "":
		return errors.New("give -addr or -server, not both")
	case c.N < 1:
		return errors.New("-n must be at least 1")
	case c.Senders < 1 || c.Senders > c.N:
		return fmt.Errorf("-senders must be between 1 and -n (%d)", c.N)
	case c.Emulate < 1 || c.Emulate > c.N:
		return fmt.Errorf("-emulate must be between 1 and -n (%d)", c.N)
	case c.Stall < 0 || c.Stall > 0 && c.Senders+c.Stall+c.Emulate > c.N:
		return errors.New("-stall needs senders + stall + emulate ≤ n, so stalled clients neither send nor emulate")
	case c.Rate <= 0 || c.Count < 1:
		return errors.New("-rate and -count must be positive")
	case c.Senders > 999 || c.Count > 99999:
		return errors.New("at most 999 senders and 99999 messages each")
	case c.Nodes > 1 && (c.Server == "" || c.Profile == profSSHChat):
		return errors.New("-nodes needs -server and chatroom")
	case c.Profile == profSSHChat && (c.Rooms > 0 || c.History > 0 || c.Unread):
		return errors.New("-rooms, -history and -unread need chatroom (ssh-chat has one room)")
	case c.Unread && c.N < 2:
		return errors.New("-unread needs at least 2 clients")
	}
	return nil
}
