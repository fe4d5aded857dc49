package sqlite_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// TestDB_SchemaMigratedWhileOpen: another process migrates the file past
// this program while a DB is open on it. SchemaVersion reports both
// versions, and after StepAside the DB refuses every write (a transaction,
// group commit or single statement) and writes nothing.
func TestDB_SchemaMigratedWhileOpen(t *testing.T) {
	ctx, path := t.Context(), filepath.Join(t.TempDir(), "profiles.db")
	db := mustOpenDBAt(t, path, nil)
	current, known, err := db.SchemaVersion(ctx)
	if err != nil || current != known || known < 14 {
		t.Fatalf("SchemaVersion = %d, %d, %v; want the same version twice (at least 14)", current, known, err)
	}
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "before", DefaultExpirationDays: 30}, 0); err != nil {
		t.Fatalf("CreateDomain before the upgrade: %v", err)
	}

	// The other process: a newer program's migration on the same file.
	raw := mustOpenRaw(t, path)
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
		VALUES (?, '9999_future.sql', '2099-01-01T00:00:00Z')`, known+1); err != nil {
		t.Fatalf("insert newer migration: %v", err)
	}
	// Until a check, the DB does not know.
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "unchecked", DefaultExpirationDays: 30}, 0); err != nil {
		t.Fatalf("CreateDomain before the check: %v", err)
	}
	current, known2, err := db.SchemaVersion(ctx)
	if err != nil || current != known+1 || known2 != known {
		t.Fatalf("SchemaVersion = %d, %d, %v; want %d, %d", current, known2, err, known+1, known)
	}
	// Still until the DB steps aside.
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "unrefused", DefaultExpirationDays: 30}, 0); err != nil {
		t.Fatalf("CreateDomain before StepAside: %v", err)
	}
	db.StepAside(current)
	if got, _, err := db.SchemaVersion(ctx); got != current || err != nil {
		t.Errorf("SchemaVersion after StepAside = %d, %v; want %d", got, err, current)
	}

	writes := map[string]func() error{
		"CreateDomain": func() error {
			return db.CreateDomain(ctx, &profiles.Domain{Name: "after", DefaultExpirationDays: 30}, 0)
		},
		"Update": func() error {
			return db.Update(ctx, func(tx profiles.Tx) error {
				return tx.PutProfile(ctx, &profiles.Profile{DomainName: "before", ID: "0123456789abcdef0123456789abcdef"})
			})
		},
		"CreateQueue": func() error {
			return db.CreateQueue(ctx, &profiles.Queue{Name: "q", URL: "http://q", ARN: "arn:aws:sqs:us-east-1:000000000000:q"})
		},
		"CreatePrincipal": func() error {
			return db.CreatePrincipal(ctx, &profiles.Principal{Name: "u", Type: profiles.PrincipalUser, ID: "AIDAEXAMPLE", ARN: "arn:aws:iam::000000000000:user/u"})
		},
		"DeleteExpired": func() error {
			_, err := db.DeleteExpired(ctx, time.Now(), 0)
			return err
		},
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, sqlite.ErrSchemaTooNew) {
			t.Errorf("%s after the check: err=%v, want %v", name, err, sqlite.ErrSchemaTooNew)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	for _, table := range []string{"domains", "profiles", "queues", "iam_principals"} {
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"domains": 3}[table]; n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	// A read still works (the server refuses requests above the store).
	if _, err := db.FindDomain(ctx, "before"); err != nil {
		t.Errorf("FindDomain: %v", err)
	}
}
