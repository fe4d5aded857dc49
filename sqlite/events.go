package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.EventOutbox = (*DB)(nil)

// Stream events live in the table of migration 0012. A change writes its
// events in its own transaction (PutStreamEvents, on the group commit's
// writer); claims and deletes are write transactions of their own.

const streamEventColumns = `e.seq, e.domain, e.stream, e.id, e.partition_key, d.data, e.created_at, e.attempts`

// claimEventsSQL selects up to ? (2) events whose claim lapsed at ? (1),
// never claimed first (by seq), then those whose claim lapsed first: a
// range of stream_events_by_claim that stops at the limit.
const claimEventsSQL = `SELECT ` + streamEventColumns + ` FROM stream_events e
	JOIN stream_event_data d ON d.seq = e.seq
	WHERE e.claimed_until <= ? ORDER BY e.claimed_until, e.seq LIMIT ?`

// PutStreamEvents inserts events, setting each one's Seq and, when zero,
// CreatedAt (the transaction's time). Returns ENOTFOUND for a missing
// domain.
func (t *tx) PutStreamEvents(ctx context.Context, events []*profiles.StreamEvent) error {
	if err := t.writable("put stream events"); err != nil {
		return err
	}
	for _, e := range events {
		created := stamp(e.CreatedAt, t.now)
		var seq int64
		err := t.stx.QueryRowContext(ctx, `INSERT INTO stream_events (domain, stream, id, partition_key, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING seq`,
			e.DomainName, e.StreamName, e.ID, e.PartitionKey, created).Scan(&seq)
		if isForeignKeyViolation(err) {
			return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", e.DomainName)
		} else if err != nil {
			return fmt.Errorf("sqlite: put stream events: %w", err)
		}
		if _, err := t.stx.ExecContext(ctx, `INSERT INTO stream_event_data (seq, data) VALUES (?, ?)`, seq, nonNil(e.Data)); err != nil {
			return fmt.Errorf("sqlite: put stream events: %w", err)
		}
		e.Seq, e.CreatedAt = seq, fromMillis(created)
	}
	return nil
}

// ClaimStreamEvents claims events for delivery; see profiles.EventOutbox.
// It is one write transaction, so concurrent claims (the writer is one
// connection) never take the same event.
func (db *DB) ClaimStreamEvents(ctx context.Context, now time.Time, lease, retention time.Duration, limit int) ([]*profiles.StreamEvent, int, error) {
	const op = "claim stream events"
	if limit < 1 {
		return nil, 0, profiles.Errorf(profiles.EINVALID, "cannot claim %d stream events: at least 1", limit)
	}
	at := now.UnixMilli()
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	dropped := 0
	if retention > 0 {
		res, err := tx.ExecContext(ctx, `DELETE FROM stream_events WHERE created_at < ?`, at-retention.Milliseconds())
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: delete expired: %w", op, err)
		}
		n, _ := res.RowsAffected()
		dropped = int(n)
	}
	rows, err := tx.QueryContext(ctx, claimEventsSQL, at, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	events, err := scanKMSRows(rows, op, scanStreamEvent)
	if err != nil {
		return nil, 0, err
	}
	if len(events) > 0 {
		args := []any{at + lease.Milliseconds()}
		for _, e := range events {
			e.Attempts++
			args = append(args, e.Seq)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stream_events SET claimed_until = ?, attempts = attempts + 1
			WHERE seq IN (?`+strings.Repeat(", ?", len(events)-1)+`)`, args...); err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	slices.SortFunc(events, func(a, b *profiles.StreamEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	return events, dropped, nil
}

func scanStreamEvent(r kmsRow) (*profiles.StreamEvent, error) {
	var e profiles.StreamEvent
	var created int64
	if err := r.Scan(&e.Seq, &e.DomainName, &e.StreamName, &e.ID, &e.PartitionKey, &e.Data, &created, &e.Attempts); err != nil {
		return nil, err
	}
	e.CreatedAt = fromMillis(created)
	return &e, nil
}

// DeleteStreamEvents deletes events by Seq.
func (db *DB) DeleteStreamEvents(ctx context.Context, seqs []int64) error {
	const op = "delete stream events"
	for len(seqs) > 0 {
		chunk := seqs[:min(len(seqs), 500)]
		seqs = seqs[len(chunk):]
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		if err := db.execWrite(ctx, op, `DELETE FROM stream_events WHERE seq IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// PurgeStreamEvents deletes the events of one event stream of a domain.
func (db *DB) PurgeStreamEvents(ctx context.Context, domain, stream string) error {
	return db.execWrite(ctx, "purge stream events", `DELETE FROM stream_events WHERE domain = ? AND stream = ?`, domain, stream)
}

// CountStreamEvents counts the events of one event stream of a domain.
func (db *DB) CountStreamEvents(ctx context.Context, domain, stream string) (int, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM stream_events WHERE domain = ? AND stream = ?`, domain, stream).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count stream events: %w", err)
	}
	return n, nil
}

// execWrite runs one statement in a write transaction of its own.
func (db *DB) execWrite(ctx context.Context, op, query string, args ...any) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}
