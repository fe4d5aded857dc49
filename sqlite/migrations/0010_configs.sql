-- Domain configs (profiles.ConfigStore): named documents of a domain's
-- configuration, such as layouts, one table for every kind.
--
-- A config is keyed by its domain, kind and name, and references its domain
-- ON DELETE CASCADE, so deleting a domain deletes its configs. data is the
-- service's JSON, kept byte for byte. Names sort in byte order (BINARY
-- collation), which ListConfigs relies on. Times are unix milliseconds.
CREATE TABLE configs (
	domain     TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	data       BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (domain, kind, name)
) STRICT, WITHOUT ROWID;
