-- Principals (IAM users and roles), their access keys and their inline
-- identity policies (profiles.IAMStore). It mirrors sqlite/migrations/0005.
--
-- Users and roles share one table, so a name is unique among both. Access
-- keys and policies reference their principal ON DELETE CASCADE, so
-- DeletePrincipal removes them in the same statement. Names and ids are text
-- in the "C" collation: they compare and sort byte by byte, which the List
-- methods rely on. sealed_secret is the secret access key as the service
-- sealed it, an opaque bytea read back byte for byte. Policy documents are
-- text, read back byte for byte. Times are unix milliseconds; last_used_at 0
-- means never.
CREATE TABLE iam_principals (
	name       text COLLATE "C" NOT NULL PRIMARY KEY,
	type       text COLLATE "C" NOT NULL CHECK (type IN ('user', 'role')),
	id         text COLLATE "C" NOT NULL,
	arn        text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL
);

-- ListPrincipals of one type.
CREATE INDEX iam_principals_by_type ON iam_principals (type, name);

CREATE TABLE iam_access_keys (
	id            text COLLATE "C" NOT NULL PRIMARY KEY,
	principal     text COLLATE "C" NOT NULL REFERENCES iam_principals (name) ON DELETE CASCADE,
	sealed_secret bytea  NOT NULL,
	status        text COLLATE "C" NOT NULL CHECK (status IN ('Active', 'Inactive')),
	created_at    bigint NOT NULL,
	last_used_at  bigint NOT NULL DEFAULT 0
);

-- ListAccessKeys (oldest first), the count of active keys against the
-- quota, and the cascade from iam_principals.
CREATE INDEX iam_access_keys_by_principal ON iam_access_keys (principal, created_at, id);

-- The primary key serves ListPrincipalPolicies and the cascade.
CREATE TABLE iam_policies (
	principal  text COLLATE "C" NOT NULL REFERENCES iam_principals (name) ON DELETE CASCADE,
	name       text COLLATE "C" NOT NULL,
	document   text   NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (principal, name)
);
