package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The body deadline runs from the handler's first read, not from its
// start: a handler that works before it reads (the API looks up the
// access key, an upload checks its job, both in the store, which may be
// busy) does not spend the client's time, and a client that sent
// "Expect: 100-continue" sends its body only once that read asks for it.
// A body that then arrives at once is read whole, on a real server on
// loopback.
func TestBodyDeadline_FromFirstRead(t *testing.T) {
	const timeout = 500 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-time.After(3 * timeout) // the handler's own work, before the body
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: withBodyDeadline(h, timeout)}
	go srv.Serve(ln)
	defer srv.Close()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("%q, %v: want 100 Continue", line, err)
	}
	br.ReadString('\n') // the blank line after it
	io.WriteString(conn, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != "hello" {
		t.Fatalf("status %d, body %q; want 200 and the body read whole", resp.StatusCode, got)
	}
}
