package postgres

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
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
