// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests,
// in the Authorization-header form that the AWS SDKs and the AWS CLI send to
// JSON and REST-JSON services (Customer Profiles "profile", and the KMS and
// SQS JSON APIs "kms" and "sqs").
//
// The canonical request is rebuilt the way the clients build it for services
// other than S3:
//
//   - the path is taken exactly as sent on the wire and URI-encoded again
//     ("double encoding"), so "/tags/arn%3Aaws" is canonicalised as
//     "/tags/arn%253Aaws". aws-sdk-go-v2 signs that path as is; botocore
//     (AWS CLI, boto3) first removes "." and ".." segments and empty segments.
//     The verifier tries the path as sent and, only when it differs, the
//     botocore-normalised path; both are derived from the received path, so a
//     signature never covers a path other than the one received.
//   - the query is decoded and every name and value re-encoded with the AWS
//     encoding (space as %20), then sorted by name and value;
//   - the signed headers are read from the request, values trimmed and inner
//     runs of spaces collapsed, repeated headers joined with ",". "host" is
//     r.Host; "content-length" is the Content-Length header, or
//     when that is absent r.ContentLength, or len(body) for a chunked body.
//
// Payload: when the X-Amz-Content-Sha256 header is absent (botocore and
// aws-sdk-go-v2 do not send it to non-S3 services), the payload hash is
// computed from the body. When it is present it must equal that hash, or be
// "UNSIGNED-PAYLOAD". UNSIGNED-PAYLOAD is accepted only for requests that
// arrived over TLS (r.TLS != nil): over plain HTTP nothing else protects the
// body from being changed in transit.
//
// Session tokens: this server issues none. A request that carries
// X-Amz-Security-Token must have signed it, and is then verified like any
// other; the token value itself is ignored.
//
// Presigned requests (signature in the query string) are not accepted.
//
// Errors a client should see are *Error values carrying the AWS exception
// name and HTTP status. Messages never contain the expected signature, the
// canonical request or the string to sign. An error from Verifier.Lookup is
// returned wrapped, not as an *Error; callers answer it with a 500.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Exception names returned in Error.Code.
const (
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	IncompleteSignature        = "IncompleteSignatureException"
	UnrecognizedClient         = "UnrecognizedClientException"
	InvalidSignature           = "InvalidSignatureException"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"

	msgMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Credential is what a lookup returns for an access key id.
type Credential struct {
	Secret    string
	Principal string
}

// Verifier checks signatures. Its fields are read-only once in use; a
// Verifier is safe for concurrent use.
type Verifier struct {
	// Region required in the credential scope.
	Region string
	// Services accepted in the credential scope, e.g. {"profile"}.
	Services []string
	// Lookup (required) returns the credential for an access key id;
	// ok=false means the key is unknown. A non-nil error is returned by
	// Verify, wrapped.
	Lookup func(ctx context.Context, accessKeyID string) (Credential, bool, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far the request date may be from Now; 0 means 15 minutes.
	MaxSkew time.Duration
	// Verified, when set, is called with the identity of each request
	// whose signature verifies (an access key's last use, say).
	Verified func(ctx context.Context, id *Identity)
	// Hosts, when set, are the names the server answers to, as clients
	// send them in the Host header (with the port unless it is the
	// scheme's default; any case): a request that names another host is
	// refused before its signature is looked at, so that a request signed
	// for another server cannot be replayed here. Empty: any Host.
	Hosts []string
}

// HostAllowed reports whether host is one of hosts (any case), or hosts
// is empty.
func HostAllowed(hosts []string, host string) bool {
	if len(hosts) == 0 {
		return true
	}
	for _, h := range hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// Identity is who signed a request.
type Identity struct {
	AccessKeyID string
	Principal   string
	Service     string // service name of the credential scope
	// SignedHeaders are the names, lower-case, of the headers the
	// signature covers.
	SignedHeaders []string
}

// Signed reports whether the signature covers the header (any case).
func (id *Identity) Signed(header string) bool {
	return slices.Contains(id.SignedHeaders, strings.ToLower(header))
}

// RequireSigned returns an IncompleteSignatureException unless the
// signature covers the header: a protocol that reads the operation from a
// header (X-Amz-Target) must not let it change in transit.
func (id *Identity) RequireSigned(header string) error {
	if id.Signed(header) {
		return nil
	}
	return errorf(IncompleteSignature, http.StatusForbidden, "The request signature must cover the %s header (SignedHeaders).", header)
}

// Error is a verification failure with the AWS exception name and the HTTP
// status to answer with. Message is safe to send to the caller.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Verify checks the signature of r, whose full body is body; the caller has
// read it already and Verify does not touch r.Body. It returns who signed,
// or an *Error with one of the codes MissingAuthenticationTokenException,
// IncompleteSignatureException, UnrecognizedClientException or
// InvalidSignatureException; any other error comes from Lookup.
//
// A server should rather call Check before it reads the body and then
// Pending.Verify: Verify makes it read the body of any request, signed or
// not.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Identity, error) {
	p, err := v.Check(r)
	if err != nil {
		return nil, err
	}
	return p.Verify(body)
}

// Pending is a request whose signature's form, scope, date and access key
// Check has found good; its signature, which covers the body, is not
// verified yet.
type Pending struct {
	v    *Verifier
	r    *http.Request
	auth *requestAuth
	cred Credential
}

// Check checks all that needs no body: the Host header (Hosts), the
// Authorization header, the credential scope, the request date and that
// the access key is known (the errors of Verify but
// InvalidSignatureException for a signature that does not match). A server calls it before it reads the body, so that an
// unsigned request, or one signed with a key it does not know, costs no
// body read and no hashing.
func (v *Verifier) Check(r *http.Request) (*Pending, error) {
	if !HostAllowed(v.Hosts, r.Host) {
		return nil, errorf(InvalidSignature, http.StatusForbidden,
			"The Host header %q does not name this server: send (and sign) the request to one of its public host names.", r.Host)
	}
	auth, err := parseRequestAuth(r)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(auth); err != nil {
		return nil, err
	}
	if err := v.checkTime(auth.date); err != nil {
		return nil, err
	}

	cred, ok, err := v.Lookup(r.Context(), auth.accessKeyID)
	if err != nil {
		return nil, fmt.Errorf("sigv4: look up access key: %w", err)
	} else if !ok {
		return nil, errorf(UnrecognizedClient, http.StatusForbidden,
			"The security token included in the request is invalid.")
	}
	return &Pending{v: v, r: r, auth: auth, cred: cred}, nil
}

// Verify checks the signature of the request given to Check, whose full
// body is body, as Verifier.Verify does.
func (p *Pending) Verify(body []byte) (*Identity, error) {
	r, auth, cred := p.r, p.auth, p.cred
	payloadHash, err := payloadHash(r, body)
	if err != nil {
		return nil, err
	}

	key := signingKey(cred.Secret, auth.scopeDate, auth.region, auth.service)
	rawPath := requestPath(r)
	c := canonicalizer{r: r, body: body, signedHeaders: auth.signedHeaders, payloadHash: payloadHash}
	if c.matches(key, auth, rawPath) || func() bool { norm := normalizePath(rawPath); return norm != rawPath && c.matches(key, auth, norm) }() {
		id := &Identity{AccessKeyID: auth.accessKeyID, Principal: cred.Principal, Service: auth.service, SignedHeaders: auth.signedHeaders}
		if p.v.Verified != nil {
			p.v.Verified(r.Context(), id)
		}
		return id, nil
	}
	return nil, errorf(InvalidSignature, http.StatusForbidden, msgMismatch)
}

// checkScope checks the credential scope against the verifier's region and
// services and the request date.
func (v *Verifier) checkScope(a *requestAuth) error {
	if day := a.amzDate[:8]; a.scopeDate != day {
		return errorf(InvalidSignature, http.StatusForbidden,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.scopeDate, day, a.amzDate)
	}
	if a.region != v.Region {
		return errorf(InvalidSignature, http.StatusForbidden,
			"Credential should be scoped to a valid region.")
	}
	found := false
	for _, s := range v.Services {
		if s == a.service {
			found = true
			break
		}
	}
	if !found {
		return errorf(InvalidSignature, http.StatusForbidden,
			"Credential should be scoped to correct service: '%s'.", strings.Join(v.Services, "' or '"))
	}
	if a.terminator != terminator {
		return errorf(InvalidSignature, http.StatusForbidden,
			"Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, a.terminator)
	}
	return nil
}

// checkTime checks that t is within MaxSkew of Now.
func (v *Verifier) checkTime(t time.Time) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	now = now.UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = 15 * time.Minute
	}
	mins := fmt.Sprintf("%g min.", skew.Minutes())
	if earliest := now.Add(-skew); t.Before(earliest) {
		return errorf(InvalidSignature, http.StatusForbidden,
			"Signature expired: %s is now earlier than %s (%s - %s)",
			t.Format(amzDateFormat), earliest.Format(amzDateFormat), now.Format(amzDateFormat), mins)
	}
	if latest := now.Add(skew); t.After(latest) {
		return errorf(InvalidSignature, http.StatusForbidden,
			"Signature not yet current: %s is still later than %s (%s + %s)",
			t.Format(amzDateFormat), latest.Format(amzDateFormat), now.Format(amzDateFormat), mins)
	}
	return nil
}

// payloadHash returns the payload hash to put in the canonical request.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	values := r.Header.Values("X-Amz-Content-Sha256")
	if len(values) == 0 {
		return computed, nil
	}
	if len(values) > 1 {
		return "", errorf(InvalidSignature, http.StatusBadRequest,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	switch got := strings.TrimSpace(values[0]); {
	case got == unsignedPayload && r.TLS != nil:
		return unsignedPayload, nil
	case got == unsignedPayload:
		return "", errorf(InvalidSignature, http.StatusBadRequest,
			"UNSIGNED-PAYLOAD is only accepted over HTTPS.")
	case got != computed:
		return "", errorf(InvalidSignature, http.StatusBadRequest,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	default:
		return got, nil
	}
}

// signingKey derives the SigV4 signing key.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
