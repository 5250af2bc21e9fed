-- Talking (issue 13): action lines (/me), join and leave lines told apart
-- from other notices (/joins), lines edited or deleted by their authors
-- (/edit, /delete), and a full-text index of what people said (/search).
--
-- SQLite cannot change a CHECK constraint in place, so messages is built
-- again with the new columns; the rows keep their primary key order.

CREATE TABLE messages_new (
	room_id INTEGER NOT NULL REFERENCES rooms (id),
	seq     INTEGER NOT NULL CHECK (seq > 0),
	-- The order lines were stored in, over every room: the rowid of the
	-- search index, so that the newest hits come first at no extra cost.
	line    INTEGER NOT NULL UNIQUE,
	at      INTEGER NOT NULL,
	author  TEXT    NOT NULL,
	-- 'presence' is a notice that someone joined or left the room.
	kind    TEXT    NOT NULL CHECK (kind IN ('message', 'action', 'system', 'presence')),
	-- A line of several lines (a pasted block) holds them joined by '\n'.
	text    TEXT    NOT NULL,
	-- When the author last changed the text; 0 when never.
	edited  INTEGER NOT NULL DEFAULT 0,
	-- 1 once the author deleted the line; its text is then ''.
	deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
	PRIMARY KEY (room_id, seq)
) STRICT, WITHOUT ROWID;

-- Join and leave lines were 'system' lines reading "NAME joined ROOM" and
-- "NAME left ROOM" (with a reason after it, sometimes).
INSERT INTO messages_new (room_id, seq, line, at, author, kind, text)
SELECT m.room_id, m.seq,
       row_number() OVER (ORDER BY m.at, m.room_id, m.seq),
       m.at, m.author,
       CASE
         WHEN m.kind = 'system' AND (
              m.text = m.author || ' joined ' || r.name
           OR substr(m.text, 1, length(m.author || ' left ' || r.name)) = m.author || ' left ' || r.name)
         THEN 'presence'
         ELSE m.kind
       END,
       m.text
FROM messages m JOIN rooms r ON r.id = m.room_id;

DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

-- The search index: what was said (chat and action lines), by line, and in
-- which room, so that a search in some rooms skips the others' hits by the
-- index rather than line by line. It keeps no copy of the text
-- (content='messages'); the triggers below keep it in step with every write
-- to messages, in the same transaction.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
	text,
	room_id,
	content = 'messages',
	content_rowid = 'line',
	tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO messages_fts (rowid, text, room_id)
SELECT line, text, room_id FROM messages WHERE kind IN ('message', 'action') AND deleted = 0;
-- One segment to start from: a search looks a room up once per segment.
INSERT INTO messages_fts (messages_fts) VALUES ('optimize');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind IN ('message', 'action') AND new.deleted = 0
BEGIN
	INSERT INTO messages_fts (rowid, text, room_id) VALUES (new.line, new.text, new.room_id);
END;

-- An external-content index must be told the old values to forget a row.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted, kind ON messages
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text, room_id)
	SELECT 'delete', old.line, old.text, old.room_id
	WHERE old.kind IN ('message', 'action') AND old.deleted = 0;
	INSERT INTO messages_fts (rowid, text, room_id)
	SELECT new.line, new.text, new.room_id
	WHERE new.kind IN ('message', 'action') AND new.deleted = 0;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.kind IN ('message', 'action') AND old.deleted = 0
BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text, room_id) VALUES ('delete', old.line, old.text, old.room_id);
END;
