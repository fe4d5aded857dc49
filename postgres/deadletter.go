package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

var _ profiles.DeadLetterCopyStore = (*DB)(nil)

// The whole copies of cut dead letters live in the table of migration
// 0014. Every method is one statement (its own transaction). A put
// inserts only into a domain that is there and not being deleted (marked),
// else it fails with ENOTFOUND, as the other stores' puts do. Its insert
// takes a key-share lock of its domain's row through the foreign key: a
// put racing the mark (its snapshot taken before) still lands, and the
// purge removes it (its copies' page, or the cascade of the domain's row);
// one racing the purge's delete of the row fails with ENOTFOUND.

// deleteDeadLetterCopiesSQL deletes up to $2 copies (NULL: all) created
// before $1, the oldest first (TestQueryPlans checks its plan).
const deleteDeadLetterCopiesSQL = `DELETE FROM dead_letter_copies WHERE (domain, name) IN
	(SELECT domain, name FROM dead_letter_copies WHERE created_at < $1 ORDER BY created_at LIMIT $2::bigint)`

// PutDeadLetterCopy stores c, replacing the domain's copy of that name;
// see profiles.DeadLetterCopyStore. Returns ENOTFOUND for a missing domain.
func (db *DB) PutDeadLetterCopy(ctx context.Context, c *profiles.DeadLetterCopy) error {
	created := stamp(c.CreatedAt, db.now().UnixMilli())
	tag, err := db.pool.Exec(ctx, `INSERT INTO dead_letter_copies (domain, name, created_at, data)
		SELECT $1, $2, $3::bigint, $4::bytea WHERE EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)
		ON CONFLICT (domain, name) DO UPDATE SET created_at = excluded.created_at, data = excluded.data`,
		c.DomainName, c.Name, created, kmsMaterial(c.Data))
	if isForeignKeyViolation(err) || err == nil && tag.RowsAffected() == 0 {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", c.DomainName)
	} else if err != nil {
		return wrap("put dead-letter copy", err)
	}
	c.CreatedAt = fromMillis(created)
	return nil
}

// FindDeadLetterCopy returns a domain's copy. Returns ENOTFOUND.
func (db *DB) FindDeadLetterCopy(ctx context.Context, domain, name string) (*profiles.DeadLetterCopy, error) {
	c := &profiles.DeadLetterCopy{DomainName: domain, Name: name}
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT created_at, data FROM dead_letter_copies WHERE domain = $1 AND name = $2`,
		domain, name).Scan(&created, &c.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, deadLetterCopyNotFound(domain, name)
	} else if err != nil {
		return nil, wrap("find dead-letter copy", err)
	}
	c.CreatedAt = fromMillis(created)
	return c, nil
}

// DeleteDeadLetterCopy deletes a domain's copy. Returns ENOTFOUND.
func (db *DB) DeleteDeadLetterCopy(ctx context.Context, domain, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM dead_letter_copies WHERE domain = $1 AND name = $2`, domain, name)
	if err != nil {
		return wrap("delete dead-letter copy", err)
	} else if tag.RowsAffected() == 0 {
		return deadLetterCopyNotFound(domain, name)
	}
	return nil
}

// DeleteDeadLetterCopiesBefore deletes up to limit copies (<= 0: all)
// created before before, the oldest first.
func (db *DB) DeleteDeadLetterCopiesBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := db.pool.Exec(ctx, deleteDeadLetterCopiesSQL, before.UnixMilli(), limitOrAll(limit))
	if err != nil {
		return 0, wrap("delete dead-letter copies", err)
	}
	return int(tag.RowsAffected()), nil
}

func deadLetterCopyNotFound(domain, name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "dead-letter copy %q of domain %q not found", name, domain)
}
