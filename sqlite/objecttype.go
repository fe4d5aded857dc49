package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// FindObjectType returns a domain's object type. Returns ENOTFOUND, naming
// the domain if it is missing and the object type otherwise.
// In the committer's transactions, the type may come from writerTypes.
func (t *tx) FindObjectType(ctx context.Context, domain, name string) (*profiles.ObjectType, error) {
	cache := t.cachedTypes()
	var gen uint64
	if cache != nil {
		if ot := cache.get(domain, name); ot != nil {
			t.domain = domain
			return ot, nil
		}
		gen = cache.gen.Load()
	}
	row := t.stx.QueryRowContext(ctx, `SELECT `+objectTypeColumns+` FROM object_types
		WHERE domain = ? AND name = ?`, domain, name)
	ot, err := scanObjectType(row, t.types)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "object type %q not found in domain %q", name, domain)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find object type: %w", err)
	}
	t.domain = domain // its types go with it
	if cache != nil {
		cache.put(domain, name, gen, ot)
	}
	return ot, nil
}

// PutObjectType inserts or replaces an object type. A replaced type keeps
// its CreatedAt; a new one with a zero CreatedAt gets the transaction's
// time, as does a zero LastUpdatedAt. On success ot holds the times as
// stored. The count against limit and the insert are in the same (write)
// transaction. Returns ENOTFOUND for a missing domain and EQUOTA.
func (t *tx) PutObjectType(ctx context.Context, ot *profiles.ObjectType, limit int) error {
	if err := t.writable("put object type"); err != nil {
		return err
	}
	t.typesChanged()
	var created int64
	err := t.stx.QueryRowContext(ctx, `SELECT created_at FROM object_types WHERE domain = ? AND name = ?`,
		ot.DomainName, ot.Name).Scan(&created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if limit > 0 {
			var n int
			if err := t.stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM object_types WHERE domain = ?`,
				ot.DomainName).Scan(&n); err != nil {
				return fmt.Errorf("sqlite: put object type: %w", err)
			} else if n >= limit {
				return profiles.Errorf(profiles.EQUOTA, "the maximum of %d object types has been reached in domain %q", limit, ot.DomainName)
			}
		}
		created = stamp(ot.CreatedAt, t.now)
	case err != nil:
		return fmt.Errorf("sqlite: put object type: %w", err)
	}
	updated := stamp(ot.LastUpdatedAt, t.now)

	data, err := rowcodec.EncodeObjectType(ot)
	if err != nil {
		return fmt.Errorf("sqlite: put object type: %w", err)
	}
	if _, err := t.stx.ExecContext(ctx, `INSERT INTO object_types (domain, name, data, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (domain, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		ot.DomainName, ot.Name, data, created, updated,
	); isForeignKeyViolation(err) {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", ot.DomainName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put object type: %w", err)
	}
	ot.CreatedAt, ot.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// ListObjectTypes returns up to limit (limit <= 0: all) object types of a
// domain named after after, in byte order. Returns ENOTFOUND.
func (t *tx) ListObjectTypes(ctx context.Context, domain, after string, limit int) ([]*profiles.ObjectType, error) {
	rows, err := t.stx.QueryContext(ctx, `SELECT `+objectTypeColumns+` FROM object_types
		WHERE domain = ? AND name > ? ORDER BY name LIMIT ?`, domain, after, limitOrAll(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list object types: %w", err)
	}
	defer rows.Close()
	var out []*profiles.ObjectType
	for rows.Next() {
		ot, err := scanObjectType(rows, t.types)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list object types: %w", err)
		}
		out = append(out, ot)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list object types: %w", err)
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return out, nil
}

// DeleteObjectType deletes an object type's row; its objects and keys are
// left to DeleteTypeObjects. A type that has no definition here (a
// template used by name) returns ENOTFOUND.
func (t *tx) DeleteObjectType(ctx context.Context, domain, name string) error {
	if err := t.writable("delete object type"); err != nil {
		return err
	}
	t.typesChanged()
	res, err := t.stx.ExecContext(ctx, `DELETE FROM object_types WHERE domain = ? AND name = ?`, domain, name)
	if err != nil {
		return fmt.Errorf("sqlite: delete object type: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete object type: %w", err)
	} else if n == 0 {
		return t.notFound(ctx, domain, "object type %q not found in domain %q", name, domain)
	}
	return nil
}

// DeleteTypeObjects reads, in the order of the objects' primary key, up to
// limit objects of a type after the unique key after, deletes those
// updated at or before before (zero: all) and the keys they produced, and
// returns the last unique key read. Returns ENOTFOUND for a missing domain.
func (t *tx) DeleteTypeObjects(ctx context.Context, domain, objectType, after string, before time.Time, limit int) (string, error) {
	if err := t.writable("delete type objects"); err != nil {
		return "", err
	}
	var cutoff int64
	if !before.IsZero() {
		cutoff = before.UnixMilli()
	}
	rows, err := t.stx.QueryContext(ctx, `SELECT unique_key, profile_id, updated_at FROM objects
		WHERE domain = ? AND object_type = ? AND unique_key > ? ORDER BY unique_key LIMIT ?`, domain, objectType, after, limitOrAll(limit))
	if err != nil {
		return "", fmt.Errorf("sqlite: delete type objects: %w", err)
	}
	var last string
	var gone []objectRef
	for rows.Next() {
		var o objectRef
		var updated int64
		if err := rows.Scan(&o.uniqueKey, &o.profileID, &updated); err != nil {
			rows.Close()
			return "", fmt.Errorf("sqlite: delete type objects: %w", err)
		}
		last = o.uniqueKey
		if cutoff == 0 || updated <= cutoff {
			gone = append(gone, o)
		}
	}
	if err := rows.Close(); err != nil {
		return "", fmt.Errorf("sqlite: delete type objects: %w", err)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("sqlite: delete type objects: %w", err)
	}
	if last == "" {
		return "", t.notFound(ctx, domain, "")
	}
	for _, o := range gone {
		if _, err := t.stx.ExecContext(ctx, `DELETE FROM objects WHERE domain = ? AND object_type = ? AND unique_key = ?`, domain, objectType, o.uniqueKey); err != nil {
			return "", fmt.Errorf("sqlite: delete type objects: %w", err)
		}
		if _, err := t.stx.ExecContext(ctx, deleteObjectKeys, domain, o.profileID, objectType, o.uniqueKey); err != nil {
			return "", fmt.Errorf("sqlite: delete type objects: %w", err)
		}
	}
	return last, nil
}

// objectTypeColumns are the columns scanObjectType reads, in order.
const objectTypeColumns = `domain, name, data, created_at, updated_at`

// scanObjectType reads the objectTypeColumns of one row, decoding its
// data through types.
func scanObjectType(row interface{ Scan(...any) error }, types *rowcodec.ObjectTypeCache) (*profiles.ObjectType, error) {
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

// writerTypes remembers the object types the committer's transactions have
// read, so that ingestion, which reads its type in every Update, does not
// query it each time. An entry holds while gen, the count of changes to
// object types, is the one it was read at. gen moves on when:
//
//   - a transaction of the committer writes or deletes an object type (the
//     rest of its group then neither reads nor fills the cache, so that a
//     type a savepoint or a failed COMMIT rolls back is never remembered);
//   - DeleteDomain deletes a domain, and its types with it;
//   - a group starts after another connection (another process) committed
//     (PRAGMA data_version).
//
// Only the committer reads and fills it; DeleteDomain, on another goroutine
// but while it holds the one writer connection, moves gen.
type writerTypes struct {
	gen   atomic.Uint64
	mu    sync.Mutex
	types map[[2]string]cachedType // (domain, name) -> type

	// dataVersion is the writer connection's PRAGMA data_version when the
	// last group began (the committer's).
	dataVersion int64
}

// cachedType is an object type as read at a generation.
type cachedType struct {
	gen uint64
	ot  *profiles.ObjectType
}

func newWriterTypes() *writerTypes {
	return &writerTypes{types: map[[2]string]cachedType{}}
}

// get returns a copy of the remembered type, or nil.
func (c *writerTypes) get(domain, name string) *profiles.ObjectType {
	c.mu.Lock()
	e, ok := c.types[[2]string{domain, name}]
	c.mu.Unlock()
	if !ok || e.gen != c.gen.Load() {
		return nil
	}
	ot := *e.ot // Fields, Keys and Tags are shared, read only (see rowcodec.ObjectTypeCache)
	return &ot
}

// put remembers a type read at generation gen (loaded before the read).
func (c *writerTypes) put(domain, name string, gen uint64, ot *profiles.ObjectType) {
	cp := *ot
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.types) >= rowcodec.MaxCachedObjectTypes {
		clear(c.types)
	}
	c.types[[2]string{domain, name}] = cachedType{gen: gen, ot: &cp}
}

// changed makes every entry stale.
func (c *writerTypes) changed() { c.gen.Add(1) }

// beginGroup makes every entry stale if another connection has committed
// since the last group; stx is the group's transaction.
func (c *writerTypes) beginGroup(ctx context.Context, stx sqlTx) error {
	var v int64
	if err := stx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	if v != c.dataVersion {
		c.dataVersion = v
		c.changed()
	}
	return nil
}

// updateGroup is what the transactions of one group of Updates share.
type updateGroup struct {
	types        *writerTypes
	typesChanged bool // an Update of the group wrote object types
}

// cachedTypes returns the writer's type cache if t may use it: t is in a
// group of the committer that has not changed object types.
func (t *tx) cachedTypes() *writerTypes {
	if t.group == nil || t.group.typesChanged {
		return nil
	}
	return t.group.types
}

// typesChanged notes that t wrote object types (see writerTypes).
func (t *tx) typesChanged() {
	if t.group != nil {
		t.group.typesChanged = true
		t.group.types.changed()
	}
}
