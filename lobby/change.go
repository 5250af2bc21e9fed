package lobby

import (
	"encoding/json"
	"fmt"
	"time"
)

// ChangeType names one kind of change of shared state.
type ChangeType string

// The kinds of change the log carries. Each is applied by the function
// registered for it in appliers; see apply.go.
const (
	// ChangeOpen: a session takes one of the chat's MaxSessions slots (Seq
	// carries the proposer's limit, so that every node decides alike). Key
	// is the fingerprint of its SSH key ("" for none), Addr its client's
	// address, and Flag says it is a server operator's.
	ChangeOpen ChangeType = "open"
	// ChangeName: a session at the name prompt takes Name ("" for the name
	// its key holds, else the next Guest<N>).
	ChangeName ChangeType = "name"
	// ChangeClose: a session ends; Text is the reason (see reasonCode in ending.go).
	ChangeClose ChangeType = "close"
	// ChangeCreate: Room is created and the session moves into it; Flag
	// makes it private.
	ChangeCreate ChangeType = "create"
	// ChangeJoin: the session moves into Room.
	ChangeJoin ChangeType = "join"
	// ChangeLeave: the session goes back to the Lobby.
	ChangeLeave ChangeType = "leave"
	// ChangeSay: a chat line, Text, in Room (where the session must still
	// be when it is applied); an action line (/me) when Flag is set.
	ChangeSay ChangeType = "say"
	// ChangeGone: the node instance Target is dead; its sessions end.
	ChangeGone ChangeType = "gone"
	// ChangeDirect: the session named Name sends the user called Target the
	// direct message Text, in their conversation (made if need be); with no
	// Text it moves into that conversation instead. See conversation.go.
	ChangeDirect ChangeType = "direct"

	// Who you are (identity.go). Each is proposed by the session named Name
	// and refused in place if it no longer has that name.

	// ChangeRegister: Name is held from now on by the session's SSH key.
	ChangeRegister ChangeType = "register"
	// ChangeUnregister: the registered name Name is let go, with its keys
	// and settings.
	ChangeUnregister ChangeType = "unregister"
	// ChangeKeyAdd: the registered name Name is held by one more key, Key,
	// labelled Text.
	ChangeKeyAdd ChangeType = "key-add"
	// ChangeKeyRemove: the registered name Name is no longer held by Key.
	ChangeKeyRemove ChangeType = "key-remove"
	// ChangeSetting: the registered name Name's setting Target is Text from
	// now on; "" removes it.
	ChangeSetting ChangeType = "setting"

	// Talking (talk.go). Each is proposed by the session named Name and
	// refused in place if it no longer has that name.

	// ChangeNick: the session named Name is called Target from now on.
	ChangeNick ChangeType = "nick"
	// ChangeAway: the session named Name is away (Flag), with the message
	// Text, or back (no Flag).
	ChangeAway ChangeType = "away"
	// ChangeTopic: Name sets the topic of Room, where it must be, to Text;
	// "" clears it.
	ChangeTopic ChangeType = "topic"
	// ChangeEdit: Name replaces its line Seq of Room with Text, or deletes
	// it when Flag is set. The proposer has checked that the line is the
	// session's own; the applier, that it is still Name's and recent
	// enough (EditLines, EditAge).
	ChangeEdit ChangeType = "edit"

	// Keeping order (moderation.go). Each is proposed by the session named
	// Name and refused in place if it no longer has that name, or no longer
	// the right to do it, when it is applied. Room is where it is done ("" for
	// the whole server: a server operator in the Lobby) and Target the name
	// it is done to.

	// ChangeKick: Target goes back to the Lobby from Room; Text is why.
	ChangeKick ChangeType = "kick"
	// ChangeBan: the keys of Target (a guest's address) are banned from
	// Room, or from the server, until Until (0: until lifted); Text is why.
	ChangeBan ChangeType = "ban"
	// ChangeUnban: the ban on Target in Room, or on the server, is lifted.
	ChangeUnban ChangeType = "unban"
	// ChangeMute: Target may read but not speak in Room, or anywhere, until
	// Until (0: until lifted).
	ChangeMute ChangeType = "mute"
	// ChangeUnmute: the mute on Target in Room, or on the server, is lifted.
	ChangeUnmute ChangeType = "unmute"
	// ChangeRole: Target becomes Room's owner (Text "owner"), one of its
	// room operators ("op"), or no longer one ("deop").
	ChangeRole ChangeType = "role"
	// ChangeInvite: Target may see and join the private Room.
	ChangeInvite ChangeType = "invite"
	// ChangeMode: Room's mode Target ("private" or "registered"), or the
	// server's ("registered"), is switched on (Flag) or off.
	ChangeMode ChangeType = "mode"
	// ChangeAnnounce: Text reaches every session as a notice.
	ChangeAnnounce ChangeType = "announce"
)

// SessionID names a session across every node: the proposing instance and
// a number it never reuses.
type SessionID string

// Change is one change of shared state, as the log carries it. A node
// proposes changes and applies them only when they come back from the log,
// in the log's order, like every other node; the fields a kind does not use
// stay empty. Everything in a change is decided by its proposer (the time,
// the limit), so that applying it gives the same result on every node.
type Change struct {
	Type ChangeType `json:"t"`
	// Node is the instance that proposed the change, and Ref its number
	// for it there, so that it can tell its user how it went.
	Node    string    `json:"n"`
	Ref     uint64    `json:"r,omitempty"`
	Session SessionID `json:"s,omitempty"`
	At      int64     `json:"at"` // Unix nanoseconds, the proposer's clock

	Room   string `json:"room,omitempty"`
	Name   string `json:"name,omitempty"`
	Text   string `json:"text,omitempty"`
	Target string `json:"target,omitempty"`
	Key    string `json:"key,omitempty"`  // an SSH key's fingerprint
	Addr   string `json:"addr,omitempty"` // a client's address
	Flag   bool   `json:"flag,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Until  int64  `json:"until,omitempty"` // Unix nanoseconds; 0 = none
}

// Time is when the change was proposed.
func (c *Change) Time() time.Time { return time.Unix(0, c.At).UTC() }

// EncodeBatch is the form a batch of changes is stored and sent in.
func EncodeBatch(batch []Change) ([]byte, error) {
	b, err := json.Marshal(batch)
	if err != nil {
		return nil, fmt.Errorf("encode changes: %w", err)
	}
	return b, nil
}

// DecodeBatch reads a batch written by EncodeBatch.
func DecodeBatch(data []byte) ([]Change, error) {
	var batch []Change
	if err := json.Unmarshal(data, &batch); err != nil {
		return nil, fmt.Errorf("decode changes: %w", err)
	}
	return batch, nil
}
