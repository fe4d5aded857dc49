package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// Update runs fn in one SERIALIZABLE transaction and commits it if fn
// returns nil. Concurrent Updates, in this process or another, behave as if
// run one after another: when PostgreSQL cannot guarantee it, it fails a
// transaction with a serialization failure, and Update runs fn again in a
// new transaction (see the package doc), up to MaxAttempts times.
//
// So fn may run more than once: it must have no side effects outside tx,
// and must build the values it stores inside fn (Update restores the
// times that a failed attempt's Puts wrote back into their arguments before
// it runs fn again). fn's error rolls everything back and is returned as
// is, unless it comes from a serialization failure. The transaction sees
// the store's time (Now) of its start.
func (db *DB) Update(ctx context.Context, fn func(profiles.Tx) error) error {
	start := time.Now()
	var fnErr error
	err := db.serializableOn(ctx, db.txPool, "update", func(ptx pgx.Tx, now int64) (*tx, error) {
		start = time.Now()
		t := &tx{ptx: ptx, now: now, sealer: db.Sealer, types: db.types}
		fnErr = fn(t)
		return t, fnErr
	})
	if db.OnCommit != nil {
		switch {
		case err == nil:
			db.OnCommit(1, time.Since(start), nil)
		case fnErr == nil:
			db.OnCommit(0, time.Since(start), err)
		}
	}
	return err
}

// View runs fn in one REPEATABLE READ, READ ONLY transaction: one
// snapshot, which neither waits for nor blocks writers. Tx's writing
// methods return an error. fn's error is returned as is.
func (db *DB) View(ctx context.Context, fn func(profiles.Tx) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	var conn *pgxpool.Conn
	var ptx pgx.Tx
	for again := true; ; again = false {
		c, err := db.viewPool.Acquire(ctx)
		if err != nil {
			return wrap("view", err)
		}
		ptx, err = c.BeginTx(ctx, opts)
		if err == nil {
			conn = c
			break
		}
		// Released before another is acquired: with every connection
		// of the pool in use, the next Acquire would wait for this one.
		c.Release()
		if !again || !beginLost(ctx, err) {
			return wrap("view", err)
		}
		// A connection the database closed: once more, on one the pool
		// checks first (connloss.go).
	}
	defer conn.Release()
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&tx{ptx: ptx, now: db.now().UnixMilli(), readOnly: true, sealer: db.Sealer, types: db.types}); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return wrap("view", err)
	}
	return nil
}

// DeleteExpired deletes, in one statement, up to limit objects (limit <= 0:
// all) whose ExpiresAt is at or before now, soonest expired first, with the
// keys they produced, and returns how many it deleted. Objects that another
// transaction holds are left for a later call (SKIP LOCKED): several nodes
// may sweep at once without waiting for each other.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	var n int
	err := db.serializable(ctx, "delete expired", func(ptx pgx.Tx, _ int64) (*tx, error) {
		t := &tx{ptx: ptx}
		return t, t.wrap("delete expired", ptx.QueryRow(ctx, deleteExpiredSQL, now.UnixMilli(), limitOrAll(limit),
			profiles.ActionExpired, profiles.ServicePerformer).Scan(&n))
	})
	return n, err
}

// deleteExpiredSQL deletes up to $2 (NULL: all) objects expired at $1,
// soonest expired first, and their keys, removes the content of their
// history records (clearedHistory), writes the history record ($3,
// performed by $4, no content) of each on its profile unless its domain is
// being deleted, and counts them. A record's id is NewHistoryID's form:
// the time's 12 hex digits, then 20 of a random hash; no ON CONFLICT
// clause (its speculative insertion made the sweep slower): an id the
// profile has already, at 80 random bits, fails this call and the next
// one makes others. Writing the records costs about 25 ms a page of 1,000
// objects (the rows, their three indexes and the domain's foreign key),
// where deleting the objects and their keys costs 12 to 30.
const deleteExpiredSQL = `WITH expired AS (
		SELECT domain, object_type, unique_key FROM objects
		WHERE expires_at > 0 AND expires_at <= $1 ORDER BY expires_at LIMIT $2::bigint
		FOR UPDATE SKIP LOCKED),
	gone AS (DELETE FROM objects o USING expired e
		WHERE o.domain = e.domain AND o.object_type = e.object_type AND o.unique_key = e.unique_key
		RETURNING o.domain, o.profile_id, o.object_type, o.unique_key),
	keys_gone AS (DELETE FROM keys k USING gone g
		WHERE k.domain = g.domain AND k.profile_id = g.profile_id AND k.origin = g.object_type AND k.object_key = g.unique_key),
	recorded AS (INSERT INTO history (domain, profile_id, id, action_type,
			object_type, object_key, performed_by, content, created_at, updated_at)
		SELECT g.domain, g.profile_id,
			lpad(to_hex($1::bigint), 12, '0') || left(md5(random()::text || g.object_type || '/' || g.unique_key), 20),
			$3, g.object_type, g.unique_key, $4, ''::bytea, $1::bigint, $1::bigint
		FROM gone g JOIN domains d ON d.name = g.domain AND d.deleting_at = 0),
	` + clearedHistory + `
	SELECT count(*) FROM gone`

