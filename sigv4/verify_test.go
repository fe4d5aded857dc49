package sigv4_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles/sigv4"
)

func TestVerify_Accepts(t *testing.T) {
	tests := []struct {
		name     string
		spec     signSpec
		services []string
		after    func(r *http.Request) // change the received request in ways that keep it valid
	}{
		{name: "GET list with query",
			spec: signSpec{target: "/domains?next-token=abc%2Fdef%3D%3D&max-results=10"}},
		{name: "DELETE with repeated tagKeys",
			spec: signSpec{method: http.MethodDelete, target: "/tags/" + encodedARN + "?tagKeys=b%20c&tagKeys=a&tagKeys=%C3%A9t%C3%A9"}},
		{name: "POST with JSON body",
			spec: signSpec{method: http.MethodPost, target: "/domains/mydomain",
				body:   `{"DefaultExpirationDays":366,"Tags":{"team":"a b"}}`,
				header: http.Header{"Content-Type": {"application/json"}}}},
		{name: "GET path with encoded ARN label",
			spec: signSpec{target: "/tags/" + encodedARN}},
		{name: "PUT with empty body",
			spec: signSpec{method: http.MethodPut, target: "/domains/mydomain/object-types/CTR"}},
		{name: "X-Amz-Content-Sha256 header signed",
			spec: signSpec{method: http.MethodPost, target: "/domains/mydomain/profiles", body: `{"FirstName":"Ana"}`, sha256Header: true}},
		{name: "UNSIGNED-PAYLOAD over TLS",
			spec: signSpec{method: http.MethodPost, target: "/domains/mydomain/profiles", body: `{"FirstName":"Ana"}`,
				payloadHash: "UNSIGNED-PAYLOAD", sha256Header: true},
			after: func(r *http.Request) { r.TLS = &tls.ConnectionState{} }},
		{name: "session token signed",
			spec: signSpec{token: "FQoGZXIvYXdzEXAMPLETOKEN"}},
		{name: "second service of the verifier",
			spec:     signSpec{method: http.MethodPost, target: "/", body: `{"KeyId":"alias/x"}`, service: "kms"},
			services: []string{"profile", "kms"}},
		{name: "repeated header and excess spaces",
			spec: signSpec{header: http.Header{"X-Amz-Meta-A": {"one  two", " three"}, "X-Custom": {"a   b   c"}}}},
		{name: "query re-ordered and re-encoded in transit",
			spec: signSpec{target: "/domains?max-results=10&next-token=a%20b%2Bc",
				beforeWire: func(r *http.Request) { r.URL.RawQuery = "next-token=a+b%2bc&max-results=10" }}},
		{name: "empty query pair",
			spec: signSpec{target: "/domains?max-results=10",
				beforeWire: func(r *http.Request) { r.URL.RawQuery = "max-results=10&" }}},
		{name: "path with empty segment signed as sent (aws-sdk-go-v2)",
			spec: signSpec{target: "/domains//mydomain"}},
		{name: "path with dot segments signed normalised (botocore)",
			spec: signSpec{target: "/domains/mydomain",
				beforeWire: func(r *http.Request) { r.URL.Path = "/domains/x/../mydomain/." }}},
		{name: "Content-Length only in r.ContentLength",
			spec:  signSpec{method: http.MethodPost, target: "/domains/d", body: `{"a":1}`},
			after: func(r *http.Request) { r.Header.Del("Content-Length") }},
		{name: "chunked body with signed content-length",
			spec:  signSpec{method: http.MethodPost, target: "/domains/d", body: `{"a":1}`},
			after: func(r *http.Request) { r.Header.Del("Content-Length"); r.ContentLength = -1 }},
		{name: "signed 10 minutes ago",
			spec: signSpec{at: testNow.Add(-10 * time.Minute)}},
		{name: "signed 10 minutes ahead",
			spec: signSpec{at: testNow.Add(10 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body, _ := MustSign(t, tt.spec)
			if tt.after != nil {
				tt.after(r)
			}
			id, err := MustVerifier(t, tt.services...).Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: got error %v, want nil", err)
			}
			service := tt.spec.service
			if service == "" {
				service = "profile"
			}
			want := sigv4.Identity{AccessKeyID: testKeyID, Principal: testPrincipal, Service: service}
			if id.AccessKeyID != want.AccessKeyID || id.Principal != want.Principal || id.Service != want.Service || !id.Signed("host") || !id.Signed("X-Amz-Date") {
				t.Errorf("Verify: got identity %+v, want %+v", *id, want)
			}
		})
	}
}

