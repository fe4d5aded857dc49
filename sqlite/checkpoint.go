package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints copy the pages that commits appended to the WAL back into the
// database file. SQLite runs them by default inside the commit that takes
// the WAL past 1,000 pages, on the writer's time (a tenth of ingestion's
// CPU, with an fsync). Here a checkpointer runs PASSIVE checkpoints on a
// connection of its own, CheckpointInterval apart, beside the writer, which
// they neither block nor wait for; the writer checkpoints itself only past
// WriterAutoCheckpointPages, to restart the WAL (see below). This
// changes nothing of durability: a transaction is durable (to a process
// crash) once its frames are in the WAL.

// CheckpointInterval is the pause between two checkpoints of the
// checkpointer. Under steady writes its PASSIVE checkpoints never quite
// finish (frames keep coming), so only the writer can restart the WAL: past
// WriterAutoCheckpointPages it checkpoints once, inside a commit, copying
// what the checkpointer had not yet copied and syncing, while every writer
// waits. The more often the checkpointer runs, the less that is (with
// this 50 ms pause instead of a 200 ms clock ingestion's p99 fell by a
// fifth, BENCHMARKS.md); but the writer's checkpoint gives up at once
// (SQLITE_BUSY) while one of the checkpointer's runs, and a checkpointer
// that ran back to back on a 50 ms clock left it no gap: the WAL grew to
// hundreds of MiB before a restart. So the pause is
// taken after each checkpoint, not on a clock, and is longer once the WAL
// is due for a restart (RestartPause), leaving the writer the lock. An
// idle checkpoint (nothing new in the WAL) costs a look at the WAL index
// and its locks, no disk I/O.
const CheckpointInterval = 50 * time.Millisecond

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
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		var busy, walPages, copied int
		err := cdb.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walPages, &copied)
		if err != nil {
			db.Logger.Warn("sqlite: checkpoint", "err", err)
		}
		pause := CheckpointInterval
		if walPages >= WriterAutoCheckpointPages {
			pause = RestartPause
		}
		t.Reset(pause)
	}
}
