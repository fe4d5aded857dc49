package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
	"github.com/openprofiles/profiles/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, now func() time.Time) profiles.Store {
		return mustOpenDBAt(tb, filepath.Join(tb.TempDir(), "profiles.db"), now)
	})
}

// MustOpenDB opens a DB on a new file in a temporary directory and closes
// it when tb ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return mustOpenDBAt(tb, filepath.Join(tb.TempDir(), "profiles.db"), nil)
}

// mustOpenDBAt opens a DB on the file at path, with the clock now if not nil,
// and closes it when tb ends.
func mustOpenDBAt(tb testing.TB, path string, now func() time.Time) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	if now != nil {
		db.Now = now
	}
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// mustOpenRaw opens a plain connection to the file at path, beside the DB,
// to look at what the DB wrote. Every test that uses it closes it.
func mustOpenRaw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatalf("sql.Open: %v", err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func TestDB_JournalMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profiles.db")
	db := mustOpenDBAt(t, path, nil)
	if err := db.CreateDomain(t.Context(), &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	var mode string
	if err := mustOpenRaw(t, path).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatalf("PRAGMA journal_mode: %v", err)
	}
	if got, want := mode, "wal"; got != want {
		t.Errorf("journal_mode=%q, want %q", got, want)
	}
}

// TestDB_FileModes: a new database file and its -wal and -shm files are
// readable and writable by their owner only, whatever the umask lets
// through.
func TestDB_FileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profiles.db")
	db := mustOpenDBAt(t, path, nil)
	if err := db.CreateDomain(t.Context(), &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), got)
		}
	}
}

type migrationRow struct {
	Version   int
	Name      string
	AppliedAt string
}

