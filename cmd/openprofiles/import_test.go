package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestImport_FileShapes runs `openprofiles import` on files it must
// refuse whole, before it sends anything (a directory; a JSON array with
// more after it, which was left out without a word), and on one that
// starts with a UTF-8 byte order mark, which is skipped.
func TestImport_FileShapes(t *testing.T) {
	e := newDomainEnv(t, "imports")
	e.putType(contactType("contact"))
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"Directory", t.TempDir(), []string{"is a directory"}},
		{"MoreAfterTheArray", write("mixed.json", `[{"id":"a1","email":"a1@example.com"}]`+"\n"+`{"id":"a2","email":"a2@example.com"}`+"\n"),
			[]string{"more after its JSON array", "JSON Lines"}},
		{"SecondArray", write("two.json", `[{"id":"a3","email":"a3@example.com"}] [{"id":"a4","email":"a4@example.com"}]`),
			[]string{"more after its JSON array"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, e.m, "import", "--domain", e.domain, "--object-type", "contact", "--quiet", tc.path)
			if err == nil {
				t.Fatalf("import of %s succeeded: %s", tc.name, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	for _, id := range []string{"a1", "a2", "a3", "a4"} {
		if ps := e.search("contactId", id); len(ps) != 0 {
			t.Errorf("a refused file's object %s was imported", id)
		}
	}

	path := write("bom.jsonl", "\xef\xbb\xbf"+`{"id":"b1","email":"b1@example.com","name":{"first":"Bea"}}`+"\n")
	out, err := runCLI(t, e.m, "import", "--domain", e.domain, "--object-type", "contact", "--quiet", path)
	if err != nil || !strings.Contains(out, `"Ingested": 1`) || !strings.Contains(out, `"Failed": 0`) {
		t.Fatalf("import of a file with a byte order mark: %v\n%s", err, out)
	}
	if got := e.mustOne("contactId", "b1").FirstName; got == nil || *got != "Bea" {
		t.Errorf("FirstName %v, want Bea", got)
	}
}

// TestImport_StoppedMidway imports 1,200 objects (three requests of 500,
// 500 and 200) through a proxy that passes the first request to the real
// server and then fails as a server going down does. The command exits
// with an error that says how far it went: the first 500 objects are in,
// the next batch may be, the last 200 were not sent, and from which object
// to send the file again, with the command that does: run once the server
// is back, it sends objects 501 to 1200 and no other. A --from beyond the
// file is refused naming the flag and the file's size.
func TestImport_StoppedMidway(t *testing.T) {
	e := newDomainEnv(t, "midway")
	e.putType(contactType("contact"))
	target, err := url.Parse(e.m.URL())
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	var requests atomic.Int32
	var back atomic.Bool // the server is back: every request passes
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 || back.Load() {
			forward.ServeHTTP(w, r)
			return
		}
		// The server is gone: the connection closes with no answer.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	defer proxy.Close()

	var file bytes.Buffer
	for i := range 1200 {
		fmt.Fprintf(&file, `{"id":"m%d","email":"m%d@example.com"}`+"\n", i+1, i+1)
	}
	path := filepath.Join(t.TempDir(), "objects.jsonl")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	setAWSEnv(t)
	var stdout, stderr bytes.Buffer
	err = main.Run(t.Context(), []string{"import", "--endpoint", proxy.URL, "--domain", e.domain, "--object-type", "contact", "--quiet", path},
		nil, &stdout, &stderr, os.Getenv)
	if err == nil {
		t.Fatalf("import through a server that went down succeeded: %s", stdout.String())
	}
	for _, w := range []string{
		"stopped at object 501 of 1200",
		"objects 1 to 500 were sent (500 ingested, 0 failed",
		"objects 501 to 1000 may have been ingested or not, and the 200 after them were not sent",
		"Send the file again from object 501",
		"\nopenprofiles import --from 501 --endpoint " + proxy.URL + " --domain " + e.domain + " --object-type contact --quiet " + path,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("%d import requests reached the proxy, want 2 (none after the failure)", got)
	}
	e.mustOne("contactId", "m500")
	if ps := e.search("contactId", "m501"); len(ps) != 0 {
		t.Errorf("object m501, of the batch that failed, was ingested")
	}

	// The server is back: the command the error gives sends the rest.
	_, resume, _ := strings.Cut(err.Error(), "\nopenprofiles ")
	back.Store(true)
	stdout.Reset()
	if err := main.Run(t.Context(), strings.Fields(resume), nil, &stdout, &stderr, os.Getenv); err != nil {
		t.Fatalf("openprofiles %s: %v", resume, err)
	}
	var res struct{ Ingested, Failed int }
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Ingested != 700 || res.Failed != 0 {
		t.Errorf("resumed import printed %s (%v), want 700 ingested, 0 failed: objects 501 to 1200", stdout.String(), err)
	}
	if got := requests.Load(); got != 4 {
		t.Errorf("%d import requests reached the proxy, want 4 (two more: 500 and 200 objects)", got)
	}
	e.mustOne("contactId", "m501")
	e.mustOne("contactId", "m1200")

	for _, tc := range []struct{ from, want string }{
		{"1201", "--from 1201 is not an object of the file: it holds 1200 objects"},
		{"0", "--from 0 is not an object of the file"},
	} {
		err := main.Run(t.Context(), []string{"import", "--endpoint", proxy.URL, "--domain", e.domain, "--object-type", "contact", "--from", tc.from, path},
			nil, io.Discard, io.Discard, os.Getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("import --from %s: err %v, want %q", tc.from, err, tc.want)
		}
	}
	if got := requests.Load(); got != 4 {
		t.Errorf("%d import requests reached the proxy, want 4: a --from beyond the file sends nothing", got)
	}
}
