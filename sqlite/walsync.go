package sqlite

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Durability. Every connection runs with synchronous=FULL (see dsn): a
// COMMIT syncs the write-ahead log before it returns, so whatever a write
// method returned survives a power loss, not only the process being
// killed. The committer's group transactions are the exception made for
// throughput: they commit with synchronous=NORMAL (no sync), and the
// committer goes on with the next group while a WALSyncer syncs the WAL and
// only then answers the group's Updates. An Update therefore still returns
// once its writes are on disk; what the committer no longer does is wait
// for the disk between two groups (with FULL, ingestion at 64 requests in
// flight ran a fifth slower on the benchmark machine, BENCHMARKS.md,
// eleventh pass). Between its COMMIT and the sync, a group's writes are
// visible to readers and to the next group; a power loss in that window
// loses that group and every later one, none of which was answered (the
// WAL is replayed up to its last complete, synced commit). Should a sync
// fail, the Updates it was to answer return its error although their
// writes are committed and visible: whether the disk holds them is not
// known, and a caller that retries may apply a write twice (an ingestion
// is idempotent through its object's unique key; a CreateProfile is not).
//
// A failed fsync is not retried. The kernel may have dropped the pages it
// could not write, marked them clean, and reported it once: a later fsync
// that succeeds says nothing of them, and a power loss would then lose the
// frames they held and, with them, every later commit (the WAL is replayed
// up to its first missing frame), all of which the later syncs would have
// acknowledged. So from its first failed fsync (ErrWALSyncFailed; not a
// WAL that could not be opened, which writes nothing back) the syncer
// syncs no more and answers every later Then with that error, and the DB
// refuses every write, until the process restarts: SQLite then replays the
// WAL from the file as it is.

// WALSyncer syncs the write-ahead log of one database file for the
// commits queued since its last sync, many at a time, and then calls
// what each queued. The bench command's raw scenario acknowledges its
// writes through one too, as the store does.
type WALSyncer struct {
	walPath string
	queue   chan func(error)
	done    chan struct{}
	closing sync.Once
	sync    func() error // syncWAL, or a test's
	// onSync, when set, is called after each sync: how many answers it
	// served, how long it took, its error.
	onSync func(answers int, took time.Duration, err error)
	// onFail, when set, is called once, with the error of the first
	// failed fsync.
	onFail func(err error)
	failed atomic.Pointer[error] // the first failed fsync's error
}

// ErrWALSyncFailed is in the chain of the error of an fsync of the WAL that
// failed, and of every write refused since.
var ErrWALSyncFailed = errors.New("sqlite: an fsync of the write-ahead log failed (restart the server)")

// Failed returns the error of the syncer's failed fsync, after which it
// acknowledges nothing, or nil.
func (s *WALSyncer) Failed() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// NewWALSyncer returns a WALSyncer of the database file at dbPath, whose
// WAL is dbPath+"-wal", and starts it. Close stops it.
func NewWALSyncer(dbPath string) *WALSyncer {
	s := &WALSyncer{walPath: dbPath + "-wal"}
	return s.start(s.syncWAL)
}

// start starts the syncer with the function that syncs.
func (s *WALSyncer) start(sync func() error) *WALSyncer {
	s.queue, s.done, s.sync = make(chan func(error), MaxGroupCommit), make(chan struct{}), sync
	go s.run()
	return s
}

// Then queues answer, to be called with nil once a sync of the WAL that
// began after this call has completed, or with that sync's error. Call it
// after the COMMIT that answer's writes are in has returned. answer runs
// on the syncer's goroutine: it must be quick.
func (s *WALSyncer) Then(answer func(error)) { s.queue <- answer }

// Close syncs for and answers what is queued, and stops the syncer. Then
// must not be called during or after Close. Close may be called more than
// once.
func (s *WALSyncer) Close() {
	s.closing.Do(func() { close(s.queue) })
	<-s.done
}

func (s *WALSyncer) run() {
	defer close(s.done)
	var waiting []func(error)
	for answer := range s.queue {
		waiting = append(waiting[:0], answer)
	drain:
		for {
			select {
			case a, ok := <-s.queue:
				if !ok {
					break drain
				}
				waiting = append(waiting, a)
			default:
				break drain
			}
		}
		err := s.Failed()
		if err == nil {
			start := time.Now()
			err = s.sync()
			if s.onSync != nil {
				s.onSync(len(waiting), time.Since(start), err)
			}
			if errors.Is(err, ErrWALSyncFailed) {
				s.failed.Store(&err)
				if s.onFail != nil {
					s.onFail(err)
				}
			}
		}
		for _, a := range waiting {
			a(err)
		}
		clear(waiting)
	}
}

// syncWAL fsyncs the WAL file. A descriptor of its own reaches the same
// file as SQLite's: fsync writes every dirty page of the file, whoever
// wrote it.
func (s *WALSyncer) syncWAL() error {
	f, err := os.Open(s.walPath)
	if err != nil {
		return fmt.Errorf("sqlite: sync write-ahead log: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: %w", ErrWALSyncFailed, err)
	}
	return nil
}

// writable returns why the DB refuses to write, or nil: the database was
// migrated past this program (schema.go), or an fsync of its WAL failed.
// Atomic loads only.
func (db *DB) writable() error {
	if err := db.schemaTooNew(); err != nil {
		return err
	}
	if db.syncer != nil {
		if err := db.syncer.Failed(); err != nil {
			return fmt.Errorf("sqlite: writes refused since %w", err)
		}
	}
	return nil
}

// SyncFailed returns the error of the failed fsync of the WAL after which
// the DB refuses every write until the process restarts, or nil.
func (db *DB) SyncFailed() error {
	if db.syncer == nil {
		return nil
	}
	return db.syncer.Failed()
}
