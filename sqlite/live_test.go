package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
	"testing"

	msqlite "modernc.org/sqlite"

	"github.com/openprofiles/profiles"
)

// TestLiveObject_NotRecompiled runs the statements that select live objects
// with a new time each run and checks, with an authorizer (SQLite calls it
// whenever it compiles a statement), that SQLite compiles each once. The
// control is liveObject's earlier form, which SQLite compiled at every run:
// should it stop doing so, the control can go.
func TestLiveObject_NotRecompiled(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	raw, err := sql.Open("sqlite", dsn(db.path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var compiles atomic.Int64
	if err := conn.Raw(func(dc any) error {
		return dc.(msqlite.AuthorizerRegisterer).RegisterAuthorizer(func(msqlite.AuthorizerActionCode, string, string, string, string) msqlite.AuthorizerReturnCode {
			compiles.Add(1)
			return msqlite.AuthorizerOK
		})
	}); err != nil {
		t.Fatal(err)
	}

	usage, _ := profileUsageSQL("d", "p", "", 0)
	list, _ := listObjectsSQL(profiles.ObjectQuery{DomainName: "d", ProfileID: "p", ObjectType: "t"}, 0)
	for _, tc := range []struct {
		name, query string
		args        func(now int64) []any
		recompiled  bool
	}{
		{"ProfileUsage", usage, func(now int64) []any { return []any{"d", "p", now} }, false},
		{"ListObjects", list, func(now int64) []any { return []any{"d", "p", "t", now, -1} }, false},
		{"earlier liveObject (control)", strings.Replace(usage, liveObject, `(o.expires_at = 0 OR o.expires_at > ?)`, 1),
			func(now int64) []any { return []any{"d", "p", now} }, true},
	} {
		st, err := conn.PrepareContext(ctx, tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		run := func(now int64) {
			rows, err := st.QueryContext(ctx, tc.args(now)...)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for rows.Next() {
			}
			if err := rows.Close(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		run(1)
		before := compiles.Load()
		for now := range int64(5) {
			run(1_000 + now)
		}
		st.Close()
		if got := compiles.Load() - before; (got > 0) != tc.recompiled {
			t.Errorf("%s: %d authorizer calls in 5 runs after the first, want recompiled=%v", tc.name, got, tc.recompiled)
		}
	}
}

// BenchmarkLiveObject runs ProfileUsage's statement on a profile with five
// objects, a new time each run, in liveObject's form and in its earlier
// form, which SQLite compiled again at every run.
func BenchmarkLiveObject(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	raw, err := sql.Open("sqlite", dsn(db.path))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	for _, q := range []string{
		`INSERT INTO domains (name, default_expiration_days, default_encryption_key, dead_letter_queue_url, settings, tags, created_at, updated_at)
			VALUES ('d', 1, '', '', '{}', '{}', 0, 0)`,
		`INSERT INTO profiles VALUES ('d', 'p', x'00', 1, 0, 0)`,
		`INSERT INTO objects VALUES ('d', 't', 'o0', 'p', x'00', 10, 0, 0, 0, 0), ('d', 't', 'o1', 'p', x'00', 10, 0, 0, 0, 1000),
			('d', 't', 'o2', 'p', x'00', 10, 0, 0, 0, 2000), ('d', 't', 'o3', 'p', x'00', 10, 0, 0, 0, 3000), ('d', 't', 'o4', 'p', x'00', 10, 0, 0, 0, 4000)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	usage, _ := profileUsageSQL("d", "p", "", 0)
	for _, form := range []struct{ name, query string }{
		{"now", usage},
		{"earlier", strings.Replace(usage, liveObject, `(o.expires_at = 0 OR o.expires_at > ?)`, 1)},
	} {
		b.Run(form.name, func(b *testing.B) {
			st, err := raw.PrepareContext(ctx, form.query)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var n, size int64
			for now := int64(0); b.Loop(); now++ {
				if err := st.QueryRowContext(ctx, "d", "p", now).Scan(&n, &size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
