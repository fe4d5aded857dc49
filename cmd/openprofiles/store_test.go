package main_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/postgres/pgtest"
)

// The end-to-end tests run on the store OPENPROFILES_TEST_STORE names:
// "sqlite" (or unset), the default, or "postgres", where every server a test
// starts with no Store of its own gets a fresh database on the PostgreSQL
// server of OPENPROFILES_TEST_POSTGRES (dropped when the test ends). A test
// that restarts a server on the same data dir finds the same database
// again. scripts/test runs the package once on each store. A test that is
// about SQLite itself (its files, its rows) sets Store to "sqlite".
const (
	storeEnv         = "OPENPROFILES_TEST_STORE"
	sqliteStoreValue = "sqlite"
)

// testDatabases maps a data dir to the PostgreSQL database of the servers
// that use it.
var testDatabases sync.Map

// testStore returns the Store setting for a server of the test on dataDir:
// "" (SQLite) unless OPENPROFILES_TEST_STORE is "postgres".
func testStore(tb testing.TB, dataDir string) string {
	tb.Helper()
	switch kind := os.Getenv(storeEnv); kind {
	case "", sqliteStoreValue:
		return ""
	case "postgres":
		key := filepath.Clean(dataDir)
		if dsn, ok := testDatabases.Load(key); ok {
			return dsn.(string)
		}
		dsn := mustPostgresDatabase(tb)
		testDatabases.Store(key, dsn)
		tb.Cleanup(func() { testDatabases.Delete(key) })
		return dsn
	default:
		tb.Fatalf("%s=%q: want sqlite or postgres", storeEnv, kind)
		return ""
	}
}

// withTestStore returns c with the test's store when c names none.
func withTestStore(tb testing.TB, c main.Config) main.Config {
	tb.Helper()
	if c.Store == "" {
		c.Store = testStore(tb, c.DataDir)
	}
	return c
}

// onPostgres reports whether the servers of this run use PostgreSQL.
func onPostgres() bool { return os.Getenv(storeEnv) == "postgres" }

// mustPostgresDatabase creates a fresh database on the test PostgreSQL
// server (OPENPROFILES_TEST_POSTGRES, as for package postgres) and returns
// its URL; it is dropped when the test ends. The test fails, never skips,
// without a server.
func mustPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	return pgtest.MustDatabase(tb, "openprofiles_e2e")
}

// mustRawExec runs one statement directly on the database of m, bypassing
// the server, as a test that damages stored data does. query uses ? for its
// arguments on both stores.
func mustRawExec(tb testing.TB, m *main.Main, query string, args ...any) {
	tb.Helper()
	ctx := context.Background()
	if dsn := m.Config.Store; strings.HasPrefix(dsn, "postgres") {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, pgPlaceholders(query), args...); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		return
	}
	raw, err := sql.Open("sqlite", filepath.Join(m.Config.DataDir, "openprofiles.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// mustRawCount runs one query that returns a number (a count) directly on
// the database of m, bypassing the server. query uses ? for its arguments
// on both stores.
func mustRawCount(tb testing.TB, m *main.Main, query string, args ...any) int {
	tb.Helper()
	ctx := context.Background()
	var n int
	if dsn := m.Config.Store; strings.HasPrefix(dsn, "postgres") {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, pgPlaceholders(query), args...).Scan(&n); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		return n
	}
	raw, err := sql.Open("sqlite", filepath.Join(m.Config.DataDir, "openprofiles.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// pgPlaceholders numbers the ? of query as $1, $2, ….
func pgPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
