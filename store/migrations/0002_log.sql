-- The ordered log: since this version every change of the chat is a batch
-- of changes in a log (a node's own, below, or a cluster's JetStream stream)
-- that the node applies to these tables in order.

-- What the Lobby keeps of a room besides its lines (owner, topic, ...), as
-- JSON in its own encoding.
ALTER TABLE rooms ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';

-- Shared state other than rooms and lines: the sessions of every node,
-- node instances known dead, and later registrations, bans, settings. The
-- value is JSON in the Lobby's encoding.
CREATE TABLE state (
	kind  TEXT NOT NULL,
	key   TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;

-- This node's own facts, never shared: which log it applies ('log_id') and
-- how far it has applied it ('cursor').
CREATE TABLE local (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The log of a node on its own: batches of changes (JSON) appended and
-- fsynced before anyone is shown them, removed once applied. A node in a
-- cluster leaves it empty: its log is the cluster's.
CREATE TABLE log (
	seq   INTEGER PRIMARY KEY,
	batch TEXT NOT NULL
) STRICT;
