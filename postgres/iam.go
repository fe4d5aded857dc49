package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

var _ profiles.IAMStore = (*DB)(nil)

// Principals, their access keys and their inline policies live in the
// tables of migration 0005.
//
// Concurrency. As in kms.go, every writing method runs one READ COMMITTED
// transaction that locks the rows it depends on, always the principal
// before its keys, and is run again only after a deadlock. CreateAccessKey
// and UpdateAccessKeyStatus lock the principal's row (SELECT … FOR NO KEY
// UPDATE) before they count its active keys: two of them for one principal,
// in this process or another, run one after the other, and the second
// counts (in a statement that starts after the first committed, so sees
// it) the key the first inserted or activated. So the quota of
// MaxActiveAccessKeys holds without SERIALIZABLE and without retries. The
// lock does not stop the inserts of policies (their foreign key check
// locks FOR KEY SHARE), but DeletePrincipal (FOR UPDATE) waits for it, and
// takes the principal's keys and policies in the same statement (ON DELETE
// CASCADE). TouchAccessKey writes one row of a key, and no other lock. Reads
// are single statements, but the listings of a principal's keys and
// policies, which run at REPEATABLE READ, READ ONLY to read the principal
// and its rows in one snapshot.

// SQL of the listings and lookups.
const (
	listPrincipalsSQL = `SELECT ` + principalColumns + ` FROM iam_principals
		WHERE name > $1 ORDER BY name LIMIT $2::bigint`
	listPrincipalsOfTypeSQL = `SELECT ` + principalColumns + ` FROM iam_principals
		WHERE type = $1 AND name > $2 ORDER BY name LIMIT $3::bigint`
	listAccessKeysSQL = `SELECT ` + accessKeyColumns + ` FROM iam_access_keys
		WHERE principal = $1 ORDER BY created_at, id`
	listPoliciesSQL = `SELECT ` + policyColumns + ` FROM iam_policies
		WHERE principal = $1 ORDER BY name`
	findAccessKeySQL = `SELECT ` + accessKeyColumns + ` FROM iam_access_keys WHERE id = $1`
)

// Columns scanPrincipal, scanAccessKey and scanPolicy read, in order.
const (
	principalColumns = `name, type, id, arn, created_at`
	accessKeyColumns = `id, principal, sealed_secret, status, created_at, last_used_at`
	policyColumns    = `principal, name, document, updated_at`
)

