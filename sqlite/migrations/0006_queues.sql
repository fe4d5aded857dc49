-- Queues and messages of the built-in queue service (profiles.QueueStore).
--
-- A queue's name is unique. Its attributes and tags are JSON objects of
-- strings, as text ('{}' for none). Messages reference their queue ON DELETE
-- CASCADE, so DeleteQueue removes them in the same transaction; a message id
-- is unique in its queue. Names sort in byte order (BINARY collation), which
-- ListQueues relies on. Times are unix milliseconds; first_receive 0 means
-- never received, receipt_handle '' likewise.
CREATE TABLE queues (
	name       TEXT    NOT NULL PRIMARY KEY,
	url        TEXT    NOT NULL,
	arn        TEXT    NOT NULL,
	attributes TEXT    NOT NULL DEFAULT '{}',
	tags       TEXT    NOT NULL DEFAULT '{}',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE queue_messages (
	queue          TEXT    NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
	id             TEXT    NOT NULL,
	body           TEXT    NOT NULL,
	attributes     TEXT    NOT NULL DEFAULT '{}',
	sent_at        INTEGER NOT NULL,
	visible_at     INTEGER NOT NULL,
	receive_count  INTEGER NOT NULL DEFAULT 0,
	receipt_handle TEXT    NOT NULL DEFAULT '',
	first_receive  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (queue, id)
) STRICT;

-- ReceiveMessages reads a queue's messages oldest first (sent_at, id) and
-- takes the first ones visible (visible_at at or before its now), reading
-- visible_at from the index: it stops after max visible messages, never
-- sorts, and reads the table only for the messages it takes. The visible
-- messages it deletes as expired are a range of sent_at. CountMessages
-- counts from the index alone; PurgeQueue and the cascade read the queue's
-- range.
CREATE INDEX queue_messages_to_receive ON queue_messages (queue, sent_at, id, visible_at);

-- DeleteMessage and ChangeVisibility find a message by its last receipt
-- handle; messages never received have none.
CREATE UNIQUE INDEX queue_messages_by_handle ON queue_messages (queue, receipt_handle)
	WHERE receipt_handle <> '';
