package lobby

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Kinds of StateRecord, and the counters, as the Lobby stores them.
const (
	kindSession  = "session" // a member, by SessionID (and see identity.go)
	kindGone     = "gone"    // a node instance known dead, by name
	counterUsers = "users"   // users ever named
)

// memberRecord is a member as the store keeps it: enough for a node that
// restarts to know who is in the chat on the other nodes.
type memberRecord struct {
	Node  string `json:"node"`
	Name  string `json:"name,omitempty"`
	Room  string `json:"room,omitempty"`
	Since int64  `json:"since"`
	Key   string `json:"key,omitempty"`
	Addr  string `json:"addr,omitempty"`
	Op    bool   `json:"op,omitempty"`
	// Away: marked away since AwayAt (Unix ns), with AwayMsg.
	Away    bool   `json:"away,omitempty"`
	AwayMsg string `json:"away_msg,omitempty"`
	AwayAt  int64  `json:"away_at,omitempty"`
}

// saveMemberLocked has the store keep m as it is now. l.mu must be held.
func (l *Lobby) saveMemberLocked(m *member) {
	rec := memberRecord{Node: m.node, Name: m.name, Since: m.since, Key: m.fp, Addr: m.addr, Op: m.operator, Away: m.away, AwayMsg: m.awayMsg, AwayAt: m.awayAt}
	if m.room != nil {
		rec.Room = m.room.name
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(fmt.Sprintf("encode member: %v", err)) // plain strings and numbers: cannot fail
	}
	l.writes.State = append(l.writes.State, StateRecord{Kind: kindSession, Key: string(m.id), Value: b})
}

// restore rebuilds the shared state from what the store loaded. It runs
// before anything else touches the lobby.
func (l *Lobby) restore(snap Snapshot) error {
	for _, rec := range snap.Rooms {
		l.loadRoom(rec)
	}
	l.indexGuestInvites()
	l.users = snap.Counters[counterUsers]
	l.cursor = snap.Cursor
	var errs []error
	var settings, reads []StateRecord
	var named []*member
	for _, rec := range snap.State {
		switch rec.Kind {
		case kindRead:
			reads = append(reads, rec)
		case kindChats:
			if err := l.restoreChats(rec); err != nil {
				errs = append(errs, err)
			}
		case kindRegistration:
			if err := l.restoreRegistration(rec); err != nil {
				errs = append(errs, err)
			}
		case kindSetting:
			settings = append(settings, rec)
		case kindGone:
			l.gone[rec.Key] = true
		case kindBan, kindMute, kindMode:
			if err := l.restoreOrder(rec); err != nil {
				errs = append(errs, err)
			}
		case kindSession:
			var mr memberRecord
			if err := json.Unmarshal(rec.Value, &mr); err != nil {
				errs = append(errs, fmt.Errorf("session %s: %w", rec.Key, err))
				continue
			}
			m := &member{id: SessionID(rec.Key), node: mr.Node, name: mr.Name, since: mr.Since, fp: mr.Key, addr: mr.Addr, operator: mr.Op,
				away: mr.Away, awayMsg: mr.AwayMsg, awayAt: mr.AwayAt, active: mr.Since}
			if mr.Room != "" {
				r := l.findRoomLocked(mr.Room)
				switch {
				case r == nil && isConvName(mr.Room):
					// A conversation that was not kept, gone with the
					// node's memory: the Lobby, as far as this node knows.
				case r == nil:
					errs = append(errs, fmt.Errorf("session %s: in room %q, which does not exist", rec.Key, mr.Room))
					continue
				default:
					r.members[m] = struct{}{}
					m.room = r
				}
			}
			l.members[m.id] = m
			if m.name != "" {
				l.names.add(m.name, m)
				l.named++
				named = append(named, m)
			}
		}
	}
	for _, rec := range settings {
		if err := l.restoreSetting(rec); err != nil {
			errs = append(errs, err)
		}
	}
	l.linkConversations()
	for _, rec := range reads {
		if err := l.restoreRead(rec); err != nil {
			errs = append(errs, err)
		}
	}
	for _, m := range named {
		l.attachReaderLocked(m)
	}
	l.online.Store(int64(l.named))
	if len(errs) > 0 {
		return fmt.Errorf("load the chat's state: %w", errors.Join(errs...))
	}
	return nil
}
