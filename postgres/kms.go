package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

var _ profiles.KMSStore = (*DB)(nil)

// The keys, aliases and grants of the built-in key manager live in the
// tables of migration 0004.
//
// Concurrency. Every writing method runs one READ COMMITTED transaction
// that locks the rows it depends on, in one order (the key, then its
// alias), instead of running at SERIALIZABLE: concurrent writers of one
// key wait for each other and none is failed for it, so none loses its
// change. UpdateKMSKey locks the key's row from the read on (SELECT … FOR
// NO KEY UPDATE), as UpdateDomain does, so fn runs once (again only after
// a deadlock, which the order of the locks should rule out). Creating an
// alias or a grant, and pointing an alias at a key, first lock the key
// against deletion (FOR KEY SHARE, which does not wait for UpdateKMSKey),
// so a missing key is told apart from a taken name before the insert, as
// in package sqlite. A deletion of a key takes its aliases and grants in
// the same statement (ON DELETE CASCADE). Reads are single statements,
// but ListKMSGrants, which runs at REPEATABLE READ, READ ONLY.

// SQL of the listings and lookups (TestQueryPlans checks their plans).
const (
	listKMSKeysSQL = `SELECT ` + kmsKeyColumns + ` FROM kms_keys
		WHERE id > $1 ORDER BY id LIMIT $2::bigint`
	listKMSAliasesSQL = `SELECT ` + kmsAliasColumns + ` FROM kms_aliases
		WHERE name > $1 ORDER BY name LIMIT $2::bigint`
	listKMSAliasesOfKeySQL = `SELECT ` + kmsAliasColumns + ` FROM kms_aliases
		WHERE key_id = $1 AND name > $2 ORDER BY name LIMIT $3::bigint`
	listKMSGrantsSQL = `SELECT ` + kmsGrantColumns + ` FROM kms_grants
		WHERE key_id = $1 AND id > $2 ORDER BY id LIMIT $3::bigint`
	findKMSGrantSQL        = `SELECT ` + kmsGrantColumns + ` FROM kms_grants WHERE key_id = $1 AND id = $2`
	findKMSGrantByTokenSQL = `SELECT ` + kmsGrantColumns + ` FROM kms_grants WHERE token = $1`
)

// Columns scanKMSKey, scanKMSAlias and scanKMSGrant read, in order.
const (
	kmsKeyColumns = `id, arn, description, state, key_spec, key_usage, wrapped_material,
		policy, tags, created_at, deletion_date`
	kmsAliasColumns = `name, key_id, created_at, updated_at`
	kmsGrantColumns = `key_id, id, token, name, grantee_principal, retiring_principal, issuing_account,
		operations, encryption_context_equals, encryption_context_subset, created_at`
)

