package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatroom-ssh/chatroom/lobby"
)

func TestExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := openT(t, dir)
	createRooms(t, w, "Alpha", "empty")
	// More than one export page, with a gap where a batch was lost.
	const total = 2*exportPage + 34
	all := lines("Alpha", 1, total)
	all = append(all[:9], all[10:]...) // seq 10 never stored
	all[0].Text = `quotes " and <html> & a line` + "\nbreak"
	appendT(t, w, all)

	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	t.Run("jsonl", func(t *testing.T) {
		var buf bytes.Buffer
		if err := r.Export(ctx, "Alpha", &buf, FormatJSONL); err != nil {
			t.Fatal(err)
		}
		var got []lobby.Message
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var l exportLine
			dec := json.NewDecoder(strings.NewReader(sc.Text()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&l); err != nil {
				t.Fatalf("line %d %q: %v", len(got)+1, sc.Text(), err)
			}
			at, err := time.Parse(time.RFC3339Nano, l.At)
			if err != nil {
				t.Fatalf("line %d: at %q: %v", len(got)+1, l.At, err)
			}
			if !strings.HasSuffix(l.At, "Z") {
				t.Errorf("line %d: at %q is not in UTC", len(got)+1, l.At)
			}
			var kind lobby.Kind
			switch l.Kind {
			case "message":
				kind = lobby.KindChat
			case "system":
				kind = lobby.KindSystem
			default:
				t.Fatalf("line %d: kind %q", len(got)+1, l.Kind)
			}
			got = append(got, lobby.Message{Room: l.Room, Seq: l.Seq, At: at, From: l.From, Kind: kind, Text: l.Text})
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		checkMessages(t, "jsonl export", got, all)
	})

	t.Run("text", func(t *testing.T) {
		var buf bytes.Buffer
		// Matched without regard to case, as a person would type it.
		if err := r.Export(ctx, "alpha", &buf, FormatText); err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(got) != len(all) {
			t.Fatalf("text export: got %d lines, want %d", len(got), len(all))
		}
		want := map[int]string{
			0:            `2026-11-26 15:04:06 alice: quotes " and <html> & a line\nbreak`,
			1:            "2026-11-26 15:04:07 alice: line 2 of Alpha",
			4:            "2026-11-26 15:04:10 * bob joined Alpha",
			9:            "2026-11-26 15:04:16 alice: line 11 of Alpha",
			len(all) - 1: fmt.Sprintf("%s alice: line %d of Alpha", t0.Add(total*time.Second).Format(textTime), total),
		}
		for i, w := range want {
			if got[i] != w {
				t.Errorf("text line %d: got %q, want %q", i, got[i], w)
			}
		}
	})

	t.Run("times are UTC", func(t *testing.T) {
		loc := time.FixedZone("east", 5*3600)
		createRooms(t, w, "zoned")
		appendT(t, w, []lobby.Message{{Room: "zoned", Seq: 1, At: time.Date(2026, 11, 26, 20, 4, 5, 0, loc), From: "x", Kind: lobby.KindChat, Text: "hi"}})
		var buf bytes.Buffer
		if err := r.Export(ctx, "zoned", &buf, ""); err != nil {
			t.Fatal(err)
		}
		if got, want := buf.String(), "2026-11-26 15:04:05 x: hi\n"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})

	t.Run("empty room", func(t *testing.T) {
		var buf bytes.Buffer
		if err := r.Export(ctx, "empty", &buf, FormatJSONL); err != nil || buf.Len() != 0 {
			t.Errorf("got %q, %v; want nothing, nil", buf.String(), err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		var buf bytes.Buffer
		if err := r.Export(ctx, "nowhere", &buf, FormatText); !errors.Is(err, lobby.ErrNoSuchRoom) {
			t.Errorf("unknown room: got %v, want ErrNoSuchRoom", err)
		}
		if err := r.Export(ctx, "Alpha", &buf, "csv"); err == nil {
			t.Error("unknown format: got nil error")
		}
		if err := r.Export(ctx, "Alpha", failWriter{}, FormatText); err == nil {
			t.Error("failing writer: got nil error")
		}
		if buf.Len() != 0 {
			t.Errorf("failed exports wrote %d bytes", buf.Len())
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
