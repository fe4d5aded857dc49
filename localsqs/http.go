package localsqs

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
	"github.com/openprofiles/profiles/internal/jsonproto"
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
// ListQueues, by authorize(ctx, principal, action, resource, the request's
// condition keys) and the
// queue's policy (see allow). verifier is required; a nil authorize lets
// the queue policies alone refuse. authorize's errors are answered as they
// are: an EFORBIDDEN *profiles.Error becomes AccessDenied. logger (nil:
// discard) gets one line per request.
func (s *SQS) Handler(verifier *sigv4.Verifier, authorize Authorize, logger *slog.Logger) http.Handler {
	if verifier == nil {
		panic("localsqs: Handler needs a sigv4.Verifier")
	}
	ops := map[string]jsonproto.Op{}
	for name, f := range s.operations() {
		ops[name] = func(ctx context.Context, c *jsonproto.Call) (any, error) {
			r := c.Request
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			return f(ctx, &caller{principal: c.Principal, authorize: authorize, base: scheme + "://" + r.Host,
				context: iam.RequestContext(r, s.now())}, c.Body)
		}
	}
	return &jsonproto.API{
		Name: "sqs", TargetPrefix: TargetPrefix, SigningService: SigningService, ContentType: contentType,
		MaxBodyBytes: MaxBodyBytes, Verifier: verifier, Logger: logger, NewRequestID: newUUID, Ops: ops,
		BadMethod: func(method string) error {
			return sqsErrorf(ExUnknownOperation, profiles.EINVALID, "The SQS API takes POST requests, not %s.", method)
		},
		TooLarge: func(max int64) error { return invalidParameterf("The request body exceeds %d bytes.", max) },
		Unreadable: func() error {
			return sqsErrorf(ExSerialization, profiles.EINVALID, "Could not read the request body.")
		},
		UnknownOperation: func(name, target string) error {
			if slices.Contains(unsupported, name) && strings.HasPrefix(target, TargetPrefix) {
				return sqsErrorf(ExUnsupportedOperation, profiles.ENOTIMPLEMENTED, "The built-in queue service does not support %s.", name)
			}
			return sqsErrorf(ExUnknownOperation, profiles.EINVALID, "The SQS operation %q is not known here (X-Amz-Target %q).", name, target)
		},
		WriteError: writeError,
	}
}

// writeError answers err as an SQS error: JSON {"__type", "message"} with
// the query-compatible error code in x-amzn-query-error.
func writeError(w http.ResponseWriter, err error) (int, string) {
	typ, query, status, message := wireError(err)
	w.Header().Set("x-amzn-query-error", query)
	jsonproto.WriteError(w, contentType, status, typ, message)
	return status, exceptionName(typ)
}
