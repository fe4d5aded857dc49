package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestWALSyncer_AnswersAfterASyncThatBeganLater: an answer queued while a
// sync runs waits for the next sync, which serves everything queued
// meanwhile; a sync's error reaches every answer it serves.
func TestWALSyncer_AnswersAfterASyncThatBeganLater(t *testing.T) {
	started, release := make(chan int, 4), make(chan error)
	var syncs int
	s := (&WALSyncer{}).start(func() error {
		syncs++
		started <- syncs
		return <-release
	})
	defer s.Close()

	answered := make(chan string, 8)
	s.Then(func(err error) { answered <- "a:" + errText(err) })
	if n := <-started; n != 1 {
		t.Fatalf("first sync is number %d", n)
	}
	// Queued while sync 1 runs: sync 1 began before them.
	for _, name := range []string{"b", "c", "d"} {
		s.Then(func(err error) { answered <- name + ":" + errText(err) })
	}
	select {
	case a := <-answered:
		t.Fatalf("%s answered before its sync completed", a)
	case <-time.After(50 * time.Millisecond):
	}
	release <- nil
	if a := <-answered; a != "a:ok" {
		t.Fatalf("after sync 1: %s, want a:ok", a)
	}
	if n := <-started; n != 2 {
		t.Fatalf("second sync is number %d", n)
	}
	select {
	case a := <-answered:
		t.Fatalf("%s answered by the sync that began before it was queued", a)
	case <-time.After(50 * time.Millisecond):
	}
	release <- errors.New("disk on fire")
	var got []string
	for range 3 {
		got = append(got, <-answered)
	}
	if strings.Join(got, " ") != "b:disk on fire c:disk on fire d:disk on fire" {
		t.Fatalf("after sync 2: %v, want b, c and d with its error", got)
	}
	if syncs != 2 {
		t.Errorf("%d syncs for two batches", syncs)
	}
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestWALSyncer_CloseAnswersWhatIsQueued: Close syncs for what is queued
// before it stops, and may be called twice.
func TestWALSyncer_CloseAnswersWhatIsQueued(t *testing.T) {
	var syncs atomic.Int32
	s := (&WALSyncer{}).start(func() error { syncs.Add(1); return nil })
	var answers atomic.Int32
	for range 10 {
		s.Then(func(err error) {
			if err == nil {
				answers.Add(1)
			}
		})
	}
	s.Close()
	s.Close()
	if answers.Load() != 10 || syncs.Load() < 1 {
		t.Fatalf("after Close: %d answers, %d syncs; want 10 answers", answers.Load(), syncs.Load())
	}
}

// TestWALSyncer_RealFile syncs the WAL of a real database, and names the
// file when it cannot.
func TestWALSyncer_RealFile(t *testing.T) {
	db := mustOpen(t)
	if err := db.CreateDomain(t.Context(), &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db.path + "-wal"); err != nil {
		t.Fatalf("no WAL beside the database: %v", err)
	}
	if err := db.syncer.syncWAL(); err != nil {
		t.Fatalf("syncWAL: %v", err)
	}
	missing := NewWALSyncer(db.path + "-missing")
	defer missing.Close()
	if err := missing.syncWAL(); err == nil || !strings.Contains(err.Error(), "-missing-wal") {
		t.Fatalf("syncWAL of a missing file: %v, want an error naming it", err)
	}
}

// TestUpdate_ReturnsAfterTheWALSync: an Update returns only once a sync of
// the WAL that began after its group's COMMIT has completed; the group
// commits with synchronous=NORMAL and leaves the writer connection at FULL
// for the other writes, which sync in their own COMMIT.
func TestUpdate_ReturnsAfterTheWALSync(t *testing.T) {
	ctx, db := t.Context(), mustOpen(t)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
		t.Fatal(err)
	}
	const id = "0123456789abcdef0123456789abcdef"
	// Replace the store's syncer with one whose sync waits for the test.
	db.syncer.Close()
	started, release := make(chan struct{}, 1), make(chan struct{})
	db.syncer = (&WALSyncer{}).start(func() error {
		started <- struct{}{}
		<-release
		return nil
	})

	var inGroup int64
	returned := make(chan error, 1)
	go func() {
		returned <- db.Update(ctx, func(ptx profiles.Tx) error {
			if err := ptx.(*tx).stx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&inGroup); err != nil {
				return err
			}
			return ptx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"FirstName": "Ada"}})
		})
	}()
	select {
	case <-started:
	case err := <-returned:
		t.Fatalf("Update returned (%v) before the WAL was synced", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no sync after the Update's commit")
	}
	// Committed, visible, not yet answered.
	if err := db.View(ctx, func(ptx profiles.Tx) error {
		_, err := ptx.FindProfile(ctx, "d", id)
		return err
	}); err != nil {
		t.Fatalf("FindProfile before the sync completed: %v", err)
	}
	select {
	case err := <-returned:
		t.Fatalf("Update returned (%v) while the WAL sync ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-returned; err != nil {
		t.Fatalf("Update: %v", err)
	}
	if inGroup != 1 {
		t.Errorf("synchronous in a group transaction = %d, want 1 (NORMAL)", inGroup)
	}
	conn, err := db.wdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var after int64
	if err := conn.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != 2 {
		t.Errorf("synchronous of the writer connection after a group = %d, want 2 (FULL)", after)
	}
}

// TestWrites_RefusedAfterAFailedWALSync: once an fsync of the WAL failed,
// the group it was to answer gets its error and so does every later write,
// although the next fsync would succeed (the kernel may have dropped the
// pages the failed one could not write: a later success says nothing of
// them); Updates, transactions and single statements alike, until the
// process restarts. One error line is logged. A sync that could not even
// open the WAL wrote nothing back: it is not such a failure.
func TestWrites_RefusedAfterAFailedWALSync(t *testing.T) {
	for _, tt := range []struct {
		name      string
		first     error
		refused   bool
		errorLogs int
	}{
		{"fsync failed", fmt.Errorf("%w: %w", ErrWALSyncFailed, syscall.EIO), true, 1},
		{"WAL not opened", errors.New("sqlite: sync write-ahead log: open: too many open files"), false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, db := t.Context(), mustOpen(t)
			var log strings.Builder
			db.Logger = slog.New(slog.NewJSONHandler(&log, nil))
			if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateQueue(ctx, &profiles.Queue{Name: "q", URL: "http://q/000000000000/q", ARN: "arn:aws:sqs:us-east-1:000000000000:q"}); err != nil {
				t.Fatal(err)
			}
			// The store's syncer, with a sync that fails once.
			onFail := db.syncer.onFail
			db.syncer.Close()
			var syncs atomic.Int32
			db.syncer = &WALSyncer{onFail: onFail}
			db.syncer.start(func() error {
				if syncs.Add(1) == 1 {
					return tt.first
				}
				return nil
			})
			put := func(id string) error {
				return db.Update(ctx, func(ptx profiles.Tx) error {
					return ptx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"FirstName": "Ada"}})
				})
			}
			if err := put("0123456789abcdef0123456789abcde0"); err == nil {
				t.Fatal("Update answered by the failed sync: nil error")
			}
			writes := map[string]func() error{
				"Update": func() error { return put("0123456789abcdef0123456789abcde1") },
				"CreateDomain (a transaction)": func() error {
					return db.CreateDomain(ctx, &profiles.Domain{Name: "e", DefaultExpirationDays: 1}, 0)
				},
				"PutMessage (one statement)": func() error {
					return db.PutMessage(ctx, &profiles.StoredMessage{QueueName: "q", ID: "m", Body: "b"})
				},
			}
			for name, write := range writes {
				err := write()
				switch {
				case tt.refused && !errors.Is(err, ErrWALSyncFailed):
					t.Errorf("%s after the failed fsync: %v, want ErrWALSyncFailed in its chain", name, err)
				case !tt.refused && err != nil:
					t.Errorf("%s after the sync that could not open the WAL: %v", name, err)
				}
			}
			if got := db.SyncFailed() != nil; got != tt.refused {
				t.Errorf("SyncFailed set: %v, want %v", got, tt.refused)
			}
			if n := strings.Count(log.String(), `"level":"ERROR"`); n != tt.errorLogs {
				t.Errorf("%d error log lines, want %d:\n%s", n, tt.errorLogs, log.String())
			}
		})
	}
}
