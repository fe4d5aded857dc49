package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InitServerSetting stores value under name unless the store holds a value
// of that name, and returns the one it holds then. A value stored is read
// without a write transaction (every start after the first); else it is
// written and read back in one.
func (db *DB) InitServerSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	var stored []byte
	err := db.rdb.QueryRowContext(ctx, `SELECT value FROM server_settings WHERE name = ?`, name).Scan(&stored)
	if err == nil {
		return stored, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO server_settings (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, value, db.now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT value FROM server_settings WHERE name = ?`, name).Scan(&stored); err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	return stored, nil
}
