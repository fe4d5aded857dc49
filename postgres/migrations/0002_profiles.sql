-- Profile data: object types, profiles, their objects and their keys. The
-- tables mirror those of the SQLite store (sqlite/migrations/0002).
--
-- Every table references domains(name) ON DELETE CASCADE, so DeleteDomain
-- removes all of it in one statement. Times are unix milliseconds; 0 in
-- objects.expires_at means "never". Names, ids and keys are text in the "C"
-- collation: they compare and sort byte by byte.

-- object_types: data is this package's JSON form of the ObjectType minus
-- domain, name and times (see objecttype.go).
CREATE TABLE object_types (
	domain     text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	name       text COLLATE "C" NOT NULL,
	data       text   NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (domain, name)
);

-- profiles: data is an opaque blob made by encodeProfile (profile.go) from
-- the Fields and Sources; size is what the profile counts in
-- DomainStats.TotalSize (the bytes of its field names and values).
CREATE TABLE profiles (
	domain     text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	id         text COLLATE "C" NOT NULL,
	data       bytea  NOT NULL,
	size       bigint NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (domain, id)
);

-- objects: one row per (type, unique key). object_type does not reference
-- object_types: an object may be of a built-in template used by name,
-- which has no row there. DeleteObjectType deletes a type's objects itself.
-- size is length(data), kept so that sums read no data.
CREATE TABLE objects (
	domain              text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	object_type         text COLLATE "C" NOT NULL,
	unique_key          text COLLATE "C" NOT NULL,
	profile_id          text COLLATE "C" NOT NULL,
	data                bytea  NOT NULL,
	size                bigint NOT NULL,
	source_last_updated bigint NOT NULL,
	created_at          bigint NOT NULL,
	updated_at          bigint NOT NULL,
	expires_at          bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (domain, object_type, unique_key),
	FOREIGN KEY (domain, profile_id) REFERENCES profiles (domain, id) ON DELETE CASCADE
);

-- ListObjects (newest first, keyset paging), ProfileUsage and the
-- MeteringProfileCount of DomainStats read this index: expires_at and size
-- ride along (INCLUDE) so that the expiry test and the sums can be answered
-- by an index-only scan. Its (domain, profile_id) prefix also serves the
-- cascade from profiles.
CREATE INDEX objects_by_profile ON objects
	(domain, profile_id, object_type, updated_at DESC, unique_key DESC) INCLUDE (expires_at, size);

-- DeleteExpired: only objects that expire.
CREATE INDEX objects_by_expiry ON objects (expires_at) WHERE expires_at > 0;

-- keys: the searchable index entries. origin is '_profile', '_api' or the
-- object type of the object that produced the key, whose unique key is then
-- object_key ('' for the other origins). The primary key is the uniqueness
-- rule of PutKeys and, by its (domain, name, value) prefix, the index of
-- FindProfileIDs, which an index-only scan answers.
CREATE TABLE keys (
	domain     text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	name       text COLLATE "C" NOT NULL,
	value      text COLLATE "C" NOT NULL,
	profile_id text COLLATE "C" NOT NULL,
	origin     text COLLATE "C" NOT NULL,
	object_key text COLLATE "C" NOT NULL DEFAULT '',
	PRIMARY KEY (domain, name, value, profile_id, origin, object_key),
	FOREIGN KEY (domain, profile_id) REFERENCES profiles (domain, id) ON DELETE CASCADE
);

-- ListKeys (in the order of this index, which holds whole rows), DeleteKeys,
-- the keys of one object, the filter of ListObjects, and the cascade from
-- profiles.
CREATE INDEX keys_by_profile ON keys (domain, profile_id, origin, object_key, name, value);
