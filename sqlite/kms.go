package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

var _ profiles.KMSStore = (*DB)(nil)

// The keys, aliases and grants of the built-in key manager live in the
// tables of migration 0004.

// CreateKMSKey inserts k; a zero CreatedAt becomes the current time, and k
// holds the times as stored. Returns ECONFLICT if the id is taken.
func (db *DB) CreateKMSKey(ctx context.Context, k *profiles.KMSKey) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create kms key: %w", err)
	}
	defer tx.Rollback()

	created := k.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	tags, err := rowcodec.EncodeTags(k.Tags)
	if err != nil {
		return fmt.Errorf("sqlite: create kms key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO kms_keys (`+kmsKeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.KeyID, k.ARN, k.Description, k.State, k.KeySpec, k.KeyUsage, kmsMaterial(k.WrappedMaterial),
		k.Policy, tags, created.UnixMilli(), kmsMillis(k.DeletionDate),
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "KMS key %q already exists", k.KeyID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create kms key: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: create kms key: %w", err)
	}
	k.CreatedAt, k.DeletionDate = fromMillis(created.UnixMilli()), kmsTime(kmsMillis(k.DeletionDate))
	return nil
}

// FindKMSKey returns the key of the given id. Returns ENOTFOUND.
//
// Requests that return profile data resolve their domain's key, so this is
// one prepared statement, which needs no transaction to read one row (as
// FindDomain).
func (db *DB) FindKMSKey(ctx context.Context, keyID string) (*profiles.KMSKey, error) {
	return findKMSKey(ctx, preparedDB{db.rdb, db.rstmts}, keyID)
}

// UpdateKMSKey reads the key, calls fn on it and stores the result in one
// write transaction. Changing the id, ARN or material returns EINVALID.
// Returns ENOTFOUND.
func (db *DB) UpdateKMSKey(ctx context.Context, keyID string, fn func(*profiles.KMSKey) error) (*profiles.KMSKey, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update kms key: %w", err)
	}
	defer tx.Rollback()

	k, err := findKMSKey(ctx, tx, keyID)
	if err != nil {
		return nil, err
	}
	arn, material := k.ARN, k.WrappedMaterial
	if err := fn(k); err != nil {
		return nil, err
	}
	if k.KeyID != keyID || k.ARN != arn || string(k.WrappedMaterial) != string(material) {
		return nil, profiles.Errorf(profiles.EINVALID, "the id, ARN and material of KMS key %q cannot change", keyID)
	}
	tags, err := rowcodec.EncodeTags(k.Tags)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update kms key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE kms_keys SET
			description = ?, state = ?, key_spec = ?, key_usage = ?, policy = ?, tags = ?,
			created_at = ?, deletion_date = ?
		WHERE id = ?`,
		k.Description, k.State, k.KeySpec, k.KeyUsage, k.Policy, tags,
		k.CreatedAt.UnixMilli(), kmsMillis(k.DeletionDate), keyID,
	); err != nil {
		return nil, fmt.Errorf("sqlite: update kms key: %w", err)
	}
	k, err = findKMSKey(ctx, tx, keyID)
	if err != nil {
		return nil, err
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: update kms key: %w", err)
	}
	return k, nil
}

// DeleteKMSKey deletes the key; its aliases and grants go with it (ON
// DELETE CASCADE). Returns ENOTFOUND.
func (db *DB) DeleteKMSKey(ctx context.Context, keyID string) error {
	return db.deleteKMSRow(ctx, "delete kms key", `DELETE FROM kms_keys WHERE id = ?`,
		profiles.Errorf(profiles.ENOTFOUND, "KMS key %q not found", keyID), keyID)
}

// ListKMSKeys returns up to limit keys (limit <= 0: all) whose ids sort
// after after, in byte order.
func (db *DB) ListKMSKeys(ctx context.Context, after string, limit int) ([]*profiles.KMSKey, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kms keys: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+kmsKeyColumns+` FROM kms_keys
		WHERE id > ? ORDER BY id LIMIT ?`, after, kmsLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kms keys: %w", err)
	}
	return scanKMSRows(rows, "list kms keys", scanKMSKey)
}

// CreateKMSAlias inserts a. Returns ECONFLICT if the name is taken and
// ENOTFOUND if the key does not exist.
func (db *DB) CreateKMSAlias(ctx context.Context, a *profiles.KMSAlias) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create kms alias: %w", err)
	}
	defer tx.Rollback()

	if err := kmsKeyExists(ctx, tx, a.KeyID); err != nil {
		return err
	}
	now := db.now()
	created, updated := a.CreatedAt, a.LastUpdatedAt
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO kms_aliases (name, key_id, created_at, updated_at)
		VALUES (?, ?, ?, ?)`, a.Name, a.KeyID, created.UnixMilli(), updated.UnixMilli(),
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "KMS alias %q already exists", a.Name)
	} else if err != nil {
		return fmt.Errorf("sqlite: create kms alias: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: create kms alias: %w", err)
	}
	a.CreatedAt, a.LastUpdatedAt = fromMillis(created.UnixMilli()), fromMillis(updated.UnixMilli())
	return nil
}

