// Package tui is the full-screen terminal UI of one SSH session: the name
// prompt, then a room-list sidebar, the scrollback, a status line, the input
// line and the key help. It talks to the chat only through the lobby
// package's Go API and knows nothing of SSH.
//
// # Where things are
//
//	model.go      Options, the Model and its parts, New, Update: where each message goes
//	prompt.go     the name prompt: its keys, the claim of a name, its screen, its timeout
//	events.go     the lobby's events: lines, notices, entering a room, the room list, edits, topics, search results
//	presence.go   others' joins and leaves (and a crowd's room lists) held back, then shown together
//	actions.go    lines and room choices queued on their way to the lobby, one at a time
//	history.go    older pages of a room's history, fetched on scrolling to the top
//	input.go      keys, paste and mouse on the main screen; the full-input rule; new lines, ↑ to edit, choosing a search result
//	complete.go   Tab completion: commands, rooms, names
//	keymap.go     the key bindings and the key help
//	lineinput.go  the editor of the prompt's line and of the message (several lines)
//	view.go       layout and drawing: the kept frame, title, status and input lines
//	scrollback.go the message pane: entries, their wrapped rows, scrolling, bounds
//	sidebar.go    the room list: rooms, then Direct; unread and mention badges
//	alerts.go     what is meant for the user: the bell, the window title's count, the next unread
//	styles.go     colours and styles; wrap.go wraps styled text; links.go makes URLs OSC 8 links
//	colours.go    which colour each name in a room is drawn in
//	msgs.go       the Cmds that call the lobby, and the messages they answer with
//	end.go        the end of the session: why, and Ending
//
// # Contract with the SSH server
//
// sshserver/tui.go is the one front end that runs this UI; another would
// do as it does:
//
//	m := tui.New(tui.Options{Lobby: l, Session: slot, Context: ctx,
//		MaxSessions: l.MaxSessions(), Width: w, Height: h, PromptTimeout: d,
//		Location: zone(sess)}) // the user's time zone: sshserver's zone
//	p := tea.NewProgram(m, append(bubbletea.MakeOptions(sess),
//		tea.WithInput(nil),              // the input comes from readInput, below
//		tea.WithContext(ctx),            // ends with the SSH session or a shutdown
//		tea.WithoutSignalHandler(),      // or the server's own SIGINT reaches every program
//		tea.WithFPS(rate),               // lower in a crowd: sshserver's frameRate
//		tea.WithEnvironment(env),        // the client's, with TERM
//		tea.WithWindowSize(dw, dh),      // at most MaxWidth×MaxHeight
//		tea.WithFilter(filter))...)      // suspend becomes resume; sizes held to the max
//	go readInput(ctx, quitOnEOF(sess), term, p) // not waited for
//	go forwardResizes(p, window, done)          // TerminalSizeMsg, then tea.WindowSizeMsg
//	final, _ := p.Run()
//	slot.Close() // frees the name even if the program was killed
//	end := final.(*tui.Model).Ending()
//	wish.Println(sess, end.Farewell)
//	sess.Exit(end.Code)
//
// Options.Session is the slot the server opened for this connection
// (lobby.Lobby.Open) and the prompt claims the name on it; with none, the
// UI opens one itself when a name is submitted. Options.Context should be
// the SSH session's: every lobby call is bounded by it, and a lobby session
// that was opened just as the program stopped (so Session still reports
// nil) is closed when it ends.
//
// The program must not read the session itself: tea.WithInput(nil), and a
// reader of the server's own (readInput) decodes the client's bytes and
// hands each event over with Program.Send, which returns at once after the
// program has ended. Bubble Tea's own reader sends into the program with a
// blocking send and no way out, so input arriving as the program ended (a
// client typing while it hangs up, a late reply to a terminal query) kept
// that goroutine, and through it the whole program, alive for good. The
// same reader ends the program when the client closes its input
// (quitOnEOF): a client that closes the channel but keeps the connection
// would otherwise leave it running.
//
// The frame rate is the renderer's tick; each program wakes that often
// even when nothing changed, so a server with many sessions gives new ones
// a lower rate (sshserver's frameRate).
//
// The model is a pointer: New returns *Model and the final model is the same
// *Model. Session is nil until a name was accepted. Ending is the lobby's
// word on how the session ended (lobby.Lobby.Ending): the line to print
// after the alt screen is left ("Goodbye, alice.", "The server is shutting
// down. Goodbye, alice.", "Disconnected: your connection fell too far
// behind the chat.") and the exit status.
//
// The UI draws at most MaxWidth×MaxHeight cells of a larger window, in its
// top-left corner, and says so. Give the program no larger size either
// (tea.WithWindowSize, every tea.WindowSizeMsg): the renderer's buffers
// follow it. To let the UI name the real size, send a TerminalSizeMsg
// before the tea.WindowSizeMsg of each change.
//
// # Concurrency
//
// Only the program's event loop calls the model, and it owns every field.
// Every lobby call that can wait runs in a tea.Cmd, on a goroutine of its
// own, and answers with a message (msgs.go): the claim of a name
// (registerCmd), a line or a room choice (execCmd), a page of older lines
// (olderCmd), the names Tab completes (namesCmd), and the event pump: one Cmd blocked in Session.NextBatch,
// issued again after each batch (the event waited for and whatever was
// already queued behind it), so exactly one waits at a time. The two timers
// (the prompt's deadline, the presence flush) are Cmds that end with
// Options.Context, as every other Cmd's lobby call does; a session opened as
// the program stopped is closed by context.AfterFunc when it ends. Nothing
// calls Program.Send. Submitted lines and room choices go through a small
// queue so they reach the lobby in the order the user made them.
//
// # Cost per frame
//
// bubbletea parses and diffs the whole frame on every tick that changed it,
// so View must be cheap and must not grow with the scrollback. Every
// scrollback entry keeps its wrapped, styled rows for the current width;
// View copies only the visible rows, the sidebar's rows (re-rendered only
// when the room list, focus or size changes), and cached status, input and
// help lines into one pre-sized builder, and the result is kept until an
// Update may have changed it (Bubble Tea asks for the view after every
// message, and held-back presence lines change nothing). The layout keeps
// terminal rows shiftable: the sidebar's blank rows are identical strings,
// nothing on the right edge changes, the title row beside the sidebar's
// heading never scrolls, and the status, input and help lines stay put, so
// when a line arrives the renderer can scroll the region instead of
// repainting. Only the rows beside the room list get their chat part
// repainted. BenchmarkFrame measures the whole cost, the renderer's
// included.
//
// Memory is bounded per session: a scrollback keeps Options.Scrollback
// lines (1000 by default; pages of older history fetched on scroll count
// too). Live lines push out the oldest while the user reads near the
// bottom; when paging far back pushes past the limit, the newest lines are
// set aside instead and End brings back the live end (the lines between are
// fetched again as older history). An entry is 64 bytes and points at the
// lobby's Message, and the wrapped rows of lines far above the view are
// dropped, so a thousand lines cost a session about 80 KB.
//
// Typing costs in proportion to the window, never to the line: the input
// (lineinput.go, our own rather than bubbles' textinput, which re-measured the
// whole value on every key) measures each character once, when it is typed.
// Text past the message cap is refused with one notice, and after it a typed
// key changes nothing, not even the kept frame, so a script typing without
// end costs next to nothing. BenchmarkTyping measures 200 KB typed, here
// and through a real SSH session in sshserver.
//
// Styles and key bindings are built per session; nothing here reads the
// server's terminal or holds package-level mutable state.
package tui
