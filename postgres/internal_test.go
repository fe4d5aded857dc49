package postgres

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openprofiles/profiles/internal/migrate"
)

// mustOpen opens a DB on a new schema, configured by configure if not nil,
// and closes it when tb ends.
func mustOpen(tb testing.TB, configure func(*DB)) *DB {
	tb.Helper()
	db := NewDB(MustSchema(tb))
	if configure != nil {
		configure(db)
	}
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestPool(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		db := mustOpen(t, nil)
		if got, want := db.pool.Config().MaxConns, int32(4*runtime.GOMAXPROCS(0)); got != want {
			t.Errorf("MaxConns=%d, want %d", got, want)
		}
		if got := db.pool.Config().ConnConfig.ConnectTimeout; got != DefaultConnectTimeout {
			t.Errorf("ConnectTimeout=%v, want %v", got, DefaultConnectTimeout)
		}
		var timeout, app string
		if err := db.pool.QueryRow(t.Context(), `SELECT current_setting('statement_timeout'), current_setting('application_name')`).Scan(&timeout, &app); err != nil {
			t.Fatalf("read settings: %v", err)
		}
		if timeout != "30s" || app != "openprofiles" {
			t.Errorf("statement_timeout=%q, application_name=%q; want 30s, openprofiles", timeout, app)
		}
	})

	t.Run("Configured", func(t *testing.T) {
		db := mustOpen(t, func(db *DB) {
			db.MaxConns = 3
			db.StatementTimeout = 50 * time.Millisecond
		})
		if got := db.pool.Config().MaxConns; got != 3 {
			t.Errorf("MaxConns=%d, want 3", got)
		}
		// Opening a connection may take longer than such a statement.
		if got := db.pool.Config().ConnConfig.ConnectTimeout; got != MinConnectTimeout {
			t.Errorf("ConnectTimeout=%v with a StatementTimeout of 50ms, want %v", got, MinConnectTimeout)
		}
		_, err := db.pool.Exec(t.Context(), `SELECT pg_sleep(5)`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
			t.Fatalf("a statement longer than the timeout: err=%v, want query_canceled (57014)", err)
		}
	})

	t.Run("NoStatementTimeout", func(t *testing.T) {
		db := mustOpen(t, func(db *DB) { db.StatementTimeout = -1 })
		var timeout string
		if err := db.pool.QueryRow(t.Context(), `SELECT current_setting('statement_timeout')`).Scan(&timeout); err != nil {
			t.Fatalf("read settings: %v", err)
		} else if timeout != "0" {
			t.Errorf("statement_timeout=%q, want 0", timeout)
		}
	})
}

// TestEmbeddedMigrations: the migrations built in load (package migrate
// checks their names and order).
func TestEmbeddedMigrations(t *testing.T) {
	ms, err := migrate.Load(migrationFS)
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrate.Load: %d migrations, %v", len(ms), err)
	}
	for i, m := range ms {
		if m.Version != i+1 || m.SQL == "" {
			t.Errorf("migration %d: %s, version %d", i, m.Name, m.Version)
		}
	}
}

// TestMigrate applies migrations of several statements, each in its own
// transaction: a failing one leaves nothing behind, and none runs twice.
// The connection comes back as it was: no lock, the statement timeout of
// the pool.
func TestMigrate(t *testing.T) {
	ctx, db := t.Context(), mustOpen(t, nil)
	embedded, err := migrate.Load(migrationFS)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	ms := append(embedded, migrate.Migration{
		Version: len(embedded) + 1,
		Name:    fmt.Sprintf("%04d_two.sql", len(embedded)+1),
		SQL:     "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\nCREATE TABLE b (y int);",
	})
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer conn.Release()
	for range 2 {
		if err := db.migrate(ctx, conn.Conn(), ms); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	var rows, locks int
	var timeout string
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b),
			(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
			current_setting('statement_timeout')`).Scan(&rows, &locks, &timeout); err != nil {
		t.Fatalf("read migrated tables: %v", err)
	}
	if rows != 1 || locks != 0 || timeout != "30s" {
		t.Errorf("rows in a and b %d, advisory locks %d, statement_timeout %q; want 1 (applied once), 0, 30s", rows, locks, timeout)
	}

	bad := append(ms, migrate.Migration{Version: len(ms) + 1, Name: fmt.Sprintf("%04d_bad.sql", len(ms)+1), SQL: "CREATE TABLE c (z int);\nSELECT nope FROM missing;"})
	if err := db.migrate(ctx, conn.Conn(), bad); err == nil {
		t.Fatal("migrate(bad): err=nil, want an error")
	}
	conn.Conn().Close(ctx) // as Open does after a failure
	other, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer other.Close(ctx)
	var tables, versions int
	if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'c'`).Scan(&tables); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	if err := other.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if tables != 0 || versions != len(ms) {
		t.Errorf("after failed migration: table c %d, versions %d; want 0, %d", tables, versions, len(ms))
	}
}

// TestIsConflict: the errors after which a transaction is run again. A
// server whose lock tables are full (53200, seen under load with many
// SERIALIZABLE writers) is one: it answered InternalServerException.
func TestIsConflict(t *testing.T) {
	for code, want := range map[string]bool{
		"40001": true,  // serialization_failure
		"40P01": true,  // deadlock_detected
		"53200": true,  // out_of_memory: "out of shared memory", lock tables full
		"23505": false, // unique_violation
		"57014": false, // query_canceled
	} {
		err := fmt.Errorf("postgres: put profile: %w", &pgconn.PgError{Code: code})
		if got := isConflict(err); got != want {
			t.Errorf("isConflict(%s) = %v, want %v", code, got, want)
		}
	}
}
