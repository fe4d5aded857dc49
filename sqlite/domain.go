package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// CreateDomain inserts d. Zero CreatedAt and LastUpdatedAt are set to the
// current time; on success d holds the times as stored (milliseconds, UTC).
// Returns ECONFLICT if the name is taken and EQUOTA if the database holds
// limit domains already (limit <= 0: no limit).
func (db *DB) CreateDomain(ctx context.Context, d *profiles.Domain, limit int) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create domain: %w", err)
	}
	defer tx.Rollback()

	if err := createDomain(ctx, tx, d, limit, db.now()); err != nil {
		return err
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: create domain: %w", err)
	}
	return nil
}

// FindDomain returns the named domain. Returns ENOTFOUND. Each request
// asks for its domain (often twice: its tags authorise it), so this is one
// prepared statement, which needs no transaction to read one row.
func (db *DB) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	return findDomainByName(ctx, preparedDB{db.rdb, db.rstmts}, name)
}

// UpdateDomain reads the named domain, calls fn on it and stores the
// result, in one transaction that holds the write lock throughout, so
// concurrent updates never lose each other's changes. fn's error is
// returned as is. fn must not change the name (EINVALID). Timestamps are
// stored as fn leaves them. fn runs while this DB's one writer connection is
// taken: it must be quick and must not call the DB. Returns ENOTFOUND.
func (db *DB) UpdateDomain(ctx context.Context, name string, fn func(*profiles.Domain) error) (*profiles.Domain, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update domain: %w", err)
	}
	defer tx.Rollback()

	d, err := updateDomain(ctx, tx, name, fn)
	if err != nil {
		return nil, err
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: update domain: %w", err)
	}
	return d, nil
}

// DeleteDomain marks the named domain as being deleted, then purges it,
// a page a transaction, until it is gone (purge.go). Returns ENOTFOUND.
func (db *DB) DeleteDomain(ctx context.Context, name string) error {
	if err := db.MarkDomainDeleting(ctx, name, time.Time{}); err != nil {
		return err
	}
	for after := ""; ; {
		p, err := db.PurgeDomain(ctx, name, after, DefaultPurgePage)
		if err != nil {
			return err
		}
		if p.Done {
			return nil
		}
		after = p.After
	}
}

// ListDomains returns up to limit domains (limit <= 0: all) whose names
// sort after after, in byte order of their names.
func (db *DB) ListDomains(ctx context.Context, after string, limit int) ([]*profiles.Domain, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list domains: %w", err)
	}
	defer tx.Rollback()
	return listDomains(ctx, tx, after, limit)
}

// DomainStats counts what the named domain holds. Returns ENOTFOUND.
func (db *DB) DomainStats(ctx context.Context, name string) (*profiles.DomainStats, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: domain stats: %w", err)
	}
	defer tx.Rollback()
	return domainStats(ctx, tx, name, db.now().UnixMilli())
}

// domainColumns are the columns scanDomain reads, in order.
const domainColumns = `name, default_expiration_days, default_encryption_key, dead_letter_queue_url,
	settings, tags, created_at, updated_at`

// createDomain inserts d unless the name is taken or the quota reached.
// Inside a write transaction the checks and the insert are atomic.
func createDomain(ctx context.Context, tx *sql.Tx, d *profiles.Domain, limit int, now time.Time) error {
	var deleting int64
	switch err := tx.QueryRowContext(ctx, `SELECT deleting_at FROM domains WHERE name = ?`, d.Name).Scan(&deleting); {
	case err == nil && deleting > 0:
		return profiles.Errorf(profiles.ECONFLICT, "domain %q is being deleted", d.Name)
	case err == nil:
		return profiles.Errorf(profiles.ECONFLICT, "domain %q already exists", d.Name)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: create domain: %w", err)
	}
	if limit > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE deleting_at = 0`).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: create domain: %w", err)
		} else if n >= limit {
			return profiles.Errorf(profiles.EQUOTA, "the maximum of %d domains has been reached", limit)
		}
	}

	created, updated := d.CreatedAt, d.LastUpdatedAt
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = created
	}
	settings, err := rowcodec.EncodeSettings(d)
	if err != nil {
		return fmt.Errorf("sqlite: create domain: %w", err)
	}
	tags, err := rowcodec.EncodeTags(d.Tags)
	if err != nil {
		return fmt.Errorf("sqlite: create domain: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO domains (`+domainColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Name, d.DefaultExpirationDays, d.DefaultEncryptionKey, d.DeadLetterQueueURL,
		settings, tags, created.UnixMilli(), updated.UnixMilli(),
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "domain %q already exists", d.Name)
	} else if err != nil {
		return fmt.Errorf("sqlite: create domain: %w", err)
	}
	d.CreatedAt, d.LastUpdatedAt = fromMillis(created.UnixMilli()), fromMillis(updated.UnixMilli())
	return nil
}

