package sqlite

import (
	"context"
	"fmt"
)

// InitServerSetting stores value under name unless the store holds a value
// of that name, and returns the one it holds then, in one write
// transaction.
func (db *DB) InitServerSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO server_settings (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, value, db.now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	var stored []byte
	if err := tx.QueryRowContext(ctx, `SELECT value FROM server_settings WHERE name = ?`, name).Scan(&stored); err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	if err := db.commit(tx); err != nil {
		return nil, fmt.Errorf("sqlite: init server setting: %w", err)
	}
	return stored, nil
}
