// Package postgres implements profiles.Store on PostgreSQL, through
// jackc/pgx/v5 and its connection pool. It is the store for more than one
// server node: every node opens a DB on the same database, and the database
// alone keeps them consistent. Its schema is in embedded, versioned
// migrations that Open applies; the tables mirror those of package sqlite,
// with the same encodings of settings, object types and profile data.
//
// Concurrency. Update (and every other method that reads before it writes,
// but UpdateDomain) runs its transaction at the SERIALIZABLE isolation level:
// PostgreSQL's serializable snapshot isolation lets transactions run at
// once, finds those that could not have run one after another (a
// find-then-create of the same key by two nodes, a count against a quota, a
// read-modify-write of one profile) and fails all but one of them with a
// serialization failure (SQLSTATE 40001). Update then rolls back and runs fn
// again, in a new transaction that sees what the winner committed, with a
// jittered, growing pause between attempts and up to MaxAttempts attempts;
// a deadlock (40P01) is retried the same way. Writers of one profile
// queue instead: an attempt that failed after it wrote a profile runs
// again holding that profile's advisory lock, taken before its BEGIN so
// that its snapshot sees the previous writer's commit, and a first
// attempt that finds the lock held stops at its write of the profile and
// queues too (see retryOn); a burst of objects for one customer then costs
// each object one short failed attempt, not many long ones. So fn may run more than once
// and must have no effect outside the transaction. Transactions that touch
// different profiles, keys and objects do not wait for each other, and no
// lock is global. They may still conflict now and then: PostgreSQL tracks
// what a transaction read by index page, so two that read and write keys
// sitting on one page conflict even when the keys differ; key values spread
// by blind-index hashes make that rare (see BenchmarkPutObject). And a
// transaction that reads rows on more pages of one table than the server's
// max_pred_locks_per_relation (by default half of
// max_pred_locks_per_transaction: 32) holds a predicate lock on the whole
// table, which every concurrent write to it conflicts with: ingestion's
// quota count (ProfileUsage) does, on objects, for a profile of more than
// a few dozen objects (BENCHMARKS.md). With many concurrent transactions
// the server may need a larger max_pred_locks_per_transaction.
//
// View runs at REPEATABLE READ, READ ONLY: one snapshot, no retries, never
// waits for writers. UpdateDomain locks its row (READ COMMITTED, SELECT …
// FOR UPDATE), so its fn runs once. CreateDomain with a limit locks the
// domains table against other writers of domains for the time of its check.
// The KMSStore methods (kms.go) lock rows at READ COMMITTED likewise:
// UpdateKMSKey locks its key, so its fn runs once.
//
// The database connection string is any that pgx accepts; its search_path
// parameter places the tables in a schema of the database. Every statement
// runs under StatementTimeout, set on each connection when it opens.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/migrate"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

// Defaults of the DB fields.
const (
	DefaultStatementTimeout = 30 * time.Second
	DefaultMaxAttempts      = 20
	// DefaultConnectTimeout bounds the opening of a connection when
	// neither the connection string's connect_timeout nor a shorter
	// StatementTimeout does.
	DefaultConnectTimeout = 10 * time.Second
	// MinConnectTimeout is the least a StatementTimeout shorter than it
	// bounds the opening of a connection to: starting a backend and
	// authenticating on a loaded server took more than a second now and
	// then (in CI, with StatementTimeout 1 s: the first calls after a
	// database came back failed to connect, and a pool opened with 50 ms
	// could not open at all).
	MinConnectTimeout = 3 * time.Second
)

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer version of this program than the running one.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

//go:embed migrations/*.sql
var migrationFS embed.FS

var _ profiles.Store = (*DB)(nil)

