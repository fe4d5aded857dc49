-- Domain configs (profiles.ConfigStore): named documents of a domain's
-- configuration, such as layouts, one table for every kind. It mirrors
-- sqlite/migrations/0010.
--
-- A config is keyed by its domain, kind and name, and references its domain
-- ON DELETE CASCADE, so deleting a domain deletes its configs. data is the
-- service's JSON, kept byte for byte (bytea: no check of its encoding, an
-- empty document for none). Domains, kinds and names are text in the "C"
-- collation: they compare and sort byte by byte, which ListConfigs relies
-- on; it reads a range of the primary key, which also serves the count of
-- a domain's configs of one kind against a quota. Times are unix
-- milliseconds.
CREATE TABLE configs (
	domain     text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	kind       text COLLATE "C" NOT NULL,
	name       text COLLATE "C" NOT NULL,
	data       bytea  NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (domain, kind, name)
);