func readMigrations(tb testing.TB, ctx context.Context, path string) []migrationRow {
	tb.Helper()
	raw := mustOpenRaw(tb, path)
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		tb.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var m migrationRow
		if err := rows.Scan(&m.Version, &m.Name, &m.AppliedAt); err != nil {
			tb.Fatalf("scan schema_migrations: %v", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("read schema_migrations: %v", err)
	}
	return out
}

func TestDB_Migrations(t *testing.T) {
	t.Run("RecordedOnce", func(t *testing.T) {
		ctx, path := t.Context(), filepath.Join(t.TempDir(), "profiles.db")
		first := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		db := mustOpenDBAt(t, path, func() time.Time { return first })
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		want := []migrationRow{
			{Version: 1, Name: "0001_domains.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 2, Name: "0002_profiles.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 3, Name: "0003_history.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 4, Name: "0004_kms.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 5, Name: "0005_iam.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 6, Name: "0006_queues.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 7, Name: "0007_integrations.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 8, Name: "0008_ingest_buckets.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 9, Name: "0009_binary_profile_rows.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 10, Name: "0010_configs.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 11, Name: "0011_revoked_sessions.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 12, Name: "0012_stream_events.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 13, Name: "0013_stream_claims.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 14, Name: "0014_dead_letter_copies.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 15, Name: "0015_domain_deletion.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 16, Name: "0016_history_object_key.sql", AppliedAt: "2026-03-01T12:00:00Z"},
			{Version: 17, Name: "0017_server_settings.sql", AppliedAt: "2026-03-01T12:00:00Z"},
		}
		if diff := cmp.Diff(want, readMigrations(t, ctx, path)); diff != "" {
			t.Fatalf("schema_migrations after first open (-want +got):\n%s", diff)
		}

		// Reopening with a later clock applies nothing and records nothing.
		for range 2 {
			db := mustOpenDBAt(t, path, func() time.Time { return first.Add(time.Hour) })
			if err := db.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if diff := cmp.Diff(want, readMigrations(t, ctx, path)); diff != "" {
			t.Errorf("schema_migrations after reopening (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrSchemaTooNew", func(t *testing.T) {
		ctx, path := t.Context(), filepath.Join(t.TempDir(), "profiles.db")
		if err := mustOpenDBAt(t, path, nil).Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		raw := mustOpenRaw(t, path)
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
			VALUES (9999, '9999_future.sql', '2099-01-01T00:00:00Z')`); err != nil {
			t.Fatalf("insert future migration: %v", err)
		}
		raw.Close()

		db := sqlite.NewDB(path)
		err := db.Open()
		db.Close()
		if !errors.Is(err, sqlite.ErrSchemaTooNew) {
			t.Fatalf("Open: err=%v, want %v", err, sqlite.ErrSchemaTooNew)
		}
		t.Logf("Open: %v", err)
	})
}

func TestDB_Reopen(t *testing.T) {
	ctx, path := t.Context(), filepath.Join(t.TempDir(), "sub", "dir", "profiles.db")
	want := &profiles.Domain{
		Name:                  "kept",
		DefaultExpirationDays: 30,
		DeadLetterQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
		RuleBasedMatching:     &profiles.RuleBasedMatchingSettings{Enabled: true, MatchingRules: [][]string{{"EmailAddress"}}},
		Tags:                  map[string]string{"k": "v"},
		CreatedAt:             time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		LastUpdatedAt:         time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
	}
	db := mustOpenDBAt(t, path, nil)
	if err := db.CreateDomain(ctx, want, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = mustOpenDBAt(t, path, nil)
	got, err := db.FindDomain(ctx, "kept")
	if err != nil {
		t.Fatalf("FindDomain after reopen: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("FindDomain after reopen (-want +got):\n%s", diff)
	}
}

func TestDB_PathNeedsEscaping(t *testing.T) {
	ctx, dir := t.Context(), filepath.Join(t.TempDir(), "a b#c?d%20e")
	path := filepath.Join(dir, "profiles.db")
	db := mustOpenDBAt(t, path, nil)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at its path: %v", err)
	}
	if _, err := mustOpenDBAt(t, path, nil).FindDomain(ctx, "d"); err != nil {
		t.Fatalf("FindDomain after reopen: %v", err)
	}
}

func TestDB_ErrOpen(t *testing.T) {
	for _, tt := range []struct {
		name string
		path string
	}{
		{"NoPath", ""},
		{"Directory", t.TempDir()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := sqlite.NewDB(tt.path)
			if err := db.Open(); err == nil {
				db.Close()
				t.Fatalf("Open(%q): err=nil, want an error", tt.path)
			}
			if err := db.Close(); err != nil {
				t.Errorf("Close after failed Open: %v", err)
			}
		})
	}
}

// TestConcurrentProcesses writes from two DBs on one file, as a server and
// a command-line run at the same time would: their writers contend through
// SQLite's lock and busy_timeout, not through one pool, and nothing fails.
func TestConcurrentProcesses(t *testing.T) {
	ctx, path := t.Context(), filepath.Join(t.TempDir(), "profiles.db")
	dbs := []*sqlite.DB{mustOpenDBAt(t, path, nil), mustOpenDBAt(t, path, nil)}
	if err := dbs[0].CreateDomain(ctx, &profiles.Domain{Name: "shared"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}

	const n = 20
	errs := make(chan error, 3*n)
	start := make(chan struct{})
	done := make(chan struct{})
	go func() { // a reader that keeps reading while the writers write
		defer close(done)
		<-start
		for range 2 * n {
			if _, err := dbs[1].ListDomains(ctx, "", 0); err != nil {
				errs <- fmt.Errorf("ListDomains: %w", err)
			}
		}
	}()
	for i := range n {
		db := dbs[i%2]
		go func() {
			<-start
			errs <- db.CreateDomain(ctx, &profiles.Domain{Name: fmt.Sprintf("d%02d", i)}, 0)
		}()
		go func() {
			<-start
			_, err := db.UpdateDomain(ctx, "shared", func(d *profiles.Domain) error {
				if d.Tags == nil {
					d.Tags = map[string]string{}
				}
				d.Tags[fmt.Sprintf("k%02d", i)] = "v"
				return nil
			})
			errs <- err
		}()
	}
	close(start)
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Errorf("write: %v", err)
		}
	}
	<-done
	close(errs)
	for err := range errs {
		t.Errorf("read: %v", err)
	}

	ds, err := dbs[1].ListDomains(ctx, "", 0)
	if err != nil {
		t.Fatalf("ListDomains: %v", err)
	}
	if got, want := len(ds), n+1; got != want {
		t.Errorf("ListDomains: %d domains, want %d", got, want)
	}
	shared, err := dbs[0].FindDomain(ctx, "shared")
	if err != nil {
		t.Fatalf("FindDomain: %v", err)
	}
	if got, want := len(shared.Tags), n; got != want {
		t.Errorf("FindDomain: %d tags, want %d", got, want)
	}
}

// TestConcurrentReadDuringWrite reads while an update holds the write lock:
// in WAL mode a reader sees the last committed state and does not wait.
func TestConcurrentReadDuringWrite(t *testing.T) {
	ctx, db := t.Context(), MustOpenDB(t)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	inFn, release := make(chan struct{}), make(chan struct{})
	updated := make(chan error, 1)
	go func() {
		_, err := db.UpdateDomain(ctx, "d", func(d *profiles.Domain) error {
			d.DefaultExpirationDays = 2
			close(inFn)
			<-release
			return nil
		})
		updated <- err
	}()
	<-inFn
	got, err := db.FindDomain(ctx, "d")
	close(release)
	if err != nil {
		t.Fatalf("FindDomain during update: %v", err)
	} else if got, want := got.DefaultExpirationDays, 1; got != want {
		t.Errorf("FindDomain during update: DefaultExpirationDays=%d, want %d", got, want)
	}
	if err := <-updated; err != nil {
		t.Fatalf("UpdateDomain: %v", err)
	}
	if got, err := db.FindDomain(ctx, "d"); err != nil {
		t.Fatalf("FindDomain: %v", err)
	} else if got, want := got.DefaultExpirationDays, 2; got != want {
		t.Errorf("FindDomain after update: DefaultExpirationDays=%d, want %d", got, want)
	}
}

func BenchmarkCreateDomain(b *testing.B) {
	ctx, db := b.Context(), MustOpenDB(b)
	i := 0
	for b.Loop() {
		d := &profiles.Domain{Name: fmt.Sprintf("d%09d", i), DefaultExpirationDays: 366, Tags: map[string]string{"k": "v"}}
		if err := db.CreateDomain(ctx, d, 0); err != nil {
			b.Fatalf("CreateDomain: %v", err)
		}
		i++
	}
}

func BenchmarkFindDomain(b *testing.B) {
	ctx, db := b.Context(), MustOpenDB(b)
	const n = 1000
	for i := range n {
		d := &profiles.Domain{
			Name:                  fmt.Sprintf("d%04d", i),
			DefaultExpirationDays: 366,
			RuleBasedMatching:     &profiles.RuleBasedMatchingSettings{Enabled: true, MatchingRules: [][]string{{"EmailAddress"}, {"PhoneNumber"}}},
			Tags:                  map[string]string{"k": "v"},
		}
		if err := db.CreateDomain(ctx, d, 0); err != nil {
			b.Fatalf("CreateDomain: %v", err)
		}
	}
	b.Run("Serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := db.FindDomain(ctx, fmt.Sprintf("d%04d", i%n)); err != nil {
				b.Fatalf("FindDomain: %v", err)
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := db.FindDomain(ctx, fmt.Sprintf("d%04d", i%n)); err != nil {
					b.Errorf("FindDomain: %v", err)
					return
				}
				i++
			}
		})
	})
}
