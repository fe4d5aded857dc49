package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
)

// TestDB_SchemaMigratedWhileOpen: another node migrates the database past
// this program while a DB is open on it. SchemaVersion reports both
// versions, and after StepAside the DB refuses every call (no connection is
// handed out) and writes nothing.
func TestDB_SchemaMigratedWhileOpen(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	db := mustOpenDBAt(t, dsn, nil)
	current, known, err := db.SchemaVersion(ctx)
	if err != nil || current != known || known < 14 {
		t.Fatalf("SchemaVersion = %d, %d, %v; want the same version twice (at least 14)", current, known, err)
	}
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "before", DefaultExpirationDays: 30}, 0); err != nil {
		t.Fatalf("CreateDomain before the upgrade: %v", err)
	}

	// The other node: a newer program's migration.
	raw := mustConnect(t, dsn)
	if _, err := raw.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
		VALUES ($1, '9999_future.sql', '2099-01-01T00:00:00Z')`, known+1); err != nil {
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

	calls := map[string]func() error{
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
		"FindDomain": func() error {
			_, err := db.FindDomain(ctx, "before")
			return err
		},
		"View": func() error {
			return db.View(ctx, func(profiles.Tx) error { return nil })
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, postgres.ErrSchemaTooNew) {
			t.Errorf("%s after the check: err=%v, want %v", name, err, postgres.ErrSchemaTooNew)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	for _, table := range []string{"domains", "profiles", "queues", "iam_principals"} {
		var n int
		if err := raw.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"domains": 3}[table]; n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
}

// TestDB_SchemaMigratedDuringUpdate: a transaction under way when the DB
// notices the newer schema does not commit.
func TestDB_SchemaMigratedDuringUpdate(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	db := mustOpenDBAt(t, dsn, nil)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}, 0); err != nil {
		t.Fatal(err)
	}
	raw := mustConnect(t, dsn)
	err := db.Update(ctx, func(tx profiles.Tx) error {
		if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: "0123456789abcdef0123456789abcdef"}); err != nil {
			return err
		}
		if _, err := raw.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
			VALUES (9999, '9999_future.sql', '2099-01-01T00:00:00Z')`); err != nil {
			return err
		}
		current, _, err := db.SchemaVersion(ctx)
		db.StepAside(current)
		return err
	})
	if !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("Update: err=%v, want %v", err, postgres.ErrSchemaTooNew)
	}
	var n int
	if err := raw.QueryRow(ctx, `SELECT COUNT(*) FROM profiles`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("profiles: %d rows (%v), want 0", n, err)
	}
}
