package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

// FindObject returns a live object by type and unique key. Returns
// ENOTFOUND, naming the domain if it is missing and the object otherwise.
func (t *tx) FindObject(ctx context.Context, domain, objectType, uniqueKey string) (*profiles.ProfileObject, error) {
	row := t.ptx.QueryRow(ctx, `SELECT `+objectColumns+` FROM objects o
		WHERE o.domain = $1 AND o.object_type = $2 AND o.unique_key = $3 AND `+liveObject(4),
		domain, objectType, uniqueKey, t.now)
	o, err := scanObject(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "object %q of type %q not found in domain %q", uniqueKey, objectType, domain)
	} else if err != nil {
		return nil, t.wrap("find object", err)
	}
	if err := t.openObjects(ctx, o); err != nil {
		return nil, fmt.Errorf("postgres: find object: %w", err)
	}
	return o, nil
}

// putObjectSQL inserts or replaces a live object if its profile exists; it
// returns no row if the profile is missing or an expired object is in the
// way. $11 says that the CreatedAt given is zero (keep the replaced
// object's), $12 is tx.now. It reads nothing but the profile and the row
// it replaces: the unique check of an INSERT takes no predicate lock, so
// inserting new objects does not make concurrent ingestions conflict.
const putObjectSQL = `INSERT INTO objects AS o (domain, object_type, unique_key, profile_id,
		data, size, source_last_updated, created_at, updated_at, expires_at)
	SELECT $1, $2, $3, $4, $5::bytea, $6::bigint, $7::bigint, $8::bigint, $9::bigint, $10::bigint
	WHERE EXISTS (SELECT 1 FROM profiles p WHERE p.domain = $1 AND p.id = $4)
	ON CONFLICT (domain, object_type, unique_key) DO UPDATE SET
		profile_id = excluded.profile_id, data = excluded.data, size = excluded.size,
		source_last_updated = excluded.source_last_updated,
		created_at = CASE WHEN $11::boolean THEN o.created_at ELSE excluded.created_at END,
		updated_at = excluded.updated_at, expires_at = excluded.expires_at
	WHERE o.expires_at = 0 OR o.expires_at > $12
	RETURNING created_at, updated_at`

// dropExpiredSQL deletes an object ($1, $2, $3) expired at $4 and the keys
// it produced, and removes the content of its history records on its
// profile, as DeleteExpired does (clearedHistory).
const dropExpiredSQL = `WITH gone AS (
		DELETE FROM objects WHERE domain = $1 AND object_type = $2 AND unique_key = $3
			AND expires_at > 0 AND expires_at <= $4
		RETURNING domain, profile_id, object_type, unique_key),
	keys_gone AS (DELETE FROM keys k USING gone g
		WHERE k.domain = g.domain AND k.profile_id = g.profile_id AND k.origin = g.object_type AND k.object_key = g.unique_key),
	` + clearedHistory + `
	SELECT count(*) FROM gone`

// deleteObjectSQL deletes a live object ($1, $2, $3, live at $4), its keys
// and the content of its history records on its profile, and counts it.
var deleteObjectSQL = `WITH gone AS (
		DELETE FROM objects o WHERE o.domain = $1 AND o.object_type = $2 AND o.unique_key = $3 AND ` + liveObject(4) + `
		RETURNING domain, profile_id, object_type, unique_key),
	keys_gone AS (
		DELETE FROM keys k USING gone g
		WHERE k.domain = g.domain AND k.profile_id = g.profile_id AND k.origin = g.object_type AND k.object_key = g.unique_key),
	` + clearedHistory + `
	SELECT count(*) FROM gone`

// PutObject inserts or replaces (by type and unique key) an object; a
// replacement may move it to another profile, and leaves keys alone. An
// expired object in the way is first deleted with its keys and the content
// of its history records, as DeleteExpired would have (without an EXPIRED
// record), so that the new object is new. A zero
// CreatedAt keeps that of the object replaced, or is the transaction's time
// for a new one; a zero UpdatedAt is the transaction's time. On success o
// holds the times as stored. Returns ENOTFOUND for a missing domain or
// profile, and leaves the transaction usable.
func (t *tx) PutObject(ctx context.Context, o *profiles.ProfileObject) error {
	if err := t.writable("put object"); err != nil {
		return err
	}
	data, err := t.seal(ctx, objectRecord(o.DomainName, o.ObjectTypeName, o.UniqueKey), o.Data)
	if err != nil {
		return fmt.Errorf("postgres: put object: %w", err)
	}
	if data == nil {
		data = []byte{} // NOT NULL
	}
	put := func() (created, updated int64, err error) {
		err = t.ptx.QueryRow(ctx, putObjectSQL,
			o.DomainName, o.ObjectTypeName, o.UniqueKey, o.ProfileID,
			data, len(o.Data), o.SourceLastUpdated.UnixMilli(), stamp(o.CreatedAt, t.now), stamp(o.UpdatedAt, t.now),
			expiresMillis(o.ExpiresAt), o.CreatedAt.IsZero(), t.now,
		).Scan(&created, &updated)
		return created, updated, err
	}
	created, updated, err := put()
	if errors.Is(err, pgx.ErrNoRows) {
		// The slow path: an expired object in the way, or no profile.
		if _, err := t.ptx.Exec(ctx, dropExpiredSQL, o.DomainName, o.ObjectTypeName, o.UniqueKey, t.now); err != nil {
			return t.wrap("put object", err)
		}
		created, updated, err = put()
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return t.notFound(ctx, o.DomainName, "profile %q not found in domain %q", o.ProfileID, o.DomainName)
	} else if err != nil {
		return t.wrap("put object", err)
	}
	t.setTime(&o.CreatedAt, created)
	t.setTime(&o.UpdatedAt, updated)
	return nil
}

