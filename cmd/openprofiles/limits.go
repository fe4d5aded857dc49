package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxHeaderBytes bounds a request's line and headers, as an Application
// Load Balancer does (64 KB in all); larger ones get 431.
const maxHeaderBytes = 64 << 10

// withBodyDeadline gives the body of every request timeout to arrive, from
// the first time its handler reads it: a client that sends headers and
// then trickles the body, or never finishes it, has its connection closed
// instead of holding it, a goroutine and the body read so far for ever.
//
// The deadline starts at the first read, not when the handler starts: a
// handler does its own work before it reads (the access key's look-up, an
// upload job's check, which wait for the store when it is busy), and a
// client that sent "Expect: 100-continue" sends nothing before that first
// read asks for the body. A handler that answers without reading starts
// the deadline when it returns, for the server's own read of what is left.
// The deadline is lifted once the body is read to its end, so that it
// never cuts a handler that runs long (http.Server.ReadTimeout would: its
// deadline stays on the connection and cancels the request's context).
// Requests without a body keep no deadline.
func withBodyDeadline(h http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if timeout <= 0 || r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		// On a copy of the request: the server must still see its own
		// body afterwards, to close at once a connection whose large body
		// was left unread rather than read it.
		body := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: timeout}
		r = r.WithContext(r.Context())
		r.Body = body
		h.ServeHTTP(w, r)
		body.start()
	})
}

// deadlineBody sets the connection's read deadline at its first read and
// lifts it when the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	started bool
	done    bool
}

func (b *deadlineBody) start() {
	if !b.started {
		b.started = true
		b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	b.start()
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// writeChunk is how much of a response goes to a connection under one
// write deadline.
const writeChunk = 32 << 10

// serverListener is the API's listener. It accepts at most max
// connections open at once (0: no cap) and counts them: further clients
// wait in the kernel's accept queue until one closes. And it gives each
// write to a connection writeTimeout (0: none) to go through: every write
// of up to writeChunk bytes sets the connection's write deadline that far
// ahead, so that a client that stops reading has its connection closed
// once its buffers are full and writeTimeout has passed, instead of
// holding it, a goroutine and the response for ever, while a long
// response read slowly but steadily is never cut (http.Server's
// WriteTimeout would cut it: it bounds the whole response from the
// request's arrival). The deadline is the connection's, so it covers what
// the server writes outside handlers too (100 Continue, 400, 431, the
// flush after a handler returns) and under TLS.
type serverListener struct {
	net.Listener
	writeTimeout time.Duration
	slots        chan struct{} // nil: no cap
	open         atomic.Int64
	closed       chan struct{}
	closeOnce    sync.Once
}

func newServerListener(ln net.Listener, max int, writeTimeout time.Duration) *serverListener {
	l := &serverListener{Listener: ln, writeTimeout: writeTimeout, closed: make(chan struct{})}
	if max > 0 {
		l.slots = make(chan struct{}, max)
	}
	return l
}

// Open returns the number of connections open.
func (l *serverListener) Open() int64 { return l.open.Load() }

func (l *serverListener) Accept() (net.Conn, error) {
	if l.slots != nil {
		select {
		case l.slots <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		if l.slots != nil {
			<-l.slots
		}
		return nil, err
	}
	l.open.Add(1)
	return &serverConn{Conn: c, l: l}, nil
}

func (l *serverListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// serverConn moves its write deadline ahead as bytes flow, and gives its
// slot back when closed (once).
type serverConn struct {
	net.Conn
	l    *serverListener
	once sync.Once
}

func (c *serverConn) Write(p []byte) (int, error) {
	if c.l.writeTimeout <= 0 {
		return c.Conn.Write(p)
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		c.Conn.SetWriteDeadline(time.Now().Add(c.l.writeTimeout))
		n, err := c.Conn.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// CloseWrite half-closes a TCP connection, which http.Server does before
// it closes one whose request body it left unread, so that the client
// reads the answer rather than a reset.
func (c *serverConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *serverConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.open.Add(-1)
		if c.l.slots != nil {
			<-c.l.slots
		}
	})
	return err
}
