package connect

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// Path prefixes the contact-records endpoint:
// POST Path+"{InstanceId}/contact-records".
const Path = "/connect/instances/"

// recordsSuffix ends the path of the contact-records endpoint.
const recordsSuffix = "/contact-records"

// TargetPrefix starts the X-Amz-Target header of the instance admin API:
// "OpenProfilesConnect.<Operation>".
const TargetPrefix = "OpenProfilesConnect."

// SigningService is the SigV4 service name of both APIs.
const SigningService = "profile"

// ContentType is the media type of the admin API (AWS JSON 1.1).
const ContentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds a contact-records request; MaxAdminBodyBytes an admin
// request.
const (
	MaxBodyBytes      = 10 << 20
	MaxAdminBodyBytes = 1 << 20
)

// exception is how an error code goes on the wire.
type exception struct {
	Type   string
	Status int
}

// exceptions is the one table from error codes to the exceptions of both
// APIs, those of the Customer Profiles API.
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

// wireError is an error that goes on the wire as it is: protocol errors
// whose exceptions are not in the table.
type wireError struct {
	Type    string
	Status  int
	Message string
}

func (e *wireError) Error() string { return e.Type + ": " + e.Message }

// toWire turns an error into what goes on the wire; internal details
// never leave.
func toWire(err error) *wireError {
	var we *wireError
	var se *sigv4.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.As(err, &se):
		return &wireError{se.Code, se.Status, se.Message}
	}
	ex := exceptions[profiles.ErrorCode(err)]
	return &wireError{ex.Type, ex.Status, profiles.ErrorMessage(err)}
}

// request is one request to either API.
type request struct {
	in        *Intake
	r         *http.Request
	id        string
	operation string
	principal string
	body      []byte
	log       []any // attributes added to the request's log line
}

// Handler returns the contact-records endpoint: POST
// Path+"{InstanceId}/contact-records" with one JSON record, a JSON array
// or JSON Lines (at most MaxBodyBytes), signed with SigV4 for the service
// "profile". The instance's association is looked up, the caller is
// authorised as profile:PutProfileObject on the domain
// (arn:aws:profile:{Region}:{AccountID}:domains/{DomainName}) with the
// condition keys aws:SourceIp, aws:CurrentTime, aws:PrincipalArn…, and only
// then are the records ingested (see Accept). The answer is a Result;
// errors are AWS-style JSON ({"__type", "Message"}, X-Amzn-ErrorType): an
// instance associated with no domain is a BadRequestException.
func (in *Intake) Handler() http.Handler {
	in.mustServe()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.serve(w, r, "PutContactRecords", MaxBodyBytes, "application/json", in.serveRecords)
	})
}

// AdminHandler returns the instance admin API: POST requests with
// X-Amz-Target TargetPrefix+"<Operation>", a JSON body, signed with SigV4
// for the service "profile":
//
//	CreateInstance {InstanceAlias}             -> {Instance}           connect:CreateInstance on *
//	ListInstances  {}                          -> {InstanceSummaryList} connect:ListInstances on *
//	SwitchInstance {InstanceArn, DomainName}   -> {Integration}        profile:PutIntegration on the new domain
//
// SwitchInstance also needs profile:DeleteIntegration on the domain the
// instance leaves. Errors are as for Handler.
func (in *Intake) AdminHandler() http.Handler {
	in.mustServe()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
		in.serve(w, r, op, MaxAdminBodyBytes, ContentType, in.serveAdmin)
	})
}

func (in *Intake) mustServe() {
	if in.Integrations == nil || in.Ingest == nil || in.Authorizer == nil || in.Verifier == nil {
		panic("connect: the handlers need Integrations, Ingest, an Authorizer and a sigv4.Verifier")
	}
}

