package lobby

import (
	"errors"
	"fmt"
)

// Errors a front end can tell apart with errors.Is. Their texts are written
// for users: a front end may show them as they are.
var (
	ErrNameTaken    = errors.New("that name, or one that looks the same, is taken by someone online")
	ErrNameInvalid  = errors.New("that name cannot be used: " + nameRule)
	ErrRoomInvalid  = fmt.Errorf("a room name is 1 to %d characters: letters, digits, '-', '_' or '.', in one alphabet and in plain (not fullwidth or styled) form", MaxRoomLen)
	ErrQuit         = errors.New("you left the chat")
	ErrTooSlow      = errors.New("your connection fell too far behind the chat")
	ErrFlooding     = errors.New("you kept sending faster than the limit")
	ErrShutdown     = errors.New("the server is shutting down")
	ErrClosed       = errors.New("the session has ended")
	ErrLobbyClosed  = errors.New("the lobby is closed")
	ErrNoSuchRoom   = errors.New("no such room")
	ErrHistoryStore = errors.New("history is unavailable")
	ErrFull         = errors.New("the server is full")
	ErrLost         = errors.New("this server lost its connection to the rest of the chat")
	// ErrUnavailable wraps a failure of the log or the store that keeps a
	// change from being made (a full disk, NATS out of reach). A front end
	// shows this text alone: the cause is for the log, where the lobby
	// puts it.
	ErrUnavailable = errors.New("the chat cannot take you right now because it cannot save anything; please try again later")
	// ErrNameRegistered: Claim refuses a registered name that the session's
	// key does not hold (in an error that names the name as registered).
	ErrNameRegistered = errors.New("that name is registered to other SSH keys")
	// ErrNotRegistered: a setting was set for a name that is not
	// registered, or no longer held by the session's key.
	ErrNotRegistered = errors.New("that name is not registered")
	// ErrSettingInvalid: a setting's key or value breaks the limits.
	ErrSettingInvalid = errors.New("that setting cannot be kept")
	// ErrBanned: a ban keeps the session out (of the server: Open, or the
	// end of a session; of a room). The error is a *BannedError, whose text
	// says by whom, why and until when.
	ErrBanned = errors.New("you are banned")
)
