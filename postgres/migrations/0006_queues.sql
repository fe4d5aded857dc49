-- Queues and messages of the built-in queue service (profiles.QueueStore).
-- It mirrors sqlite/migrations/0006.
--
-- A queue's name is unique. Its attributes and tags are JSON objects of
-- strings, as text ('{}' for none). Messages reference their queue ON DELETE
-- CASCADE, so DeleteQueue removes them in the same statement; a message id
-- is unique in its queue. Names, ids and receipt handles are text in the "C"
-- collation: they compare and sort byte by byte, which ListQueues and the
-- order of ReceiveMessages rely on. Times are unix milliseconds;
-- first_receive 0 means never received, receipt_handle '' likewise.
CREATE TABLE queues (
	name       text COLLATE "C" NOT NULL PRIMARY KEY,
	url        text   NOT NULL,
	arn        text   NOT NULL,
	attributes text   NOT NULL DEFAULT '{}',
	tags       text   NOT NULL DEFAULT '{}',
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);

CREATE TABLE queue_messages (
	queue          text COLLATE "C" NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
	id             text COLLATE "C" NOT NULL,
	body           text    NOT NULL,
	attributes     text    NOT NULL DEFAULT '{}',
	sent_at        bigint  NOT NULL,
	visible_at     bigint  NOT NULL,
	receive_count  integer NOT NULL DEFAULT 0,
	receipt_handle text COLLATE "C" NOT NULL DEFAULT '',
	first_receive  bigint  NOT NULL DEFAULT 0,
	PRIMARY KEY (queue, id)
);

-- ReceiveMessages reads a queue's messages oldest first (sent_at, id) and
-- locks the first ones visible (visible_at at or before its now, an index
-- condition): it stops after max visible messages, never sorts, and reads
-- the table only for the messages it takes. The visible messages it deletes
-- as expired are a range of sent_at. CountMessages counts from the index;
-- PurgeQueue and the cascade read the queue's range.
CREATE INDEX queue_messages_to_receive ON queue_messages (queue, sent_at, id, visible_at);

-- DeleteMessage and ChangeVisibility find a message by its last receipt
-- handle; messages never received have none.
CREATE UNIQUE INDEX queue_messages_by_handle ON queue_messages (queue, receipt_handle)
	WHERE receipt_handle <> '';
