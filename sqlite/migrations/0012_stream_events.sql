-- Events waiting for delivery to event streams (profiles.StreamEvent): a
-- change of a domain that has event streams writes one row per stream in
-- its own transaction (Tx.PutStreamEvents); the delivery loop of any node
-- claims rows (ClaimStreamEvents: claimed_until, unix milliseconds, 0 for
-- never claimed), writes them to the stream's destination and deletes
-- them. seq orders the rows (AUTOINCREMENT: a number is never reused, so a
-- claim's delete cannot hit a newer row). The payload (data, as the service
-- sealed it) lives in stream_event_data, so that a claim rewrites a small
-- row, not the payload. Deleting a domain deletes its events, and deleting
-- an event its payload (ON DELETE CASCADE). stream_events_by_claim serves
-- the claim (never claimed first, by seq, then lapsed claims; it stops at
-- the limit), stream_events_by_stream PurgeStreamEvents and
-- CountStreamEvents, stream_events_by_age the retention's delete.
CREATE TABLE stream_events (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	domain        TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	stream        TEXT    NOT NULL,
	id            TEXT    NOT NULL,
	partition_key TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	claimed_until INTEGER NOT NULL DEFAULT 0,
	attempts      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE stream_event_data (
	seq  INTEGER PRIMARY KEY REFERENCES stream_events (seq) ON DELETE CASCADE,
	data BLOB    NOT NULL
) STRICT;

CREATE INDEX stream_events_by_claim ON stream_events (claimed_until, seq);
CREATE INDEX stream_events_by_stream ON stream_events (domain, stream);
CREATE INDEX stream_events_by_age ON stream_events (created_at);
