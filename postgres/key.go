package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

// FindProfileIDs returns the distinct ids of the profiles holding key
// name = value, in byte order, leaving out keys of expired objects. It reads
// a range of the primary key of keys, already in profile id order, and
// looks up the object of each object key. Returns ENOTFOUND.
//
// In an Update, the range it read is what makes a find-then-create
// race-free: a concurrent transaction that adds a key to it conflicts with
// this one, and one of them is retried.
func (t *tx) FindProfileIDs(ctx context.Context, domain, name, value string) ([]string, error) {
	rows, err := t.ptx.Query(ctx, findProfileIDsSQL, domain, name, value, t.now)
	if err != nil {
		return nil, t.wrap("find profile ids", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, t.wrap("find profile ids", err)
	}
	if len(ids) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return ids, nil
}

// findProfileIDsSQL selects the profile ids of the live keys with a domain,
// name and value; its last parameter is tx.now.
var findProfileIDsSQL = `SELECT DISTINCT k.profile_id FROM keys k
	WHERE k.domain = $1 AND k.name = $2 AND k.value = $3 AND ` + liveKey(4) + `
	ORDER BY k.profile_id`

// listKeysSQL selects the live keys of a domain and profile; its last
// parameter is tx.now.
var listKeysSQL = `SELECT k.name, k.value, k.origin, k.object_key FROM keys k
	WHERE k.domain = $1 AND k.profile_id = $2 AND ` + liveKey(3) + `
	ORDER BY k.origin, k.object_key, k.name, k.value`

// putKeysSQL adds the keys given as six arrays, one per column, unless one
// of them names a missing profile: it then adds none and returns the first
// such key's domain and profile id, and whether the domain exists.
const putKeysSQL = `WITH input AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
			WITH ORDINALITY AS i (domain, name, value, profile_id, origin, object_key, n)),
	missing AS (
		SELECT i.domain, i.profile_id FROM input i
		WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.domain = i.domain AND p.id = i.profile_id)
		ORDER BY i.n LIMIT 1),
	added AS (
		INSERT INTO keys (domain, name, value, profile_id, origin, object_key)
		SELECT domain, name, value, profile_id, origin, object_key FROM input
		WHERE NOT EXISTS (SELECT 1 FROM missing)
		ON CONFLICT DO NOTHING)
	SELECT m.domain, m.profile_id, EXISTS (SELECT 1 FROM domains d WHERE d.name = m.domain AND d.deleting_at = 0) FROM missing m`

// PutKeys adds keys, each to its own domain and profile, in one statement;
// a key already there is left as it is (ON CONFLICT DO NOTHING). Returns
// ENOTFOUND, naming the first missing domain or profile, without adding
// any key, and leaves the transaction usable.
func (t *tx) PutKeys(ctx context.Context, keys []profiles.Key) error {
	if err := t.writable("put keys"); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	var cols [6][]string
	for i := range cols {
		cols[i] = make([]string, len(keys))
	}
	for i, k := range keys {
		cols[0][i], cols[1][i], cols[2][i] = k.DomainName, k.Name, k.Value
		cols[3][i], cols[4][i], cols[5][i] = k.ProfileID, k.Origin, k.ObjectKey
	}
	var domain, id string
	var domainOK bool
	err := t.ptx.QueryRow(ctx, putKeysSQL, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]).Scan(&domain, &id, &domainOK)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return t.wrap("put keys", err)
	case !domainOK:
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", domain)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "profile %q not found in domain %q", id, domain)
}

// DeleteKeys deletes the keys of a profile with the given origin and, if
// objectKey is not "", object key. Deleting none is not an error. Returns
// ENOTFOUND for a missing domain.
func (t *tx) DeleteKeys(ctx context.Context, domain, profileID, origin, objectKey string) error {
	if err := t.writable("delete keys"); err != nil {
		return err
	}
	query := `DELETE FROM keys WHERE domain = $1 AND profile_id = $2 AND origin = $3`
	args := []any{domain, profileID, origin}
	if objectKey != "" {
		query += ` AND object_key = $4`
		args = append(args, objectKey)
	}
	tag, err := t.ptx.Exec(ctx, query, args...)
	if err != nil {
		return t.wrap("delete keys", err)
	} else if tag.RowsAffected() == 0 {
		return t.notFound(ctx, domain, "")
	}
	return nil
}

// ListKeys returns the keys of a profile, leaving out keys of expired
// objects, ordered by origin, object key, name and value: the order of the
// index keys_by_profile, which it reads. Returns ENOTFOUND for a missing
// domain; a missing profile has no keys.
func (t *tx) ListKeys(ctx context.Context, domain, profileID string) ([]profiles.Key, error) {
	rows, err := t.ptx.Query(ctx, listKeysSQL, domain, profileID, t.now)
	if err != nil {
		return nil, t.wrap("list keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (profiles.Key, error) {
		k := profiles.Key{DomainName: domain, ProfileID: profileID}
		err := row.Scan(&k.Name, &k.Value, &k.Origin, &k.ObjectKey)
		return k, err
	})
	if err != nil {
		return nil, t.wrap("list keys", err)
	}
	if len(keys) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return keys, nil
}

// DeleteKeyValues deletes, in one statement, the live keys of a profile with
// that name and one of the values, whatever their origin, and returns how
// many it deleted. Keys of expired objects are left for DeleteExpired, as
// reads do not see them. Returns ENOTFOUND for a missing domain; a missing
// profile has no keys.
func (t *tx) DeleteKeyValues(ctx context.Context, domain, profileID, name string, values []string) (int, error) {
	if err := t.writable("delete key values"); err != nil {
		return 0, err
	}
	var n int64
	if len(values) > 0 {
		tag, err := t.ptx.Exec(ctx, deleteKeyValuesSQL, domain, name, profileID, values, t.now)
		if err != nil {
			return 0, t.wrap("delete key values", err)
		}
		n = tag.RowsAffected()
	}
	if n == 0 {
		return 0, t.notFound(ctx, domain, "")
	}
	return int(n), nil
}

// deleteKeyValuesSQL deletes the live keys of a domain, name and profile
// with one of the values $4; $5 is tx.now.
var deleteKeyValuesSQL = `DELETE FROM keys k WHERE k.domain = $1 AND k.name = $2 AND k.profile_id = $3
	AND k.value = ANY ($4::text[]) AND ` + liveKey(5)
