-- Claims of event streams (profiles.EventOutbox): the delivery loop of a
-- node claims a whole event stream (domain, stream: the StreamName of its
-- events) until claimed_until (unix milliseconds) and takes its oldest
-- events; no other claimer takes any event of the stream until the claim
-- lapses or is finished (its row deleted). So one stream's events are sent
-- by one claimer at a time, in order, and a stream whose destination fails
-- is claimed once per lease, not its whole backlog each time. Events no
-- longer carry a claim of their own: stream_events.claimed_until and its
-- index go. stream_events_by_stream (domain, stream; with the rowid, seq)
-- serves a stream's oldest events.
DROP INDEX stream_events_by_claim;
ALTER TABLE stream_events DROP COLUMN claimed_until;

CREATE TABLE stream_claims (
	domain        TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	stream        TEXT    NOT NULL,
	claimed_until INTEGER NOT NULL,
	PRIMARY KEY (domain, stream)
) STRICT, WITHOUT ROWID;
