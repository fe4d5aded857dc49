-- history: the change records of profiles (HistoryRecord), one row per
-- (domain, profile, id). It mirrors sqlite/migrations/0003.
--
-- It references its domain ON DELETE CASCADE, so DeleteDomain removes it,
-- but not profiles: a deleted profile keeps its history, and a record may
-- be written in the transaction that deletes its profile. content is an
-- opaque blob, stored and read back byte for byte (it is to be encrypted).
-- Times are unix milliseconds.
CREATE TABLE history (
	domain       text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	profile_id   text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	action_type  text COLLATE "C" NOT NULL,
	object_type  text COLLATE "C" NOT NULL,
	object_key   text COLLATE "C" NOT NULL DEFAULT '',
	performed_by text COLLATE "C" NOT NULL DEFAULT '',
	content      bytea  NOT NULL,
	created_at   bigint NOT NULL,
	updated_at   bigint NOT NULL,
	PRIMARY KEY (domain, profile_id, id)
);

-- ListHistory: a profile's records newest first, keyset paging by
-- (created_at, id).
CREATE INDEX history_by_profile ON history (domain, profile_id, created_at DESC, id DESC);
