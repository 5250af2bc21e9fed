package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
)

// Export formats.
const (
	FormatText  = "text"
	FormatJSONL = "jsonl"
)

// exportPage is how many lines Export reads per query. Each page is its own
// short read transaction, so a long export never pins the write-ahead log.
const exportPage = 500

// textTime is the layout of times in the text export, always in UTC.
const textTime = "2006-01-02 15:04:05"

// exportLine is one line of the jsonl export.
type exportLine struct {
	Room string `json:"room"`
	Seq  uint64 `json:"seq"`
	At   string `json:"at"` // RFC 3339 with nanoseconds, UTC
	From string `json:"from"`
	Kind string `json:"kind"`
	Text string `json:"text"`
	// Edited is when the author last changed the text (RFC 3339, UTC);
	// Deleted says they removed the line, whose text is then "".
	Edited  string `json:"edited,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
}

// Export writes the history of room to w, oldest first, in format "text"
// (the default when format is "") or "jsonl". The room is matched exactly,
// or else without regard to case. It streams page by page and never holds
// the whole history in memory; lines stored after Export starts are not
// included. An unknown room gives an error wrapping lobby.ErrNoSuchRoom.
//
// Text lines look like
//
//	2026-11-26 15:04:05 alice: hello
//	2026-11-26 15:04:05 * bob joined alpha
//
// and each jsonl line is an object with room, seq, at, from, kind and text.
func (s *SQLite) Export(ctx context.Context, room string, w io.Writer, format string) error {
	var write func(*bufio.Writer, *lobby.Message) error
	switch format {
	case FormatText, "":
		write = writeText
	case FormatJSONL:
		write = writeJSONL
	default:
		return fmt.Errorf("export: unknown format %q (want %q or %q)", format, FormatText, FormatJSONL)
	}
	name, id, err := s.findRoom(ctx, room)
	if err != nil {
		return fmt.Errorf("export %q: %w", room, err)
	}
	var last int64
	if err := s.last.QueryRowContext(ctx, id).Scan(&last); err != nil {
		return fmt.Errorf("export %q: %w", name, err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for after := int64(0); after < last; {
		rows, err := s.page.QueryContext(ctx, id, after, last, exportPage)
		if err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
		n := 0
		for rows.Next() {
			m, err := scanMessage(rows, name)
			if err == nil {
				err = write(bw, &m)
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("export %q: %w", name, err)
			}
			after = int64(m.Seq)
			n++
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return fmt.Errorf("export %q: %w", name, err)
		}
		if n == 0 {
			break // cannot happen while the line at last exists; never spin
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %q: %w", name, err)
	}
	return nil
}

// findRoom resolves a name typed by a person: the exact name if a room has
// it, else the one room whose name matches without regard to case.
func (s *SQLite) findRoom(ctx context.Context, room string) (string, int64, error) {
	if id, err := s.roomID(ctx, room); err == nil {
		return room, id, nil
	} else if !errors.Is(err, lobby.ErrNoSuchRoom) {
		return "", 0, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, name FROM rooms ORDER BY id`)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			return "", 0, err
		}
		if strings.EqualFold(name, room) {
			return name, id, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	return "", 0, lobby.ErrNoSuchRoom
}

// lineBreaks keeps one history line on one output line: a block of several
// lines (a paste) shows its breaks as \n.
var lineBreaks = strings.NewReplacer("\r", `\r`, "\n", `\n`)

func writeText(w *bufio.Writer, m *lobby.Message) error {
	at := m.At.UTC().Format(textTime)
	text := lineBreaks.Replace(m.Text)
	switch {
	case m.Deleted:
		text = "(message deleted)"
	case !m.Edited.IsZero():
		text += " (edited)"
	}
	var err error
	switch m.Kind {
	case lobby.KindSystem:
		_, err = fmt.Fprintf(w, "%s * %s\n", at, text)
	case lobby.KindAction:
		_, err = fmt.Fprintf(w, "%s * %s %s\n", at, m.From, text)
	default:
		_, err = fmt.Fprintf(w, "%s %s: %s\n", at, m.From, text)
	}
	return err
}

func writeJSONL(w *bufio.Writer, m *lobby.Message) error {
	enc := json.NewEncoder(w) // cheap: it holds only w and two flags
	enc.SetEscapeHTML(false)
	line := exportLine{
		Room:    m.Room,
		Seq:     m.Seq,
		At:      m.At.UTC().Format(time.RFC3339Nano),
		From:    m.From,
		Kind:    m.Kind.String(),
		Text:    m.Text,
		Deleted: m.Deleted,
	}
	if !m.Edited.IsZero() {
		line.Edited = m.Edited.UTC().Format(time.RFC3339Nano)
	}
	return enc.Encode(line)
}
