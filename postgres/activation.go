package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

var _ profiles.ActivationLocker = (*DB)(nil)

// activationLock is the first half of the key of the session-level
// advisory lock that LockActivation holds; the second, as for migrate, is
// a hash of the schema (one account per schema).
const activationLock = 0x6f70_6163 // "opac"

// LockActivation takes the account's activation lock, a session-level
// advisory lock, on a connection of its own: not one of the pools', whose
// connections the activation's own statements need (with MaxConns 1 it
// would wait for itself), and which would go back to the pool still
// holding the lock if it could not be unlocked. Releasing closes the
// connection, which ends the session and so releases the lock; so does
// the death of the node, whose connection the database then sees close
// (the connection's TCP keepalives find a node that vanished without
// closing it, within about half a minute).
//
// The wait has no statement timeout: ctx bounds it. When ctx ends, pgx
// closes the connection after a cancel request that stops the waiting
// statement on the server: no waiter is left behind to take the lock
// later.
func (db *DB) LockActivation(ctx context.Context) (func(), error) {
	cfg := db.pool.Config().ConnConfig.Copy()
	params := cfg.RuntimeParams
	params["statement_timeout"] = "0"
	params["tcp_keepalives_idle"] = "10"
	params["tcp_keepalives_interval"] = "5"
	params["tcp_keepalives_count"] = "3"
	cfg.DialFunc = db.dial // no bound on the wait for an answer (connloss.go)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock activations: %w", err)
	}
	release := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(COALESCE(current_schema(), '')))`, activationLock); err != nil {
		release()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("postgres: lock activations: %w", err)
	}
	return release, nil
}