// DB is a profiles.Store on one PostgreSQL database (or schema).
type DB struct {
	dsn string
	// pool serves the single calls of the store; txPool the profile-data
	// transactions of Update and View. A transaction's Sealer looks up
	// domains and KMS keys through pool, so it never waits for a
	// connection held by another transaction of the same pool (which, with
	// every connection in a transaction, would wait forever).
	pool     *pgxpool.Pool
	txPool   *pgxpool.Pool
	viewPool *pgxpool.Pool // View's, for the same reason (a sealer lookup inside an Update goes through a View)

	// Now returns the current time. It stamps domains, object types,
	// profiles and objects stored without timestamps, and applied
	// migrations; reads hide the objects whose ExpiresAt is at or before
	// it (a transaction reads it once, when it begins). It must be safe
	// for concurrent use. Defaults to time.Now.
	Now func() time.Time

	// Logger receives migration messages, and retried transactions at
	// debug level. Defaults to a logger that discards everything.
	Logger *slog.Logger

	// Sealer encrypts profiles, objects and history contents at rest; nil
	// keeps them in plaintext. Set it before Open.
	Sealer profiles.Sealer

	// MaxConns is the size of each of the DB's three connection pools
	// (general, write transactions, read transactions: up to 3 × MaxConns
	// connections in all); 0 means 4 × GOMAXPROCS.
	// Set before Open.
	MaxConns int

	// StatementTimeout bounds every statement (PostgreSQL's
	// statement_timeout), and the opening of a connection (at least
	// MinConnectTimeout, at most DefaultConnectTimeout) unless the
	// connection string has a connect_timeout; 0 means
	// DefaultStatementTimeout and a negative value no bound. Set before
	// Open. Migrations run without it.
	StatementTimeout time.Duration

	// OnCommit, when set, is called after each Update that committed, with
	// updates 1 (an Update is a transaction of its own) and the time from
	// the start of the attempt that committed to its commit; and after each
	// whose fn succeeded but whose transaction failed (updates 0 and the
	// error). It must be quick. Set it before Open.
	OnCommit func(updates int, held time.Duration, err error)

	// MaxAttempts is how many times a transaction that fails with a
	// serialization failure or a deadlock is attempted before its error is
	// returned; 0 means DefaultMaxAttempts.
	MaxAttempts int

	types *rowcodec.ObjectTypeCache // decoded object types (rowcodec)

	dial pgconn.DialFunc // the connections' dial, without the bound of deadlineConn (connloss.go)

	schemaKnown int          // the highest migration this program has
	schemaAhead atomic.Int64 // the database's schema version after StepAside (schema.go)
}

// NewDB returns a DB on the database named by dsn, a connection string
// such as "postgres://user@host:5432/db?sslmode=disable". Call Open before use.
func NewDB(dsn string) *DB {
	return &DB{
		dsn:    dsn,
		Now:    time.Now,
		Logger: slog.New(slog.DiscardHandler),
		types:  rowcodec.NewObjectTypeCache(),
	}
}

