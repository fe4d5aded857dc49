package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// FindProfile returns a profile. Returns ENOTFOUND, naming the domain if it
// is missing and the profile otherwise.
func (t *tx) FindProfile(ctx context.Context, domain, id string) (*profiles.Profile, error) {
	p := profiles.Profile{DomainName: domain, ID: id}
	var data []byte
	var created, updated int64
	err := t.ptx.QueryRow(ctx, `SELECT data, created_at, updated_at FROM profiles
		WHERE domain = $1 AND id = $2`, domain, id).Scan(&data, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "profile %q not found in domain %q", id, domain)
	} else if err != nil {
		return nil, t.wrap("find profile", err)
	}
	if data, err = t.open(ctx, profileRecord(domain, id), data); err != nil {
		return nil, fmt.Errorf("postgres: find profile: %w", err)
	}
	if err := rowcodec.DecodeProfile(&p, data); err != nil {
		return nil, fmt.Errorf("postgres: find profile: %w", err)
	}
	p.CreatedAt, p.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// PutProfile inserts or replaces a profile: its Fields and Sources are
// replaced as a whole. A zero CreatedAt keeps that of the profile replaced,
// or is the transaction's time for a new one; a zero LastUpdatedAt is the
// transaction's time. On success p holds the times as stored. Returns
// ENOTFOUND for a missing domain, and leaves the transaction usable.
func (t *tx) PutProfile(ctx context.Context, p *profiles.Profile) error {
	if err := t.writable("put profile"); err != nil {
		return err
	}
	t.wroteProfile(p.DomainName, p.ID)
	data, err := rowcodec.EncodeProfile(p)
	if err != nil {
		return fmt.Errorf("postgres: put profile: %w", err)
	}
	if data, err = t.seal(ctx, profileRecord(p.DomainName, p.ID), data); err != nil {
		return fmt.Errorf("postgres: put profile: %w", err)
	}
	// The profile's turn (retryOn): the statement takes the profile's
	// advisory lock, which a retry of a writer that met another holds
	// from before its transaction, and writes only with it.
	var turn bool
	var created, updated *int64
	err = t.ptx.QueryRow(ctx, `WITH turn AS (SELECT pg_try_advisory_xact_lock(`+advisoryKey(8)+`) AS ok),
		put AS (INSERT INTO profiles AS p (domain, id, data, size, created_at, updated_at)
			SELECT $1, $2, $3::bytea, $4::bigint, $5::bigint, $6::bigint FROM turn
			WHERE turn.ok AND EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)
			ON CONFLICT (domain, id) DO UPDATE SET data = excluded.data, size = excluded.size,
				created_at = CASE WHEN $7::boolean THEN p.created_at ELSE excluded.created_at END,
				updated_at = excluded.updated_at
			RETURNING created_at, updated_at)
		SELECT turn.ok, put.created_at, put.updated_at FROM turn LEFT JOIN put ON true`,
		p.DomainName, p.ID, data, rowcodec.ProfileSize(p), stamp(p.CreatedAt, t.now), stamp(p.LastUpdatedAt, t.now),
		p.CreatedAt.IsZero(), profileLock(p.DomainName, p.ID),
	).Scan(&turn, &created, &updated)
	switch {
	case err != nil:
		return t.wrap("put profile", err)
	case !turn:
		t.conflict = true
		return fmt.Errorf("postgres: put profile: %w", errNotYourTurn)
	case created == nil:
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", p.DomainName)
	}
	t.setTime(&p.CreatedAt, *created)
	t.setTime(&p.LastUpdatedAt, *updated)
	return nil
}

// DeleteProfile deletes a profile; its objects and keys go with it (ON
// DELETE CASCADE). Returns ENOTFOUND.
func (t *tx) DeleteProfile(ctx context.Context, domain, id string) error {
	if err := t.writable("delete profile"); err != nil {
		return err
	}
	t.wroteProfile(domain, id)
	tag, err := t.ptx.Exec(ctx, `DELETE FROM profiles WHERE domain = $1 AND id = $2`, domain, id)
	if err != nil {
		return t.wrap("delete profile", err)
	} else if tag.RowsAffected() == 0 {
		return t.notFound(ctx, domain, "profile %q not found in domain %q", id, domain)
	}
	return nil
}

// MoveProfileData moves, in one statement, every object of profile from
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
	t.wroteProfile(domain, from)
	t.wroteProfile(domain, to)
	var fromOK, toOK bool
	if err := t.ptx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM profiles WHERE domain = $1 AND id = $2),
			EXISTS (SELECT 1 FROM profiles WHERE domain = $1 AND id = $3)`,
		domain, from, to).Scan(&fromOK, &toOK); err != nil {
		return t.wrap("move profile data", err)
	}
	for _, p := range []struct {
		id string
		ok bool
	}{{from, fromOK}, {to, toOK}} {
		if !p.ok {
			return t.notFound(ctx, domain, "profile %q not found in domain %q", p.id, domain)
		}
	}
	// Keys: copy what to lacks, and delete all of from's but those of its
	// fields; both see the keys as they were before the statement.
	if _, err := t.ptx.Exec(ctx, `WITH moved_objects AS (
			UPDATE objects SET profile_id = $3 WHERE domain = $1 AND profile_id = $2),
		copied_keys AS (
			INSERT INTO keys (domain, name, value, profile_id, origin, object_key)
			SELECT domain, name, value, $3::text, origin, object_key FROM keys
			WHERE domain = $1 AND profile_id = $2 AND origin <> $4
			ON CONFLICT DO NOTHING)
		DELETE FROM keys WHERE domain = $1 AND profile_id = $2 AND origin <> $4`,
		domain, from, to, profiles.KeyOriginProfile); err != nil {
		return t.wrap("move profile data", err)
	}
	return nil
}

// ListProfileIDs returns up to limit profile ids after after, in byte order
// (limit <= 0: all). Returns ENOTFOUND for a missing domain.
func (t *tx) ListProfileIDs(ctx context.Context, domain, after string, limit int) ([]string, error) {
	rows, err := t.ptx.Query(ctx, `SELECT id FROM profiles WHERE domain = $1 AND id > $2 ORDER BY id LIMIT $3::bigint`,
		domain, after, limitOrAll(limit))
	if err != nil {
		return nil, t.wrap("list profile ids", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, t.wrap("list profile ids", err)
	}
	if len(ids) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return ids, nil
}
