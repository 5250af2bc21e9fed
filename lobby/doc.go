// Package lobby owns the chat itself: the sessions of every node, the rooms
// and who is in them, the command set, room history and the fan-out of
// every line to the members of a room on this node.
//
// It knows nothing of SSH, terminals or Bubble Tea: a front end (the TUI,
// the line mode, a test) opens a Session (Lobby.Open takes one of the
// chat's slots), names it (Session.Claim, which refuses a name in place:
// NameRefused), feeds it the lines its user submits with Session.Exec (or
// a room picked with SelectRoom), and renders what Session.Next returns.
// Once a session is named, everything its user sees (replies to commands,
// refusals, chat lines, join and leave notices) arrives through that one
// ordered stream, so every front end shows the same thing in the same
// order; only pages of older history are read directly (Session.Older,
// from the Store, to those who may read them). When the session ends, Next returns why, and Lobby.Ending
// says what to tell the user and the exit status, for every front end
// alike; the name prompt's words are here too (Prompt, NameRule).
//
// # Where things are
//
//	session.go    Session: Open, Claim, Next, NextBatch, Close; the Visitor at the door
//	command.go    the command set, Exec and SelectRoom, the flood limit
//	propose.go    proposing changes: the proposer goroutine, group commit, retries
//	apply.go      applying the log: the applier goroutine, one applier per kind of change, delivery
//	change.go     Change, the kinds of change, their encoding on the log
//	lobby.go      Config, the Lobby, New (catch up, bury a dead predecessor), the
//	              room list and counts, Shutdown, Close, Sync, LogDown/LogUp
//	ending.go     how a session ends: the reasons, Ending, SessionOver, Sentence
//	prompt.go     the name prompt's words; ErrPromptTimeout
//	errors.go     the errors a front end tells apart
//	state.go      the shared state as the Store keeps it, and restoring it at start
//	log.go        the Log interface; MemoryLog for tests
//	store.go      the Store interface, Snapshot and Writes; MemoryStore for tests
//	message.go    Message, Kind, RoomRecord
//	identity.go   names held by SSH keys: /register, /keys, /whois, settings
//	roommeta.go   what the chat keeps of a room besides its lines
//	observe.go    the Observer, for metrics
//	text.go       CleanText, validName: what untrusted text may be
//	invisible.go  lines with nothing visible in them
//	lookalike.go  names that look alike, taken together
//	conversation.go direct messages: /msg, /reply, conversations kept or not
//	unread.go     read positions, unread and mention counts, the session's room list
//	mention.go    Mentions: whether a line names a user
//	moderation.go keeping order: roles, bans and mutes, who may see a private room
//	modapply.go   the appliers of kick, ban, mute, roles, invitations, modes, announcements
//	modcommands.go /kick, /ban, /mute, /private, /invite, /op, /owner, /mode, /announce
//	span.go       the durations of bans and mutes (10m, 2h, 7d)
//
// # The log
//
// Every change of shared state (a session opened, named or closed, a room
// created, joined or left, a line said, a name registered, a whole node
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
// A session's commands see what its earlier ones did: Exec and SelectRoom
// wait until the session's own earlier changes are applied (usually a
// millisecond), so a script's "/join alpha" then "hello" says hello in
// alpha, and replies come in the order the input caused them.
//
// # Goroutines and locks
//
// The Lobby runs two goroutines of its own, from New until Close: the
// proposer, the only caller of Log.Append, and the applier, which runs
// Log.Follow and is the only caller of Store.Apply. Everything else runs on
// its caller's goroutine: a front end's (Open, Claim, Exec, Next...), or a
// cluster's watcher (DeclareGone, LogDown, LogUp). Next must be called from
// one goroutine at a time per session; the rest from any.
//
// One mutex, Lobby.mu, guards the shared state and this node's sessions;
// the Lobby struct lists apart the few fields it does not guard (an atomic
// count for Online, the applier's own Writes, the proposer's wake-up
// channel). The proposer releases it around Log.Append and the applier
// around Store.Apply; a caller waiting for its change to be applied
// (Open, Claim, Exec's wait, Sync) waits on a channel, not under it.
// Delivery is a non-blocking send into each session's bounded queue
// (Config.Queue, Lobby.Queue); a session whose queue is full is dropped
// with ErrTooSlow instead of slowing anybody down, and one half a queue
// behind is skipped others' join and leave lines (they stay in the
// history). Nothing under the mutex waits on a session or on the network;
// the one wait on the disk under it is a room's newest lines, read from the
// Store the first time the room is touched after a start. Lock order:
// Lobby.mu, then a store's or log's own locks, which never call back into
// the lobby.
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
// look-alikes: lookalike.go). Enter at the prompt gives the name the
// session's key holds. Registrations, their keys and their settings (a
// small key-value set per name, for what a user sets: Session.Setting,
// Session.SetSetting) are changes on the log like any other (identity.go)
// and records of the node's Store, so a name registered on one node is
// held on every node and across restarts.
//
// # Direct messages, mentions, unread counts
//
// A direct message (/msg, ChangeDirect) is a line in a conversation: a
// room kept apart from the rooms, which only its two parties can list,
// enter or read, and which front ends name "@NAME" after the other party
// (conversation.go). Between registered names it is stored like a room;
// with a guest it lives in memory while both sessions last. Every reader
// (a registered name, or a guest's session) keeps a read position in each
// room it has been in, moved when it leaves the room as part of applying
// that leave, so it costs no change of its own; a room counts its chat
// lines, so an unread count is a subtraction (unread.go). A line that
// names a user as a whole word (Mentions, mention.go) is marked on their
// event, or counted on their position in a room they are not in.
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
// lines (history, search hits, /who) is one function, mayReadLocked. A
// message may hold several lines (a pasted block): CleanLines cleans each,
// and front ends show the lines after the first indented under its author,
// so that none passes for another's line.
//
// # Keeping order
//
// Rooms have owners (the registered name that created one) and room
// operators (registered names the owner names); server operators have
// every power everywhere. Kicks, bans, mutes, invitations, roles and modes
// are changes on the log like any other (moderation.go; the commands in
// modcommands.go), so a kick made on one node moves a member on another.
// A ban or a mute is a state record holding the keys of the name it was
// made against (and a guest's address) with its deadline as a time: expiry
// is decided by comparing with the time a change carries, on every node
// alike, and needs no timer. Open refuses a session whose key (a guest's
// address) is banned from the server; the open's applier decides it, so a
// ban on its way through the log is ordered against the session like
// anything else. A private room exists only for those who may see it
// (Lobby.maySeeLocked, the one rule every path that names a room asks) and
// its history is only for those in it.
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
// refusals and sessions cut loose, with the lock held (from the applier and
// from sessions' goroutines); the metrics of the server answer it. The
// lobby declares the interface, so it imports no metrics package.
//
// Imports point inward: lobby imports no SSH, Bubble Tea, NATS, SQL or
// Prometheus package; of the terminal only x/ansi's parser, to strip
// escape sequences (text.go).
package lobby
