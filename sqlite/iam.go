package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.IAMStore = (*DB)(nil)

// Principals, their access keys and their inline policies live in the
// tables of migration 0005.
//
// Every writing method is one write transaction on the writer connection:
// a single statement, or BEGIN IMMEDIATE, which holds SQLite's write lock
// from the first statement on. So the count of a principal's active keys
// and the insert (or activation) that CreateAccessKey and
// UpdateAccessKeyStatus check against it are atomic, with the other writers
// of this process and of any other process on the same file.
// DeletePrincipal takes the principal's keys and policies with it (ON
// DELETE CASCADE). Lookups are single statements on the reader pool; the
// listings of a principal's keys and policies read the principal and its
// rows in one snapshot.

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
	if err := checkPrincipalType(p.Type); err != nil {
		return err
	}
	created := stamp(p.CreatedAt, db.now().UnixMilli())
	if _, err := db.execWrite(ctx, `INSERT INTO iam_principals (`+principalColumns+`)
		VALUES (?, ?, ?, ?, ?)`, p.Name, p.Type, p.ID, p.ARN, created,
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "a user or role named %q already exists", p.Name)
	} else if err != nil {
		return fmt.Errorf("sqlite: create principal: %w", err)
	}
	p.CreatedAt = fromMillis(created)
	return nil
}

