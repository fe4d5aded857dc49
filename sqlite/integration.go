package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

var _ profiles.IntegrationStore = (*DB)(nil)

// Integrations and contact-center instances live in the tables of
// migration 0007.
//
// Every writing method is one write transaction on the writer connection
// (BEGIN IMMEDIATE holds SQLite's write lock from its first statement on),
// so PutIntegration's check that no other domain has the Uri and its write,
// and MoveIntegration's check of the target domain and its update, are
// atomic with every other writer of this process and of any other process
// on the same file. The UNIQUE constraint on the Uri guards the rule
// whatever the writer. Deleting a domain deletes its integrations (ON
// DELETE CASCADE), which frees their Uris. Reads run on the reader pool.

// Columns scanIntegration and scanInstance read, in order.
const (
	integrationColumns = `domain, uri, object_type_name, object_type_names, role_arn, event_trigger_names,
	scope, tags, created_at, updated_at`
	instanceColumns = `id, arn, alias, created_at`
)

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
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()

	if ok, err := domainExists(ctx, tx, in.DomainName); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return integrationDomainNotFound(in.DomainName)
	}
	now := db.now().UnixMilli()
	var owner string
	var created int64
	switch err := tx.QueryRowContext(ctx, `SELECT domain, created_at FROM integrations WHERE uri = ?`, in.URI).Scan(&owner, &created); {
	case errors.Is(err, sql.ErrNoRows):
		created = stamp(in.CreatedAt, now)
	case err != nil:
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case owner != in.DomainName:
		return uriTaken(in.URI, owner)
	}
	updated := stamp(in.LastUpdatedAt, now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO integrations (`+integrationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, uri) DO UPDATE SET object_type_name = excluded.object_type_name,
			object_type_names = excluded.object_type_names, role_arn = excluded.role_arn,
			event_trigger_names = excluded.event_trigger_names, scope = excluded.scope, tags = excluded.tags,
			updated_at = excluded.updated_at`,
		in.DomainName, in.URI, in.ObjectTypeName, names, in.RoleARN, triggers, in.Scope, tags, created, updated,
	); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	in.CreatedAt, in.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// FindIntegration returns the integration of the domain and Uri. Returns
// ENOTFOUND, naming the domain if it is missing.
func (db *DB) FindIntegration(ctx context.Context, domain, uri string) (*profiles.Integration, error) {
	const op = "find integration"
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	in, err := scanIntegration(tx.QueryRowContext(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE domain = ? AND uri = ?`, domain, uri))
	if errors.Is(err, sql.ErrNoRows) {
		if ok, err := domainExists(ctx, tx, domain); err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", op, err)
		} else if !ok {
			return nil, integrationDomainNotFound(domain)
		}
		return nil, integrationNotFound(domain, uri)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return in, nil
}

// FindIntegrationByURI returns the integration of the Uri, whatever its
// domain. Returns ENOTFOUND.
func (db *DB) FindIntegrationByURI(ctx context.Context, uri string) (*profiles.Integration, error) {
	return findIntegrationByURI(ctx, db.rdb, uri)
}

// ListIntegrations returns up to limit integrations (limit <= 0: all) of
// the domain whose Uris sort after after, in byte order, in one snapshot.
// Returns ENOTFOUND for a missing domain.
func (db *DB) ListIntegrations(ctx context.Context, domain, after string, limit int) ([]*profiles.Integration, error) {
	const op = "list integrations"
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
	rows, err := tx.QueryContext(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE domain = ? AND uri > ? ORDER BY uri LIMIT ?`, domain, after, limitOrAll(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return scanKMSRows(rows, op, scanIntegration)
}

// DeleteIntegration deletes the integration of the domain and Uri. Returns
// ENOTFOUND, naming the domain if it is missing.
func (db *DB) DeleteIntegration(ctx context.Context, domain, uri string) error {
	const op = "delete integration"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM integrations WHERE domain = ? AND uri = ?`, domain, uri)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		if ok, err := domainExists(ctx, tx, domain); err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		} else if !ok {
			return integrationDomainNotFound(domain)
		}
		return integrationNotFound(domain, uri)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// UpdateIntegrationTags replaces the tags of the integration of the domain
// and Uri with what fn makes of them and sets its LastUpdatedAt to the
// store's current time, in one write transaction. fn's error is returned
// as is and changes nothing. Returns ENOTFOUND, naming the domain if it is
// missing.
func (db *DB) UpdateIntegrationTags(ctx context.Context, domain, uri string, fn func(map[string]string) (map[string]string, error)) error {
	const op = "update integration tags"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	in, err := scanIntegration(tx.QueryRowContext(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE domain = ? AND uri = ?`, domain, uri))
	if errors.Is(err, sql.ErrNoRows) {
		if ok, err := domainExists(ctx, tx, domain); err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		} else if !ok {
			return integrationDomainNotFound(domain)
		}
		return integrationNotFound(domain, uri)
	} else if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	tags, err := fn(in.Tags)
	if err != nil {
		return err
	}
	encoded, err := rowcodec.EncodeTags(tags)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE integrations SET tags = ?, updated_at = ? WHERE domain = ? AND uri = ?`,
		encoded, db.now().UnixMilli(), domain, uri); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// MoveIntegration moves the integration of uri to the domain to, in one
// write transaction, sets its LastUpdatedAt to the store's current time
// and returns it as stored. Returns ENOTFOUND, changing nothing, for a
// missing domain or integration.
func (db *DB) MoveIntegration(ctx context.Context, uri, to string) (*profiles.Integration, error) {
	const op = "move integration"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if ok, err := domainExists(ctx, tx, to); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	} else if !ok {
		return nil, integrationDomainNotFound(to)
	}
	res, err := tx.ExecContext(ctx, `UPDATE integrations SET domain = ?, updated_at = ? WHERE uri = ?`,
		to, db.now().UnixMilli(), uri)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		return nil, uriNotFound(uri)
	}
	in, err := findIntegrationByURI(ctx, tx, uri)
	if err != nil {
		return nil, err
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return in, nil
}

// PutInstance inserts in; a zero CreatedAt becomes the store's current
// time, and in holds it as stored. Returns ECONFLICT when the id, or the
// ARN, is taken.
func (db *DB) PutInstance(ctx context.Context, in *profiles.Instance) error {
	const op = "put instance"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	var holder string
	switch err := tx.QueryRowContext(ctx, `SELECT id FROM instances WHERE id = ?1 OR arn = ?2
		ORDER BY id = ?1 DESC LIMIT 1`, in.ID, in.ARN).Scan(&holder); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case holder == in.ID:
		return instanceExists(in.ID)
	default:
		return arnTaken(in.ARN, holder)
	}
	created := stamp(in.CreatedAt, db.now().UnixMilli())
	if _, err := tx.ExecContext(ctx, `INSERT INTO instances (`+instanceColumns+`) VALUES (?, ?, ?, ?)`,
		in.ID, in.ARN, in.Alias, created,
	); isUniqueViolation(err) {
		return instanceExists(in.ID)
	} else if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	in.CreatedAt = fromMillis(created)
	return nil
}

// FindInstance returns the instance of the id. Returns ENOTFOUND.
func (db *DB) FindInstance(ctx context.Context, id string) (*profiles.Instance, error) {
	in, err := scanInstance(db.rdb.QueryRowContext(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "instance %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find instance: %w", err)
	}
	return in, nil
}

// ListInstances returns every instance, by alias then id, in byte order.
func (db *DB) ListInstances(ctx context.Context) ([]*profiles.Instance, error) {
	const op = "list instances"
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+instanceColumns+` FROM instances ORDER BY alias, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return scanKMSRows(rows, op, scanInstance)
}

// findIntegrationByURI returns the integration of the Uri. Returns
// ENOTFOUND.
func findIntegrationByURI(ctx context.Context, q queryRower, uri string) (*profiles.Integration, error) {
	in, err := scanIntegration(q.QueryRowContext(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE uri = ?`, uri))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, uriNotFound(uri)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find integration: %w", err)
	}
	return in, nil
}

func integrationDomainNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
}

func integrationNotFound(domain, uri string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s in domain %s", uri, domain)
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

func scanIntegration(row kmsRow) (*profiles.Integration, error) {
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

func scanInstance(row kmsRow) (*profiles.Instance, error) {
	var in profiles.Instance
	var created int64
	if err := row.Scan(&in.ID, &in.ARN, &in.Alias, &created); err != nil {
		return nil, err
	}
	in.CreatedAt = fromMillis(created)
	return &in, nil
}
