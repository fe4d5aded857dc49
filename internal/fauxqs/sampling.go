package fauxqs

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// Sampling is what the proxy of StartSampling did: the ReceiveMessage
// calls it saw with no WaitTimeSeconds (short polls), those it answered
// with no message, and those with a WaitTimeSeconds (long polls).
type Sampling struct {
	// Direct is the endpoint of the fauxqs behind the proxy, for
	// clients that must see the whole queue at every receive.
	Direct string

	mu                             sync.Mutex
	shortPolls, emptied, longPolls int
}

// Counts returns the short polls, the short polls answered empty and the
// long polls so far.
func (s *Sampling) Counts() (shortPolls, emptied, longPolls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shortPolls, s.emptied, s.longPolls
}

// StartSampling starts fauxqs (Start) behind a proxy that answers short
// polls as Amazon SQS may: SQS answers a ReceiveMessage without a
// WaitTimeSeconds from a sample of its servers, so it may return no
// message while the queue holds some; fauxqs, one process, answers every
// receive from the whole queue. The proxy answers every other short poll
// (the first, the third, …) with no message without passing it on, and
// passes every other request to fauxqs as it is. It returns the proxy's
// endpoint, which serves SQS as Start's does, and its counts (with the
// endpoint of fauxqs itself).
func StartSampling(tb testing.TB) (string, *Sampling) {
	tb.Helper()
	direct := Start(tb)
	target, err := url.Parse(direct)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Sampling{Direct: direct}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var in struct{ WaitTimeSeconds int }
			json.Unmarshal(body, &in)
			s.mu.Lock()
			empty := false
			if in.WaitTimeSeconds == 0 {
				s.shortPolls++
				if empty = s.shortPolls%2 == 1; empty {
					s.emptied++
				}
			} else {
				s.longPolls++
			}
			s.mu.Unlock()
			if empty {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.Write([]byte(`{}`))
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, s
}
