package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/openprofiles/profiles"
)

// FindObjectType returns a domain's object type. Returns ENOTFOUND, naming
// the domain if it is missing and the object type otherwise.
func (t *tx) FindObjectType(ctx context.Context, domain, name string) (*profiles.ObjectType, error) {
	row := t.stx.QueryRowContext(ctx, `SELECT `+objectTypeColumns+` FROM object_types
		WHERE domain = ? AND name = ?`, domain, name)
	ot, err := scanObjectType(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "object type %q not found in domain %q", name, domain)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find object type: %w", err)
	}
	return ot, nil
}

// PutObjectType inserts or replaces an object type. A replaced type keeps
// its CreatedAt; a new one with a zero CreatedAt gets the transaction's
// time, as does a zero LastUpdatedAt. On success ot holds the times as
// stored. The count against limit and the insert are in the same (write)
// transaction. Returns ENOTFOUND for a missing domain and EQUOTA.
func (t *tx) PutObjectType(ctx context.Context, ot *profiles.ObjectType, limit int) error {
	if err := t.writable("put object type"); err != nil {
		return err
	}
	var created int64
	err := t.stx.QueryRowContext(ctx, `SELECT created_at FROM object_types WHERE domain = ? AND name = ?`,
		ot.DomainName, ot.Name).Scan(&created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if limit > 0 {
			var n int
			if err := t.stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM object_types WHERE domain = ?`,
				ot.DomainName).Scan(&n); err != nil {
				return fmt.Errorf("sqlite: put object type: %w", err)
			} else if n >= limit {
				return profiles.Errorf(profiles.EQUOTA, "the maximum of %d object types has been reached in domain %q", limit, ot.DomainName)
			}
		}
		created = stamp(ot.CreatedAt, t.now)
	case err != nil:
		return fmt.Errorf("sqlite: put object type: %w", err)
	}
	updated := stamp(ot.LastUpdatedAt, t.now)

	data, err := encodeObjectType(ot)
	if err != nil {
		return fmt.Errorf("sqlite: put object type: %w", err)
	}
	if _, err := t.stx.ExecContext(ctx, `INSERT INTO object_types (domain, name, data, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (domain, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		ot.DomainName, ot.Name, data, created, updated,
	); isForeignKeyViolation(err) {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", ot.DomainName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put object type: %w", err)
	}
	ot.CreatedAt, ot.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// ListObjectTypes returns up to limit (limit <= 0: all) object types of a
// domain named after after, in byte order. Returns ENOTFOUND.
func (t *tx) ListObjectTypes(ctx context.Context, domain, after string, limit int) ([]*profiles.ObjectType, error) {
	rows, err := t.stx.QueryContext(ctx, `SELECT `+objectTypeColumns+` FROM object_types
		WHERE domain = ? AND name > ? ORDER BY name LIMIT ?`, domain, after, limitOrAll(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list object types: %w", err)
	}
	defer rows.Close()
	var out []*profiles.ObjectType
	for rows.Next() {
		ot, err := scanObjectType(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list object types: %w", err)
		}
		out = append(out, ot)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list object types: %w", err)
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, domain, "")
	}
	return out, nil
}

// DeleteObjectType deletes an object type, all the objects of that type
// and all the keys whose origin is that type. Objects of a type that has
// no definition here (a template used by name) are left: the call returns
// ENOTFOUND.
func (t *tx) DeleteObjectType(ctx context.Context, domain, name string) error {
	if err := t.writable("delete object type"); err != nil {
		return err
	}
	res, err := t.stx.ExecContext(ctx, `DELETE FROM object_types WHERE domain = ? AND name = ?`, domain, name)
	if err != nil {
		return fmt.Errorf("sqlite: delete object type: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete object type: %w", err)
	} else if n == 0 {
		return t.notFound(ctx, domain, "object type %q not found in domain %q", name, domain)
	}
	if _, err := t.stx.ExecContext(ctx, `DELETE FROM objects WHERE domain = ? AND object_type = ?`, domain, name); err != nil {
		return fmt.Errorf("sqlite: delete object type: %w", err)
	}
	// No index leads with origin: this reads the keys of the domain. Deleting
	// a type is rare; an index for it would cost every key insert.
	if _, err := t.stx.ExecContext(ctx, `DELETE FROM keys WHERE domain = ? AND origin = ?`, domain, name); err != nil {
		return fmt.Errorf("sqlite: delete object type: %w", err)
	}
	return nil
}

// objectTypeColumns are the columns scanObjectType reads, in order.
const objectTypeColumns = `domain, name, data, created_at, updated_at`

// scanObjectType reads the objectTypeColumns of one row.
func scanObjectType(row interface{ Scan(...any) error }) (*profiles.ObjectType, error) {
	var ot profiles.ObjectType
	var data string
	var created, updated int64
	if err := row.Scan(&ot.DomainName, &ot.Name, &data, &created, &updated); err != nil {
		return nil, err
	}
	if err := decodeObjectType(&ot, data); err != nil {
		return nil, err
	}
	ot.CreatedAt, ot.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &ot, nil
}

// The data column of object_types holds an ObjectType, minus its domain,
// name and times, as JSON in this package's own form (as for settings: a
// renamed root field fails to compile here instead of changing what is
// stored). Empty values are left out and read back as zero or nil.

type objectTypeJSON struct {
	Description                      string                         `json:"description,omitempty"`
	TemplateID                       string                         `json:"templateId,omitempty"`
	ExpirationDays                   int                            `json:"expirationDays,omitempty"`
	EncryptionKey                    string                         `json:"encryptionKey,omitempty"`
	AllowProfileCreation             bool                           `json:"allowProfileCreation,omitempty"`
	SourceLastUpdatedTimestampFormat string                         `json:"sourceLastUpdatedTimestampFormat,omitempty"`
	MaxProfileObjectCount            int                            `json:"maxProfileObjectCount,omitempty"`
	SourcePriority                   int                            `json:"sourcePriority,omitempty"`
	Fields                           map[string]objectTypeFieldJSON `json:"fields,omitempty"`
	Keys                             map[string][]objectTypeKeyJSON `json:"keys,omitempty"`
	Tags                             map[string]string              `json:"tags,omitempty"`
}

type objectTypeFieldJSON struct {
	Source      string `json:"source"`
	Target      string `json:"target,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

type objectTypeKeyJSON struct {
	StandardIdentifiers []string `json:"standardIdentifiers,omitempty"`
	FieldNames          []string `json:"fieldNames,omitempty"`
}

// encodeObjectType returns the data column of ot.
func encodeObjectType(ot *profiles.ObjectType) (string, error) {
	j := objectTypeJSON{
		Description:                      ot.Description,
		TemplateID:                       ot.TemplateID,
		ExpirationDays:                   ot.ExpirationDays,
		EncryptionKey:                    ot.EncryptionKey,
		AllowProfileCreation:             ot.AllowProfileCreation,
		SourceLastUpdatedTimestampFormat: ot.SourceLastUpdatedTimestampFormat,
		MaxProfileObjectCount:            ot.MaxProfileObjectCount,
		SourcePriority:                   ot.SourcePriority,
		Tags:                             ot.Tags,
	}
	if len(ot.Fields) > 0 {
		j.Fields = make(map[string]objectTypeFieldJSON, len(ot.Fields))
		for name, f := range ot.Fields {
			j.Fields[name] = objectTypeFieldJSON{Source: f.Source, Target: f.Target, ContentType: f.ContentType}
		}
	}
	if len(ot.Keys) > 0 {
		j.Keys = make(map[string][]objectTypeKeyJSON, len(ot.Keys))
		for name, ks := range ot.Keys {
			out := make([]objectTypeKeyJSON, len(ks))
			for i, k := range ks {
				out[i] = objectTypeKeyJSON{StandardIdentifiers: k.StandardIdentifiers, FieldNames: k.FieldNames}
			}
			j.Keys[name] = out
		}
	}
	buf, err := json.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("encode object type %q: %w", ot.Name, err)
	}
	return string(buf), nil
}

// decodeObjectType sets the fields of ot held in the data column.
func decodeObjectType(ot *profiles.ObjectType, data string) error {
	var j objectTypeJSON
	if err := json.Unmarshal([]byte(data), &j); err != nil {
		return fmt.Errorf("decode object type %q of domain %q: %w", ot.Name, ot.DomainName, err)
	}
	ot.Description = j.Description
	ot.TemplateID = j.TemplateID
	ot.ExpirationDays = j.ExpirationDays
	ot.EncryptionKey = j.EncryptionKey
	ot.AllowProfileCreation = j.AllowProfileCreation
	ot.SourceLastUpdatedTimestampFormat = j.SourceLastUpdatedTimestampFormat
	ot.MaxProfileObjectCount = j.MaxProfileObjectCount
	ot.SourcePriority = j.SourcePriority
	ot.Tags = j.Tags
	if len(j.Fields) > 0 {
		ot.Fields = make(map[string]profiles.ObjectTypeField, len(j.Fields))
		for name, f := range j.Fields {
			ot.Fields[name] = profiles.ObjectTypeField{Source: f.Source, Target: f.Target, ContentType: f.ContentType}
		}
	}
	if len(j.Keys) > 0 {
		ot.Keys = make(map[string][]profiles.ObjectTypeKey, len(j.Keys))
		for name, ks := range j.Keys {
			out := make([]profiles.ObjectTypeKey, len(ks))
			for i, k := range ks {
				out[i] = profiles.ObjectTypeKey{StandardIdentifiers: k.StandardIdentifiers, FieldNames: k.FieldNames}
			}
			ot.Keys[name] = out
		}
	}
	return nil
}
