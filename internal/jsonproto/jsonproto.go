// Package jsonproto serves an API of the AWS JSON protocol: POST requests
// whose X-Amz-Target header names the operation ("<Prefix><Operation>"),
// signed with SigV4, with JSON bodies and JSON answers. The built-in KMS
// (localkms), the built-in queue service (localsqs) and the IAM management
// API (iamapi) are such APIs; each gives its operations and its own error
// answers, and this package does the rest the same way for all: request IDs,
// the body limit, the signature and its service, dispatch, encoding and one
// log line per request.
package jsonproto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// Call is one authenticated request.
type Call struct {
	Request   *http.Request
	Operation string
	Principal string // ARN of the caller
	Body      []byte
}

// Op serves one operation and returns the value to encode as its answer.
type Op func(ctx context.Context, c *Call) (any, error)

// API is the handler of one API. Set every field; Logger may be nil.
type API struct {
	Name           string // in log lines: "<Name> request"
	TargetPrefix   string // e.g. "TrentService."
	SigningService string // e.g. "kms"
	ContentType    string // e.g. "application/x-amz-json-1.1"
	MaxBodyBytes   int64
	Verifier       *sigv4.Verifier
	Logger         *slog.Logger
	NewRequestID   func() string
	Ops            map[string]Op

	// The API's own errors for what the handler refuses.
	BadMethod        func(method string) error
	TooLarge         func(max int64) error
	Unreadable       func() error
	UnknownOperation func(operation, target string) error

	// WriteError answers err (any error: the API's, a *sigv4.Error, or an
	// error of the service) and returns the status and the exception name
	// it sent, for the log.
	WriteError func(w http.ResponseWriter, err error) (status int, exception string)
}

// ServeHTTP serves one request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := a.NewRequestID()
	w.Header().Set("x-amzn-RequestId", id)
	c := &Call{Request: r}
	out, err := a.serve(w, r, c)
	status, exception := http.StatusOK, ""
	if err == nil {
		b, merr := json.Marshal(out)
		if merr != nil {
			err = fmt.Errorf("%s: encode %s output: %w", a.Name, c.Operation, merr)
		} else {
			w.Header().Set("Content-Type", a.ContentType)
			w.WriteHeader(status)
			w.Write(b)
		}
	}
	level := slog.LevelInfo
	if err != nil && r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away (during a long poll): nobody to answer.
		status, exception, err = 499, "ClientClosedRequest", nil
	}
	if err != nil {
		status, exception = a.WriteError(w, err)
		if status >= 500 {
			level = slog.LevelError
		}
		// A full storage is logged by the store, once, not per request.
		if level == slog.LevelError && !errors.Is(err, profiles.ErrStorageFull) {
			a.logger().Error(a.Name+" request failed", "request_id", id, "operation", c.Operation, "err", err)
		}
	}
	a.logger().Log(r.Context(), level, a.Name+" request",
		"request_id", id,
		"operation", c.Operation,
		"principal", c.Principal,
		"status", status,
		"error", exception,
		"latency_ms", float64(time.Since(start).Microseconds())/1000,
	)
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// serve authenticates and runs one request.
func (a *API) serve(w http.ResponseWriter, r *http.Request, c *Call) (any, error) {
	target := r.Header.Get("X-Amz-Target")
	name, prefixed := strings.CutPrefix(target, a.TargetPrefix)
	c.Operation = name
	if r.Method != http.MethodPost {
		return nil, a.BadMethod(r.Method)
	}
	// The body is read only of a request signed with a known key.
	pending, err := a.Verifier.Check(r)
	if err != nil {
		return nil, a.verifyError(err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, a.TooLarge(a.MaxBodyBytes)
	} else if err != nil {
		return nil, a.Unreadable()
	}
	c.Body = body

	id, err := pending.Verify(body)
	if err != nil {
		return nil, a.verifyError(err)
	}
	if id.Service != a.SigningService {
		return nil, &sigv4.Error{Code: sigv4.InvalidSignature, Status: http.StatusForbidden,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", a.SigningService)}
	}
	c.Principal = id.Principal
	if r.Header.Get("X-Amz-Target") != "" {
		if err := id.RequireSigned("X-Amz-Target"); err != nil {
			return nil, err // the operation is named there: it must not change in transit
		}
	}

	op := a.Ops[name]
	if !prefixed || op == nil {
		return nil, a.UnknownOperation(name, Clip(target))
	}
	return op(r.Context(), c)
}

// verifyError is a signature check's error as served: an *sigv4.Error as
// it is, a failed key lookup wrapped.
func (a *API) verifyError(err error) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return se
	}
	return fmt.Errorf("%s: verify signature: %w", a.Name, err)
}

// Clip shortens a value echoed in an error message to 64 bytes.
func Clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// WriteError writes an error answer of the protocol, JSON
// {"__type": typ, "message": message}, after the headers the caller set
// (X-Amzn-ErrorType, x-amzn-query-error, …).
func WriteError(w http.ResponseWriter, contentType string, status int, typ, message string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, message})
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}
