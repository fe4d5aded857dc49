package localsqs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// Exception names of the SQS API that this package answers with: the
// shape names of the SQS model, and the common errors of AWS services.
const (
	ExQueueDoesNotExist        = "QueueDoesNotExist"
	ExQueueNameExists          = "QueueNameExists"
	ExReceiptHandleIsInvalid   = "ReceiptHandleIsInvalid"
	ExMessageNotInflight       = "MessageNotInflight"
	ExInvalidAttributeName     = "InvalidAttributeName"
	ExInvalidAttributeValue    = "InvalidAttributeValue"
	ExInvalidMessageContents   = "InvalidMessageContents"
	ExUnsupportedOperation     = "UnsupportedOperation"
	ExTooManyEntries           = "TooManyEntriesInBatchRequest"
	ExEmptyBatchRequest        = "EmptyBatchRequest"
	ExBatchEntryIdsNotDistinct = "BatchEntryIdsNotDistinct"
	ExInvalidBatchEntryID      = "InvalidBatchEntryId"
	ExBatchRequestTooLong      = "BatchRequestTooLong"
	ExOverLimit                = "OverLimit"
	ExRequestThrottled         = "RequestThrottled"

	ExInvalidParameterValue = "InvalidParameterValue"
	ExMissingParameter      = "MissingParameter"
	ExAccessDenied          = "AccessDenied"
	ExUnknownOperation      = "UnknownOperation"
	ExSerialization         = "SerializationException"
	ExInternal              = "InternalError"
)

// wireName is how an exception goes on the wire: the __type of the JSON
// body, the code of the x-amzn-query-error header (what the SDKs and the
// CLI report as the error code of SQS, which is "query compatible") and
// the HTTP status. These follow the SQS model (its awsQueryError traits)
// and the bodies real SQS sends, e.g.
// {"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"…"} with
// x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender.
type wireName struct {
	typ, query string
	status     int
}

