package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/openprofiles/profiles"
)

// FindObject returns a live object by type and unique key. Returns
// ENOTFOUND, naming the domain if it is missing and the object otherwise.
func (t *tx) FindObject(ctx context.Context, domain, objectType, uniqueKey string) (*profiles.ProfileObject, error) {
	// The row is read expired or not, so that a missing one can be told
	// from an expired one: PutObject need not look for an expired row in
	// the way of a key that has none (t.absent).
	row := t.stx.QueryRowContext(ctx, `SELECT `+objectColumns+` FROM objects o
		WHERE o.domain = ? AND o.object_type = ? AND o.unique_key = ?`,
		domain, objectType, uniqueKey)
	o, err := scanObject(row)
	if errors.Is(err, sql.ErrNoRows) {
		t.absent = objectRef{domain: domain, objectType: objectType, uniqueKey: uniqueKey}
	}
	if errors.Is(err, sql.ErrNoRows) || err == nil && !t.live(o) {
		return nil, t.notFound(ctx, domain, "object %q of type %q not found in domain %q", uniqueKey, objectType, domain)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find object: %w", err)
	}
	if err := t.openObject(ctx, o); err != nil {
		return nil, fmt.Errorf("sqlite: find object: %w", err)
	}
	return o, nil
}

// openObject decrypts the data of an object read from the table.
func (t *tx) openObject(ctx context.Context, o *profiles.ProfileObject) error {
	data, err := t.open(ctx, objectRecord(o.DomainName, o.ObjectTypeName, o.UniqueKey), o.Data)
	o.Data = data
	return err
}

