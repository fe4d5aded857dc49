package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

// Deleting a domain marks its row (deleting_at) in one short statement,
// after which the store treats the domain as missing, then deletes what it
// holds a page a transaction (PurgeDomain), its row last; each statement
// is short, well within the statement timeout. The pages run at READ
// COMMITTED: they touch only the rows of a domain no request reaches, and
// so take no part in the serializable transactions of the other domains.
//
// A page's position (DomainPurge.After) is a phase letter and, for the
// profiles, the last profile id deleted (the profiles are read in key
// order from there, not from the start, whose index entries are dead rows
// until a vacuum):
//
//	p<id>  profiles after id, with their objects, keys, history, buckets
//	h<id>  the history of profiles no longer there, after the last profile
//	s      stream events
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
	// Its object types (a few) go at once, in the same statement: the
	// reads that tell a missing domain by finding nothing (a search reads
	// the types first) find it missing, and no ingestion finds a type.
	var marked bool
	err := db.pool.QueryRow(ctx, `WITH marked AS (
			UPDATE domains SET deleting_at = $2, purge_until = $3
			WHERE name = $1 AND deleting_at = 0 RETURNING name),
		types AS (DELETE FROM object_types WHERE domain = (SELECT name FROM marked))
		SELECT EXISTS (SELECT 1 FROM marked)`, name, db.now().UnixMilli(), millisOrZero(leaseUntil)).Scan(&marked)
	if err != nil {
		return wrap("mark domain deleting", err)
	} else if !marked {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	return nil
}

// LeaseDomainPurge takes the purge of a domain being deleted until until,
// if its lease is held or has run out, in one statement. Returns
// ENOTFOUND.
func (db *DB) LeaseDomainPurge(ctx context.Context, name string, held, until time.Time) (bool, error) {
	var taken, marked bool
	err := db.pool.QueryRow(ctx, `WITH taken AS (
			UPDATE domains SET purge_until = $4
			WHERE name = $1 AND deleting_at > 0 AND (purge_until = $2 OR purge_until <= $3)
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM taken), EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at > 0)`,
		name, millisOrZero(held), db.now().UnixMilli(), millisOrZero(until)).Scan(&taken, &marked)
	if err != nil {
		return false, wrap("lease domain purge", err)
	}
	if !marked && !taken {
		return false, profiles.Errorf(profiles.ENOTFOUND, "no domain %q is being deleted", name)
	}
	return taken, nil
}

