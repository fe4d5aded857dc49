package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/storetest"
)

// MustOpenDB opens a DB on a new schema and closes it when tb ends.
func MustOpenDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	return mustOpenDBAt(tb, postgres.MustSchema(tb), nil)
}

// mustOpenDBAt opens a DB on dsn, with the clock now if not nil, and closes
// it when tb ends.
func mustOpenDBAt(tb testing.TB, dsn string, now func() time.Time) *postgres.DB {
	tb.Helper()
	db := postgres.NewDB(dsn)
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

// mustConnect opens a plain connection to dsn, beside the DB, to look at
// what the DB wrote, and closes it when tb ends.
func mustConnect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, now func() time.Time) profiles.Store {
		return mustOpenDBAt(tb, postgres.MustSchema(tb), now)
	})
}

type migrationRow struct {
	Version   int
	Name      string
	AppliedAt string
}

func readMigrations(tb testing.TB, dsn string) []migrationRow {
	tb.Helper()
	rows, err := mustConnect(tb, dsn).Query(context.Background(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
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
	first := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
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
		{Version: 16, Name: "0016_history_by_object.sql", AppliedAt: "2026-03-01T12:00:00Z"},
		{Version: 17, Name: "0017_server_settings.sql", AppliedAt: "2026-03-01T12:00:00Z"},
	}

	t.Run("RecordedOnce", func(t *testing.T) {
		dsn := postgres.MustSchema(t)
		if err := mustOpenDBAt(t, dsn, func() time.Time { return first }).Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if diff := cmp.Diff(want, readMigrations(t, dsn)); diff != "" {
			t.Fatalf("schema_migrations after first open (-want +got):\n%s", diff)
		}
		// Reopening with a later clock applies nothing and records nothing.
		for range 2 {
			db := mustOpenDBAt(t, dsn, func() time.Time { return first.Add(time.Hour) })
			if err := db.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if diff := cmp.Diff(want, readMigrations(t, dsn)); diff != "" {
			t.Errorf("schema_migrations after reopening (-want +got):\n%s", diff)
		}
	})

	// Nodes that start together on a new database: one migrates, the
	// others wait for it and find nothing to do.
	t.Run("ConcurrentOpen", func(t *testing.T) {
		for range 3 {
			dsn := postgres.MustSchema(t)
			dbs := make([]*postgres.DB, 3)
			errs := make([]error, len(dbs))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range dbs {
				dbs[i] = postgres.NewDB(dsn)
				dbs[i].Now = func() time.Time { return first }
				t.Cleanup(func() { dbs[i].Close() })
				wg.Go(func() {
					<-start
					errs[i] = dbs[i].Open()
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("Open %d: %v", i, err)
				}
			}
			if diff := cmp.Diff(want, readMigrations(t, dsn)); diff != "" {
				t.Fatalf("schema_migrations (-want +got):\n%s", diff)
			}
			for i, db := range dbs {
				if err := db.CreateDomain(t.Context(), &profiles.Domain{Name: fmt.Sprint(i)}, 0); err != nil {
					t.Errorf("CreateDomain on DB %d: %v", i, err)
				}
			}
		}
	})

	t.Run("ErrSchemaTooNew", func(t *testing.T) {
		dsn := postgres.MustSchema(t)
		if err := mustOpenDBAt(t, dsn, nil).Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := mustConnect(t, dsn).Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at)
			VALUES (9999, '9999_future.sql', '2099-01-01T00:00:00Z')`); err != nil {
			t.Fatalf("insert future migration: %v", err)
		}
		db := postgres.NewDB(dsn)
		err := db.Open()
		db.Close()
		if !errors.Is(err, postgres.ErrSchemaTooNew) {
			t.Fatalf("Open: err=%v, want %v", err, postgres.ErrSchemaTooNew)
		}
		t.Logf("Open: %v", err)
	})
}

func TestDB_Reopen(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	want := &profiles.Domain{
		Name:                  "kept",
		DefaultExpirationDays: 30,
		DeadLetterQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
		RuleBasedMatching:     &profiles.RuleBasedMatchingSettings{Enabled: true, MatchingRules: [][]string{{"EmailAddress"}}},
		Tags:                  map[string]string{"k": "v"},
		CreatedAt:             time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		LastUpdatedAt:         time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
	}
	p := &profiles.Profile{DomainName: "kept", ID: fmt.Sprintf("%032x", 1), Fields: map[string]string{"FirstName": "Zoë"}}
	o := &profiles.ProfileObject{DomainName: "kept", ObjectTypeName: "CTR", UniqueKey: "c1", ProfileID: p.ID, Data: []byte("\x00\xff{}")}
	db := mustOpenDBAt(t, dsn, nil)
	if err := db.CreateDomain(ctx, want, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	if err := db.Update(ctx, func(tx profiles.Tx) error {
		if err := tx.PutProfile(ctx, p); err != nil {
			return err
		}
		return tx.PutObject(ctx, o)
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = mustOpenDBAt(t, dsn, nil)
	got, err := db.FindDomain(ctx, "kept")
	if err != nil {
		t.Fatalf("FindDomain after reopen: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("FindDomain after reopen (-want +got):\n%s", diff)
	}
	if err := db.View(ctx, func(tx profiles.Tx) error {
		if got, err := tx.FindProfile(ctx, "kept", p.ID); err != nil {
			return err
		} else if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("FindProfile after reopen (-want +got):\n%s", diff)
		}
		if got, err := tx.FindObject(ctx, "kept", "CTR", "c1"); err != nil {
			return err
		} else if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("FindObject after reopen (-want +got):\n%s", diff)
		}
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func TestDB_ErrOpen(t *testing.T) {
	for _, tt := range []struct {
		name string
		dsn  string
	}{
		{"NoDSN", ""},
		{"BadDSN", "postgres://%zz"},
		{"Unreachable", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := postgres.NewDB(tt.dsn)
			if err := db.Open(); err == nil {
				db.Close()
				t.Fatalf("Open(%q): err=nil, want an error", tt.dsn)
			} else {
				t.Logf("Open: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Errorf("Close after failed Open: %v", err)
			}
		})
	}
}

// findOrCreate is what ingestion does: find the profile holding a key, or
// create it with the key. It returns the profile's id.
func findOrCreate(ctx context.Context, tx profiles.Tx, id string) (string, error) {
	found, err := tx.FindProfileIDs(ctx, "d", "_email", "same@example.com")
	if err != nil {
		return "", err
	} else if len(found) > 0 {
		return found[0], nil
	}
	p := &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"EmailAddress": "same@example.com"}}
	if err := tx.PutProfile(ctx, p); err != nil {
		return "", err
	}
	return id, tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_email", Value: "same@example.com", ProfileID: id, Origin: profiles.KeyOriginProfile}})
}

// TestConcurrentNodes runs find-or-create from several DBs on one database,
// as server nodes do: they share no lock but the database's.
func TestConcurrentNodes(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	nodes := []*postgres.DB{mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil)}
	if err := nodes[0].CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	const n = 24
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = nodes[i%len(nodes)].Update(ctx, func(tx profiles.Tx) (err error) {
				ids[i], err = findOrCreate(ctx, tx, fmt.Sprintf("%032x", 100+i))
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	st, err := nodes[1].DomainStats(ctx, "d")
	if err != nil {
		t.Fatalf("DomainStats: %v", err)
	}
	if st.ProfileCount != 1 {
		t.Errorf("DomainStats: ProfileCount=%d, want 1", st.ProfileCount)
	}
	if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
		t.Errorf("profiles found or created: %q, want one", ids)
	}
}

// TestConcurrentWritersOfOneProfile has many writers, on two nodes, ingest
// at once into one profile found by its key, as a burst of contact records
// of one customer does: each transaction finds the profile, reads it,
// rewrites it and its rate bucket, and adds an object and its key. Every
// one of them writes the profile's row, so all but one of those that run
// at once failed (40001) and ran again, round after round, and some used up
// their attempts (ThrottlingException). They now queue for the profile
// (retryOn): a writer fails at most once more than it would alone, so a
// few attempts are enough for every one. No second profile, every object
// stored.
func TestConcurrentWritersOfOneProfile(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	nodes := []*postgres.DB{mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil)}
	for _, db := range nodes {
		db.MaxAttempts = 4
	}
	if err := nodes[0].CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	if err := nodes[0].Update(ctx, func(tx profiles.Tx) error {
		_, err := findOrCreate(ctx, tx, fmt.Sprintf("%032x", 1))
		return err
	}); err != nil {
		t.Fatalf("create the profile: %v", err)
	}
	const writers, each = 32, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				n := w*each + i
				err := nodes[w%len(nodes)].Update(ctx, func(tx profiles.Tx) error {
					return ingestOne(ctx, tx, n)
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("object %d: %w", n, err))
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Errorf("%d of %d objects failed, first: %v", len(errs), writers*each, errs[0])
	}
	st, err := nodes[1].DomainStats(ctx, "d")
	if err != nil {
		t.Fatalf("DomainStats: %v", err)
	}
	if st.ProfileCount != 1 || st.ObjectCount != writers*each {
		t.Errorf("DomainStats: %d profiles, %d objects; want 1, %d", st.ProfileCount, st.ObjectCount, writers*each)
	}
}

// ingestOne is an ingestion of object n into the profile of
// same@example.com, with the statements PutProfileObject runs.
func ingestOne(ctx context.Context, tx profiles.Tx, n int) error {
	ids, err := tx.FindProfileIDs(ctx, "d", "_email", "same@example.com")
	if err != nil {
		return err
	}
	p, err := tx.FindProfile(ctx, "d", ids[0])
	if err != nil {
		return err
	}
	p.Fields["LastContact"] = fmt.Sprint(n)
	if err := tx.PutProfile(ctx, p); err != nil {
		return err
	}
	if ok, err := tx.TakeIngestToken(ctx, "d", p.ID, 1e9, 1e9, time.Now()); err != nil || !ok {
		return fmt.Errorf("TakeIngestToken: %v, %v", ok, err)
	}
	key := fmt.Sprintf("contact%d", n)
	if err := tx.PutObject(ctx, &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "contact", UniqueKey: key, ProfileID: p.ID, Data: []byte("{}")}); err != nil {
		return err
	}
	return tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_email", Value: "same@example.com", ProfileID: p.ID, Origin: "contact", ObjectKey: key}})
}

// conflicting runs fn in Updates of two DBs on one database at once, and
// makes their first attempts overlap: fn calls meet once it has read what
// it must, and the call waits, the first time, for the other Update's.
// It returns the Updates' errors and how many times fn ran.
func conflicting(t *testing.T, dbs [2]*postgres.DB, fn func(ctx context.Context, tx profiles.Tx, i int, meet func()) error) (errs [2]error, calls int) {
	t.Helper()
	ctx := t.Context()
	var n atomic.Int32
	var barrier, wg sync.WaitGroup
	barrier.Add(2)
	for i := range 2 {
		wg.Go(func() {
			var once sync.Once
			meet := func() {
				once.Do(func() {
					barrier.Done()
					barrier.Wait()
				})
			}
			errs[i] = dbs[i].Update(ctx, func(tx profiles.Tx) error {
				n.Add(1)
				return fn(ctx, tx, i, meet)
			})
			meet() // if fn failed before it met the other
		})
	}
	wg.Wait()
	return errs, int(n.Load())
}

// findThenCreate is find-or-create with a pause between the find and the
// create: the profile to create is p.
func findThenCreate(ctx context.Context, tx profiles.Tx, p *profiles.Profile, meet func()) (string, error) {
	found, err := tx.FindProfileIDs(ctx, "d", "_email", "same@example.com")
	if err != nil {
		return "", err
	}
	meet()
	if len(found) > 0 {
		return found[0], nil
	}
	if err := tx.PutProfile(ctx, p); err != nil {
		return "", err
	}
	return p.ID, tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_email", Value: "same@example.com", ProfileID: p.ID, Origin: profiles.KeyOriginProfile}})
}

// TestUpdate_Retries makes two Updates conflict, as two nodes that find
// no profile for a key and both create one: PostgreSQL fails one with a
// serialization failure, and Update runs it again, when it finds the
// other's profile.
func TestUpdate_Retries(t *testing.T) {
	setup := func(t *testing.T) [2]*postgres.DB {
		dsn := postgres.MustSchema(t)
		dbs := [2]*postgres.DB{mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil)}
		if err := dbs[0].CreateDomain(t.Context(), &profiles.Domain{Name: "d"}, 0); err != nil {
			t.Fatalf("CreateDomain: %v", err)
		}
		return dbs
	}
	// ps returns the profiles the two Updates create, built once, outside fn.
	ps := func() [2]*profiles.Profile {
		var ps [2]*profiles.Profile
		for i := range ps {
			ps[i] = &profiles.Profile{DomainName: "d", ID: fmt.Sprintf("%032x", i+1), Fields: map[string]string{"EmailAddress": "same@example.com"}}
		}
		return ps
	}

	t.Run("FindOrCreate", func(t *testing.T) {
		dbs, ps := setup(t), ps()
		var ids [2]string
		errs, calls := conflicting(t, dbs, func(ctx context.Context, tx profiles.Tx, i int, meet func()) error {
			// A retried attempt starts with its arguments as they were:
			// the times that the failed attempt's PutProfile wrote back
			// are undone.
			if !ps[i].CreatedAt.IsZero() || !ps[i].LastUpdatedAt.IsZero() {
				t.Errorf("Update %d: times %v, %v at the start of an attempt; want zero", i, ps[i].CreatedAt, ps[i].LastUpdatedAt)
			}
			var err error
			ids[i], err = findThenCreate(ctx, tx, ps[i], meet)
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		}
		if calls < 3 {
			t.Errorf("fn ran %d times, want 3 or more (a retry)", calls)
		}
		if ids[0] == "" || ids[0] != ids[1] {
			t.Errorf("profiles: %q, want one", ids)
		}
		if st, err := dbs[0].DomainStats(t.Context(), "d"); err != nil {
			t.Fatalf("DomainStats: %v", err)
		} else if st.ProfileCount != 1 {
			t.Errorf("DomainStats: ProfileCount=%d, want 1", st.ProfileCount)
		}
	})

	t.Run("NoLostUpdate", func(t *testing.T) {
		dbs := setup(t)
		id := fmt.Sprintf("%032x", 1)
		if err := dbs[0].Update(t.Context(), func(tx profiles.Tx) error {
			return tx.PutProfile(t.Context(), &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"n": ""}})
		}); err != nil {
			t.Fatalf("Update: %v", err)
		}
		errs, calls := conflicting(t, dbs, func(ctx context.Context, tx profiles.Tx, i int, meet func()) error {
			p, err := tx.FindProfile(ctx, "d", id)
			if err != nil {
				return err
			}
			meet()
			p.Fields["n"] += fmt.Sprint(i)
			return tx.PutProfile(ctx, p)
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		}
		if calls < 3 {
			t.Errorf("fn ran %d times, want 3 or more (a retry)", calls)
		}
		err := dbs[0].View(t.Context(), func(tx profiles.Tx) error {
			p, err := tx.FindProfile(t.Context(), "d", id)
			if err == nil && p.Fields["n"] != "01" && p.Fields["n"] != "10" {
				t.Errorf("Fields[n]=%q, want 01 or 10 (no lost update)", p.Fields["n"])
			}
			return err
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
	})

	t.Run("GivesUp", func(t *testing.T) {
		dbs, ps := setup(t), ps()
		dbs[0].MaxAttempts, dbs[1].MaxAttempts = 1, 1
		errs, calls := conflicting(t, dbs, func(ctx context.Context, tx profiles.Tx, i int, meet func()) error {
			_, err := findThenCreate(ctx, tx, ps[i], meet)
			return err
		})
		if calls != 2 {
			t.Errorf("fn ran %d times, want 2", calls)
		}
		var failed int
		for i, err := range errs {
			var pgErr *pgconn.PgError
			if err == nil {
				continue
			} else if failed++; !errors.As(err, &pgErr) || pgErr.Code != "40001" || profiles.ErrorCode(err) != profiles.ETHROTTLED {
				t.Errorf("Update %d: %v, want a serialization failure (40001) coded ETHROTTLED", i, err)
			} else {
				t.Logf("Update %d: %v", i, err)
			}
		}
		if failed != 1 {
			t.Errorf("%d Updates failed, want 1", failed)
		}
	})
}

// TestReadDuringUpdateDomain reads a domain while an update holds its row
// locked: the reader sees the last committed state and does not wait.
func TestReadDuringUpdateDomain(t *testing.T) {
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

// TestUpdate_CommitsWhateverTheContext: once a transaction's work has
// succeeded, its COMMIT does not give up when the request's context ends:
// abandoned in flight, it could commit on the server while the caller,
// told of a failure, retried what was written (a second profile).
func TestUpdate_CommitsWhateverTheContext(t *testing.T) {
	db := MustOpenDB(t)
	if err := db.CreateDomain(t.Context(), &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	p := &profiles.Profile{DomainName: "d", ID: fmt.Sprintf("%032x", 7), Fields: map[string]string{"FirstName": "Kept"}}
	ctx, cancel := context.WithCancel(t.Context())
	err := db.Update(ctx, func(tx profiles.Tx) error {
		if err := tx.PutProfile(ctx, p); err != nil {
			return err
		}
		cancel() // the request ends as its work is done
		return nil
	})
	if err != nil {
		t.Fatalf("Update whose context ended after its work: %v; want it committed", err)
	}
	if err := db.View(t.Context(), func(tx profiles.Tx) error {
		_, err := tx.FindProfile(t.Context(), "d", p.ID)
		return err
	}); err != nil {
		t.Errorf("the profile after the Update: %v; want it stored", err)
	}
}

// TestUpdate_MaxAttemptsFromContext: a transaction that conflicts on every
// attempt (another writer updates the profile it rewrites after its
// snapshot) is tried as often as the DB's MaxAttempts allows, or as
// profiles.NewContextWithMaxAttempts bounds it when fewer, and then fails
// with ETHROTTLED.
func TestUpdate_MaxAttemptsFromContext(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	db := mustOpenDBAt(t, dsn, nil)
	db.MaxAttempts = 4
	other := mustConnect(t, dsn)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	id := fmt.Sprintf("%032x", 1)
	if err := db.Update(ctx, func(tx profiles.Tx) error {
		_, err := findOrCreate(ctx, tx, id)
		return err
	}); err != nil {
		t.Fatalf("create the profile: %v", err)
	}
	conflicting := func(ctx context.Context) (int, error) {
		attempts := 0
		err := db.Update(ctx, func(tx profiles.Tx) error {
			attempts++
			p, err := tx.FindProfile(ctx, "d", id) // the snapshot
			if err != nil {
				return err
			}
			if _, err := other.Exec(ctx, `UPDATE profiles SET updated_at = updated_at + 1 WHERE domain = 'd' AND id = $1`, id); err != nil {
				return err
			}
			return tx.PutProfile(ctx, p)
		})
		return attempts, err
	}
	for _, c := range []struct {
		ctx  context.Context
		want int
	}{
		{ctx, 4},
		{profiles.NewContextWithMaxAttempts(ctx, 2), 2},
		{profiles.NewContextWithMaxAttempts(ctx, 9), 4},
	} {
		got, err := conflicting(c.ctx)
		if got != c.want || profiles.ErrorCode(err) != profiles.ETHROTTLED {
			t.Errorf("bound %d: %d attempts, %v; want %d, ETHROTTLED", profiles.MaxAttemptsFromContext(c.ctx), got, err, c.want)
		}
	}
}
