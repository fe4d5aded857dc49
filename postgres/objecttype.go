package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// FindObjectType returns a domain's object type. Returns ENOTFOUND, naming
// the domain if it is missing and the object type otherwise.
func (t *tx) FindObjectType(ctx context.Context, domain, name string) (*profiles.ObjectType, error) {
	row := t.ptx.QueryRow(ctx, `SELECT `+objectTypeColumns+` FROM object_types WHERE domain = $1 AND name = $2`, domain, name)
	ot, err := scanObjectType(row, t.types)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "object type %q not found in domain %q", name, domain)
	} else if err != nil {
		return nil, t.wrap("find object type", err)
	}
	t.domain = domain // its types go with it
	return ot, nil
}

// PutObjectType inserts or replaces an object type. A replaced type keeps
// its CreatedAt; a new one with a zero CreatedAt gets the transaction's
// time, as does a zero LastUpdatedAt. On success ot holds the times as
// stored. The count against limit and the insert are in the same
// (serializable) transaction: two that would both pass the count cannot
// both commit. Returns EQUOTA if the type is new and the domain has limit
// types already (limit <= 0: no limit), ENOTFOUND for a missing domain.
func (t *tx) PutObjectType(ctx context.Context, ot *profiles.ObjectType, limit int) error {
	if err := t.writable("put object type"); err != nil {
		return err
	}
	var created int64
	err := t.ptx.QueryRow(ctx, `SELECT created_at FROM object_types WHERE domain = $1 AND name = $2`,
		ot.DomainName, ot.Name).Scan(&created)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if limit > 0 {
			var n int
			if err := t.ptx.QueryRow(ctx, `SELECT count(*) FROM object_types WHERE domain = $1`,
				ot.DomainName).Scan(&n); err != nil {
				return t.wrap("put object type", err)
			} else if n >= limit {
				return profiles.Errorf(profiles.EQUOTA, "the maximum of %d object types has been reached in domain %q", limit, ot.DomainName)
			}
		}
		created = stamp(ot.CreatedAt, t.now)
	case err != nil:
		return t.wrap("put object type", err)
	}
	updated := stamp(ot.LastUpdatedAt, t.now)

	data, err := rowcodec.EncodeObjectType(ot)
	if err != nil {
		return fmt.Errorf("postgres: put object type: %w", err)
	}
	tag, err := t.ptx.Exec(ctx, `INSERT INTO object_types (domain, name, data, created_at, updated_at)
		SELECT $1, $2, $3::text, $4::bigint, $5::bigint WHERE EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)
		ON CONFLICT (domain, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		ot.DomainName, ot.Name, data, created, updated)
	if err != nil {
		return t.wrap("put object type", err)
	} else if tag.RowsAffected() == 0 {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", ot.DomainName)
	}
	t.setTime(&ot.CreatedAt, created)
	t.setTime(&ot.LastUpdatedAt, updated)
	return nil
}

// ListObjectTypes returns up to limit (limit <= 0: all) object types of a
// domain named after after, in byte order. Returns ENOTFOUND.
func (t *tx) ListObjectTypes(ctx context.Context, domain, after string, limit int) ([]*profiles.ObjectType, error) {
	rows, err := t.ptx.Query(ctx, `SELECT `+objectTypeColumns+` FROM object_types
		WHERE domain = $1 AND name > $2 ORDER BY name LIMIT $3::bigint`, domain, after, limitOrAll(limit))
	if err != nil {
		return nil, t.wrap("list object types", err)
	}
	defer rows.Close()
	var out []*profiles.ObjectType
	for rows.Next() {
		ot, err := scanObjectType(rows, t.types)
		if err != nil {
			return nil, t.wrap("list object types", err)
		}
		out = append(out, ot)
	}
	if err := rows.Err(); err != nil {
		return nil, t.wrap("list object types", err)
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return out, nil
}

// DeleteObjectType deletes an object type's row; its objects and keys are
// left to DeleteTypeObjects. A type that has no definition here (a
// template used by name) returns ENOTFOUND.
//
// It writes one row, which the ingestions of the type read: they are
// ordered before it or find no type, and it does not read what they write
// (its objects and keys, which one statement over the whole type did,
// failing the deletion's serialization under ingestion into the same
// profiles, of that type or another).
func (t *tx) DeleteObjectType(ctx context.Context, domain, name string) error {
	if err := t.writable("delete object type"); err != nil {
		return err
	}
	tag, err := t.ptx.Exec(ctx, `DELETE FROM object_types WHERE domain = $1 AND name = $2`, domain, name)
	if err != nil {
		return t.wrap("delete object type", err)
	} else if tag.RowsAffected() == 0 {
		return t.notFound(ctx, domain, "object type %q not found in domain %q", name, domain)
	}
	return nil
}

// DeleteTypeObjects reads, in the order of the objects' primary key, up to
// limit objects of a type after the unique key after, deletes those
// updated at or before before (0: all) and the keys they produced on their
// profile (read through keys_by_profile), and returns the last unique key
// read. Returns ENOTFOUND for a missing domain.
func (t *tx) DeleteTypeObjects(ctx context.Context, domain, objectType, after string, before time.Time, limit int) (string, error) {
	if err := t.writable("delete type objects"); err != nil {
		return "", err
	}
	var cutoff int64
	if !before.IsZero() {
		cutoff = before.UnixMilli()
	}
	var last string
	if err := t.ptx.QueryRow(ctx, deleteTypeObjectsSQL, domain, objectType, after, limitOrAll(limit), cutoff).Scan(&last); err != nil {
		return "", t.wrap("delete type objects", err)
	}
	if last == "" {
		return "", t.notFound(ctx, domain, "")
	}
	return last, nil
}

// deleteTypeObjectsSQL deletes, of the first $4 objects of domain $1 and
// type $2 after the unique key $3, those updated at or before $5 (0: all),
// with their keys, and returns the last unique key read (empty for none).
const deleteTypeObjectsSQL = `WITH page AS (
		SELECT unique_key FROM objects
		WHERE domain = $1 AND object_type = $2 AND unique_key > $3 ORDER BY unique_key LIMIT $4::bigint),
	gone AS (DELETE FROM objects o USING page p
		WHERE o.domain = $1 AND o.object_type = $2 AND o.unique_key = p.unique_key AND ($5::bigint = 0 OR o.updated_at <= $5::bigint)
		RETURNING o.profile_id, o.unique_key),
	keys_gone AS (DELETE FROM keys k USING gone g
		WHERE k.domain = $1 AND k.profile_id = g.profile_id AND k.origin = $2 AND k.object_key = g.unique_key)
	SELECT COALESCE(max(unique_key), '') FROM page`

// objectTypeColumns are the columns scanObjectType reads, in order.
const objectTypeColumns = `domain, name, data, created_at, updated_at`

// scanObjectType reads the objectTypeColumns of one row, decoding its
// data through types.
func scanObjectType(row pgx.Row, types *rowcodec.ObjectTypeCache) (*profiles.ObjectType, error) {
	var ot profiles.ObjectType
	var data string
	var created, updated int64
	if err := row.Scan(&ot.DomainName, &ot.Name, &data, &created, &updated); err != nil {
		return nil, err
	}
	if err := types.Decode(&ot, data); err != nil {
		return nil, err
	}
	ot.CreatedAt, ot.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &ot, nil
}
