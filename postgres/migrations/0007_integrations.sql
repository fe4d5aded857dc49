-- Integrations and contact-center instances (profiles.IntegrationStore).
-- It mirrors sqlite/migrations/0007.
--
-- An integration is keyed by its domain and Uri, and a Uri belongs to one
-- domain at most (UNIQUE (uri)): PutIntegration's upsert takes the Uri's
-- constraint as its arbiter, so that of concurrent puts of one Uri on
-- different domains one inserts and the others find its row. Integrations
-- reference their domain ON DELETE CASCADE, so deleting a domain frees its
-- Uris. object_type_names and tags are JSON objects of strings ('{}' for
-- none), event_trigger_names a JSON array of strings ('[]' for none), all as
-- text (read back byte for byte). Names, Uris and ids are text in the "C"
-- collation: they compare and sort byte by byte, which ListIntegrations and
-- ListInstances rely on. Times are unix milliseconds.
CREATE TABLE integrations (
	domain              text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	uri                 text COLLATE "C" NOT NULL UNIQUE,
	object_type_name    text   NOT NULL DEFAULT '',
	object_type_names   text   NOT NULL DEFAULT '{}',
	role_arn            text   NOT NULL DEFAULT '',
	event_trigger_names text   NOT NULL DEFAULT '[]',
	scope               text   NOT NULL DEFAULT '',
	tags                text   NOT NULL DEFAULT '{}',
	created_at          bigint NOT NULL,
	updated_at          bigint NOT NULL,
	PRIMARY KEY (domain, uri)
);

-- Instances are known to the whole store, not to a domain: no reference to
-- domains (an instance's domain is the one of the integration whose Uri is
-- its ARN). The id and the ARN are unique; ListInstances reads them by
-- alias, then id, from the index.
CREATE TABLE instances (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	arn        text COLLATE "C" NOT NULL UNIQUE,
	alias      text COLLATE "C" NOT NULL DEFAULT '',
	created_at bigint NOT NULL
);

CREATE INDEX instances_by_alias ON instances (alias, id);
