// Package sqlite implements profiles.Store on SQLite, through the pure-Go
// driver modernc.org/sqlite. It is the embedded default store: one database
// file, in WAL mode, with its schema in embedded, versioned migrations.
//
// A DB holds two connection pools on the same file. Every write transaction
// runs on the writer pool, which has a single connection and begins its
// transactions with BEGIN IMMEDIATE: writers of this process queue in
// database/sql instead of polling SQLite's lock, and a transaction that reads
// before it writes holds the write lock from its first statement, so a
// check-then-insert (the domain and object type quotas), a read-modify-write
// (UpdateDomain) or a find-or-create in Update is atomic. Reads (View) run
// on the reader pool, whose connections are read-only (query_only) and never
// wait for the writer: WAL gives each read transaction a snapshot.
// busy_timeout covers the remaining contention, with other processes that
// open the same file.
//
// Profile data (migration 0002) lives in four tables that reference their
// domain ON DELETE CASCADE: object_types, profiles, objects (which reference
// their profile ON DELETE CASCADE) and keys (likewise). Objects that have
// expired stay until DeleteExpired removes them, but every read leaves them,
// and the keys they produced, out. History records (migration 0003) live in
// table history, which references its domain ON DELETE CASCADE but not its
// profile: a deleted profile keeps its history. TestQueryPlans checks that
// the frequent queries read index ranges.
//
// A write method returns once its transaction's WAL frames are synced to
// disk (walsync.go): durable through a power loss.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/migrate"
	"github.com/openprofiles/profiles/internal/rowcodec"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyTimeout is how long a statement waits for a lock held by another
// connection (in practice: another process) before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer version of this program than the running one.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

//go:embed migrations/*.sql
var migrationFS embed.FS

var _ profiles.Store = (*DB)(nil)

// DB is a profiles.Store on one SQLite database file.
type DB struct {
	path string
	wdb  *sql.DB // writer pool: one connection, BEGIN IMMEDIATE
	rdb  *sql.DB // reader pool: query_only connections, deferred BEGIN
	// vdb is the reader pool of View: a View's Sealer reads KMS keys and
	// domains through rdb, so it never waits for a connection that another
	// View holds (which, with every connection in a View, would wait
	// forever).
	vdb *sql.DB

	// Now returns the current time. It stamps domains, object types,
	// profiles and objects stored without timestamps, and applied
	// migrations; reads hide the objects whose ExpiresAt is at or before
	// it (a transaction reads it once, when it begins). It must be safe
	// for concurrent use. Defaults to time.Now.
	Now func() time.Time

	// Logger receives migration and other operational messages. Defaults
	// to a logger that discards everything.
	Logger *slog.Logger

	// Sealer encrypts profiles, objects and history contents at rest; nil
	// keeps them in plaintext. Set it before Open.
	Sealer profiles.Sealer

	// OnCommit, when set, is called after each write transaction of
	// Update that committed something or failed: how many Updates it
	// carried (group commit), how long it held the writer, and its error.
	// It must be quick. Set it before Open.
	OnCommit func(updates int, held time.Duration, err error)

	// OnSync, when set, is called after each sync of the WAL that answers
	// group commits (walsync.go): how many groups it answered, how long
	// it took, its error. It must be quick. Set it before Open.
	OnSync func(groups int, took time.Duration, err error)

	wstmts        *stmtCache // the writer's prepared statements
	vstmts        *stmtCache // View's prepared statements
	vprepDone     chan struct{}
	rstmts        *stmtCache // the reader pool's (FindDomain, on every request)
	rprepDone     chan struct{}
	types         *rowcodec.ObjectTypeCache
	wtypes        *writerTypes  // the committer's object types (objecttype.go)
	updates       chan *update  // Updates waiting for the committer
	quit          chan struct{} // closed by Close: the committer stops
	committerDone chan struct{}
	syncer        *WALSyncer // syncs the WAL before group commits are answered (walsync.go)
	cdb           *sql.DB    // the checkpointer's connection (checkpoint.go)
	cpDone        chan struct{}
	pagesWritten  atomic.Int64 // pages the writer wrote to the WAL (pages.go)
	dir           string       // the database file's directory, absolute
	storage       storageState // whether writes find the storage full (storage.go)
	schemaKnown   int          // the highest migration this program has
	schemaAhead   atomic.Int64 // the file's schema version after StepAside (schema.go)
}

