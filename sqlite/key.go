package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/openprofiles/profiles"
)

// FindProfileIDs returns the distinct ids of the profiles holding key
// name = value, in byte order, leaving out keys of expired objects. It reads
// a range of the primary key of keys, already in profile id order, and
// looks up the object of each object key: at most keyRowsRead keys. A
// value with more keys (a frequent caller's phone: a key from each of up
// to 1,000 contact records of one profile) is read again by skipping from
// one profile to the next (findProfileIDsSQL), which reads one live key a
// profile. Returns ENOTFOUND.
func (t *tx) FindProfileIDs(ctx context.Context, domain, name, value string) ([]string, error) {
	ids, n, err := t.profileIDsOf(ctx, findKeyRowsSQL, domain, name, value)
	if err == nil && n == keyRowsRead {
		ids, _, err = t.profileIDsOf(ctx, findProfileIDsSQL, domain, name, value)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find profile ids: %w", err)
	}
	if len(ids) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return ids, nil
}

// profileIDsOf runs query (findKeyRowsSQL or findProfileIDsSQL), whose
// rows are profile ids in order, and returns the distinct ids and how many
// rows it read.
func (t *tx) profileIDsOf(ctx context.Context, query, domain, name, value string) ([]string, int, error) {
	rows, err := t.stx.QueryContext(ctx, query, domain, name, value, t.now)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var ids []string
	n := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, 0, err
		}
		n++
		if len(ids) == 0 || ids[len(ids)-1] != id {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	slices.Sort(ids) // in order already; the skip's order is the CTE's
	return ids, n, nil
}

// keyRowsRead is how many keys FindProfileIDs reads in one range before it
// skips through them instead: most values have one or two.
const keyRowsRead = 16

// findKeyRowsSQL selects the profile ids of the first keyRowsRead live keys
// with a domain, name and value, in profile id order; its last parameter
// is tx.now.
var findKeyRowsSQL = `SELECT k.profile_id FROM keys k
	WHERE k.domain = ? AND k.name = ? AND k.value = ? AND ` + liveKey + `
	ORDER BY k.profile_id LIMIT ` + strconv.Itoa(keyRowsRead)

// findProfileIDsSQL selects the distinct profile ids of the live keys with
// a domain, name and value (?1, ?2, ?3; ?4 is tx.now), each greater than
// the one before. It steps from one profile id to the next through the
// primary key, reading the first live key of each profile and skipping its
// others: the 1,000 keys of one profile are one index seek and one expiry
// check, not 1,000 (BenchmarkFindProfileIDs_FrequentCaller). Slower than
// findKeyRowsSQL for a value of a few keys (a second seek, the CTE's
// steps).
var findProfileIDsSQL = `WITH RECURSIVE ids(id) AS (
		SELECT (SELECT k.profile_id FROM keys k WHERE k.domain = ?1 AND k.name = ?2 AND k.value = ?3
			AND ` + liveKeyAt4 + ` ORDER BY k.profile_id LIMIT 1)
		UNION ALL
		SELECT (SELECT k.profile_id FROM keys k WHERE k.domain = ?1 AND k.name = ?2 AND k.value = ?3
			AND k.profile_id > ids.id AND ` + liveKeyAt4 + ` ORDER BY k.profile_id LIMIT 1)
		FROM ids WHERE ids.id IS NOT NULL)
	SELECT id FROM ids WHERE id IS NOT NULL`

// liveKeyAt4 is liveKey with its parameter numbered ?4.
var liveKeyAt4 = strings.Replace(liveKey, "?", "?4", 1)

// listKeysSQL selects the live keys of a domain and profile; its last
// parameter is tx.now.
const listKeysSQL = `SELECT k.name, k.value, k.origin, k.object_key FROM keys k
	WHERE k.domain = ? AND k.profile_id = ? AND ` + liveKey + `
	ORDER BY k.origin, k.object_key, k.name, k.value`

// keysPerInsert is how many keys one INSERT statement adds: 6 parameters
// each, well below SQLite's limit of 32766.
const keysPerInsert = 100

