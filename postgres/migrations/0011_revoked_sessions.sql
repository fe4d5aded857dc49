-- Console sessions ended before their expiry (profiles.IAMStore
-- RevokeSession). It mirrors sqlite/migrations/0011: signing out records
-- the session's id here for every node to refuse it; a later sign-out
-- drops the rows whose session expired RevocationGrace (10 minutes)
-- before (expires_at, unix milliseconds).
CREATE TABLE revoked_sessions (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	expires_at bigint NOT NULL
);

CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