// FindPrincipal returns the named principal. Returns ENOTFOUND.
func (db *DB) FindPrincipal(ctx context.Context, name string) (*profiles.Principal, error) {
	p, err := scanPrincipal(db.rdb.QueryRowContext(ctx, `SELECT `+principalColumns+` FROM iam_principals WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, principalNotFound(name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find principal: %w", err)
	}
	return p, nil
}

// ListPrincipals returns up to limit principals (limit <= 0: all) of type
// typ ("" for both types) whose names sort after after, in byte order.
func (db *DB) ListPrincipals(ctx context.Context, typ, after string, limit int) ([]*profiles.Principal, error) {
	var rows *sql.Rows
	var err error
	if typ == "" {
		rows, err = db.rdb.QueryContext(ctx, `SELECT `+principalColumns+` FROM iam_principals
			WHERE name > ? ORDER BY name LIMIT ?`, after, limitOrAll(limit))
	} else {
		rows, err = db.rdb.QueryContext(ctx, `SELECT `+principalColumns+` FROM iam_principals
			WHERE type = ? AND name > ? ORDER BY name LIMIT ?`, typ, after, limitOrAll(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list principals: %w", err)
	}
	return scanKMSRows(rows, "list principals", scanPrincipal)
}

// DeletePrincipal deletes the principal; its access keys and policies go
// with it (ON DELETE CASCADE). Returns ENOTFOUND.
func (db *DB) DeletePrincipal(ctx context.Context, name string) error {
	return db.deleteKMSRow(ctx, "delete principal", `DELETE FROM iam_principals WHERE name = ?`,
		principalNotFound(name), name)
}

// CreateAccessKey inserts k; a zero CreatedAt becomes the current time, and
// k holds its times as stored. Returns ENOTFOUND for a missing principal,
// ECONFLICT for a taken id, EQUOTA if k is active and the principal has
// profiles.MaxActiveAccessKeys active keys, and EINVALID for a status that
// is neither profiles.AccessKeyActive nor profiles.AccessKeyInactive.
func (db *DB) CreateAccessKey(ctx context.Context, k *profiles.AccessKey) error {
	if err := checkAccessKeyStatus(k.Status); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create access key: %w", err)
	}
	defer tx.Rollback()

	if k.Status == profiles.AccessKeyActive {
		if err := checkActiveKeys(ctx, tx, k.PrincipalName, ""); err != nil {
			return err
		}
	}
	created := stamp(k.CreatedAt, db.now().UnixMilli())
	_, err = tx.ExecContext(ctx, `INSERT INTO iam_access_keys (`+accessKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.PrincipalName, kmsMaterial(k.SealedSecret), k.Status, created, kmsMillis(k.LastUsedAt))
	switch {
	case isUniqueViolation(err):
		return profiles.Errorf(profiles.ECONFLICT, "access key %q already exists", k.ID)
	case isForeignKeyViolation(err):
		return principalNotFound(k.PrincipalName)
	case err != nil:
		return fmt.Errorf("sqlite: create access key: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: create access key: %w", err)
	}
	k.CreatedAt, k.LastUsedAt = fromMillis(created), kmsTime(kmsMillis(k.LastUsedAt))
	return nil
}

// FindAccessKey returns the access key of the given id. Returns ENOTFOUND.
func (db *DB) FindAccessKey(ctx context.Context, id string) (*profiles.AccessKey, error) {
	k, err := scanAccessKey(db.rdb.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM iam_access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "access key %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find access key: %w", err)
	}
	return k, nil
}

// ListAccessKeys returns the access keys of a principal, oldest (CreatedAt,
// then ID) first. Returns ENOTFOUND for a missing principal.
func (db *DB) ListAccessKeys(ctx context.Context, principal string) ([]*profiles.AccessKey, error) {
	return listOfPrincipal(ctx, db, "list access keys", principal, `SELECT `+accessKeyColumns+` FROM iam_access_keys
		WHERE principal = ? ORDER BY created_at, id`, scanAccessKey)
}

// UpdateAccessKeyStatus sets the status of a principal's access key.
// Returns ENOTFOUND, naming the principal or the key, EQUOTA if activating
// the key would give the principal more than profiles.MaxActiveAccessKeys
// active keys, and EINVALID for a status that is neither.
func (db *DB) UpdateAccessKeyStatus(ctx context.Context, principal, id, status string) error {
	if err := checkAccessKeyStatus(status); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: update access key status: %w", err)
	}
	defer tx.Rollback()

	var current string
	err = tx.QueryRowContext(ctx, `SELECT status FROM iam_access_keys WHERE id = ? AND principal = ?`, id, principal).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return accessKeyNotFound(ctx, tx, principal, id)
	} else if err != nil {
		return fmt.Errorf("sqlite: update access key status: %w", err)
	}
	if current == status {
		return nil
	}
	if status == profiles.AccessKeyActive {
		if err := checkActiveKeys(ctx, tx, principal, id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE iam_access_keys SET status = ? WHERE id = ?`, status, id); err != nil {
		return fmt.Errorf("sqlite: update access key status: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: update access key status: %w", err)
	}
	return nil
}

// TouchAccessKey records that the key was used at t (zero: the current
// time), unless it was recorded used at t or later already: LastUsedAt
// never goes back. A missing key is not an error (the key may have been
// deleted since the request that used it was verified).
func (db *DB) TouchAccessKey(ctx context.Context, id string, t time.Time) error {
	used := stamp(t, db.now().UnixMilli())
	if _, err := db.execWrite(ctx, `UPDATE iam_access_keys SET last_used_at = ?
		WHERE id = ? AND last_used_at < ?`, used, id, used); err != nil {
		return fmt.Errorf("sqlite: touch access key: %w", err)
	}
	return nil
}

// DeleteAccessKey deletes a principal's access key. Returns ENOTFOUND,
// naming the principal or the key.
func (db *DB) DeleteAccessKey(ctx context.Context, principal, id string) error {
	return db.deleteOfPrincipal(ctx, "delete access key", principal,
		`DELETE FROM iam_access_keys WHERE id = ? AND principal = ?`, []any{id, principal},
		func(ctx context.Context, tx *sql.Tx) error { return accessKeyNotFound(ctx, tx, principal, id) })
}

// PutPrincipalPolicy inserts or replaces the policy of p's principal and
// name; a zero UpdatedAt becomes the current time, and p holds its
// UpdatedAt as stored. Returns ENOTFOUND for a missing principal.
func (db *DB) PutPrincipalPolicy(ctx context.Context, p *profiles.PrincipalPolicy) error {
	updated := stamp(p.UpdatedAt, db.now().UnixMilli())
	_, err := db.execWrite(ctx, `INSERT INTO iam_policies (`+policyColumns+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (principal, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
		p.PrincipalName, p.PolicyName, p.Document, updated)
	if isForeignKeyViolation(err) {
		return principalNotFound(p.PrincipalName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put principal policy: %w", err)
	}
	p.UpdatedAt = fromMillis(updated)
	return nil
}

// FindPrincipalPolicy returns one inline policy. Returns ENOTFOUND, naming
// the principal or the policy.
func (db *DB) FindPrincipalPolicy(ctx context.Context, principal, name string) (*profiles.PrincipalPolicy, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find principal policy: %w", err)
	}
	defer tx.Rollback()
	p, err := scanPolicy(tx.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM iam_policies
		WHERE principal = ? AND name = ?`, principal, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, policyNotFound(ctx, tx, principal, name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find principal policy: %w", err)
	}
	return p, nil
}

// ListPrincipalPolicies returns a principal's inline policies in byte order
// of their names. Returns ENOTFOUND for a missing principal.
func (db *DB) ListPrincipalPolicies(ctx context.Context, principal string) ([]*profiles.PrincipalPolicy, error) {
	return listOfPrincipal(ctx, db, "list principal policies", principal, `SELECT `+policyColumns+` FROM iam_policies
		WHERE principal = ? ORDER BY name`, scanPolicy)
}

// DeletePrincipalPolicy deletes an inline policy. Returns ENOTFOUND, naming
// the principal or the policy.
func (db *DB) DeletePrincipalPolicy(ctx context.Context, principal, name string) error {
	return db.deleteOfPrincipal(ctx, "delete principal policy", principal,
		`DELETE FROM iam_policies WHERE principal = ? AND name = ?`, []any{principal, name},
		func(ctx context.Context, tx *sql.Tx) error { return policyNotFound(ctx, tx, principal, name) })
}

// checkActiveKeys returns EQUOTA if the principal has
// profiles.MaxActiveAccessKeys active keys besides the key except ("" for
// none). It runs in a write transaction, which holds the write lock.
func checkActiveKeys(ctx context.Context, tx *sql.Tx, principal, except string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM iam_access_keys
		WHERE principal = ? AND status = ? AND id != ?`, principal, profiles.AccessKeyActive, except).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: count active access keys: %w", err)
	}
	if n >= profiles.MaxActiveAccessKeys {
		return profiles.Errorf(profiles.EQUOTA, "principal %q already has %d active access keys, the most it may have",
			principal, n)
	}
	return nil
}

// deleteOfPrincipal runs a DELETE of one row of a principal in a write
// transaction, and returns notFound's error when it deletes nothing.
func (db *DB) deleteOfPrincipal(ctx context.Context, op, principal, query string, args []any,
	notFound func(context.Context, *sql.Tx) error) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		return notFound(ctx, tx)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// listOfPrincipal reads, in one snapshot, that the principal exists and
// the rows query (whose one parameter is the principal's name) selects.
func listOfPrincipal[T any](ctx context.Context, db *DB, op, principal, query string, scan func(kmsRow) (*T, error)) ([]*T, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := principalExists(ctx, tx, principal); err != nil {
		return nil, err
	} else if !ok {
		return nil, principalNotFound(principal)
	}
	rows, err := tx.QueryContext(ctx, query, principal)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return scanKMSRows(rows, op, scan)
}

// principalExists reports whether the named principal exists.
func principalExists(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM iam_principals WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sqlite: find principal: %w", err)
	}
	return true, nil
}

func principalNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "principal %q not found", name)
}

