package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
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

// The streams with events are found a stream at a time, each step a seek
// of stream_events_by_stream (domain, stream; with the rowid, seq): a
// GROUP BY of the events would read every event, and a destination that
// is down leaves millions of them (two seconds a poll at two million).
const (
	// nextStreamSQL returns the stream after ? (2) of the domain ? (1).
	nextStreamSQL = `SELECT stream FROM stream_events WHERE domain = ? AND stream > ? ORDER BY stream LIMIT 1`
	// nextDomainStreamSQL returns the first stream of the domain after ?.
	nextDomainStreamSQL = `SELECT domain, stream FROM stream_events WHERE domain > ? ORDER BY domain, stream LIMIT 1`
	// firstStreamEventSQL returns the oldest event of a stream, and its
	// claim's end (0: none); no row when the stream has no events.
	firstStreamEventSQL = `SELECT seq, coalesce((SELECT claimed_until FROM stream_claims c WHERE c.domain = ?1 AND c.stream = ?2), 0)
		FROM stream_events WHERE domain = ?1 AND stream = ?2 ORDER BY seq LIMIT 1`
)

// rowQuerier is a database or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// claimableStreams returns the streams with events that no claim holds at
// at: never claimed (or finished) first, by their oldest event, then those
// whose claim lapsed, the lapsed first.
func claimableStreams(ctx context.Context, q rowQuerier, at int64) ([][2]string, error) {
	type stream struct {
		key          [2]string
		first, until int64
	}
	var found []stream
	var k [2]string
	for {
		err := q.QueryRowContext(ctx, nextStreamSQL, k[0], k[1]).Scan(&k[1])
		if errors.Is(err, sql.ErrNoRows) {
			err = q.QueryRowContext(ctx, nextDomainStreamSQL, k[0]).Scan(&k[0], &k[1])
		}
		if errors.Is(err, sql.ErrNoRows) {
			break
		} else if err != nil {
			return nil, err
		}
		var first, until int64
		switch err := q.QueryRowContext(ctx, firstStreamEventSQL, k[0], k[1]).Scan(&first, &until); {
		case errors.Is(err, sql.ErrNoRows):
			continue // its events went meanwhile
		case err != nil:
			return nil, err
		case until <= at:
			found = append(found, stream{k, first, until})
		}
	}
	slices.SortFunc(found, func(a, b stream) int {
		return cmp.Or(cmp.Compare(a.until, b.until), cmp.Compare(a.first, b.first))
	})
	keys := make([][2]string, len(found))
	for i, f := range found {
		keys[i] = f.key
	}
	return keys, nil
}

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
	var expired bool
	err := db.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM stream_events WHERE created_at < ?)`, expiredBefore).Scan(&expired)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if !expired {
		streams, err := claimableStreams(ctx, db.rdb, at)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		if len(streams) == 0 {
			return nil, 0, nil
		}
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
	streams, err := claimableStreams(ctx, tx, at)
	if err != nil {
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
	if err := db.commit(tx); err != nil {
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
	if err := db.commit(tx); err != nil {
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
	if err := db.commit(tx); err != nil {
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
