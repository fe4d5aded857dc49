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
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
	"github.com/openprofiles/profiles/internal/jsonproto"
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
	h := &handler{svc: svc, auth: auth, accountID: accountID, now: time.Now}
	ops := map[string]jsonproto.Op{}
	for name, f := range h.operations() {
		ops[name] = func(ctx context.Context, c *jsonproto.Call) (any, error) {
			return f(ctx, &call{h: h, r: c.Request, operation: c.Operation, principal: c.Principal}, c.Body)
		}
	}
	return &jsonproto.API{
		Name: "iam", TargetPrefix: TargetPrefix, SigningService: SigningService, ContentType: ContentType,
		MaxBodyBytes: MaxBodyBytes, Verifier: verifier, Logger: logger, NewRequestID: newRequestID, Ops: ops,
		BadMethod: func(method string) error {
			return unknownOperationf("The IAM API takes POST requests, not %s.", method)
		},
		TooLarge:   func(max int64) error { return validationf("The request body exceeds %d bytes.", max) },
		Unreadable: func() error { return serializationf("Could not read the request body.") },
		UnknownOperation: func(name, target string) error {
			return unknownOperationf("The IAM operation %q is not known here (X-Amz-Target %q).", name, target)
		},
		WriteError: writeError,
	}
}

type handler struct {
	svc       profiles.IAMService
	auth      profiles.Authorizer
	accountID string
	now       func() time.Time
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
	keys := iam.RequestContext(c.r, c.h.now())
	keys["aws:PrincipalArn"] = []string{c.principal}
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

// writeError answers err as an IAM error: JSON {"__type", "message"}.
func writeError(w http.ResponseWriter, err error) (int, string) {
	var exception, message string
	var status int
	var se *sigv4.Error
	if errors.As(err, &se) {
		exception, status, message = se.Code, se.Status, se.Message
	} else {
		exception, status, message = wireError(err)
	}
	w.Header().Set("X-Amzn-ErrorType", exception)
	jsonproto.WriteError(w, ContentType, status, exception, message)
	return status, exception
}

// newRequestID returns a random (version 4) UUID.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
