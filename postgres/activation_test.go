package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openprofiles/profiles/postgres"
)

// activationWaiters counts the sessions of the database that hold (granted)
// or wait for the activation lock of the schema of conn's search path.
const activationWaiters = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $1
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND objid = hashtext(COALESCE(current_schema(), ''))::oid AND objsubid = 2`

// TestNodes_ActivationLock: the activation lock of two nodes of one
// database is held by one at a time; a node waits for the other's until
// its context ends, and leaves no waiter behind; the lock of a node whose
// connection dies is released; holding it takes no connection of the
// node's pools.
func TestNodes_ActivationLock(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	a := mustOpenDBAt(t, dsn, nil)
	b := postgres.NewDB(dsn)
	b.MaxConns = 1
	if err := b.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	look := mustConnect(t, dsn)
	count := func(granted bool) int {
		t.Helper()
		var n int
		if err := look.QueryRow(ctx, activationWaiters, granted).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// poll waits until count(granted) is want.
	poll := func(granted bool, want int, what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count(granted) != want; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d sessions with granted=%v, want %d", what, count(granted), granted, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	release, err := a.LockActivation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The other node waits until its context ends, and its wait ends on
	// the server too: no waiter is left to take the lock later.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = b.LockActivation(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockActivation while the other node holds it: %v, want the context's deadline", err)
	}
	poll(false, 0, "after a waiter gave up")

	// A waiter takes the lock when the holder releases it.
	got := make(chan error, 1)
	var releaseB func()
	go func() {
		var err error
		releaseB, err = b.LockActivation(ctx)
		got <- err
	}()
	poll(false, 1, "a second node waiting")
	select {
	case err := <-got:
		t.Fatalf("LockActivation returned (%v) while the other node holds the lock", err)
	default:
	}
	release()
	if err := <-got; err != nil {
		t.Fatalf("LockActivation after the holder released it: %v", err)
	}
	// Holding the lock takes none of the pool's connections (MaxConns 1):
	// the activation's own statements run.
	busy, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.ListDomains(busy, "", 0); err != nil {
		t.Fatalf("a statement of the node holding the lock: %v", err)
	}

	// The connection of the holder dies (its node died): the database
	// releases its lock, and the other node takes it.
	if _, err := look.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND objid = hashtext(COALESCE(current_schema(), ''))::oid AND objsubid = 2`); err != nil {
		t.Fatal(err)
	}
	release, err = a.LockActivation(busy)
	if err != nil {
		t.Fatalf("LockActivation after the holder's connection died: %v", err)
	}
	releaseB() // its connection is gone already
	release()
	poll(true, 0, "after both released")
}