// clearedHistory is the CTE, named cleared_history, of deleteExpiredSQL and
// dropExpiredSQL that removes the content of the history records of the
// objects they delete (gone: domain, profile_id, object_type, unique_key)
// on their profiles, keeping the records: the data of an expired object
// goes with it. It reads history_by_object, one range of it for each
// object, and writes only the rows that have content. Without statistics
// on history (a table just loaded, before its first ANALYZE) the planner
// may read history_pkey instead, the profile's whole history for each
// object (BENCHMARKS.md, "The expiry sweep empties its objects' history
// records"); with them, history_by_object is the cheaper. The statement's
// other parts do not see its changes, nor it theirs: the EXPIRED record
// inserted beside it has no content anyway.
const clearedHistory = `cleared_history AS (UPDATE history h SET content = ''::bytea
		FROM gone g
		WHERE h.domain = g.domain AND h.profile_id = g.profile_id AND h.object_type = g.object_type
			AND h.object_key = g.unique_key AND h.content <> ''::bytea)`

// serializable runs attempt in a SERIALIZABLE transaction and commits it,
// again and again while it fails with a serialization failure or a
// deadlock, up to MaxAttempts times, pausing a random time between
// attempts that grows with each (or waiting for the locks of the profiles
// the failed attempt wrote, see retryOn). attempt gets the store's time at the
// start of the attempt and returns its tx (nil if it made none), whose
// rollback undoes what the attempt wrote into its arguments.
func (db *DB) serializable(ctx context.Context, op string, attempt func(pgx.Tx, int64) (*tx, error)) error {
	return db.retryOn(ctx, db.pool, op, pgx.TxOptions{IsoLevel: pgx.Serializable}, attempt)
}

// serializableOn is serializable on the connections of pool.
func (db *DB) serializableOn(ctx context.Context, pool *pgxpool.Pool, op string, attempt func(pgx.Tx, int64) (*tx, error)) error {
	return db.retryOn(ctx, pool, op, pgx.TxOptions{IsoLevel: pgx.Serializable}, attempt)
}

// retry is serializable at the isolation level of opts.
func (db *DB) retry(ctx context.Context, op string, opts pgx.TxOptions, attempt func(pgx.Tx, int64) (*tx, error)) error {
	return db.retryOn(ctx, db.pool, op, opts, attempt)
}

