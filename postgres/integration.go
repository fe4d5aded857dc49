package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

var _ profiles.IntegrationStore = (*DB)(nil)

// Integrations and contact-center instances live in the tables of
// migration 0007.
//
// Concurrency. PutIntegration and MoveIntegration run one READ COMMITTED
// transaction that first locks the row of the domain they write to FOR KEY
// SHARE (DeleteDomain waits for them; they wait for nothing but a
// DeleteDomain or UpdateDomain of that domain). PutIntegration then upserts
// with the UNIQUE constraint of the Uri as arbiter, updating only a row of
// the same domain: of concurrent puts of one Uri on different domains, one
// inserts and the others wait for it, find its row, leave it as it is and
// return ECONFLICT naming its domain, read in a new snapshot of the same
// transaction (the row stays locked meanwhile). MoveIntegration is one
// UPDATE of the Uri's row. PutInstance inserts unless the id or the ARN is
// taken (ON CONFLICT DO NOTHING, which waits for a concurrent insert of
// the same id or ARN), and then tells which one. Every writing method is
// run again only after a deadlock (see retry). Reads are single
// statements, but a read that finds nothing asks whether the domain exists
// in a second one.

// Columns scanIntegration and scanInstance read, in order.
const (
	integrationColumns = `domain, uri, object_type_name, object_type_names, role_arn, event_trigger_names,
	scope, tags, created_at, updated_at`
	instanceColumns = `id, arn, alias, created_at`
)

// putIntegrationSQL inserts an integration or replaces that of the same
// domain and Uri, keeping its created_at, and returns the created_at
// stored; it returns no row, changing nothing, when another domain has the
// Uri.
const putIntegrationSQL = `INSERT INTO integrations (` + integrationColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT (uri) DO UPDATE SET object_type_name = EXCLUDED.object_type_name,
		object_type_names = EXCLUDED.object_type_names, role_arn = EXCLUDED.role_arn,
		event_trigger_names = EXCLUDED.event_trigger_names, scope = EXCLUDED.scope, tags = EXCLUDED.tags,
		updated_at = EXCLUDED.updated_at
	WHERE integrations.domain = EXCLUDED.domain
	RETURNING created_at`

// PutIntegration inserts in, or replaces the integration of its domain and
// Uri, keeping the CreatedAt of the one replaced. A zero CreatedAt of a new
// integration and a zero LastUpdatedAt become the store's current time; in
// holds its times as stored. Returns ENOTFOUND for a missing domain and
// ECONFLICT, naming the domain, when another domain has an integration of
// the Uri.
func (db *DB) PutIntegration(ctx context.Context, in *profiles.Integration) error {
	const op = "put integration"
	names, triggers, tags, err := encodeIntegration(in)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var created, updated int64
	err = db.integrationWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockDomain(ctx, in.DomainName); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return integrationDomainNotFound(in.DomainName)
		}
		created, updated = stamp(in.CreatedAt, t.now), stamp(in.LastUpdatedAt, t.now)
		err := t.ptx.QueryRow(ctx, putIntegrationSQL, in.DomainName, in.URI, in.ObjectTypeName, names, in.RoleARN,
			triggers, in.Scope, tags, created, updated).Scan(&created)
		if !errors.Is(err, pgx.ErrNoRows) {
			return t.wrap(op, err)
		}
		var owner string
		err = t.ptx.QueryRow(ctx, `SELECT domain FROM integrations WHERE uri = $1`, in.URI).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) { // cannot happen: the upsert locked the row
			t.conflict = true
			return fmt.Errorf("postgres: %s: the integration of Uri %s vanished", op, in.URI)
		} else if err != nil {
			return t.wrap(op, err)
		}
		return uriTaken(in.URI, owner)
	})
	if err != nil {
		return err
	}
	in.CreatedAt, in.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// FindIntegration returns the integration of the domain and Uri. Returns
// ENOTFOUND, naming the domain if it is missing.
func (db *DB) FindIntegration(ctx context.Context, domain, uri string) (*profiles.Integration, error) {
	const op = "find integration"
	in, err := scanIntegration(db.pool.QueryRow(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE domain = $1 AND uri = $2`, domain, uri))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, db.integrationNotFound(ctx, op, domain, uri)
	} else if err != nil {
		return nil, wrap(op, err)
	}
	return in, nil
}

// FindIntegrationByURI returns the integration of the Uri, whatever its
// domain. Returns ENOTFOUND.
func (db *DB) FindIntegrationByURI(ctx context.Context, uri string) (*profiles.Integration, error) {
	return findIntegrationByURI(ctx, db.pool, uri)
}

