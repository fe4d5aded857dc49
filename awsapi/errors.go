package awsapi

import (
	"net/http"

	"github.com/openprofiles/profiles"
)

// exception is how an error code goes on the wire.
type exception struct {
	Type   string
	Status int
}

// exceptions is the one table from error codes to AWS exceptions. The model
// declares BadRequest, AccessDenied, ResourceNotFound, Throttling and
// InternalServer; the service has no Conflict or Validation exception, so
// those are BadRequest. Operations this server lacks answer 501.
var exceptions = map[string]exception{
	profiles.EINVALID:        {"BadRequestException", http.StatusBadRequest},
	profiles.ECONFLICT:       {"BadRequestException", http.StatusBadRequest},
	profiles.EQUOTA:          {"BadRequestException", http.StatusBadRequest},
	profiles.ENOTFOUND:       {"ResourceNotFoundException", http.StatusNotFound},
	profiles.EFORBIDDEN:      {"AccessDeniedException", http.StatusForbidden},
	profiles.ETHROTTLED:      {"ThrottlingException", http.StatusTooManyRequests},
	profiles.ENOTIMPLEMENTED: {"NotImplementedException", http.StatusNotImplemented},
	profiles.EINTERNAL:       {"InternalServerException", http.StatusInternalServerError},
}

// wireError is an error that goes on the wire as it is: SigV4 failures and
// protocol-level errors whose exception names are not in the model.
type wireError struct {
	Type    string
	Status  int
	Message string
}

func (e *wireError) Error() string { return e.Type + ": " + e.Message }
