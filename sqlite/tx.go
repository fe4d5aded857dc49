package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Update runs fn in a write transaction on the writer connection, and
// returns once that transaction is committed and its WAL frames are synced
// to disk (durable through a power loss, walsync.go) or fn has failed.
// fn's error rolls back everything fn did and is returned as is.
//
// Group commit: Updates that arrive while the writer is busy wait in a
// queue; the committer then runs up to MaxGroupCommit of them one after
// another in one transaction, each fn inside its own SAVEPOINT, and commits
// once. A failing fn is rolled back to its savepoint without touching the
// others; a failing COMMIT fails every fn of the group. Concurrent Updates
// thus still behave as if run one after another (each sees the writes of
// those before it), and a find-then-create in fn (FindProfileIDs, then
// PutProfile and PutKeys) is atomic; many of them cost one commit.
//
// fn runs on the committer's goroutine while this DB's one writer
// connection is taken: it must not call the DB (that waits for itself), and
// the longer it runs the longer other writers wait. Its statements are not
// interrupted when ctx is cancelled (an interrupt would roll back the whole
// group); a ctx done before fn starts returns ctx's error without running
// fn. The transaction sees the store's time (Now) of fn's start.
func (db *DB) Update(ctx context.Context, fn func(profiles.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := &update{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.updates <- u:
	case <-db.quit:
		return errors.New("sqlite: update: store closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-u.done
}

// MaxGroupCommit bounds how many Updates one transaction carries.
const MaxGroupCommit = 256

// update is one Update waiting for the committer.
type update struct {
	ctx  context.Context
	fn   func(profiles.Tx) error
	done chan error // receives fn's error or the commit's, exactly once
}

// commitLoop runs the queued Updates in groups until quit is closed.
func (db *DB) commitLoop() {
	defer close(db.committerDone)
	group := make([]*update, 0, MaxGroupCommit)
	for {
		select {
		case u := <-db.updates:
			group = append(group[:0], u)
		case <-db.quit:
			return
		}
	drain:
		for len(group) < MaxGroupCommit {
			select {
			case u := <-db.updates:
				group = append(group, u)
			default:
				break drain
			}
		}
		db.commitGroup(group)
	}
}

// commitGroup runs a group of Updates in one transaction and answers each.
func (db *DB) commitGroup(group []*update) {
	start := time.Now()
	errs := make([]error, len(group))
	committed := 0
	err := func() error {
		ctx := context.Background()
		if err := db.writable(); err != nil {
			return err
		}
		conn, err := db.groupConn(ctx)
		if err != nil {
			return fmt.Errorf("sqlite: update: %w", err)
		}
		defer db.releaseGroupConn(conn)
		stx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: update: %w", err)
		}
		defer stx.Rollback()
		single := len(group) == 1
		st := sqlTx{Tx: stx, detached: true, stmts: db.wstmts, bound: map[string]*sql.Stmt{}}
		g := &updateGroup{types: db.wtypes}
		if err := g.types.beginGroup(ctx, st); err != nil {
			return fmt.Errorf("sqlite: update: %w", err)
		}
		for i, u := range group {
			if errs[i] = u.ctx.Err(); errs[i] != nil {
				continue
			}
			if !single {
				if _, err := st.ExecContext(ctx, `SAVEPOINT u`); err != nil {
					return fmt.Errorf("sqlite: update: %w", err)
				}
			}
			errs[i] = runUpdate(u, &tx{stx: st, now: db.now().UnixMilli(), sealer: db.Sealer, types: db.types, group: g})
			switch {
			case single && errs[i] != nil:
				return nil // nothing to commit
			case single:
			case errs[i] != nil:
				// Undo fn's writes only. Should that fail, the transaction is
				// gone (SQLite rolls back on some I/O errors): fail the group.
				if _, err := st.ExecContext(ctx, `ROLLBACK TO u`); err != nil {
					return fmt.Errorf("sqlite: update: %w", err)
				}
				if _, err := st.ExecContext(ctx, `RELEASE u`); err != nil {
					return fmt.Errorf("sqlite: update: %w", err)
				}
			default:
				if _, err := st.ExecContext(ctx, `RELEASE u`); err != nil {
					return fmt.Errorf("sqlite: update: %w", err)
				}
			}
			if errs[i] == nil {
				committed++
			}
		}
		if committed == 0 {
			return nil
		}
		if err := db.writable(); err != nil {
			return err // noticed while the group ran: roll it back
		}
		if err := stx.Commit(); err != nil {
			return fmt.Errorf("sqlite: update: %w", err)
		}
		return nil
	}()
	// A full storage, in the COMMIT or in an Update's statements, is
	// noted and marked (storage.go); a commit notes there was room.
	switch {
	case err != nil:
		err = db.storageErr(err)
	case committed > 0:
		db.storageOK()
	}
	for i := range errs {
		errs[i] = db.storageErr(errs[i])
	}
	// Counted before the answers: PagesWritten includes an Update's pages
	// when the Update returns.
	db.countPagesWritten(context.Background())
	if db.OnCommit != nil && (committed > 0 || err != nil) {
		db.OnCommit(committed, time.Since(start), err)
	}
	group = slices.Clone(group) // commitLoop reuses its slice for the next group
	answer := func(err error) {
		for i, u := range group {
			if errs[i] == nil {
				errs[i] = err
			}
			u.done <- errs[i]
		}
	}
	if committed > 0 && err == nil {
		db.syncer.Then(answer) // once the WAL is synced (walsync.go)
	} else {
		answer(err)
	}
	db.wstmts.prepareWanted(context.Background(), db.wdb)
}

// groupConn takes the writer connection for a group transaction and
// switches it to synchronous=NORMAL: the group's COMMIT does not sync, the
// WALSyncer does before the group is answered (walsync.go).
func (db *DB) groupConn(ctx context.Context) (*sql.Conn, error) {
	conn, err := db.wdb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// releaseGroupConn gives the writer connection back with synchronous=FULL,
// which the other writes on it rely on to be durable when they return.
// Should that fail, the connection is discarded rather than reused.
func (db *DB) releaseGroupConn(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), `PRAGMA synchronous = FULL`); err != nil {
		db.Logger.Error("sqlite: writer connection back to synchronous=FULL failed; discarding it", "error", err)
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// runUpdate calls u.fn, turning a panic into an error: it runs on the
// committer's goroutine, where a panic would stop the server.
func runUpdate(u *update, t *tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: update: panic: %v", r)
		}
	}()
	return u.fn(t)
}

// View runs fn in one read transaction on the reader pool: a snapshot that
// neither waits for nor blocks the writer. Tx's writing methods return an
// error. fn's error is returned as is.
func (db *DB) View(ctx context.Context, fn func(profiles.Tx) error) error {
	stx, err := db.vdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: view: %w", err)
	}
	defer stx.Rollback()
	return fn(&tx{stx: sqlTx{Tx: stx, stmts: db.vstmts, bound: map[string]*sql.Stmt{}}, now: db.now().UnixMilli(), readOnly: true, sealer: db.Sealer, types: db.types})
}

