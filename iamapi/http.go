// Package iamapi is the HTTP transport of IAM management: the users, roles,
// access keys and inline policies of the account, served in the AWS JSON 1.1
// protocol on the server's shared address. A request is a POST to / with
// X-Amz-Target "OpenProfilesIAM.<Operation>", Content-Type
// application/x-amz-json-1.1, signed with SigV4 for the service "iam".
// Operations, members and exception names are those of the AWS IAM API
// (CreateUser, ListAccessKeys, PutUserPolicy, NoSuchEntity, …); the answers
// are the JSON that `aws iam` prints. The rules live behind
// profiles.IAMService; this package decodes, validates the shapes,
// authenticates, authorises and encodes.
package iamapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// TargetPrefix starts the X-Amz-Target header of every request of this
// API: "OpenProfilesIAM.<Operation>".
const TargetPrefix = "OpenProfilesIAM."

// SigningService is the SigV4 service name of this API.
const SigningService = "iam"

// ContentType is the media type of the AWS JSON 1.1 protocol.
const ContentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds the body of a request.
const MaxBodyBytes = 1 << 20

// Handler returns the IAM API: POST requests whose X-Amz-Target is
// TargetPrefix+<Operation>, signed with SigV4 for SigningService (verifier
// checks the signature; a signature scoped to another service is refused,
// so the verifier may be shared with other APIs).
//
// Each operation is authorised by auth as the action "iam:<Operation>" on
// the ARN of the user or role it names (arn:aws:iam::<accountID>:user/<name>
// or …:role/<name>), or "*" for ListUsers and ListRoles, with the condition
// keys aws:SourceIp, aws:CurrentTime, aws:SecureTransport, aws:PrincipalArn
// and, for a user, aws:username. Shapes are validated first, then the
// caller is authorised, then svc is called.
//
// Every response carries x-amzn-RequestId. Errors are JSON {"__type":
// "<Exception>", "message": "…"} with the X-Amzn-ErrorType header, the
// exception and status coming from the error code (see wireError); internal
// errors are logged and answered ServiceFailure without details. logger
// (nil: discard) gets one line per request, never a secret.
func Handler(svc profiles.IAMService, auth profiles.Authorizer, verifier *sigv4.Verifier, accountID string, logger *slog.Logger) http.Handler {
	if svc == nil || auth == nil || verifier == nil {
		panic("iamapi: Handler needs an IAMService, an Authorizer and a sigv4.Verifier")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, auth: auth, verifier: verifier, accountID: accountID, logger: logger, now: time.Now}
	h.ops = h.operations()
	return h
}

type handler struct {
	svc       profiles.IAMService
	auth      profiles.Authorizer
	verifier  *sigv4.Verifier
	accountID string
	logger    *slog.Logger
	now       func() time.Time
	ops       map[string]opFunc
}

// opFunc serves one operation from its JSON body.
type opFunc func(ctx context.Context, c *call, body []byte) (any, error)

// op adapts a typed operation to an opFunc that decodes its input.
func op[In any](f func(context.Context, *call, *In) (any, error)) opFunc {
	return func(ctx context.Context, c *call, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return f(ctx, c, in)
	}
}

// call is one authenticated request.
type call struct {
	h         *handler
	r         *http.Request
	operation string
	principal string // ARN of the caller
}

// requestLog is what the log line of a request says.
type requestLog struct {
	id, operation, principal string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &requestLog{id: newRequestID()}
	w.Header().Set("x-amzn-RequestId", req.id)
	out, err := h.serve(w, r, req)
	status, exception := http.StatusOK, ""
	if err == nil {
		b, merr := json.Marshal(out)
		if merr != nil {
			err = fmt.Errorf("iamapi: encode %s output: %w", req.operation, merr)
		} else {
			w.Header().Set("Content-Type", ContentType)
			w.WriteHeader(status)
			w.Write(b)
		}
	}
	level := slog.LevelInfo
	if err != nil {
		var message string
		var se *sigv4.Error
		if errors.As(err, &se) {
			exception, status, message = se.Code, se.Status, se.Message
		} else {
			exception, status, message = wireError(err)
		}
		if status >= 500 {
			level = slog.LevelError
			h.logger.Error("iam request failed", "request_id", req.id, "operation", req.operation, "err", err)
		}
		writeError(w, status, exception, message)
	}
	h.logger.Log(r.Context(), level, "iam request",
		"request_id", req.id,
		"operation", req.operation,
		"principal", req.principal,
		"status", status,
		"error", exception,
		"latency_ms", float64(time.Since(start).Microseconds())/1000,
	)
}

// serve authenticates and runs one request, and returns the output to
// encode or the error to answer.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, req *requestLog) (any, error) {
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	req.operation = name
	if r.Method != http.MethodPost {
		return nil, unknownOperationf("The IAM API takes POST requests, not %s.", r.Method)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, validationf("The request body exceeds %d bytes.", MaxBodyBytes)
	} else if err != nil {
		return nil, serializationf("Could not read the request body.")
	}

	id, err := h.verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("iamapi: verify signature: %w", err)
	}
	if id.Service != SigningService {
		return nil, &sigv4.Error{Code: sigv4.InvalidSignature, Status: http.StatusForbidden,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", SigningService)}
	}
	req.principal = id.Principal

	f := h.ops[name]
	if !ok || f == nil {
		return nil, unknownOperationf("The IAM operation %q is not known here (X-Amz-Target %q).", name, clip(target))
	}
	return f(r.Context(), &call{h: h, r: r, operation: name, principal: id.Principal}, body)
}

// authorize asks the Authorizer whether the caller may run the call's
// operation on resource.
func (c *call) authorize(ctx context.Context, resource string) error {
	err := c.h.auth.Authorize(ctx, &profiles.AuthRequest{
		Principal: c.principal,
		Action:    "iam:" + c.operation,
		Resource:  resource,
		Context:   c.conditionKeys(),
	})
	return serviceError("authorize", err)
}

// conditionKeys returns the global condition keys of the request.
func (c *call) conditionKeys() map[string][]string {
	ip := c.r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	keys := map[string][]string{
		"aws:SourceIp":        {ip},
		"aws:CurrentTime":     {c.h.now().UTC().Format(time.RFC3339)},
		"aws:SecureTransport": {strconv.FormatBool(c.r.TLS != nil)},
		"aws:PrincipalArn":    {c.principal},
	}
	if name := userNameOf(c.principal); name != "" {
		keys["aws:username"] = []string{name}
	}
	return keys
}

// userNameOf returns the name of the user of an IAM user ARN (the last
// part of its path), or "" for any other ARN.
func userNameOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return ""
	}
	path, ok := strings.CutPrefix(parts[5], "user/")
	if !ok {
		return ""
	}
	return path[strings.LastIndex(path, "/")+1:]
}

// arn returns the ARN of a user or role of the account.
func (h *handler) arn(typ, name string) string {
	return "arn:aws:iam::" + h.accountID + ":" + typ + "/" + name
}

func writeError(w http.ResponseWriter, status int, exception, message string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{exception, message})
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-ErrorType", exception)
	w.WriteHeader(status)
	w.Write(b)
}

// newRequestID returns a random (version 4) UUID.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// clip shortens client-supplied text echoed in a message.
func clip(s string) string {
	const max = 256
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
