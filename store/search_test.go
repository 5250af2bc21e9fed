package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/internal/attacks"
	"github.com/chatroom-ssh/chatroom/lobby"
)

func say(room string, seq uint64, from, text string) lobby.Message {
	return lobby.Message{Room: room, Seq: seq, At: t0.Add(time.Duration(seq) * time.Second), From: from, Kind: lobby.KindChat, Text: text}
}

func search(t *testing.T, s lobby.Store, words string, rooms ...string) []string {
	t.Helper()
	got, err := s.Search(context.Background(), lobby.SearchQuery{Words: strings.Fields(words), Rooms: rooms, Limit: 20})
	if err != nil {
		t.Fatalf("Search(%q in %v): %v", words, rooms, err)
	}
	var out []string
	for _, m := range got {
		out = append(out, fmt.Sprintf("%s/%d", m.Room, m.Seq))
	}
	return out
}

// TestSearch: lines said in the rooms asked for, holding every word, newest
// first; never a notice, a deleted line or an edited line's old words. The
// same cases run on the MemoryStore, which the lobby's tests use, so that
// the two agree.
func TestSearch(t *testing.T) {
	stores := map[string]func(t *testing.T) lobby.Store{
		"sqlite": func(t *testing.T) lobby.Store { return openT(t, t.TempDir()) },
		"memory": func(*testing.T) lobby.Store { return lobby.NewMemoryStore() },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			apply := func(w lobby.Writes) {
				t.Helper()
				if err := s.Apply(ctx, &w); err != nil {
					t.Fatalf("Apply: %v", err)
				}
			}
			apply(lobby.Writes{Rooms: []lobby.RoomRecord{{Name: "alpha", Created: t0}, {Name: "Beta", Created: t0}, {Name: "secret", Created: t0}}})
			action := say("alpha", 3, "bob", "waves at the Fox")
			action.Kind = lobby.KindAction
			join := lobby.Message{Room: "alpha", Seq: 4, At: t0, From: "fox", Kind: lobby.KindSystem, Presence: true, Text: "fox joined alpha"}
			apply(lobby.Writes{Messages: []lobby.Message{
				say("alpha", 1, "alice", "the quick brown fox"),
				say("Beta", 1, "bob", "a fox in Beta"),
				action,
				join,
				say("secret", 1, "carol", "the secret fox"),
				say("alpha", 5, "alice", "Café au lait, fox-trot!"),
				say("alpha", 6, "alice", "two lines\nthe second has a fox"),
			}})

			for _, c := range []struct {
				words string
				rooms []string
				want  []string
			}{
				{"fox", []string{"alpha", "Beta"}, []string{"alpha/6", "alpha/5", "alpha/3", "Beta/1", "alpha/1"}},
				{"FOX", []string{"alpha"}, []string{"alpha/6", "alpha/5", "alpha/3", "alpha/1"}},
				{"fox", []string{"secret"}, []string{"secret/1"}},
				{"fox", []string{"Beta", "secret"}, []string{"secret/1", "Beta/1"}},
				{"quick fox", []string{"alpha", "Beta", "secret"}, []string{"alpha/1"}},
				{"quick dog", []string{"alpha"}, nil},
				{"cafe", []string{"alpha"}, []string{"alpha/5"}},
				{"trot", []string{"alpha"}, []string{"alpha/5"}},
				{"second", []string{"alpha"}, []string{"alpha/6"}},
				{"joined", []string{"alpha"}, nil}, // notices are not searched
				{"fox", []string{"nowhere"}, nil},
				{"fox", nil, nil},
			} {
				if got := search(t, s, c.words, c.rooms...); !slices.Equal(got, c.want) {
					t.Errorf("search %q in %v: got %v, want %v", c.words, c.rooms, got, c.want)
				}
			}

			// An edit replaces the words found; a deletion removes the line.
			edited := say("alpha", 1, "alice", "the quick brown cat")
			edited.Edited = t0.Add(time.Hour)
			deleted := say("Beta", 1, "bob", "")
			deleted.Deleted, deleted.Edited = true, t0.Add(time.Hour)
			apply(lobby.Writes{Edits: []lobby.Message{edited, deleted}})
			if got, want := search(t, s, "fox", "alpha", "Beta"), []string{"alpha/6", "alpha/5", "alpha/3"}; !slices.Equal(got, want) {
				t.Errorf("fox after the edit: got %v, want %v", got, want)
			}
			if got, want := search(t, s, "cat", "alpha", "Beta"), []string{"alpha/1"}; !slices.Equal(got, want) {
				t.Errorf("cat after the edit: got %v, want %v", got, want)
			}
			recent, err := s.Recent(ctx, "alpha", 10)
			if err != nil {
				t.Fatal(err)
			}
			if m := recent[0]; m.Text != "the quick brown cat" || !m.Edited.Equal(edited.Edited) || m.Deleted {
				t.Errorf("edited line reads %+v", m)
			}
			if recent[1].Kind != lobby.KindAction || !recent[2].Presence || recent[2].Kind != lobby.KindSystem {
				t.Errorf("kinds read back: %+v, %+v", recent[1], recent[2])
			}
			beta, err := s.Recent(ctx, "Beta", 10)
			if err != nil {
				t.Fatal(err)
			}
			if m := beta[0]; !m.Deleted || m.Text != "" {
				t.Errorf("deleted line reads %+v", m)
			}
		})
	}
}

