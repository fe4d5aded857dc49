-- Console sessions ended before their expiry (profiles.IAMStore
-- RevokeSession): sessions are signed cookies, so signing out records the
-- session's id here for every node to refuse it. A later sign-out drops
-- the rows whose session expired RevocationGrace (10 minutes) before
-- (expires_at, unix milliseconds).
CREATE TABLE revoked_sessions (
	id         TEXT    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
