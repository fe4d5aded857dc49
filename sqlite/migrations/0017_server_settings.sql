-- Values of the whole server, not of a domain (profiles.ServerSettingStore),
-- by name: written once (InitServerSetting), never replaced. The check value
-- of the server secret is one (profiles.ServerSecretCheck). created_at is
-- unix milliseconds.
CREATE TABLE server_settings (
	name       TEXT    NOT NULL PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
