package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

// PutHistory inserts a history record. The profile need not exist: history
// outlives its profile. A zero CreatedAt or LastUpdatedAt is the
// transaction's time; on success r holds the times as stored. Returns
// ECONFLICT for an id the profile has already and ENOTFOUND for a missing
// domain, and leaves the transaction usable.
func (t *tx) PutHistory(ctx context.Context, r *profiles.HistoryRecord) error {
	if err := t.writable("put history"); err != nil {
		return err
	}
	content, err := t.seal(ctx, historyRecord(r.DomainName, r.ProfileID, r.ID), r.Content)
	if err != nil {
		return fmt.Errorf("postgres: put history: %w", err)
	}
	if content == nil {
		content = []byte{} // NOT NULL
	}
	created, updated := stamp(r.CreatedAt, t.now), stamp(r.LastUpdatedAt, t.now)
	// DO NOTHING rather than a failed statement: a duplicate is told by
	// the count, and the transaction stays usable.
	tag, err := t.ptx.Exec(ctx, `INSERT INTO history (domain, profile_id, id, action_type,
			object_type, object_key, performed_by, content, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8::bytea, $9::bigint, $10::bigint
		WHERE EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)
		ON CONFLICT (domain, profile_id, id) DO NOTHING`,
		r.DomainName, r.ProfileID, r.ID, r.ActionType,
		r.ObjectTypeName, r.ObjectKey, r.PerformedBy, content, created, updated)
	if err != nil {
		return t.wrap("put history", err)
	} else if tag.RowsAffected() == 0 {
		if err := t.notFound(ctx, r.DomainName, ""); err != nil {
			return err
		}
		return profiles.Errorf(profiles.ECONFLICT, "history record %q of profile %q exists already in domain %q",
			r.ID, r.ProfileID, r.DomainName)
	}
	t.setTime(&r.CreatedAt, created)
	t.setTime(&r.LastUpdatedAt, updated)
	return nil
}

// ClearProfileHistory removes the content of every history record of a
// profile, keeping the records; it writes only those that have content,
// found through history_by_profile.
func (t *tx) ClearProfileHistory(ctx context.Context, domain, profileID string) error {
	if err := t.writable("clear profile history"); err != nil {
		return err
	}
	if _, err := t.ptx.Exec(ctx, clearProfileHistorySQL, domain, profileID); err != nil {
		return t.wrap("clear profile history", err)
	}
	return nil
}

// clearProfileHistorySQL empties the content of the history records of a
// profile ($1, $2).
const clearProfileHistorySQL = `UPDATE history SET content = ''::bytea
	WHERE domain = $1 AND profile_id = $2 AND content <> ''::bytea`

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
		return fmt.Errorf("postgres: update history: %w", err)
	}
	if content == nil {
		content = []byte{} // NOT NULL
	}
	updated := stamp(r.LastUpdatedAt, t.now)
	tag, err := t.ptx.Exec(ctx, `UPDATE history SET content = $1::bytea, performed_by = $2, updated_at = $3::bigint
		WHERE domain = $4 AND profile_id = $5 AND id = $6`,
		content, r.PerformedBy, updated, r.DomainName, r.ProfileID, r.ID)
	if err != nil {
		return t.wrap("update history", err)
	} else if tag.RowsAffected() == 0 {
		return t.notFound(ctx, r.DomainName, "history record %q of profile %q not found in domain %q", r.ID, r.ProfileID, r.DomainName)
	}
	t.setTime(&r.LastUpdatedAt, updated)
	return nil
}

// FindHistory returns one history record. Returns ENOTFOUND, naming the
// domain if it is missing and the record otherwise.
func (t *tx) FindHistory(ctx context.Context, domain, profileID, id string) (*profiles.HistoryRecord, error) {
	row := t.ptx.QueryRow(ctx, `SELECT `+historyColumns+` FROM history h
		WHERE h.domain = $1 AND h.profile_id = $2 AND h.id = $3`, domain, profileID, id)
	r, err := scanHistory(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "history record %q of profile %q not found in domain %q", id, profileID, domain)
	} else if err != nil {
		return nil, t.wrap("find history", err)
	}
	if err := t.openHistory(ctx, r); err != nil {
		return nil, fmt.Errorf("postgres: find history: %w", err)
	}
	return r, nil
}

// ListHistory returns up to q.Limit (<= 0: all) history records of a
// profile, newest first: by CreatedAt, then ID, both descending, after the
// position (q.AfterCreatedAt, q.AfterID) when either is set, and only those
// whose object type, object key, action type and performer are those of q, where q sets
// them. It reads the index history_by_profile, or history_by_object when q
// sets the object type and key (the records of one object: ingestion's
// look-up of an object received again). Returns ENOTFOUND for a
// missing domain; a missing or deleted profile has its history, if any.
func (t *tx) ListHistory(ctx context.Context, q profiles.HistoryQuery) ([]*profiles.HistoryRecord, error) {
	query, args := listHistorySQL(q)
	rows, err := t.ptx.Query(ctx, query, args...)
	if err != nil {
		return nil, t.wrap("list history", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*profiles.HistoryRecord, error) { return scanHistory(row) })
	if err != nil {
		return nil, t.wrap("list history", err)
	}
	if len(out) == 0 {
		return nil, t.notFound(ctx, q.DomainName, "")
	}
	if err := t.openHistory(ctx, out...); err != nil {
		return nil, fmt.Errorf("postgres: list history: %w", err)
	}
	return out, nil
}

// listHistorySQL returns the query of ListHistory and its parameters.
func listHistorySQL(q profiles.HistoryQuery) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + historyColumns + ` FROM history h WHERE h.domain = $1 AND h.profile_id = $2`)
	args := []any{q.DomainName, q.ProfileID}
	if !q.AfterCreatedAt.IsZero() || q.AfterID != "" {
		// Both columns descend in the index: the row comparison is a range of it.
		fmt.Fprintf(&b, ` AND (h.created_at, h.id) < ($%d, $%d)`, len(args)+1, len(args)+2)
		args = append(args, q.AfterCreatedAt.UnixMilli(), q.AfterID)
	}
	for _, f := range []struct{ column, value string }{
		{"object_type", q.ObjectTypeName},
		{"object_key", q.ObjectKey},
		{"action_type", q.ActionType},
		{"performed_by", q.PerformedBy},
	} {
		if f.value != "" {
			fmt.Fprintf(&b, ` AND h.%s = $%d`, f.column, len(args)+1)
			args = append(args, f.value)
		}
	}
	fmt.Fprintf(&b, ` ORDER BY h.created_at DESC, h.id DESC LIMIT $%d::bigint`, len(args)+1)
	args = append(args, limitOrAll(q.Limit))
	return b.String(), args
}

// historyColumns are the columns, of history aliased h, that scanHistory
// reads, in order.
const historyColumns = `h.domain, h.profile_id, h.id, h.action_type, h.object_type, h.object_key,
	h.performed_by, h.content, h.created_at, h.updated_at`

// scanHistory reads the historyColumns of one row.
func scanHistory(row pgx.Row) (*profiles.HistoryRecord, error) {
	var r profiles.HistoryRecord
	var created, updated int64
	if err := row.Scan(&r.DomainName, &r.ProfileID, &r.ID, &r.ActionType, &r.ObjectTypeName, &r.ObjectKey,
		&r.PerformedBy, &r.Content, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.LastUpdatedAt = fromMillis(created), fromMillis(updated)
	return &r, nil
}
