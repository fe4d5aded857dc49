package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.DeadLetterCopyStore = (*DB)(nil)

// The whole copies of cut dead letters live in the table of migration
// 0014. Writes are write transactions on the writer connection, reads run
// on the reader pool. Deleting a domain deletes its copies (PurgeDomain's
// copies' page; ON DELETE CASCADE for any left).

// PutDeadLetterCopy stores c, replacing the domain's copy of that name;
// see profiles.DeadLetterCopyStore. Returns ENOTFOUND for a missing domain.
func (db *DB) PutDeadLetterCopy(ctx context.Context, c *profiles.DeadLetterCopy) error {
	const op = "put dead-letter copy"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := domainExists(ctx, tx, c.DomainName); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", c.DomainName)
	}
	created := stamp(c.CreatedAt, db.now().UnixMilli())
	if _, err := tx.ExecContext(ctx, `INSERT INTO dead_letter_copies (domain, name, created_at, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (domain, name) DO UPDATE SET created_at = excluded.created_at, data = excluded.data`,
		c.DomainName, c.Name, created, nonNil(c.Data)); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	c.CreatedAt = time.UnixMilli(created).UTC()
	return nil
}

// FindDeadLetterCopy returns a domain's copy. Returns ENOTFOUND.
func (db *DB) FindDeadLetterCopy(ctx context.Context, domain, name string) (*profiles.DeadLetterCopy, error) {
	c := &profiles.DeadLetterCopy{DomainName: domain, Name: name}
	var created int64
	err := db.rdb.QueryRowContext(ctx, `SELECT created_at, data FROM dead_letter_copies WHERE domain = ? AND name = ?`,
		domain, name).Scan(&created, &c.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, deadLetterCopyNotFound(domain, name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find dead-letter copy: %w", err)
	}
	c.CreatedAt = time.UnixMilli(created).UTC()
	return c, nil
}

// DeleteDeadLetterCopy deletes a domain's copy. Returns ENOTFOUND.
func (db *DB) DeleteDeadLetterCopy(ctx context.Context, domain, name string) error {
	const op = "delete dead-letter copy"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM dead_letter_copies WHERE domain = ? AND name = ?`, domain, name)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		return deadLetterCopyNotFound(domain, name)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// DeleteDeadLetterCopiesBefore deletes up to limit copies (<= 0: all)
// created before before, the oldest first, in one write transaction.
func (db *DB) DeleteDeadLetterCopiesBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "delete dead-letter copies"
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM dead_letter_copies WHERE rowid IN
		(SELECT rowid FROM dead_letter_copies WHERE created_at < ? ORDER BY created_at LIMIT ?)`, before.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return int(n), nil
}

func deadLetterCopyNotFound(domain, name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "dead-letter copy %q of domain %q not found", name, domain)
}
