package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

var _ profiles.QueueStore = (*DB)(nil)

// The queues and messages of the built-in queue service live in the tables
// of migration 0006.
//
// Concurrency. ReceiveMessages runs one READ COMMITTED transaction that
// selects the oldest visible messages FOR UPDATE SKIP LOCKED and hides
// them (new visibility time and receipt handle) before it commits. A
// message another receiver holds is skipped, not waited for; one that
// another receiver hid and committed meanwhile is read again (READ
// COMMITTED re-checks the locked row's newest version) and left out as no
// longer visible. So concurrent receivers, in this process or on other
// nodes, never get the same message while it is hidden, and never wait
// for each other. DeleteMessage and ChangeVisibility find the message by
// its last receipt handle in the statement that writes it: one that waits
// for a receiver of the same message re-checks the handle once the
// receiver commits, and finds nothing if it changed. DeleteQueue takes the
// queue's messages with it (ON DELETE CASCADE). Every writing method is
// run again only after a deadlock (see retry); UpdateQueue's fn may then
// run again. Reads are single statements.

// Columns scanQueue and scanMessage read, in order.
const (
	queueColumns   = `name, url, arn, attributes, tags, created_at, updated_at`
	messageColumns = `queue, id, body, attributes, sent_at, visible_at, receive_count, receipt_handle, first_receive`
)

// SQL of ReceiveMessages.
const (
	// deleteExpiredMessagesSQL deletes the messages of queue $1 visible at
	// $2 and sent at or before $3 that no other transaction holds.
	deleteExpiredMessagesSQL = `DELETE FROM queue_messages m USING (
			SELECT id FROM queue_messages
			WHERE queue = $1 AND sent_at <= $3 AND visible_at <= $2
			FOR UPDATE SKIP LOCKED) e
		WHERE m.queue = $1 AND m.id = e.id`
	// selectVisibleSQL locks up to $4 messages of queue $1 visible at $2
	// and sent after $3, oldest first, that no other transaction holds.
	selectVisibleSQL = `SELECT ` + messageColumns + ` FROM queue_messages
		WHERE queue = $1 AND visible_at <= $2 AND sent_at > $3
		ORDER BY sent_at, id LIMIT $4
		FOR UPDATE SKIP LOCKED`
	// hideMessagesSQL hides the messages of queue $1 whose ids are $4 until
	// $2, with the receipt handles $5, received at $3.
	hideMessagesSQL = `UPDATE queue_messages m SET visible_at = $2, receipt_handle = r.handle,
			receive_count = m.receive_count + 1,
			first_receive = CASE WHEN m.first_receive = 0 THEN $3 ELSE m.first_receive END
		FROM unnest($4::text[], $5::text[]) AS r (id, handle)
		WHERE m.queue = $1 AND m.id = r.id`
)

// CreateQueue inserts q; a zero CreatedAt becomes the current time and a
// zero UpdatedAt CreatedAt, and q holds its times as stored. Returns
// ECONFLICT if the name is taken.
func (db *DB) CreateQueue(ctx context.Context, q *profiles.Queue) error {
	const op = "create queue"
	attrs, tags, err := encodeQueueMaps(q)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	created := stamp(q.CreatedAt, db.now().UnixMilli())
	updated := stamp(q.UpdatedAt, created)
	if _, err := db.pool.Exec(ctx, `INSERT INTO queues (`+queueColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		q.Name, q.URL, q.ARN, attrs, tags, created, updated,
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "queue %q already exists", q.Name)
	} else if err != nil {
		return wrap(op, err)
	}
	q.CreatedAt, q.UpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// FindQueue returns the named queue. Returns ENOTFOUND.
func (db *DB) FindQueue(ctx context.Context, name string) (*profiles.Queue, error) {
	return findQueue(ctx, db.pool, name, "")
}