// DeleteExpired deletes, in one write transaction, up to limit objects
// (limit <= 0: all) whose ExpiresAt is at or before now, soonest expired
// first, with the keys they produced, and returns how many it deleted.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	stx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired: %w", err)
	}
	defer stx.Rollback()

	n, err := deleteExpired(ctx, stx, now, limit)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired: %w", err)
	}
	if err := db.commit(stx); err != nil {
		return 0, fmt.Errorf("sqlite: delete expired: %w", err)
	}
	return n, nil
}

// deleteExpired deletes up to limit objects that expired at or before now,
// and their keys, removes the content of their history records (the data
// of an object does not outlive it) and writes their EXPIRED history
// records.
func deleteExpired(ctx context.Context, stx *sql.Tx, at time.Time, limit int) (int, error) {
	now := at.UnixMilli()
	rows, err := stx.QueryContext(ctx, selectExpiredSQL, now, limitOrAll(limit))
	if err != nil {
		return 0, err
	}
	var expired []objectRef
	for rows.Next() {
		var o objectRef
		if err := rows.Scan(&o.domain, &o.objectType, &o.uniqueKey, &o.profileID); err != nil {
			rows.Close()
			return 0, err
		}
		expired = append(expired, o)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(expired) == 0 {
		return 0, nil
	}

	delObject, err := stx.PrepareContext(ctx, `DELETE FROM objects WHERE domain = ? AND object_type = ? AND unique_key = ?`)
	if err != nil {
		return 0, err
	}
	defer delObject.Close()
	delKeys, err := stx.PrepareContext(ctx, deleteObjectKeys)
	if err != nil {
		return 0, err
	}
	defer delKeys.Close()
	putExpired, err := stx.PrepareContext(ctx, putExpiredSQL)
	if err != nil {
		return 0, err
	}
	defer putExpired.Close()
	for _, o := range expired {
		if _, err := delObject.ExecContext(ctx, o.domain, o.objectType, o.uniqueKey); err != nil {
			return 0, err
		}
		if _, err := delKeys.ExecContext(ctx, o.domain, o.profileID, o.objectType, o.uniqueKey); err != nil {
			return 0, err
		}
		if _, err := putExpired.ExecContext(ctx, o.domain, o.profileID, profiles.NewHistoryID(at),
			profiles.ActionExpired, o.objectType, o.uniqueKey, profiles.ServicePerformer, now); err != nil {
			return 0, err
		}
	}
	if err := clearHistory(ctx, stx, expired); err != nil {
		return 0, err
	}
	return len(expired), nil
}

// putExpiredSQL writes the EXPIRED history record of an object, with no
// content (history's content is NOT NULL; an empty one is no content,
// which needs no sealing), unless its domain is being deleted. Its
// parameters: domain, profile id, record id, action, object type, object
// key, performer, time.
const putExpiredSQL = `INSERT INTO history (domain, profile_id, id, action_type,
		object_type, object_key, performed_by, content, created_at, updated_at)
	SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, X'', ?8, ?8
	WHERE EXISTS (SELECT 1 FROM domains WHERE name = ?1 AND deleting_at = 0)
	ON CONFLICT (domain, profile_id, id) DO NOTHING`

// clearHistory removes the content of the history records of objects os
// on their profiles (each version's INGESTED record), keeping the records:
// an expired object's data goes with it. It walks the history of each
// profile once, for all of its objects in os: a page of a frequent
// caller's objects is one walk of its history, not one for each object.
func clearHistory(ctx context.Context, stx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}, os []objectRef) error {
	type profile struct{ domain, id string }
	var order []profile
	objects := map[profile][][2]string{}
	for _, o := range os {
		p := profile{o.domain, o.profileID}
		if _, ok := objects[p]; !ok {
			order = append(order, p)
		}
		objects[p] = append(objects[p], [2]string{o.objectType, o.uniqueKey})
	}
	for _, p := range order {
		list, err := json.Marshal(objects[p])
		if err != nil {
			return err
		}
		if _, err := stx.ExecContext(ctx, clearHistorySQL, p.domain, p.id, string(list)); err != nil {
			return err
		}
	}
	return nil
}