// retryOn is retry on the connections of pool.
//
// An attempt that fails for a conflict after it wrote profiles (PutProfile,
// TakeIngestToken, DeleteProfile, MoveProfileData) makes the next ones
// queue for those profiles: before its BEGIN, an attempt takes a
// session-level advisory lock on each profile an earlier attempt wrote,
// and holds them until it ends. Writers of one profile then take turns
// instead of failing each other again and again (the UPDATE of the
// profile's row fails every attempt but one that ran at once); and the
// turn's snapshot, taken after the lock, sees the previous writer's
// commit. The locks are taken before the transaction, not in it, because
// a SERIALIZABLE transaction's snapshot is that of its first statement: a
// lock waited for inside it would leave it a snapshot older than the
// commit it waited for, and fail it anyway. Only attempts after a conflict
// lock, so writers that do not meet pay nothing; the locks order writers
// and never stand in for SERIALIZABLE, which still decides what commits.
func (db *DB) retryOn(ctx context.Context, pool *pgxpool.Pool, op string, opts pgx.TxOptions, attempt func(pgx.Tx, int64) (*tx, error)) error {
	maxAttempts := db.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	if n := profiles.MaxAttemptsFromContext(ctx); n > 0 {
		maxAttempts = min(maxAttempts, n)
	}
	var locks []string
	lost := false
	for n := 1; ; n++ {
		conflict, wrote, err := db.try(ctx, pool, op, opts, locks, attempt)
		if errors.Is(err, errBeginLost) && !lost {
			// A connection the database closed, found at BEGIN: nothing
			// was done; once more, on one the pool checks first
			// (connloss.go). Not counted as an attempt.
			lost = true
			n--
			continue
		}
		if err == nil || !conflict {
			return err
		}
		if n >= maxAttempts {
			return fmt.Errorf("%w: %w (%s: gave up after %d attempts)", errBusy(), err, op, n)
		}
		db.Logger.Debug("retrying transaction", "op", op, "attempt", n, "err", err)
		for _, l := range wrote {
			if !slices.Contains(locks, l) {
				locks = append(locks, l)
			}
		}
		if errors.Is(err, errNotYourTurn) {
			continue // waiting for the lock is the pause
		}
		if err := sleep(ctx, backoff(n)); err != nil {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
	}
}

// try runs one attempt, holding the session-level advisory locks named by
// locks, and reports whether it failed for a conflict with another
// transaction (and may succeed if tried again), and then the locks of the
// profiles it wrote (profileLock).
func (db *DB) try(ctx context.Context, pool *pgxpool.Pool, op string, opts pgx.TxOptions, locks []string, attempt func(pgx.Tx, int64) (*tx, error)) (conflict bool, wrote []string, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return false, nil, wrap(op, err)
	}
	defer conn.Release()
	if len(locks) > 0 {
		defer unlockAll(ctx, conn)
		if err := lockAll(ctx, conn, locks); err != nil {
			if isQueryCanceled(err) && ctx.Err() == nil {
				// The statement timeout, in the queue for a profile's
				// turn: the profile is busy, and the request may be
				// retried, as when the attempts run out.
				return false, nil, fmt.Errorf("%w: %w (%s: waited longer than the statement timeout for a profile's turn)", errBusy(), wrap(op, err), op)
			}
			return isConflict(err), nil, wrap(op, err)
		}
	}
	ptx, err := conn.BeginTx(ctx, opts)
	if beginLost(ctx, err) {
		return false, nil, fmt.Errorf("%w: %w", errBeginLost, wrap(op, err))
	} else if err != nil {
		return false, nil, wrap(op, err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))

	t, err := attempt(ptx, db.now().UnixMilli())
	if err == nil && t != nil && t.conflict {
		// fn went on after a statement failed for a conflict (or found
		// the profile's turn taken): what it wrote is not all it meant
		// to, and the attempt runs again instead of committing.
		err = fmt.Errorf("postgres: %s: %w", op, errIgnoredConflict)
	}
	if err == nil {
		err = db.commit(ctx, ptx, op)
	}
	if err == nil {
		return false, nil, nil
	}
	conflict = isConflict(err) || (t != nil && t.conflict)
	if conflict && t != nil {
		t.undoArgs()
		wrote = t.wrote
	}
	return conflict, wrote, err
}

// lockAll takes the session-level advisory lock of each name, in the order
// of the names (every session takes them in that order), waiting for each.
// The key is a hash of the name and the schema, which tells apart the
// stores of one database; two names of one hash share a lock, which costs
// waits, not correctness. A deadlock (two hashes in either order) fails
// with 40P01, a conflict.
func lockAll(ctx context.Context, conn *pgxpool.Conn, locks []string) error {
	sorted := slices.Sorted(slices.Values(locks))
	for _, l := range sorted {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+advisoryKey(1)+`)`, l); err != nil {
			return err
		}
	}
	return nil
}

// unlockAll releases the session's advisory locks (the connections of the
// pools hold no others), whatever ctx; a connection that cannot is closed,
// which releases them, rather than go back to the pool holding them.
func unlockAll(ctx context.Context, conn *pgxpool.Conn) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		conn.Conn().Close(uctx)
	}
}

// advisoryKey is the SQL expression of the advisory lock key of the lock
// name in parameter $n: a hash of the name and the schema (lockAll).
func advisoryKey(n int) string {
	return fmt.Sprintf(`hashtextextended(COALESCE(current_schema(), '') || '/' || $%d::text, 0)`, n)
}

