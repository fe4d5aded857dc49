package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

var _ profiles.EventOutbox = (*DB)(nil)

// Stream events live in the table of migration 0012, the claims of event
// streams in the table of migration 0013.
//
// Concurrency. A change writes its events in its own transaction
// (PutStreamEvents, in Update's SERIALIZABLE transaction) with plain
// inserts: seq comes from a sequence, outside transactions, and nothing
// that reads stream_events runs at SERIALIZABLE, so the inserts add no
// serialization conflict between ingestions. ClaimStreamEvents runs one
// READ COMMITTED transaction, as ReceiveMessages does: it deletes the
// expired events no other transaction holds, reads the streams no claim
// holds, and claims each with an upsert of its stream_claims row that
// takes effect only if the row's claim has lapsed. A concurrent claimer of
// the same stream waits for the row, then (READ COMMITTED re-checks the
// newest version) finds it claimed and skips the stream. So one stream is
// held by one claimer at a time, in this process or on other nodes, and
// its events go out in order. Only the claimer of a stream touches its
// events (attempts); the deletes of delivered events (FinishStreamClaim)
// and of expired ones are the only other writers. Every writing method is
// run again only after a deadlock (see retry; two claimers may lock two
// streams' rows in opposite orders). CountStreamEvents is a single
// statement.

// SQL of ClaimStreamEvents.
const (
	// deleteExpiredEventsSQL deletes the events created before $1 that no
	// other transaction holds.
	deleteExpiredEventsSQL = `DELETE FROM stream_events s USING (
			SELECT seq FROM stream_events WHERE created_at < $1
			FOR UPDATE SKIP LOCKED) e
		WHERE s.seq = e.seq`
	// claimableStreamsSQL returns the streams with events that no claim
	// holds at $1: never claimed (or finished) first, by their oldest
	// event, then those whose claim lapsed, the lapsed first. The streams
	// are found one seek of stream_events_by_stream after the other (a
	// GROUP BY would read every event: 0.3 s a poll at two million, the
	// backlog of a destination that is down).
	claimableStreamsSQL = `WITH RECURSIVE s AS (
			(SELECT domain, stream FROM stream_events ORDER BY domain, stream LIMIT 1)
			UNION ALL
			SELECT n.domain, n.stream FROM s, LATERAL (
				SELECT e.domain, e.stream FROM stream_events e
				WHERE (e.domain, e.stream) > (s.domain, s.stream) ORDER BY e.domain, e.stream LIMIT 1) n)
		SELECT s.domain, s.stream FROM s
		LEFT JOIN stream_claims c ON c.domain = s.domain AND c.stream = s.stream
		WHERE c.claimed_until IS NULL OR c.claimed_until <= $1
		ORDER BY coalesce(c.claimed_until, 0),
			(SELECT min(e.seq) FROM stream_events e WHERE e.domain = s.domain AND e.stream = s.stream)`
	// claimStreamSQL claims the stream ($1, $2) until $4 if no claim holds
	// it at $3, and returns a row if it did.
	claimStreamSQL = `INSERT INTO stream_claims (domain, stream, claimed_until) VALUES ($1, $2, $4)
		ON CONFLICT (domain, stream) DO UPDATE SET claimed_until = EXCLUDED.claimed_until
		WHERE stream_claims.claimed_until <= $3
		RETURNING claimed_until`
	// takeEventsSQL takes the oldest $3 events of the stream ($1, $2),
	// attempts + 1, and returns them (streamEventColumns), by seq.
	takeEventsSQL = `WITH taken AS (
			UPDATE stream_events s SET attempts = s.attempts + 1
			FROM (SELECT seq FROM stream_events WHERE domain = $1 AND stream = $2 ORDER BY seq LIMIT $3) c
			WHERE s.seq = c.seq
			RETURNING ` + streamEventColumns + `)
		SELECT * FROM taken ORDER BY seq`
)

// streamEventColumns are the columns scanStreamEvent reads, in order.
const streamEventColumns = `s.seq, s.domain, s.stream, s.id, s.partition_key, s.data, s.created_at, s.attempts`

// PutStreamEvents inserts events, setting each one's Seq and, when zero,
// CreatedAt (the transaction's time). Returns ENOTFOUND for a missing
// domain, and leaves the transaction usable.
func (t *tx) PutStreamEvents(ctx context.Context, events []*profiles.StreamEvent) error {
	const op = "put stream events"
	if err := t.writable(op); err != nil {
		return err
	}
	for _, e := range events {
		created := stamp(e.CreatedAt, t.now)
		// The domain is checked in the statement rather than by the
		// foreign key, whose failure would abort the transaction.
		var seq int64
		err := t.ptx.QueryRow(ctx, `INSERT INTO stream_events (domain, stream, id, partition_key, data, created_at)
			SELECT $1, $2, $3, $4, $5::bytea, $6::bigint
			WHERE EXISTS (SELECT 1 FROM domains WHERE name = $1 AND deleting_at = 0)
			RETURNING seq`,
			e.DomainName, e.StreamName, e.ID, e.PartitionKey, kmsMaterial(e.Data), created).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := t.notFound(ctx, e.DomainName, ""); err != nil {
				return err
			}
			return fmt.Errorf("postgres: %s: domain %q exists but the insert found none", op, e.DomainName)
		} else if err != nil {
			return t.wrap(op, err)
		}
		e.Seq = seq
		t.setTime(&e.CreatedAt, created)
	}
	return nil
}

