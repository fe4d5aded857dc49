-- Values of the whole server, not of a domain (profiles.ServerSettingStore),
-- by name: written once (InitServerSetting), never replaced. The check value
-- of the server secret is one (profiles.ServerSecretCheck). It mirrors
-- sqlite/migrations/0017. created_at is unix milliseconds.
CREATE TABLE server_settings (
	name       text COLLATE "C" NOT NULL PRIMARY KEY,
	value      bytea  NOT NULL,
	created_at bigint NOT NULL
);