// clearHistorySQL empties the content of the history records of a profile
// (?1, ?2) whose object type and key are one of the pairs of the JSON
// array ?3 ([["CTR","key"], …]). It reads the profile's entries of
// history_by_profile, which hold the object key (migration 0016), and the
// table rows of those whose key is in ?3 (the pair is checked there), and
// writes those that have content; INDEXED BY keeps SQLite from walking the
// primary key instead, whose entries do not hold the key.
const clearHistorySQL = `UPDATE history INDEXED BY history_by_profile SET content = X''
	WHERE domain = ?1 AND profile_id = ?2
		AND object_key IN (SELECT json_extract(value, '$[1]') FROM json_each(?3))
		AND (object_type, object_key) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?3))
		AND content <> X''`

// selectExpiredSQL selects up to a limit of objects expired at a time,
// soonest expired first; its parameters are the time and the limit.
const selectExpiredSQL = `SELECT domain, object_type, unique_key, profile_id FROM objects
	WHERE expires_at > 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?`

// objectRef names one object row.
type objectRef struct {
	domain, objectType, uniqueKey, profileID string
}

var _ profiles.Tx = (*tx)(nil)

// sqlTx is the SQL transaction of a tx. In a group of Updates (detached)
// its statements ignore the cancellation of the caller's context: SQLite
// answers an interrupted write by rolling back the whole transaction, the
// other Updates of the group included.
// Those statements are prepared once, through stmts (nil: none), and
// bound to the transaction once (bound: the transaction's forms, by query,
// shared by the copies of one sqlTx).
type sqlTx struct {
	*sql.Tx
	detached bool
	stmts    *stmtCache
	bound    map[string]*sql.Stmt
}

// prepared returns the transaction's form of query's prepared statement,
// or nil.
func (t sqlTx) prepared(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if s := t.bound[query]; s != nil {
		return s
	}
	s := t.stmts.get(query)
	if s == nil {
		return nil
	}
	s = t.Tx.StmtContext(ctx, s)
	if t.bound != nil {
		t.bound[query] = s
	}
	return s
}

