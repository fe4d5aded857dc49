package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/openprofiles/profiles"
)

// Outages. When the database goes away (a restart, a failover, a network
// cut), the idle connections of the pools are dead, and nothing says so
// until one is used: a statement sent on one fails, and the connection is
// closed and dropped when released. pgxpool pings a connection before
// handing it out only once it has been idle for a second; under load,
// every dead connection of the three pools would fail one more request
// after the database came back. So the first statement that finds its
// connection lost (lossTracer: an error that closed the connection, the
// statement's context still alive) resets the three pools: their idle
// connections are closed, those in use are closed when released, and the
// next requests open new ones. A connection killed alone (an
// administrator's pg_terminate_backend) costs the pools' other connections
// too, which a new connection each replaces: a few milliseconds, rarely.
// Before handing out an idle connection, the pools peek at its socket
// (idleConnLost): one the database closed (a restart, a failover, an
// administrator) is dropped, and the request takes another. A connection
// whose database went away without a word (a network cut) looks alive
// until used: the statement that finds the loss fails; when it is a
// transaction's BEGIN, nothing was done, and Update, View and the other
// transactions begin once more on a new connection (beginLost).
//
// New connections are bounded by the connection string's connect_timeout,
// or else by StatementTimeout (within MinConnectTimeout and
// DefaultConnectTimeout), and every wait for the database's answer by
// StatementTimeout and a margin (deadlineConn): a database that does not
// answer fails requests after about that long, rather than holding them
// until the operating system gives up on the TCP connection.

// lossTracer resets the pools of its DB when a statement finds its
// connection lost.
type lossTracer struct{ db *DB }

var _ pgx.QueryTracer = lossTracer{}

func (lossTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (l lossTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryEndData) {
	if d.Err != nil && ctx.Err() == nil && conn.IsClosed() {
		l.db.connLost()
	}
}

// connLost closes the connections of the pools (see Outages above).
func (db *DB) connLost() {
	db.Logger.Warn("postgres: a connection to the database was lost: reconnecting")
	for _, p := range []*pgxpool.Pool{db.pool, db.txPool, db.viewPool} {
		if p != nil {
			p.Reset()
		}
	}
}

// errBeginLost marks the failure of a BEGIN whose connection was lost.
var errBeginLost = errors.New("the connection to the database was lost before the transaction began")

// beginLost reports whether err, of a BEGIN under ctx, is the loss of the
// connection (no answer, or the server's word that it shut the session
// down; not ctx's end): nothing was done, and the transaction may begin
// again on another connection.
func beginLost(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return true
	}
	// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
	// and class 08, connection exceptions.
	return pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || strings.HasPrefix(pgErr.Code, "08")
}

// answerMargin is how much longer than StatementTimeout a connection waits
// for the database's next bytes (deadlineConn): the server ends a
// statement at its timeout and answers; no answer for that long more
// means it, or the network to it, is gone.
const answerMargin = 2 * time.Second

// deadlineConn is a connection to the database that waits at most wait
// for each read of the database's answer, whatever deadline pgx set
// (which it uses to interrupt a read when a statement's context ends) is
// kept if sooner. A database cut off without a word (a network partition,
// a host frozen) then fails the statement after wait, instead of holding
// the request until the operating system gives up on the TCP connection,
// many minutes later. A statement is bounded by StatementTimeout on the
// server, so a healthy one answers before wait; a long result read row by
// row is not cut, each read waiting afresh. Migrations and the activation
// lock, which run without statement timeout, turn it off.
type deadlineConn struct {
	net.Conn
	wait time.Duration

	mu  sync.Mutex
	set time.Time // the read deadline pgx set (zero: none)
	off bool
}

// The deadlines are set on the connection under mu: pgx sets one (from
// the goroutine that watches a statement's context) while a Read waits,
// to interrupt it; set between Read's reading of c.set and its own
// SetReadDeadline, it would be overwritten by Read's later one, and the
// statement would wait for wait instead of ending with its context.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = t
	return c.Conn.SetDeadline(t)
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set = t
	return c.Conn.SetReadDeadline(t)
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	d := c.set
	if !c.off {
		if w := time.Now().Add(c.wait); d.IsZero() || w.Before(d) {
			d = w
		}
	}
	err := c.Conn.SetReadDeadline(d)
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

// unbounded turns off the wait of deadlineConn on conn, for statements
// without a timeout, until the returned function turns it on again.
func unbounded(conn *pgx.Conn) (restore func()) {
	c, ok := conn.PgConn().Conn().(*deadlineConn)
	if !ok {
		return func() {}
	}
	c.mu.Lock()
	c.off = true
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.off = false
		c.mu.Unlock()
	}
}

// boundedDial returns dial whose connections are deadlineConns waiting
// wait.
func boundedDial(dial pgconn.DialFunc, wait time.Duration) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: c, wait: wait}, nil
	}
}

// unreachableError is the error of a statement that could not reach the
// database: its message is the cause's, and profiles.ErrStoreUnreachable,
// in its chain, tells the caller.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string   { return e.err.Error() }
func (e *unreachableError) Unwrap() []error { return []error{profiles.ErrStoreUnreachable, e.err} }

// isUnreachable reports whether err is the failure to reach the database:
// a connection that could not be opened, was lost or closed, or got no
// answer in time (deadlineConn), or the server's word that it shuts the
// session down. Not a statement the server refused, nor a context's end.
func isUnreachable(err error) bool {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr): // connect_timeout's end too
		return true
	case errors.As(err, &pgErr):
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || strings.HasPrefix(pgErr.Code, "08")
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || pgconn.Timeout(err) ||
		err.Error() == "conn closed" || strings.HasSuffix(err.Error(), ": conn closed")
}

// idleConnLost reports whether conn, about to be handed out by a pool,
// was closed by the database while it sat idle (closedByPeer): the pool
// then drops it and hands out another, or a new one, instead of a request
// failing on it (a database restarted while the node was idle).
func idleConnLost(conn *pgx.Conn) bool {
	nc := conn.PgConn().Conn()
	if t, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS
		nc = t.NetConn()
	}
	if d, ok := nc.(*deadlineConn); ok {
		nc = d.Conn
	}
	return closedByPeer(nc)
}
