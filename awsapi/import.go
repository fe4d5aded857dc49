package awsapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/openprofiles/profiles"
)

// ImportPath prefixes the bulk-import endpoint, which is not an AWS
// operation: POST ImportPath+"{DomainName}/object-types/{ObjectTypeName}"
// with JSON Lines (or a JSON array) of objects, SigV4-signed for the service
// "profile" and authorised as profile:PutProfileObject on the domain. Each
// object goes through the asynchronous ingestion path: failures go to the
// domain's dead-letter queue. The answer counts them.
const ImportPath = "/openprofiles/import/domains/"

// importWorkers is how many objects of one import request are ingested at
// once: enough for one request of openprofiles import (500 objects) to fill
// a group commit of the SQLite store (sqlite.MaxGroupCommit), whose larger
// transactions write fewer pages an object (BENCHMARKS.md, tenth pass).
// Objects of one request are thus not applied in file order: two versions
// of one object are ordered by their _sourceLastUpdatedTimestamp.
const importWorkers = 256

// maxImportBody bounds one import request; the client sends large files in
// several requests.
const maxImportBody = 64 << 20

// ImportResult is the answer of the import endpoint.
type ImportResult struct {
	Ingested int             `json:"Ingested"`
	Failed   int             `json:"Failed"`
	Failures []ImportFailure `json:"Failures,omitempty"` // the first 100
}

// ImportFailure is one object that was not ingested.
type ImportFailure struct {
	Index     int    `json:"Index"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// ServeImport serves the bulk-import endpoint.
func (s *Server) ServeImport(w http.ResponseWriter, r *http.Request) {
	start := s.Now()
	c := &call{r: r, requestID: newRequestID(), query: r.URL.Query(), operation: "Import"}
	w.Header().Set("x-amzn-RequestId", c.requestID)
	if err := s.serveImport(w, c); err != nil {
		we := toWireError(err)
		s.Logger.Info("request", "request_id", c.requestID, "operation", "Import", "principal", c.principal, "status", we.Status, "error", we.Type)
		writeError(w, we)
		s.Metrics.observe("Import", we.Status, we.Type, s.Now().Sub(start))
		return
	}
	s.Metrics.observe("Import", http.StatusOK, "", s.Now().Sub(start))
}

func (s *Server) serveImport(w http.ResponseWriter, c *call) error {
	r := c.r
	if r.Method != http.MethodPost {
		return &wireError{"MethodNotAllowedException", http.StatusMethodNotAllowed, "Use POST to import objects."}
	}
	// The body is read only of a request signed with a known key.
	pending, err := s.Verifier.Check(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
	if err != nil {
		return &wireError{"RequestEntityTooLargeException", http.StatusRequestEntityTooLarge, fmt.Sprintf("An import request holds at most %d bytes: send the file in parts.", maxImportBody)}
	}
	c.body = body
	id, err := pending.Verify(body)
	if err != nil {
		return err
	}
	c.principal = id.Principal
	ctx := profiles.NewContextWithPrincipal(r.Context(), id.Principal)
	rest := strings.TrimPrefix(r.URL.EscapedPath(), ImportPath)
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "object-types" {
		return &wireError{"UnknownOperationException", http.StatusNotFound, "Import to " + ImportPath + "{DomainName}/object-types/{ObjectTypeName}."}
	}
	domain, err1 := url.PathUnescape(parts[0])
	objectType, err2 := url.PathUnescape(parts[2])
	if err1 != nil || err2 != nil {
		return profiles.Errorf(profiles.EINVALID, "Malformed import path.")
	}
	c.labels = map[string]string{"DomainName": domain, "ObjectTypeName": objectType}
	c.operation = "PutProfileObject"
	if err := s.authorize(ctx, c); err != nil {
		return err
	}
	objects, err := splitObjects(body)
	if err != nil {
		return err
	}
	// A missing domain or object type: nothing can go in.
	if _, err := s.ObjectTypes.GetObjectType(ctx, domain, objectType); err != nil {
		return err
	}
	// The objects go in concurrently, so that the store commits many of
	// them in one transaction (group commit); the answer lists failures by
	// index, in order.
	errs := make([]error, len(objects))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(importWorkers, len(objects)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objects) {
					return
				}
				_, errs[i] = s.Ingest.IngestAsync(ctx, domain, objectType, objects[i], "import")
			}
		})
	}
	wg.Wait()
	var res ImportResult
	for i, err := range errs {
		if err != nil {
			res.Failed++
			if len(res.Failures) < 100 {
				res.Failures = append(res.Failures, ImportFailure{Index: i, ErrorCode: importCode(err), Message: profiles.ErrorMessage(err)})
			}
			continue
		}
		res.Ingested++
	}
	s.Logger.Info("request", "request_id", c.requestID, "operation", "Import", "principal", c.principal, "status", 200, "ingested", res.Ingested, "failed", res.Failed)
	writeJSON(w, http.StatusOK, res)
	return nil
}

func importCode(err error) string {
	if r := profiles.ErrorReason(err); r != "" {
		return r
	}
	return exceptions[profiles.ErrorCode(err)].Type
}

// splitObjects reads a JSON array of objects, or JSON Lines (blank lines
// skipped), into the objects' compact JSON texts.
func splitObjects(body []byte) ([]string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "The import is not a JSON array: %v", err)
		}
		out := make([]string, len(items))
		for i, it := range items {
			var b bytes.Buffer
			if err := json.Compact(&b, it); err != nil {
				return nil, profiles.Errorf(profiles.EINVALID, "Item %d is not JSON: %v", i, err)
			}
			out[i] = b.String()
		}
		return out, nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), profiles.MaxObjectSize*4)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, profiles.Errorf(profiles.EINVALID, "The import is not JSON Lines: %v", err)
	}
	return out, nil
}
