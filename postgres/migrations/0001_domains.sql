-- Domains: one row per domain. Later tables (profiles, objects, keys, …)
-- reference domains(name) ON DELETE CASCADE, so deleting a row removes
-- everything the domain holds in the same statement.
--
-- Every name, id and key is text in the "C" collation: it compares and sorts
-- byte by byte (UTF-8 byte order), as the SQLite store's BINARY collation
-- does, which ListDomains and every other listing rely on.
--
-- settings holds the Matching, RuleBasedMatching and DataStore settings as
-- JSON in the form of settings.go; tags is a JSON object. Both are text, not
-- jsonb: they read back byte for byte, and jsonb would refuse the escape
-- \u0000 in a tag. Times are unix milliseconds.
CREATE TABLE domains (
	name                    text COLLATE "C" NOT NULL PRIMARY KEY,
	default_expiration_days integer NOT NULL,
	default_encryption_key  text    NOT NULL DEFAULT '',
	dead_letter_queue_url   text    NOT NULL DEFAULT '',
	settings                text    NOT NULL DEFAULT '{}',
	tags                    text    NOT NULL DEFAULT '{}',
	created_at              bigint  NOT NULL,
	updated_at              bigint  NOT NULL
);