// Open connects to the database and migrates its schema to the latest
// version. Several processes may open the same database at once: one
// applies the migrations while the others wait. It returns ErrSchemaTooNew
// (wrapped) if the database has a schema version this program does not know.
func (db *DB) Open() (err error) {
	if db.dsn == "" {
		return errors.New("postgres: open: connection string required")
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.New(slog.DiscardHandler)
	}
	migrations, err := migrate.Load(migrationFS)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(db.dsn)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	cfg.MaxConns = int32(4 * runtime.GOMAXPROCS(0))
	if db.MaxConns > 0 {
		cfg.MaxConns = int32(db.MaxConns)
	}
	timeout := db.StatementTimeout
	if timeout == 0 {
		timeout = DefaultStatementTimeout
	}
	params := cfg.ConnConfig.RuntimeParams
	params["statement_timeout"] = strconv.FormatInt(max(timeout.Milliseconds(), 0), 10)
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "openprofiles"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 && timeout > 0 {
		// No connect_timeout in the URL: a database that does not
		// answer fails a new connection after the statement timeout,
		// within MinConnectTimeout and DefaultConnectTimeout
		// (connloss.go).
		cfg.ConnConfig.ConnectTimeout = min(max(timeout, MinConnectTimeout), DefaultConnectTimeout)
	}
	db.dial = cfg.ConnConfig.DialFunc
	if timeout > 0 {
		// A database that stops answering fails a statement after the
		// statement timeout and a margin (connloss.go).
		cfg.ConnConfig.DialFunc = boundedDial(cfg.ConnConfig.DialFunc, timeout+answerMargin)
	}
	db.schemaKnown = migrations[len(migrations)-1].Version
	cfg.PrepareConn = db.prepareConn
	if cfg.ConnConfig.Tracer == nil {
		cfg.ConnConfig.Tracer = lossTracer{db}
	}

	ctx := context.Background()
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	if db.txPool, err = pgxpool.NewWithConfig(ctx, cfg.Copy()); err != nil {
		db.pool.Close()
		return fmt.Errorf("postgres: open: %w", err)
	}
	if db.viewPool, err = pgxpool.NewWithConfig(ctx, cfg.Copy()); err != nil {
		db.pool.Close()
		db.txPool.Close()
		return fmt.Errorf("postgres: open: %w", err)
	}
	defer func() {
		if err != nil {
			db.pool.Close()
			db.txPool.Close()
			db.viewPool.Close()
			db.pool, db.txPool, db.viewPool = nil, nil, nil
		}
	}()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	defer conn.Release()
	if err := db.migrate(ctx, conn.Conn(), migrations); err != nil {
		// The connection may hold the lock or the settings of migrate.
		conn.Conn().Close(ctx)
		return fmt.Errorf("postgres: open: %w", err)
	}
	return nil
}

// Close closes the pool, after the connections in use are released. Close
// may be called more than once.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.txPool != nil {
		db.txPool.Close()
	}
	if db.viewPool != nil {
		db.viewPool.Close()
	}
	return nil
}

// Ping runs a query on a connection of the pool.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// now returns the current time at the precision the database keeps.
func (db *DB) now() time.Time {
	return time.UnixMilli(db.Now().UnixMilli()).UTC()
}

// migrationLock is the first half of the key of the session-level advisory
// lock that migrate holds; the second is a hash of the schema.
const migrationLock = 0x6f70_7066 // "oppf"

// migrate applies the migrations the database lacks, in order, each in its
// own transaction, and records each in schema_migrations. It runs without
// statement timeout, holding an advisory lock throughout: processes that
// open the same database at once migrate one after another, and the later
// ones find nothing left to do. On success it leaves conn as it found it;
// on failure the caller closes conn.
func (db *DB) migrate(ctx context.Context, conn *pgx.Conn, ms []migrate.Migration) error {
	const key = `hashtext(COALESCE(current_schema(), ''))`
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return err
	}
	defer unbounded(conn)()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, `+key+`)`, migrationLock); err != nil {
		return fmt.Errorf("lock for migrations: %w", err)
	}
	if err := db.migrateLocked(ctx, conn, ms); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, `+key+`)`, migrationLock); err != nil {
		return fmt.Errorf("unlock for migrations: %w", err)
	}
	if _, err := conn.Exec(ctx, `RESET statement_timeout`); err != nil {
		return err
	}
	return nil
}

// migrateLocked is migrate once the lock is held.
func (db *DB) migrateLocked(ctx context.Context, conn *pgx.Conn, ms []migrate.Migration) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer NOT NULL PRIMARY KEY,
		name       text    NOT NULL,
		applied_at text    NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	latest := ms[len(ms)-1].Version
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("%w: version %d, this program knows up to %d; run a newer openprofiles", ErrSchemaTooNew, current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if err := db.applyMigration(ctx, conn, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// applyMigration applies m and records it, in one transaction.
func (db *DB) applyMigration(ctx context.Context, conn *pgx.Conn, m migrate.Migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Without arguments, pgx sends the file in the simple protocol, which
	// runs several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, db.now().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	db.Logger.Info("applied migration", "version", m.Version, "name", m.Name)
	return nil
}
