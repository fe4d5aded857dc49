package jsonproto_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openprofiles/profiles/internal/jsonproto"
	"github.com/openprofiles/profiles/sigv4"
)

// testError is the API's own error in these tests.
type testError struct{ code, msg string }

func (e *testError) Error() string { return e.code + ": " + e.msg }

func newAPI() *jsonproto.API {
	verifier := &sigv4.Verifier{Region: "us-east-1", Services: []string{"test", "other"},
		Lookup: func(_ context.Context, id string) (sigv4.Credential, bool, error) {
			return sigv4.Credential{Secret: "secret", Principal: "arn:aws:iam::000000000000:user/" + id}, id == "ada", nil
		}}
	return &jsonproto.API{
		Name: "test", TargetPrefix: "TestService.", SigningService: "test", ContentType: "application/x-amz-json-1.1",
		MaxBodyBytes: 64, Verifier: verifier, NewRequestID: func() string { return "req-1" },
		Ops: map[string]jsonproto.Op{
			"Echo": func(_ context.Context, c *jsonproto.Call) (any, error) {
				return map[string]string{"Principal": c.Principal, "Operation": c.Operation, "Body": string(c.Body)}, nil
			},
			"Fail": func(context.Context, *jsonproto.Call) (any, error) { return nil, errors.New("disk on fire") },
		},
		BadMethod:        func(m string) error { return &testError{"BadMethod", m} },
		TooLarge:         func(max int64) error { return &testError{"TooLarge", fmt.Sprint(max)} },
		Unreadable:       func() error { return &testError{"Unreadable", ""} },
		UnknownOperation: func(name, target string) error { return &testError{"UnknownOperation", name + " " + target} },
		WriteError: func(w http.ResponseWriter, err error) (int, string) {
			var te *testError
			var se *sigv4.Error
			status, code := http.StatusInternalServerError, "Internal"
			switch {
			case errors.As(err, &te):
				status, code = http.StatusBadRequest, te.code
			case errors.As(err, &se):
				status, code = se.Status, se.Code
			}
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"__type": code})
			return status, code
		},
	}
}

func signed(t *testing.T, url, service, target, body string) *http.Request {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	r.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ada", SecretAccessKey: "secret"},
		r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAPI(t *testing.T) {
	srv := httptest.NewServer(newAPI())
	defer srv.Close()
	do := func(r *http.Request) (int, string, http.Header) {
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	status, body, h := do(signed(t, srv.URL, "test", "TestService.Echo", `{"a":1}`))
	if status != 200 || h.Get("Content-Type") != "application/x-amz-json-1.1" || h.Get("x-amzn-RequestId") != "req-1" ||
		!strings.Contains(body, `"Principal":"arn:aws:iam::000000000000:user/ada"`) || !strings.Contains(body, `"Body":"{\"a\":1}"`) {
		t.Errorf("Echo: %d %s %v", status, body, h)
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string
	}{
		{"unknown operation", signed(t, srv.URL, "test", "TestService.Nope", `{}`), "UnknownOperation"},
		{"another prefix", signed(t, srv.URL, "test", "OtherService.Echo", `{}`), "UnknownOperation"},
		{"too large", signed(t, srv.URL, "test", "TestService.Echo", strings.Repeat("x", 65)), "TooLarge"},
		{"signed for another service", signed(t, srv.URL, "other", "TestService.Echo", `{}`), sigv4.InvalidSignature},
		{"service error", signed(t, srv.URL, "test", "TestService.Fail", `{}`), "Internal"},
	} {
		_, body, _ := do(tc.r)
		if !strings.Contains(body, `"`+tc.want+`"`) {
			t.Errorf("%s: %s, want %s", tc.name, body, tc.want)
		}
	}
	get, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, body, _ := do(get); !strings.Contains(body, "BadMethod") {
		t.Errorf("GET: %s", body)
	}
	// An operation named in a header the signature does not cover is
	// refused: it could have been changed in transit.
	swapped, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
	sum := sha256.Sum256([]byte(`{}`))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ada", SecretAccessKey: "secret"},
		swapped, hex.EncodeToString(sum[:]), "test", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	swapped.Header.Set("X-Amz-Target", "TestService.Echo") // after signing
	if status, body, _ := do(swapped); status != http.StatusForbidden || !strings.Contains(body, sigv4.IncompleteSignature) {
		t.Errorf("X-Amz-Target not signed: %d %s; want 403 %s", status, body, sigv4.IncompleteSignature)
	}
	unsigned, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader([]byte(`{}`)))
	unsigned.Header.Set("X-Amz-Target", "TestService.Echo")
	if status, body, _ := do(unsigned); status != http.StatusForbidden && status != http.StatusBadRequest || strings.Contains(body, "Principal") {
		t.Errorf("unsigned: %d %s", status, body)
	}
}
