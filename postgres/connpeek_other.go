//go:build !unix

package postgres

import "net"

// closedByPeer cannot tell without reading on this system: the first
// statement on a closed connection finds it (connloss.go).
func closedByPeer(net.Conn) bool { return false }
