package localkms

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

// TargetPrefix starts the X-Amz-Target header of every KMS API request:
// "TrentService.<Operation>".
const TargetPrefix = "TrentService."

// SigningService is the SigV4 service name of the KMS API.
const SigningService = "kms"

// MaxBodyBytes bounds the body of a KMS API request.
const MaxBodyBytes = 1 << 20

// contentType is the media type of the AWS JSON 1.1 protocol.
const contentType = "application/x-amz-json-1.1"

// opFunc serves one operation from its JSON body.
type opFunc func(ctx context.Context, c *caller, body []byte) (any, error)

// op adapts a typed operation to an opFunc that decodes its input.
func op[In any](f func(context.Context, *caller, *In) (any, error)) opFunc {
	return func(ctx context.Context, c *caller, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return f(ctx, c, in)
	}
}

// operations returns the operations Handler serves, by name.
func (k *KMS) operations() map[string]opFunc {
	return map[string]opFunc{
		"CreateKey":                       op(k.createKey),
		"DescribeKey":                     op(k.describeKey),
		"ListKeys":                        op(k.listKeys),
		"EnableKey":                       op(k.enableKey),
		"DisableKey":                      op(k.disableKey),
		"ScheduleKeyDeletion":             op(k.scheduleKeyDeletion),
		"CancelKeyDeletion":               op(k.cancelKeyDeletion),
		"UpdateKeyDescription":            op(k.updateKeyDescription),
		"GetKeyPolicy":                    op(k.getKeyPolicy),
		"PutKeyPolicy":                    op(k.putKeyPolicy),
		"CreateAlias":                     op(k.createAlias),
		"UpdateAlias":                     op(k.updateAlias),
		"DeleteAlias":                     op(k.deleteAlias),
		"ListAliases":                     op(k.listAliases),
		"CreateGrant":                     op(k.createGrant),
		"ListGrants":                      op(k.listGrants),
		"RevokeGrant":                     op(k.revokeGrant),
		"RetireGrant":                     op(k.retireGrant),
		"GenerateDataKey":                 op(k.generateDataKey),
		"GenerateDataKeyWithoutPlaintext": op(k.generateDataKeyWithoutPlaintext),
		"Encrypt":                         op(k.encrypt),
		"Decrypt":                         op(k.decrypt),
		"ReEncrypt":                       op(k.reEncrypt),
	}
}

// Handler returns the AWS KMS JSON 1.1 API of k: POST requests whose
// X-Amz-Target is TrentService.<Operation>, signed with SigV4 for the
// service "kms" (verifier checks the signature; a signature scoped to
// another service is refused, so the verifier may be shared with other
// APIs). Every response carries x-amzn-RequestId; errors are JSON
// {"__type": "<Exception>", "message": "…"} with status 400, or 500 for
// internal errors (whose details are logged, not sent).
//
// Each operation is authorised by authorize(ctx, principal, "kms:<Op>",
// resource), with the key ARN as resource, or "*" for CreateKey, ListKeys
// and ListAliases, and then by the key's policy and grants for the
// principal (see allow). verifier is required; a nil authorize leaves the
// key policy alone to decide. authorize's errors are answered as they are: an EFORBIDDEN
// *profiles.Error becomes an AccessDeniedException. logger (nil: discard)
// gets one line per request.
func (k *KMS) Handler(verifier *sigv4.Verifier, authorize func(ctx context.Context, principal, action, resource string) error, logger *slog.Logger) http.Handler {
	if verifier == nil {
		panic("localkms: Handler needs a sigv4.Verifier")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &handler{kms: k, verifier: verifier, authorize: authorize, logger: logger, ops: k.operations()}
}

type handler struct {
	kms       *KMS
	verifier  *sigv4.Verifier
	authorize func(ctx context.Context, principal, action, resource string) error
	logger    *slog.Logger
	ops       map[string]opFunc
}

// request is what the log line of a request says.
type request struct {
	id, operation, principal string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &request{id: newUUID()}
	w.Header().Set("x-amzn-RequestId", req.id)
	out, err := h.serve(w, r, req)
	status, exception := http.StatusOK, ""
	if err == nil {
		b, merr := json.Marshal(out)
		if merr != nil {
			err = fmt.Errorf("localkms: encode %s output: %w", req.operation, merr)
		} else {
			w.Header().Set("Content-Type", contentType)
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
			h.logger.Error("kms request failed", "request_id", req.id, "operation", req.operation, "err", err)
		}
		writeError(w, status, exception, message)
	}
	h.logger.Log(r.Context(), level, "kms request",
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
func (h *handler) serve(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	req.operation = name
	if r.Method != http.MethodPost {
		return nil, kmsErrorf(ExUnknownOperation, profiles.EINVALID, "The KMS API takes POST requests, not %s.", r.Method)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, validationf("The request body exceeds %d bytes.", MaxBodyBytes)
	} else if err != nil {
		return nil, kmsErrorf(ExSerialization, profiles.EINVALID, "Could not read the request body.")
	}

	id, err := h.verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("localkms: verify signature: %w", err)
	}
	if id.Service != SigningService {
		return nil, &sigv4.Error{Code: sigv4.InvalidSignature, Status: http.StatusForbidden,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", SigningService)}
	}
	req.principal = id.Principal

	f := h.ops[name]
	if !ok || f == nil {
		return nil, kmsErrorf(ExUnknownOperation, profiles.EINVALID, "The KMS operation %q is not known here (X-Amz-Target %q).",
			name, r.Header.Get("X-Amz-Target"))
	}
	return f(r.Context(), &caller{principal: id.Principal, authorize: h.authorize}, body)
}

func writeError(w http.ResponseWriter, status int, exception, message string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{exception, message})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", exception)
	w.WriteHeader(status)
	w.Write(b)
}
