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
// # Where things are
//
//	sqlite.go    Open, Close, the connections and the schema's migrations
//	apply.go     lobby.Store's Load and Apply: the applied state, one batch a transaction
//	history.go   Recent and Before: pages of a room's lines
//	log.go       LocalLog, the log of a node on its own
//	check.go     the check for damage at Open
//	readonly.go  OpenReadOnly, for tools beside a running server
//	export.go    Export: a room's history as text or JSON lines
//	backup.go    Backup: a consistent copy while a server runs
//	lock_*.go    the folder's lock: one server per data folder
//
// # Goroutines and locks
//
// The package starts no goroutine; each method runs on its caller's. The
// lobby's proposer appends to the LocalLog, its applier follows the log and
// calls Apply, and reads come from anywhere: Recent from the applier (the
// first time a room is touched after a start, under the lobby's lock),
// Before from the front ends (Lobby.Older), Export and Backup from their
// commands.
// LocalLog.mu is held across an append, which orders the appends, and
// briefly by the follower; SQLite.wmu across every write transaction;
// SQLite.mu around the cache of room ids. Lock order: the lobby's lock,
// then LocalLog.mu, then SQLite.wmu, then SQLite.mu, which is held only to
// read or fill the cache. Nothing here calls back into the lobby.
//
// # Schema
//
//	rooms    (id, name, created, meta)                 the name exactly as created; meta is the lobby's JSON
//	messages (room_id, seq, line, at, author, kind,    PRIMARY KEY (room_id, seq), WITHOUT ROWID; line counts
//	          text, edited, deleted)                   every room's lines in the order stored (UNIQUE)
//	messages_fts (text, room_id)                       FTS5 index of chat and action lines, rowid = line
//	                                                   (external content: kept by triggers on messages)
//	counters (name, value)                             'users': users ever named
//	state    (kind, key, value)                        other shared state (sessions, dead nodes, registered names
//	                                                   by name, their settings and read positions by "name/key",
//	                                                   rooms' chat counts...), the lobby's JSON
//	local    (key, value)                              this node's own: 'log_id', 'cursor'
//	log      (seq, batch)                              a node's own log: batches not yet applied
//
// kind is 'message', 'action' (/me), 'system' or 'presence' (a system line
// saying someone joined or left). An edit rewrites text and sets edited; a
// deletion empties text and sets deleted; the triggers keep the search
// index in step in the same transaction, so a search never finds what was
// taken back. Search (search.go) walks the index newest first.
//
// Times are Unix nanoseconds (UTC). Because messages is clustered on
// (room_id, seq), the newest page of a room, a page before a given seq and
// a room's last seq are each one short walk of the primary key, as fast in a
// room of a million lines as in one of a thousand (see bench_test.go).
//
// # Connections
//
// One writer connection does every write, each in one BEGIN IMMEDIATE
// transaction: the log's appends (LocalLog.Append, from the lobby's
// proposer) and the applied batches (Apply, from the lobby's applier, one
// batch of the log per transaction with the new cursor). Reads use a
// separate pool of query-only connections: in WAL mode readers see the last
// commit and neither wait for the writer nor hold it up.
//
// # Durability
//
// The contract: a line is durable before any session is shown it, so a
// crash never takes back a line that anyone saw. The lobby shows a line
// only once the log holds it. On a node on its own the log is the log
// table: each appended batch is committed with PRAGMA synchronous=FULL,
// which fsyncs the write-ahead log before Append returns. The applied state
// (rooms, messages, state, the cursor) is then written at synchronous=
// NORMAL: in WAL mode such a commit is ordered but not synced, and the next
// synced commit syncs it too. A power cut can take back the last applied
// batches, but never the log rows they came from, which Apply trims in the
// same transaction: at the next start the lobby applies them again.
//
//   - SIGKILL, a panic or an OOM kill of the server at any moment loses no
//     batch Append returned nil for. (crash_test.go kills a writer
//     mid-append; cmd/chatroom's crash test kills the server.)
//   - A power cut or kernel crash loses none of them either, on a disk that
//     honours fsync.
//   - What can be lost is only what nobody was shown: changes still waiting
//     for the proposer, or the batch in flight. A batch is one transaction,
//     so it is never half stored.
//
// In a cluster the log is the JetStream stream and the log table stays
// empty; the applied state is written the same way.
//
// Why FULL and not NORMAL for the log: in WAL mode NORMAL syncs only at
// checkpoints. It also survives a process kill (the log is in the kernel's
// page cache), but a power cut can drop the last commits, which breaks the
// contract for lines already on screens. Measured on the 2-core build
// machine, the whole write path (append to the log, then apply) per line
// (go test -run '^$' -bench Append -benchtime 2s ./store/), in lines per
// second:
//
//	log synced at    1 line/batch   batches of 64   batches of 256
//	FULL                   ~2,700         ~74,000         ~135,000
//	NORMAL                 ~6,300         ~92,000         ~180,000
//
// Group commit meets the 20,000 lines/s target at FULL with room to spare,
// and under load the lobby's batches grow by themselves, so FULL costs
// latency (one fsync, about 0.3 ms here, per batch) but no throughput that
// a chat needs.
//
// # Backup, inspection, export
//
// While the server runs, take a consistent copy with Backup (the command
// `chatroom backup DEST`), which is SQLite's VACUUM INTO on a read-only
// connection: one read transaction, so the copy is the database as of one
// commit, write-ahead log included, and the server's writer never waits
// for it. (sqlite3 data/chatroom.db ".backup backup.db" does the same from
// the shell.) Do not cp chatroom.db alone while the server runs: recent
// commits may still be in chatroom.db-wal. After a clean stop (Close
// checkpoints and truncates the log) the single file is complete.
//
// The copy keeps the local table: a node started on it resumes the log it
// was applying from the same cursor, and applies the batches of its own log
// that were appended but not yet applied. So a backup of a cluster's node
// seeds a new node (started with --nats and its own --node name), which
// catches up from the stream; started on its own instead, the copy moves
// to a new log of its own (lobby.adoptLog) and ends the cluster's sessions
// it holds.
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
// # Damage
//
// Open runs PRAGMA quick_check before anything writes (check.go): always for
// a database up to 1 GiB (about half a second per million lines, see
// BenchmarkQuickCheck), and for a bigger one after an unclean shutdown, which
// shows as a chatroom.open marker left behind (Open creates it, a clean Close
// removes it) or a -wal file with frames in it. On damage Open returns an
// ErrCorrupt error that tells the operator what to do, and the server does
// not start: serving from a damaged file loses more with every write, and an
// export fails part way. Recovery is to restore a backup, or to salvage what
// can still be read with the sqlite3 shell (.dump, with its final ROLLBACK
// turned into COMMIT, into a new file, then PRAGMA user_version set to the
// old file's); the README's "History and data" section has the commands.
// Damage in a big database closed cleanly shows only when a page is read:
// the read fails and the lobby logs it.
//
// OpenReadOnly opens the database for tools such as the export command; it
// works beside a running server, and on a read-only copy: with no -wal file
// beside it (none is left by a clean Close, and a running server always has
// one) the file is opened as immutable, which needs no -shm file and so no
// right to write the folder. A copy whose log still holds lines can only be
// read where SQLite may create the -shm file; the error says so. Export streams a room's history as text or
// JSON lines, a page at a time in short read transactions, so it neither
// holds the room in memory nor keeps the server from checkpointing.
package store
