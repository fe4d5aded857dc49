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

// CreateDomain inserts d. Zero CreatedAt and LastUpdatedAt are set to the
// current time; on success d holds the times as stored (milliseconds, UTC).
// Returns ECONFLICT if the name is taken and EQUOTA if the database holds
// limit domains already (limit <= 0: no limit). With a limit, the
// transaction first locks the domains table against other writers of
// domains (not against readers, nor against writers of profile data), so
// that the count and the insert are atomic across nodes without retries.
func (db *DB) CreateDomain(ctx context.Context, d *profiles.Domain, limit int) error {
	var created, updated time.Time
	err := db.serializable(ctx, "create domain", func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx}
		var err error
		created, updated, err = t.createDomain(ctx, d, limit, fromMillis(now))
		return t, err
	})
	if err != nil {
		return err
	}
	d.CreatedAt, d.LastUpdatedAt = created, updated
	return nil
}

// FindDomain returns the named domain. Returns ENOTFOUND.
func (db *DB) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	return findDomainByName(ctx, db.pool, name, "")
}

// UpdateDomain reads the named domain, calls fn on it and stores the
// result, in one transaction that locks the domain's row from the read on
// (SELECT … FOR UPDATE, at READ COMMITTED), so concurrent updates, from any
// node, wait for each other and never lose each other's changes, and fn
// runs once. fn's error is returned as is. fn must not change the name
// (EINVALID). Timestamps are stored as fn leaves them. fn runs while the
// row is locked: it must be quick and must not call the DB. Returns
// ENOTFOUND.
func (db *DB) UpdateDomain(ctx context.Context, name string, fn func(*profiles.Domain) error) (*profiles.Domain, error) {
	var d *profiles.Domain
	err := db.retry(ctx, "update domain", pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, _ int64) (*tx, error) {
		t := &tx{ptx: ptx}
		var err error
		d, err = t.updateDomain(ctx, name, fn)
		return t, err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// DeleteDomain marks the named domain as being deleted, then purges it,
// a page a transaction, until it is gone (purge.go). One DELETE whose
// cascade removed the whole domain was bounded by the statement timeout: a
// large domain could not be deleted. Returns ENOTFOUND.
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
	rows, err := db.pool.Query(ctx, `SELECT `+domainColumns+` FROM domains
		WHERE name > $1 AND deleting_at = 0 ORDER BY name LIMIT $2::bigint`, after, limitOrAll(limit))
	if err != nil {
		return nil, wrap("list domains", err)
	}
	defer rows.Close()
	var ds []*profiles.Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, wrap("list domains", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list domains", err)
	}
	return ds, nil
}

// DomainStats counts what the named domain holds, leaving out objects
// expired by the store's clock, in one statement (one snapshot).
// TotalSize is the bytes of the data of its live objects plus the bytes of
// the field names and values of its profiles. MeteringProfileCount counts
// each profile as max(1, ⌈live objects/100⌉) profiles: 1 for 0–100
// objects, 2 for 101–200, 3 for 201–300. Returns ENOTFOUND.
func (db *DB) DomainStats(ctx context.Context, name string) (*profiles.DomainStats, error) {
	var st profiles.DomainStats
	var exists bool
	var profileBytes, extra int64
	if err := db.pool.QueryRow(ctx, domainStatsSQL, name, db.now().UnixMilli()).Scan(
		&exists, &st.ProfileCount, &profileBytes, &st.ObjectCount, &st.TotalSize, &extra); err != nil {
		return nil, wrap("domain stats", err)
	}
	if !exists {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	st.TotalSize += profileBytes
	st.MeteringProfileCount = st.ProfileCount + extra
	return &st, nil
}

// domainStatsSQL reads whether domain $1 exists, its profiles and their
// bytes, and its objects live at $2, their bytes and the metered profiles
// beyond one per profile: ⌈n/100⌉ - 1 for a profile of n > 100 objects.
var domainStatsSQL = `SELECT
		EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0),
		p.n, p.bytes, o.n, o.bytes, o.extra
	FROM (SELECT count(*) AS n, COALESCE(sum(size), 0)::bigint AS bytes FROM profiles WHERE domain = $1) p,
		(SELECT COALESCE(sum(n), 0)::bigint AS n, COALESCE(sum(bytes), 0)::bigint AS bytes,
				COALESCE(sum(CASE WHEN n > 100 THEN (n - 1) / 100 ELSE 0 END), 0)::bigint AS extra
			FROM (SELECT count(*) AS n, sum(o.size) AS bytes FROM objects o
				WHERE o.domain = $1 AND ` + liveObject(2) + ` GROUP BY o.profile_id) per_profile) o`

// domainColumns are the columns scanDomain reads, in order.
const domainColumns = `name, default_expiration_days, default_encryption_key, dead_letter_queue_url,
	settings, tags, created_at, updated_at`

// createDomain inserts d unless the name is taken or the quota reached, and
// returns the times stored.
func (t *tx) createDomain(ctx context.Context, d *profiles.Domain, limit int, now time.Time) (created, updated time.Time, err error) {
	if limit > 0 {
		// Before any query: the transaction's snapshot then comes after the
		// lock, and sees every domain committed before.
		if _, err := t.ptx.Exec(ctx, `LOCK TABLE domains IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return created, updated, t.wrap("create domain", err)
		}
	}
	var deleting int64
	switch err := t.ptx.QueryRow(ctx, `SELECT deleting_at FROM domains WHERE name = $1`, d.Name).Scan(&deleting); {
	case err == nil && deleting > 0:
		return created, updated, profiles.Errorf(profiles.ECONFLICT, "domain %q is being deleted", d.Name)
	case err == nil:
		return created, updated, profiles.Errorf(profiles.ECONFLICT, "domain %q already exists", d.Name)
	case !errors.Is(err, pgx.ErrNoRows):
		return created, updated, t.wrap("create domain", err)
	}
	if limit > 0 {
		var n int
		if err := t.ptx.QueryRow(ctx, `SELECT count(*) FROM domains WHERE deleting_at = 0`).Scan(&n); err != nil {
			return created, updated, t.wrap("create domain", err)
		} else if n >= limit {
			return created, updated, profiles.Errorf(profiles.EQUOTA, "the maximum of %d domains has been reached", limit)
		}
	}

	created, updated = d.CreatedAt, d.LastUpdatedAt
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = created
	}
	settings, err := rowcodec.EncodeSettings(d)
	if err != nil {
		return created, updated, fmt.Errorf("postgres: create domain: %w", err)
	}
	tags, err := rowcodec.EncodeTags(d.Tags)
	if err != nil {
		return created, updated, fmt.Errorf("postgres: create domain: %w", err)
	}
	if _, err := t.ptx.Exec(ctx, `INSERT INTO domains (`+domainColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.Name, d.DefaultExpirationDays, d.DefaultEncryptionKey, d.DeadLetterQueueURL,
		settings, tags, created.UnixMilli(), updated.UnixMilli(),
	); isUniqueViolation(err) {
		return created, updated, profiles.Errorf(profiles.ECONFLICT, "domain %q already exists", d.Name)
	} else if err != nil {
		return created, updated, t.wrap("create domain", err)
	}
	return fromMillis(created.UnixMilli()), fromMillis(updated.UnixMilli()), nil
}

// querier runs queries: a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// domainExists reports whether the named domain exists (and is not being
// deleted).
func domainExists(ctx context.Context, q querier, name string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)`, name).Scan(&ok)
	return ok, err
}

// findDomainByName returns the named domain, with the row locking clause
// lock (e.g. "FOR UPDATE") if not "". Returns ENOTFOUND (also for a domain
// being deleted).
func findDomainByName(ctx context.Context, q querier, name, lock string) (*profiles.Domain, error) {
	row := q.QueryRow(ctx, `SELECT `+domainColumns+` FROM domains WHERE name = $1 AND deleting_at = 0 `+lock, name)
	d, err := scanDomain(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	} else if err != nil {
		return nil, wrap("find domain", err)
	}
	return d, nil
}

// updateDomain applies fn to the named domain, locked, and stores the result.
func (t *tx) updateDomain(ctx context.Context, name string, fn func(*profiles.Domain) error) (*profiles.Domain, error) {
	d, err := findDomainByName(ctx, t.ptx, name, "FOR UPDATE")
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
		return nil, fmt.Errorf("postgres: update domain: %w", err)
	}
	tags, err := rowcodec.EncodeTags(d.Tags)
	if err != nil {
		return nil, fmt.Errorf("postgres: update domain: %w", err)
	}
	// RETURNING gives what a FindDomain would: times truncated, empty tags as nil.
	row := t.ptx.QueryRow(ctx, `UPDATE domains SET
			default_expiration_days = $1, default_encryption_key = $2, dead_letter_queue_url = $3,
			settings = $4, tags = $5, created_at = $6, updated_at = $7
		WHERE name = $8
		RETURNING `+domainColumns,
		d.DefaultExpirationDays, d.DefaultEncryptionKey, d.DeadLetterQueueURL,
		settings, tags, d.CreatedAt.UnixMilli(), d.LastUpdatedAt.UnixMilli(),
		name,
	)
	if d, err = scanDomain(row); err != nil {
		return nil, t.wrap("update domain", err)
	}
	return d, nil
}

// scanDomain reads the domainColumns of one row.
func scanDomain(row pgx.Row) (*profiles.Domain, error) {
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
