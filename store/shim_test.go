package store

import (
	"context"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// The tests below were written for single-purpose writes; these spell each
// as the one Apply the lobby makes for it.

func (s *SQLite) CreateRoom(ctx context.Context, r lobby.RoomRecord) error {
	return s.Apply(ctx, &lobby.Writes{Rooms: []lobby.RoomRecord{r}})
}

func (s *SQLite) Append(ctx context.Context, batch []lobby.Message) error {
	return s.Apply(ctx, &lobby.Writes{Messages: batch})
}

func (s *SQLite) Rooms(ctx context.Context) ([]lobby.RoomRecord, error) {
	snap, err := s.Load(ctx)
	return snap.Rooms, err
}
