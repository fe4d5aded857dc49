package main

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// maxHeaderBytes bounds a request's line and headers, as an Application
// Load Balancer does (64 KB in all); larger ones get 431.
const maxHeaderBytes = 64 << 10

// withBodyDeadline gives the body of every request timeout to arrive, from
// the time its handler starts: a client that sends headers and then
// trickles the body, or never finishes it, has its connection closed
// instead of holding it, a goroutine and the body read so far for ever.
// The deadline is lifted once the body is read to its end, so that it
// never cuts a handler that runs long (http.Server.ReadTimeout would: its
// deadline stays on the connection and cancels the request's context).
// Requests without a body keep no deadline.
func withBodyDeadline(h http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if timeout > 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(timeout)) == nil {
				// On a copy of the request: the server must still see its
				// own body afterwards, to close at once a connection whose
				// large body was left unread rather than read it.
				r = r.WithContext(r.Context())
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline when the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