// ClaimStreamEvents claims event streams and their oldest events; see
// profiles.EventOutbox and the concurrency notes above. Expired events
// another transaction holds are not deleted. Returns EINVALID for
// limit < 1.
func (db *DB) ClaimStreamEvents(ctx context.Context, now time.Time, lease, retention time.Duration, limit int) ([]*profiles.StreamEvent, int, error) {
	const op = "claim stream events"
	if limit < 1 {
		return nil, 0, profiles.Errorf(profiles.EINVALID, "cannot claim %d stream events: at least 1", limit)
	}
	at := now.UnixMilli()
	until := at + lease.Milliseconds()
	var (
		events  []*profiles.StreamEvent
		dropped int
	)
	err := db.outboxWrite(ctx, op, func(t *tx) error {
		events, dropped = nil, 0
		if retention > 0 {
			tag, err := t.ptx.Exec(ctx, deleteExpiredEventsSQL, at-retention.Milliseconds())
			if err != nil {
				return t.wrap(op, err)
			}
			dropped = int(tag.RowsAffected())
			if dropped > 0 {
				// Lapsed claims of streams left without events.
				if _, err := t.ptx.Exec(ctx, `DELETE FROM stream_claims c WHERE c.claimed_until <= $1 AND NOT EXISTS (
					SELECT 1 FROM stream_events e WHERE e.domain = c.domain AND e.stream = c.stream)`, at); err != nil {
					return t.wrap(op, err)
				}
			}
		}
		rows, err := t.ptx.Query(ctx, claimableStreamsSQL, at)
		if err != nil {
			return t.wrap(op, err)
		}
		streams, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
			var k [2]string
			return k, r.Scan(&k[0], &k[1])
		})
		if err != nil {
			return t.wrap(op, err)
		}
		for _, k := range streams {
			if len(events) == limit {
				break
			}
			var got int64
			switch err := t.ptx.QueryRow(ctx, claimStreamSQL, k[0], k[1], at, until).Scan(&got); {
			case errors.Is(err, pgx.ErrNoRows):
				continue // another claimer holds it
			case err != nil:
				return t.wrap(op, err)
			}
			rows, err := t.ptx.Query(ctx, takeEventsSQL, k[0], k[1], limit-len(events))
			if err != nil {
				return t.wrap(op, err)
			}
			taken, err := scanKMSRows(rows, op, scanStreamEvent)
			if err != nil {
				return t.noteConflict(err)
			}
			if len(taken) == 0 {
				// Delivered or expired meanwhile: let the stream go.
				if _, err := t.ptx.Exec(ctx, `DELETE FROM stream_claims WHERE domain = $1 AND stream = $2 AND claimed_until = $3`, k[0], k[1], until); err != nil {
					return t.wrap(op, err)
				}
				continue
			}
			for _, e := range taken {
				e.ClaimedUntil = fromMillis(until)
			}
			events = append(events, taken...)
		}
		slices.SortFunc(events, func(a, b *profiles.StreamEvent) int { return cmp.Compare(a.Seq, b.Seq) })
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return events, dropped, nil
}

// FinishStreamClaim deletes delivered events of a stream and, with
// release, ends its claim; see profiles.EventOutbox.
func (db *DB) FinishStreamClaim(ctx context.Context, domain, stream string, claimedUntil time.Time, delivered []int64, release bool) error {
	const op = "finish stream claim"
	if len(delivered) == 0 && !release {
		return nil
	}
	return db.outboxWrite(ctx, op, func(t *tx) error {
		if len(delivered) > 0 {
			if _, err := t.ptx.Exec(ctx, `DELETE FROM stream_events WHERE domain = $1 AND stream = $2 AND seq = ANY($3::bigint[])`,
				domain, stream, delivered); err != nil {
				return t.wrap(op, err)
			}
		}
		if release {
			if _, err := t.ptx.Exec(ctx, `DELETE FROM stream_claims WHERE domain = $1 AND stream = $2 AND claimed_until = $3`,
				domain, stream, claimedUntil.UnixMilli()); err != nil {
				return t.wrap(op, err)
			}
		}
		return nil
	})
}

// PurgeStreamEvents deletes the events of one event stream of a domain,
// and its claim.
func (db *DB) PurgeStreamEvents(ctx context.Context, domain, stream string) error {
	const op = "purge stream events"
	return db.outboxWrite(ctx, op, func(t *tx) error {
		for _, q := range []string{`DELETE FROM stream_events WHERE domain = $1 AND stream = $2`, `DELETE FROM stream_claims WHERE domain = $1 AND stream = $2`} {
			if _, err := t.ptx.Exec(ctx, q, domain, stream); err != nil {
				return t.wrap(op, err)
			}
		}
		return nil
	})
}

// CountStreamEvents counts the events of one event stream of a domain.
func (db *DB) CountStreamEvents(ctx context.Context, domain, stream string) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM stream_events WHERE domain = $1 AND stream = $2`,
		domain, stream).Scan(&n); err != nil {
		return 0, wrap("count stream events", err)
	}
	return n, nil
}

// outboxWrite runs write in a READ COMMITTED transaction and commits it,
// again after a deadlock, up to MaxAttempts times (see retry). write gets
// a tx whose now is the store's time at the start of the attempt.
func (db *DB) outboxWrite(ctx context.Context, op string, write func(*tx) error) error {
	return db.retry(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx, now: now}
		return t, write(t)
	})
}

// scanStreamEvent reads the streamEventColumns of one row.
func scanStreamEvent(row pgx.Row) (*profiles.StreamEvent, error) {
	var e profiles.StreamEvent
	var created int64
	if err := row.Scan(&e.Seq, &e.DomainName, &e.StreamName, &e.ID, &e.PartitionKey, &e.Data, &created, &e.Attempts); err != nil {
		return nil, err
	}
	e.CreatedAt = fromMillis(created)
	return &e, nil
}
