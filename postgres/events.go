package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

var _ profiles.EventOutbox = (*DB)(nil)

// Stream events live in the table of migration 0012.
//
// Concurrency. A change writes its events in its own transaction
// (PutStreamEvents, in Update's SERIALIZABLE transaction) with plain
// inserts: seq comes from a sequence, outside transactions, and nothing
// that reads stream_events runs at SERIALIZABLE, so the inserts add no
// serialization conflict between ingestions. ClaimStreamEvents runs one
// READ COMMITTED transaction, as ReceiveMessages does: it deletes the
// expired events no other transaction holds, then claims the oldest
// claimable ones in one statement that locks them FOR UPDATE SKIP LOCKED.
// An event another claimer holds is skipped, not waited for; one that
// another claimer claimed and committed meanwhile is read again (READ
// COMMITTED re-checks the locked row's newest version) and left out as
// claimed. So concurrent claimers, in this process or on other nodes, never
// get the same event while it is claimed, and never wait for each other.
// The deletes wait for the claimers that hold their rows. Every writing
// method is run again only after a deadlock (see retry). CountStreamEvents
// is a single statement.

// SQL of ClaimStreamEvents.
const (
	// deleteExpiredEventsSQL deletes the events created before $1 that no
	// other transaction holds.
	deleteExpiredEventsSQL = `DELETE FROM stream_events s USING (
			SELECT seq FROM stream_events WHERE created_at < $1
			FOR UPDATE SKIP LOCKED) e
		WHERE s.seq = e.seq`
	// claimEventsSQL claims until $2, with attempts + 1, up to $3 events
	// whose claim has lapsed at $1 (or that were never claimed), never
	// claimed first (by seq), then the claims lapsed first, that no other transaction holds, and returns them as claimed
	// (streamEventColumns), by seq.
	claimEventsSQL = `WITH claimed AS (
			UPDATE stream_events s SET claimed_until = $2, attempts = s.attempts + 1
			FROM (SELECT seq FROM stream_events WHERE claimed_until <= $1
				ORDER BY claimed_until, seq LIMIT $3 FOR UPDATE SKIP LOCKED) c
			WHERE s.seq = c.seq
			RETURNING ` + streamEventColumns + `)
		SELECT * FROM claimed ORDER BY seq`
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
			WHERE EXISTS (SELECT 1 FROM domains WHERE name = $1)
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

// ClaimStreamEvents claims events for delivery; see profiles.EventOutbox
// and the concurrency notes above. Events another transaction holds are
// neither deleted nor claimed. Returns EINVALID for limit < 1.
func (db *DB) ClaimStreamEvents(ctx context.Context, now time.Time, lease, retention time.Duration, limit int) ([]*profiles.StreamEvent, int, error) {
	const op = "claim stream events"
	if limit < 1 {
		return nil, 0, profiles.Errorf(profiles.EINVALID, "cannot claim %d stream events: at least 1", limit)
	}
	at := now.UnixMilli()
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
		}
		rows, err := t.ptx.Query(ctx, claimEventsSQL, at, at+lease.Milliseconds(), limit)
		if err != nil {
			return t.wrap(op, err)
		}
		events, err = scanKMSRows(rows, op, scanStreamEvent)
		return t.noteConflict(err)
	})
	if err != nil {
		return nil, 0, err
	}
	return events, dropped, nil
}

// DeleteStreamEvents deletes events by Seq; unknown ones are ignored.
func (db *DB) DeleteStreamEvents(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	return db.outboxExec(ctx, "delete stream events", `DELETE FROM stream_events WHERE seq = ANY($1::bigint[])`, seqs)
}

// PurgeStreamEvents deletes the events of one event stream of a domain.
func (db *DB) PurgeStreamEvents(ctx context.Context, domain, stream string) error {
	return db.outboxExec(ctx, "purge stream events", `DELETE FROM stream_events WHERE domain = $1 AND stream = $2`, domain, stream)
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

// outboxExec runs one statement in an outboxWrite transaction.
func (db *DB) outboxExec(ctx context.Context, op, query string, args ...any) error {
	return db.outboxWrite(ctx, op, func(t *tx) error {
		_, err := t.ptx.Exec(ctx, query, args...)
		return t.wrap(op, err)
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