var wireNames = map[string]wireName{
	ExQueueDoesNotExist:        {"com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400},
	ExQueueNameExists:          {"com.amazonaws.sqs#QueueNameExists", "QueueAlreadyExists", 400},
	ExReceiptHandleIsInvalid:   {"com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404},
	ExMessageNotInflight:       {"com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400},
	ExInvalidAttributeName:     {"com.amazonaws.sqs#InvalidAttributeName", "InvalidAttributeName", 400},
	ExInvalidAttributeValue:    {"com.amazonaws.sqs#InvalidAttributeValue", "InvalidAttributeValue", 400},
	ExInvalidMessageContents:   {"com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents", 400},
	ExUnsupportedOperation:     {"com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400},
	ExTooManyEntries:           {"com.amazonaws.sqs#TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400},
	ExEmptyBatchRequest:        {"com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400},
	ExBatchEntryIdsNotDistinct: {"com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
	ExInvalidBatchEntryID:      {"com.amazonaws.sqs#InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400},
	ExBatchRequestTooLong:      {"com.amazonaws.sqs#BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400},
	ExOverLimit:                {"com.amazonaws.sqs#OverLimit", "OverLimit", 403},
	ExRequestThrottled:         {"com.amazonaws.sqs#RequestThrottled", "RequestThrottled", 403},

	ExInvalidParameterValue: {"com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", 400},
	ExMissingParameter:      {"com.amazonaws.sqs#MissingParameter", "MissingParameter", 400},
	ExAccessDenied:          {"com.amazon.coral.service#AccessDeniedException", "AccessDenied", 403},
	ExUnknownOperation:      {"com.amazon.coral.service#UnknownOperationException", "InvalidAction", 400},
	ExSerialization:         {"com.amazon.coral.service#SerializationException", "MalformedInput", 400},
	ExInternal:              {"com.amazon.coral.service#InternalFailure", "InternalError", 500},

	// Signature failures (sigv4.Error codes).
	sigv4.MissingAuthenticationToken: {"com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken", 403},
	sigv4.IncompleteSignature:        {"com.amazon.coral.service#IncompleteSignatureException", "IncompleteSignature", 400},
	sigv4.UnrecognizedClient:         {"com.amazon.coral.service#UnrecognizedClientException", "InvalidClientTokenId", 403},
	sigv4.InvalidSignature:           {"com.amazon.coral.service#InvalidSignatureException", "SignatureDoesNotMatch", 403},
}

// Error is an error of the SQS API: the exception a client sees, and the
// *profiles.Error it stands for (so that profiles.ErrorCode and
// profiles.ErrorMessage see through it).
type Error struct {
	Exception string
	Err       *profiles.Error
}

func (e *Error) Error() string { return e.Exception + ": " + e.Err.Message }

// Unwrap returns the *profiles.Error.
func (e *Error) Unwrap() error { return e.Err }

// sqsErrorf returns an *Error of the exception ex with the code code.
func sqsErrorf(ex, code, format string, args ...any) *Error {
	return &Error{Exception: ex, Err: profiles.Errorf(code, format, args...)}
}

func invalidParameterf(format string, args ...any) *Error {
	return sqsErrorf(ExInvalidParameterValue, profiles.EINVALID, format, args...)
}

func invalidParameter(name string, value any, reason string) *Error {
	return invalidParameterf("Value %v for parameter %s is invalid. Reason: %s", value, name, reason)
}

func missingParameter(name string) *Error {
	return sqsErrorf(ExMissingParameter, profiles.EINVALID, "The request must contain the parameter %s.", name)
}

func errNoQueue() *Error {
	return sqsErrorf(ExQueueDoesNotExist, profiles.ENOTFOUND, "The specified queue does not exist.")
}

func accessDeniedf(format string, args ...any) *Error {
	return sqsErrorf(ExAccessDenied, profiles.EFORBIDDEN, format, args...)
}

// exceptionOf returns the exception of an error that is not an *Error
// (from the store or the authorize callback) from its root error code.
func exceptionOf(code string) string {
	switch code {
	case profiles.EINVALID:
		return ExInvalidParameterValue
	case profiles.ENOTFOUND:
		return ExQueueDoesNotExist
	case profiles.ECONFLICT:
		return ExQueueNameExists
	case profiles.EQUOTA:
		return ExOverLimit
	case profiles.EFORBIDDEN:
		return ExAccessDenied
	case profiles.ETHROTTLED:
		return ExRequestThrottled
	case profiles.ENOTIMPLEMENTED:
		return ExUnsupportedOperation
	}
	return ExInternal
}

// wireError returns the __type, x-amzn-query-error value, HTTP status and
// message of err as the SQS JSON protocol sends them.
func wireError(err error) (typ, query string, status int, message string) {
	var exception string
	var se *sigv4.Error
	var qe *Error
	switch {
	case errors.As(err, &se):
		exception, message = se.Code, se.Message
	case errors.As(err, &qe):
		exception, message = qe.Exception, qe.Err.Message
	default:
		exception, message = exceptionOf(profiles.ErrorCode(err)), profiles.ErrorMessage(err)
	}
	w, ok := wireNames[exception]
	if !ok {
		w = wireName{"com.amazonaws.sqs#" + exception, exception, 400}
	}
	if se != nil && se.Status != 0 {
		w.status = se.Status
	}
	fault := "Sender"
	if w.status >= 500 {
		fault = "Receiver"
	}
	return w.typ, w.query + ";" + fault, w.status, message
}

// exceptionName returns the exception name of err, for logs.
func exceptionName(typ string) string {
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

// storeError returns err of the store as it is, with the context op when
// it is not an error a caller should see.
func storeError(op string, err error) error {
	if profiles.ErrorCode(err) == profiles.EINTERNAL {
		return fmt.Errorf("localsqs: %s: %w", op, err)
	}
	return err
}