// TestVerify_PayloadHashHeader checks what the Go signer sends for the payload
// hash: nothing unless asked (like botocore for non-S3 services), and a
// signed X-Amz-Content-Sha256 header when the caller sets it.
func TestVerify_PayloadHashHeader(t *testing.T) {
	for _, withHeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "without header", true: "with header"}[withHeader], func(t *testing.T) {
			body := `{"ProfileId":"p1"}`
			r, got, _ := MustSign(t, signSpec{method: http.MethodPost, target: "/domains/d/profiles/objects",
				body: body, sha256Header: withHeader})
			if h := r.Header.Get("X-Amz-Content-Sha256"); (h != "") != withHeader {
				t.Fatalf("X-Amz-Content-Sha256: got %q, want present=%v", h, withHeader)
			}
			if signed := strings.Contains(authParam(r, "SignedHeaders"), "x-amz-content-sha256"); signed != withHeader {
				t.Fatalf("x-amz-content-sha256 signed: got %v, want %v", signed, withHeader)
			}
			if !strings.Contains(authParam(r, "SignedHeaders"), "content-length") {
				t.Fatalf("SignedHeaders: got %q, want content-length signed", authParam(r, "SignedHeaders"))
			}
			if _, err := MustVerifier(t).Verify(r, got); err != nil {
				t.Fatalf("Verify: got error %v, want nil", err)
			}
		})
	}
}