// ListIntegrations returns up to limit integrations (limit <= 0: all) of
// the domain whose Uris sort after after, in byte order. Returns ENOTFOUND
// for a missing domain.
func (db *DB) ListIntegrations(ctx context.Context, domain, after string, limit int) ([]*profiles.Integration, error) {
	const op = "list integrations"
	rows, err := db.pool.Query(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE domain = $1 AND uri > $2 ORDER BY uri LIMIT $3::bigint`, domain, after, limitOrAll(limit))
	if err != nil {
		return nil, wrap(op, err)
	}
	list, err := scanKMSRows(rows, op, scanIntegration)
	if err != nil || len(list) > 0 {
		return list, err
	}
	if ok, err := domainExists(ctx, db.pool, domain); err != nil {
		return nil, wrap(op, err)
	} else if !ok {
		return nil, integrationDomainNotFound(domain)
	}
	return nil, nil
}

// DeleteIntegration deletes the integration of the domain and Uri. Returns
// ENOTFOUND, naming the domain if it is missing.
func (db *DB) DeleteIntegration(ctx context.Context, domain, uri string) error {
	const op = "delete integration"
	tag, err := db.pool.Exec(ctx, `DELETE FROM integrations WHERE domain = $1 AND uri = $2`, domain, uri)
	if err != nil {
		return wrap(op, err)
	} else if tag.RowsAffected() == 0 {
		return db.integrationNotFound(ctx, op, domain, uri)
	}
	return nil
}

// UpdateIntegrationTags replaces the tags of the integration of the domain
// and Uri with what fn makes of them and sets its LastUpdatedAt to the
// store's current time, in one transaction that locks the integration's
// row (FOR UPDATE) while fn runs. fn's error is returned as is and changes
// nothing. Returns ENOTFOUND, naming the domain if it is missing.
func (db *DB) UpdateIntegrationTags(ctx context.Context, domain, uri string, fn func(map[string]string) (map[string]string, error)) error {
	const op = "update integration tags"
	return db.integrationWrite(ctx, op, func(t *tx) error {
		in, err := scanIntegration(t.ptx.QueryRow(ctx, `SELECT `+integrationColumns+` FROM integrations
			WHERE domain = $1 AND uri = $2 FOR UPDATE`, domain, uri))
		if errors.Is(err, pgx.ErrNoRows) {
			return db.integrationNotFound(ctx, op, domain, uri)
		} else if err != nil {
			return t.wrap(op, err)
		}
		tags, err := fn(in.Tags)
		if err != nil {
			return err
		}
		encoded, err := rowcodec.EncodeTags(tags)
		if err != nil {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		_, err = t.ptx.Exec(ctx, `UPDATE integrations SET tags = $3, updated_at = $4 WHERE domain = $1 AND uri = $2`,
			domain, uri, encoded, t.now)
		return t.wrap(op, err)
	})
}

// MoveIntegration moves the integration of uri to the domain to, in one
// transaction, sets its LastUpdatedAt to the store's current time and
// returns it as stored. Returns ENOTFOUND, changing nothing, for a missing
// domain or integration.
func (db *DB) MoveIntegration(ctx context.Context, uri, to string) (*profiles.Integration, error) {
	const op = "move integration"
	var out *profiles.Integration
	err := db.integrationWrite(ctx, op, func(t *tx) error {
		if ok, err := t.lockDomain(ctx, to); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return integrationDomainNotFound(to)
		}
		in, err := scanIntegration(t.ptx.QueryRow(ctx, `UPDATE integrations SET domain = $2, updated_at = $3
			WHERE uri = $1 RETURNING `+integrationColumns, uri, to, t.now))
		if errors.Is(err, pgx.ErrNoRows) {
			return uriNotFound(uri)
		} else if err != nil {
			return t.wrap(op, err)
		}
		out = in
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutInstance inserts in; a zero CreatedAt becomes the store's current
// time, and in holds it as stored. Returns ECONFLICT when the id, or the
// ARN, is taken.
func (db *DB) PutInstance(ctx context.Context, in *profiles.Instance) error {
	const op = "put instance"
	var created int64
	err := db.integrationWrite(ctx, op, func(t *tx) error {
		created = stamp(in.CreatedAt, t.now)
		tag, err := t.ptx.Exec(ctx, `INSERT INTO instances (`+instanceColumns+`) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, in.ID, in.ARN, in.Alias, created)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() == 1 {
			return nil
		}
		var holder string
		err = t.ptx.QueryRow(ctx, `SELECT id FROM instances WHERE id = $1 OR arn = $2
			ORDER BY id = $1 DESC LIMIT 1`, in.ID, in.ARN).Scan(&holder)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // deleted since: try again
			t.conflict = true
			return fmt.Errorf("postgres: %s: the instance in the way of %q vanished", op, in.ID)
		case err != nil:
			return t.wrap(op, err)
		case holder == in.ID:
			return instanceExists(in.ID)
		}
		return arnTaken(in.ARN, holder)
	})
	if err != nil {
		return err
	}
	in.CreatedAt = fromMillis(created)
	return nil
}

