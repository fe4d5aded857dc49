package localsqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// TargetPrefix starts the X-Amz-Target header of every SQS API request:
// "AmazonSQS.<Operation>".
const TargetPrefix = "AmazonSQS."

// SigningService is the SigV4 service name of the SQS API.
const SigningService = "sqs"

// MaxBodyBytes bounds the body of an SQS API request: a batch of 256 KiB
// of messages, with room for JSON escapes and base64.
const MaxBodyBytes = 1 << 20

// contentType is the media type of the AWS JSON 1.0 protocol.
const contentType = "application/x-amz-json-1.0"

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
func (s *SQS) operations() map[string]opFunc {
	return map[string]opFunc{
		"CreateQueue":                  op(s.createQueue),
		"GetQueueUrl":                  op(s.getQueueURL),
		"ListQueues":                   op(s.listQueues),
		"GetQueueAttributes":           op(s.getQueueAttributes),
		"SetQueueAttributes":           op(s.setQueueAttributes),
		"DeleteQueue":                  op(s.deleteQueue),
		"PurgeQueue":                   op(s.purgeQueue),
		"TagQueue":                     op(s.tagQueue),
		"UntagQueue":                   op(s.untagQueue),
		"ListQueueTags":                op(s.listQueueTags),
		"SendMessage":                  op(s.sendMessage),
		"SendMessageBatch":             op(s.sendMessageBatch),
		"ReceiveMessage":               op(s.receiveMessage),
		"DeleteMessage":                op(s.deleteMessageOp),
		"DeleteMessageBatch":           op(s.deleteMessageBatch),
		"ChangeMessageVisibility":      op(s.changeMessageVisibility),
		"ChangeMessageVisibilityBatch": op(s.changeMessageVisibilityBatch),
	}
}

// unsupported are the SQS operations this service knows but does not do.
var unsupported = []string{"AddPermission", "RemovePermission", "ListDeadLetterSourceQueues",
	"StartMessageMoveTask", "CancelMessageMoveTask", "ListMessageMoveTasks"}

// Handler returns the Amazon SQS JSON API (AWS JSON 1.0) of s: POST
// requests whose X-Amz-Target is AmazonSQS.<Operation>, signed with SigV4
// for the service "sqs" (verifier checks the signature; a signature scoped
// to another service is refused, so the verifier may be shared with other
// APIs). Every response carries x-amzn-RequestId; errors are JSON
// {"__type": "com.amazonaws.sqs#<Exception>", "message": "…"} with the
// x-amzn-query-error header of SQS ("<query code>;Sender"), from which the
// SDKs and the CLI take the error code, with status 400 or 403, or 500 for
// internal errors (whose details are logged, not sent).
//
// Each operation is authorised as sqs:<Op> (the batch operations as the
// operation they batch) on the queue ARN, or "*" for CreateQueue and
// ListQueues, by authorize(ctx, principal, action, resource) and the
// queue's policy (see allow). verifier is required; a nil authorize lets
// the queue policies alone refuse. authorize's errors are answered as they
// are: an EFORBIDDEN *profiles.Error becomes AccessDenied. logger (nil:
// discard) gets one line per request.
func (s *SQS) Handler(verifier *sigv4.Verifier, authorize func(ctx context.Context, principal, action, resource string) error, logger *slog.Logger) http.Handler {
	if verifier == nil {
		panic("localsqs: Handler needs a sigv4.Verifier")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &handler{sqs: s, verifier: verifier, authorize: authorize, logger: logger, ops: s.operations()}
}

type handler struct {
	sqs       *SQS
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
			err = fmt.Errorf("localsqs: encode %s output: %w", req.operation, merr)
		} else {
			w.Header().Set("Content-Type", contentType)
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
		typ, query, st, message := wireError(err)
		status, exception = st, exceptionName(typ)
		if status >= 500 {
			level = slog.LevelError
			h.logger.Error("sqs request failed", "request_id", req.id, "operation", req.operation, "err", err)
		}
		writeError(w, status, typ, query, message)
	}
	h.logger.Log(r.Context(), level, "sqs request",
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
		return nil, sqsErrorf(ExUnknownOperation, profiles.EINVALID, "The SQS API takes POST requests, not %s.", r.Method)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, invalidParameterf("The request body exceeds %d bytes.", MaxBodyBytes)
	} else if err != nil {
		return nil, sqsErrorf(ExSerialization, profiles.EINVALID, "Could not read the request body.")
	}

	id, err := h.verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("localsqs: verify signature: %w", err)
	}
	if id.Service != SigningService {
		return nil, &sigv4.Error{Code: sigv4.InvalidSignature, Status: http.StatusForbidden,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", SigningService)}
	}
	req.principal = id.Principal

	f := h.ops[name]
	if !ok || f == nil {
		for _, u := range unsupported {
			if ok && name == u {
				return nil, sqsErrorf(ExUnsupportedOperation, profiles.ENOTIMPLEMENTED,
					"The built-in queue service does not support %s.", name)
			}
		}
		return nil, sqsErrorf(ExUnknownOperation, profiles.EINVALID, "The SQS operation %q is not known here (X-Amz-Target %q).",
			name, r.Header.Get("X-Amz-Target"))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	c := &caller{principal: id.Principal, authorize: h.authorize, base: scheme + "://" + r.Host,
		context: requestContext(h.sqs.now(), ip, r.TLS != nil)}
	return f(r.Context(), c, body)
}

func writeError(w http.ResponseWriter, status int, typ, query, message string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, message})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-query-error", query)
	w.WriteHeader(status)
	w.Write(b)
}