// DeleteObject deletes, in one statement (deleteObjectSQL), a live object
// and the keys it produced on its profile (origin its type, object key its
// unique key), and removes the content of its history records on that
// profile (clearedHistory). Returns ENOTFOUND.
func (t *tx) DeleteObject(ctx context.Context, domain, objectType, uniqueKey string) error {
	if err := t.writable("delete object"); err != nil {
		return err
	}
	var n int
	err := t.ptx.QueryRow(ctx, deleteObjectSQL, domain, objectType, uniqueKey, t.now).Scan(&n)
	if err != nil {
		return t.wrap("delete object", err)
	} else if n == 0 {
		return t.notFound(ctx, domain, "object %q of type %q not found in domain %q", uniqueKey, objectType, domain)
	}
	return nil
}

// ListObjects returns up to q.Limit (<= 0: all) live objects of a profile
// and type, newest first: by UpdatedAt, then UniqueKey, both descending,
// after the position (q.AfterUpdatedAt, q.AfterUniqueKey) when either is
// set. With q.FilterKey, only the objects that produced, on that profile,
// a key of that name with one of q.FilterValues (none: no object). Returns
// ENOTFOUND for a missing domain; a missing profile has no objects.
func (t *tx) ListObjects(ctx context.Context, q profiles.ObjectQuery) ([]*profiles.ProfileObject, error) {
	if q.FilterKey != "" && len(q.FilterValues) == 0 {
		return nil, t.notFound(ctx, q.DomainName, "")
	}
	query, args := listObjectsSQL(q, t.now)
	rows, err := t.ptx.Query(ctx, query, args...)
	if err != nil {
		return nil, t.wrap("list objects", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*profiles.ProfileObject, error) { return scanObject(row) })
	if err != nil {
		return nil, t.wrap("list objects", err)
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, q.DomainName, "")
	}
	if err := t.openObjects(ctx, out...); err != nil {
		return nil, fmt.Errorf("postgres: list objects: %w", err)
	}
	return out, nil
}

// ProfileUsage counts the live objects of a profile, of one type or of all
// types (""), and the bytes of their data, from the index
// objects_by_profile. Returns ENOTFOUND for a missing domain; a missing
// profile uses nothing.
func (t *tx) ProfileUsage(ctx context.Context, domain, profileID, objectType string) (profiles.ProfileUsage, error) {
	query, args := profileUsageSQL(domain, profileID, objectType, t.now)
	var u profiles.ProfileUsage
	if err := t.ptx.QueryRow(ctx, query, args...).Scan(&u.Objects, &u.Bytes); err != nil {
		return profiles.ProfileUsage{}, t.wrap("profile usage", err)
	}
	if u.Objects == 0 {
		return u, t.notFound(ctx, domain, "")
	}
	return u, nil
}

// listObjectsSQL returns the query of ListObjects and its parameters. With
// a q.FilterKey, q.FilterValues must not be empty.
func listObjectsSQL(q profiles.ObjectQuery, now int64) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + objectColumns + ` FROM objects o
		WHERE o.domain = $1 AND o.profile_id = $2 AND o.object_type = $3 AND ` + liveObject(4))
	args := []any{q.DomainName, q.ProfileID, q.ObjectType, now}
	if !q.AfterUpdatedAt.IsZero() || q.AfterUniqueKey != "" {
		// Both columns descend in the index: the row comparison is a range of it.
		fmt.Fprintf(&b, ` AND (o.updated_at, o.unique_key) < ($%d, $%d)`, len(args)+1, len(args)+2)
		args = append(args, q.AfterUpdatedAt.UnixMilli(), q.AfterUniqueKey)
	}
	if q.FilterKey != "" {
		fmt.Fprintf(&b, ` AND EXISTS (SELECT 1 FROM keys k
			WHERE k.domain = o.domain AND k.profile_id = o.profile_id AND k.origin = o.object_type
				AND k.object_key = o.unique_key AND k.name = $%d AND k.value = ANY ($%d::text[]))`, len(args)+1, len(args)+2)
		args = append(args, q.FilterKey, q.FilterValues)
	}
	fmt.Fprintf(&b, ` ORDER BY o.updated_at DESC, o.unique_key DESC LIMIT $%d::bigint`, len(args)+1)
	args = append(args, limitOrAll(q.Limit))
	return b.String(), args
}

// profileUsageSQL returns the query of ProfileUsage and its parameters.
func profileUsageSQL(domain, profileID, objectType string, now int64) (string, []any) {
	query := `SELECT count(*), COALESCE(sum(o.size), 0)::bigint FROM objects o
	WHERE o.domain = $1 AND o.profile_id = $2 AND ` + liveObject(3)
	args := []any{domain, profileID, now}
	if objectType != "" {
		query += ` AND o.object_type = $4`
		args = append(args, objectType)
	}
	return query, args
}

// objectColumns are the columns, of objects aliased o, that scanObject
// reads, in order.
const objectColumns = `o.domain, o.object_type, o.unique_key, o.profile_id, o.data,
	o.source_last_updated, o.created_at, o.updated_at, o.expires_at`

// scanObject reads the objectColumns of one row.
func scanObject(row pgx.Row) (*profiles.ProfileObject, error) {
	var o profiles.ProfileObject
	var source, created, updated, expires int64
	if err := row.Scan(&o.DomainName, &o.ObjectTypeName, &o.UniqueKey, &o.ProfileID, &o.Data,
		&source, &created, &updated, &expires); err != nil {
		return nil, err
	}
	o.SourceLastUpdated = fromMillis(source)
	o.CreatedAt, o.UpdatedAt = fromMillis(created), fromMillis(updated)
	o.ExpiresAt = fromExpires(expires)
	return &o, nil
}