// FindKMSAlias returns the named alias. Returns ENOTFOUND.
func (db *DB) FindKMSAlias(ctx context.Context, name string) (*profiles.KMSAlias, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find kms alias: %w", err)
	}
	defer tx.Rollback()
	return findKMSAlias(ctx, tx, name)
}

// UpdateKMSAlias points the named alias at keyID. Returns ENOTFOUND for
// the alias or the key.
func (db *DB) UpdateKMSAlias(ctx context.Context, name, keyID string, updatedAt time.Time) (*profiles.KMSAlias, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update kms alias: %w", err)
	}
	defer tx.Rollback()

	if _, err := findKMSAlias(ctx, tx, name); err != nil {
		return nil, err
	}
	if err := kmsKeyExists(ctx, tx, keyID); err != nil {
		return nil, err
	}
	if updatedAt.IsZero() {
		updatedAt = db.now()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE kms_aliases SET key_id = ?, updated_at = ? WHERE name = ?`,
		keyID, updatedAt.UnixMilli(), name); err != nil {
		return nil, fmt.Errorf("sqlite: update kms alias: %w", err)
	}
	a, err := findKMSAlias(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: update kms alias: %w", err)
	}
	return a, nil
}

// DeleteKMSAlias deletes the named alias. Returns ENOTFOUND.
func (db *DB) DeleteKMSAlias(ctx context.Context, name string) error {
	return db.deleteKMSRow(ctx, "delete kms alias", `DELETE FROM kms_aliases WHERE name = ?`,
		profiles.Errorf(profiles.ENOTFOUND, "KMS alias %q not found", name), name)
}

// ListKMSAliases returns up to limit aliases (limit <= 0: all) named after
// after, of the key keyID or of every key when keyID is "".
func (db *DB) ListKMSAliases(ctx context.Context, keyID, after string, limit int) ([]*profiles.KMSAlias, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kms aliases: %w", err)
	}
	defer tx.Rollback()
	var rows *sql.Rows
	if keyID == "" {
		rows, err = tx.QueryContext(ctx, `SELECT `+kmsAliasColumns+` FROM kms_aliases
			WHERE name > ? ORDER BY name LIMIT ?`, after, kmsLimit(limit))
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT `+kmsAliasColumns+` FROM kms_aliases
			WHERE key_id = ? AND name > ? ORDER BY name LIMIT ?`, keyID, after, kmsLimit(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kms aliases: %w", err)
	}
	return scanKMSRows(rows, "list kms aliases", scanKMSAlias)
}