// ListQueues returns up to limit queues (limit <= 0: all) whose names start
// with prefix and sort after after, in byte order. Returns EINVALID for a
// prefix that is not valid UTF-8.
func (db *DB) ListQueues(ctx context.Context, prefix, after string, limit int) ([]*profiles.Queue, error) {
	const op = "list queues"
	if !utf8.ValidString(prefix) {
		return nil, profiles.Errorf(profiles.EINVALID, "queue name prefix %q is not valid UTF-8", prefix)
	}
	query, args := `SELECT `+queueColumns+` FROM queues WHERE name > $1`, []any{after}
	if after < prefix {
		query, args = `SELECT `+queueColumns+` FROM queues WHERE name >= $1`, []any{prefix}
	}
	if upper, ok := prefixEnd(prefix); ok {
		query, args = query+` AND name < $2`, append(args, upper)
	}
	query += fmt.Sprintf(` ORDER BY name LIMIT $%d::bigint`, len(args)+1)
	rows, err := db.pool.Query(ctx, query, append(args, limitOrAll(limit))...)
	if err != nil {
		return nil, wrap(op, err)
	}
	return scanKMSRows(rows, op, scanQueue)
}

// UpdateQueue reads the queue, calls fn on it and stores the result, in one
// transaction that holds the queue's row, and returns the queue as stored.
// A zero UpdatedAt (or CreatedAt) becomes the current time. Returns
// ENOTFOUND, EINVALID if fn changes the name, and fn's error as is. fn
// runs again if the transaction is run again after a deadlock.
func (db *DB) UpdateQueue(ctx context.Context, name string, fn func(*profiles.Queue) error) (*profiles.Queue, error) {
	const op = "update queue"
	var out *profiles.Queue
	err := db.queueWrite(ctx, op, func(t *tx) error {
		q, err := findQueue(ctx, t.ptx, name, "FOR NO KEY UPDATE")
		if err != nil {
			return t.noteConflict(err)
		}
		if err := fn(q); err != nil {
			return err
		}
		if q.Name != name {
			return profiles.Errorf(profiles.EINVALID, "the name of queue %q cannot change", name)
		}
		attrs, tags, err := encodeQueueMaps(q)
		if err != nil {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		if _, err := t.ptx.Exec(ctx, `UPDATE queues SET url = $2, arn = $3, attributes = $4, tags = $5,
				created_at = $6, updated_at = $7
			WHERE name = $1`,
			name, q.URL, q.ARN, attrs, tags, stamp(q.CreatedAt, t.now), stamp(q.UpdatedAt, t.now),
		); err != nil {
			return t.wrap(op, err)
		}
		out, err = findQueue(ctx, t.ptx, name, "")
		return t.noteConflict(err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteQueue deletes the queue; its messages go with it (ON DELETE
// CASCADE). Returns ENOTFOUND.
func (db *DB) DeleteQueue(ctx context.Context, name string) error {
	return db.deleteKMSRow(ctx, "delete queue", `DELETE FROM queues WHERE name = $1`, queueNotFound(name), name)
}

// PutMessage inserts m; a zero SentAt becomes the current time and a zero
// VisibleAt SentAt, and m holds its times as stored. Returns ENOTFOUND for
// a missing queue and ECONFLICT if the queue holds a message of m's id.
func (db *DB) PutMessage(ctx context.Context, m *profiles.StoredMessage) error {
	const op = "put message"
	attrs, err := rowcodec.EncodeTags(m.Attributes)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	sent := stamp(m.SentAt, db.now().UnixMilli())
	visible := stamp(m.VisibleAt, sent)
	_, err = db.pool.Exec(ctx, `INSERT INTO queue_messages (`+messageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.QueueName, m.ID, m.Body, attrs, sent, visible, m.ReceiveCount, m.ReceiptHandle, expiresMillis(m.FirstReceive))
	switch {
	case isUniqueViolation(err):
		return profiles.Errorf(profiles.ECONFLICT, "message %q already exists in queue %q", m.ID, m.QueueName)
	case isForeignKeyViolation(err):
		return queueNotFound(m.QueueName)
	case err != nil:
		return wrap(op, err)
	}
	m.SentAt, m.VisibleAt, m.FirstReceive = fromMillis(sent), fromMillis(visible), fromExpires(expiresMillis(m.FirstReceive))
	return nil
}

// ReceiveMessages takes, in one transaction, up to max messages of the
// queue visible at now that no other receiver holds, oldest (SentAt, then
// ID) first, hides them until now+visibility with a new receipt handle
// each, and returns them as stored. When retention is positive, the
// visible messages sent at or before now-retention are deleted first (but
// those another transaction holds). Returns ENOTFOUND, and EINVALID for
// max < 1.
func (db *DB) ReceiveMessages(ctx context.Context, queue string, max int, now time.Time, visibility, retention time.Duration, handle func() string) ([]*profiles.StoredMessage, error) {
	const op = "receive messages"
	if max < 1 {
		return nil, profiles.Errorf(profiles.EINVALID, "cannot receive %d messages: at least 1", max)
	}
	at := now.UnixMilli()
	hidden := at + visibility.Milliseconds()
	cutoff := int64(-1 << 63) // sent_at > cutoff: every message
	if retention > 0 {
		cutoff = at - retention.Milliseconds()
	}
	var out []*profiles.StoredMessage
	err := db.queueWrite(ctx, op, func(t *tx) error {
		out = nil
		if ok, err := queueExists(ctx, t.ptx, queue); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return queueNotFound(queue)
		}
		if retention > 0 {
			if _, err := t.ptx.Exec(ctx, deleteExpiredMessagesSQL, queue, at, cutoff); err != nil {
				return t.wrap(op, err)
			}
		}
		rows, err := t.ptx.Query(ctx, selectVisibleSQL, queue, at, cutoff, max)
		if err != nil {
			return t.wrap(op, err)
		}
		msgs, err := scanKMSRows(rows, op, scanMessage)
		if err != nil || len(msgs) == 0 {
			return t.noteConflict(err)
		}
		ids, handles := make([]string, len(msgs)), make([]string, len(msgs))
		for i, m := range msgs {
			m.ReceiptHandle, m.VisibleAt = handle(), fromMillis(hidden)
			m.ReceiveCount++
			if m.FirstReceive.IsZero() {
				m.FirstReceive = fromMillis(at)
			}
			ids[i], handles[i] = m.ID, m.ReceiptHandle
		}
		tag, err := t.ptx.Exec(ctx, hideMessagesSQL, queue, hidden, at, ids, handles)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() != int64(len(msgs)) {
			return fmt.Errorf("postgres: %s: hid %d of the %d messages locked", op, tag.RowsAffected(), len(msgs))
		}
		out = msgs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMessage deletes the message of the queue whose last receipt handle
// is handle. Returns ENOTFOUND, naming the queue if it is missing.
func (db *DB) DeleteMessage(ctx context.Context, queue, handle string) error {
	return db.writeByHandle(ctx, "delete message", queue, handle,
		`DELETE FROM queue_messages WHERE queue = $1 AND receipt_handle = $2 AND receipt_handle <> ''`, queue, handle)
}

// ChangeVisibility sets the VisibleAt of the message of the queue whose
// last receipt handle is handle. Returns ENOTFOUND, naming the queue if it
// is missing.
func (db *DB) ChangeVisibility(ctx context.Context, queue, handle string, visibleAt time.Time) error {
	return db.writeByHandle(ctx, "change visibility", queue, handle,
		`UPDATE queue_messages SET visible_at = $3 WHERE queue = $1 AND receipt_handle = $2 AND receipt_handle <> ''`,
		queue, handle, visibleAt.UnixMilli())
}

// PurgeQueue deletes every message of the queue. Returns ENOTFOUND.
func (db *DB) PurgeQueue(ctx context.Context, queue string) error {
	const op = "purge queue"
	return db.queueWrite(ctx, op, func(t *tx) error {
		if ok, err := queueExists(ctx, t.ptx, queue); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return queueNotFound(queue)
		}
		_, err := t.ptx.Exec(ctx, `DELETE FROM queue_messages WHERE queue = $1`, queue)
		return t.wrap(op, err)
	})
}

// CountMessages returns how many messages of the queue are visible at now
// (VisibleAt at or before it) and how many are hidden, in one statement.
// Returns ENOTFOUND.
func (db *DB) CountMessages(ctx context.Context, queue string, now time.Time) (visible, hidden int, err error) {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queues WHERE name = $1),
			count(*) FILTER (WHERE visible_at <= $2), count(*) FILTER (WHERE visible_at > $2)
		FROM queue_messages WHERE queue = $1`, queue, now.UnixMilli()).Scan(&exists, &visible, &hidden); err != nil {
		return 0, 0, wrap("count messages", err)
	}
	if !exists {
		return 0, 0, queueNotFound(queue)
	}
	return visible, hidden, nil
}

// queueWrite runs write in a READ COMMITTED transaction and commits it,
// again after a deadlock, up to MaxAttempts times (see retry). write gets
// a tx whose now is the store's time at the start of the attempt.
func (db *DB) queueWrite(ctx context.Context, op string, write func(*tx) error) error {
	return db.retry(ctx, op, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(ptx pgx.Tx, now int64) (*tx, error) {
		t := &tx{ptx: ptx, now: now}
		return t, write(t)
	})
}

// writeByHandle runs query, a DELETE or UPDATE of the message of a receipt
// handle, and returns ENOTFOUND when it changes nothing: of the queue if it
// is missing, of the handle otherwise.
func (db *DB) writeByHandle(ctx context.Context, op, queue, handle, query string, args ...any) error {
	return db.queueWrite(ctx, op, func(t *tx) error {
		tag, err := t.ptx.Exec(ctx, query, args...)
		if err != nil {
			return t.wrap(op, err)
		} else if tag.RowsAffected() > 0 {
			return nil
		}
		if ok, err := queueExists(ctx, t.ptx, queue); err != nil {
			return t.wrap(op, err)
		} else if !ok {
			return queueNotFound(queue)
		}
		return profiles.Errorf(profiles.ENOTFOUND, "no message of queue %q has the receipt handle %q (deleted, or received again since)", queue, handle)
	})
}

// findQueue returns the named queue, with the row locking clause lock if
// not "". Returns ENOTFOUND.
func findQueue(ctx context.Context, q querier, name, lock string) (*profiles.Queue, error) {
	queue, err := scanQueue(q.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE name = $1 `+lock, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, queueNotFound(name)
	} else if err != nil {
		return nil, wrap("find queue", err)
	}
	return queue, nil
}

// queueExists reports whether the named queue exists.
func queueExists(ctx context.Context, q querier, name string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queues WHERE name = $1)`, name).Scan(&ok)
	return ok, err
}

func queueNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "queue %q not found", name)
}

// prefixEnd returns the least valid UTF-8 string greater than every string
// that starts with prefix, in byte order (which is code point order for
// valid UTF-8, and the order of the "C" collation), and false if there is
// none (prefix is empty or all U+10FFFF). prefix is valid UTF-8.
func prefixEnd(prefix string) (string, bool) {
	runes := []rune(prefix)
	for i := len(runes) - 1; i >= 0; i-- {
		r := runes[i] + 1
		if r >= 0xD800 && r <= 0xDFFF { // surrogates are not encodable
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			runes[i] = r
			return string(runes[:i+1]), true
		}
	}
	return "", false
}

// encodeQueueMaps returns the attributes and tags columns of q.
func encodeQueueMaps(q *profiles.Queue) (attrs, tags string, err error) {
	if attrs, err = rowcodec.EncodeTags(q.Attributes); err != nil {
		return "", "", fmt.Errorf("attributes: %w", err)
	}
	if tags, err = rowcodec.EncodeTags(q.Tags); err != nil {
		return "", "", err
	}
	return attrs, tags, nil
}

func scanQueue(row pgx.Row) (*profiles.Queue, error) {
	var q profiles.Queue
	var attrs, tags string
	var created, updated int64
	if err := row.Scan(&q.Name, &q.URL, &q.ARN, &attrs, &tags, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if q.Attributes, err = rowcodec.DecodeTags(attrs); err != nil {
		return nil, fmt.Errorf("queue %q: attributes: %w", q.Name, err)
	}
	if q.Tags, err = rowcodec.DecodeTags(tags); err != nil {
		return nil, fmt.Errorf("queue %q: %w", q.Name, err)
	}
	q.CreatedAt, q.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &q, nil
}

func scanMessage(row pgx.Row) (*profiles.StoredMessage, error) {
	var m profiles.StoredMessage
	var attrs string
	var sent, visible, first int64
	if err := row.Scan(&m.QueueName, &m.ID, &m.Body, &attrs, &sent, &visible, &m.ReceiveCount,
		&m.ReceiptHandle, &first); err != nil {
		return nil, err
	}
	var err error
	if m.Attributes, err = rowcodec.DecodeTags(attrs); err != nil {
		return nil, fmt.Errorf("message %q of queue %q: attributes: %w", m.ID, m.QueueName, err)
	}
	m.SentAt, m.VisibleAt, m.FirstReceive = fromMillis(sent), fromMillis(visible), fromExpires(first)
	return &m, nil
}
