package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

var _ profiles.QueueStore = (*DB)(nil)

// The queues and messages of the built-in queue service live in the tables
// of migration 0006.
//
// Every writing method is one write transaction on the writer connection:
// a single statement, or BEGIN IMMEDIATE, which holds SQLite's write lock
// from its first statement on. So ReceiveMessages, which selects the
// visible messages and hides them (a new receipt handle and visibility
// time) in one transaction, is atomic with every other writer of this
// process and of any other process on the same file: two receivers never
// get the same message while it is hidden. DeleteMessage and
// ChangeVisibility find a message by its last receipt handle: a receive
// replaces the handle, so an older one finds nothing. DeleteQueue takes the
// queue's messages with it (ON DELETE CASCADE). Reads run on the reader
// pool, in one snapshot.

// Columns scanQueue and scanMessage read, in order.
const (
	queueColumns   = `name, url, arn, attributes, tags, created_at, updated_at`
	messageColumns = `queue, id, body, attributes, sent_at, visible_at, receive_count, receipt_handle, first_receive`
)

// CreateQueue inserts q; a zero CreatedAt becomes the current time and a
// zero UpdatedAt CreatedAt, and q holds its times as stored. Returns
// ECONFLICT if the name is taken.
func (db *DB) CreateQueue(ctx context.Context, q *profiles.Queue) error {
	const op = "create queue"
	attrs, tags, err := encodeQueueMaps(q)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	created := stamp(q.CreatedAt, db.now().UnixMilli())
	updated := created
	if !q.UpdatedAt.IsZero() {
		updated = q.UpdatedAt.UnixMilli()
	}
	if _, err := db.execWrite(ctx, `INSERT INTO queues (`+queueColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		q.Name, q.URL, q.ARN, attrs, tags, created, updated,
	); isUniqueViolation(err) {
		return profiles.Errorf(profiles.ECONFLICT, "queue %q already exists", q.Name)
	} else if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	q.CreatedAt, q.UpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// FindQueue returns the named queue. Returns ENOTFOUND.
func (db *DB) FindQueue(ctx context.Context, name string) (*profiles.Queue, error) {
	return findQueue(ctx, db.rdb, name)
}

// ListQueues returns up to limit queues (limit <= 0: all) whose names start
// with prefix and sort after after, in byte order.
func (db *DB) ListQueues(ctx context.Context, prefix, after string, limit int) ([]*profiles.Queue, error) {
	const op = "list queues"
	query, args := `SELECT `+queueColumns+` FROM queues WHERE name > ?`, []any{after}
	if after < prefix {
		query, args = `SELECT `+queueColumns+` FROM queues WHERE name >= ?`, []any{prefix}
	}
	if upper, ok := prefixEnd(prefix); ok {
		query, args = query+` AND name < ?`, append(args, upper)
	}
	rows, err := db.rdb.QueryContext(ctx, query+` ORDER BY name LIMIT ?`, append(args, limitOrAll(limit))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return scanKMSRows(rows, op, scanQueue)
}

// UpdateQueue reads the queue, calls fn on it and stores the result, in one
// write transaction, and returns the queue as stored. A zero UpdatedAt (or
// CreatedAt) becomes the current time. Returns ENOTFOUND, EINVALID if fn
// changes the name, and fn's error as is.
func (db *DB) UpdateQueue(ctx context.Context, name string, fn func(*profiles.Queue) error) (*profiles.Queue, error) {
	const op = "update queue"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()

	q, err := findQueue(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if err := fn(q); err != nil {
		return nil, err
	}
	if q.Name != name {
		return nil, profiles.Errorf(profiles.EINVALID, "the name of queue %q cannot change", name)
	}
	attrs, tags, err := encodeQueueMaps(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	now := db.now().UnixMilli()
	if _, err := tx.ExecContext(ctx, `UPDATE queues SET url = ?, arn = ?, attributes = ?, tags = ?,
			created_at = ?, updated_at = ?
		WHERE name = ?`,
		q.URL, q.ARN, attrs, tags, stamp(q.CreatedAt, now), stamp(q.UpdatedAt, now), name,
	); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if q, err = findQueue(ctx, tx, name); err != nil {
		return nil, err
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return q, nil
}

// DeleteQueue deletes the queue; its messages go with it (ON DELETE
// CASCADE). Returns ENOTFOUND.
func (db *DB) DeleteQueue(ctx context.Context, name string) error {
	return db.deleteKMSRow(ctx, "delete queue", `DELETE FROM queues WHERE name = ?`, queueNotFound(name), name)
}

// PutMessage inserts m; a zero SentAt becomes the current time and a zero
// VisibleAt SentAt, and m holds its times as stored. Returns ENOTFOUND for
// a missing queue and ECONFLICT if the queue holds a message of m's id.
func (db *DB) PutMessage(ctx context.Context, m *profiles.StoredMessage) error {
	const op = "put message"
	attrs, err := rowcodec.EncodeTags(m.Attributes)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	sent := stamp(m.SentAt, db.now().UnixMilli())
	visible := stamp(m.VisibleAt, sent)
	_, err = db.execWrite(ctx, `INSERT INTO queue_messages (`+messageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.QueueName, m.ID, m.Body, attrs, sent, visible, m.ReceiveCount, m.ReceiptHandle, kmsMillis(m.FirstReceive))
	switch {
	case isUniqueViolation(err):
		return profiles.Errorf(profiles.ECONFLICT, "message %q already exists in queue %q", m.ID, m.QueueName)
	case isForeignKeyViolation(err):
		return queueNotFound(m.QueueName)
	case err != nil:
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	m.SentAt, m.VisibleAt, m.FirstReceive = fromMillis(sent), fromMillis(visible), kmsTime(kmsMillis(m.FirstReceive))
	return nil
}

// ReceiveMessages takes, in one write transaction, up to max messages of
// the queue visible at now, oldest (SentAt, then ID) first, hides them
// until now+visibility with a new receipt handle each, and returns them as
// stored. When retention is positive, the visible messages sent at or
// before now-retention are deleted first. Returns ENOTFOUND, and EINVALID
// for max < 1.
func (db *DB) ReceiveMessages(ctx context.Context, queue string, max int, now time.Time, visibility, retention time.Duration, handle func() string) ([]*profiles.StoredMessage, error) {
	const op = "receive messages"
	if max < 1 {
		return nil, profiles.Errorf(profiles.EINVALID, "cannot receive %d messages: at least 1", max)
	}
	at := now.UnixMilli()
	hidden := at + visibility.Milliseconds()
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()

	if err := queueExists(ctx, tx, queue); err != nil {
		return nil, err
	}
	if retention > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_messages
			WHERE queue = ? AND visible_at <= ? AND sent_at <= ?`, queue, at, at-retention.Milliseconds()); err != nil {
			return nil, fmt.Errorf("sqlite: %s: delete expired: %w", op, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+messageColumns+` FROM queue_messages
		WHERE queue = ? AND visible_at <= ? ORDER BY sent_at, id LIMIT ?`, queue, at, max)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	msgs, err := scanKMSRows(rows, op, scanMessage)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		m.ReceiptHandle, m.VisibleAt = handle(), fromMillis(hidden)
		m.ReceiveCount++
		if m.FirstReceive.IsZero() {
			m.FirstReceive = fromMillis(at)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queue_messages
			SET visible_at = ?, receipt_handle = ?, receive_count = ?, first_receive = ?
			WHERE queue = ? AND id = ?`,
			hidden, m.ReceiptHandle, m.ReceiveCount, m.FirstReceive.UnixMilli(), queue, m.ID); err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", op, err)
		}
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return msgs, nil
}

// DeleteMessage deletes the message of the queue whose last receipt handle
// is handle. Returns ENOTFOUND, naming the queue if it is missing.
func (db *DB) DeleteMessage(ctx context.Context, queue, handle string) error {
	return db.writeByHandle(ctx, "delete message", queue, handle,
		`DELETE FROM queue_messages WHERE queue = ? AND receipt_handle = ? AND receipt_handle <> ''`, queue, handle)
}

// ChangeVisibility sets the VisibleAt of the message of the queue whose
// last receipt handle is handle. Returns ENOTFOUND, naming the queue if it
// is missing.
func (db *DB) ChangeVisibility(ctx context.Context, queue, handle string, visibleAt time.Time) error {
	return db.writeByHandle(ctx, "change visibility", queue, handle,
		`UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ? AND receipt_handle <> ''`,
		visibleAt.UnixMilli(), queue, handle)
}

// PurgeQueue deletes every message of the queue. Returns ENOTFOUND.
func (db *DB) PurgeQueue(ctx context.Context, queue string) error {
	const op = "purge queue"
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	if err := queueExists(ctx, tx, queue); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM queue_messages WHERE queue = ?`, queue); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// CountMessages returns how many messages of the queue are visible at now
// (VisibleAt at or before it) and how many are hidden, in one snapshot.
// Returns ENOTFOUND.
func (db *DB) CountMessages(ctx context.Context, queue string, now time.Time) (visible, hidden int, err error) {
	var exists sql.NullInt64
	if err := db.rdb.QueryRowContext(ctx, `SELECT
			(SELECT 1 FROM queues WHERE name = ?1),
			(SELECT COUNT(*) FROM queue_messages WHERE queue = ?1 AND visible_at <= ?2),
			(SELECT COUNT(*) FROM queue_messages WHERE queue = ?1 AND visible_at > ?2)`,
		queue, now.UnixMilli()).Scan(&exists, &visible, &hidden); err != nil {
		return 0, 0, fmt.Errorf("sqlite: count messages: %w", err)
	}
	if !exists.Valid {
		return 0, 0, queueNotFound(queue)
	}
	return visible, hidden, nil
}

// writeByHandle runs query, a DELETE or UPDATE of the message of a receipt
// handle, in a write transaction, and returns ENOTFOUND when it changes
// nothing: of the queue if it is missing, of the handle otherwise.
func (db *DB) writeByHandle(ctx context.Context, op, queue, handle, query string, args ...any) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		if err := queueExists(ctx, tx, queue); err != nil {
			return err
		}
		return profiles.Errorf(profiles.ENOTFOUND, "no message of queue %q has the receipt handle %q (deleted, or received again since)", queue, handle)
	}
	if err := db.commit(tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// queryRower is a *sql.DB or a *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func findQueue(ctx context.Context, q queryRower, name string) (*profiles.Queue, error) {
	queue, err := scanQueue(q.QueryRowContext(ctx, `SELECT `+queueColumns+` FROM queues WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, queueNotFound(name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find queue: %w", err)
	}
	return queue, nil
}

// queueExists returns ENOTFOUND unless the queue exists.
func queueExists(ctx context.Context, tx *sql.Tx, name string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM queues WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return queueNotFound(name)
	} else if err != nil {
		return fmt.Errorf("sqlite: find queue: %w", err)
	}
	return nil
}

func queueNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "queue %q not found", name)
}

// prefixEnd returns the least string greater than every string that starts
// with prefix, in byte order, and false if there is none (prefix is empty
// or all 0xff bytes). SQLite's BINARY collation compares bytes.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
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

func scanQueue(row kmsRow) (*profiles.Queue, error) {
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

func scanMessage(row kmsRow) (*profiles.StoredMessage, error) {
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
	m.SentAt, m.VisibleAt, m.FirstReceive = fromMillis(sent), fromMillis(visible), kmsTime(first)
	return &m, nil
}