func TestVerify_Rejects(t *testing.T) {
	const (
		mismatch    = "The request signature we calculated does not match the signature you provided."
		shaMismatch = "The provided 'x-amz-content-sha256' header does not match what was computed."
	)
	post := signSpec{method: http.MethodPost, target: "/domains/mydomain?x=1", body: `{"DefaultExpirationDays":366}`,
		header: http.Header{"Content-Type": {"application/json"}}}
	with := func(s signSpec, f func(*signSpec)) signSpec { f(&s); return s }

	tests := []struct {
		name    string
		spec    signSpec
		change  func(r *http.Request, body *[]byte)
		code    string
		status  int
		message string // the message must contain this
	}{
		{name: "no Authorization header", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			code:   sigv4.MissingAuthenticationToken, status: 403, message: "Missing Authentication Token"},
		{name: "presigned query", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				r.Header.Del("Authorization")
				r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
			},
			code: sigv4.IncompleteSignature, status: 403, message: "Presigned requests"},
		{name: "two Authorization headers", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Header.Add("Authorization", r.Header.Get("Authorization")) },
			code:   sigv4.IncompleteSignature, status: 403, message: "only once"},
		{name: "missing Signature", spec: post,
			change: func(r *http.Request, _ *[]byte) { setAuthParam(r, "Signature", "") },
			code:   sigv4.IncompleteSignature, status: 403,
			message: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=" + testKeyID},
		{name: "missing Credential", spec: post,
			change: func(r *http.Request, _ *[]byte) { setAuthParam(r, "Credential", "") },
			code:   sigv4.IncompleteSignature, status: 403, message: "requires 'Credential' parameter"},
		{name: "missing SignedHeaders", spec: post,
			change: func(r *http.Request, _ *[]byte) { setAuthParam(r, "SignedHeaders", "") },
			code:   sigv4.IncompleteSignature, status: 403, message: "requires 'SignedHeaders' parameter"},
		{name: "parameter without value", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature", 1))
			},
			code: sigv4.IncompleteSignature, status: 403, message: "name=value"},
		{name: "other algorithm", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
			},
			code: sigv4.IncompleteSignature, status: 403, message: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"},
		{name: "credential with 4 parts", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				setAuthParam(r, "Credential", testKeyID+"/20240101/us-east-1/profile")
			},
			code: sigv4.IncompleteSignature, status: 403, message: "exactly 5 slash-delimited elements"},
		{name: "host not signed", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				setAuthParam(r, "SignedHeaders", strings.Replace(authParam(r, "SignedHeaders"), "host;", "", 1))
			},
			code: sigv4.IncompleteSignature, status: 403, message: "'Host' or ':authority' must be a 'SignedHeader'"},
		{name: "missing X-Amz-Date", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Date") },
			code:   sigv4.IncompleteSignature, status: 403, message: "either a 'X-Amz-Date' or a 'Date' header"},
		{name: "malformed X-Amz-Date", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "2024-01-01T00:00:00Z") },
			code:   sigv4.IncompleteSignature, status: 403, message: "ISO-8601 'basic format'"},
		{name: "Date header instead of X-Amz-Date, in the future", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				r.Header.Del("X-Amz-Date")
				r.Header.Set("Date", testNow.Add(20*time.Minute).Format(http.TimeFormat))
			},
			code: sigv4.InvalidSignature, status: 403, message: "Signature not yet current: 20240101T002000Z"},
		{name: "malformed Date header", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				r.Header.Del("X-Amz-Date")
				r.Header.Set("Date", "yesterday")
			},
			code: sigv4.IncompleteSignature, status: 403, message: "Date header must be an HTTP date"},
		{name: "unsigned security token", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Security-Token", "tok") },
			code:   sigv4.IncompleteSignature, status: 403, message: "'X-Amz-Security-Token' must be a 'SignedHeader'"},
		{name: "unknown access key", spec: with(post, func(s *signSpec) { s.keyID = "AKIAUNKNOWN" }),
			code: sigv4.UnrecognizedClient, status: 403, message: "The security token included in the request is invalid."},
		{name: "wrong secret", spec: with(post, func(s *signSpec) { s.secret = "not-the-secret" }),
			code: sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "wrong region", spec: with(post, func(s *signSpec) { s.region = "eu-west-3" }),
			code: sigv4.InvalidSignature, status: 403, message: "Credential should be scoped to a valid region."},
		{name: "wrong service", spec: with(post, func(s *signSpec) { s.service = "kms" }),
			code: sigv4.InvalidSignature, status: 403, message: "Credential should be scoped to correct service: 'profile'."},
		{name: "wrong terminator", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				setAuthParam(r, "Credential", testKeyID+"/20240101/us-east-1/profile/aws4_reqest")
			},
			code: sigv4.InvalidSignature, status: 403, message: "valid terminator: 'aws4_request', not 'aws4_reqest'"},
		{name: "scope date is not the request date", spec: post,
			change: func(r *http.Request, _ *[]byte) {
				setAuthParam(r, "Credential", testKeyID+"/20231231/us-east-1/profile/aws4_request")
			},
			code: sigv4.InvalidSignature, status: 403,
			message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20231231' != '20240101', from '20240101T000000Z'."},
		{name: "stale date", spec: with(post, func(s *signSpec) { s.at = testNow.Add(-20 * time.Minute) }),
			code: sigv4.InvalidSignature, status: 403,
			message: "Signature expired: 20231231T234000Z is now earlier than 20231231T234500Z (20240101T000000Z - 15 min.)"},
		{name: "future date", spec: with(post, func(s *signSpec) { s.at = testNow.Add(20 * time.Minute) }),
			code: sigv4.InvalidSignature, status: 403,
			message: "Signature not yet current: 20240101T002000Z is still later than 20240101T001500Z (20240101T000000Z + 15 min.)"},
		{name: "tampered body", spec: post,
			change: func(_ *http.Request, body *[]byte) { *body = []byte(`{"DefaultExpirationDays":999}`) },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "tampered body with X-Amz-Content-Sha256", spec: with(post, func(s *signSpec) { s.sha256Header = true }),
			change: func(_ *http.Request, body *[]byte) { *body = []byte(`{"DefaultExpirationDays":999}`) },
			code:   sigv4.InvalidSignature, status: 400, message: shaMismatch},
		{name: "tampered query", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "x=2" },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "added query parameter", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.URL.RawQuery += "&y=1" },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "tampered path", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.RequestURI = "/domains/otherdomain?x=1" },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "path decoded instead of encoded", spec: with(post, func(s *signSpec) { s.target = "/tags/" + encodedARN }),
			change: func(r *http.Request, _ *[]byte) {
				u, _ := url.PathUnescape(encodedARN)
				r.RequestURI = "/tags/" + u
			},
			code: sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "tampered method", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Method = http.MethodPut },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "tampered signed header", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Header.Set("Content-Type", "text/plain") },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "tampered host", spec: post,
			change: func(r *http.Request, _ *[]byte) { r.Host = "evil.example.test" },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "truncated signature", spec: post,
			change: func(r *http.Request, _ *[]byte) { setAuthParam(r, "Signature", authParam(r, "Signature")[:63]) },
			code:   sigv4.InvalidSignature, status: 403, message: mismatch},
		{name: "unsigned payload over plain HTTP",
			spec: with(post, func(s *signSpec) { s.payloadHash = "UNSIGNED-PAYLOAD"; s.sha256Header = true }),
			code: sigv4.InvalidSignature, status: 400, message: "UNSIGNED-PAYLOAD is only accepted over HTTPS."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body, signature := MustSign(t, tt.spec)
			if tt.change != nil {
				tt.change(r, &body)
			}
			id, err := MustVerifier(t).Verify(r, body)
			var e *sigv4.Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify: got identity %+v, error %v; want *sigv4.Error", id, err)
			}
			if e.Code != tt.code || e.Status != tt.status {
				t.Errorf("Verify: got %s (%d), want %s (%d); message %q", e.Code, e.Status, tt.code, tt.status, e.Message)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("Verify: got message %q, want it to contain %q", e.Message, tt.message)
			}
			for _, secret := range []string{signature, testSecret, "AWS4-HMAC-SHA256\n"} {
				if secret != "" && strings.Contains(e.Error(), secret) {
					t.Errorf("Verify: message %q contains %q", e.Error(), secret)
				}
			}
		})
	}
}

