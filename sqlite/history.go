package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/openprofiles/profiles"
)

// PutHistory inserts a history record. The profile need not exist: history
// outlives its profile. A zero CreatedAt or LastUpdatedAt is the
// transaction's time; on success r holds the times as stored. Returns
// ECONFLICT for an id the profile has already and ENOTFOUND for a missing
// domain.
func (t *tx) PutHistory(ctx context.Context, r *profiles.HistoryRecord) error {
	if err := t.writable("put history"); err != nil {
		return err
	}
	content, err := t.seal(ctx, historyRecord(r.DomainName, r.ProfileID, r.ID), r.Content)
	if err != nil {
		return fmt.Errorf("sqlite: put history: %w", err)
	}
	if content == nil {
		content = []byte{} // NOT NULL
	}
	created, updated := stamp(r.CreatedAt, t.now), stamp(r.LastUpdatedAt, t.now)
	// DO NOTHING rather than a failed statement: a duplicate is told by
	// the count, and the transaction stays usable.
	res, err := t.stx.ExecContext(ctx, `INSERT INTO history (domain, profile_id, id, action_type,
			object_type, object_key, performed_by, content, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, profile_id, id) DO NOTHING`,
		r.DomainName, r.ProfileID, r.ID, r.ActionType,
		r.ObjectTypeName, r.ObjectKey, r.PerformedBy, content, created, updated)
	if isForeignKeyViolation(err) {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", r.DomainName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put history: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: put history: %w", err)
	} else if n == 0 {
		return profiles.Errorf(profiles.ECONFLICT, "history record %q of profile %q exists already in domain %q",
			r.ID, r.ProfileID, r.DomainName)
	}
	r.CreatedAt, r.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// ClearProfileHistory removes the content of every history record of a
// profile, keeping the records; it writes only those that have content,
// found through history_by_profile.
func (t *tx) ClearProfileHistory(ctx context.Context, domain, profileID string) error {
	if err := t.writable("clear profile history"); err != nil {
		return err
	}
	if _, err := t.stx.ExecContext(ctx, clearProfileHistorySQL, domain, profileID); err != nil {
		return fmt.Errorf("sqlite: clear profile history: %w", err)
	}
	return nil
}

// clearProfileHistorySQL empties the content of the history records of a
// profile (?1, ?2).
const clearProfileHistorySQL = `UPDATE history SET content = X''
	WHERE domain = ?1 AND profile_id = ?2 AND content <> X''`

// UpdateHistory replaces the content, performer and LastUpdatedAt (zero:
// the transaction's time) of a history record; on success r holds the time
// as stored. Returns ENOTFOUND, naming the domain if it is missing and the
// record otherwise.
func (t *tx) UpdateHistory(ctx context.Context, r *profiles.HistoryRecord) error {
	if err := t.writable("update history"); err != nil {
		return err
	}
	content, err := t.seal(ctx, historyRecord(r.DomainName, r.ProfileID, r.ID), r.Content)
	if err != nil {
		return fmt.Errorf("sqlite: update history: %w", err)
	}
	if content == nil {
		content = []byte{} // NOT NULL
	}
	updated := stamp(r.LastUpdatedAt, t.now)
	res, err := t.stx.ExecContext(ctx, `UPDATE history SET content = ?, performed_by = ?, updated_at = ?
		WHERE domain = ? AND profile_id = ? AND id = ?`,
		content, r.PerformedBy, updated, r.DomainName, r.ProfileID, r.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update history: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update history: %w", err)
	} else if n == 0 {
		return t.notFound(ctx, r.DomainName, "history record %q of profile %q not found in domain %q", r.ID, r.ProfileID, r.DomainName)
	}
	r.LastUpdatedAt = fromMillis(updated)
	return nil
}

// FindHistory returns one history record. Returns ENOTFOUND, naming the
// domain if it is missing and the record otherwise.
func (t *tx) FindHistory(ctx context.Context, domain, profileID, id string) (*profiles.HistoryRecord, error) {
	row := t.stx.QueryRowContext(ctx, `SELECT `+historyColumns+` FROM history h
		WHERE h.domain = ? AND h.profile_id = ? AND h.id = ?`, domain, profileID, id)
	r, err := scanHistory(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "history record %q of profile %q not found in domain %q", id, profileID, domain)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find history: %w", err)
	}
	if r.Content, err = t.open(ctx, historyRecord(r.DomainName, r.ProfileID, r.ID), r.Content); err != nil {
		return nil, fmt.Errorf("sqlite: find history: %w", err)
	}
	return r, nil
}

// ListHistory returns up to q.Limit (<= 0: all) history records of a
// profile, newest first: by CreatedAt, then ID, both descending, after the
// position (q.AfterCreatedAt, q.AfterID) when either is set, and only those
// whose object type, object key, action type and performer are those of q, where q sets
// them. It reads the index history_by_profile, whose entries hold the
// object key: when q sets it (ingestion's look-up of an object received
// again), only the rows of that key are read. Returns ENOTFOUND for a
// missing domain; a missing or deleted profile has its history, if any.
func (t *tx) ListHistory(ctx context.Context, q profiles.HistoryQuery) ([]*profiles.HistoryRecord, error) {
	query, args := listHistorySQL(q)
	rows, err := t.stx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list history: %w", err)
	}
	defer rows.Close()
	var out []*profiles.HistoryRecord
	for rows.Next() {
		r, err := scanHistory(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list history: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list history: %w", err)
	}
	rows.Close()
	for _, r := range out {
		if r.Content, err = t.open(ctx, historyRecord(r.DomainName, r.ProfileID, r.ID), r.Content); err != nil {
			return nil, fmt.Errorf("sqlite: list history: %w", err)
		}
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, q.DomainName, "")
	}
	return out, nil
}

// listHistorySQL returns the query of ListHistory and its parameters.
func listHistorySQL(q profiles.HistoryQuery) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + historyColumns + ` FROM history h WHERE h.domain = ? AND h.profile_id = ?`)
	args := []any{q.DomainName, q.ProfileID}
	if !q.AfterCreatedAt.IsZero() || q.AfterID != "" {
		// A row value comparison: SQLite uses it as a range of the index.
		b.WriteString(` AND (h.created_at, h.id) < (?, ?)`)
		args = append(args, q.AfterCreatedAt.UnixMilli(), q.AfterID)
	}
	for _, f := range []struct{ column, value string }{
		{"object_type", q.ObjectTypeName},
		{"object_key", q.ObjectKey},
		{"action_type", q.ActionType},
		{"performed_by", q.PerformedBy},
	} {
		if f.value != "" {
			b.WriteString(` AND h.` + f.column + ` = ?`)
			args = append(args, f.value)
		}
	}
	b.WriteString(` ORDER BY h.created_at DESC, h.id DESC LIMIT ?`)
	args = append(args, limitOrAll(q.Limit))
	return b.String(), args
}

// historyColumns are the columns, of history aliased h, that scanHistory
// reads, in order.
const historyColumns = `h.domain, h.profile_id, h.id, h.action_type, h.object_type, h.object_key,
	h.performed_by, h.content, h.created_at, h.updated_at`

// scanHistory reads the historyColumns of one row.
func scanHistory(row interface{ Scan(...any) error }) (*profiles.HistoryRecord, error) {
	var r profiles.HistoryRecord
	var created, updated int64
	if err := row.Scan(&r.DomainName, &r.ProfileID, &r.ID, &r.ActionType, &r.ObjectTypeName, &r.ObjectKey,
		&r.PerformedBy, &r.Content, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &r, nil
}