// PutObject inserts or replaces (by type and unique key) an object; a
// replacement may move it to another profile, and leaves keys alone. An
// expired object in the way is first deleted with its keys and the content
// of its history records, as DeleteExpired would have (without an EXPIRED
// record), so that the new object is new. A zero CreatedAt
// keeps that of the object replaced, or is the transaction's time for a new
// one; a zero UpdatedAt is the transaction's time. On success o holds the
// times as stored. Returns ENOTFOUND for a missing domain or profile.
func (t *tx) PutObject(ctx context.Context, o *profiles.ProfileObject) error {
	if err := t.writable("put object"); err != nil {
		return err
	}
	if t.absent.domain != "" && t.absent == (objectRef{domain: o.DomainName, objectType: o.ObjectTypeName, uniqueKey: o.UniqueKey}) {
		// FindObject saw no row for the key in this Update, and nothing
		// but PutObject adds one: no expired object is in the way.
		t.absent = objectRef{}
		return t.putObject(ctx, o)
	}
	var expiredOf string
	err := t.stx.QueryRowContext(ctx, `DELETE FROM objects
		WHERE domain = ? AND object_type = ? AND unique_key = ? AND expires_at > 0 AND expires_at <= ?
		RETURNING profile_id`, o.DomainName, o.ObjectTypeName, o.UniqueKey, t.now).Scan(&expiredOf)
	if err == nil {
		if _, err := t.stx.ExecContext(ctx, deleteObjectKeys, o.DomainName, expiredOf, o.ObjectTypeName, o.UniqueKey); err != nil {
			return fmt.Errorf("sqlite: put object: %w", err)
		}
		// Its history records lose their content, as the sweep's do; the
		// new object's are written after this.
		if err := clearHistory(ctx, t.stx, []objectRef{{domain: o.DomainName, objectType: o.ObjectTypeName, uniqueKey: o.UniqueKey, profileID: expiredOf}}); err != nil {
			return fmt.Errorf("sqlite: put object: %w", err)
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: put object: %w", err)
	}
	return t.putObject(ctx, o)
}

// putObject is PutObject once no expired object is in the way.
func (t *tx) putObject(ctx context.Context, o *profiles.ProfileObject) error {
	data, err := t.seal(ctx, objectRecord(o.DomainName, o.ObjectTypeName, o.UniqueKey), o.Data)
	if err != nil {
		return fmt.Errorf("sqlite: put object: %w", err)
	}
	if data == nil {
		data = []byte{} // NOT NULL
	}
	// The stored created_at is known unless CreatedAt is zero (an existing
	// row keeps its own): only then is it read back (RETURNING costs a
	// buffered result row).
	created, updated := stamp(o.CreatedAt, t.now), stamp(o.UpdatedAt, t.now)
	args := []any{o.DomainName, o.ObjectTypeName, o.UniqueKey, o.ProfileID,
		data, len(o.Data), o.SourceLastUpdated.UnixMilli(), created, updated, expiresMillis(o.ExpiresAt), o.CreatedAt.IsZero()}
	if o.CreatedAt.IsZero() {
		err = t.stx.QueryRowContext(ctx, putObjectSQL+` RETURNING created_at`, args...).Scan(&created)
	} else {
		_, err = t.stx.ExecContext(ctx, putObjectSQL, args...)
	}
	if isForeignKeyViolation(err) {
		return t.notFound(ctx, o.DomainName, "profile %q not found in domain %q", o.ProfileID, o.DomainName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put object: %w", err)
	}
	o.CreatedAt, o.UpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// putObjectSQL inserts or replaces an object; ?11 true keeps the created_at
// of a row that exists.
const putObjectSQL = `INSERT INTO objects (domain, object_type, unique_key, profile_id,
		data, size, source_last_updated, created_at, updated_at, expires_at)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
	ON CONFLICT (domain, object_type, unique_key) DO UPDATE SET
		profile_id = excluded.profile_id, data = excluded.data, size = excluded.size,
		source_last_updated = excluded.source_last_updated,
		created_at = CASE WHEN ?11 THEN objects.created_at ELSE excluded.created_at END,
		updated_at = excluded.updated_at, expires_at = excluded.expires_at`

// DeleteObject deletes a live object and the keys it produced on its
// profile (origin its type, object key its unique key), and removes the
// content of its history records on that profile (clearHistory). Returns
// ENOTFOUND.
func (t *tx) DeleteObject(ctx context.Context, domain, objectType, uniqueKey string) error {
	if err := t.writable("delete object"); err != nil {
		return err
	}
	var profileID string
	err := t.stx.QueryRowContext(ctx, `DELETE FROM objects AS o
		WHERE o.domain = ? AND o.object_type = ? AND o.unique_key = ? AND `+liveObject+`
		RETURNING profile_id`, domain, objectType, uniqueKey, t.now).Scan(&profileID)
	if errors.Is(err, sql.ErrNoRows) {
		return t.notFound(ctx, domain, "object %q of type %q not found in domain %q", uniqueKey, objectType, domain)
	} else if err != nil {
		return fmt.Errorf("sqlite: delete object: %w", err)
	}
	if _, err := t.stx.ExecContext(ctx, deleteObjectKeys, domain, profileID, objectType, uniqueKey); err != nil {
		return fmt.Errorf("sqlite: delete object: %w", err)
	}
	// The object's data goes with it: its history records on its profile
	// lose their content, as an expired object's do.
	if err := clearHistory(ctx, t.stx, []objectRef{{domain: domain, objectType: objectType, uniqueKey: uniqueKey, profileID: profileID}}); err != nil {
		return fmt.Errorf("sqlite: delete object: %w", err)
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
	rows, err := t.stx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list objects: %w", err)
	}
	defer rows.Close()
	var out []*profiles.ProfileObject
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list objects: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list objects: %w", err)
	}
	rows.Close()
	for _, o := range out {
		if err := t.openObject(ctx, o); err != nil {
			return nil, fmt.Errorf("sqlite: list objects: %w", err)
		}
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, q.DomainName, "")
	}
	return out, nil
}

// ProfileUsage counts the live objects of a profile, of one type or of all
// types (""), and the bytes of their data. It reads only the index
// objects_by_profile. Returns ENOTFOUND for a missing domain; a missing
// profile uses nothing.
func (t *tx) ProfileUsage(ctx context.Context, domain, profileID, objectType string) (profiles.ProfileUsage, error) {
	query, args := profileUsageSQL(domain, profileID, objectType, t.now)
	var u profiles.ProfileUsage
	if err := t.stx.QueryRowContext(ctx, query, args...).Scan(&u.Objects, &u.Bytes); err != nil {
		return profiles.ProfileUsage{}, fmt.Errorf("sqlite: profile usage: %w", err)
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
		WHERE o.domain = ? AND o.profile_id = ? AND o.object_type = ? AND ` + liveObject)
	args := []any{q.DomainName, q.ProfileID, q.ObjectType, now}
	if !q.AfterUpdatedAt.IsZero() || q.AfterUniqueKey != "" {
		// A row value comparison: SQLite uses it as a range of the index.
		b.WriteString(` AND (o.updated_at, o.unique_key) < (?, ?)`)
		args = append(args, q.AfterUpdatedAt.UnixMilli(), q.AfterUniqueKey)
	}
	if q.FilterKey != "" {
		b.WriteString(` AND EXISTS (SELECT 1 FROM keys k
			WHERE k.domain = o.domain AND k.name = ? AND k.value IN (?` + strings.Repeat(", ?", len(q.FilterValues)-1) + `)
				AND k.profile_id = o.profile_id AND k.origin = o.object_type AND k.object_key = o.unique_key)`)
		args = append(args, q.FilterKey)
		for _, v := range q.FilterValues {
			args = append(args, v)
		}
	}
	b.WriteString(` ORDER BY o.updated_at DESC, o.unique_key DESC LIMIT ?`)
	args = append(args, limitOrAll(q.Limit))
	return b.String(), args
}

// profileUsageSQL returns the query of ProfileUsage and its parameters.
func profileUsageSQL(domain, profileID, objectType string, now int64) (string, []any) {
	query := `SELECT COUNT(*), COALESCE(SUM(o.size), 0) FROM objects o
	WHERE o.domain = ? AND o.profile_id = ? AND ` + liveObject
	args := []any{domain, profileID, now}
	if objectType != "" {
		query += ` AND o.object_type = ?`
		args = append(args, objectType)
	}
	return query, args
}

// objectColumns are the columns, of objects aliased o, that scanObject
// reads, in order.
// live reports whether an object read in the transaction has not expired.
func (t *tx) live(o *profiles.ProfileObject) bool {
	return o.ExpiresAt.IsZero() || o.ExpiresAt.UnixMilli() > t.now
}

const objectColumns = `o.domain, o.object_type, o.unique_key, o.profile_id, o.data,
	o.source_last_updated, o.created_at, o.updated_at, o.expires_at`

// scanObject reads the objectColumns of one row.
func scanObject(row interface{ Scan(...any) error }) (*profiles.ProfileObject, error) {
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