// errBusy is the error of a transaction given up on because others kept
// changing the same data: busy, not broken, ETHROTTLED makes callers (and
// AWS SDKs) retry.
func errBusy() error {
	return profiles.Errorf(profiles.ETHROTTLED, "Too many concurrent changes to the same data; retry the request.")
}

// errIgnoredConflict is the error of an attempt whose fn returned nil
// after one of its statements failed for a conflict (tx.conflict).
var errIgnoredConflict = errors.New("the transaction went on after a conflict")

// errNotYourTurn is the conflict of a write of a profile whose lock another
// transaction holds (a writer that queued for it, see retryOn): the
// attempt is run again once this one holds the lock.
var errNotYourTurn = errors.New("another transaction holds the profile's turn")

// profileLock names the advisory lock of a profile, for retryOn.
func profileLock(domain, id string) string {
	return "profile/" + domain + "/" + id
}

// wroteProfile notes that the transaction writes profile id of domain: a retry
// after a conflict waits for its lock (retryOn).
func (t *tx) wroteProfile(domain, id string) {
	l := profileLock(domain, id)
	if !slices.Contains(t.wrote, l) {
		t.wrote = append(t.wrote, l)
	}
}

// commitTimeout bounds a COMMIT, which runs whatever the request's context.
const commitTimeout = 30 * time.Second

// commit commits a transaction whose work succeeded. It does not give up
// when ctx is done: a COMMIT abandoned in flight may still commit on the
// server, and the caller, told of a failure, would retry what was written
// (a second profile for a retried CreateProfile). An error that leaves the
// outcome unknown (the connection failed) says so.
func (db *DB) commit(ctx context.Context, ptx pgx.Tx, op string) error {
	if err := db.schemaTooNew(); err != nil {
		return err // noticed while the transaction ran: it rolls back
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	err := ptx.Commit(cctx)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr):
		return wrap(op, err) // the server refused it: nothing was written
	}
	return fmt.Errorf("postgres: %s: commit, whose outcome is unknown: %w", op, err)
}

// backoff returns the pause before attempt n+1: a random time up to
// 2ms × 2^(n-1), at most 250ms, and at least a quarter of it.
func backoff(n int) time.Duration {
	d := min(2*time.Millisecond<<min(n-1, 16), 250*time.Millisecond)
	return d/4 + rand.N(d-d/4+1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// isConflict reports whether err is a serialization failure, a deadlock,
// or the server's lock tables full ("out of shared memory", 53200: the
// predicate locks of SERIALIZABLE transactions fill
// max_pred_locks_per_transaction × max_connections slots, shared by every
// database of the server, and free up as transactions end): the
// transaction may succeed if run again.
func isConflict(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01" || e.Code == "53200")
}

// isQueryCanceled reports whether err is a statement cancelled by the
// server: by the statement timeout, or by an administrator.
func isQueryCanceled(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "57014"
}

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE
// constraint failure.
func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY constraint
// failure: a row that references a missing domain or profile. The writing
// methods check their references first, so this happens only when another
// transaction deletes the domain or profile meanwhile.
func isForeignKeyViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23503"
}

// isBadText reports whether err says a text value cannot be stored: it
// holds a NUL character or is not valid UTF-8.
func isBadText(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "22021" || e.Code == "22P05")
}

// wrap returns err of op for the caller: EINVALID for text PostgreSQL
// cannot store, and a wrapped error otherwise. It returns nil for nil.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case isBadText(err):
		return profiles.Errorf(profiles.EINVALID, "a name, id, key or value holds a NUL character or is not valid UTF-8")
	case isForeignKeyViolation(err):
		return profiles.Errorf(profiles.ENOTFOUND, "the domain or profile was deleted meanwhile")
	case isUnreachable(err):
		return &unreachableError{fmt.Errorf("postgres: %s: %w", op, err)}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

var _ profiles.Tx = (*tx)(nil)

