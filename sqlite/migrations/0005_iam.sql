-- Principals (IAM users and roles), their access keys and their inline
-- identity policies (profiles.IAMStore).
--
-- Users and roles share one table, so a name is unique among both. Access
-- keys and policies reference their principal ON DELETE CASCADE, so
-- DeletePrincipal removes them in the same transaction. Names and ids sort
-- in byte order (BINARY collation), which the List methods rely on.
-- sealed_secret is the secret access key as the service sealed it, opaque
-- here and read back byte for byte. Times are unix milliseconds;
-- last_used_at 0 means never.
CREATE TABLE iam_principals (
	name       TEXT    NOT NULL PRIMARY KEY,
	type       TEXT    NOT NULL CHECK (type IN ('user', 'role')),
	id         TEXT    NOT NULL,
	arn        TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- ListPrincipals of one type.
CREATE INDEX iam_principals_by_type ON iam_principals (type, name);

CREATE TABLE iam_access_keys (
	id            TEXT    NOT NULL PRIMARY KEY,
	principal     TEXT    NOT NULL REFERENCES iam_principals (name) ON DELETE CASCADE,
	sealed_secret BLOB    NOT NULL,
	status        TEXT    NOT NULL CHECK (status IN ('Active', 'Inactive')),
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- ListAccessKeys (oldest first), the count of active keys against the
-- quota, and the cascade from iam_principals.
CREATE INDEX iam_access_keys_by_principal ON iam_access_keys (principal, created_at, id);

-- The primary key serves ListPrincipalPolicies and the cascade.
CREATE TABLE iam_policies (
	principal  TEXT    NOT NULL REFERENCES iam_principals (name) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	document   TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (principal, name)
) STRICT;
