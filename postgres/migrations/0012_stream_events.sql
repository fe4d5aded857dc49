-- Events waiting for delivery to event streams (profiles.StreamEvent). It
-- mirrors sqlite/migrations/0012: a change of a domain that has event
-- streams writes one row per stream in its own transaction
-- (Tx.PutStreamEvents); the delivery loop of any node claims rows
-- (ClaimStreamEvents: claimed_until, unix milliseconds, 0 for never
-- claimed), writes them to the stream's destination and deletes them. seq
-- orders the rows (an identity: a number is never reused, so a claim's
-- delete cannot hit a newer row); it comes from a sequence, outside
-- transactions, so concurrent ingestions that insert here do not conflict.
-- data is the payload as the service sealed it, stored and read back byte
-- for byte. Deleting a domain deletes its events (ON DELETE CASCADE);
-- stream_events_by_claim serves the claim (never claimed first, by seq,
-- then lapsed claims; it stops at the limit), stream_events_by_stream
-- PurgeStreamEvents and CountStreamEvents, stream_events_by_age the
-- retention's delete. Unlike SQLite's, the payload stays in the row:
-- PostgreSQL keeps a large one out of line (TOAST) and a claim's update
-- does not copy it. Times are unix milliseconds.
CREATE TABLE stream_events (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	domain        text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	stream        text COLLATE "C" NOT NULL,
	id            text COLLATE "C" NOT NULL,
	partition_key text    NOT NULL,
	data          bytea   NOT NULL,
	created_at    bigint  NOT NULL,
	claimed_until bigint  NOT NULL DEFAULT 0,
	attempts      integer NOT NULL DEFAULT 0
);

CREATE INDEX stream_events_by_claim ON stream_events (claimed_until, seq);
CREATE INDEX stream_events_by_stream ON stream_events (domain, stream);
CREATE INDEX stream_events_by_age ON stream_events (created_at);
