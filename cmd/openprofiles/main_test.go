package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

const (
	testKeyID  = "AKOPTESTKEY000000001"
	testSecret = "test-secret-key-0123456789abcdefghijklmn"
	testRegion = "us-east-1"
)

// MustRunMain starts the real server on 127.0.0.1:0 with a temp data dir
// and the test credentials, and closes it when the test ends.
func MustRunMain(tb testing.TB, edit ...func(*main.Config)) *main.Main {
	tb.Helper()
	c := main.DefaultConfig()
	c.Addr = "127.0.0.1:0"
	c.DataDir = tb.TempDir()
	c.AccessKeyID, c.SecretAccessKey = testKeyID, testSecret
	for _, e := range edit {
		e(&c)
	}
	return MustOpenMain(tb, c)
}

// MustOpenMain starts the real server with config c, on the test's store
// (see testStore) when c names none.
func MustOpenMain(tb testing.TB, c main.Config) *main.Main {
	tb.Helper()
	m := &main.Main{Config: withTestStore(tb, c), Logger: testLogger(tb)}
	if err := m.Open(); err != nil {
		tb.Fatalf("open main: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// testLogger is a server's logger that writes to the test's log, shown
// when the test fails (or with -v): warnings and errors, or from the level
// OPENPROFILES_TEST_LOG names (debug, info). Lines logged once the test
// has ended, by goroutines the server's Close did not wait for, are
// dropped.
func testLogger(tb testing.TB) *slog.Logger {
	var level slog.Level = slog.LevelWarn
	if s := os.Getenv("OPENPROFILES_TEST_LOG"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			tb.Fatalf("OPENPROFILES_TEST_LOG: %v", err)
		}
	}
	w := &testLogWriter{tb: tb}
	tb.Cleanup(func() { // after the server's Close (cleanups run last first)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.ended = true
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testLogWriter struct {
	tb    testing.TB
	mu    sync.Mutex
	ended bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ended {
		w.tb.Log("server: " + strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// newClient returns the real SDK client for m, signing with the given key.
// Its idle connections are closed when the test ends, before the server
// shuts down (a server waits up to 5 s for connections that never sent a
// request).
func newClient(tb testing.TB, m *main.Main, keyID, secret, region string) *customerprofiles.Client {
	tb.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(transport.CloseIdleConnections)
	return customerprofiles.New(customerprofiles.Options{
		BaseEndpoint:     aws.String(m.URL()),
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(&http.Client{Transport: transport}),
	})
}

// MustClient returns a client signing as the test's root key.
func MustClient(tb testing.TB, m *main.Main) *customerprofiles.Client {
	tb.Helper()
	return newClient(tb, m, testKeyID, testSecret, testRegion)
}

// signedRequest builds a request to m signed like an SDK would sign it, for
// the cases the SDK cannot send (bad bodies, missing members, odd routes).
type signOpts struct {
	service string
	region  string
	secret  string
	keyID   string
	at      time.Time
}

func mustSignedRequest(tb testing.TB, m *main.Main, method, path string, body []byte, o signOpts) *http.Request {
	tb.Helper()
	return mustSignedRequestTo(tb, m.URL(), method, path, body, o)
}

func mustSignedRequestTo(tb testing.TB, base, method, path string, body []byte, o signOpts) *http.Request {
	tb.Helper()
	if o.service == "" {
		o.service = "profile"
	}
	if o.region == "" {
		o.region = testRegion
	}
	if o.secret == "" {
		o.secret = testSecret
	}
	if o.keyID == "" {
		o.keyID = testKeyID
	}
	if o.at.IsZero() {
		o.at = time.Now()
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: o.keyID, SecretAccessKey: o.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), o.service, o.region, o.at); err != nil {
		tb.Fatal(err)
	}
	return req
}

// wireResponse is a response as it came off the wire.
type wireResponse struct {
	Status    int
	ErrorType string // X-Amzn-ErrorType
	Type      string // __type
	Message   string
	RequestID string
	Body      []byte
}

func mustDo(tb testing.TB, req *http.Request) wireResponse {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var e struct {
		Type    string `json:"__type"`
		Message string
	}
	json.Unmarshal(body, &e)
	return wireResponse{
		Status:    resp.StatusCode,
		ErrorType: resp.Header.Get("X-Amzn-ErrorType"),
		Type:      e.Type,
		Message:   e.Message,
		RequestID: resp.Header.Get("X-Amzn-Requestid"),
		Body:      body,
	}
}

// checkError checks that r is the given AWS exception and that its message
// mentions each of the words.
func checkError(tb testing.TB, r wireResponse, status int, exception string, words ...string) {
	tb.Helper()
	if r.Status != status || r.ErrorType != exception || r.Type != exception {
		tb.Fatalf("got status %d, X-Amzn-ErrorType %q, __type %q (%s); want %d %s", r.Status, r.ErrorType, r.Type, r.Body, status, exception)
	}
	for _, w := range words {
		if !strings.Contains(r.Message, w) {
			tb.Errorf("message %q does not mention %q", r.Message, w)
		}
	}
	if r.RequestID == "" {
		tb.Errorf("no x-amzn-RequestId on the response")
	}
}

func staticCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
}
