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
// message safe to send to the caller.
type Error struct {
	Code    string
	Message string
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
