package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.EventOutbox = (*DB)(nil)

// Stream events live in the table of migration 0012, the claims of event
// streams in the table of migration 0013. A change writes its events in its
// own transaction (PutStreamEvents, on the group commit's writer); claims
// and finishes are write transactions of their own, and a claim that finds
// nothing to do (every stream with events held by a claim, nothing expired)
// writes nothing: it is a read.

const streamEventColumns = `e.seq, e.domain, e.stream, e.id, e.partition_key, d.data, e.created_at, e.attempts`

// claimableStreamsSQL returns the streams with events that no claim holds
// at ? (1): never claimed (or finished) first, by their oldest event, then
// those whose claim lapsed, the lapsed first. It reads each event's entry
// of stream_events_by_stream once (a stream's oldest is the first of its
// range).
const claimableStreamsSQL = `SELECT g.domain, g.stream FROM (
		SELECT domain, stream, min(seq) AS first FROM stream_events GROUP BY domain, stream) g
	LEFT JOIN stream_claims c ON c.domain = g.domain AND c.stream = g.stream
	WHERE c.claimed_until IS NULL OR c.claimed_until <= ?
	ORDER BY coalesce(c.claimed_until, 0), g.first`

// streamEventsSQL selects the oldest ? (3) events of one stream (1, 2).
const streamEventsSQL = `SELECT ` + streamEventColumns + ` FROM stream_events e
	JOIN stream_event_data d ON d.seq = e.seq
	WHERE e.domain = ? AND e.stream = ? ORDER BY e.seq LIMIT ?`

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

// ClaimStreamEvents claims event streams and their oldest events; see
// profiles.EventOutbox. It is one write transaction, so concurrent claims
// (the writer is one connection) never hold one stream at once; it begins
// one only when a read finds something to do.
func (db *DB) ClaimStreamEvents(ctx context.Context, now time.Time, lease, retention time.Duration, limit int) ([]*profiles.StreamEvent, int, error) {
	const op = "claim stream events"
	if limit < 1 {
		return nil, 0, profiles.Errorf(profiles.EINVALID, "cannot claim %d stream events: at least 1", limit)
	}
	at := now.UnixMilli()
	expiredBefore := int64(math.MinInt64)
	if retention > 0 {
		expiredBefore = at - retention.Milliseconds()
	}
	var work bool
	err := db.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM stream_events WHERE created_at < ?)
		OR EXISTS (`+claimableStreamsSQL+`)`, expiredBefore, at).Scan(&work)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if !work {
		return nil, 0, nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	dropped := 0
	if retention > 0 {
		res, err := tx.ExecContext(ctx, `DELETE FROM stream_events WHERE created_at < ?`, expiredBefore)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: delete expired: %w", op, err)
		}
		n, _ := res.RowsAffected()
		dropped = int(n)
		if dropped > 0 {
			// Lapsed claims of streams left without events.
			if _, err := tx.ExecContext(ctx, `DELETE FROM stream_claims WHERE claimed_until <= ? AND NOT EXISTS (
				SELECT 1 FROM stream_events e WHERE e.domain = stream_claims.domain AND e.stream = stream_claims.stream)`, at); err != nil {
				return nil, 0, fmt.Errorf("sqlite: %s: delete lapsed claims: %w", op, err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, claimableStreamsSQL, at)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var streams [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		streams = append(streams, k)
	}
	if err := rows.Close(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	until := at + lease.Milliseconds()
	var events []*profiles.StreamEvent
	for _, k := range streams {
		if len(events) == limit {
			break
		}
		rows, err := tx.QueryContext(ctx, streamEventsSQL, k[0], k[1], limit-len(events))
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		taken, err := scanKMSRows(rows, op, scanStreamEvent)
		if err != nil {
			return nil, 0, err
		}
		if len(taken) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stream_claims (domain, stream, claimed_until) VALUES (?, ?, ?)
			ON CONFLICT (domain, stream) DO UPDATE SET claimed_until = excluded.claimed_until`, k[0], k[1], until); err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stream_events SET attempts = attempts + 1 WHERE domain = ? AND stream = ? AND seq <= ?`,
			k[0], k[1], taken[len(taken)-1].Seq); err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		for _, e := range taken {
			e.Attempts++
			e.ClaimedUntil = fromMillis(until)
		}
		events = append(events, taken...)
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

// FinishStreamClaim deletes delivered events of a stream and, with
// release, ends its claim; see profiles.EventOutbox.
func (db *DB) FinishStreamClaim(ctx context.Context, domain, stream string, claimedUntil time.Time, delivered []int64, release bool) error {
	const op = "finish stream claim"
	if len(delivered) == 0 && !release {
		return nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	for seqs := delivered; len(seqs) > 0; {
		chunk := seqs[:min(len(seqs), 500)]
		seqs = seqs[len(chunk):]
		args := []any{domain, stream}
		for _, s := range chunk {
			args = append(args, s)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM stream_events WHERE domain = ? AND stream = ? AND seq IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...); err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		}
	}
	if release {
		if _, err := tx.ExecContext(ctx, `DELETE FROM stream_claims WHERE domain = ? AND stream = ? AND claimed_until = ?`,
			domain, stream, claimedUntil.UnixMilli()); err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// PurgeStreamEvents deletes the events of one event stream of a domain,
// and its claim.
func (db *DB) PurgeStreamEvents(ctx context.Context, domain, stream string) error {
	const op = "purge stream events"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM stream_events WHERE domain = ? AND stream = ?`, `DELETE FROM stream_claims WHERE domain = ? AND stream = ?`} {
		if _, err := tx.ExecContext(ctx, q, domain, stream); err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
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
