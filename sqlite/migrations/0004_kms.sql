-- The built-in key manager (localkms): keys, aliases and grants
-- (profiles.KMSStore).
--
-- Key material is stored wrapped (encrypted under the key manager's root
-- key, which is not in the database). Aliases and grants reference their
-- key ON DELETE CASCADE, so DeleteKMSKey removes them in the same
-- transaction. Ids and names sort in byte order (BINARY collation), which
-- the List methods rely on. tags, operations and the constraint columns
-- hold JSON. Times are unix milliseconds; deletion_date 0 means none.
CREATE TABLE kms_keys (
	id               TEXT    NOT NULL PRIMARY KEY,
	arn              TEXT    NOT NULL,
	description      TEXT    NOT NULL DEFAULT '',
	state            TEXT    NOT NULL,
	key_spec         TEXT    NOT NULL,
	key_usage        TEXT    NOT NULL,
	wrapped_material BLOB    NOT NULL,
	policy           TEXT    NOT NULL DEFAULT '',
	tags             TEXT    NOT NULL DEFAULT '{}',
	created_at       INTEGER NOT NULL,
	deletion_date    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE kms_aliases (
	name       TEXT    NOT NULL PRIMARY KEY,
	key_id     TEXT    NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- ListKMSAliases of one key; the cascade from kms_keys.
CREATE INDEX kms_aliases_by_key ON kms_aliases (key_id, name);

CREATE TABLE kms_grants (
	key_id                    TEXT    NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
	id                        TEXT    NOT NULL,
	token                     TEXT    NOT NULL UNIQUE,
	name                      TEXT    NOT NULL DEFAULT '',
	grantee_principal         TEXT    NOT NULL,
	retiring_principal        TEXT    NOT NULL DEFAULT '',
	issuing_account           TEXT    NOT NULL DEFAULT '',
	operations                TEXT    NOT NULL DEFAULT '[]',
	encryption_context_equals TEXT    NOT NULL DEFAULT '{}',
	encryption_context_subset TEXT    NOT NULL DEFAULT '{}',
	created_at                INTEGER NOT NULL,
	PRIMARY KEY (key_id, id)
) STRICT;

-- Grant ids are unique in the whole store, not only per key.
CREATE UNIQUE INDEX kms_grants_by_id ON kms_grants (id);
