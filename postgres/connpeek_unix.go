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
// waiting: one non-blocking peek at the socket.
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
	if err := rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n > 0 || n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR)
		return true // never wait
	}); err != nil {
		return true
	}
	return closed
}