// TestSearchWordsAreNotSyntax: whatever a user types is looked for as
// words, never read as FTS5 query syntax, and never fails the query.
func TestSearchWordsAreNotSyntax(t *testing.T) {
	s := openT(t, t.TempDir())
	createRooms(t, s, "alpha", "other")
	appendT(t, s, []lobby.Message{
		say("alpha", 1, "alice", `she said "NEAR" and OR, then fox*`),
		say("alpha", 2, "alice", "plain words"),
		say("other", 1, "bob", "near or fox"),
	})
	inputs := []string{`"`, `""`, `NEAR(fox said)`, `fox*`, `*`, `text:fox`, `room_id:1`, `OR`, `AND NOT`, `(`, `)`, `^fox`, `-fox`, `+`, `{text}`, `'`, "\x00", `\`}
	list, err := attacks.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		inputs = append(inputs, a.Payload)
	}
	for _, in := range inputs {
		got, err := s.Search(context.Background(), lobby.SearchQuery{Words: []string{in}, Rooms: []string{"alpha"}, Limit: 20})
		if err != nil {
			t.Errorf("Search(%q): %v", in, err)
		}
		for _, m := range got {
			if m.Room != "alpha" {
				t.Errorf("Search(%q) found %s/%d outside the room asked for", in, m.Room, m.Seq)
			}
		}
	}
	if got, want := search(t, s, "NEAR", "alpha"), []string{"alpha/1"}; !slices.Equal(got, want) {
		t.Errorf("NEAR as a word: got %v, want %v", got, want)
	}
	if got := search(t, s, "1", "alpha"); got != nil {
		t.Errorf("a room's id as a word: got %v, want nothing", got)
	}
}

// TestMigrateTalk: a database of schema 2 with history gets the new
// columns, its join and leave lines told apart from other notices, a line
// order by time, and a search index that finds what was said.
func TestMigrateTalk(t *testing.T) {
	dir := t.TempDir()
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs[:2] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	ns := func(sec int) int64 { return t0.Add(time.Duration(sec) * time.Second).UnixNano() }
	for _, q := range []string{
		`PRAGMA user_version = 2`,
		`INSERT INTO rooms (id, name, created) VALUES (1, 'alpha', 0), (2, 'b_c', 0)`,
		fmt.Sprintf(`INSERT INTO messages VALUES
			(1, 1, %d, 'alice', 'system', 'alice joined alpha'),
			(1, 2, %d, 'alice', 'message', 'hello fox'),
			(2, 1, %d, 'bob_1', 'system', 'bob_1 joined b_c'),
			(1, 3, %d, 'alice', 'system', 'alice left alpha (connection lost)'),
			(2, 2, %d, 'bob_1', 'system', 'bob_1 set the topic: joined b_c'),
			(2, 3, %d, 'bob_1', 'message', 'a fox too')`,
			ns(1), ns(2), ns(3), ns(4), ns(5), ns(0)),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openT(t, dir)
	if got := userVersion(t, s); got != len(migs) {
		t.Fatalf("user_version %d, want %d", got, len(migs))
	}
	rows, err := s.r.Query(`SELECT room_id, seq, line, kind FROM messages ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var room, seq, line int
		var kind string
		if err := rows.Scan(&room, &seq, &line, &kind); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%d/%d %s", line, room, seq, kind))
	}
	rows.Close()
	want := []string{"1:2/3 message", "2:1/1 presence", "3:1/2 message", "4:2/1 presence", "5:1/3 presence", "6:2/2 system"}
	if !slices.Equal(got, want) {
		t.Errorf("migrated lines:\n got %v\nwant %v", got, want)
	}
	if got, want := search(t, s, "fox", "alpha", "b_c"), []string{"alpha/2", "b_c/3"}; !slices.Equal(got, want) {
		t.Errorf("search after migration: got %v, want %v", got, want)
	}
	// New lines go on from the last line number.
	appendT(t, s, []lobby.Message{say("alpha", 4, "alice", "a new fox")})
	if got, want := search(t, s, "fox", "alpha", "b_c"), []string{"alpha/4", "alpha/2", "b_c/3"}; !slices.Equal(got, want) {
		t.Errorf("search after a new line: got %v, want %v", got, want)
	}
	if _, err := s.w.Exec(`INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`); err != nil {
		t.Errorf("the index is damaged: %v", err)
	}
}

// TestSearchFreshStore: a store that has looked up only the rooms searched
// still leaves the others out (it once took the rooms it knew of for all
// the rooms there are, and searched everywhere).
func TestSearchFreshStore(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	createRooms(t, s, "alpha", "beta", "gamma")
	appendT(t, s, []lobby.Message{say("alpha", 1, "a", "fox"), say("beta", 1, "b", "fox"), say("gamma", 1, "c", "fox")})
	s.Close()
	fresh := openT(t, dir)
	for _, rooms := range [][]string{{"beta"}, {"beta", "gamma"}} {
		for _, hit := range search(t, fresh, "fox", rooms...) {
			if !slices.Contains(rooms, strings.Split(hit, "/")[0]) {
				t.Errorf("a search in %v found %s", rooms, hit)
			}
		}
	}
}