// domainExists reports whether the named domain exists (and is not being
// deleted).
func domainExists(ctx context.Context, tx queryRower, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM domains WHERE name = ? AND deleting_at = 0`, name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// findDomainByName returns the named domain. Returns ENOTFOUND (also for a
// domain being deleted).
func findDomainByName(ctx context.Context, tx queryRower, name string) (*profiles.Domain, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE name = ? AND deleting_at = 0`, name)
	d, err := scanDomain(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find domain: %w", err)
	}
	return d, nil
}

// updateDomain applies fn to the named domain and stores the result.
func updateDomain(ctx context.Context, tx *sql.Tx, name string, fn func(*profiles.Domain) error) (*profiles.Domain, error) {
	d, err := findDomainByName(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if err := fn(d); err != nil {
		return nil, err
	}
	if d.Name != name {
		return nil, profiles.Errorf(profiles.EINVALID, "domain %q cannot be renamed to %q", name, d.Name)
	}

	settings, err := rowcodec.EncodeSettings(d)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update domain: %w", err)
	}
	tags, err := rowcodec.EncodeTags(d.Tags)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update domain: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE domains SET
			default_expiration_days = ?, default_encryption_key = ?, dead_letter_queue_url = ?,
			settings = ?, tags = ?, created_at = ?, updated_at = ?
		WHERE name = ?`,
		d.DefaultExpirationDays, d.DefaultEncryptionKey, d.DeadLetterQueueURL,
		settings, tags, d.CreatedAt.UnixMilli(), d.LastUpdatedAt.UnixMilli(),
		name,
	); err != nil {
		return nil, fmt.Errorf("sqlite: update domain: %w", err)
	}
	// Return what a FindDomain would: times truncated, empty tags as nil.
	return findDomainByName(ctx, tx, name)
}

// listDomains returns up to limit domains (limit <= 0: all) named after
// after, in byte order, leaving out those being deleted.
func listDomains(ctx context.Context, tx *sql.Tx, after string, limit int) ([]*profiles.Domain, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+domainColumns+` FROM domains
		WHERE name > ? AND deleting_at = 0 ORDER BY name LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list domains: %w", err)
	}
	defer rows.Close()

	var ds []*profiles.Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list domains: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list domains: %w", err)
	}
	return ds, nil
}

// domainStats counts what the named domain holds, leaving out objects
// expired at now (unix ms). TotalSize is the bytes of the data of its live
// objects plus the bytes of the field names and values of its profiles.
// MeteringProfileCount counts each profile as max(1, ⌈live objects/100⌉)
// profiles: 1 for 0–100 objects, 2 for 101–200, 3 for 201–300. The objects
// are read from the index objects_by_profile alone, one profile after the
// other.
// Returns ENOTFOUND.
func domainStats(ctx context.Context, tx *sql.Tx, name string, now int64) (*profiles.DomainStats, error) {
	if exists, err := domainExists(ctx, tx, name); err != nil {
		return nil, fmt.Errorf("sqlite: domain stats: %w", err)
	} else if !exists {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	var st profiles.DomainStats
	var profileBytes, extra int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM profiles WHERE domain = ?`,
		name).Scan(&st.ProfileCount, &profileBytes); err != nil {
		return nil, fmt.Errorf("sqlite: domain stats: %w", err)
	}
	if err := tx.QueryRowContext(ctx, objectStatsSQL, name, now).Scan(&st.ObjectCount, &st.TotalSize, &extra); err != nil {
		return nil, fmt.Errorf("sqlite: domain stats: %w", err)
	}
	st.TotalSize += profileBytes
	st.MeteringProfileCount = st.ProfileCount + extra
	return &st, nil
}

// objectStatsSQL counts the live objects of a domain, their bytes, and the
// metered profiles beyond one per profile: ⌈n/100⌉ - 1 for a profile of n >
// 100 objects. Its parameters are the domain and now.
const objectStatsSQL = `SELECT COALESCE(SUM(n), 0), COALESCE(SUM(bytes), 0),
		COALESCE(SUM(CASE WHEN n > 100 THEN (n - 1) / 100 ELSE 0 END), 0)
	FROM (SELECT COUNT(*) AS n, SUM(o.size) AS bytes FROM objects o
		WHERE o.domain = ? AND ` + liveObject + ` GROUP BY o.profile_id)`

// scanDomain reads the domainColumns of one row.
func scanDomain(row interface{ Scan(...any) error }) (*profiles.Domain, error) {
	var d profiles.Domain
	var settings, tags string
	var created, updated int64
	if err := row.Scan(&d.Name, &d.DefaultExpirationDays, &d.DefaultEncryptionKey, &d.DeadLetterQueueURL,
		&settings, &tags, &created, &updated); err != nil {
		return nil, err
	}
	if err := rowcodec.DecodeSettings(&d, settings); err != nil {
		return nil, err
	}
	var err error
	if d.Tags, err = rowcodec.DecodeTags(tags); err != nil {
		return nil, fmt.Errorf("domain %q: %w", d.Name, err)
	}
	d.CreatedAt, d.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &d, nil
}

// fromMillis returns the UTC time of unix milliseconds ms.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}