func TestVerify_LookupError(t *testing.T) {
	r, body, _ := MustSign(t, signSpec{keyID: "BROKEN"})
	_, err := MustVerifier(t).Verify(r, body)
	if !errors.Is(err, errLookup) {
		t.Fatalf("Verify: got error %v, want it to wrap %v", err, errLookup)
	}
	var e *sigv4.Error
	if errors.As(err, &e) {
		t.Errorf("Verify: got *sigv4.Error %v, want a plain wrapped error", e)
	}
}

func TestVerify_MaxSkew(t *testing.T) {
	r, body, _ := MustSign(t, signSpec{at: testNow.Add(-3 * time.Minute)})
	v := MustVerifier(t)
	v.MaxSkew = 2 * time.Minute
	_, err := v.Verify(r, body)
	const want = "InvalidSignatureException: Signature expired: 20231231T235700Z is now earlier than 20231231T235800Z (20240101T000000Z - 2 min.)"
	if err == nil || err.Error() != want {
		t.Fatalf("Verify: got error %v, want %q", err, want)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := `{"ProfileId":"` + strings.Repeat("x", 1000) + `"}`
	r, got, _ := MustSign(b, signSpec{method: http.MethodPost, target: "/domains/mydomain/profiles/objects",
		body: body, header: http.Header{"Content-Type": {"application/json"}}})
	v := MustVerifier(b)
	b.SetBytes(int64(len(got)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, got); err != nil {
			b.Fatal(err)
		}
	}
}

// With Hosts set, a request whose Host header is not one of them is
// refused before its signature is checked (a signature made for another
// server, valid in itself, is not replayed here), and one that names a
// listed host in another case verifies.
func TestVerify_Hosts(t *testing.T) {
	r, body, _ := MustSign(t, signSpec{})
	v := MustVerifier(t)
	v.Hosts = []string{"profiles.example.test", strings.ToUpper(testHost)}
	if _, err := v.Verify(r, body); err != nil {
		t.Fatalf("Host %q, one of %q: %v", r.Host, v.Hosts, err)
	}
	v.Hosts = []string{"profiles.example.test"}
	for _, check := range []func() error{
		func() error { _, err := v.Verify(r, body); return err },
		func() error { _, err := v.Check(r); return err },
	} {
		var e *sigv4.Error
		if err := check(); !errors.As(err, &e) || e.Code != sigv4.InvalidSignature || e.Status != http.StatusForbidden || !strings.Contains(e.Message, testHost) {
			t.Errorf("Host %q, not one of %q: got %v, want a 403 InvalidSignatureException naming the host", r.Host, v.Hosts, err)
		}
	}
}
