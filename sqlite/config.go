package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.ConfigStore = (*DB)(nil)

// Domain configs live in the table of migration 0010. Every writing method
// is one write transaction on the writer connection, so CreateConfig's
// checks (domain, name, quota) and its insert are atomic with every other
// writer. Deleting a domain deletes its configs (ON DELETE CASCADE). Reads
// run on the reader pool.

const configColumns = `domain, kind, name, data, created_at, updated_at`

// CreateConfig inserts c; see profiles.ConfigStore.
func (db *DB) CreateConfig(ctx context.Context, c *profiles.DomainConfig, limit int) error {
	const op = "create config"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := domainExists(ctx, tx, c.DomainName); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return integrationDomainNotFound(c.DomainName)
	}
	var n int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM configs WHERE domain = ? AND kind = ? AND name = ?`, c.DomainName, c.Kind, c.Name).Scan(&n)
	switch {
	case err == nil:
		return profiles.Errorf(profiles.ECONFLICT, "%s %s already exists in domain %s", c.Kind, c.Name, c.DomainName)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if limit > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM configs WHERE domain = ? AND kind = ?`, c.DomainName, c.Kind).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		} else if n >= limit {
			return profiles.Errorf(profiles.EQUOTA, "domain %s holds %d configs of kind %s, the most it may", c.DomainName, n, c.Kind)
		}
	}
	created := stamp(c.CreatedAt, db.now().UnixMilli())
	updated := stamp(c.LastUpdatedAt, created)
	if _, err := tx.ExecContext(ctx, `INSERT INTO configs (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.DomainName, c.Kind, c.Name, nonNil(c.Data), created, updated); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	c.CreatedAt, c.LastUpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return nil
}

// FindConfig returns a domain's config. Returns ENOTFOUND, naming the
// domain if it is missing.
func (db *DB) FindConfig(ctx context.Context, domain, kind, name string) (*profiles.DomainConfig, error) {
	const op = "find config"
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	c, err := findConfig(ctx, tx, domain, kind, name)
	if err != nil {
		return nil, wrapConfigErr(op, err)
	}
	return c, nil
}

// UpdateConfig reads a config, calls fn on a copy and stores it; see
// profiles.ConfigStore.
func (db *DB) UpdateConfig(ctx context.Context, domain, kind, name string, fn func(*profiles.DomainConfig) error) (*profiles.DomainConfig, error) {
	const op = "update config"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	old, err := findConfig(ctx, tx, domain, kind, name)
	if err != nil {
		return nil, wrapConfigErr(op, err)
	}
	c := *old
	c.Data = bytes.Clone(old.Data)
	if err := fn(&c); err != nil {
		return nil, err
	}
	if c.DomainName != old.DomainName || c.Kind != old.Kind || c.Name != old.Name || !c.CreatedAt.Equal(old.CreatedAt) {
		return nil, profiles.Errorf(profiles.EINVALID, "an update may not change a config's domain, kind, name or creation time")
	}
	updated := db.now().UnixMilli()
	if _, err := tx.ExecContext(ctx, `UPDATE configs SET data = ?, updated_at = ? WHERE domain = ? AND kind = ? AND name = ?`,
		nonNil(c.Data), updated, domain, kind, name); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	c.LastUpdatedAt = time.UnixMilli(updated).UTC()
	return &c, nil
}

// UpdateConfigs reads configs, calls fn on copies and stores them, in one
// write transaction; see profiles.ConfigStore.
func (db *DB) UpdateConfigs(ctx context.Context, domain string, keys []profiles.ConfigKey, fn func([]*profiles.DomainConfig) error) ([]*profiles.DomainConfig, error) {
	const op = "update configs"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := domainExists(ctx, tx, domain); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return nil, integrationDomainNotFound(domain)
	}
	old := make([]*profiles.DomainConfig, len(keys))
	cs := make([]*profiles.DomainConfig, len(keys))
	for i, k := range keys {
		c, err := findConfig(ctx, tx, domain, k.Kind, k.Name)
		switch {
		case profiles.ErrorCode(err) == profiles.ENOTFOUND:
			continue
		case err != nil:
			return nil, wrapConfigErr(op, err)
		}
		old[i] = c
		cs[i] = &profiles.DomainConfig{DomainName: c.DomainName, Kind: c.Kind, Name: c.Name, Data: bytes.Clone(c.Data),
			CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}
	}
	if err := fn(cs); err != nil {
		return nil, err
	}
	if len(cs) != len(keys) {
		return nil, profiles.Errorf(profiles.EINVALID, "an update of configs may not change their number")
	}
	now := db.now().UnixMilli()
	for i, c := range cs {
		k := keys[i]
		switch {
		case c == nil:
			continue
		case c.DomainName != domain || c.Kind != k.Kind || c.Name != k.Name || old[i] != nil && !c.CreatedAt.Equal(old[i].CreatedAt):
			return nil, profiles.Errorf(profiles.EINVALID, "an update may not change a config's domain, kind, name or creation time")
		case old[i] != nil:
			if _, err := tx.ExecContext(ctx, `UPDATE configs SET data = ?, updated_at = ? WHERE domain = ? AND kind = ? AND name = ?`,
				nonNil(c.Data), now, domain, k.Kind, k.Name); err != nil {
				return nil, fmt.Errorf("sqlite: %s: %w", op, err)
			}
			c.LastUpdatedAt = time.UnixMilli(now).UTC()
			continue
		}
		if k.Limit > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM configs WHERE domain = ? AND kind = ?`, domain, k.Kind).Scan(&n); err != nil {
				return nil, fmt.Errorf("sqlite: %s: %w", op, err)
			} else if n >= k.Limit {
				return nil, profiles.Errorf(profiles.EQUOTA, "domain %s holds %d configs of kind %s, the most it may", domain, n, k.Kind)
			}
		}
		created := stamp(c.CreatedAt, now)
		updated := stamp(c.LastUpdatedAt, created)
		if _, err := tx.ExecContext(ctx, `INSERT INTO configs (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			domain, k.Kind, k.Name, nonNil(c.Data), created, updated); err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		c.CreatedAt, c.LastUpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return cs, nil
}

// DeleteConfig deletes a domain's config. Returns ENOTFOUND, naming the
// domain if it is missing.
func (db *DB) DeleteConfig(ctx context.Context, domain, kind, name string) error {
	const op = "delete config"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := domainExists(ctx, tx, domain); err != nil { // a domain being deleted is missing
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return integrationDomainNotFound(domain)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM configs WHERE domain = ? AND kind = ? AND name = ?`, domain, kind, name)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		return configNotFound(domain, kind, name)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// ListConfigs returns a domain's configs of one kind in byte order of their
// names, after after, up to limit (<= 0: all), in one snapshot. Returns
// ENOTFOUND for a missing domain.
func (db *DB) ListConfigs(ctx context.Context, domain, kind, after string, limit int) ([]*profiles.DomainConfig, error) {
	const op = "list configs"
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := domainExists(ctx, tx, domain); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return nil, integrationDomainNotFound(domain)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+configColumns+` FROM configs
		WHERE domain = ? AND kind = ? AND name > ? ORDER BY name LIMIT ?`, domain, kind, after, limitOrAll(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return scanKMSRows(rows, op, scanConfig)
}

// findConfig reads a config in tx. Returns ENOTFOUND, naming the domain if
// it is missing.
func findConfig(ctx context.Context, tx *sql.Tx, domain, kind, name string) (*profiles.DomainConfig, error) {
	// A domain being deleted is missing, its configs too until the purge
	// removes them.
	if ok, err := domainExists(ctx, tx, domain); err != nil {
		return nil, err
	} else if !ok {
		return nil, integrationDomainNotFound(domain)
	}
	c, err := scanConfig(tx.QueryRowContext(ctx, `SELECT `+configColumns+` FROM configs
		WHERE domain = ? AND kind = ? AND name = ?`, domain, kind, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, configNotFound(domain, kind, name)
	}
	return c, err
}

func scanConfig(row kmsRow) (*profiles.DomainConfig, error) {
	var c profiles.DomainConfig
	var created, updated int64
	if err := row.Scan(&c.DomainName, &c.Kind, &c.Name, &c.Data, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastUpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &c, nil
}

func configNotFound(domain, kind, name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "no %s %s in domain %s", kind, name, domain)
}

// wrapConfigErr passes the store's own errors and wraps the database's.
func wrapConfigErr(op string, err error) error {
	var e *profiles.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// nonNil returns b, or an empty slice for nil (data is NOT NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