// NewDB returns a DB on the database file at path. Call Open before use.
func NewDB(path string) *DB {
	return &DB{
		types:  rowcodec.NewObjectTypeCache(),
		wtypes: newWriterTypes(),
		path:   path,
		Now:    time.Now,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// Open opens the database file, creating it and its directory if needed,
// and migrates its schema to the latest version. It returns ErrSchemaTooNew
// (wrapped) if the file has a schema version this program does not know.
func (db *DB) Open() (err error) {
	if db.path == "" {
		return errors.New("sqlite: open: database path required")
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(db.path)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	db.dir = filepath.Dir(abs)
	if err := os.MkdirAll(db.dir, 0o700); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	// A new database file is the owner's alone (SQLite would make it
	// 0644 under the usual umask); its -wal and -shm files take the
	// file's mode.
	if f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	migrations, err := migrate.Load(migrationFS)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	// The writer opens first: the first connection switches a new file to
	// WAL, which the read-only connections cannot do.
	if db.wdb, err = sql.Open("sqlite", WriterDSN(abs)); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	db.wdb.SetMaxOpenConns(1)
	db.wdb.SetMaxIdleConns(1)
	db.wdb.SetConnMaxLifetime(0)
	db.wdb.SetConnMaxIdleTime(0)

	ctx := context.Background()
	db.schemaKnown = migrations[len(migrations)-1].Version
	if err := db.migrate(ctx, migrations); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.path, err)
	}
	db.wstmts = newStmtCache()
	db.updates, db.quit, db.committerDone = make(chan *update), make(chan struct{}), make(chan struct{})
	db.syncer = &WALSyncer{walPath: abs + "-wal", onSync: db.OnSync, onFail: func(err error) {
		db.Logger.Error("sqlite: an fsync of the write-ahead log failed: the writes it was to make durable are not acknowledged, and every write is refused from now on (the disk may have dropped them); restart the server once the disk is sound",
			"data_dir", db.dir, "err", err)
	}}
	db.syncer.start(db.syncer.syncWAL)
	go db.commitLoop()
	if db.cdb, err = sql.Open("sqlite", dsn(abs)); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	db.cdb.SetMaxOpenConns(1)
	db.cpDone = make(chan struct{})
	go db.checkpointLoop(db.cdb, db.quit, db.cpDone)

	if db.rdb, err = sql.Open("sqlite", dsn(abs, "_pragma=query_only(1)")); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.rdb.SetMaxOpenConns(n)
	db.rdb.SetMaxIdleConns(n)
	db.rdb.SetConnMaxLifetime(0)
	db.rdb.SetConnMaxIdleTime(0)
	if err := db.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	db.rstmts = newStmtCache()
	db.rstmts.wake, db.rprepDone = make(chan struct{}, 1), make(chan struct{})
	go db.rstmts.runPreparer(db.rdb, db.quit, db.rprepDone)
	if db.vdb, err = sql.Open("sqlite", dsn(abs, "_pragma=query_only(1)")); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	db.vdb.SetMaxOpenConns(n)
	db.vdb.SetMaxIdleConns(n)
	db.vdb.SetConnMaxLifetime(0)
	db.vdb.SetConnMaxIdleTime(0)
	db.vstmts = newStmtCache()
	db.vstmts.wake, db.vprepDone = make(chan struct{}, 1), make(chan struct{})
	go db.vstmts.runPreparer(db.vdb, db.quit, db.vprepDone)
	return nil
}

// WriterDSN returns the data source name of the writer connection of a
// DB on the database file at the absolute path abs: the same pragmas
// (durability, WAL, busy timeout) and BEGIN IMMEDIATE. Its temporary
// files are in memory: above all the sub-journal, in which SQLite keeps,
// for ROLLBACK TO, the pages a SAVEPOINT of group commit changes, and which
// it otherwise spills to a file past 64 KiB, a pwrite a page (a tenth of
// the server's CPU in ingestion). It only serves to roll back a savepoint
// within a transaction; crash recovery reads the WAL alone. The bench command's
// raw scenario writes with it, to compare the store with SQLite itself.
func WriterDSN(abs string) string {
	return dsn(abs, "_txlock=immediate", "_pragma=cache_size(-"+strconv.Itoa(WriterCacheKiB)+")",
		"_pragma=wal_autocheckpoint("+strconv.Itoa(WriterAutoCheckpointPages)+")",
		"_pragma=journal_size_limit(67108864)", "_pragma=temp_store(MEMORY)")
}

// WriterCacheKiB is the page cache of the writer connection: the pages of
// the indexes that ingestion updates stay in memory instead of being read
// again from the file (SQLite's default is 2 MiB).
const WriterCacheKiB = 64 << 10

// dsn returns the data source name of the database file at the absolute
// path abs with the pragmas every connection gets, plus extra parameters.
// The driver runs the _pragma values on each new connection of a pool.
//
// synchronous=FULL: in WAL mode every COMMIT syncs the WAL before it
// returns, so what a write method returned survives a power loss or a
// kernel crash, not only the process being killed; checkpoints sync the WAL
// and the database file as under NORMAL. The committer's group
// transactions commit with NORMAL and are synced by a WALSyncer before they
// are answered (walsync.go).
func dsn(abs string, extra ...string) string {
	params := []string{
		"_pragma=busy_timeout(" + strconv.FormatInt(BusyTimeout.Milliseconds(), 10) + ")",
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
	}
	// A "file:" name is a SQLite URI: escape '?', '#', '%' and the like.
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?" + strings.Join(append(params, extra...), "&")
}

// Close closes both pools. Calls in flight finish first. Close may be called
// more than once.
func (db *DB) Close() error {
	var errs []error
	if db.quit != nil {
		select {
		case <-db.quit:
		default:
			close(db.quit)
		}
		<-db.committerDone
		db.syncer.Close() // answers the last groups
		db.wstmts.close()
	}
	if db.vprepDone != nil {
		<-db.vprepDone
		db.vstmts.close()
	}
	if db.rprepDone != nil {
		<-db.rprepDone
		db.rstmts.close()
	}
	if db.cpDone != nil {
		<-db.cpDone
		if err := db.cdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close checkpointer: %w", err))
		}
	}
	if db.rdb != nil {
		if err := db.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close readers: %w", err))
		}
	}
	if db.vdb != nil {
		if err := db.vdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close view readers: %w", err))
		}
	}
	if db.wdb != nil {
		if err := db.wdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close writer: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Ping runs a query on the reader pool.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.rdb.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// beginWrite begins a write transaction (BEGIN IMMEDIATE on the writer),
// unless the database was migrated past this program (schema.go) or an
// fsync of its WAL failed (walsync.go).
func (db *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	if err := db.writable(); err != nil {
		return nil, err
	}
	return db.wdb.BeginTx(ctx, nil)
}

// beginRead begins a read transaction: a consistent snapshot that neither
// waits for nor blocks the writer.
func (db *DB) beginRead(ctx context.Context) (*sql.Tx, error) {
	return db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
}

// now returns the current time at the precision the database keeps.
func (db *DB) now() time.Time {
	return time.UnixMilli(db.Now().UnixMilli()).UTC()
}

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE
// constraint failure. It looks at the extended result code, not the text.
func isUniqueViolation(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// migrate applies the migrations the database lacks, in order, each in its
// own transaction, and records each in schema_migrations.
func (db *DB) migrate(ctx context.Context, ms []migrate.Migration) error {
	if _, err := db.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	latest := ms[len(ms)-1].Version
	var current int
	if err := db.wdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("%w: version %d, this program knows up to %d; run a newer openprofiles", ErrSchemaTooNew, current, latest)
	}

	for _, m := range ms {
		if err := db.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// applyMigration applies m unless it is recorded as applied. The check is
// inside the (immediate) transaction, so two processes opening the same
// file at once apply it once.
func (db *DB) applyMigration(ctx context.Context, m migrate.Migration) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, db.now().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if err := db.commit(tx); err != nil {
		return err
	}
	db.Logger.Info("applied migration", "version", m.Version, "name", m.Name, "path", db.path)
	return nil
}
