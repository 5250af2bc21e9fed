package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/store"
)

const exportUsage = `Usage: chatroom export [--data DIR] [--format text|jsonl] ROOM

Writes a room's history to stdout; safe while the server runs. Each flag may
also be set by its environment variable, named in brackets.

Flags:
`

// runExport writes one room's history to out. It opens the database
// read-only, so it is safe while the server runs.
func runExport(args []string, out, stderr io.Writer) error {
	fs := newFlagSet("chatroom export", exportUsage, stderr)
	data := fs.String("data", "data", "the server's data folder")
	format := fs.String("format", "text", "text or jsonl")
	src, rooms, err := parse(fs, args, true)
	if err != nil {
		return err
	}
	switch {
	case len(rooms) != 1:
		return fmt.Errorf("export needs exactly one room name, got %d (chatroom export -h)", len(rooms))
	case *data == "":
		return fmt.Errorf("%s: must not be empty", src.describe("data"))
	case *format != "text" && *format != "jsonl":
		return fmt.Errorf("%s: use text or jsonl", src.describe("format"))
	}
	ctx := context.Background()
	st, err := store.OpenReadOnly(ctx, *data)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if n, err := st.Unapplied(ctx); err == nil && n > 0 {
		// The server stopped before it applied what its log holds (a crash,
		// or it is catching up right now): those lines are safe, but not
		// in the history yet.
		fmt.Fprintf(stderr, "chatroom export: %d batches of changes in %s are not in the history yet; start the server once to apply them, then export again.\n", n, *data)
	}
	if err := st.Export(ctx, rooms[0], out, *format); err != nil {
		if errors.Is(err, lobby.ErrNoSuchRoom) {
			return fmt.Errorf("there is no room named %s in %s", rooms[0], *data)
		}
		return fmt.Errorf("export %s: %w", rooms[0], err)
	}
	return nil
}
