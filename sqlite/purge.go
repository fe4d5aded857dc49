package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// Deleting a domain marks its row (deleting_at) in one short transaction,
// after which the store treats the domain as missing, then deletes what it
// holds a page a transaction (PurgeDomain), its row last. One transaction
// for the whole cascade held the one writer connection for as long as it
// took: minutes for a domain of a million profiles, during which no other
// domain could write. Between pages every other writer gets its turn.
//
// A page's position (DomainPurge.After) is a phase letter and, for the
// profiles, the last profile id deleted:
//
//	p<id>  profiles after id, with their objects, keys, history, buckets
//	h      the history of profiles no longer there
//	s      stream events (their data goes with them)
//	c      dead-letter copies (large rows: a tenth of the page)
//	r      configs, then the domain's row with what is left
const (
	purgeProfiles = 'p'
	purgeHistory  = 'h'
	purgeEvents   = 's'
	purgeCopies   = 'c'
	purgeRest     = 'r'
)

// DefaultPurgePage is the page DeleteDomain purges a domain by: profiles,
// with their objects and keys, or rows of the other tables.
const DefaultPurgePage = 200

// MarkDomainDeleting marks the named domain as being deleted, with a purge
// lease until leaseUntil. Returns ENOTFOUND.
func (db *DB) MarkDomainDeleting(ctx context.Context, name string, leaseUntil time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: mark domain deleting: %w", err)
	}
	defer tx.Rollback()
	// Its object types are gone: the committer must not remember them.
	// This transaction holds the one writer connection, so no group is
	// reading the cache meanwhile.
	db.wtypes.changed()
	res, err := tx.ExecContext(ctx, `UPDATE domains SET deleting_at = ?, purge_until = ?
		WHERE name = ? AND deleting_at = 0`, db.now().UnixMilli(), millisOrZero(leaseUntil), name)
	if err != nil {
		return fmt.Errorf("sqlite: mark domain deleting: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: mark domain deleting: %w", err)
	} else if n == 0 {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	// Its object types (a few) go at once: the reads that tell a missing
	// domain by finding nothing (a search reads the types first) find it
	// missing, and no ingestion finds a type.
	if _, err := tx.ExecContext(ctx, `DELETE FROM object_types WHERE domain = ?`, name); err != nil {
		return fmt.Errorf("sqlite: mark domain deleting: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: mark domain deleting: %w", err)
	}
	return nil
}

// LeaseDomainPurge takes the purge of a domain being deleted until until,
// if its lease is held or has run out. Returns ENOTFOUND.
func (db *DB) LeaseDomainPurge(ctx context.Context, name string, held, until time.Time) (bool, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlite: lease domain purge: %w", err)
	}
	defer tx.Rollback()
	var lease int64
	err = tx.QueryRowContext(ctx, `SELECT purge_until FROM domains WHERE name = ? AND deleting_at > 0`, name).Scan(&lease)
	if errors.Is(err, sql.ErrNoRows) {
		return false, profiles.Errorf(profiles.ENOTFOUND, "no domain %q is being deleted", name)
	} else if err != nil {
		return false, fmt.Errorf("sqlite: lease domain purge: %w", err)
	}
	if lease != millisOrZero(held) && lease > db.now().UnixMilli() {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE domains SET purge_until = ? WHERE name = ?`, millisOrZero(until), name); err != nil {
		return false, fmt.Errorf("sqlite: lease domain purge: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return false, fmt.Errorf("sqlite: lease domain purge: %w", err)
	}
	return true, nil
}

// DeletingDomains returns the domains being deleted, in name order.
func (db *DB) DeletingDomains(ctx context.Context) ([]profiles.DeletingDomain, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT name, deleting_at, purge_until FROM domains
		WHERE deleting_at > 0 ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deleting domains: %w", err)
	}
	defer rows.Close()
	var ds []profiles.DeletingDomain
	for rows.Next() {
		var d profiles.DeletingDomain
		var at, until int64
		if err := rows.Scan(&d.Name, &at, &until); err != nil {
			return nil, fmt.Errorf("sqlite: deleting domains: %w", err)
		}
		d.DeletingAt = fromMillis(at)
		if until > 0 {
			d.PurgeUntil = fromMillis(until)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: deleting domains: %w", err)
	}
	return ds, nil
}

// PurgeDomain deletes one page of what a domain being deleted holds, in
// one transaction, from after on. Returns ENOTFOUND.
func (db *DB) PurgeDomain(ctx context.Context, name, after string, limit int) (profiles.DomainPurge, error) {
	if limit <= 0 {
		limit = DefaultPurgePage
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return profiles.DomainPurge{}, fmt.Errorf("sqlite: purge domain: %w", err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM domains WHERE name = ? AND deleting_at > 0`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return profiles.DomainPurge{}, profiles.Errorf(profiles.ENOTFOUND, "no domain %q is being deleted", name)
	} else if err != nil {
		return profiles.DomainPurge{}, fmt.Errorf("sqlite: purge domain: %w", err)
	}
	p, err := db.purgePage(ctx, tx, name, after, limit)
	if err != nil {
		return profiles.DomainPurge{}, fmt.Errorf("sqlite: purge domain: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return profiles.DomainPurge{}, fmt.Errorf("sqlite: purge domain: %w", err)
	}
	return p, nil
}

