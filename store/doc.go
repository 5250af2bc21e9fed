// Package store keeps chatroom's persistent state in one SQLite database:
// the rooms, every room's history, and the count of users ever seen. SQLite
// is modernc.org/sqlite, pure Go, so the binary needs no cgo and no library.
//
// It owns the file chatroom.db in the data folder (with its -wal and -shm
// companions while open, and chatroom.lock, which Open locks so that two
// servers never write one database), the schema (migrations/NNNN_name.sql, embedded and
// applied at Open in transactions, recorded in PRAGMA user_version) and the
// history export. SQLite implements lobby.Store; the package imports lobby
// for its types and nothing from SSH or the terminal UI.
//
// # Schema
//
//	rooms    (id, name, created, meta)                 the name exactly as created; meta is the lobby's JSON
//	messages (room_id, seq, at, author, kind, text)    PRIMARY KEY (room_id, seq), WITHOUT ROWID
//	counters (name, value)                             'users': users ever seen
//	state    (kind, key, value)                        the rest of the shared state, JSON in the lobby's encoding:
//	                                                   sessions, dead node instances, registered names
//	                                                   ('registration', by name: its keys by fingerprint) and
//	                                                   their settings ('setting', by "name/key")
//	local    (key, value)                              this node's own: the log it applies, and how far
//	log      (seq, batch)                              the log of a node on its own
//
// Times are Unix nanoseconds (UTC). Because messages is clustered on
// (room_id, seq), the newest page of a room, a page before a given seq and
// a room's last seq are each one short walk of the primary key, as fast in a
// room of a million lines as in one of a thousand (see bench_test.go).
//
// # Connections
//
// One writer connection does every write (Append, CreateRoom, CountUser),
// each in one BEGIN IMMEDIATE transaction; the lobby calls Append from its
// single committer goroutine with whatever lines piled up during the previous
// commit (group commit). Reads use a separate pool of query-only connections:
// in WAL mode readers see the last commit and neither wait for the writer nor
// hold it up, so the lobby's Recent (run under its lock) never queues behind
// a commit.
//
// # Durability
//
// The contract: a line is committed before any session is shown it, so a
// crash never takes back a line that anyone saw. The lobby provides the
// ordering (it delivers a batch only after Append returns nil); this package
// makes "returned nil" mean "on disk". The database runs in WAL mode with
// PRAGMA synchronous=FULL, which makes each commit fsync the log before it
// returns:
//
//   - SIGKILL, a panic or an OOM kill of the server at any moment loses no
//     line Append returned nil for, no room CreateRoom returned nil for and no
//     user CountUser counted. (crash_test.go kills a writer mid-append.)
//   - A power cut or kernel crash loses none of them either, on a disk that
//     honours fsync.
//   - What can be lost is only what nobody was shown: the batch in flight,
//     lines still waiting for the committer. A batch is one transaction, so
//     it is never half stored. After a restart the lobby numbers new lines
//     from the last stored seq, so the seqs of lost lines are given out again.
//
// Why FULL and not NORMAL: in WAL mode NORMAL syncs only at checkpoints. It
// also survives a process kill (the log is in the kernel's page cache), but a
// power cut can drop the last commits, which breaks the contract for lines
// already on screens. Measured on the 2-core build machine
// (go test -run '^$' -bench Append -benchtime 2s -count 3 ./store/), in
// lines per second:
//
//	                 1 line/commit   batches of 64   batches of 256
//	synchronous=FULL        ~3,500         ~70,000          ~95,000
//	synchronous=NORMAL     ~14,000        ~100,000         ~125,000
//
// Group commit meets the 20,000 lines/s target at FULL with room to spare,
// and under load the lobby's batches grow by themselves, so FULL costs
// latency (one fsync, about 0.3 ms here, per commit) but no throughput that
// a chat needs.
//
// # Backup, inspection, export
//
// While the server runs, take a consistent copy with SQLite's online backup:
//
//	sqlite3 data/chatroom.db ".backup backup.db"
//
// (or VACUUM INTO 'backup.db'). Do not cp chatroom.db alone while the server
// runs: recent commits may still be in chatroom.db-wal. After a clean stop
// (Close checkpoints and truncates the log) the single file is complete. To
// restore, stop the server, put the copy in place as chatroom.db, delete any
// stale chatroom.db-wal and chatroom.db-shm, and start it.
//
// To look inside without risk: sqlite3 -readonly data/chatroom.db, e.g.
//
//	SELECT r.name, count(*) FROM messages m JOIN rooms r ON r.id = m.room_id GROUP BY r.id;
//	SELECT datetime(at / 1000000000, 'unixepoch'), author, text FROM messages
//	 WHERE room_id = 1 ORDER BY seq DESC LIMIT 20;
//
// Writing with the shell while the server runs makes the server's writes wait
// (up to the 5 s busy timeout) and then fail; don't.
//
// OpenReadOnly opens the database for tools such as the export command; it
// works beside a running server. Export streams a room's history as text or
// JSON lines, a page at a time in short read transactions, so it neither
// holds the room in memory nor keeps the server from checkpointing.
package store