// CreateKMSGrant inserts g. Returns ENOTFOUND if the key does not exist
// and ECONFLICT if the id or the token is taken.
func (db *DB) CreateKMSGrant(ctx context.Context, g *profiles.KMSGrant) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create kms grant: %w", err)
	}
	defer tx.Rollback()

	if err := kmsKeyExists(ctx, tx, g.KeyID); err != nil {
		return err
	}
	created := g.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	ops, err := json.Marshal(kmsOperations(g.Operations))
	if err != nil {
		return fmt.Errorf("sqlite: create kms grant: %w", err)
	}
	equals, err := rowcodec.EncodeTags(g.EncryptionContextEquals)
	if err != nil {
		return fmt.Errorf("sqlite: create kms grant: %w", err)
	}
	subset, err := rowcodec.EncodeTags(g.EncryptionContextSubset)
	if err != nil {
		return fmt.Errorf("sqlite: create kms grant: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO kms_grants (`+kmsGrantColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.KeyID, g.GrantID, g.Token, g.Name, g.GranteePrincipal, g.RetiringPrincipal, g.IssuingAccount,
		string(ops), equals, subset, created.UnixMilli(),
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "KMS grant %q or its token already exists", g.GrantID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create kms grant: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: create kms grant: %w", err)
	}
	g.CreatedAt = fromMillis(created.UnixMilli())
	return nil
}

// FindKMSGrant returns a grant of the key keyID. Returns ENOTFOUND.
func (db *DB) FindKMSGrant(ctx context.Context, keyID, grantID string) (*profiles.KMSGrant, error) {
	return db.findKMSGrant(ctx, `key_id = ? AND id = ?`,
		profiles.Errorf(profiles.ENOTFOUND, "KMS grant %q of key %q not found", grantID, keyID), keyID, grantID)
}

// FindKMSGrantByToken returns the grant of a token. Returns ENOTFOUND.
func (db *DB) FindKMSGrantByToken(ctx context.Context, token string) (*profiles.KMSGrant, error) {
	return db.findKMSGrant(ctx, `token = ?`, profiles.Errorf(profiles.ENOTFOUND, "KMS grant token not found"), token)
}

// ListKMSGrants returns up to limit grants (limit <= 0: all) of the key
// keyID whose ids sort after after. Returns ENOTFOUND for a missing key.
func (db *DB) ListKMSGrants(ctx context.Context, keyID, after string, limit int) ([]*profiles.KMSGrant, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kms grants: %w", err)
	}
	defer tx.Rollback()
	if err := kmsKeyExists(ctx, tx, keyID); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+kmsGrantColumns+` FROM kms_grants
		WHERE key_id = ? AND id > ? ORDER BY id LIMIT ?`, keyID, after, kmsLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kms grants: %w", err)
	}
	return scanKMSRows(rows, "list kms grants", scanKMSGrant)
}

// DeleteKMSGrant deletes a grant of the key keyID. Returns ENOTFOUND.
func (db *DB) DeleteKMSGrant(ctx context.Context, keyID, grantID string) error {
	return db.deleteKMSRow(ctx, "delete kms grant", `DELETE FROM kms_grants WHERE key_id = ? AND id = ?`,
		profiles.Errorf(profiles.ENOTFOUND, "KMS grant %q of key %q not found", grantID, keyID), keyID, grantID)
}

// Columns scanKMSKey, scanKMSAlias and scanKMSGrant read, in order.
const (
	kmsKeyColumns = `id, arn, description, state, key_spec, key_usage, wrapped_material,
		policy, tags, created_at, deletion_date`
	kmsAliasColumns = `name, key_id, created_at, updated_at`
	kmsGrantColumns = `key_id, id, token, name, grantee_principal, retiring_principal, issuing_account,
		operations, encryption_context_equals, encryption_context_subset, created_at`
)

