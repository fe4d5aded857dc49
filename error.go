package profiles

import (
	"errors"
	"fmt"
)

// Error codes a caller may see. Transports map each code to a wire error
// (for the AWS API: an exception name and HTTP status) from one table.
const (
	EINVALID        = "invalid"         // bad input: a field, a rule or a mapping is wrong
	ENOTFOUND       = "not_found"       // the named resource does not exist
	ECONFLICT       = "conflict"        // the resource exists already or is in the way
	EQUOTA          = "quota"           // a configured limit would be exceeded
	EFORBIDDEN      = "forbidden"       // the caller is not allowed to do this
	ETHROTTLED      = "throttled"       // too many requests
	ENOTIMPLEMENTED = "not_implemented" // the operation exists in the API but not (yet) here
	EINTERNAL       = "internal"        // anything else; details are logged, never sent
)

// Error is an error a caller should see: a code from the list above and a
// message safe to send to the caller. Reason, when set, is a stable name of
// an ingestion failure (the Reason* constants) that travels with the object
// to the dead-letter queue.
type Error struct {
	Code    string
	Message string
	Reason  string
}

// Reasons an object could not be ingested, with the messages of the product
// brief. The messages are part of the API: keep them as they are.
const (
	ReasonKeyMissing     = "KEY_MISSING"
	ReasonRateExceeded   = "RATE_EXCEEDED"
	ReasonObjectTooLarge = "OBJECT_TOO_LARGE"
	ReasonAmbiguousKeys  = "AMBIGUOUS_KEYS"
	ReasonNoProfile      = "NO_PROFILE"
	ReasonProfileQuota   = "PROFILE_QUOTA"
	ReasonInvalidObject  = "INVALID_OBJECT"
	ReasonKMSKeyAccess   = "KMS_KEY_ACCESS"
	ReasonKMSKeyInvalid  = "KMS_KEY_INVALID"
	ReasonKMSKeyState    = "KMS_KEY_STATE"
)

// Messages of the product brief for ingestion failures.
const (
	MsgKeyMissing     = "The UNIQUE key or PROFILE key doesn't exist in the profile object"
	MsgRateExceeded   = "Too many objects ingested to the profile per second"
	MsgObjectTooLarge = "Your data contains a profile object larger than %d bytes"
	MsgAmbiguousKeys  = "All the keys in this object are linked to multiple profiles"
	MsgKMSKeyAccess   = "Customer Profiles can't ingest the object because the EncryptionKey doesn't exist in the region, the EncryptionKey doesn't have usage permission for Customer Profiles, or the EncryptionKey doesn't have GenerateDataKey permission"
	MsgKMSKeyInvalid  = "The KMS key is invalid"
	MsgKMSKeyState    = "Customer Profiles cannot ingest the object because of an invalid KMS key"
)

// IngestErrorf returns an *Error with an ingestion failure reason.
func IngestErrorf(code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorReason returns the Reason of the first *Error in err's chain.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and
// a generic text for any other error so that internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrStoreUnreachable is in the chain of the error of a request that a
// store could not carry out because it could not reach its database: a
// connection lost or refused, or a database that stopped answering (an
// outage, a failover, a network cut). Its message, sent to the caller,
// says so, and names nothing of the database; the cause is logged.
var ErrStoreUnreachable = &Error{Code: EINTERNAL,
	Message: "The server cannot reach its database at the moment. Retry the request."}

// ErrStorageFull is in the chain of the error of a write that a store could
// not make because its storage is full: the disk, or a limit on the size of
// its files. The write was not made (its transaction rolled back). Its
// message, sent to the caller, says so; transports need not log each such
// request, since the store logs when its storage becomes full and when it
// takes writes again.
var ErrStorageFull = &Error{Code: EINTERNAL,
	Message: "The server's storage is full: the write was not made. Retry once space has been freed on the server."}
