package localkms

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/openprofiles/profiles"
)

// Exception names of the AWS KMS API that this package answers with.
const (
	ExAccessDenied            = "AccessDeniedException"
	ExAlreadyExists           = "AlreadyExistsException"
	ExDisabled                = "DisabledException"
	ExIncorrectKey            = "IncorrectKeyException"
	ExInternal                = "KMSInternalException"
	ExInvalidAliasName        = "InvalidAliasNameException"
	ExInvalidArn              = "InvalidArnException"
	ExInvalidCiphertext       = "InvalidCiphertextException"
	ExInvalidGrantID          = "InvalidGrantIdException"
	ExInvalidGrantToken       = "InvalidGrantTokenException"
	ExInvalidKeyUsage         = "InvalidKeyUsageException"
	ExInvalidMarker           = "InvalidMarkerException"
	ExInvalidState            = "KMSInvalidStateException"
	ExLimitExceeded           = "LimitExceededException"
	ExMalformedPolicyDocument = "MalformedPolicyDocumentException"
	ExNotFound                = "NotFoundException"
	ExSerialization           = "SerializationException"
	ExTag                     = "TagException"
	ExThrottling              = "ThrottlingException"
	ExUnknownOperation        = "UnknownOperationException"
	ExUnsupportedOperation    = "UnsupportedOperationException"
	ExValidation              = "ValidationException"
)

// Error is an error of the KMS API: the AWS exception name a client sees,
// and the *profiles.Error it stands for (so that profiles.ErrorCode and
// profiles.ErrorMessage see through it).
type Error struct {
	Exception string
	Err       *profiles.Error
}

func (e *Error) Error() string { return e.Exception + ": " + e.Err.Message }

// Unwrap returns the *profiles.Error.
func (e *Error) Unwrap() error { return e.Err }

// kmsErrorf returns an *Error of the exception ex with the code code.
func kmsErrorf(ex, code, format string, args ...any) *Error {
	return &Error{Exception: ex, Err: profiles.Errorf(code, format, args...)}
}

func notFoundf(format string, args ...any) *Error {
	return kmsErrorf(ExNotFound, profiles.ENOTFOUND, format, args...)
}

func validationf(format string, args ...any) *Error {
	return kmsErrorf(ExValidation, profiles.EINVALID, format, args...)
}

func invalidStatef(format string, args ...any) *Error {
	return kmsErrorf(ExInvalidState, profiles.EFORBIDDEN, format, args...)
}

func accessDeniedf(format string, args ...any) *Error {
	return kmsErrorf(ExAccessDenied, profiles.EFORBIDDEN, format, args...)
}

// exceptionOf returns the exception of an error that is not an *Error
// (from the store or the authorize callback) from its root error code.
func exceptionOf(code string) string {
	switch code {
	case profiles.EINVALID:
		return ExValidation
	case profiles.ENOTFOUND:
		return ExNotFound
	case profiles.ECONFLICT:
		return ExAlreadyExists
	case profiles.EQUOTA:
		return ExLimitExceeded
	case profiles.EFORBIDDEN:
		return ExAccessDenied
	case profiles.ETHROTTLED:
		return ExThrottling
	case profiles.ENOTIMPLEMENTED:
		return ExUnsupportedOperation
	}
	return ExInternal
}

// wireError returns the exception, HTTP status and message of err as the
// KMS API sends them. AWS KMS answers client errors with 400 and its own
// failures with 500.
func wireError(err error) (exception string, status int, message string) {
	var ke *Error
	if errors.As(err, &ke) {
		exception = ke.Exception
	} else {
		exception = exceptionOf(profiles.ErrorCode(err))
	}
	status = http.StatusBadRequest
	if exception == ExInternal {
		status = http.StatusInternalServerError
	}
	return exception, status, profiles.ErrorMessage(err)
}

// storeError returns err of the store as it is, with the context op when
// it is not an error a caller should see.
func storeError(op string, err error) error {
	if profiles.ErrorCode(err) == profiles.EINTERNAL {
		return fmt.Errorf("localkms: %s: %w", op, err)
	}
	return err
}
