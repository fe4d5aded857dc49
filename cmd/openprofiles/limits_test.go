package main_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// waitClosed reads what the server sends on conn until it closes the
// connection, and fails when it is still open after bound.
func waitClosed(t *testing.T, conn net.Conn, bound time.Duration) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(bound))
	got, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server kept the connection open for %v (read so far: %q)", bound, got)
	}
	return string(got)
}

// A client that sends a request's headers and never finishes its body has
// its connection closed once BodyTimeout has passed, on the API, the
// import endpoint and the built-in JSON protocols alike.
func TestSlowBody_ConnectionClosed(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.BodyTimeout = time.Second })
	for _, path := range []string{"/domains/d/profiles/objects", "/openprofiles/import/domains/d/object-types/t", "/"} {
		conn, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 1000\r\n\r\n0123456789", path, m.Addr())
		got := waitClosed(t, conn, m.Config.BodyTimeout+20*time.Second)
		if !strings.HasPrefix(got, "HTTP/1.1 4") {
			t.Errorf("%s: answer %q, want a 4xx before the connection closes", path, got)
		}
	}
}

// A keep-alive connection left idle after its request is closed once
// IdleTimeout has passed.
func TestIdleConnection_Closed(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.IdleTimeout = time.Second })
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", m.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("healthz: %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	waitClosed(t, conn, m.Config.IdleTimeout+20*time.Second)
}

// Request headers larger than 64 KB are refused with 431 before any
// handler runs.
func TestHugeHeaders_Refused(t *testing.T) {
	m := MustRunMain(t)
	req, _ := http.NewRequest(http.MethodGet, "http://"+m.Addr()+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 100<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

// An unsigned request is refused as soon as its headers arrive, on every
// endpoint that reads a body: the server does not wait for (and hold) a
// body of up to 64 MB it would then refuse.
func TestUnsignedBody_RefusedBeforeRead(t *testing.T) {
	m := MustRunMain(t)
	for _, tc := range []struct{ path, target string }{
		{"/domains/d/profiles/objects", ""},
		{"/openprofiles/import/domains/d/object-types/t", ""},
		{"/connect/instances/i/contact-records", ""},
		{"/", "TrentService.ListKeys"},
		{"/", "AWSIdentityManagementV20100508.ListUsers"},
		{"/", "AmazonSQS.ListQueues"},
	} {
		conn, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKOPNOSUCHKEY0000000/20260101/us-east-1/profile/aws4_request, SignedHeaders=host, Signature=00\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: %d\r\n\r\n",
			tc.path, m.Addr(), tc.target, 60<<20)
		// The body never comes: the answer must not wait for it.
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s %s: no answer before the body: %v", tc.path, tc.target, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %s: status %d, want 403 (or 400)", tc.path, tc.target, resp.StatusCode)
		}
	}
}

// connectionsOpen reads the server's openprofiles_http_connections_open
// gauge, on a connection of its own (counted) that it closes.
func connectionsOpen(t *testing.T, m *main.Main) int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "openprofiles_http_connections_open "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("gauge %q", line)
			}
			return n
		}
	}
	t.Fatal("no openprofiles_http_connections_open in /metrics")
	return 0
}

// A client that sends requests and never reads the answers has its
// connection closed once WriteTimeout has passed with its buffers full:
// the server's write, its goroutine and the responses are not held for
// ever.
func TestWriteTimeout_ReaderThatNeverReads(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.WriteTimeout = time.Second })
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Pipelined requests whose answers (some 20 KB each) fill both ends'
	// socket buffers many times over; the requests themselves are small.
	req := fmt.Sprintf("GET /metrics HTTP/1.1\r\nHost: %s\r\n\r\n", m.Addr())
	if _, err := io.WriteString(conn, strings.Repeat(req, 3000)); err != nil {
		t.Fatal(err)
	}
	// The test's own scrape is the only connection left once the server
	// gave up on the one that does not read.
	deadline := time.Now().Add(30 * time.Second)
	for connectionsOpen(t, m) > 1 {
		if time.Now().After(deadline) {
			t.Fatal("the connection that never reads is still open after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A response that takes longer than WriteTimeout in all, read steadily,
// is not cut: the deadline bounds each write's progress, not the whole.
func TestWriteTimeout_SteadyReaderNotCut(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.WriteTimeout = 2 * time.Second })
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 600
	req := fmt.Sprintf("GET /metrics HTTP/1.1\r\nHost: %s\r\n\r\n", m.Addr())
	if _, err := io.WriteString(conn, strings.Repeat(req, n)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	br := bufio.NewReader(conn)
	for i := range n {
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d of %d after %v: %v", i+1, n, time.Since(start), err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i%20 == 19 {
			time.Sleep(100 * time.Millisecond) // a slow reader, never idle for WriteTimeout
		}
	}
	if time.Since(start) < m.Config.WriteTimeout {
		t.Logf("read in %v, less than WriteTimeout: the test proved little", time.Since(start))
	}
}

// At most MaxConnections are open at once: a further client waits until
// one of them closes, and is then served.
func TestMaxConnections_FurtherClientsWait(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.MaxConnections = 2 })
	healthz := func(conn net.Conn, bound time.Duration) error {
		conn.SetReadDeadline(time.Now().Add(bound))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	var conns []net.Conn
	for i := range 3 {
		conn, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", m.Addr())
		conns = append(conns, conn)
		if i < 2 {
			if err := healthz(conn, 20*time.Second); err != nil {
				t.Fatalf("connection %d: %v", i+1, err)
			}
		}
	}
	if err := healthz(conns[2], time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("third connection while two are open: %v, want no answer yet", err)
	}
	conns[0].Close()
	if err := healthz(conns[2], 20*time.Second); err != nil {
		t.Fatalf("third connection once the first closed: %v, want its answer", err)
	}
}
