package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CheckSchema reads the schema version of the database (the highest
// migration applied) and returns it with the highest this program knows.
// Another node may migrate the database while this one runs: once a check
// finds a version it does not know, the DB refuses every statement from
// then on with ErrSchemaTooNew (wrapped; no connection is handed out, and
// a transaction under way does not commit), rather than read or write rows
// in the format of its older schema. It is one query, cheap to run every
// few seconds.
func (db *DB) CheckSchema(ctx context.Context) (current, known int, err error) {
	if v := db.schemaAhead.Load(); v != 0 {
		return int(v), db.schemaKnown, nil
	}
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, db.schemaKnown, fmt.Errorf("postgres: read schema version: %w", err)
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

// prepareConn is the pools' check before they hand out a connection: none
// once the database was migrated past this program.
func (db *DB) prepareConn(context.Context, *pgx.Conn) (bool, error) {
	return true, db.schemaTooNew()
}
