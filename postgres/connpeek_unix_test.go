//go:build unix

package postgres

import (
	"net"
	"testing"
	"time"
)

// loopbackPair returns both ends of a TCP connection on loopback.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// peekWithin runs closedByPeer(c) and fails the test if it has not
// returned after 10 s (it must never wait).
func peekWithin(t *testing.T, c net.Conn) bool {
	t.Helper()
	done := make(chan bool, 1)
	go func() { done <- closedByPeer(c) }()
	select {
	case closed := <-done:
		return closed
	case <-time.After(10 * time.Second):
		t.Fatal("closedByPeer waited")
		return false
	}
}

// eventuallyClosed reports whether closedByPeer(c) turns true within 10 s
// (what the peer did takes a moment to reach the socket).
func eventuallyClosed(t *testing.T, c net.Conn) bool {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if peekWithin(t, c) {
			return true
		}
	}
	return false
}

// TestClosedByPeer tells an open idle connection from one the peer closed
// or wrote to, without consuming what it peeked at.
func TestClosedByPeer(t *testing.T) {
	c, s := loopbackPair(t)
	if peekWithin(t, c) {
		t.Fatal("an open idle connection reads as closed")
	}
	if _, err := s.Write([]byte("E")); err != nil {
		t.Fatal(err)
	}
	if !eventuallyClosed(t, c) {
		t.Fatal("a connection with unasked-for bytes reads as open")
	}
	var b [1]byte
	if n, err := c.Read(b[:]); n != 1 || b[0] != 'E' {
		t.Fatalf("after the peek, Read got %d %q %v: the peek consumed the byte", n, b[:n], err)
	}

	c2, s2 := loopbackPair(t)
	s2.Close()
	if !eventuallyClosed(t, c2) {
		t.Fatal("a connection the peer closed reads as open")
	}
}

// TestClosedByPeer_ReadInProgress: pgx's background reader may still be in
// a Read of an idle connection (it stops only when that Read returns). The
// peek must not wait for that Read (it waited for its deadline, the
// statement timeout and 2 s: requests stalled 32 s now and then).
func TestClosedByPeer_ReadInProgress(t *testing.T) {
	c, s := loopbackPair(t)
	read := make(chan error, 1)
	go func() {
		var b [8]byte
		_, err := c.Read(b[:])
		read <- err
	}()
	time.Sleep(50 * time.Millisecond) // the Read is waiting
	if peekWithin(t, c) {
		t.Fatal("an open connection with a Read in progress reads as closed")
	}
	s.Close()
	if err := <-read; err == nil {
		t.Fatal("the Read in progress got no error when the peer closed")
	}
}
