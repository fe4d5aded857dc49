package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
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
	ctx := context.Background()
	ms, err := migrate.Load(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version
	for v, fixture := range mustFixtures(t, latest) {
		t.Run(fmt.Sprintf("FromVersion%d", v), func(t *testing.T) {
			dsn := MustSchema(t)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if err := NewDB(dsn).migrate(ctx, conn, ms[:v]); err != nil {
				t.Fatalf("migrate to version %d: %v", v, err)
			}
			if got := schemaVersions(t, conn); len(got) != v {
				t.Fatalf("before: versions %v, want 1 to %d", got, v)
			}
			rows, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, string(rows)); err != nil {
				t.Fatalf("fixture %s: %v", fixture, err)
			}

			db := NewDB(dsn)
			db.Now = storetest.UpgradeClock
			if err := db.Open(); err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if got := schemaVersions(t, conn); len(got) != latest || got[len(got)-1] != latest {
				t.Fatalf("after Open: versions %v, want 1 to %d", got, latest)
			}
			storetest.CheckUpgrade(t, db)
			if v >= 12 { // fixtures from version 12 on hold stream events too
				storetest.CheckUpgradeStreamEvents(t, db)
			}
		})
	}
	t.Run("FromEmpty", func(t *testing.T) {
		db := NewDB(MustSchema(t))
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

// schemaVersions returns the versions recorded in schema_migrations.
func schemaVersions(t *testing.T, conn *pgx.Conn) []int {
	t.Helper()
	rows, _ := conn.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}
