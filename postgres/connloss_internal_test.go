package postgres

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/openprofiles/profiles"
)

// pausingConn is a net.Conn whose next SetReadDeadline, once armed, says
// so on entered and waits for proceed before it sets the deadline: the
// moment between deadlineConn.Read's choice of deadline and its setting.
type pausingConn struct {
	net.Conn
	entered chan struct{}
	proceed chan struct{}
	isArmed bool
	armedMu sync.Mutex
}

func (c *pausingConn) SetReadDeadline(t time.Time) error {
	c.armedMu.Lock()
	armed := c.isArmed
	c.isArmed = false
	c.armedMu.Unlock()
	if armed {
		close(c.entered)
		<-c.proceed
	}
	return c.Conn.SetReadDeadline(t)
}

// TestDeadlineConn_InterruptDuringRead: pgx interrupts a read when a
// statement's context ends by setting a deadline in the past from another
// goroutine. Set while deadlineConn.Read is setting its own (later)
// deadline, it must still win: the read ends at once, not after wait (the
// statement timeout and a margin, 30s and more by default).
func TestDeadlineConn_InterruptDuringRead(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(30 * time.Second) // never answers
		}
	}()
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	pc := &pausingConn{Conn: raw, entered: make(chan struct{}), proceed: make(chan struct{}), isArmed: true}
	dc := &deadlineConn{Conn: pc, wait: 20 * time.Second}

	readErr := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := dc.Read(make([]byte, 1))
		readErr <- err
	}()
	<-pc.entered // Read chose its deadline (now + wait) and is setting it
	interrupted := make(chan error, 1)
	go func() { interrupted <- dc.SetDeadline(time.Now().Add(-time.Second)) }()
	time.Sleep(100 * time.Millisecond) // the interruption has come, or waits for Read's setting
	close(pc.proceed)
	if err := <-interrupted; err != nil {
		t.Fatalf("SetDeadline: %v", err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read: %v, want a deadline exceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Read ended after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still waits 5s after its deadline was set in the past: the interruption was overwritten by Read's own deadline")
	}
}

// silencingProxy forwards TCP connections to PostgreSQL; silence makes the
// connections open at the time go silent (what either side sends is
// dropped, nothing is closed: a network cut the client cannot see), while
// new connections flow.
type silencingProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	gen    int // connections of an earlier generation are silent
}

func mustSilencingProxy(t *testing.T, dsn string) (*silencingProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silencingProxy{ln: ln, target: u.Host}
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		defer connsMu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, c, up)
			connsMu.Unlock()
			p.mu.Lock()
			gen := p.gen
			p.mu.Unlock()
			go p.pipe(c, up, gen)
			go p.pipe(up, c, gen)
		}
	}()
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *silencingProxy) pipe(dst, src net.Conn, gen int) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		silent := p.gen != gen
		p.mu.Unlock()
		if n > 0 && !silent {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *silencingProxy) silence() {
	p.mu.Lock()
	p.gen++
	p.mu.Unlock()
}

// TestView_BeginLostWithOneConnection: a View whose BEGIN finds its
// connection lost begins again on another; the lost one must go back to
// the pool first, or, with every connection of the view pool in use (here
// MaxConns 1; after an outage, as many Views as connections), the second
// Acquire waits for itself until the request's context ends.
func TestView_BeginLostWithOneConnection(t *testing.T) {
	proxy, dsn := mustSilencingProxy(t, MustSchema(t))
	db := NewDB(dsn)
	db.MaxConns = 1
	db.StatementTimeout = time.Second // a silent connection fails a read after 3s
	if err := db.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	ctx := t.Context()
	if err := db.View(ctx, func(profiles.Tx) error { return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
	proxy.silence() // the view pool's idle connection: its BEGIN gets no answer
	// The lost connection's slot is free once pgx has closed it (a
	// cancel request, then a wait for the server's last bytes, each
	// bounded by deadlineConn): some seconds.
	vctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	start := time.Now()
	ran := false
	err := db.View(vctx, func(profiles.Tx) error { ran = true; return nil })
	if err != nil || !ran {
		t.Fatalf("View after its connection went silent: ran %v, err %v (after %v), want it run on a new connection", ran, err, time.Since(start).Round(time.Millisecond))
	}
	t.Logf("View took %v", time.Since(start).Round(time.Millisecond))
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// TestStatementTimeout_KeepsPools: a statement that ends at the statement
// timeout (57014) or by an error of its own leaves its connection alive:
// it is not a lost connection, and must not reset the pools (every other
// connection of the node closed and opened again) nor count as the
// database being unreachable.
func TestStatementTimeout_KeepsPools(t *testing.T) {
	var log lockedBuffer
	db := mustOpen(t, func(db *DB) {
		db.StatementTimeout = 200 * time.Millisecond
		db.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	ctx := t.Context()
	if _, err := db.pool.Exec(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	opened := db.pool.Stat().NewConnsCount()
	_, err := db.pool.Exec(ctx, `SELECT pg_sleep(2)`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("pg_sleep past the statement timeout: %v, want 57014", err)
	}
	if isUnreachable(err) || errors.Is(wrap("test", err), profiles.ErrStoreUnreachable) {
		t.Errorf("a statement timeout counts as the database unreachable: %v", err)
	}
	if _, err := db.pool.Exec(ctx, `SELECT 1/0`); err == nil {
		t.Fatal("SELECT 1/0: no error")
	}
	if _, err := db.pool.Exec(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if n := db.pool.Stat().NewConnsCount(); n != opened {
		t.Errorf("the pool opened %d connections after a statement timeout and an error, want none", n-opened)
	}
	if strings.Contains(log.String(), "was lost") {
		t.Errorf("the log: %s; want no lost connection", log.String())
	}
}
