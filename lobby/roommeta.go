package lobby

import (
	"encoding/json"
	"fmt"
)

// roomMeta is what the chat keeps of a room besides its lines: the Meta of
// its RoomRecord, in JSON. Every field is shared state, so it changes only
// in an applier, which then calls saveRoomLocked. New fields must keep the
// zero value meaning "as before", so that rooms stored earlier read right.
type roomMeta struct {
	Topic   string `json:"topic,omitempty"`
	TopicBy string `json:"topic_by,omitempty"`
	TopicAt int64  `json:"topic_at,omitempty"` // Unix nanoseconds

	// Keeping order (moderation.go): the registered name that owns the
	// room, the names it made room operators, whether the room is private
	// and who is invited (registered names; a guest's session, by
	// SessionID, for as long as it lasts), and whether only registered
	// names may speak.
	Owner           string   `json:"owner,omitempty"`
	Ops             []string `json:"ops,omitempty"`
	Private         bool     `json:"private,omitempty"`
	Invited         []string `json:"invited,omitempty"`
	InvitedSessions []string `json:"invited_sessions,omitempty"`
	RegisteredOnly  bool     `json:"registered_only,omitempty"`

	// Conversation marks a room that is a direct conversation between the
	// names in Parties, not a room anyone can list or join.
	Conversation bool     `json:"conversation,omitempty"`
	Parties      []string `json:"parties,omitempty"`
}

func decodeRoomMeta(b []byte) (roomMeta, error) {
	var m roomMeta
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("room meta: %w", err)
	}
	return m, nil
}

// saveRoomLocked has the store keep r's meta as it is now, with the batch
// being applied. l.mu must be held, in an applier.
func (l *Lobby) saveRoomLocked(r *room) {
	b, err := json.Marshal(r.meta)
	if err != nil {
		panic(fmt.Sprintf("encode room meta: %v", err)) // strings, bools and slices: cannot fail
	}
	l.writes.Rooms = append(l.writes.Rooms, RoomRecord{Name: r.name, Created: r.created, Meta: b})
}
