package iamapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/openprofiles/profiles"
)

// Exception names of the AWS IAM API that this package answers with, and
// the two of the AWS JSON protocol itself (SerializationException,
// UnknownOperationException).
const (
	ExAccessDenied            = "AccessDenied"
	ExEntityAlreadyExists     = "EntityAlreadyExists"
	ExLimitExceeded           = "LimitExceeded"
	ExMalformedPolicyDocument = "MalformedPolicyDocument"
	ExNoSuchEntity            = "NoSuchEntity"
	ExServiceFailure          = "ServiceFailure"
	ExThrottling              = "Throttling"
	ExUnsupportedOperation    = "UnsupportedOperation"
	ExValidation              = "ValidationError"
	ExSerialization           = "SerializationException"
	ExUnknownOperation        = "UnknownOperationException"
)

// exceptions is the one table from error codes to exceptions and HTTP
// statuses. EINVALID is ValidationError, except on the operations that take
// a policy document (see Error.Exception and policyError).
var exceptions = map[string]struct {
	name   string
	status int
}{
	profiles.EINVALID:        {ExValidation, http.StatusBadRequest},
	profiles.ENOTFOUND:       {ExNoSuchEntity, http.StatusNotFound},
	profiles.ECONFLICT:       {ExEntityAlreadyExists, http.StatusConflict},
	profiles.EQUOTA:          {ExLimitExceeded, http.StatusConflict},
	profiles.EFORBIDDEN:      {ExAccessDenied, http.StatusForbidden},
	profiles.ETHROTTLED:      {ExThrottling, http.StatusBadRequest},
	profiles.ENOTIMPLEMENTED: {ExUnsupportedOperation, http.StatusBadRequest},
	profiles.EINTERNAL:       {ExServiceFailure, http.StatusInternalServerError},
}

// Error is an error of the IAM API whose exception is not the one of its
// code in the table: the exception a client sees and the *profiles.Error it
// stands for (so that profiles.ErrorCode and profiles.ErrorMessage see
// through it).
type Error struct {
	Exception string
	Status    int
	Err       *profiles.Error
}

func (e *Error) Error() string { return e.Exception + ": " + e.Err.Message }

// Unwrap returns the *profiles.Error.
func (e *Error) Unwrap() error { return e.Err }

// validationf returns a ValidationError (EINVALID).
func validationf(format string, args ...any) error {
	return profiles.Errorf(profiles.EINVALID, format, args...)
}

// serializationf returns a SerializationException (EINVALID).
func serializationf(format string, args ...any) error {
	return &Error{Exception: ExSerialization, Status: http.StatusBadRequest,
		Err: profiles.Errorf(profiles.EINVALID, format, args...)}
}

// unknownOperationf returns an UnknownOperationException (EINVALID).
func unknownOperationf(format string, args ...any) error {
	return &Error{Exception: ExUnknownOperation, Status: http.StatusBadRequest,
		Err: profiles.Errorf(profiles.EINVALID, format, args...)}
}

// policyError turns an EINVALID error of the service about a policy
// document into MalformedPolicyDocument; other errors are returned as they
// are.
func policyError(err error) error {
	var pe *profiles.Error
	if profiles.ErrorCode(err) == profiles.EINVALID && errors.As(err, &pe) {
		return &Error{Exception: ExMalformedPolicyDocument, Status: http.StatusBadRequest, Err: pe}
	}
	return err
}

// wireError returns the exception, HTTP status and message of err as the
// API sends them. Messages of internal errors are generic; the details are
// logged by the caller.
func wireError(err error) (exception string, status int, message string) {
	var ie *Error
	if errors.As(err, &ie) {
		return ie.Exception, ie.Status, ie.Err.Message
	}
	ex, ok := exceptions[profiles.ErrorCode(err)]
	if !ok {
		ex = exceptions[profiles.EINTERNAL]
	}
	return ex.name, ex.status, profiles.ErrorMessage(err)
}

// serviceError returns err of the service as it is, with the context op
// when it is not an error a caller should see.
func serviceError(op string, err error) error {
	if err != nil && profiles.ErrorCode(err) == profiles.EINTERNAL {
		return fmt.Errorf("iamapi: %s: %w", op, err)
	}
	return err
}
