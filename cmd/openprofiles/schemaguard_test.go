package main_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/jackc/pgx/v5"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/sqlite"
)

// TestSchemaUpgradedWhileRunning: a server runs, then another node (on
// PostgreSQL) or another process on the same file (SQLite) migrates the
// database past it. The server notices within its check interval and
// steps aside: /healthz answers 503 naming both versions, API calls (SDK),
// the built-in KMS, the console and the contact intake are refused with an
// InternalServerException saying why, its background work stops, its
// store refuses to write, the gauge says 1, and one ERROR line is logged.
func TestSchemaUpgradedWhileRunning(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(t *testing.T) string
		bump  func(t *testing.T, m *main.Main, version int)
		isErr error
	}{
		{"SQLite", func(*testing.T) string { return "sqlite" }, func(t *testing.T, m *main.Main, version int) {
			// A second handle on the file: another process's migration.
			raw, err := sql.Open("sqlite", "file:"+filepath.Join(m.Config.DataDir, "openprofiles.db")+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at)
				VALUES (?, '9999_future.sql', '2099-01-01T00:00:00Z')`, version); err != nil {
				t.Fatalf("insert newer migration: %v", err)
			}
		}, sqlite.ErrSchemaTooNew},
		{"PostgreSQL", mustPostgresDatabaseStore, func(t *testing.T, m *main.Main, version int) {
			// Another node's migration.
			conn, err := pgx.Connect(t.Context(), m.Config.Store)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at)
				VALUES ($1, '9999_future.sql', '2099-01-01T00:00:00Z')`, version); err != nil {
				t.Fatalf("insert newer migration: %v", err)
			}
		}, postgres.ErrSchemaTooNew},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := main.DefaultConfig()
			c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
			c.Store = tt.store(t)
			c.SchemaCheckInterval = 20 * time.Millisecond
			c.SweepInterval = 20 * time.Millisecond // the background loops run all the time
			logs := &syncBuffer{}
			m := &main.Main{Config: c, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
			if err := m.Open(); err != nil {
				t.Fatalf("open main: %v", err)
			}
			t.Cleanup(func() { m.Close() })
			client := MustClient(t, m)
			ctx := t.Context()
			if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("before"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
				t.Fatalf("CreateDomain before the upgrade: %v", err)
			}
			if status, body := mustGet(t, m.URL()+"/healthz"); status != http.StatusOK {
				t.Fatalf("healthz before the upgrade: %d %s", status, body)
			}
			if _, body := mustGet(t, m.URL()+"/metrics"); !strings.Contains(body, "openprofiles_schema_version_behind 0") {
				t.Errorf("metrics before the upgrade lack openprofiles_schema_version_behind 0")
			}
			known := mustRawCount(t, m, `SELECT MAX(version) FROM schema_migrations`)

			tt.bump(t, m, known+1)

			// /healthz tells the load balancer, naming both versions.
			var status int
			var body string
			for deadline := time.Now().Add(20 * time.Second); ; {
				if status, body = mustGet(t, m.URL()+"/healthz"); status == http.StatusServiceUnavailable || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if status != http.StatusServiceUnavailable {
				t.Fatalf("healthz after the upgrade: %d %s, want 503", status, body)
			}
			var health struct {
				Status                string `json:"status"`
				DatabaseSchemaVersion int    `json:"database_schema_version"`
				ServerSchemaVersion   int    `json:"server_schema_version"`
				Message               string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &health); err != nil {
				t.Fatalf("healthz body %s: %v", body, err)
			}
			if health.DatabaseSchemaVersion != known+1 || health.ServerSchemaVersion != known ||
				!strings.Contains(health.Message, fmt.Sprint(known+1)) || !strings.Contains(health.Message, fmt.Sprint(known)) ||
				!strings.Contains(health.Message, "upgrade this node") {
				t.Errorf("healthz body %s: want versions %d and %d and \"upgrade this node\"", body, known+1, known)
			}

			// Every API call is refused, with a message an operator understands.
			older := "older than the database schema"
			_, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
			wantAPIError(t, err, "InternalServerException", older, fmt.Sprint(known+1), fmt.Sprint(known))
			_, err = client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("after"), DefaultExpirationDays: aws.Int32(30)})
			wantAPIError(t, err, "InternalServerException", older)
			// The built-in KMS, and the contact intake, alike.
			kmsReq := mustSignedRequest(t, m, http.MethodPost, "/", []byte(`{}`), signOpts{service: "kms"})
			kmsReq.Header.Set("X-Amz-Target", "TrentService.ListKeys")
			kmsReq.Header.Set("Content-Type", "application/x-amz-json-1.1")
			checkError(t, mustDo(t, kmsReq), http.StatusInternalServerError, "InternalServerException", older)
			checkError(t, mustDo(t, mustSignedRequest(t, m, http.MethodPost, "/connect/instances/00000000-0000-0000-0000-000000000000/contact-records", []byte(`{}`), signOpts{})),
				http.StatusInternalServerError, "InternalServerException", older)
			// The console: a page that says it.
			if status, body := mustGet(t, m.URL()+"/console/"); status != http.StatusInternalServerError || !strings.Contains(body, older) {
				t.Errorf("console: %d %q, want 500 saying the server is %s", status, body, older)
			}

			// The background work stops; the store writes nothing more.
			for deadline := time.Now().Add(40 * time.Second); ; {
				current, k, behind, stopped := m.SchemaBehind()
				if stopped {
					if current != known+1 || k != known || !behind {
						t.Errorf("SchemaBehind = %d, %d, %v", current, k, behind)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("background work still running")
				}
				time.Sleep(10 * time.Millisecond)
			}
			err = m.DB.CreateDomain(ctx, &profiles.Domain{Name: "direct", DefaultExpirationDays: 30}, 0)
			if !errors.Is(err, tt.isErr) {
				t.Errorf("store CreateDomain: err=%v, want %v", err, tt.isErr)
			}
			if n := mustRawCount(t, m, `SELECT COUNT(*) FROM domains`); n != 1 {
				t.Errorf("%d domains, want 1", n)
			}

			if _, body := mustGet(t, m.URL()+"/metrics"); !strings.Contains(body, "openprofiles_schema_version_behind 1") {
				t.Errorf("metrics after the upgrade lack openprofiles_schema_version_behind 1")
			}
			// One ERROR line, not one per request.
			var lines int
			for line := range strings.SplitSeq(logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, "upgrade this node") {
					lines++
					if !strings.Contains(line, fmt.Sprintf(`"database_schema_version":%d`, known+1)) || !strings.Contains(line, fmt.Sprintf(`"server_schema_version":%d`, known)) {
						t.Errorf("log line %s does not name both versions", line)
					}
				}
			}
			if lines != 1 {
				t.Errorf("%d ERROR lines about the schema, want 1:\n%s", lines, logs.String())
			}
		})
	}
}

