-- Profile data: object types, profiles, their objects and their keys.
--
-- Every table references domains(name) ON DELETE CASCADE, so DeleteDomain
-- removes all of it in one statement. Times are unix milliseconds; 0 in
-- objects.expires_at means "never". Names, ids and keys are TEXT in BINARY
-- collation: they compare and sort byte by byte.

-- object_types: data is this package's JSON form of the ObjectType minus
-- domain, name and times (see objecttype.go).
CREATE TABLE object_types (
	domain     TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	data       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (domain, name)
) STRICT;

-- profiles: data is an opaque blob made by encodeProfile (profile.go) from
-- the Fields and Sources; size is what the profile counts in
-- DomainStats.TotalSize (the bytes of its field names and values).
CREATE TABLE profiles (
	domain     TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	id         TEXT    NOT NULL,
	data       BLOB    NOT NULL,
	size       INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (domain, id)
) STRICT;

-- objects: one row per (type, unique key). object_type does not reference
-- object_types: an object may be of a built-in template used by name,
-- which has no row there. DeleteObjectType deletes a type's objects itself.
-- size is length(data), kept so that sums read no blob.
CREATE TABLE objects (
	domain              TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	object_type         TEXT    NOT NULL,
	unique_key          TEXT    NOT NULL,
	profile_id          TEXT    NOT NULL,
	data                BLOB    NOT NULL,
	size                INTEGER NOT NULL,
	source_last_updated INTEGER NOT NULL,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	expires_at          INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (domain, object_type, unique_key),
	FOREIGN KEY (domain, profile_id) REFERENCES profiles (domain, id) ON DELETE CASCADE
) STRICT;

-- ListObjects (newest first, keyset paging), ProfileUsage and the
-- MeteringProfileCount of DomainStats read this index alone: expires_at and
-- size ride along so that neither the expiry test nor the sums touch the
-- table. Its (domain, profile_id) prefix also serves the cascade from profiles.
CREATE INDEX objects_by_profile ON objects
	(domain, profile_id, object_type, updated_at DESC, unique_key DESC, expires_at, size);

-- DeleteExpired: only objects that expire.
CREATE INDEX objects_by_expiry ON objects (expires_at) WHERE expires_at > 0;

-- keys: the searchable index entries. origin is '_profile', '_api' or the
-- object type of the object that produced the key, whose unique key is then
-- object_key ('' for the other origins). The primary key is the uniqueness
-- rule of PutKeys and, by its (domain, name, value) prefix, the index of
-- FindProfileIDs; WITHOUT ROWID keeps one b-tree for both.
CREATE TABLE keys (
	domain     TEXT NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	value      TEXT NOT NULL,
	profile_id TEXT NOT NULL,
	origin     TEXT NOT NULL,
	object_key TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (domain, name, value, profile_id, origin, object_key),
	FOREIGN KEY (domain, profile_id) REFERENCES profiles (domain, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- ListKeys, DeleteKeys, the keys of one object, and the cascade from profiles.
CREATE INDEX keys_by_profile ON keys (domain, profile_id, origin, object_key);
