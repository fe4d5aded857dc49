-- Domains: one row per domain. Later tables (profiles, objects, keys, …)
-- reference domains(name) ON DELETE CASCADE, so deleting a row removes
-- everything the domain holds in the same transaction.
--
-- name sorts in byte order (BINARY collation), which ListDomains relies on.
-- settings holds the Matching, RuleBasedMatching and DataStore settings as
-- JSON (see settings.go); tags is a JSON object. Times are unix milliseconds.
CREATE TABLE domains (
	name                    TEXT    NOT NULL PRIMARY KEY,
	default_expiration_days INTEGER NOT NULL,
	default_encryption_key  TEXT    NOT NULL DEFAULT '',
	dead_letter_queue_url   TEXT    NOT NULL DEFAULT '',
	settings                TEXT    NOT NULL DEFAULT '{}',
	tags                    TEXT    NOT NULL DEFAULT '{}',
	created_at              INTEGER NOT NULL,
	updated_at              INTEGER NOT NULL
) STRICT;
