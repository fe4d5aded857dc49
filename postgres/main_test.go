package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openprofiles/profiles/postgres/pgtest"
)

// The tests run on the PostgreSQL server of OPENPROFILES_TEST_POSTGRES (a
// connection string to any database of it, whose user may create
// databases), by default the local one. TestMain creates a database of a
// random name for the package's run and drops it at the end; each test (or
// conformance case) works in a schema of its own there. The tests fail,
// never skip, when the server cannot be reached: CI must run them.
const defaultServer = pgtest.DefaultServer

// testDatabase is the connection string of the database of this run, and
// admin a pool on it; TestMain sets both.
var (
	testDatabase string
	admin        *pgxpool.Pool
)

// schemas counts the schemas made, to name them.
var schemas atomic.Int64

func TestMain(m *testing.M) {
	server := os.Getenv("OPENPROFILES_TEST_POSTGRES")
	if server == "" {
		server = defaultServer
	}
	dsn, drop, err := createDatabase(server)
	if err != nil {
		fmt.Fprintf(os.Stderr, "postgres tests: no test database on the server of OPENPROFILES_TEST_POSTGRES (%s): %v\n", redact(server), err)
		fmt.Fprintln(os.Stderr, "postgres tests: start PostgreSQL (./scripts/test does) or point OPENPROFILES_TEST_POSTGRES at one")
		fmt.Println("FAIL")
		os.Exit(1)
	}
	testDatabase = dsn
	if admin, err = pgxpool.New(context.Background(), dsn); err != nil {
		fmt.Fprintf(os.Stderr, "postgres tests: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	admin.Close()
	if err := drop(); err != nil {
		fmt.Fprintf(os.Stderr, "postgres tests: drop test database: %v\n", err)
	}
	os.Exit(code)
}

func createDatabase(server string) (dsn string, drop func() error, err error) {
	return pgtest.CreateDatabase(server, "openprofiles_test")
}

func redact(dsn string) string { return pgtest.Redact(dsn) }

// MustSchema creates a new, empty schema in the test database and returns
// the connection string that uses it. (Exported for the package's external
// tests, which share this TestMain.)
func MustSchema(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%05d", schemas.Add(1))
	if _, err := admin.Exec(context.Background(), `CREATE SCHEMA `+name); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(testDatabase)
	if err != nil {
		tb.Fatalf("parse test database: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
