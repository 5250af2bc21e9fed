package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Search implements lobby.Store with the full-text index messages_fts
// (migrations/0003_talk.sql): each word must be in the line as a whole
// word, without regard to case or accents. The index gives its hits newest
// first, so a LIMIT ends the walk early however common the words are.
//
// The rooms to look in are terms of the query (the index has a room_id
// column), which FTS5 intersects with the words by skipping through the
// sparser side; or, when they are fewer and small, the rooms not to look
// in; or none when every room is asked for. Each room named costs a
// lookup in every segment of the index, about 10 to 80 µs; the hits of the
// rooms left out are walked past one by one, about 80 ms per million, so
// that is done only for rooms of few lines (notWalk). BenchmarkSearch
// measures both.
func (s *SQLite) Search(ctx context.Context, q lobby.SearchQuery) ([]lobby.Message, error) {
	if len(q.Words) == 0 || len(q.Rooms) == 0 || q.Limit <= 0 {
		return nil, nil
	}
	names := make(map[int64]string, len(q.Rooms))
	for _, name := range q.Rooms {
		id, err := s.roomID(ctx, name)
		if errors.Is(err, lobby.ErrNoSuchRoom) {
			continue // created, not stored yet: nothing to find in it
		}
		if err != nil {
			return nil, fmt.Errorf("search: room %q: %w", name, err)
		}
		names[id] = name
	}
	if len(names) == 0 {
		return nil, nil
	}
	// Every room the database holds, asked for or not: a read of the
	// rooms table's rowids, a few microseconds per hundred rooms.
	all, err := s.allRooms.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	var in, left []int64
	for all.Next() {
		var id int64
		if err := all.Scan(&id); err != nil {
			all.Close()
			return nil, fmt.Errorf("search: %w", err)
		}
		if _, ok := names[id]; ok {
			in = append(in, id)
		} else {
			left = append(left, id)
		}
	}
	if err := closeRows(all); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	var rooms string
	switch {
	case len(left) == 0:
	case len(in) > len(left) && s.fewLines(ctx, left):
		rooms = " NOT room_id : (" + orTerms(left) + ")"
	default:
		rooms = " AND room_id : (" + orTerms(in) + ")"
	}
	rows, err := s.search.QueryContext(ctx, textQuery(q.Words)+rooms, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []lobby.Message
	for rows.Next() {
		var id, seq int64
		m, err := scanSearchRow(rows, &id, &seq)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		m.Room = names[id]
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

func scanSearchRow(rows interface{ Scan(...any) error }, id, seq *int64) (lobby.Message, error) {
	var (
		at, edited       int64
		from, kind, text string
		deleted          bool
	)
	if err := rows.Scan(id, seq, &at, &from, &kind, &text, &edited, &deleted); err != nil {
		return lobby.Message{}, err
	}
	m := lobby.Message{Seq: uint64(*seq), At: fromNanos(at), From: from, Text: text, Edited: fromNanos(edited), Deleted: deleted}
	if err := parseKind(&m, kind); err != nil {
		return lobby.Message{}, fmt.Errorf("seq %d: %w", *seq, err)
	}
	return m, nil
}

// notWalk bounds the lines of the rooms a search may leave out by name
// (NOT): the index walks past their hits one by one, about 80 ms per
// million, where naming the rooms to look in costs a lookup per room.
const notWalk = 20_000

// fewLines reports whether the rooms ids hold at most notWalk lines in all.
func (s *SQLite) fewLines(ctx context.Context, ids []int64) bool {
	total := int64(0)
	for _, id := range ids {
		var n int64
		if err := s.last.QueryRowContext(ctx, id).Scan(&n); err != nil {
			return false
		}
		if total += n; total > notWalk {
			return false
		}
	}
	return true
}

// textQuery makes words into an FTS5 query that finds the lines holding
// every word. Each word is quoted as an FTS5 string, so nothing a user
// types is read as query syntax (no NEAR, no column filters, no prefix
// stars): a word is looked for as it is, and only in the text.
func textQuery(words []string) string {
	var b strings.Builder
	b.WriteString("text : (")
	for i, w := range words {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		// A NUL would end the query string early: the lobby sends clean
		// words, and this holds for any caller.
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(w, "\x00", ""), `"`, `""`))
		b.WriteByte('"')
	}
	b.WriteByte(')')
	return b.String()
}

// orTerms lists room ids as FTS5 terms, any of which matches.
func orTerms(ids []int64) string {
	slices.Sort(ids) // the same query for the same rooms, for the statement cache
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
