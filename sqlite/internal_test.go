package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/openprofiles/profiles/internal/migrate"
)

func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db := NewDB(filepath.Join(tb.TempDir(), "profiles.db"))
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestPragmasOnEveryConnection holds several connections of each pool at
// once, so that each is a separate SQLite connection, and checks each.
func TestPragmasOnEveryConnection(t *testing.T) {
	db := mustOpen(t)
	// synchronous 2 (FULL): a commit syncs the WAL, so an acknowledged
	// write survives a power loss.
	common := map[string]int64{"busy_timeout": 5000, "foreign_keys": 1, "synchronous": 2}
	for _, tt := range []struct {
		name      string
		pool      *sql.DB
		n         int
		queryOnly int64
		tempStore int64 // 2: MEMORY (the writer's savepoint sub-journals), 0: default
	}{
		{"Writer", db.wdb, 1, 0, 2},
		{"Readers", db.rdb, 4, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			for i := range tt.n {
				conn, err := tt.pool.Conn(ctx)
				if err != nil {
					t.Fatalf("Conn %d: %v", i, err)
				}
				defer conn.Close()
				got := map[string]int64{}
				for _, pragma := range []string{"busy_timeout", "foreign_keys", "synchronous", "query_only", "temp_store"} {
					var v int64
					if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&v); err != nil {
						t.Fatalf("conn %d: PRAGMA %s: %v", i, pragma, err)
					}
					got[pragma] = v
				}
				want := map[string]int64{"query_only": tt.queryOnly, "temp_store": tt.tempStore}
				for k, v := range common {
					want[k] = v
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("conn %d: pragmas (-want +got):\n%s", i, diff)
				}
				var mode string
				if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
					t.Fatalf("conn %d: PRAGMA journal_mode: %v", i, err)
				} else if mode != "wal" {
					t.Errorf("conn %d: journal_mode=%q, want wal", i, mode)
				}
			}
		})
	}
}

// TestWriteTxIsImmediate checks that a write transaction holds the write
// lock from BEGIN, before any statement, so that its reads and writes are
// atomic against other writers.
func TestWriteTxIsImmediate(t *testing.T) {
	ctx, db := t.Context(), mustOpen(t)
	tx, err := db.beginWrite(ctx)
	if err != nil {
		t.Fatalf("beginWrite: %v", err)
	}
	defer tx.Rollback()

	other, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer other.Close()
	_, err = other.ExecContext(ctx, `INSERT INTO domains (name, default_expiration_days, created_at, updated_at) VALUES ('x', 1, 0, 0)`)
	var e *msqlite.Error
	if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY {
		t.Fatalf("write beside an open write transaction: err=%v, want SQLITE_BUSY", err)
	}
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
func TestMigrate(t *testing.T) {
	ctx, db := t.Context(), mustOpen(t)
	embedded, err := migrate.Load(migrationFS)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	ms := append(embedded, migrate.Migration{
		Version: len(embedded) + 1,
		Name:    fmt.Sprintf("%04d_two.sql", len(embedded)+1),
		SQL:     "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\nCREATE TABLE b (y INTEGER);",
	})
	for range 2 {
		if err := db.migrate(ctx, ms); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	var rows int
	if err := db.wdb.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM a) + (SELECT COUNT(*) FROM b)`).Scan(&rows); err != nil {
		t.Fatalf("read migrated tables: %v", err)
	} else if rows != 1 {
		t.Errorf("rows in a and b: %d, want 1 (applied once)", rows)
	}

	bad := append(ms, migrate.Migration{Version: len(ms) + 1, Name: fmt.Sprintf("%04d_bad.sql", len(ms)+1), SQL: "CREATE TABLE c (z);\nSELECT nope FROM missing;"})
	if err := db.migrate(ctx, bad); err == nil {
		t.Fatal("migrate(bad): err=nil, want an error")
	}
	var tables, versions int
	if err := db.wdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'c'`).Scan(&tables); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	if err := db.wdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if tables != 0 || versions != len(ms) {
		t.Errorf("after failed migration: table c %d, versions %d; want 0, %d", tables, versions, len(ms))
	}
}