// DeletingDomains returns the domains being deleted, in name order.
func (db *DB) DeletingDomains(ctx context.Context) ([]profiles.DeletingDomain, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, deleting_at, purge_until FROM domains
		WHERE deleting_at > 0 ORDER BY name`)
	if err != nil {
		return nil, wrap("deleting domains", err)
	}
	defer rows.Close()
	var ds []profiles.DeletingDomain
	for rows.Next() {
		var d profiles.DeletingDomain
		var at, until int64
		if err := rows.Scan(&d.Name, &at, &until); err != nil {
			return nil, wrap("deleting domains", err)
		}
		d.DeletingAt = fromMillis(at)
		if until > 0 {
			d.PurgeUntil = fromMillis(until)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("deleting domains", err)
	}
	return ds, nil
}

// PurgeDomain deletes one page of what a domain being deleted holds, in
// one transaction, from after on. Returns ENOTFOUND.
func (db *DB) PurgeDomain(ctx context.Context, name, after string, limit int) (profiles.DomainPurge, error) {
	if limit <= 0 {
		limit = DefaultPurgePage
	}
	var p profiles.DomainPurge
	err := db.retry(ctx, "purge domain", pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, _ int64) (*tx, error) {
		var one int
		err := ptx.QueryRow(ctx, `SELECT 1 FROM domains WHERE name = $1 AND deleting_at > 0`, name).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, profiles.Errorf(profiles.ENOTFOUND, "no domain %q is being deleted", name)
		} else if err != nil {
			return nil, wrap("purge domain", err)
		}
		p = profiles.DomainPurge{}
		if err := purgePage(ctx, ptx, &p, name, after, limit); err != nil {
			return nil, wrap("purge domain", err)
		}
		return nil, nil
	})
	if err != nil {
		return profiles.DomainPurge{}, err
	}
	return p, nil
}

// purgePage deletes the page of the domain's rows at after: the rows of
// the first phase from there that has any left.
func purgePage(ctx context.Context, ptx pgx.Tx, p *profiles.DomainPurge, name, after string, limit int) error {
	phase, key := byte(purgeProfiles), ""
	if after != "" {
		phase, key = after[0], after[1:]
	}
	del := func(query string, args ...any) (int, error) {
		tag, err := ptx.Exec(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		p.Rows += int(tag.RowsAffected())
		return int(tag.RowsAffected()), nil
	}
	// next ends a page of phase that deleted n of at most max rows: the
	// page is full (its phase goes on), or the phase is over, and the
	// page is the next phase's first when it deleted none.
	next := func(n, max int, phase, to byte, key string) error {
		switch {
		case n >= max:
			p.After = string(phase) + key
		case n > 0:
			p.After = string(to)
		default:
			return purgePage(ctx, ptx, p, name, string(to), limit)
		}
		return nil
	}
	switch phase {
	case purgeProfiles:
		// The page's profiles by id; the rows of the other tables by the
		// same range of profile ids (their indexes begin with it), so
		// that history left by profiles no longer there goes too.
		var last *string
		if err := ptx.QueryRow(ctx, `SELECT max(id) FROM (SELECT id FROM profiles
			WHERE domain = $1 AND id > $2 ORDER BY id LIMIT $3) page`, name, key, limit).Scan(&last); err != nil {
			return err
		}
		if last == nil {
			return purgePage(ctx, ptx, p, name, string(purgeHistory)+key, limit)
		}
		for _, table := range []string{"objects", "keys", "history", "ingest_buckets"} {
			if _, err := del(`DELETE FROM `+table+` WHERE domain = $1 AND profile_id > $2 AND profile_id <= $3`, name, key, *last); err != nil {
				return err
			}
		}
		if _, err := del(`DELETE FROM profiles WHERE domain = $1 AND id > $2 AND id <= $3`, name, key, *last); err != nil {
			return err
		}
		p.After = string(purgeProfiles) + *last
		return nil
	case purgeHistory:
		// History beyond the last profile (of profiles merged or deleted).
		n, err := del(`DELETE FROM history WHERE (domain, profile_id, id) IN (SELECT domain, profile_id, id FROM history
			WHERE domain = $1 AND profile_id > $2 ORDER BY profile_id, id LIMIT $3)`, name, key, limit)
		if err != nil {
			return err
		}
		return next(n, limit, purgeHistory, purgeEvents, key)
	case purgeEvents:
		n, err := del(`DELETE FROM stream_events WHERE seq IN (SELECT seq FROM stream_events
			WHERE domain = $1 LIMIT $2)`, name, limit)
		if err != nil {
			return err
		}
		return next(n, limit, purgeEvents, purgeCopies, "")
	case purgeCopies:
		n, err := del(`DELETE FROM dead_letter_copies WHERE domain = $1 AND name IN (SELECT name FROM dead_letter_copies
			WHERE domain = $1 LIMIT $2)`, name, copiesPage(limit))
		if err != nil {
			return err
		}
		return next(n, copiesPage(limit), purgeCopies, purgeRest, "")
	case purgeRest:
		n, err := del(`DELETE FROM configs WHERE domain = $1 AND (kind, name) IN (SELECT kind, name FROM configs
			WHERE domain = $1 LIMIT $2)`, name, limit)
		if err != nil {
			return err
		}
		if n >= limit {
			p.After = string(purgeRest)
			return nil
		}
		// The last page: the domain's row, and by its cascade its types,
		// integrations, stream claims and whatever a write racing the
		// mark added meanwhile.
		if _, err := del(`DELETE FROM domains WHERE name = $1`, name); err != nil {
			return err
		}
		p.Done = true
		return nil
	}
	return fmt.Errorf("bad purge position %q", strings.ToValidUTF8(after, "?"))
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