// mustPostgresDatabaseStore returns the URL of a fresh database.
func mustPostgresDatabaseStore(t *testing.T) string { return mustPostgresDatabase(t) }

// mustGet fetches url without a signature and returns the status and body.
func mustGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestSchemaUpgradeNoticedOnServerError: the periodic check is an hour
// away, so only the early check can notice. Another node (PostgreSQL) or
// process (SQLite) applies a migration that the older server's statements
// do not survive (it renames a column of domains). The server's next
// request that writes a domain fails with a server error; that error asks
// for a check at once, and the server steps aside well before the timer.
func TestSchemaUpgradeNoticedOnServerError(t *testing.T) {
	const migrate = `ALTER TABLE domains RENAME COLUMN default_expiration_days TO expiration_days`
	for _, tt := range []struct {
		name  string
		store func(t *testing.T) string
		bump  func(t *testing.T, m *main.Main, version int)
	}{
		{"SQLite", func(*testing.T) string { return "sqlite" }, func(t *testing.T, m *main.Main, version int) {
			raw, err := sql.Open("sqlite", "file:"+filepath.Join(m.Config.DataDir, "openprofiles.db")+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			tx, err := raw.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(t.Context(), migrate); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if _, err := tx.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at)
				VALUES (?, '9999_future.sql', '2099-01-01T00:00:00Z')`, version); err != nil {
				t.Fatalf("insert newer migration: %v", err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}},
		{"PostgreSQL", mustPostgresDatabaseStore, func(t *testing.T, m *main.Main, version int) {
			conn, err := pgx.Connect(t.Context(), m.Config.Store)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			tx, err := conn.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.Background())
			if _, err := tx.Exec(t.Context(), migrate); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if _, err := tx.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at)
				VALUES ($1, '9999_future.sql', '2099-01-01T00:00:00Z')`, version); err != nil {
				t.Fatalf("insert newer migration: %v", err)
			}
			if err := tx.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := main.DefaultConfig()
			c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
			c.Store = tt.store(t)
			c.SchemaCheckInterval = time.Hour // the timer plays no part
			m := &main.Main{Config: c, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			if err := m.Open(); err != nil {
				t.Fatalf("open main: %v", err)
			}
			t.Cleanup(func() { m.Close() })
			client := MustClient(t, m)
			ctx := t.Context()
			if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("before"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
				t.Fatalf("CreateDomain before the upgrade: %v", err)
			}
			known := mustRawCount(t, m, `SELECT MAX(version) FROM schema_migrations`)

			tt.bump(t, m, known+1)
			if _, _, behind, _ := m.SchemaBehind(); behind {
				t.Fatalf("behind before any request failed")
			}

			// The older server's write fails: a server error.
			_, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("after"), DefaultExpirationDays: aws.Int32(30)})
			wantAPIError(t, err, "InternalServerException")

			var status int
			var body string
			for deadline := time.Now().Add(20 * time.Second); ; {
				if status, body = mustGet(t, m.URL()+"/healthz"); status == http.StatusServiceUnavailable || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if status != http.StatusServiceUnavailable {
				t.Fatalf("healthz after a failed write on the upgraded schema: %d %s, want 503", status, body)
			}
			if current, k, behind, _ := m.SchemaBehind(); current != known+1 || k != known || !behind {
				t.Errorf("SchemaBehind = %d, %d, %v, want %d, %d, true", current, k, behind, known+1, known)
			}
		})
	}
}