// purgePage deletes the page of the domain's rows at after: the rows of
// the first phase from there that has any left.
func (db *DB) purgePage(ctx context.Context, tx *sql.Tx, name, after string, limit int) (profiles.DomainPurge, error) {
	phase, key := byte(purgeProfiles), ""
	if after != "" {
		phase, key = after[0], after[1:]
	}
	var p profiles.DomainPurge
	del := func(query string, args ...any) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		p.Rows += int(n)
		return err
	}
	switch phase {
	case purgeProfiles:
		// The page's profiles by id; the rows of the other tables by the
		// same range of profile ids (their indexes begin with it), so
		// that history left by profiles no longer there goes too.
		var max sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM (SELECT id FROM profiles
			WHERE domain = ? AND id > ? ORDER BY id LIMIT ?)`, name, key, limit).Scan(&max); err != nil {
			return p, err
		}
		if !max.Valid {
			return db.purgePage(ctx, tx, name, string(purgeHistory)+key, limit)
		}
		last := max.String
		for _, table := range []string{"objects", "keys", "history", "ingest_buckets"} {
			if err := del(`DELETE FROM `+table+` WHERE domain = ? AND profile_id > ? AND profile_id <= ?`, name, key, last); err != nil {
				return p, err
			}
		}
		if err := del(`DELETE FROM profiles WHERE domain = ? AND id > ? AND id <= ?`, name, key, last); err != nil {
			return p, err
		}
		p.After = string(purgeProfiles) + last
		return p, nil
	case purgeHistory:
		// History beyond the last profile (of profiles merged or deleted).
		if err := del(`DELETE FROM history WHERE rowid IN (SELECT rowid FROM history
			WHERE domain = ? AND profile_id > ? LIMIT ?)`, name, key, limit); err != nil {
			return p, err
		}
		return db.nextPhase(ctx, tx, name, p, limit, purgeHistory, purgeEvents, key)
	case purgeEvents:
		if err := del(`DELETE FROM stream_events WHERE seq IN (SELECT seq FROM stream_events
			WHERE domain = ? LIMIT ?)`, name, limit); err != nil {
			return p, err
		}
		return db.nextPhase(ctx, tx, name, p, limit, purgeEvents, purgeCopies, "")
	case purgeCopies:
		if err := del(`DELETE FROM dead_letter_copies WHERE rowid IN (SELECT rowid FROM dead_letter_copies
			WHERE domain = ? LIMIT ?)`, name, copiesPage(limit)); err != nil {
			return p, err
		}
		return db.nextPhase(ctx, tx, name, p, copiesPage(limit), purgeCopies, purgeRest, "")
	case purgeRest:
		if err := del(`DELETE FROM configs WHERE (kind, name) IN (SELECT kind, name FROM configs
			WHERE domain = ? LIMIT ?) AND domain = ?`, name, limit, name); err != nil {
			return p, err
		}
		if p.Rows >= limit {
			p.After = string(purgeRest)
			return p, nil
		}
		// The last page: the domain's row, and by its cascade its types,
		// integrations, stream claims and whatever a write racing the
		// mark added meanwhile.
		db.wtypes.changed()
		if err := del(`DELETE FROM domains WHERE name = ?`, name); err != nil {
			return p, err
		}
		p.Done = true
		return p, nil
	}
	return p, fmt.Errorf("bad purge position %q", strings.ToValidUTF8(after, "?"))
}

// nextPhase ends a page of phase: the page is full (its phase goes on), or
// the phase is over, and the page is the next phase's first.
func (db *DB) nextPhase(ctx context.Context, tx *sql.Tx, name string, p profiles.DomainPurge, limit int, phase, next byte, key string) (profiles.DomainPurge, error) {
	if p.Rows >= limit {
		p.After = string(phase) + key
		return p, nil
	}
	if p.Rows > 0 {
		p.After = string(next)
		return p, nil
	}
	return db.purgePage(ctx, tx, name, string(next), limit)
}

// copiesPage is how many dead-letter copies a page deletes: each is more
// than 256 KiB.
func copiesPage(limit int) int {
	return max(1, limit/10)
}

// millisOrZero returns the unix milliseconds of t, 0 for the zero time.
func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
