package postgres

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

var _ profiles.ConfigStore = (*DB)(nil)

// Domain configs live in the table of migration 0010.
//
// Concurrency. CreateConfig, UpdateConfig and DeleteConfig run one READ
// COMMITTED transaction each, and are run again only after a deadlock (see
// retry). CreateConfig first locks the row of its domain: FOR KEY SHARE
// without a limit (DeleteDomain waits for it; it waits for nothing but a
// DeleteDomain or UpdateDomain of that domain), FOR NO KEY UPDATE with one,
// as CreateAccessKey locks its principal: two creators of configs of one
// domain with a limit, from any node, then run one after the other, and
// the second counts, in a statement that starts after the first committed,
// the config the first inserted, so the quota holds without SERIALIZABLE
// and without retries. (A creator without a limit does not wait for them,
// nor they for it: a config it adds meanwhile counts for the next one.) Of
// concurrent creators of one name, one inserts and the others wait for it
// on the primary key and return ECONFLICT. UpdateConfig locks the config's
// row from the read on (SELECT … FOR NO KEY UPDATE), as UpdateKMSKey does,
// so concurrent updates of one config wait for each other and fn runs once;
// DeleteDomain waits for it too (its cascade deletes the row). Reads are
// single statements, but a read that finds nothing asks whether the domain
// exists in a second one.

// listConfigsSQL reads a range of the primary key of configs (TestQueryPlans
// checks its plan).
const listConfigsSQL = `SELECT ` + configColumns + ` FROM configs
	WHERE domain = $1 AND kind = $2 AND name > $3 AND ` + liveConfigDomain + ` ORDER BY name LIMIT $4::bigint`

// liveConfigDomain is the condition, in a statement on the configs of the
// domain $1, that the domain is there and not being deleted: the configs
// of a domain being deleted are missing, until the purge removes them.
const liveConfigDomain = `EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)`

// configColumns are the columns scanConfig reads, in order.
const configColumns = `domain, kind, name, data, created_at, updated_at`