// deleteKMSRow runs a DELETE of one row in a write transaction and returns
// notFound when it deletes nothing.
func (db *DB) deleteKMSRow(ctx context.Context, op, query string, notFound error, args ...any) error {
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
		return notFound
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

func (db *DB) findKMSGrant(ctx context.Context, where string, notFound error, args ...any) (*profiles.KMSGrant, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find kms grant: %w", err)
	}
	defer tx.Rollback()
	g, err := scanKMSGrant(tx.QueryRowContext(ctx, `SELECT `+kmsGrantColumns+` FROM kms_grants WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find kms grant: %w", err)
	}
	return g, nil
}

func findKMSKey(ctx context.Context, tx queryRower, keyID string) (*profiles.KMSKey, error) {
	k, err := scanKMSKey(tx.QueryRowContext(ctx, `SELECT `+kmsKeyColumns+` FROM kms_keys WHERE id = ?`, keyID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "KMS key %q not found", keyID)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find kms key: %w", err)
	}
	return k, nil
}

// kmsKeyExists returns ENOTFOUND unless the key exists.
func kmsKeyExists(ctx context.Context, tx *sql.Tx, keyID string) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM kms_keys WHERE id = ?`, keyID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return profiles.Errorf(profiles.ENOTFOUND, "KMS key %q not found", keyID)
	} else if err != nil {
		return fmt.Errorf("sqlite: find kms key: %w", err)
	}
	return nil
}

func findKMSAlias(ctx context.Context, tx *sql.Tx, name string) (*profiles.KMSAlias, error) {
	a, err := scanKMSAlias(tx.QueryRowContext(ctx, `SELECT `+kmsAliasColumns+` FROM kms_aliases WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "KMS alias %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find kms alias: %w", err)
	}
	return a, nil
}

type kmsRow interface{ Scan(...any) error }

func scanKMSKey(row kmsRow) (*profiles.KMSKey, error) {
	var k profiles.KMSKey
	var tags string
	var created, deletion int64
	if err := row.Scan(&k.KeyID, &k.ARN, &k.Description, &k.State, &k.KeySpec, &k.KeyUsage,
		&k.WrappedMaterial, &k.Policy, &tags, &created, &deletion); err != nil {
		return nil, err
	}
	var err error
	if k.Tags, err = rowcodec.DecodeTags(tags); err != nil {
		return nil, fmt.Errorf("kms key %q: %w", k.KeyID, err)
	}
	k.CreatedAt, k.DeletionDate = fromMillis(created), kmsTime(deletion)
	return &k, nil
}

func scanKMSAlias(row kmsRow) (*profiles.KMSAlias, error) {
	var a profiles.KMSAlias
	var created, updated int64
	if err := row.Scan(&a.Name, &a.KeyID, &created, &updated); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &a, nil
}

func scanKMSGrant(row kmsRow) (*profiles.KMSGrant, error) {
	var g profiles.KMSGrant
	var ops, equals, subset string
	var created int64
	if err := row.Scan(&g.KeyID, &g.GrantID, &g.Token, &g.Name, &g.GranteePrincipal, &g.RetiringPrincipal,
		&g.IssuingAccount, &ops, &equals, &subset, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ops), &g.Operations); err != nil {
		return nil, fmt.Errorf("kms grant %q: operations: %w", g.GrantID, err)
	}
	if len(g.Operations) == 0 {
		g.Operations = nil
	}
	var err error
	if g.EncryptionContextEquals, err = rowcodec.DecodeTags(equals); err != nil {
		return nil, fmt.Errorf("kms grant %q: %w", g.GrantID, err)
	}
	if g.EncryptionContextSubset, err = rowcodec.DecodeTags(subset); err != nil {
		return nil, fmt.Errorf("kms grant %q: %w", g.GrantID, err)
	}
	g.CreatedAt = fromMillis(created)
	return &g, nil
}

// scanKMSRows reads every row with scan and closes rows.
func scanKMSRows[T any](rows *sql.Rows, op string, scan func(kmsRow) (*T, error)) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return out, nil
}

// kmsLimit turns limit <= 0 into SQLite's "no limit".
func kmsLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// kmsMillis returns the unix milliseconds of t, 0 for the zero time.
func kmsMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// kmsTime is fromMillis with 0 as the zero time.
func kmsTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

func kmsMaterial(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func kmsOperations(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
