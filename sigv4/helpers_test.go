package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openprofiles/profiles/sigv4"
)

const (
	testKeyID     = "AKIAIOSFODNN7EXAMPLE"
	testSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testPrincipal = "arn:aws:iam::000000000000:root"
	testRegion    = "us-east-1"
	testHost      = "profile.us-east-1.example.test"

	// encodedARN is a Customer Profiles ARN as an SDK sends it in a path label.
	encodedARN = "arn%3Aaws%3Aprofile%3Aus-east-1%3A000000000000%3Adomains%2Fmydomain"
)

// testNow is the verifier's clock and the default signing time.
var testNow = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// errLookup is returned by the verifier's lookup for the key "BROKEN".
var errLookup = errors.New("store unavailable")

// MustVerifier returns a verifier for region us-east-1 and the given services
// (default "profile") that knows testKeyID and whose clock is testNow.
func MustVerifier(tb testing.TB, services ...string) *sigv4.Verifier {
	tb.Helper()
	if len(services) == 0 {
		services = []string{"profile"}
	}
	return &sigv4.Verifier{
		Region:   testRegion,
		Services: services,
		Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
			switch id {
			case testKeyID:
				return sigv4.Credential{Secret: testSecret, Principal: testPrincipal}, true, nil
			case "BROKEN":
				return sigv4.Credential{}, false, errLookup
			}
			return sigv4.Credential{}, false, nil
		},
		Now: func() time.Time { return testNow },
	}
}

// signSpec describes a request to sign with the aws-sdk-go-v2 signer. Zero
// fields take the defaults of the test verifier.
type signSpec struct {
	method string
	target string // path and query as sent on the wire, e.g. "/domains?max-results=5"
	body   string
	header http.Header

	keyID, secret, token string
	service, region      string
	at                   time.Time
	payloadHash          string // default: hex SHA-256 of body
	sha256Header         bool   // send X-Amz-Content-Sha256 (signed) like S3 clients

	// beforeWire changes the signed client request before it is written to
	// the wire, to simulate clients that sign something else than they send.
	beforeWire func(*http.Request)
}

// MustSign signs spec with the aws-sdk-go-v2 signer, sends the request
// through the HTTP/1.1 wire format and returns it as a server receives it,
// with its body read, and the signature the client computed.
func MustSign(tb testing.TB, spec signSpec) (r *http.Request, body []byte, signature string) {
	tb.Helper()
	if spec.method == "" {
		spec.method = http.MethodGet
	}
	if spec.target == "" {
		spec.target = "/domains"
	}
	if spec.keyID == "" {
		spec.keyID = testKeyID
	}
	if spec.secret == "" {
		spec.secret = testSecret
	}
	if spec.service == "" {
		spec.service = "profile"
	}
	if spec.region == "" {
		spec.region = testRegion
	}
	if spec.at.IsZero() {
		spec.at = testNow
	}
	if spec.payloadHash == "" {
		spec.payloadHash = SHA256Hex(spec.body)
	}

	var reqBody io.Reader
	if spec.body != "" {
		reqBody = strings.NewReader(spec.body)
	}
	req, err := http.NewRequest(spec.method, "http://"+testHost+spec.target, reqBody)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, vs := range spec.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if spec.sha256Header {
		req.Header.Set("X-Amz-Content-Sha256", spec.payloadHash)
	}
	creds := aws.Credentials{AccessKeyID: spec.keyID, SecretAccessKey: spec.secret, SessionToken: spec.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, spec.payloadHash, spec.service, spec.region, spec.at); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	_, signature, _ = strings.Cut(req.Header.Get("Authorization"), "Signature=")
	if spec.beforeWire != nil {
		spec.beforeWire(req)
	}

	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		tb.Fatalf("write request: %v", err)
	}
	r, err = http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		tb.Fatalf("read request: %v", err)
	}
	body, err = io.ReadAll(r.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return r, body, signature
}

// SHA256Hex returns the hex SHA-256 of s.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setAuthParam replaces (or with value "" removes) one parameter of the
// Authorization header of r.
func setAuthParam(r *http.Request, name, value string) {
	alg, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	var parts []string
	for p := range strings.SplitSeq(rest, ", ") {
		if strings.HasPrefix(p, name+"=") {
			if value == "" {
				continue
			}
			p = name + "=" + value
		}
		parts = append(parts, p)
	}
	r.Header.Set("Authorization", alg+" "+strings.Join(parts, ", "))
}

// authParam returns one parameter of the Authorization header of r.
func authParam(r *http.Request, name string) string {
	for p := range strings.SplitSeq(r.Header.Get("Authorization"), ", ") {
		if _, v, ok := strings.Cut(p, name+"="); ok {
			return v
		}
	}
	return ""
}
