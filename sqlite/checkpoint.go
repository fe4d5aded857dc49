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
// connection of its own every CheckpointInterval, beside the writer, which
// they neither block nor wait for; the writer checkpoints itself only past
// WriterAutoCheckpointPages, should the checkpointer fall behind. This
// changes nothing of durability: a transaction is durable (to a process
// crash) once its frames are in the WAL.

// CheckpointInterval is how often the checkpointer runs. Under steady
// writes its PASSIVE checkpoints never quite finish (frames keep coming),
// so the WAL grows to WriterAutoCheckpointPages and the writer then
// checkpoints once, on its own time, to restart the WAL: it copies what
// the checkpointer had not yet copied and syncs, while every writer waits.
// The more often the checkpointer runs, the less that is: at 50 ms instead
// of 200 ms ingestion's p99 fell by a third to a half, its throughput
// within the runs' spread; 20 ms gained little more for more CPU
// (BENCHMARKS.md). An idle checkpoint (nothing new in the WAL) costs a
// look at the WAL index and its locks, no disk I/O.
const CheckpointInterval = 50 * time.Millisecond

// WriterAutoCheckpointPages is the WAL size, in pages, past which the
// writer checkpoints at commit.
const WriterAutoCheckpointPages = 16_000

// checkpointLoop runs PASSIVE checkpoints on cdb until quit is closed.
func (db *DB) checkpointLoop(cdb *sql.DB, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			if _, err := cdb.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				db.Logger.Warn("sqlite: checkpoint", "err", err)
			}
		}
	}
}
