// Package pgtest gives tests fresh PostgreSQL databases on the test server:
// OPENPROFILES_TEST_POSTGRES, or the local server scripts/test starts. A
// test that needs PostgreSQL fails, never skips, when it cannot reach it.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the test server's URL.
const Env = "OPENPROFILES_TEST_POSTGRES"

// DefaultServer is the server of the project's machines (trust auth).
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Server returns the URL of the test server.
func Server() string {
	if s := os.Getenv(Env); s != "" {
		return s
	}
	return DefaultServer
}

// CreateDatabase creates a database of a random name, prefix_…, on the
// server, and returns its URL and a function that drops it.
func CreateDatabase(server, prefix string) (dsn string, drop func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(context.Background())
	name := prefix + "_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("%s must be a postgres:// URL: %w", Env, err)
	}
	u.Path = "/" + name
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
		return err
	}
	return u.String(), drop, nil
}

// MustDatabase creates a fresh database on the test server and returns its
// URL; it is dropped when tb ends.
func MustDatabase(tb testing.TB, prefix string) string {
	tb.Helper()
	dsn, drop, err := CreateDatabase(Server(), prefix)
	if err != nil {
		tb.Fatalf("PostgreSQL at %s: %v (./scripts/test starts it; or set %s)", Redact(Server()), err, Env)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Logf("drop test database: %v", err)
		}
	})
	return dsn
}

// Redact returns dsn without its password.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}
