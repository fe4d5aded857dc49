package sqlite

import (
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Storage full. When the database file or its WAL cannot grow (the disk
// full, ENOSPC, which SQLite reports as SQLITE_FULL; or a limit on the size
// of files, EFBIG, and other failed writes, SQLITE_IOERR_WRITE), the write
// transaction that hit it is rolled back by SQLite: nothing of it is
// written, nothing acknowledged before is touched. Its error carries
// profiles.ErrStorageFull, whose message tells the caller. Reads go on
// (they need no room). Nothing needs a restart: the committer's next
// group, the checkpointer's next run and the WAL syncer simply succeed
// once there is room again.
//
// The store logs one line when its storage becomes full, naming the data
// directory and the cause, and one when a write commits again; not one
// per failed request. Should the state flap, each line is logged at most
// once per StorageLogInterval.

// StorageLogInterval is the least time between two log lines of the
// store's storage becoming full (likewise writable again).
const StorageLogInterval = time.Minute

// storageState is whether the last write that committed or failed found
// the storage full, and when each change was last logged.
type storageState struct {
	mu                   sync.Mutex
	full                 bool
	loggedFull, loggedOK time.Time
}

// isStorageFull reports whether err is SQLite's answer to a write its files
// could not take: SQLITE_FULL (and its extended codes) or
// SQLITE_IOERR_WRITE.
func isStorageFull(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code()&0xff == sqlite3.SQLITE_FULL || e.Code() == sqlite3.SQLITE_IOERR_WRITE
}

// storageFullError is a write's error that found the storage full.
type storageFullError struct{ err error }

func (e *storageFullError) Error() string { return "storage full: " + e.err.Error() }

func (e *storageFullError) Unwrap() []error { return []error{profiles.ErrStorageFull, e.err} }

// storageErr returns err marked with profiles.ErrStorageFull if it found
// the storage full, after noting (and maybe logging) that; any other err
// as it is.
func (db *DB) storageErr(err error) error {
	if err == nil || errors.Is(err, profiles.ErrStorageFull) || !isStorageFull(err) {
		return err
	}
	s := &db.storage
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full {
		s.full = true
		if now := time.Now(); now.Sub(s.loggedFull) >= StorageLogInterval {
			s.loggedFull = now
			db.Logger.Error("sqlite: storage full: writes fail (InternalServerException) until there is room again; reads go on; nothing acknowledged is lost. Free space in the data directory (or raise the file size limit); no restart is needed",
				"data_dir", db.dir, "err", err)
		}
	}
	return &storageFullError{err}
}

// storageOK notes that a write committed.
func (db *DB) storageOK() {
	s := &db.storage
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full {
		s.full = false
		if now := time.Now(); now.Sub(s.loggedOK) >= StorageLogInterval {
			s.loggedOK = now
			db.Logger.Info("sqlite: storage takes writes again", "data_dir", db.dir)
		}
	}
}

// StorageFull reports whether the last write transaction that committed or
// failed found the storage full: writes fail, reads go on.
func (db *DB) StorageFull() bool {
	db.storage.mu.Lock()
	defer db.storage.mu.Unlock()
	return db.storage.full
}

// commit commits a write transaction, keeping the storage state.
func (db *DB) commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return db.storageErr(err)
	}
	db.storageOK()
	return nil
}