// CreatePrincipal inserts p; a zero CreatedAt becomes the current time, and
// p holds its CreatedAt as stored. Returns ECONFLICT if a user or role of
// that name exists, and EINVALID for a type that is neither
// profiles.PrincipalUser nor profiles.PrincipalRole.
func (db *DB) CreatePrincipal(ctx context.Context, p *profiles.Principal) error {
	const op = "create principal"
	if err := checkPrincipalType(p.Type); err != nil {
		return err
	}
	var created int64
	err := db.iamWrite(ctx, op, func(t *tx) error {
		created = stamp(p.CreatedAt, t.now)
		_, err := t.ptx.Exec(ctx, `INSERT INTO iam_principals (`+principalColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			p.Name, p.Type, p.ID, p.ARN, created)
		if isUniqueViolation(err) {
			return profiles.Errorf(profiles.ECONFLICT, "a user or role named %q already exists", p.Name)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	p.CreatedAt = fromMillis(created)
	return nil
}

// FindPrincipal returns the named principal. Returns ENOTFOUND.
func (db *DB) FindPrincipal(ctx context.Context, name string) (*profiles.Principal, error) {
	p, err := scanPrincipal(db.pool.QueryRow(ctx, `SELECT `+principalColumns+` FROM iam_principals WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, principalNotFound(name)
	} else if err != nil {
		return nil, wrap("find principal", err)
	}
	return p, nil
}

// ListPrincipals returns up to limit principals (limit <= 0: all) of type
// typ ("" for both types) whose names sort after after, in byte order.
func (db *DB) ListPrincipals(ctx context.Context, typ, after string, limit int) ([]*profiles.Principal, error) {
	var rows pgx.Rows
	var err error
	if typ == "" {
		rows, err = db.pool.Query(ctx, listPrincipalsSQL, after, limitOrAll(limit))
	} else {
		rows, err = db.pool.Query(ctx, listPrincipalsOfTypeSQL, typ, after, limitOrAll(limit))
	}
	if err != nil {
		return nil, wrap("list principals", err)
	}
	return scanKMSRows(rows, "list principals", scanPrincipal)
}

// DeletePrincipal deletes the principal; its access keys and policies go
// with it (ON DELETE CASCADE). Returns ENOTFOUND.
func (db *DB) DeletePrincipal(ctx context.Context, name string) error {
	const op = "delete principal"
	return db.iamWrite(ctx, op, func(t *tx) error {
		tag, err := t.ptx.Exec(ctx, `DELETE FROM iam_principals WHERE name = $1`, name)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() == 0 {
			return principalNotFound(name)
		}
		return nil
	})
}

// CreateAccessKey inserts k; a zero CreatedAt becomes the current time, and
// k holds its times as stored. Returns ENOTFOUND for a missing principal,
// ECONFLICT for a taken id, EQUOTA if k is active and the principal has
// profiles.MaxActiveAccessKeys active keys, and EINVALID for a status that
// is neither profiles.AccessKeyActive nor profiles.AccessKeyInactive.
func (db *DB) CreateAccessKey(ctx context.Context, k *profiles.AccessKey) error {
	const op = "create access key"
	if err := checkAccessKeyStatus(k.Status); err != nil {
		return err
	}
	var created int64
	err := db.iamWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockPrincipal(ctx, k.PrincipalName); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return principalNotFound(k.PrincipalName)
		}
		if k.Status == profiles.AccessKeyActive {
			if err := t.checkActiveKeys(ctx, k.PrincipalName, ""); err != nil {
				return err
			}
		}
		created = stamp(k.CreatedAt, t.now)
		_, err := t.ptx.Exec(ctx, `INSERT INTO iam_access_keys (`+accessKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, k.PrincipalName, kmsMaterial(k.SealedSecret), k.Status, created, expiresMillis(k.LastUsedAt))
		switch {
		case isUniqueViolation(err):
			return profiles.Errorf(profiles.ECONFLICT, "access key %q already exists", k.ID)
		case isForeignKeyViolation(err):
			return principalNotFound(k.PrincipalName)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	k.CreatedAt, k.LastUsedAt = fromMillis(created), fromExpires(expiresMillis(k.LastUsedAt))
	return nil
}

// FindAccessKey returns the access key of the given id. Returns ENOTFOUND.
func (db *DB) FindAccessKey(ctx context.Context, id string) (*profiles.AccessKey, error) {
	k, err := scanAccessKey(db.pool.QueryRow(ctx, findAccessKeySQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "access key %q not found", id)
	} else if err != nil {
		return nil, wrap("find access key", err)
	}
	return k, nil
}

// ListAccessKeys returns the access keys of a principal, oldest (CreatedAt,
// then ID) first. Returns ENOTFOUND for a missing principal.
func (db *DB) ListAccessKeys(ctx context.Context, principal string) ([]*profiles.AccessKey, error) {
	return listOfPrincipal(ctx, db, "list access keys", principal, listAccessKeysSQL, scanAccessKey)
}

// UpdateAccessKeyStatus sets the status of a principal's access key.
// Returns ENOTFOUND, naming the principal or the key, EQUOTA if activating
// the key would give the principal more than profiles.MaxActiveAccessKeys
// active keys, and EINVALID for a status that is neither.
func (db *DB) UpdateAccessKeyStatus(ctx context.Context, principal, id, status string) error {
	const op = "update access key status"
	if err := checkAccessKeyStatus(status); err != nil {
		return err
	}
	return db.iamWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockPrincipal(ctx, principal); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return principalNotFound(principal)
		}
		var current string
		err := t.ptx.QueryRow(ctx, `SELECT status FROM iam_access_keys WHERE id = $1 AND principal = $2`,
			id, principal).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return accessKeyOfNotFound(principal, id)
		} else if err != nil {
			return t.wrap(op, err)
		}
		if current == status {
			return nil
		}
		if status == profiles.AccessKeyActive {
			if err := t.checkActiveKeys(ctx, principal, id); err != nil {
				return err
			}
		}
		tag, err := t.ptx.Exec(ctx, `UPDATE iam_access_keys SET status = $1 WHERE id = $2 AND principal = $3`,
			status, id, principal)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() == 0 { // deleted meanwhile
			return accessKeyOfNotFound(principal, id)
		}
		return nil
	})
}

// TouchAccessKey records that the key was used at t (zero: the current
// time), unless it was recorded used at t or later already: LastUsedAt
// never goes back. A missing key is not an error (the key may have been
// deleted since the request that used it was verified).
func (db *DB) TouchAccessKey(ctx context.Context, id string, t time.Time) error {
	used := stamp(t, db.now().UnixMilli())
	if _, err := db.pool.Exec(ctx, `UPDATE iam_access_keys SET last_used_at = $1
		WHERE id = $2 AND last_used_at < $1`, used, id); err != nil {
		return wrap("touch access key", err)
	}
	return nil
}

// DeleteAccessKey deletes a principal's access key. Returns ENOTFOUND,
// naming the principal or the key.
func (db *DB) DeleteAccessKey(ctx context.Context, principal, id string) error {
	const op = "delete access key"
	return db.iamWrite(ctx, op, func(t *tx) error {
		tag, err := t.ptx.Exec(ctx, `DELETE FROM iam_access_keys WHERE id = $1 AND principal = $2`, id, principal)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() > 0 {
			return nil
		}
		return t.ofPrincipalNotFound(ctx, op, principal, accessKeyOfNotFound(principal, id))
	})
}

// PutPrincipalPolicy inserts or replaces the policy of p's principal and
// name; a zero UpdatedAt becomes the current time, and p holds its
// UpdatedAt as stored. Returns ENOTFOUND for a missing principal.
func (db *DB) PutPrincipalPolicy(ctx context.Context, p *profiles.PrincipalPolicy) error {
	const op = "put principal policy"
	var updated int64
	err := db.iamWrite(ctx, op, func(t *tx) error {
		updated = stamp(p.UpdatedAt, t.now)
		_, err := t.ptx.Exec(ctx, `INSERT INTO iam_policies (`+policyColumns+`) VALUES ($1, $2, $3, $4)
			ON CONFLICT (principal, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
			p.PrincipalName, p.PolicyName, p.Document, updated)
		if isForeignKeyViolation(err) {
			return principalNotFound(p.PrincipalName)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	p.UpdatedAt = fromMillis(updated)
	return nil
}

// FindPrincipalPolicy returns one inline policy. Returns ENOTFOUND, naming
// the principal or the policy.
func (db *DB) FindPrincipalPolicy(ctx context.Context, principal, name string) (*profiles.PrincipalPolicy, error) {
	const op = "find principal policy"
	p, err := scanPolicy(db.pool.QueryRow(ctx, `SELECT `+policyColumns+` FROM iam_policies
		WHERE principal = $1 AND name = $2`, principal, name))
	if errors.Is(err, pgx.ErrNoRows) {
		if ok, err := principalExists(ctx, db.pool, principal); err != nil {
			return nil, wrap(op, err)
		} else if !ok {
			return nil, principalNotFound(principal)
		}
		return nil, policyOfNotFound(principal, name)
	} else if err != nil {
		return nil, wrap(op, err)
	}
	return p, nil
}

// ListPrincipalPolicies returns a principal's inline policies in byte order
// of their names. Returns ENOTFOUND for a missing principal.
func (db *DB) ListPrincipalPolicies(ctx context.Context, principal string) ([]*profiles.PrincipalPolicy, error) {
	return listOfPrincipal(ctx, db, "list principal policies", principal, listPoliciesSQL, scanPolicy)
}

// DeletePrincipalPolicy deletes an inline policy. Returns ENOTFOUND, naming
// the principal or the policy.
func (db *DB) DeletePrincipalPolicy(ctx context.Context, principal, name string) error {
	const op = "delete principal policy"
	return db.iamWrite(ctx, op, func(t *tx) error {
		tag, err := t.ptx.Exec(ctx, `DELETE FROM iam_policies WHERE principal = $1 AND name = $2`, principal, name)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() > 0 {
			return nil
		}
		return t.ofPrincipalNotFound(ctx, op, principal, policyOfNotFound(principal, name))
	})
}

// iamWrite runs write in a READ COMMITTED transaction and commits it,
// again after a deadlock, up to MaxAttempts times (see retry). write gets
// a tx whose now is the store's time at the start of the attempt.
func (db *DB) iamWrite(ctx context.Context, op string, write func(*tx) error) error {
	return db.retry(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx, now: now}
		return t, write(t)
	})
}

// lockPrincipal locks the principal's row until the transaction ends, FOR
// NO KEY UPDATE: against the other lockers of the principal and its
// deletion, not against inserts that reference it. It reports whether the
// principal exists.
func (t *tx) lockPrincipal(ctx context.Context, name string) (bool, error) {
	var one int
	err := t.ptx.QueryRow(ctx, `SELECT 1 FROM iam_principals WHERE name = $1 FOR NO KEY UPDATE`, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// checkActiveKeys returns EQUOTA if the principal has
// profiles.MaxActiveAccessKeys active keys besides the key except ("" for
// none). The caller holds the lock of lockPrincipal.
func (t *tx) checkActiveKeys(ctx context.Context, principal, except string) error {
	var n int
	if err := t.ptx.QueryRow(ctx, `SELECT count(*) FROM iam_access_keys
		WHERE principal = $1 AND status = $2 AND id <> $3`, principal, profiles.AccessKeyActive, except).Scan(&n); err != nil {
		return t.wrap("count active access keys", err)
	}
	if n >= profiles.MaxActiveAccessKeys {
		return profiles.Errorf(profiles.EQUOTA, "principal %q already has %d active access keys, the most it may have",
			principal, n)
	}
	return nil
}

// ofPrincipalNotFound returns the ENOTFOUND of the principal if it is
// missing, and notFound (of its key or policy) otherwise.
func (t *tx) ofPrincipalNotFound(ctx context.Context, op, principal string, notFound error) error {
	if ok, err := principalExists(ctx, t.ptx, principal); err != nil {
		return t.wrap(op, err)
	} else if !ok {
		return principalNotFound(principal)
	}
	return notFound
}

// listOfPrincipal reads, in one snapshot, that the principal exists and
// the rows query (whose one parameter is the principal's name) selects.
func listOfPrincipal[T any](ctx context.Context, db *DB, op, principal, query string, scan func(pgx.Row) (*T, error)) ([]*T, error) {
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, wrap(op, err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if ok, err := principalExists(ctx, ptx, principal); err != nil {
		return nil, wrap(op, err)
	} else if !ok {
		return nil, principalNotFound(principal)
	}
	rows, err := ptx.Query(ctx, query, principal)
	if err != nil {
		return nil, wrap(op, err)
	}
	out, err := scanKMSRows(rows, op, scan)
	if err != nil {
		return nil, err
	}
	if err := ptx.Commit(ctx); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// principalExists reports whether the named principal exists.
func principalExists(ctx context.Context, q querier, name string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM iam_principals WHERE name = $1)`, name).Scan(&ok)
	return ok, err
}

func principalNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "principal %q not found", name)
}

func accessKeyOfNotFound(principal, id string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "access key %q of principal %q not found", id, principal)
}

func policyOfNotFound(principal, name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "policy %q of principal %q not found", name, principal)
}

// checkPrincipalType returns EINVALID for an unknown principal type.
func checkPrincipalType(typ string) error {
	if typ != profiles.PrincipalUser && typ != profiles.PrincipalRole {
		return profiles.Errorf(profiles.EINVALID, "principal type %q is neither %q nor %q",
			typ, profiles.PrincipalUser, profiles.PrincipalRole)
	}
	return nil
}

// checkAccessKeyStatus returns EINVALID for an unknown access key status.
func checkAccessKeyStatus(status string) error {
	if status != profiles.AccessKeyActive && status != profiles.AccessKeyInactive {
		return profiles.Errorf(profiles.EINVALID, "access key status %q is neither %q nor %q",
			status, profiles.AccessKeyActive, profiles.AccessKeyInactive)
	}
	return nil
}

// scanPrincipal reads the principalColumns of one row.
func scanPrincipal(row pgx.Row) (*profiles.Principal, error) {
	var p profiles.Principal
	var created int64
	if err := row.Scan(&p.Name, &p.Type, &p.ID, &p.ARN, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMillis(created)
	return &p, nil
}

// scanAccessKey reads the accessKeyColumns of one row.
func scanAccessKey(row pgx.Row) (*profiles.AccessKey, error) {
	var k profiles.AccessKey
	var created, used int64
	if err := row.Scan(&k.ID, &k.PrincipalName, &k.SealedSecret, &k.Status, &created, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt = fromMillis(created), fromExpires(used)
	return &k, nil
}

// scanPolicy reads the policyColumns of one row.
func scanPolicy(row pgx.Row) (*profiles.PrincipalPolicy, error) {
	var p profiles.PrincipalPolicy
	var updated int64
	if err := row.Scan(&p.PrincipalName, &p.PolicyName, &p.Document, &updated); err != nil {
		return nil, err
	}
	p.UpdatedAt = fromMillis(updated)
	return &p, nil
}

// RevokeSession records the console session id as ended until expires,
// and drops the revocations of sessions that have expired, in one
// transaction.
func (db *DB) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	return db.iamWrite(ctx, "revoke session", func(t *tx) error {
		if _, err := t.ptx.Exec(ctx, `DELETE FROM revoked_sessions WHERE expires_at <= $1`, t.now-profiles.RevocationGrace.Milliseconds()); err != nil {
			return t.wrap("revoke session", err)
		}
		if _, err := t.ptx.Exec(ctx, `INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET expires_at = greatest(revoked_sessions.expires_at, excluded.expires_at)`, id, expires.UnixMilli()); err != nil {
			return t.wrap("revoke session", err)
		}
		return nil
	})
}

// SessionRevoked reports whether the console session id was revoked.
func (db *DB) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var revoked bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = $1)`, id).Scan(&revoked); err != nil {
		return false, wrap("session revoked", err)
	}
	return revoked, nil
}
