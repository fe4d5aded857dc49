package localkms

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
	"github.com/openprofiles/profiles/internal/jsonproto"
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
// resource, the request's condition keys), with the key ARN as resource,
// or "*" for CreateKey, ListKeys and ListAliases (the server's decision:
// for a key, from its policy and grants and, where the key policy names
// the account, the identity policies; see Authorize), and then by the
// key's policy and grants for the principal (see allow). verifier is
// required; a nil authorize leaves the key policy alone to decide (a
// statement naming the account then allows). authorize's errors are
// answered as they are: an EFORBIDDEN *profiles.Error becomes an
// AccessDeniedException. logger (nil: discard) gets one line per request.
func (k *KMS) Handler(verifier *sigv4.Verifier, authorize Authorize, logger *slog.Logger) http.Handler {
	if verifier == nil {
		panic("localkms: Handler needs a sigv4.Verifier")
	}
	ops := map[string]jsonproto.Op{}
	for name, f := range k.operations() {
		ops[name] = func(ctx context.Context, c *jsonproto.Call) (any, error) {
			return f(ctx, &caller{principal: c.Principal, authorize: authorize, cond: iam.RequestContext(c.Request, k.now())}, c.Body)
		}
	}
	return &jsonproto.API{
		Name: "kms", TargetPrefix: TargetPrefix, SigningService: SigningService, ContentType: contentType,
		MaxBodyBytes: MaxBodyBytes, Verifier: verifier, Logger: logger, NewRequestID: newUUID, Ops: ops,
		BadMethod: func(method string) error {
			return kmsErrorf(ExUnknownOperation, profiles.EINVALID, "The KMS API takes POST requests, not %s.", method)
		},
		TooLarge: func(max int64) error { return validationf("The request body exceeds %d bytes.", max) },
		Unreadable: func() error {
			return kmsErrorf(ExSerialization, profiles.EINVALID, "Could not read the request body.")
		},
		UnknownOperation: func(name, target string) error {
			return kmsErrorf(ExUnknownOperation, profiles.EINVALID, "The KMS operation %q is not known here (X-Amz-Target %q).", name, target)
		},
		WriteError: writeError,
	}
}

// writeError answers err as a KMS error: JSON {"__type", "message"}.
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
	jsonproto.WriteError(w, contentType, status, exception, message)
	return status, exception
}