// serve reads, authenticates and answers one request, and logs one line.
func (in *Intake) serve(w http.ResponseWriter, r *http.Request, operation string, maxBody int64, contentType string, f func(ctx context.Context, q *request) (any, error)) {
	start := time.Now()
	q := &request{in: in, r: r, id: newRequestID(), operation: operation}
	w.Header().Set("x-amzn-RequestId", q.id)
	out, err := q.authenticate(w, maxBody)
	if err == nil {
		out, err = f(profiles.NewContextWithPrincipal(r.Context(), q.principal), q)
	}
	var b []byte
	if err == nil {
		if b, err = json.Marshal(out); err != nil {
			err = fmt.Errorf("connect: encode %s output: %w", operation, err)
		}
	}
	status, errType, level := http.StatusOK, "", slog.LevelInfo
	if err != nil {
		we := toWire(err)
		status, errType = we.Status, we.Type
		if status >= 500 && status != http.StatusNotImplemented {
			level = slog.LevelError
		}
		// A full storage is logged by the store, once, not per request.
		if level == slog.LevelError && !errors.Is(err, profiles.ErrStorageFull) {
			in.logger().Error("connect request failed", "request_id", q.id, "operation", operation, "err", err)
		}
		b, _ = json.Marshal(struct {
			Type    string `json:"__type"`
			Message string `json:"Message"`
		}{we.Type, we.Message})
		w.Header().Set("X-Amzn-ErrorType", we.Type)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
	attrs := append([]any{"request_id", q.id, "operation", operation, "principal", q.principal,
		"status", status, "error", errType, "latency_ms", float64(time.Since(start).Microseconds()) / 1000}, q.log...)
	in.logger().Log(r.Context(), level, "connect request", attrs...)
}

// authenticate reads the body and verifies the signature.
func (q *request) authenticate(w http.ResponseWriter, maxBody int64) (any, error) {
	if q.r.Method != http.MethodPost {
		return nil, &wireError{"MethodNotAllowedException", http.StatusMethodNotAllowed, fmt.Sprintf("Use POST, not %s.", q.r.Method)}
	}
	// The body is read only of a request signed with a known key.
	pending, err := q.in.Verifier.Check(q.r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, q.r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &wireError{"RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
			fmt.Sprintf("A request holds at most %d bytes: send the records in several requests.", maxBody)}
	} else if err != nil {
		return nil, &wireError{"BadRequestException", http.StatusBadRequest, "Could not read the request body."}
	}
	q.body = body
	id, err := pending.Verify(body)
	if err != nil {
		return nil, err
	}
	if id.Service != SigningService {
		return nil, &sigv4.Error{Code: sigv4.InvalidSignature, Status: http.StatusForbidden,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", SigningService)}
	}
	q.principal = id.Principal
	if q.r.Header.Get("X-Amz-Target") != "" { // the admin API names its operation there
		if err := id.RequireSigned("X-Amz-Target"); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// serveRecords serves the contact-records endpoint.
func (in *Intake) serveRecords(ctx context.Context, q *request) (any, error) {
	rest, ok := strings.CutPrefix(q.r.URL.EscapedPath(), Path)
	escaped, ok2 := strings.CutSuffix(rest, recordsSuffix)
	instanceID, err := url.PathUnescape(escaped)
	if !ok || !ok2 || err != nil || instanceID == "" || strings.Contains(escaped, "/") {
		return nil, &wireError{"UnknownOperationException", http.StatusNotFound,
			"Send contact records to POST " + Path + "{InstanceId}" + recordsSuffix + "."}
	}
	q.log = append(q.log, "instance", instanceID)
	// A caller who may not send an instance's records is refused in the
	// same words whether the instance is associated or not, and whichever
	// domain: the answer must not tell which instances go where (which
	// ListAccountIntegrations tells only to whom it allows).
	refused := func() error {
		return profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to send the contact records of instance %s (profile:PutProfileObject on the domain it is associated with, and on its object type).",
			q.principal, clip(instanceID))
	}
	integ, err := in.Integration(ctx, instanceID)
	if profiles.ErrorCode(err) == profiles.EINVALID {
		// Only a caller who may put objects in any domain learns that the
		// instance is associated with none.
		if aerr := q.authorize(ctx, "profile:PutProfileObject", in.domainARN("*"), ""); profiles.ErrorCode(aerr) == profiles.EFORBIDDEN {
			return nil, refused()
		} else if aerr != nil {
			return nil, aerr
		}
	}
	if err != nil {
		return nil, err
	}
	q.log = append(q.log, "domain", integ.DomainName)
	// As PutProfileObject through the API: on the domain's ARN and its
	// object type's, each with its own tags.
	for _, arn := range []string{in.domainARN(integ.DomainName), in.domainARN(integ.DomainName) + "/object-types/" + ObjectType(integ)} {
		if err := q.authorize(ctx, "profile:PutProfileObject", arn, integ.DomainName); profiles.ErrorCode(err) == profiles.EFORBIDDEN {
			return nil, refused()
		} else if err != nil {
			return nil, err
		}
	}
	res, err := in.accept(ctx, integ, q.body)
	if err != nil {
		return nil, err
	}
	q.log = append(q.log, "accepted", res.Accepted, "failed", res.Failed)
	return res, nil
}

// authorize asks the Authorizer whether the caller may act on resource:
// the ARN of domain, or of one of its resources, whose own tags are its
// aws:ResourceTag/… keys, as in the API (domain "": an account-wide
// resource, without tags).
func (q *request) authorize(ctx context.Context, action, resource, domain string) error {
	var tags func(context.Context) (map[string][]string, error)
	if domain != "" {
		tags = q.in.tagsOf(resource)
	}
	return q.in.Authorizer.Authorize(ctx, &profiles.AuthRequest{
		Principal: q.principal, Action: action, Resource: resource,
		Context: q.conditionKeys(), RequestID: q.id, Tags: tags,
	})
}

// tagsOf returns the AuthRequest.Tags of the resource of an ARN (a
// domain's, or one of a domain's): its own tags (nil: none).
func (in *Intake) tagsOf(arn string) func(context.Context) (map[string][]string, error) {
	if in.Tags == nil {
		return nil
	}
	return func(ctx context.Context) (map[string][]string, error) {
		tags, err := in.Tags.ListTagsForResource(ctx, arn)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil // the operation answers for the missing domain or resource
		} else if err != nil {
			return nil, err // not evaluated without the resource's tags
		}
		cond := map[string][]string{}
		for k, v := range tags {
			cond["aws:ResourceTag/"+k] = []string{v}
		}
		return cond, nil
	}
}

// conditionKeys returns the global condition keys of the request.
func (q *request) conditionKeys() map[string][]string {
	now := q.in.now().UTC()
	keys := map[string][]string{
		"aws:CurrentTime":     {now.Format("2006-01-02T15:04:05Z")},
		"aws:EpochTime":       {strconv.FormatInt(now.Unix(), 10)},
		"aws:SecureTransport": {strconv.FormatBool(q.r.TLS != nil)},
		"aws:PrincipalArn":    {q.principal},
		"aws:RequestedRegion": {q.in.Region},
	}
	if host, _, err := net.SplitHostPort(q.r.RemoteAddr); err == nil {
		keys["aws:SourceIp"] = []string{host}
	}
	return keys
}

func (in *Intake) domainARN(domain string) string {
	return "arn:aws:profile:" + in.Region + ":" + in.AccountID + ":domains/" + domain
}

// newRequestID returns a random UUID (version 4), the form AWS uses.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
