package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaVersion reads the schema version of the database file (the highest
// migration applied) and returns it with the highest this program knows:
// another process may migrate the file while this one runs. It is one
// query, cheap to run every few seconds. After StepAside it returns the
// version StepAside was given, without a query.
func (db *DB) SchemaVersion(ctx context.Context) (current, known int, err error) {
	if v := db.schemaAhead.Load(); v != 0 {
		return int(v), db.schemaKnown, nil
	}
	if err := db.rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, db.schemaKnown, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	return current, db.schemaKnown, nil
}

// StepAside makes the DB refuse to work on a database that SchemaVersion
// found migrated past this program, at version: from then on it refuses
// every write (a transaction, a group commit, a single statement) with
// ErrSchemaTooNew (wrapped), rather than write rows in the format of its
// older schema. It does not step back: a newer program must open the file.
func (db *DB) StepAside(version int) {
	db.schemaAhead.CompareAndSwap(0, int64(max(version, 1)))
}

// schemaTooNew returns ErrSchemaTooNew (wrapped) after StepAside, else
// nil: an atomic load.
func (db *DB) schemaTooNew() error {
	if v := db.schemaAhead.Load(); v != 0 {
		return fmt.Errorf("%w: version %d, this program knows up to %d; upgrade this node", ErrSchemaTooNew, v, db.schemaKnown)
	}
	return nil
}

// execWrite runs one writing statement outside a transaction on the
// writer connection (its own transaction), keeping the storage state as
// commit does (storage.go).
func (db *DB) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := db.writable(); err != nil {
		return nil, err
	}
	res, err := db.wdb.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, db.storageErr(err)
	}
	db.storageOK()
	return res, nil
}
