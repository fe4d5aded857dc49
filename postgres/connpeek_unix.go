//go:build unix

package postgres

import (
	"errors"
	"net"
	"syscall"
)

// closedByPeer reports whether the idle connection c was closed by the
// database, or has bytes waiting that nobody asked for (the server's
// last words before it closed the session), without reading them or
// waiting: one non-blocking peek at the socket. It peeks through Control,
// not Read: an idle connection of pgx may still have a Read in progress
// (its background reader, started when a write was slow, stops only once
// that Read returns), and Read would wait for it to end, up to the read
// deadline (deadlineConn: the statement timeout and 2 s).
func closedByPeer(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	var buf [1]byte
	if err := rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n > 0 || n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR)
	}); err != nil {
		return true
	}
	return closed
}
