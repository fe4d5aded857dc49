-- Integrations and contact-center instances (profiles.IntegrationStore).
--
-- An integration is keyed by its domain and Uri, and a Uri belongs to one
-- domain at most (UNIQUE (uri)): PutIntegration checks it in its write
-- transaction, and the constraint guards it whatever the writer. Integrations
-- reference their domain ON DELETE CASCADE, so deleting a domain frees its
-- Uris. object_type_names and tags are JSON objects of strings ('{}' for
-- none), event_trigger_names a JSON array of strings ('[]' for none), all as
-- text. Uris sort in byte order (BINARY collation), which ListIntegrations
-- relies on. Times are unix milliseconds.
CREATE TABLE integrations (
	domain              TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	uri                 TEXT    NOT NULL UNIQUE,
	object_type_name    TEXT    NOT NULL DEFAULT '',
	object_type_names   TEXT    NOT NULL DEFAULT '{}',
	role_arn            TEXT    NOT NULL DEFAULT '',
	event_trigger_names TEXT    NOT NULL DEFAULT '[]',
	scope               TEXT    NOT NULL DEFAULT '',
	tags                TEXT    NOT NULL DEFAULT '{}',
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	PRIMARY KEY (domain, uri)
) STRICT;

-- Instances are known to the whole store, not to a domain: no reference to
-- domains (an instance's domain is the one of the integration whose Uri is
-- its ARN). The id and the ARN are unique; ListInstances reads them by
-- alias, then id, from the index.
CREATE TABLE instances (
	id         TEXT    NOT NULL PRIMARY KEY,
	arn        TEXT    NOT NULL UNIQUE,
	alias      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX instances_by_alias ON instances (alias, id);
