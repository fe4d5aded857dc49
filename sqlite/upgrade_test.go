package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/openprofiles/profiles/internal/migrate"
	"github.com/openprofiles/profiles/storetest"
)

// TestMigrate_FromPreviousVersion opens databases of earlier schema
// versions that hold storetest.UpgradeData (testdata/schemaN.sql, written
// by the store of version N; the version before the latest must be among
// them): Open migrates each to the latest version and the store reads and
// writes the data. From an empty database, Open migrates to the latest
// version and the store holds the same data the same way.
func TestMigrate_FromPreviousVersion(t *testing.T) {
	ms, err := migrate.Load(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version
	fixtures := mustFixtures(t, latest)
	for v, fixture := range fixtures {
		t.Run(fmt.Sprintf("FromVersion%d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "profiles.db")
			mustMigrateTo(t, path, ms[:v])
			if got := schemaVersions(t, path); len(got) != v {
				t.Fatalf("before: versions %v, want 1 to %d", got, v)
			}
			rows, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open("sqlite", dsn(path))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(string(rows)); err != nil {
				t.Fatalf("fixture %s: %v", fixture, err)
			}
			raw.Close()

			db := NewDB(path)
			db.Now = storetest.UpgradeClock
			if err := db.Open(); err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if got := schemaVersions(t, path); len(got) != latest || got[len(got)-1] != latest {
				t.Fatalf("after Open: versions %v, want 1 to %d", got, latest)
			}
			storetest.CheckUpgrade(t, db)
			if v >= 12 { // fixtures from version 12 on hold stream events too
				storetest.CheckUpgradeStreamEvents(t, db)
			}
		})
	}
	t.Run("FromEmpty", func(t *testing.T) {
		db := NewDB(filepath.Join(t.TempDir(), "profiles.db"))
		db.Now = storetest.UpgradeClock
		if err := db.Open(); err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer db.Close()
		storetest.PutUpgradeData(t, db)
		storetest.CheckUpgrade(t, db)
	})
}

// mustFixtures returns the files testdata/schemaN.sql by version N, and
// fails t unless the version before latest has one.
func mustFixtures(t *testing.T, latest int) map[int]string {
	t.Helper()
	files, _ := filepath.Glob("testdata/schema*.sql")
	out := map[int]string{}
	for _, f := range files {
		var v int
		if _, err := fmt.Sscanf(filepath.Base(f), "schema%d.sql", &v); err == nil && v >= 1 && v < latest {
			out[v] = f
		}
	}
	if _, ok := out[latest-1]; !ok {
		t.Fatalf("no testdata/schema%d.sql: the rows of storetest.UpgradeData at the schema version before the latest (see storetest/upgrade.go)", latest-1)
	}
	return out
}

// mustMigrateTo creates the database file path at the schema version of
// the last of ms.
func mustMigrateTo(t *testing.T, path string, ms []migrate.Migration) {
	t.Helper()
	db := NewDB(path)
	var err error
	if db.wdb, err = sql.Open("sqlite", WriterDSN(path)); err != nil {
		t.Fatal(err)
	}
	defer db.wdb.Close()
	db.wdb.SetMaxOpenConns(1)
	if err := db.migrate(context.Background(), ms); err != nil {
		t.Fatalf("migrate to version %d: %v", ms[len(ms)-1].Version, err)
	}
}

// schemaVersions returns the versions recorded in schema_migrations.
func schemaVersions(t *testing.T, path string) []int {
	t.Helper()
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}
