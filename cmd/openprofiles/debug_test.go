package main_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestDebugAddr: --debug-addr serves Go's profiler on a listener of its
// own; the API's address never serves it, and without the flag there is
// none.
func TestDebugAddr(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.DebugAddr = "127.0.0.1:0" })
	if m.DebugAddr() == "" || m.DebugAddr() == m.Addr() {
		t.Fatalf("debug address %q (API %q): want a listener of its own", m.DebugAddr(), m.Addr())
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + m.DebugAddr() + "/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("profiler: %d %.200q", code, body)
	}
	if code, body := get(m.URL() + "/debug/pprof/"); code == 200 {
		t.Fatalf("the API's address serves the profiler: %.200q", body)
	}
	if plain := MustRunMain(t); plain.DebugAddr() != "" {
		t.Fatalf("a server without --debug-addr has a profiler on %s", plain.DebugAddr())
	}
}
