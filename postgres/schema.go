package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SchemaVersion reads the schema version of the database (the highest
// migration applied) and returns it with the highest this program knows:
// another node may migrate the database while this one runs. It is one
// query, cheap to run every few seconds. After StepAside it returns the
// version StepAside was given, without a query.
func (db *DB) SchemaVersion(ctx context.Context) (current, known int, err error) {
	if v := db.schemaAhead.Load(); v != 0 {
		return int(v), db.schemaKnown, nil
	}
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, db.schemaKnown, fmt.Errorf("postgres: read schema version: %w", err)
	}
	return current, db.schemaKnown, nil
}

// StepAside makes the DB refuse to work on a database that SchemaVersion
// found migrated past this program, at version: from then on it refuses
// every statement (no connection is handed out) and commits no
// transaction under way, with ErrSchemaTooNew (wrapped), rather than read
// or write rows in the format of its older schema. It does not step back:
// a newer program must open the database.
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

// prepareConn is the pools' check before they hand out a connection: none
// once the database was migrated past this program, and not one the
// database closed while it was idle (idleConnLost: the pool drops it and
// takes another).
func (db *DB) prepareConn(_ context.Context, conn *pgx.Conn) (bool, error) {
	if err := db.schemaTooNew(); err != nil {
		return true, err
	}
	return !idleConnLost(conn), nil
}
