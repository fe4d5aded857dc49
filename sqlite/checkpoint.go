package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openprofiles/profiles"
)

// Checkpoints copy the pages that commits appended to the WAL back into the
// database file. SQLite runs them by default inside the commit that takes
// the WAL past 1,000 pages, on the writer's time (a tenth of ingestion's
// CPU, with an fsync). Here a checkpointer runs PASSIVE checkpoints on a
// connection of its own, CheckpointInterval apart, beside the writer, which
// they neither block nor wait for; the writer checkpoints itself only past
// WriterAutoCheckpointPages, to restart the WAL (see below). This
// changes nothing of durability: a transaction is durable once its frames
// are in the WAL and synced, which its commit does (synchronous=FULL, see
// dsn).

// CheckpointInterval is the pause between two checkpoints of the
// checkpointer while the WAL grows. Under steady writes its PASSIVE
// checkpoints never quite finish (frames keep coming), so the WAL is
// restarted either by a write transaction that begins just after a
// checkpoint caught up (SQLite then writes from the WAL's start again), or
// by the writer itself: past WriterAutoCheckpointPages it checkpoints once,
// inside a commit, copying what the checkpointer had not yet copied and
// syncing, while every writer waits. What it copies then is what was
// committed since the checkpointer's last run began, so the shorter the
// pause, the shorter that stall: with 5 ms instead of 50 ms, transactions
// of 100 ms or more (nearly all of them such commits) fell from 114 to 4
// in a 200,000-object ingestion, and its p99 by half (BENCHMARKS.md, eighth
// pass), for the same throughput. The writer's checkpoint gives up at
// once (SQLITE_BUSY) while one of the checkpointer's runs, so the pause is
// taken after each checkpoint, not on a clock (a checkpointer
// running back to back would leave it no gap: the WAL grew to hundreds of
// MiB before a restart), and is longer once the WAL is due for a restart
// (RestartPause), leaving the writer the lock.
const CheckpointInterval = 5 * time.Millisecond

// IdleCheckpointInterval is the pause after a checkpoint that found
// nothing new in the WAL: an idle store looks at its WAL ten times a
// second rather than two hundred. An idle checkpoint costs a look at the
// WAL index and its locks, no disk I/O.
const IdleCheckpointInterval = 100 * time.Millisecond

// RestartPause is the checkpointer's pause once the WAL has reached
// WriterAutoCheckpointPages: several commits' time, for the writer's own
// checkpoint to restart the WAL.
const RestartPause = 250 * time.Millisecond

// WriterAutoCheckpointPages is the WAL size, in pages, past which the
// writer checkpoints at commit.
const WriterAutoCheckpointPages = 16_000

// checkpointLoop runs PASSIVE checkpoints on cdb until quit is closed.
func (db *DB) checkpointLoop(cdb *sql.DB, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(CheckpointInterval)
	defer t.Stop()
	lastWALPages := -1
	failing, logged := false, false // failing since the last success; and logged so
	var loggedFail time.Time
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		var busy, walPages, copied int
		err := cdb.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walPages, &copied)
		// A failing checkpoint is logged when it begins to fail (at most
		// once per StorageLogInterval) and when it succeeds again, not at
		// every run: with the storage full (which the store logs,
		// storage.go) it fails until there is room, and then goes on by
		// itself.
		switch {
		case err != nil && !failing:
			failing = true
			if errors.Is(db.storageErr(err), profiles.ErrStorageFull) {
				break
			}
			if now := time.Now(); now.Sub(loggedFail) >= StorageLogInterval {
				loggedFail, logged = now, true
				db.Logger.Warn("sqlite: checkpoint failed; retrying", "data_dir", db.dir, "err", err)
			}
		case err == nil && failing:
			failing = false
			if logged {
				logged = false
				db.Logger.Info("sqlite: checkpoints succeed again", "data_dir", db.dir)
			}
		}
		pause := CheckpointInterval
		switch {
		case err != nil:
			pause = RestartPause
		case walPages >= WriterAutoCheckpointPages:
			pause = RestartPause
		case err == nil && walPages == lastWALPages && copied == walPages:
			pause = IdleCheckpointInterval // nothing written since the last run, all of it copied
		}
		lastWALPages = walPages
		t.Reset(pause)
	}
}