// FindInstance returns the instance of the id. Returns ENOTFOUND.
func (db *DB) FindInstance(ctx context.Context, id string) (*profiles.Instance, error) {
	in, err := scanInstance(db.pool.QueryRow(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "instance %q not found", id)
	} else if err != nil {
		return nil, wrap("find instance", err)
	}
	return in, nil
}

// ListInstances returns every instance, by alias then id, in byte order.
func (db *DB) ListInstances(ctx context.Context) ([]*profiles.Instance, error) {
	const op = "list instances"
	rows, err := db.pool.Query(ctx, `SELECT `+instanceColumns+` FROM instances ORDER BY alias, id`)
	if err != nil {
		return nil, wrap(op, err)
	}
	return scanKMSRows(rows, op, scanInstance)
}

// integrationWrite runs write in a READ COMMITTED transaction and commits
// it, again after a deadlock, up to MaxAttempts times (see retry). write
// gets a tx whose now is the store's time at the start of the attempt.
func (db *DB) integrationWrite(ctx context.Context, op string, write func(*tx) error) error {
	return db.retry(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx, now: now}
		return t, write(t)
	})
}

// lockDomain locks the domain's row against deletion until the transaction
// ends (FOR KEY SHARE) and reports whether the domain exists.
func (t *tx) lockDomain(ctx context.Context, name string) (bool, error) {
	var one int
	err := t.ptx.QueryRow(ctx, `SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0 FOR KEY SHARE`, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// integrationNotFound returns ENOTFOUND naming the domain if it is missing,
// and the Uri otherwise.
func (db *DB) integrationNotFound(ctx context.Context, op, domain, uri string) error {
	if ok, err := domainExists(ctx, db.pool, domain); err != nil {
		return wrap(op, err)
	} else if !ok {
		return integrationDomainNotFound(domain)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s in domain %s", uri, domain)
}

// findIntegrationByURI returns the integration of the Uri. Returns
// ENOTFOUND.
func findIntegrationByURI(ctx context.Context, q querier, uri string) (*profiles.Integration, error) {
	in, err := scanIntegration(q.QueryRow(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE uri = $1`, uri))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, uriNotFound(uri)
	} else if err != nil {
		return nil, wrap("find integration", err)
	}
	return in, nil
}

func integrationDomainNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
}

func uriNotFound(uri string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s", uri)
}

func uriTaken(uri, domain string) error {
	return profiles.Errorf(profiles.ECONFLICT, "Uri %s is associated with domain %s", uri, domain)
}

func instanceExists(id string) error {
	return profiles.Errorf(profiles.ECONFLICT, "instance %q already exists", id)
}

func arnTaken(arn, id string) error {
	return profiles.Errorf(profiles.ECONFLICT, "ARN %s is the ARN of instance %q", arn, id)
}

// encodeIntegration returns the object_type_names, event_trigger_names and
// tags columns of in.
func encodeIntegration(in *profiles.Integration) (names, triggers, tags string, err error) {
	if names, err = rowcodec.EncodeTags(in.ObjectTypeNames); err != nil {
		return "", "", "", fmt.Errorf("object type names: %w", err)
	}
	buf := []byte("[]")
	if len(in.EventTriggerNames) > 0 {
		if buf, err = json.Marshal(in.EventTriggerNames); err != nil {
			return "", "", "", fmt.Errorf("event trigger names: %w", err)
		}
	}
	if tags, err = rowcodec.EncodeTags(in.Tags); err != nil {
		return "", "", "", err
	}
	return names, string(buf), tags, nil
}

func scanIntegration(row pgx.Row) (*profiles.Integration, error) {
	var in profiles.Integration
	var names, triggers, tags string
	var created, updated int64
	if err := row.Scan(&in.DomainName, &in.URI, &in.ObjectTypeName, &names, &in.RoleARN, &triggers,
		&in.Scope, &tags, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if in.ObjectTypeNames, err = rowcodec.DecodeTags(names); err != nil {
		return nil, fmt.Errorf("integration %q: object type names: %w", in.URI, err)
	}
	if err := json.Unmarshal([]byte(triggers), &in.EventTriggerNames); err != nil {
		return nil, fmt.Errorf("integration %q: event trigger names: %w", in.URI, err)
	}
	if len(in.EventTriggerNames) == 0 {
		in.EventTriggerNames = nil
	}
	if in.Tags, err = rowcodec.DecodeTags(tags); err != nil {
		return nil, fmt.Errorf("integration %q: %w", in.URI, err)
	}
	in.CreatedAt, in.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &in, nil
}

func scanInstance(row pgx.Row) (*profiles.Instance, error) {
	var in profiles.Instance
	var created int64
	if err := row.Scan(&in.ID, &in.ARN, &in.Alias, &created); err != nil {
		return nil, err
	}
	in.CreatedAt = fromMillis(created)
	return &in, nil
}