// tx is a profiles.Tx on one PostgreSQL transaction.
//
// Reads hide expired objects: those with 0 < expires_at <= now, now being
// the store's time when the transaction began. They also hide the keys of
// such objects (a key whose object_key is not empty and names, with its
// origin as the type, an expired object). Methods that find nothing tell a
// missing domain (ENOTFOUND) from an empty one with one more query, on that
// path only. Writing methods check that the domain or profile they write
// to exists in the statement that writes, so that a missing one is an
// ENOTFOUND that leaves the transaction usable.
type tx struct {
	ptx      pgx.Tx
	now      int64 // unix milliseconds
	readOnly bool
	sealer   profiles.Sealer
	types    *rowcodec.ObjectTypeCache

	// conflict is set when a statement failed with a serialization failure
	// or a deadlock: whatever fn returns, the attempt is tried again.
	conflict bool
	// undo holds the times that Puts overwrote in their arguments, to
	// restore them before fn runs again.
	undo []savedTime
	// wrote names the locks of the profiles this transaction writes
	// (profileLock), which its retries take (retryOn).
	wrote []string
	// domain is a domain this transaction has seen exist. A Tx neither
	// creates nor deletes domains, and Update and View see one snapshot,
	// so notFound need not ask again.
	domain string
}

// savedTime is a time a Put overwrote: where, and what it was.
type savedTime struct {
	p *time.Time
	v time.Time
}

// setTime sets *p to the time of unix milliseconds ms, and keeps what *p
// was for undoArgs.
func (t *tx) setTime(p *time.Time, ms int64) {
	t.undo = append(t.undo, savedTime{p, *p})
	*p = fromMillis(ms)
}

// wrap returns err of op as wrap does, and notes a conflict.
func (t *tx) wrap(op string, err error) error {
	if isConflict(err) {
		t.conflict = true
	}
	return wrap(op, err)
}

// undoArgs restores the arguments of the Puts of a failed attempt.
func (t *tx) undoArgs() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		*t.undo[i].p = t.undo[i].v
	}
	t.undo = nil
}

// liveObject is the condition, on objects aliased o, that o has not
// expired at $n, n being the number of the parameter holding tx.now.
func liveObject(n int) string {
	return fmt.Sprintf(`(o.expires_at = 0 OR o.expires_at > $%d)`, n)
}

// liveKey is the condition, on keys aliased k, that k was not produced by
// an object expired at $n. The subquery is a lookup by the primary key of
// objects, row by row: a scalar subquery, which the planner cannot turn
// into a scan of every expired object (as it may a NOT EXISTS) that would
// make every insert of an expiring object conflict with the reader.
func liveKey(n int) string {
	return fmt.Sprintf(`(k.object_key = '' OR COALESCE((SELECT x.expires_at = 0 OR x.expires_at > $%d FROM objects x
	WHERE x.domain = k.domain AND x.object_type = k.origin AND x.unique_key = k.object_key), true))`, n)
}

// errReadOnly is returned by the writing methods of a View's Tx.
var errReadOnly = errors.New("read-only transaction (View): use Update to write")

// writable returns an error for op in a read-only transaction.
func (t *tx) writable(op string) error {
	if t.readOnly {
		return fmt.Errorf("postgres: %s: %w", op, errReadOnly)
	}
	return nil
}

// notFound returns ENOTFOUND "domain … not found" if the domain is missing;
// otherwise ENOTFOUND with the message format and args, or nil for an
// empty format.
func (t *tx) notFound(ctx context.Context, domain, format string, args ...any) error {
	if domain == "" || domain != t.domain {
		if ok, err := domainExists(ctx, t.ptx, domain); err != nil {
			return t.wrap("find domain", err)
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

// fromMillis returns the UTC time of unix milliseconds ms.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// limitOrAll returns the value of a LIMIT: limit, or NULL (no limit) for
// limit <= 0.
func limitOrAll(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	n := int64(limit)
	return &n
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

// openObjects decrypts the data of objects read from the table.
func (t *tx) openObjects(ctx context.Context, objs ...*profiles.ProfileObject) error {
	for _, o := range objs {
		data, err := t.open(ctx, objectRecord(o.DomainName, o.ObjectTypeName, o.UniqueKey), o.Data)
		if err != nil {
			return err
		}
		o.Data = data
	}
	return nil
}

// openHistory decrypts the contents of history records read from the table.
func (t *tx) openHistory(ctx context.Context, recs ...*profiles.HistoryRecord) error {
	for _, r := range recs {
		content, err := t.open(ctx, historyRecord(r.DomainName, r.ProfileID, r.ID), r.Content)
		if err != nil {
			return err
		}
		r.Content = content
	}
	return nil
}