// accessKeyNotFound returns the ENOTFOUND of a missing key of a principal:
// of the principal if it is missing too, of the key otherwise.
func accessKeyNotFound(ctx context.Context, tx *sql.Tx, principal, id string) error {
	if ok, err := principalExists(ctx, tx, principal); err != nil {
		return err
	} else if !ok {
		return principalNotFound(principal)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "access key %q of principal %q not found", id, principal)
}

// policyNotFound returns the ENOTFOUND of a missing policy of a principal:
// of the principal if it is missing too, of the policy otherwise.
func policyNotFound(ctx context.Context, tx *sql.Tx, principal, name string) error {
	if ok, err := principalExists(ctx, tx, principal); err != nil {
		return err
	} else if !ok {
		return principalNotFound(principal)
	}
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

func scanPrincipal(row kmsRow) (*profiles.Principal, error) {
	var p profiles.Principal
	var created int64
	if err := row.Scan(&p.Name, &p.Type, &p.ID, &p.ARN, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMillis(created)
	return &p, nil
}

func scanAccessKey(row kmsRow) (*profiles.AccessKey, error) {
	var k profiles.AccessKey
	var created, used int64
	if err := row.Scan(&k.ID, &k.PrincipalName, &k.SealedSecret, &k.Status, &created, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt = fromMillis(created), kmsTime(used)
	return &k, nil
}

func scanPolicy(row kmsRow) (*profiles.PrincipalPolicy, error) {
	var p profiles.PrincipalPolicy
	var updated int64
	if err := row.Scan(&p.PrincipalName, &p.PolicyName, &p.Document, &updated); err != nil {
		return nil, err
	}
	p.UpdatedAt = fromMillis(updated)
	return &p, nil
}

// RevokeSession records the console session id as ended until expires,
// and drops the revocations of sessions that have expired, in one write
// transaction.
func (db *DB) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM revoked_sessions WHERE expires_at <= ?`, db.now().Add(-profiles.RevocationGrace).UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_sessions (id, expires_at) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`, id, expires.UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	return nil
}

// SessionRevoked reports whether the console session id was revoked.
func (db *DB) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT 1 FROM revoked_sessions WHERE id = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sqlite: session revoked: %w", err)
	}
	return true, nil
}