// CreateConfig inserts c. A zero CreatedAt becomes the store's current
// time and a zero LastUpdatedAt CreatedAt; on success c holds its times as
// stored. Returns ENOTFOUND for a missing domain, ECONFLICT, naming it,
// when the domain has a config of that kind and name, and EQUOTA when it
// holds limit configs of that kind already (limit <= 0: no limit).
func (db *DB) CreateConfig(ctx context.Context, c *profiles.DomainConfig, limit int) error {
	const op = "create config"
	var created, updated int64
	err := db.configWrite(ctx, op, func(t *tx) error {
		lock := "FOR KEY SHARE"
		if limit > 0 {
			lock = "FOR NO KEY UPDATE"
		}
		if ok, err := t.lockConfigDomain(ctx, c.DomainName, lock); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return configDomainNotFound(c.DomainName)
		}
		var exists bool
		if err := t.ptx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM configs
			WHERE domain = $1 AND kind = $2 AND name = $3)`, c.DomainName, c.Kind, c.Name).Scan(&exists); err != nil {
			return t.wrap(op, err)
		} else if exists {
			return configExists(c)
		}
		if limit > 0 {
			var n int
			if err := t.ptx.QueryRow(ctx, `SELECT count(*) FROM configs WHERE domain = $1 AND kind = $2`,
				c.DomainName, c.Kind).Scan(&n); err != nil {
				return t.wrap(op, err)
			} else if n >= limit {
				return profiles.Errorf(profiles.EQUOTA, "the maximum of %d %s configs has been reached in domain %q",
					limit, c.Kind, c.DomainName)
			}
		}
		created = stamp(c.CreatedAt, t.now)
		updated = created
		if !c.LastUpdatedAt.IsZero() {
			updated = c.LastUpdatedAt.UnixMilli()
		}
		_, err := t.ptx.Exec(ctx, `INSERT INTO configs (`+configColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.DomainName, c.Kind, c.Name, kmsMaterial(c.Data), created, updated)
		switch {
		case isUniqueViolation(err): // a creator without the lock of a limit, just before
			return configExists(c)
		case isForeignKeyViolation(err): // cannot happen: the domain is locked
			return configDomainNotFound(c.DomainName)
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return err
	}
	c.CreatedAt, c.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// FindConfig returns a domain's config. Returns ENOTFOUND, naming the
// domain if it is missing and the config otherwise.
func (db *DB) FindConfig(ctx context.Context, domain, kind, name string) (*profiles.DomainConfig, error) {
	const op = "find config"
	c, err := scanConfig(db.pool.QueryRow(ctx, `SELECT `+configColumns+` FROM configs
		WHERE domain = $1 AND kind = $2 AND name = $3 AND `+liveConfigDomain, domain, kind, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, configNotFound(ctx, db.pool, op, domain, kind, name)
	} else if err != nil {
		return nil, wrap(op, err)
	}
	return c, nil
}

// UpdateConfig reads a config, locking its row, calls fn on it and stores
// its Data with LastUpdatedAt the store's current time, in one transaction,
// and returns it as FindConfig would; fn runs while the row is locked. fn's
// error is returned as is. Changing the domain, kind, name or CreatedAt
// returns EINVALID and changes nothing. Returns ENOTFOUND, naming the
// domain if it is missing and the config otherwise.
func (db *DB) UpdateConfig(ctx context.Context, domain, kind, name string, fn func(*profiles.DomainConfig) error) (*profiles.DomainConfig, error) {
	const op = "update config"
	var out *profiles.DomainConfig
	err := db.configWrite(ctx, op, func(t *tx) error {
		c, err := scanConfig(t.ptx.QueryRow(ctx, `SELECT `+configColumns+` FROM configs
			WHERE domain = $1 AND kind = $2 AND name = $3 AND `+liveConfigDomain+` FOR NO KEY UPDATE`, domain, kind, name))
		if errors.Is(err, pgx.ErrNoRows) {
			return t.noteConflict(configNotFound(ctx, t.ptx, op, domain, kind, name))
		} else if err != nil {
			return t.wrap(op, err)
		}
		created := c.CreatedAt
		if err := fn(c); err != nil {
			return err
		}
		if c.DomainName != domain || c.Kind != kind || c.Name != name || !c.CreatedAt.Equal(created) {
			return profiles.Errorf(profiles.EINVALID, "the domain, kind, name and creation time of %s %q of domain %q cannot change",
				kind, name, domain)
		}
		// RETURNING gives what a FindConfig would.
		out, err = scanConfig(t.ptx.QueryRow(ctx, `UPDATE configs SET data = $4, updated_at = $5
			WHERE domain = $1 AND kind = $2 AND name = $3
			RETURNING `+configColumns, domain, kind, name, kmsMaterial(c.Data), t.now))
		return t.wrap(op, err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateConfigs reads configs, calls fn on them and stores what it leaves,
// in one transaction; see profiles.ConfigStore. It locks the domain's row
// FOR NO KEY UPDATE first, so that UpdateConfigs of one domain (and
// CreateConfig with a limit) run one after another from any node: the
// second reads, in statements that start after the first committed, what
// the first wrote. It locks the rows it reads too, as UpdateConfig does.
func (db *DB) UpdateConfigs(ctx context.Context, domain string, keys []profiles.ConfigKey, fn func([]*profiles.DomainConfig) error) ([]*profiles.DomainConfig, error) {
	const op = "update configs"
	var out []*profiles.DomainConfig
	err := db.configWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockConfigDomain(ctx, domain, "FOR NO KEY UPDATE"); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return configDomainNotFound(domain)
		}
		old := make([]*profiles.DomainConfig, len(keys))
		cs := make([]*profiles.DomainConfig, len(keys))
		for i, k := range keys {
			c, err := scanConfig(t.ptx.QueryRow(ctx, `SELECT `+configColumns+` FROM configs
				WHERE domain = $1 AND kind = $2 AND name = $3 FOR NO KEY UPDATE`, domain, k.Kind, k.Name))
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			} else if err != nil {
				return t.wrap(op, err)
			}
			old[i] = c
			cs[i] = &profiles.DomainConfig{DomainName: c.DomainName, Kind: c.Kind, Name: c.Name, Data: bytes.Clone(c.Data),
				CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}
		}
		if err := fn(cs); err != nil {
			return err
		}
		if len(cs) != len(keys) {
			return profiles.Errorf(profiles.EINVALID, "an update of configs of domain %q may not change their number", domain)
		}
		out = make([]*profiles.DomainConfig, len(keys))
		for i, c := range cs {
			k := keys[i]
			switch {
			case c == nil:
				continue
			case c.DomainName != domain || c.Kind != k.Kind || c.Name != k.Name || old[i] != nil && !c.CreatedAt.Equal(old[i].CreatedAt):
				return profiles.Errorf(profiles.EINVALID, "the domain, kind, name and creation time of %s %q of domain %q cannot change",
					k.Kind, k.Name, domain)
			case old[i] != nil:
				var err error
				out[i], err = scanConfig(t.ptx.QueryRow(ctx, `UPDATE configs SET data = $4, updated_at = $5
					WHERE domain = $1 AND kind = $2 AND name = $3
					RETURNING `+configColumns, domain, k.Kind, k.Name, kmsMaterial(c.Data), t.now))
				if err != nil {
					return t.wrap(op, err)
				}
				continue
			}
			if k.Limit > 0 {
				var n int
				if err := t.ptx.QueryRow(ctx, `SELECT count(*) FROM configs WHERE domain = $1 AND kind = $2`,
					domain, k.Kind).Scan(&n); err != nil {
					return t.wrap(op, err)
				} else if n >= k.Limit {
					return profiles.Errorf(profiles.EQUOTA, "the maximum of %d %s configs has been reached in domain %q",
						k.Limit, k.Kind, domain)
				}
			}
			created := stamp(c.CreatedAt, t.now)
			updated := created
			if !c.LastUpdatedAt.IsZero() {
				updated = c.LastUpdatedAt.UnixMilli()
			}
			_, err := t.ptx.Exec(ctx, `INSERT INTO configs (`+configColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
				domain, k.Kind, k.Name, kmsMaterial(c.Data), created, updated)
			if isUniqueViolation(err) { // a CreateConfig without a limit, just before
				return configExists(c)
			} else if err != nil {
				return t.wrap(op, err)
			}
			c.CreatedAt, c.LastUpdatedAt = fromMillis(created), fromMillis(updated)
			out[i] = c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteConfig deletes a domain's config. Returns ENOTFOUND, naming the
// domain if it is missing and the config otherwise.
func (db *DB) DeleteConfig(ctx context.Context, domain, kind, name string) error {
	const op = "delete config"
	return db.configWrite(ctx, op, func(t *tx) error {
		tag, err := t.ptx.Exec(ctx, `DELETE FROM configs WHERE domain = $1 AND kind = $2 AND name = $3 AND `+liveConfigDomain,
			domain, kind, name)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() > 0 {
			return nil
		}
		return t.noteConflict(configNotFound(ctx, t.ptx, op, domain, kind, name))
	})
}

// ListConfigs returns up to limit configs (limit <= 0: all) of the domain
// and kind whose names sort after after, in byte order. Returns ENOTFOUND
// for a missing domain.
func (db *DB) ListConfigs(ctx context.Context, domain, kind, after string, limit int) ([]*profiles.DomainConfig, error) {
	const op = "list configs"
	rows, err := db.pool.Query(ctx, listConfigsSQL, domain, kind, after, limitOrAll(limit))
	if err != nil {
		return nil, wrap(op, err)
	}
	list, err := scanKMSRows(rows, op, scanConfig)
	if err != nil || len(list) > 0 {
		return list, err
	}
	if ok, err := domainExists(ctx, db.pool, domain); err != nil {
		return nil, wrap(op, err)
	} else if !ok {
		return nil, configDomainNotFound(domain)
	}
	return nil, nil
}

// configWrite runs write in a READ COMMITTED transaction and commits it,
// again after a deadlock, up to MaxAttempts times (see retry). write gets
// a tx whose now is the store's time at the start of the attempt.
func (db *DB) configWrite(ctx context.Context, op string, write func(*tx) error) error {
	return db.retry(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx, now: now}
		return t, write(t)
	})
}

// lockConfigDomain locks the domain's row until the transaction ends,
// with the row locking clause lock, and reports whether the domain exists.
func (t *tx) lockConfigDomain(ctx context.Context, name, lock string) (bool, error) {
	var one int
	err := t.ptx.QueryRow(ctx, `SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0 `+lock, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// configNotFound returns ENOTFOUND naming the domain if it is missing, and
// the config otherwise.
func configNotFound(ctx context.Context, q querier, op, domain, kind, name string) error {
	if ok, err := domainExists(ctx, q, domain); err != nil {
		return wrap(op, err)
	} else if !ok {
		return configDomainNotFound(domain)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "%s %q not found in domain %q", kind, name, domain)
}

func configDomainNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
}

func configExists(c *profiles.DomainConfig) error {
	return profiles.Errorf(profiles.ECONFLICT, "%s %q already exists in domain %q", c.Kind, c.Name, c.DomainName)
}

// scanConfig reads the configColumns of one row.
func scanConfig(row pgx.Row) (*profiles.DomainConfig, error) {
	var c profiles.DomainConfig
	var created, updated int64
	if err := row.Scan(&c.DomainName, &c.Kind, &c.Name, &c.Data, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &c, nil
}
