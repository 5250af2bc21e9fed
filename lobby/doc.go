// Package lobby owns the chat itself: the sessions of every node, the rooms
// and who is in them, the command set, room history and the fan-out of
// every line to the members of a room on this node.
//
// It knows nothing of SSH, terminals or Bubble Tea: a front end (the TUI,
// the line mode, a test) opens a Session (Lobby.Open takes one of the
// chat's slots), names it (Session.Claim), feeds it the lines its user
// submits with Session.Exec, and renders what Session.Next returns.
// Everything a user sees — replies to commands, refusals, chat lines, join
// and leave notices — arrives through that one ordered stream, so every
// front end shows the same thing in the same order.
//
// # The log
//
// Every change of shared state (a session opened or named, a room created
// or joined, a line said, a name registered, a session or a whole node
// gone: see change.go)
// is a Change proposed to a Log. A node never changes shared state any
// other way: it applies what comes back from the log, in the log's order,
// exactly as every other node does (apply.go), so all nodes reach the same
// state, and the log's order decides every race (two creates of one room,
// two claims of one name: the later one is refused in place, on whichever
// node it came from). Appliers decide only from the state and the change,
// never from the node's clock or settings; the proposer stamps the time and
// the session limit into the change.
//
// On one node the log is the node's own database (store.LocalLog); in a
// cluster it is a NATS JetStream stream (package cluster). The path is the
// same: proposals are batched by one proposer goroutine (propose.go; group
// commit), and one applier goroutine follows the log, applies each batch to
// the state in memory, delivering as it goes, then writes the batch's
// effects and the log position to the Store in one transaction. A batch the
// log holds is durable before anyone is shown it, and a replay after a
// crash applies nothing twice.
//
// A session's commands see what its earlier ones did: Exec waits until the
// session's own earlier changes are applied (usually a millisecond), so a
// script's "/join alpha" then "hello" says hello in alpha, and replies come
// in the order the input caused them.
//
// # Goroutines and locks
//
// One mutex (Lobby.mu) guards all state, shared and local. Three kinds of
// goroutine take it: callers of the Session and Lobby methods (front ends),
// the proposer (which releases it around Log.Append) and the applier (which
// holds it while applying a batch in memory and releases it around
// Store.Apply). Delivery is a non-blocking send into each session's bounded
// queue; a session whose queue is full is dropped with ErrTooSlow instead
// of slowing anybody down. Nothing under the mutex waits on a session or on
// the network. Lock order: Lobby.mu, then a store's or log's own locks,
// which never call back into the lobby.
//
// # Who you are
//
// The front door hands Open the SHA256 fingerprint of the SSH key a client
// proved it holds ("" for none) and whether that key is a server
// operator's; both travel in the open change, so every node knows them.
// The lobby sees no other key material: a key a user pastes (/keys add) is
// turned into a fingerprint and a label by Config.ParseKey. A registered
// name is held by one to MaxKeys keys, a key holds at most one name, and
// Claim refuses a registered name to every session whose key is not one of
// its keys, matching names as it matches names in use (without case, and
// look-alikes: lookalike.go). Enter at
// the prompt gives the name the session's key holds. Registrations, their
// keys and their settings (a small key-value set per name, for what a user
// sets: Session.Setting, Session.SetSetting) are changes on the log like
// any other (identity.go) and records of the node's Store, so a name
// registered on one node is held on every node and across restarts.
//
// # Talking
//
// talk.go holds what people type without thinking: /me, /who, /away,
// /nick, /topic, /edit and /delete, /ignore, /joins, /bell, /tz, /search
// and /goto. A change of name, an away status, a topic and an edit or
// deletion are changes on the log (ChangeNick, ChangeAway, ChangeTopic,
// ChangeEdit); the user's own choices (/tz, /bell, /joins, /ignore) are
// settings, kept for a registered name. What a user chose not to see is
// left out of what is delivered to them (prefs.hides), never out of what
// is stored. /search and /goto read the store outside the lock (a command
// may return work to do after it: command.outside). Who may read a room's
// lines (history, search hits, /who) is one function, canReadLocked. A
// message may hold several lines (a pasted block): CleanLines cleans each,
// and front ends show the lines after the first indented under its author,
// so that none passes for another's line.
//
// # Untrusted text
//
// Every message and command argument passes through CleanText (CleanLines
// for a block of lines), and every
// screen name and room name must pass validName, before anybody else can
// see it, so that nothing a user types can act on another user's terminal
// or pass for another user's name. Front ends may show Message fields and
// notices as they are.
//
// # Metrics
//
// Config.Observer (observe.go) hears lines posted and delivered, flood
// refusals and sessions cut loose, with the lock held; the metrics of the
// server answer it. The lobby declares the interface, so it imports no
// metrics package.
//
// Imports point inward: lobby imports no SSH, Bubble Tea, NATS, SQL or
// Prometheus package; of the terminal only x/ansi's parser, to strip
// escape sequences (text.go).
package lobby