// CreateKMSKey inserts k; a zero CreatedAt becomes the current time, and k
// holds the times as stored. Returns ECONFLICT if the id is taken.
func (db *DB) CreateKMSKey(ctx context.Context, k *profiles.KMSKey) error {
	const op = "create kms key"
	tags, err := rowcodec.EncodeTags(k.Tags)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var created int64
	err = db.kmsWrite(ctx, op, func(t *tx) error {
		created = stamp(k.CreatedAt, t.now)
		_, err := t.ptx.Exec(ctx, `INSERT INTO kms_keys (`+kmsKeyColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			k.KeyID, k.ARN, k.Description, k.State, k.KeySpec, k.KeyUsage, kmsMaterial(k.WrappedMaterial),
			k.Policy, tags, created, expiresMillis(k.DeletionDate))
		if isUniqueViolation(err) {
			return profiles.Errorf(profiles.ECONFLICT, "KMS key %q already exists", k.KeyID)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	k.CreatedAt, k.DeletionDate = fromMillis(created), fromExpires(expiresMillis(k.DeletionDate))
	return nil
}

// FindKMSKey returns the key of the given id. Returns ENOTFOUND.
func (db *DB) FindKMSKey(ctx context.Context, keyID string) (*profiles.KMSKey, error) {
	return findKMSKey(ctx, db.pool, keyID, "")
}

// UpdateKMSKey reads the key, locking its row, calls fn on it and stores
// the result, in one transaction; fn runs while the row is locked.
// Changing the id, ARN or material returns EINVALID and changes nothing.
// Returns ENOTFOUND.
func (db *DB) UpdateKMSKey(ctx context.Context, keyID string, fn func(*profiles.KMSKey) error) (*profiles.KMSKey, error) {
	const op = "update kms key"
	var out *profiles.KMSKey
	err := db.kmsWrite(ctx, op, func(t *tx) error {
		k, err := findKMSKey(ctx, t.ptx, keyID, "FOR NO KEY UPDATE")
		if err != nil {
			return t.noteConflict(err)
		}
		arn, material := k.ARN, k.WrappedMaterial
		if err := fn(k); err != nil {
			return err
		}
		if k.KeyID != keyID || k.ARN != arn || string(k.WrappedMaterial) != string(material) {
			return profiles.Errorf(profiles.EINVALID, "the id, ARN and material of KMS key %q cannot change", keyID)
		}
		tags, err := rowcodec.EncodeTags(k.Tags)
		if err != nil {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		// RETURNING gives what a FindKMSKey would: times truncated, empty tags as nil.
		out, err = scanKMSKey(t.ptx.QueryRow(ctx, `UPDATE kms_keys SET
				description = $1, state = $2, key_spec = $3, key_usage = $4, policy = $5, tags = $6,
				created_at = $7, deletion_date = $8
			WHERE id = $9
			RETURNING `+kmsKeyColumns,
			k.Description, k.State, k.KeySpec, k.KeyUsage, k.Policy, tags,
			k.CreatedAt.UnixMilli(), expiresMillis(k.DeletionDate), keyID))
		return t.wrap(op, err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteKMSKey deletes the key; its aliases and grants go with it (ON
// DELETE CASCADE). Returns ENOTFOUND.
func (db *DB) DeleteKMSKey(ctx context.Context, keyID string) error {
	return db.deleteKMSRow(ctx, "delete kms key", `DELETE FROM kms_keys WHERE id = $1`,
		profiles.Errorf(profiles.ENOTFOUND, "KMS key %q not found", keyID), keyID)
}

// ListKMSKeys returns up to limit keys (limit <= 0: all) whose ids sort
// after after, in byte order.
func (db *DB) ListKMSKeys(ctx context.Context, after string, limit int) ([]*profiles.KMSKey, error) {
	rows, err := db.pool.Query(ctx, listKMSKeysSQL, after, limitOrAll(limit))
	if err != nil {
		return nil, wrap("list kms keys", err)
	}
	return scanKMSRows(rows, "list kms keys", scanKMSKey)
}

// CreateKMSAlias inserts a. Returns ECONFLICT if the name is taken and
// ENOTFOUND if the key does not exist.
func (db *DB) CreateKMSAlias(ctx context.Context, a *profiles.KMSAlias) error {
	const op = "create kms alias"
	var created, updated int64
	err := db.kmsWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockKMSKey(ctx, a.KeyID); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return kmsKeyNotFound(a.KeyID)
		}
		created, updated = stamp(a.CreatedAt, t.now), stamp(a.LastUpdatedAt, t.now)
		_, err := t.ptx.Exec(ctx, `INSERT INTO kms_aliases (`+kmsAliasColumns+`) VALUES ($1, $2, $3, $4)`,
			a.Name, a.KeyID, created, updated)
		switch {
		case isUniqueViolation(err):
			return profiles.Errorf(profiles.ECONFLICT, "KMS alias %q already exists", a.Name)
		case isForeignKeyViolation(err):
			return kmsKeyNotFound(a.KeyID)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	a.CreatedAt, a.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// FindKMSAlias returns the named alias. Returns ENOTFOUND.
func (db *DB) FindKMSAlias(ctx context.Context, name string) (*profiles.KMSAlias, error) {
	return findKMSAlias(ctx, db.pool, name)
}

// UpdateKMSAlias points the named alias at keyID. Returns ENOTFOUND for
// the alias or, if the alias exists, the key.
func (db *DB) UpdateKMSAlias(ctx context.Context, name, keyID string, updatedAt time.Time) (*profiles.KMSAlias, error) {
	const op = "update kms alias"
	var out *profiles.KMSAlias
	err := db.kmsWrite(ctx, op, func(t *tx) error {
		// The key first, then the alias: the order in which DeleteKMSKey
		// locks them.
		if ok, err := t.lockKMSKey(ctx, keyID); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			if _, err := findKMSAlias(ctx, t.ptx, name); err != nil {
				return t.noteConflict(err)
			}
			return kmsKeyNotFound(keyID)
		}
		var err error
		out, err = scanKMSAlias(t.ptx.QueryRow(ctx, `UPDATE kms_aliases SET key_id = $1, updated_at = $2
			WHERE name = $3 RETURNING `+kmsAliasColumns, keyID, stamp(updatedAt, t.now), name))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return kmsAliasNotFound(name)
		case isForeignKeyViolation(err):
			return kmsKeyNotFound(keyID)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteKMSAlias deletes the named alias. Returns ENOTFOUND.
func (db *DB) DeleteKMSAlias(ctx context.Context, name string) error {
	return db.deleteKMSRow(ctx, "delete kms alias", `DELETE FROM kms_aliases WHERE name = $1`,
		kmsAliasNotFound(name), name)
}

// ListKMSAliases returns up to limit aliases (limit <= 0: all) named after
// after, of the key keyID or of every key when keyID is "".
func (db *DB) ListKMSAliases(ctx context.Context, keyID, after string, limit int) ([]*profiles.KMSAlias, error) {
	var rows pgx.Rows
	var err error
	if keyID == "" {
		rows, err = db.pool.Query(ctx, listKMSAliasesSQL, after, limitOrAll(limit))
	} else {
		rows, err = db.pool.Query(ctx, listKMSAliasesOfKeySQL, keyID, after, limitOrAll(limit))
	}
	if err != nil {
		return nil, wrap("list kms aliases", err)
	}
	return scanKMSRows(rows, "list kms aliases", scanKMSAlias)
}

// CreateKMSGrant inserts g. Returns ENOTFOUND if the key does not exist
// and ECONFLICT if the id or the token is taken.
func (db *DB) CreateKMSGrant(ctx context.Context, g *profiles.KMSGrant) error {
	const op = "create kms grant"
	ops, err := json.Marshal(kmsOperations(g.Operations))
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	equals, err := rowcodec.EncodeTags(g.EncryptionContextEquals)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	subset, err := rowcodec.EncodeTags(g.EncryptionContextSubset)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var created int64
	err = db.kmsWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockKMSKey(ctx, g.KeyID); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return kmsKeyNotFound(g.KeyID)
		}
		created = stamp(g.CreatedAt, t.now)
		_, err := t.ptx.Exec(ctx, `INSERT INTO kms_grants (`+kmsGrantColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			g.KeyID, g.GrantID, g.Token, g.Name, g.GranteePrincipal, g.RetiringPrincipal, g.IssuingAccount,
			string(ops), equals, subset, created)
		switch {
		case isUniqueViolation(err):
			return profiles.Errorf(profiles.ECONFLICT, "KMS grant %q or its token already exists", g.GrantID)
		case isForeignKeyViolation(err):
			return kmsKeyNotFound(g.KeyID)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	g.CreatedAt = fromMillis(created)
	return nil
}

// FindKMSGrant returns a grant of the key keyID. Returns ENOTFOUND.
func (db *DB) FindKMSGrant(ctx context.Context, keyID, grantID string) (*profiles.KMSGrant, error) {
	return db.findKMSGrant(ctx, findKMSGrantSQL,
		profiles.Errorf(profiles.ENOTFOUND, "KMS grant %q of key %q not found", grantID, keyID), keyID, grantID)
}

// FindKMSGrantByToken returns the grant of a token. Returns ENOTFOUND.
func (db *DB) FindKMSGrantByToken(ctx context.Context, token string) (*profiles.KMSGrant, error) {
	return db.findKMSGrant(ctx, findKMSGrantByTokenSQL, profiles.Errorf(profiles.ENOTFOUND, "KMS grant token not found"), token)
}

// ListKMSGrants returns up to limit grants (limit <= 0: all) of the key
// keyID whose ids sort after after, reading the key and its grants in one
// snapshot. Returns ENOTFOUND for a missing key.
func (db *DB) ListKMSGrants(ctx context.Context, keyID, after string, limit int) ([]*profiles.KMSGrant, error) {
	const op = "list kms grants"
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, wrap(op, err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	var exists bool
	if err := ptx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kms_keys WHERE id = $1)`, keyID).Scan(&exists); err != nil {
		return nil, wrap(op, err)
	} else if !exists {
		return nil, kmsKeyNotFound(keyID)
	}
	rows, err := ptx.Query(ctx, listKMSGrantsSQL, keyID, after, limitOrAll(limit))
	if err != nil {
		return nil, wrap(op, err)
	}
	out, err := scanKMSRows(rows, op, scanKMSGrant)
	if err != nil {
		return nil, err
	}
	if err := ptx.Commit(ctx); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// DeleteKMSGrant deletes a grant of the key keyID. Returns ENOTFOUND.
func (db *DB) DeleteKMSGrant(ctx context.Context, keyID, grantID string) error {
	return db.deleteKMSRow(ctx, "delete kms grant", `DELETE FROM kms_grants WHERE key_id = $1 AND id = $2`,
		profiles.Errorf(profiles.ENOTFOUND, "KMS grant %q of key %q not found", grantID, keyID), keyID, grantID)
}

// kmsWrite runs write in a READ COMMITTED transaction and commits it,
// again after a deadlock, up to MaxAttempts times (see retry). write gets
// a tx whose now is the store's time at the start of the attempt.
func (db *DB) kmsWrite(ctx context.Context, op string, write func(*tx) error) error {
	return db.retry(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx, now: now}
		return t, write(t)
	})
}

// deleteKMSRow runs a DELETE of one row and returns notFound when it
// deletes nothing.
func (db *DB) deleteKMSRow(ctx context.Context, op, query string, notFound error, args ...any) error {
	return db.kmsWrite(ctx, op, func(t *tx) error {
		tag, err := t.ptx.Exec(ctx, query, args...)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() == 0 {
			return notFound
		}
		return nil
	})
}

func (db *DB) findKMSGrant(ctx context.Context, query string, notFound error, args ...any) (*profiles.KMSGrant, error) {
	g, err := scanKMSGrant(db.pool.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	} else if err != nil {
		return nil, wrap("find kms grant", err)
	}
	return g, nil
}

// lockKMSKey locks the key's row against deletion until the transaction
// ends (FOR KEY SHARE: UpdateKMSKey, which locks FOR NO KEY UPDATE, and
// other lockers of the key do not wait for it), and reports whether the key
// exists.
func (t *tx) lockKMSKey(ctx context.Context, keyID string) (bool, error) {
	var one int
	err := t.ptx.QueryRow(ctx, `SELECT 1 FROM kms_keys WHERE id = $1 FOR KEY SHARE`, keyID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// noteConflict notes that err, returned by a helper that wrapped it, came
// from a serialization failure or a deadlock, and returns it.
func (t *tx) noteConflict(err error) error {
	if isConflict(err) {
		t.conflict = true
	}
	return err
}

// findKMSKey returns the key of the given id, with the row locking clause
// lock if not "". Returns ENOTFOUND.
func findKMSKey(ctx context.Context, q querier, keyID, lock string) (*profiles.KMSKey, error) {
	k, err := scanKMSKey(q.QueryRow(ctx, `SELECT `+kmsKeyColumns+` FROM kms_keys WHERE id = $1 `+lock, keyID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kmsKeyNotFound(keyID)
	} else if err != nil {
		return nil, wrap("find kms key", err)
	}
	return k, nil
}

func findKMSAlias(ctx context.Context, q querier, name string) (*profiles.KMSAlias, error) {
	a, err := scanKMSAlias(q.QueryRow(ctx, `SELECT `+kmsAliasColumns+` FROM kms_aliases WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kmsAliasNotFound(name)
	} else if err != nil {
		return nil, wrap("find kms alias", err)
	}
	return a, nil
}

func kmsKeyNotFound(keyID string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "KMS key %q not found", keyID)
}

func kmsAliasNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "KMS alias %q not found", name)
}

// scanKMSKey reads the kmsKeyColumns of one row.
func scanKMSKey(row pgx.Row) (*profiles.KMSKey, error) {
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
	k.CreatedAt, k.DeletionDate = fromMillis(created), fromExpires(deletion)
	return &k, nil
}

// scanKMSAlias reads the kmsAliasColumns of one row.
func scanKMSAlias(row pgx.Row) (*profiles.KMSAlias, error) {
	var a profiles.KMSAlias
	var created, updated int64
	if err := row.Scan(&a.Name, &a.KeyID, &created, &updated); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &a, nil
}

// scanKMSGrant reads the kmsGrantColumns of one row.
func scanKMSGrant(row pgx.Row) (*profiles.KMSGrant, error) {
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
func scanKMSRows[T any](rows pgx.Rows, op string, scan func(pgx.Row) (*T, error)) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// kmsMaterial returns b, or an empty slice for nil (the column is NOT NULL).
func kmsMaterial(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// kmsOperations returns s, or an empty slice for nil: "[]", not "null".
func kmsOperations(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
