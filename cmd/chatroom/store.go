package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/chatroom-ssh/chatroom/lobby"
	"github.com/chatroom-ssh/chatroom/store"
)

// openStore opens the history database in dir, creating it on first run,
// with the log a node on its own keeps in it.
func openStore(ctx context.Context, dir string, logger *slog.Logger, opts ...store.Option) (lobby.Store, lobby.Log, func() error, error) {
	st, err := store.Open(ctx, dir, logger.With("part", "store"), opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open store: %w", err)
	}
	lg, err := st.Log(ctx)
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("open store: %w", err)
	}
	return st, lg, st.Close, nil
}

// runExport writes one room's history to out. It opens the database
// read-only, so it is safe while the server runs.
func runExport(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("chatroom export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envString("DATA", "data"), "the server's data folder (env CHATROOM_DATA)")
	format := fs.String("format", "text", "text or jsonl")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: chatroom export [--data DIR] [--format text|jsonl] ROOM\n\n")
		fs.PrintDefaults()
	}
	// Flags may follow the room name, as people type them.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return errors.New("export needs exactly one room name")
	}
	if *format != "text" && *format != "jsonl" {
		return fmt.Errorf("unknown format %q: use text or jsonl", *format)
	}
	ctx := context.Background()
	st, err := store.OpenReadOnly(ctx, *data)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if err := st.Export(ctx, rest[0], out, *format); err != nil {
		if errors.Is(err, lobby.ErrNoSuchRoom) {
			return fmt.Errorf("there is no room named %s in %s", rest[0], *data)
		}
		return fmt.Errorf("export %s: %w", rest[0], err)
	}
	return nil
}
