package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// CheckSchema reads the schema version of the database file (the highest
// migration applied) and returns it with the highest this program knows.
// Another process may migrate the file while this one runs: once a check
// finds a version it does not know, the DB refuses every write from then
// on with ErrSchemaTooNew (wrapped), rather than write rows in the format
// of its older schema. It is one query on the reader pool, cheap to run
// every few seconds.
func (db *DB) CheckSchema(ctx context.Context) (current, known int, err error) {
	if v := db.schemaAhead.Load(); v != 0 {
		return int(v), db.schemaKnown, nil
	}
	if err := db.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, db.schemaKnown, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if current > db.schemaKnown {
		db.schemaAhead.CompareAndSwap(0, int64(current))
	}
	return current, db.schemaKnown, nil
}

// schemaTooNew returns ErrSchemaTooNew (wrapped) once CheckSchema found
// the database migrated past this program, else nil: an atomic load.
func (db *DB) schemaTooNew() error {
	if v := db.schemaAhead.Load(); v != 0 {
		return fmt.Errorf("%w: version %d, this program knows up to %d; upgrade this node", ErrSchemaTooNew, v, db.schemaKnown)
	}
	return nil
}

// execWrite runs one writing statement outside a transaction on the
// writer connection.
func (db *DB) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := db.schemaTooNew(); err != nil {
		return nil, err
	}
	return db.wdb.ExecContext(ctx, query, args...)
}
