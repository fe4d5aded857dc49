-- history: the change records of profiles (HistoryRecord), one row per
-- (domain, profile, id).
--
-- It references its domain ON DELETE CASCADE, so DeleteDomain removes it,
-- but not profiles: a deleted profile keeps its history, and a record may
-- be written in the transaction that deletes its profile. content is an
-- opaque blob, stored and read back byte for byte (it is to be encrypted).
-- Times are unix milliseconds.
CREATE TABLE history (
	domain       TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	profile_id   TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	action_type  TEXT    NOT NULL,
	object_type  TEXT    NOT NULL,
	object_key   TEXT    NOT NULL DEFAULT '',
	performed_by TEXT    NOT NULL DEFAULT '',
	content      BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (domain, profile_id, id)
) STRICT;

-- ListHistory: a profile's records newest first, keyset paging by
-- (created_at, id).
CREATE INDEX history_by_profile ON history (domain, profile_id, created_at DESC, id DESC);
