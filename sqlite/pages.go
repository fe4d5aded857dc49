package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	msqlite "modernc.org/sqlite"
)

// PagesWritten returns how many database pages the writer connection has
// written to the write-ahead log since Open: the physical size of what the
// store's transactions changed (a page is written once per transaction that
// changes it, however many rows of it changed). The committer adds the
// count after each group, before it answers the group's Updates; writes
// outside it (migrations, the first statements of Open) are counted with
// the next group.
func (db *DB) PagesWritten() int64 { return db.pagesWritten.Load() }

// countPagesWritten adds the pages the writer connection wrote since the
// last call to db.pagesWritten. It runs on the committer's goroutine,
// between transactions, when the connection is free.
func (db *DB) countPagesWritten(ctx context.Context) {
	n, err := TakePagesWritten(ctx, db.wdb)
	if err != nil {
		db.Logger.Warn("sqlite: pages written", "error", err)
		return
	}
	db.pagesWritten.Add(n)
}

// TakePagesWritten returns the pages that the one connection of the pool
// db (a writer: SetMaxOpenConns(1)) wrote to the write-ahead log since the
// previous call, or since it opened, and starts counting again from zero
// (SQLite counts them per connection in a 32-bit integer:
// SQLITE_DBSTATUS_CACHE_WRITE). It waits for the connection to be free.
// The bench command's raw scenario reads its own writer with it.
func TakePagesWritten(ctx context.Context, db *sql.DB) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: pages written: %w", err)
	}
	defer conn.Close()
	var n int
	err = conn.Raw(func(dc any) error {
		st, ok := dc.(msqlite.DBStatus)
		if !ok {
			return fmt.Errorf("driver connection %T has no status", dc)
		}
		var err error
		n, _, err = st.Status(msqlite.DBStatusCacheWrite, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: pages written: %w", err)
	}
	return int64(n), nil
}
