-- The built-in key manager (localkms): keys, aliases and grants
-- (profiles.KMSStore). It mirrors sqlite/migrations/0004.
--
-- Key material is stored wrapped (encrypted under the key manager's root
-- key, which is not in the database), as an opaque bytea read back byte for
-- byte. Aliases and grants reference their key ON DELETE CASCADE, so
-- DeleteKMSKey removes them in the same statement. Ids, names and tokens are
-- text in the "C" collation: they compare and sort byte by byte, which the
-- List methods rely on. tags, operations and the encryption context
-- constraints hold JSON as text (read back byte for byte; jsonb would refuse
-- the escape \u0000). Times are unix milliseconds; deletion_date 0 means
-- none.
CREATE TABLE kms_keys (
	id               text COLLATE "C" NOT NULL PRIMARY KEY,
	arn              text COLLATE "C" NOT NULL,
	description      text   NOT NULL DEFAULT '',
	state            text COLLATE "C" NOT NULL,
	key_spec         text COLLATE "C" NOT NULL,
	key_usage        text COLLATE "C" NOT NULL,
	wrapped_material bytea  NOT NULL,
	policy           text   NOT NULL DEFAULT '',
	tags             text   NOT NULL DEFAULT '{}',
	created_at       bigint NOT NULL,
	deletion_date    bigint NOT NULL DEFAULT 0
);

CREATE TABLE kms_aliases (
	name       text COLLATE "C" NOT NULL PRIMARY KEY,
	key_id     text COLLATE "C" NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);

-- ListKMSAliases of one key; the cascade from kms_keys.
CREATE INDEX kms_aliases_by_key ON kms_aliases (key_id, name);

-- The primary key serves ListKMSGrants of one key and the cascade.
CREATE TABLE kms_grants (
	key_id                    text COLLATE "C" NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
	id                        text COLLATE "C" NOT NULL,
	token                     text COLLATE "C" NOT NULL,
	name                      text   NOT NULL DEFAULT '',
	grantee_principal         text COLLATE "C" NOT NULL,
	retiring_principal        text COLLATE "C" NOT NULL DEFAULT '',
	issuing_account           text COLLATE "C" NOT NULL DEFAULT '',
	operations                text   NOT NULL DEFAULT '[]',
	encryption_context_equals text   NOT NULL DEFAULT '{}',
	encryption_context_subset text   NOT NULL DEFAULT '{}',
	created_at                bigint NOT NULL,
	PRIMARY KEY (key_id, id)
);

-- Grant ids are unique in the whole store, not only per key; so are tokens
-- (FindKMSGrantByToken).
CREATE UNIQUE INDEX kms_grants_by_id ON kms_grants (id);
CREATE UNIQUE INDEX kms_grants_by_token ON kms_grants (token);
