package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openprofiles/profiles"
)

// holdProfileLock takes, on a connection of its own, the advisory lock
// that writers of profile id of domain d queue on (retryOn), as a writer
// in its turn holds it, and returns the connection (closed when tb ends).
func holdProfileLock(tb testing.TB, db *DB, id string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), db.dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(tb.Context(), `SELECT pg_advisory_lock(`+advisoryKey(1)+`)`, profileLock("d", id)); err != nil {
		tb.Fatalf("lock %s: %v", id, err)
	}
	return conn
}

// advisoryLocks counts the advisory locks of the current database held
// (granted) or waited for (not granted) by sessions other than conn's.
func advisoryLocks(tb testing.TB, conn *pgx.Conn, granted bool) int {
	tb.Helper()
	var n int
	if err := conn.QueryRow(tb.Context(), `SELECT count(*) FROM pg_locks l
		JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()
		WHERE l.locktype = 'advisory' AND l.granted = $1 AND l.pid <> pg_backend_pid()`, granted).Scan(&n); err != nil {
		tb.Fatalf("read pg_locks: %v", err)
	}
	return n
}

// waitUntil polls cond until it holds, failing tb after a minute.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lockTestDB opens a DB (configured by configure) with domain d and
// profiles a and b.
func lockTestDB(t *testing.T, configure func(*DB)) *DB {
	t.Helper()
	db := mustOpen(t, configure)
	if err := db.CreateDomain(t.Context(), &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	if err := db.Update(t.Context(), func(tx profiles.Tx) error {
		for _, id := range []string{"a", "b"} {
			if err := tx.PutProfile(t.Context(), &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("create profiles: %v", err)
	}
	return db
}

// putBoth is an Update that writes profiles a and b: with b's lock held
// elsewhere, its first attempt stops at b, and the next waits for b's lock
// holding a's.
func putBoth(ctx context.Context, db *DB) error {
	return db.Update(ctx, func(tx profiles.Tx) error {
		for _, id := range []string{"a", "b"} {
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"F": "v"}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestProfileLock_CancelledWhileQueued cancels an Update while it waits
// for a profile's lock, holding another's: it returns, and no connection
// of the DB keeps a lock (the next writers of a and b do not wait).
func TestProfileLock_CancelledWhileQueued(t *testing.T) {
	db := lockTestDB(t, nil)
	holder := holdProfileLock(t, db, "b")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- putBoth(ctx, db) }()
	waitUntil(t, "the Update waits for b's lock", func() bool { return advisoryLocks(t, holder, false) == 1 })
	cancel()
	if err := <-done; err == nil {
		t.Fatalf("Update cancelled while queued: nil error")
	}
	waitUntil(t, "no session but the holder's holds a lock", func() bool {
		return advisoryLocks(t, holder, true) == 0 && advisoryLocks(t, holder, false) == 0
	})
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := putBoth(t.Context(), db); err != nil {
		t.Errorf("Update after: %v", err)
	}
}

// TestProfileLock_StatementTimeoutWhileQueued has an Update wait for a
// profile's lock longer than the statement timeout: the profile is busy,
// ETHROTTLED (which clients retry), not an internal error; and the lock
// it held meanwhile (a's) is released.
func TestProfileLock_StatementTimeoutWhileQueued(t *testing.T) {
	db := lockTestDB(t, func(db *DB) { db.StatementTimeout = 300 * time.Millisecond })
	holder := holdProfileLock(t, db, "b")
	err := putBoth(t.Context(), db)
	if code := profiles.ErrorCode(err); code != profiles.ETHROTTLED {
		t.Errorf("Update queued past the statement timeout: %v (code %q), want ETHROTTLED", err, code)
	}
	if n := advisoryLocks(t, holder, true); n != 0 {
		t.Errorf("%d advisory locks held after the Update returned, want 0", n)
	}
}

// TestProfileLock_IgnoredTurnIsNotCommitted has fn go on, and return nil,
// after PutProfile failed because another writer held the profile's turn.
// The attempt is not committed without the profile (a conflict makes the
// attempt run again whatever fn returns): it runs again in its turn, and
// writes the profile.
func TestProfileLock_IgnoredTurnIsNotCommitted(t *testing.T) {
	db := lockTestDB(t, nil)
	holder := holdProfileLock(t, db, "a")
	ctx := t.Context()
	var calls int
	done := make(chan error, 1)
	go func() {
		done <- db.Update(ctx, func(tx profiles.Tx) error {
			calls++
			_ = tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: "a", Fields: map[string]string{"F": "v"}})
			return nil
		})
	}()
	waitUntil(t, "the Update ends or waits for a's lock", func() bool {
		return len(done) == 1 || advisoryLocks(t, holder, false) == 1
	})
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Update: %v", err)
	}
	var p *profiles.Profile
	if err := db.View(ctx, func(tx profiles.Tx) error {
		var err error
		p, err = tx.FindProfile(ctx, "d", "a")
		return err
	}); err != nil {
		t.Fatalf("FindProfile: %v", err)
	}
	if p.Fields["F"] != "v" || calls != 2 {
		t.Errorf("profile a's fields %v after %d runs of fn; want F=v after 2", p.Fields, calls)
	}
}

// TestFindProfileIDs_SkipScan checks what the skip scan keeps: a profile
// whose first keys of the value are expired but a later one is live, one
// whose every key is expired (left out), a key of no object, ids in byte
// order.
func TestFindProfileIDs_SkipScan(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	db := mustOpen(t, func(db *DB) { db.Now = func() time.Time { return now } })
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	type obj struct {
		key     string
		expired bool
	}
	holders := map[string][]obj{
		"a":      {{"c1", true}, {"c2", true}, {"c3", false}}, // live after two expired
		"B":      {{"c4", true}, {"c5", true}},                // every key expired
		"Zed":    {{"c6", false}, {"c7", true}},
		"_x":     nil, // a key of the profile itself
		"middle": {{"c8", true}, {"c9", true}, {"c10", true}, {"c11", false}},
	}
	err := db.Update(ctx, func(tx profiles.Tx) error {
		for id, objs := range holders {
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{}}); err != nil {
				return err
			}
			keys := []profiles.Key{{DomainName: "d", Name: "_email", Value: "other@example.com", ProfileID: id, Origin: profiles.KeyOriginProfile}}
			if objs == nil {
				keys = append(keys, profiles.Key{DomainName: "d", Name: "_email", Value: "v@example.com", ProfileID: id, Origin: profiles.KeyOriginProfile})
			}
			for _, o := range objs {
				exp := now.Add(time.Hour)
				if o.expired {
					exp = now.Add(-time.Hour)
				}
				if err := tx.PutObject(ctx, &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "contact", UniqueKey: o.key, ProfileID: id, Data: []byte("{}"), ExpiresAt: exp}); err != nil {
					return err
				}
				keys = append(keys, profiles.Key{DomainName: "d", Name: "_email", Value: "v@example.com", ProfileID: id, Origin: "contact", ObjectKey: o.key})
			}
			if err := tx.PutKeys(ctx, keys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	var ids []string
	if err := db.Update(ctx, func(tx profiles.Tx) error {
		var err error
		ids, err = tx.FindProfileIDs(ctx, "d", "_email", "v@example.com")
		return err
	}); err != nil {
		t.Fatalf("FindProfileIDs: %v", err)
	}
	if want := []string{"Zed", "_x", "a", "middle"}; !slices.Equal(ids, want) {
		t.Errorf("FindProfileIDs = %q, want %q", ids, want)
	}
}

// TestFindProfileIDs_SkipScanSerializes has two Updates read, with the
// skip scan, a value that 40 profiles hold 40 keys each of, and each add a
// profile with the value in a different gap between them (as two nodes
// that find fewer profiles than they need and create one): the range the
// skip scan reads, though it steps over most keys, still covers the gaps,
// so one of them is run again and sees the other's profile.
func TestFindProfileIDs_SkipScanSerializes(t *testing.T) {
	ctx := t.Context()
	dsn := MustSchema(t)
	var dbs [2]*DB
	for i := range dbs {
		dbs[i] = NewDB(dsn)
		if err := dbs[i].Open(); err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if err := dbs[0].CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	const holders, each = 40, 40
	err := dbs[0].Update(ctx, func(tx profiles.Tx) error {
		for p := range holders {
			id := fmt.Sprintf("p%03d", p*10)
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{}}); err != nil {
				return err
			}
			var keys []profiles.Key
			for k := range each {
				keys = append(keys, profiles.Key{DomainName: "d", Name: "_email", Value: "v@example.com", ProfileID: id, Origin: profiles.KeyOriginProfile + fmt.Sprintf("%02d", k)})
			}
			if err := tx.PutKeys(ctx, keys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	var barrier = make(chan struct{}, 2)
	errs := make(chan error, 2)
	for i, id := range []string{"p105", "p305"} {
		go func() {
			met := false
			errs <- dbs[i].Update(ctx, func(tx profiles.Tx) error {
				ids, err := tx.FindProfileIDs(ctx, "d", "_email", "v@example.com")
				if err != nil {
					return err
				}
				if !met { // the first attempts overlap: each waits for the other's read
					met = true
					barrier <- struct{}{}
					for len(barrier) < 2 {
						time.Sleep(time.Millisecond)
					}
				}
				if len(ids) > holders {
					return nil
				}
				if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{}}); err != nil {
					return err
				}
				return tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_email", Value: "v@example.com", ProfileID: id, Origin: profiles.KeyOriginProfile}})
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	var ids []string
	if err := dbs[0].View(ctx, func(tx profiles.Tx) error {
		var err error
		ids, err = tx.FindProfileIDs(ctx, "d", "_email", "v@example.com")
		return err
	}); err != nil {
		t.Fatalf("FindProfileIDs: %v", err)
	}
	if len(ids) != holders+1 {
		t.Errorf("%d profiles hold the value, want %d (one of the two created): %q", len(ids), holders+1, slices.DeleteFunc(ids, func(s string) bool { return len(s) == 4 && s[3] == '0' }))
	}
}
