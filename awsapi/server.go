package awsapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sigv4"
)

// DefaultMaxBodyBytes is the largest request body accepted by default.
const DefaultMaxBodyBytes = 10 << 20

// handler serves one operation: it binds its input from c and returns the
// output shape to encode.
type handler func(ctx context.Context, c *call) (any, error)

// Server serves the Customer Profiles API. Set the fields, then call Init
// once before serving.
type Server struct {
	Domains      profiles.DomainService
	Tags         profiles.TagService
	ObjectTypes  profiles.ObjectTypeService
	Ingest       profiles.IngestService
	Search       profiles.SearchService
	Profiles     profiles.ProfileService
	Integrations profiles.IntegrationService
	Layouts      profiles.LayoutService

	CalculatedAttributes profiles.CalculatedAttributeService
	Segments             profiles.SegmentService
	EventTriggers        profiles.EventTriggerService
	EventStreams         profiles.EventStreamService
	IdentityResolution   profiles.IdentityResolutionService
	Snapshots            profiles.SegmentSnapshotService
	Matching             profiles.MatchingService
	TypeAttributes       profiles.TypeAttributeService
	Uploads              profiles.UploadJobService
	DomainObjectTypes    profiles.DomainObjectTypeService
	Recommenders         profiles.RecommenderService
	Workflows            profiles.WorkflowService

	// Authorizer, when set, decides every call; Region names the region in
	// the aws:RequestedRegion condition key.
	Authorizer profiles.Authorizer
	Region     string
	Verifier   *sigv4.Verifier
	Logger     *slog.Logger
	Now        func() time.Time

	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Metrics, when set, counts requests, errors and latencies.
	Metrics *Metrics

	// OnServerError, when set, is called with the error of each request
	// that failed with a server error (5xx but 501): a cause the server
	// may want to look into (such as its store's schema). It must be
	// quick.
	OnServerError func(error)

	router   *router
	handlers map[string]handler
}

// Init builds the route table and the handler map.
func (s *Server) Init() {
	s.router = newRouter(routes)
	s.handlers = map[string]handler{}
	s.registerDomainHandlers()
	s.registerTagHandlers()
	s.registerObjectTypeHandlers()
	s.registerLayoutHandlers()
	s.registerCalculatedAttributeHandlers()
	s.registerSegmentHandlers()
	s.registerEventTriggerHandlers()
	s.registerEventStreamHandlers()
	s.registerIdentityResolutionHandlers()
	s.registerSnapshotHandlers()
	s.registerMatchingHandlers()
	s.registerTypeAttributeHandlers()
	s.registerUploadHandlers()
	s.registerDomainObjectTypeHandlers()
	s.registerObjectHandlers()
	s.registerProfileHandlers()
	s.registerIntegrationHandlers()
	s.registerRecommenderHandlers()
	s.registerWorkflowHandlers()
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
}

// Route is an operation of the API with its HTTP method and URI template.
type Route struct {
	Operation   string
	Method      string
	Template    string
	Implemented bool
}

// Routes returns every operation of the model as this server routes it.
func (s *Server) Routes() []Route {
	out := make([]Route, 0, len(routes))
	for _, r := range routes {
		out = append(out, Route{r.Operation, r.Method, r.Template, s.handlers[r.Operation] != nil})
	}
	return out
}

// ServeHTTP authenticates, routes and serves one API request, and logs one
// line about it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.Now()
	c := &call{r: r, requestID: newRequestID(), query: r.URL.Query()}
	w.Header().Set("x-amzn-RequestId", c.requestID)
	status, err := s.serve(w, c)
	level, errType := slog.LevelInfo, ""
	if err != nil {
		we := toWireError(err)
		if we.Status >= 500 && we.Status != http.StatusNotImplemented {
			level = slog.LevelError
		}
		// A full storage is logged by the store, once, not per request.
		if level == slog.LevelError && !errors.Is(err, profiles.ErrStorageFull) {
			s.Logger.Error("request failed", "request_id", c.requestID, "operation", c.operation, "err", err)
			if s.OnServerError != nil {
				s.OnServerError(err)
			}
		}
		status, errType = we.Status, we.Type
		writeError(w, we)
	}
	latency := s.Now().Sub(start)
	s.Metrics.observe(c.operation, status, errType, latency)
	s.Logger.Log(r.Context(), level, "request",
		"request_id", c.requestID,
		"operation", c.operation,
		"principal", c.principal,
		"method", r.Method,
		"status", status,
		"error", errType,
		"latency_ms", float64(latency.Microseconds())/1000,
	)
}

// serve returns the status written, or an error to write.
func (s *Server) serve(w http.ResponseWriter, c *call) (int, error) {
	r := c.r
	// The body is read only of a request signed with a known key.
	pending, err := s.Verifier.Check(r)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return 0, &wireError{"RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body exceeds the limit of %d bytes.", s.MaxBodyBytes)}
	} else if err != nil {
		return 0, &wireError{"BadRequestException", http.StatusBadRequest, "Could not read the request body."}
	}
	c.body = body

	id, err := pending.Verify(body)
	if err != nil {
		return 0, err
	}
	c.principal = id.Principal
	r = r.WithContext(profiles.NewContextWithPrincipal(r.Context(), id.Principal))

	rt, labels, pathKnown := s.router.match(r.Method, r.URL.EscapedPath())
	if rt == nil {
		if pathKnown {
			return 0, &wireError{"MethodNotAllowedException", http.StatusMethodNotAllowed,
				fmt.Sprintf("Method %s is not allowed on %s.", r.Method, r.URL.Path)}
		}
		return 0, &wireError{"UnknownOperationException", http.StatusNotFound,
			fmt.Sprintf("No operation matches %s %s.", r.Method, r.URL.Path)}
	}
	c.operation, c.labels = rt.Operation, labels
	if domain := labels["DomainName"]; domain != "" && rt.Operation != "CreateDomain" {
		ctx := r.Context()
		c.check = func() error { return s.Domains.CheckDomain(ctx, domain) }
	}
	if err := s.authorize(r.Context(), c); err != nil {
		return 0, err
	}
	h := s.handlers[rt.Operation]
	if h == nil {
		return 0, profiles.Errorf(profiles.ENOTIMPLEMENTED, "OpenProfiles does not implement the %s operation yet.", rt.Operation)
	}
	out, err := h(r.Context(), c)
	if err != nil {
		return 0, err
	}
	status := http.StatusOK
	if sc, ok := out.(interface{ httpStatus() int }); ok {
		status = sc.httpStatus()
	}
	writeJSON(w, status, out)
	return status, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, &wireError{"InternalServerException", http.StatusInternalServerError, "Internal error."})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// WriteError answers a request that no operation serves with err, the way
// the API answers errors: its code's exception from the one table, its
// message, and a request id.
func WriteError(w http.ResponseWriter, err error) {
	w.Header().Set("x-amzn-RequestId", newRequestID())
	writeError(w, toWireError(err))
}

func writeError(w http.ResponseWriter, e *wireError) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
	}{e.Type, e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	w.Write(b)
}

// newRequestID returns a random UUID (version 4), the form AWS uses.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// toWireError turns an error into what goes on the wire: SigV4 failures and
// protocol errors as they are, coded errors from the one table, anything
// else as an internal error.
func toWireError(err error) *wireError {
	var we *wireError
	var sigErr *sigv4.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.As(err, &sigErr):
		return &wireError{sigErr.Code, sigErr.Status, sigErr.Message}
	}
	ex := exceptions[profiles.ErrorCode(err)]
	return &wireError{Type: ex.Type, Status: ex.Status, Message: profiles.ErrorMessage(err)}
}