func (t sqlTx) ctx(ctx context.Context) context.Context {
	if t.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (t sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	if s := t.prepared(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	if s := t.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	if s := t.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// tx is a profiles.Tx on one SQL transaction.
//
// Reads hide expired objects: those with 0 < expires_at <= now, now being
// the store's time when the transaction began. They also hide the keys of
// such objects (a key whose object_key is not empty and names, with its
// origin as the type, an expired object). Methods that find nothing tell a missing domain
// (ENOTFOUND) from an empty one with one more query, on that path only.
type tx struct {
	stx      sqlTx
	now      int64 // unix milliseconds
	readOnly bool
	sealer   profiles.Sealer
	types    *rowcodec.ObjectTypeCache
	group    *updateGroup // the committer's group; nil outside one
	// domain is a domain this transaction has seen exist: a Tx neither
	// creates nor deletes domains, so notFound need not ask again.
	domain string
	// absent is the last object key FindObject found no row for (none
	// expired either); PutObject, the only writer that adds object rows,
	// clears it.
	absent objectRef
}

// seal encrypts a record's data for storage (as is without a Sealer).
func (t *tx) seal(ctx context.Context, r profiles.RecordRef, data []byte) ([]byte, error) {
	if t.sealer == nil {
		return data, nil
	}
	return t.sealer.Seal(ctx, r, data)
}

// open decrypts what seal stored.
func (t *tx) open(ctx context.Context, r profiles.RecordRef, data []byte) ([]byte, error) {
	if t.sealer == nil {
		return data, nil
	}
	return t.sealer.Open(ctx, r, data)
}

func profileRecord(domain, id string) profiles.RecordRef {
	return profiles.RecordRef{Domain: domain, Kind: profiles.RecordProfile, ID: id}
}

func objectRecord(domain, objectType, uniqueKey string) profiles.RecordRef {
	return profiles.RecordRef{Domain: domain, Kind: profiles.RecordObject, ObjectType: objectType, ID: uniqueKey}
}

func historyRecord(domain, profileID, id string) profiles.RecordRef {
	return profiles.RecordRef{Domain: domain, Kind: profiles.RecordHistory, ID: profileID + "/" + id}
}

// liveObject is the condition, on objects aliased o, that o has not
// expired (expires_at is 0 or after now); its one parameter is tx.now.
//
// It is written as the negation of "expired" on purpose: with o.expires_at
// > ?, SQLite compares the bound value with the 0 of the partial index
// objects_by_expiry (WHERE expires_at > 0) while planning, which makes the
// prepared statement expire at every new time bound and be compiled again
// at each execution (6 times the cost of a ProfileUsage: BenchmarkLiveObject,
// TestLiveObject_NotRecompiled).
const liveObject = `NOT (o.expires_at > 0 AND o.expires_at <= ?)`

// liveKey is the condition, on keys aliased k, that k was not produced by
// an object that has expired; its one parameter is tx.now. The subquery is
// a lookup by the primary key of objects.
const liveKey = `(k.object_key = '' OR NOT EXISTS (SELECT 1 FROM objects o
	WHERE o.domain = k.domain AND o.object_type = k.origin AND o.unique_key = k.object_key
		AND o.expires_at > 0 AND o.expires_at <= ?))`

// deleteObjectKeys deletes the keys an object produced; its parameters are
// domain, profile id, object type and unique key.
const deleteObjectKeys = `DELETE FROM keys WHERE domain = ? AND profile_id = ? AND origin = ? AND object_key = ?`

// errReadOnly is returned by the writing methods of a View's Tx.
var errReadOnly = errors.New("read-only transaction (View): use Update to write")

// writable returns an error for op in a read-only transaction.
func (t *tx) writable(op string) error {
	if t.readOnly {
		return fmt.Errorf("sqlite: %s: %w", op, errReadOnly)
	}
	return nil
}

// notFound returns ENOTFOUND "domain … not found" if the domain is missing;
// otherwise ENOTFOUND with the message format and args, or nil for an
// empty format.
func (t *tx) notFound(ctx context.Context, domain, format string, args ...any) error {
	if domain == "" || domain != t.domain {
		if ok, err := domainExists(ctx, t.stx, domain); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		} else if !ok {
			return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", domain)
		}
		t.domain = domain
	}
	if format == "" {
		return nil
	}
	return profiles.Errorf(profiles.ENOTFOUND, format, args...)
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY constraint
// failure: a row that references a missing domain or profile.
func isForeignKeyViolation(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// stamp returns the unix milliseconds to store for a time: t's, or now's
// for a zero t.
func stamp(t time.Time, now int64) int64 {
	if t.IsZero() {
		return now
	}
	return t.UnixMilli()
}

// expiresMillis returns the expires_at column of t: 0 for a zero t (never).
func expiresMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromExpires returns the ExpiresAt of the expires_at column.
func fromExpires(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// limitOrAll returns limit, or -1 (SQLite: no limit) for limit <= 0.
func limitOrAll(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
