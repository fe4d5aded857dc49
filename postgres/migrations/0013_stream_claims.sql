-- Claims of event streams (profiles.EventOutbox). It mirrors
-- sqlite/migrations/0013: the delivery loop of a node claims a whole event
-- stream (domain, stream: the StreamName of its events) until
-- claimed_until (unix milliseconds) and takes its oldest events; no other
-- claimer, on any node, takes an event of the stream until the claim lapses
-- or is finished (its row deleted). So one stream's events are sent by one
-- node at a time, in order, and a stream whose destination fails is claimed
-- once per lease, not its whole backlog each time. Events no longer carry a
-- claim of their own: stream_events.claimed_until and its index go, and
-- stream_events_by_stream takes seq, to serve a stream's oldest events.
DROP INDEX stream_events_by_claim;
ALTER TABLE stream_events DROP COLUMN claimed_until;
DROP INDEX stream_events_by_stream;
CREATE INDEX stream_events_by_stream ON stream_events (domain, stream, seq);

CREATE TABLE stream_claims (
	domain        text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	stream        text COLLATE "C" NOT NULL,
	claimed_until bigint NOT NULL,
	PRIMARY KEY (domain, stream)
);
