package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// InitServerSetting stores value under name unless the store holds a value
// of that name, and returns the one it holds then. Of two nodes inserting
// at once, one waits on the other's row and, READ COMMITTED, reads it
// after the other committed.
func (db *DB) InitServerSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	// Every start after the first reads it, without a write transaction.
	var stored []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM server_settings WHERE name = $1`, name).Scan(&stored)
	if err == nil {
		return stored, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, wrap("init server setting", err)
	}
	err = db.iamWrite(ctx, "init server setting", func(t *tx) error {
		if _, err := t.ptx.Exec(ctx, `INSERT INTO server_settings (name, value, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, name, value, t.now); err != nil {
			return t.wrap("init server setting", err)
		}
		if err := t.ptx.QueryRow(ctx, `SELECT value FROM server_settings WHERE name = $1`, name).Scan(&stored); err != nil {
			return t.wrap("init server setting", err)
		}
		return nil
	})
	return stored, err
}
