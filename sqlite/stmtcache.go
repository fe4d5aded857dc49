package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the prepared statements a stmtCache keeps; the
// statements of the store are constants, or built from a few shapes.
const maxCachedStmts = 512

// stmtCache keeps the writer's prepared statements, so that a write
// transaction does not parse its SQL again (SQLite's parser and planner
// were a fifth of the ingestion's CPU time). A statement is prepared on the
// writer pool, which has one connection: never while a transaction holds
// it (that would wait for itself). A query seen in a transaction is
// therefore run unprepared and noted; the committer prepares the noted
// ones between transactions, and later transactions use them through
// Tx.StmtContext.
//
// The readers of View share one too: there a preparer goroutine, woken by
// wake, prepares the noted queries on the pool while holding no connection
// of its own, so it only waits for a free connection, never for itself.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]struct{}
	wake   chan struct{} // nil: the owner prepares (the writer's committer)
}

func newStmtCache() *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, wanted: map[string]struct{}{}}
}

// runPreparer prepares the queries noted on db until quit is closed.
func (c *stmtCache) runPreparer(db *sql.DB, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-quit:
			return
		case <-c.wake:
			c.prepareWanted(context.Background(), db)
		}
	}
}

// get returns the prepared statement of query, or nil (and notes query).
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.stmts[query]; s != nil {
		return s
	}
	if len(c.stmts)+len(c.wanted) < maxCachedStmts {
		c.wanted[query] = struct{}{}
		if c.wake != nil {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// prepareWanted prepares the noted queries on db. The caller holds no
// connection of db.
func (c *stmtCache) prepareWanted(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range queries {
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue // it runs unprepared
		}
		c.mu.Lock()
		c.stmts[q] = s
		c.mu.Unlock()
	}
}

// close closes the prepared statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}

// preparedDB runs single-row queries on a pool through its prepared
// statements (unprepared, and noted, until they are).
type preparedDB struct {
	db    *sql.DB
	stmts *stmtCache
}

func (p preparedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmts.get(query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}
