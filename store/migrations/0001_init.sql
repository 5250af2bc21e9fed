-- Rooms, their history, and durable counters.
--
-- Times are integers: nanoseconds since the Unix epoch, UTC. In the sqlite3
-- shell, datetime(at / 1000000000, 'unixepoch') shows them.

CREATE TABLE rooms (
	id      INTEGER PRIMARY KEY,
	-- The name exactly as it was created. The lobby keeps names unique
	-- without regard to case; this only guards the exact spelling.
	name    TEXT    NOT NULL UNIQUE,
	created INTEGER NOT NULL
) STRICT;

-- One row per line of a room's history. The primary key is the room's
-- timeline: WITHOUT ROWID stores the rows in (room_id, seq) order, so the
-- newest page of a room, an older page, and max(seq) are each one index
-- range scan whatever the size of the table.
CREATE TABLE messages (
	room_id INTEGER NOT NULL REFERENCES rooms (id),
	seq     INTEGER NOT NULL CHECK (seq > 0),
	at      INTEGER NOT NULL,
	author  TEXT    NOT NULL,
	kind    TEXT    NOT NULL CHECK (kind IN ('message', 'system')),
	text    TEXT    NOT NULL,
	PRIMARY KEY (room_id, seq)
) STRICT, WITHOUT ROWID;

-- Named durable counters; 'users' counts the users ever seen.
CREATE TABLE counters (
	name  TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