// PutKeys adds keys, each to its own domain and profile; a key already there
// is left as it is (INSERT OR IGNORE). Each statement adds up to
// keysPerInsert keys, all or none. Returns ENOTFOUND for a missing domain or
// profile; the transaction should then be abandoned.
func (t *tx) PutKeys(ctx context.Context, keys []profiles.Key) error {
	if err := t.writable("put keys"); err != nil {
		return err
	}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), keysPerInsert)]
		keys = keys[len(chunk):]

		args := make([]any, 0, 6*len(chunk))
		for _, k := range chunk {
			args = append(args, k.DomainName, k.Name, k.Value, k.ProfileID, k.Origin, k.ObjectKey)
		}
		_, err := t.stx.ExecContext(ctx, `INSERT OR IGNORE INTO keys (domain, name, value, profile_id, origin, object_key)
			VALUES (?, ?, ?, ?, ?, ?)`+strings.Repeat(", (?, ?, ?, ?, ?, ?)", len(chunk)-1), args...)
		if isForeignKeyViolation(err) {
			return t.missingOwner(ctx, chunk)
		} else if err != nil {
			return fmt.Errorf("sqlite: put keys: %w", err)
		}
	}
	return nil
}

// missingOwner returns ENOTFOUND for the first missing domain or profile
// that keys name.
func (t *tx) missingOwner(ctx context.Context, keys []profiles.Key) error {
	for _, k := range keys {
		var n int
		if err := t.stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM profiles WHERE domain = ? AND id = ?`,
			k.DomainName, k.ProfileID).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: put keys: %w", err)
		} else if n == 0 {
			return t.notFound(ctx, k.DomainName, "profile %q not found in domain %q", k.ProfileID, k.DomainName)
		}
	}
	return fmt.Errorf("sqlite: put keys: a foreign key failed, yet every domain and profile exists")
}

// DeleteKeys deletes the keys of a profile with the given origin and, if
// objectKey is not "", object key. Deleting none is not an error. Returns
// ENOTFOUND for a missing domain.
func (t *tx) DeleteKeys(ctx context.Context, domain, profileID, origin, objectKey string) error {
	if err := t.writable("delete keys"); err != nil {
		return err
	}
	query := `DELETE FROM keys WHERE domain = ? AND profile_id = ? AND origin = ?`
	args := []any{domain, profileID, origin}
	if objectKey != "" {
		query += ` AND object_key = ?`
		args = append(args, objectKey)
	}
	res, err := t.stx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: delete keys: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete keys: %w", err)
	} else if n == 0 {
		return t.notFound(ctx, domain, "")
	}
	return nil
}

// ListKeys returns the keys of a profile, leaving out keys of expired
// objects, ordered by origin, object key, name and value: the order of the
// index keys_by_profile, which it reads. Returns ENOTFOUND
// for a missing domain; a missing profile has no keys.
func (t *tx) ListKeys(ctx context.Context, domain, profileID string) ([]profiles.Key, error) {
	rows, err := t.stx.QueryContext(ctx, listKeysSQL, domain, profileID, t.now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	defer rows.Close()
	var keys []profiles.Key
	for rows.Next() {
		k := profiles.Key{DomainName: domain, ProfileID: profileID}
		if err := rows.Scan(&k.Name, &k.Value, &k.Origin, &k.ObjectKey); err != nil {
			return nil, fmt.Errorf("sqlite: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return keys, nil
}

// valuesPerDelete is how many values one statement of DeleteKeyValues
// deletes, well below SQLite's limit of 32766 parameters.
const valuesPerDelete = 500

// DeleteKeyValues deletes the live keys of a profile with that name and one
// of the values, whatever their origin, and returns how many it deleted.
// Keys of expired objects are left for DeleteExpired, as reads do not see
// them. Each statement reads ranges of the primary key of keys. Returns
// ENOTFOUND for a missing domain; a missing profile has no keys.
func (t *tx) DeleteKeyValues(ctx context.Context, domain, profileID, name string, values []string) (int, error) {
	if err := t.writable("delete key values"); err != nil {
		return 0, err
	}
	var n int64
	for len(values) > 0 {
		chunk := values[:min(len(values), valuesPerDelete)]
		values = values[len(chunk):]
		query, args := deleteKeyValuesSQL(domain, profileID, name, chunk, t.now)
		res, err := t.stx.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("sqlite: delete key values: %w", err)
		}
		m, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("sqlite: delete key values: %w", err)
		}
		n += m
	}
	if n == 0 {
		return 0, t.notFound(ctx, domain, "")
	}
	return int(n), nil
}

// deleteKeyValuesSQL returns a statement of DeleteKeyValues and its
// parameters; values must not be empty.
func deleteKeyValuesSQL(domain, profileID, name string, values []string, now int64) (string, []any) {
	args := []any{domain, name, profileID}
	for _, v := range values {
		args = append(args, v)
	}
	return `DELETE FROM keys AS k WHERE k.domain = ? AND k.name = ? AND k.profile_id = ?
		AND k.value IN (?` + strings.Repeat(", ?", len(values)-1) + `) AND ` + liveKey,
		append(args, now)
}
