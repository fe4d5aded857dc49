package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// FindProfile returns a profile. Returns ENOTFOUND, naming the domain if it
// is missing and the profile otherwise.
func (t *tx) FindProfile(ctx context.Context, domain, id string) (*profiles.Profile, error) {
	p := profiles.Profile{DomainName: domain, ID: id}
	var data []byte
	var created, updated int64
	err := t.stx.QueryRowContext(ctx, `SELECT data, created_at, updated_at FROM profiles
		WHERE domain = ? AND id = ?`, domain, id).Scan(&data, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "profile %q not found in domain %q", id, domain)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find profile: %w", err)
	}
	if data, err = t.open(ctx, profileRecord(domain, id), data); err != nil {
		return nil, fmt.Errorf("sqlite: find profile: %w", err)
	}
	if err := rowcodec.DecodeProfile(&p, data); err != nil {
		return nil, fmt.Errorf("sqlite: find profile: %w", err)
	}
	p.CreatedAt, p.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// PutProfile inserts or replaces a profile: its Fields and Sources are
// replaced as a whole. A zero CreatedAt keeps that of the profile replaced,
// or is the transaction's time for a new one; a zero LastUpdatedAt is the
// transaction's time. On success p holds the times as stored. Returns
// ENOTFOUND for a missing domain.
func (t *tx) PutProfile(ctx context.Context, p *profiles.Profile) error {
	if err := t.writable("put profile"); err != nil {
		return err
	}
	data, err := rowcodec.EncodeProfile(p)
	if err != nil {
		return fmt.Errorf("sqlite: put profile: %w", err)
	}
	if data, err = t.seal(ctx, profileRecord(p.DomainName, p.ID), data); err != nil {
		return fmt.Errorf("sqlite: put profile: %w", err)
	}
	// created_at is read back only when CreatedAt is zero (a profile that
	// exists keeps its own), as in PutObject.
	created, updated := stamp(p.CreatedAt, t.now), stamp(p.LastUpdatedAt, t.now)
	args := []any{p.DomainName, p.ID, data, rowcodec.ProfileSize(p), created, updated, p.CreatedAt.IsZero()}
	if p.CreatedAt.IsZero() {
		err = t.stx.QueryRowContext(ctx, putProfileSQL+` RETURNING created_at`, args...).Scan(&created)
	} else {
		_, err = t.stx.ExecContext(ctx, putProfileSQL, args...)
	}
	if isForeignKeyViolation(err) {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", p.DomainName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put profile: %w", err)
	}
	p.CreatedAt, p.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// putProfileSQL inserts or replaces a profile; ?7 true keeps the created_at
// of a row that exists.
const putProfileSQL = `INSERT INTO profiles (domain, id, data, size, created_at, updated_at)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6)
	ON CONFLICT (domain, id) DO UPDATE SET data = excluded.data, size = excluded.size,
		created_at = CASE WHEN ?7 THEN profiles.created_at ELSE excluded.created_at END,
		updated_at = excluded.updated_at`

// DeleteProfile deletes a profile; its objects and keys go with it (ON
// DELETE CASCADE), its history stays (as it is: ClearProfileHistory
// empties it). Returns ENOTFOUND.
func (t *tx) DeleteProfile(ctx context.Context, domain, id string) error {
	if err := t.writable("delete profile"); err != nil {
		return err
	}
	res, err := t.stx.ExecContext(ctx, `DELETE FROM profiles WHERE domain = ? AND id = ?`, domain, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete profile: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete profile: %w", err)
	} else if n == 0 {
		return t.notFound(ctx, domain, "profile %q not found in domain %q", id, domain)
	}
	return nil
}

// MoveProfileData moves, in this transaction, every object of profile from
// (expired ones too, so that objects and their keys stay together) to
// profile to, and every key of from whose origin is not KeyOriginProfile; a
// key that to holds already (same name, value, origin and object key) is
// dropped instead. Keys of origin KeyOriginProfile stay on from. Objects
// keep their times. Returns EINVALID when from is to, and ENOTFOUND naming
// the domain or the profile that is missing.
func (t *tx) MoveProfileData(ctx context.Context, domain, from, to string) error {
	if err := t.writable("move profile data"); err != nil {
		return err
	}
	if from == to {
		return profiles.Errorf(profiles.EINVALID, "cannot move the data of profile %q to itself", from)
	}
	for _, id := range []string{from, to} {
		var n int
		if err := t.stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM profiles WHERE domain = ? AND id = ?`,
			domain, id).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: move profile data: %w", err)
		} else if n == 0 {
			return t.notFound(ctx, domain, "profile %q not found in domain %q", id, domain)
		}
	}
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`UPDATE objects SET profile_id = ? WHERE domain = ? AND profile_id = ?`, []any{to, domain, from}},
		// Keys: copy what to lacks, then delete from's, those copied and
		// those to had already.
		{`INSERT OR IGNORE INTO keys (domain, name, value, profile_id, origin, object_key)
			SELECT domain, name, value, ?, origin, object_key FROM keys
			WHERE domain = ? AND profile_id = ? AND origin <> ?`, []any{to, domain, from, profiles.KeyOriginProfile}},
		{`DELETE FROM keys WHERE domain = ? AND profile_id = ? AND origin <> ?`, []any{domain, from, profiles.KeyOriginProfile}},
	} {
		if _, err := t.stx.ExecContext(ctx, stmt.query, stmt.args...); err != nil {
			return fmt.Errorf("sqlite: move profile data: %w", err)
		}
	}
	return nil
}

// ListProfileIDs returns up to limit profile ids after after, in byte order
// (limit <= 0: all). Returns ENOTFOUND for a missing domain.
func (t *tx) ListProfileIDs(ctx context.Context, domain, after string, limit int) ([]string, error) {
	rows, err := t.stx.QueryContext(ctx, `SELECT id FROM profiles WHERE domain = ? AND id > ? ORDER BY id LIMIT ?`,
		domain, after, limitOrAll(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list profile ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: list profile ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list profile ids: %w", err)
	}
	if len(ids) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return ids, nil
}
