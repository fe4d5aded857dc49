package service

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.UploadJobService = (*Service)(nil)

// Upload jobs. A job is a config (kind upload-job); its file, sealed under
// the domain's key, another (upload-file) until the job has run. The node
// that starts a job runs it, saying how far it got at least every
// uploadHeartbeat; a job IN_PROGRESS that has not said so for
// uploadStale (its node stopped) reads as FAILED. Each row is ingested as
// PutProfileObject would ingest it, with an object type made of the job's
// Fields and UniqueKey (UNIQUE and PROFILE), which the domain does not
// keep: its objects expire after DataExpiry days.

const (
	// UploadPath prefixes the URLs of upload jobs' files on this server:
	// UploadPath+"{domain}/{jobId}?signature=…".
	UploadPath = "/openprofiles/uploads/"

	uploadURLTTL    = time.Hour
	uploadHeartbeat = 5 * time.Second
	uploadStale     = 2 * time.Minute
	uploadWorkers   = 32
	maxUploadJobs   = 1000 // kept a domain; past it, the oldest finished go
)

type uploadDoc struct {
	DisplayName  string                              `json:"displayName"`
	Fields       map[string]profiles.ObjectTypeField `json:"fields"`
	UniqueKey    string                              `json:"uniqueKey"`
	DataExpiry   int                                 `json:"dataExpiry"`
	Status       string                              `json:"status"`
	StatusReason string                              `json:"statusReason,omitempty"`
	Message      string                              `json:"message,omitempty"`
	Uploaded     bool                                `json:"uploaded,omitempty"`
	TokenHash    string                              `json:"tokenHash,omitempty"` // SHA-256 of the current client token
	Created      int                                 `json:"created,omitempty"`
	Updated      int                                 `json:"updated,omitempty"`
	Failed       int                                 `json:"failed,omitempty"`
	CompletedAt  time.Time                           `json:"completedAt,omitzero"`
}

// uploadType is the object type of a job's rows.
func uploadType(domain, id string, doc *uploadDoc) *profiles.ObjectType {
	return &profiles.ObjectType{DomainName: domain, Name: "upload-" + id, Description: "rows of upload job " + id,
		AllowProfileCreation: true, ExpirationDays: doc.DataExpiry, Fields: doc.Fields,
		Keys: map[string][]profiles.ObjectTypeKey{doc.UniqueKey: {{
			StandardIdentifiers: []string{profiles.IdentifierUnique, profiles.IdentifierProfile}, FieldNames: []string{doc.UniqueKey}}}}}
}

// CreateUploadJob checks a job's mapping and keeps it, CREATED.
func (s *Service) CreateUploadJob(ctx context.Context, j *profiles.UploadJob) (*profiles.UploadJob, error) {
	if _, err := s.Store.FindDomain(ctx, j.DomainName); err != nil {
		return nil, domainErr(err, j.DomainName)
	}
	doc := &uploadDoc{DisplayName: j.DisplayName, Fields: j.Fields, UniqueKey: j.UniqueKey, DataExpiry: j.DataExpiry, Status: "CREATED"}
	if doc.DataExpiry == 0 {
		doc.DataExpiry = profiles.DefaultUploadDataExpiry
	}
	if len(doc.Fields) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "Fields must map at least one CSV column.")
	}
	if _, ok := doc.Fields[doc.UniqueKey]; !ok {
		return nil, profiles.Errorf(profiles.EINVALID, "UniqueKey %q must name one of the Fields.", doc.UniqueKey)
	}
	id := s.newID(s.now())
	if _, err := mapping.Compile(uploadType(j.DomainName, id, doc)); err != nil {
		return nil, err
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: j.DomainName, Kind: profiles.ConfigUploadJob, Name: id, Data: data}
	for try := 0; ; try++ {
		err := s.Configs.CreateConfig(ctx, c, maxUploadJobs)
		if profiles.ErrorCode(err) != profiles.EQUOTA || try > 0 {
			if err != nil {
				return nil, s.configErr(ctx, err, j.DomainName, "Upload job", id)
			}
			break
		}
		if err := s.dropOldUploadJobs(ctx, j.DomainName); err != nil {
			return nil, err
		}
	}
	return s.uploadFromConfig(c)
}

// dropOldUploadJobs deletes up to 100 of the oldest finished jobs.
func (s *Service) dropOldUploadJobs(ctx context.Context, domain string) error {
	list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigUploadJob, "", maxUploadJobs)
	if err != nil {
		return domainErr(err, domain)
	}
	dropped := 0
	for _, c := range list {
		j, err := s.uploadFromConfig(c)
		if err != nil || j.Status == "CREATED" || j.Status == "IN_PROGRESS" {
			continue
		}
		if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadJob, c.Name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadFile, c.Name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		if dropped++; dropped == 100 {
			break
		}
	}
	if dropped == 0 {
		return profiles.Errorf(profiles.EQUOTA, "Domain %s has %d upload jobs not finished; finish or stop some first.", domain, maxUploadJobs)
	}
	return nil
}

// GetUploadJob returns a job.
func (s *Service) GetUploadJob(ctx context.Context, domain, id string) (*profiles.UploadJob, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigUploadJob, id)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Upload job", id)
	}
	return s.uploadFromConfig(c)
}

// ListUploadJobs returns one page of a domain's jobs, newest first.
func (s *Service) ListUploadJobs(ctx context.Context, domain string, page profiles.Page) ([]*profiles.UploadJob, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigUploadJob, "", 0)
	if err != nil {
		return nil, "", domainErr(err, domain)
	}
	slices.Reverse(list) // ids sort by creation time
	scope := "ListUploadJobs/" + domain
	if page.Token != "" {
		before, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		i := slices.IndexFunc(list, func(c *profiles.DomainConfig) bool { return c.Name < before })
		if i < 0 {
			i = len(list)
		}
		list = list[i:]
	}
	next := ""
	if len(list) > size {
		list = list[:size]
		next = s.tokens.encode(scope, list[size-1].Name)
	}
	out := make([]*profiles.UploadJob, len(list))
	for i, c := range list {
		if out[i], err = s.uploadFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// UploadJobPath gives a job's upload URL and a new client token.
func (s *Service) UploadJobPath(ctx context.Context, domain, id, baseURL string) (*profiles.UploadJobPath, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := base64.StdEncoding.EncodeToString(raw)
	validUntil := s.now().Add(uploadURLTTL)
	_, err := s.updateUpload(ctx, domain, id, func(doc *uploadDoc) error {
		if doc.Status != "CREATED" {
			return profiles.Errorf(profiles.EINVALID, "Upload job %s is %s: its file can no longer be uploaded.", id, doc.Status)
		}
		doc.TokenHash = tokenHash(token)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sig := s.tokens.encode(uploadScope(domain, id), strconv.FormatInt(validUntil.UnixMilli(), 10))
	return &profiles.UploadJobPath{URL: baseURL + UploadPath + url.PathEscape(domain) + "/" + url.PathEscape(id) + "?signature=" + url.QueryEscape(sig),
		ClientToken: token, ValidUntil: validUntil}, nil
}

func uploadScope(domain, id string) string { return "UploadJobPath/" + domain + "/" + id }

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.StdEncoding.EncodeToString(h[:])
}

// UploadMD5 is the x-amz-server-side-encryption-customer-key-MD5 of a
// client token, as S3 computes it: the MD5 of the decoded key, in base64.
func UploadMD5(clientToken string) string {
	raw, _ := base64.StdEncoding.DecodeString(clientToken)
	h := md5.Sum(raw)
	return base64.StdEncoding.EncodeToString(h[:])
}

// Upload keeps a job's file, sealed under the domain's key.
func (s *Service) Upload(ctx context.Context, domain, id, signature, clientToken string, file []byte) error {
	forbidden := profiles.Errorf(profiles.EFORBIDDEN, "The upload URL or client token of job %s is wrong or has expired: ask GetUploadJobPath for new ones.", id)
	ms, err := s.tokens.decode(uploadScope(domain, id), signature)
	if err != nil {
		return forbidden
	}
	n, _ := strconv.ParseInt(ms, 10, 64)
	if !s.now().Before(time.UnixMilli(n)) {
		return forbidden
	}
	if len(file) > profiles.MaxUploadBytes {
		return profiles.Errorf(profiles.EINVALID, "An upload job's file holds at most %d bytes.", profiles.MaxUploadBytes)
	}
	check := func(doc *uploadDoc) error {
		if doc.TokenHash == "" || subtle.ConstantTimeCompare([]byte(doc.TokenHash), []byte(tokenHash(clientToken))) != 1 {
			return forbidden
		}
		if doc.Status != "CREATED" {
			return profiles.Errorf(profiles.EINVALID, "Upload job %s is %s: its file can no longer be uploaded.", id, doc.Status)
		}
		return nil
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigUploadJob, id)
	if err != nil {
		return s.configErr(ctx, err, domain, "Upload job", id)
	}
	var doc uploadDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return fmt.Errorf("upload job %s: %w", id, err)
	}
	if err := check(&doc); err != nil {
		return err
	}
	sealed, err := s.crypt.Seal(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordUpload, ID: id}, file)
	if err != nil {
		return err
	}
	// The file (replacing an earlier one), then the job says it has one,
	// if its token is still the one given.
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadFile, id); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	if err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigUploadFile, Name: id, Data: sealed}, 0); err != nil {
		return s.configErr(ctx, err, domain, "Upload job", id)
	}
	_, err = s.updateUpload(ctx, domain, id, func(doc *uploadDoc) error {
		if err := check(doc); err != nil {
			return err
		}
		doc.Uploaded = true
		return nil
	})
	if err != nil { // stopped, started or given a new token meanwhile: the file goes
		s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadFile, id)
	}
	return err
}

// StartUploadJob starts a job on this node.
func (s *Service) StartUploadJob(ctx context.Context, domain, id string) error {
	doc, err := s.updateUpload(ctx, domain, id, func(doc *uploadDoc) error {
		switch {
		case doc.Status != "CREATED":
			return profiles.Errorf(profiles.EINVALID, "Upload job %s is %s: it can start once only.", id, doc.Status)
		case !doc.Uploaded:
			return profiles.Errorf(profiles.EINVALID, "Upload job %s has no file yet: PUT it to the URL of GetUploadJobPath first.", id)
		}
		doc.Status = "IN_PROGRESS"
		return nil
	})
	if err != nil {
		return err
	}
	// The run outlives the request (its principal stays in the context).
	go s.runUpload(context.WithoutCancel(ctx), domain, id, doc)
	return nil
}

// StopUploadJob stops a job that has not finished; a job not started
// loses its file at once (a running one, when its run sees the stop).
func (s *Service) StopUploadJob(ctx context.Context, domain, id string) error {
	var was string
	_, err := s.updateUpload(ctx, domain, id, func(doc *uploadDoc) error {
		if doc.Status != "CREATED" && doc.Status != "IN_PROGRESS" {
			return profiles.Errorf(profiles.EINVALID, "Upload job %s is %s: only a job not finished can stop.", id, doc.Status)
		}
		was, doc.Status, doc.CompletedAt = doc.Status, "STOPPED", s.now()
		return nil
	})
	if err == nil && was == "CREATED" {
		if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadFile, id); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
	}
	return err
}

// errUploadStopped ends a run whose job was stopped.
var errUploadStopped = errors.New("upload job stopped")

// runUpload ingests a job's rows, and says how far it got.
func (s *Service) runUpload(ctx context.Context, domain, id string, doc *uploadDoc) {
	var created, updated, failed atomic.Int64
	var firstErr atomic.Value
	progress := func(final bool) error {
		_, err := s.updateUpload(ctx, domain, id, func(d *uploadDoc) error {
			d.Created, d.Updated, d.Failed = int(created.Load()), int(updated.Load()), int(failed.Load())
			if d.Status == "STOPPED" {
				return errUploadStopped
			}
			if !final {
				return nil
			}
			d.CompletedAt = s.now()
			switch {
			case d.Failed == 0:
				d.Status = "SUCCEEDED"
			case d.Created+d.Updated == 0:
				d.Status, d.StatusReason = "FAILED", "VALIDATION_FAILURE"
				if m, ok := firstErr.Load().(string); ok {
					d.Message = m
				}
			default:
				d.Status = "PARTIALLY_SUCCEEDED"
			}
			return nil
		})
		return err
	}
	fail := func(reason, msg string) {
		s.Logger.Error("upload job failed", "domain", domain, "job", id, "reason", reason, "error", msg)
		s.updateUpload(ctx, domain, id, func(d *uploadDoc) error {
			if d.Status == "IN_PROGRESS" {
				d.Status, d.StatusReason, d.Message, d.CompletedAt = "FAILED", reason, msg, s.now()
			}
			return nil
		})
	}
	defer s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadFile, id)

	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigUploadFile, id)
	if err != nil {
		fail("INTERNAL_FAILURE", "The job's file is gone.")
		return
	}
	file, err := s.crypt.Open(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordUpload, ID: id}, c.Data)
	if err != nil {
		fail("INTERNAL_FAILURE", profiles.ErrorMessage(err))
		return
	}
	t := uploadType(domain, id, doc)
	if _, err := s.mappers.get(t); err != nil {
		fail("VALIDATION_FAILURE", profiles.ErrorMessage(err))
		return
	}
	r := csv.NewReader(bytes.NewReader(file))
	header, err := r.Read()
	if err != nil {
		fail("VALIDATION_FAILURE", fmt.Sprintf("The file is not CSV with a header row: %v", err))
		return
	}
	header = slices.Clone(header)
	// Rows go to workers by their unique key's column: the rows of one key
	// are ingested by one worker, in the file's order (the last one is
	// kept, as if sent one after the other).
	keyCol := -1
	if src := doc.Fields[doc.UniqueKey].Source; strings.HasPrefix(src, "_source.") {
		keyCol = slices.Index(header, strings.TrimPrefix(src, "_source."))
	}
	queues := make([]chan []string, uploadWorkers)
	var wg sync.WaitGroup
	for w := range queues {
		queues[w] = make(chan []string, 16)
		rows := queues[w]
		wg.Go(func() {
			for row := range rows {
				obj := make(map[string]string, len(header))
				for i, col := range header {
					obj[col] = row[i]
				}
				b, _ := json.Marshal(obj)
				_, outcome, err := s.ingestObject(ctx, domain, t.Name, t, string(b), nil)
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, profiles.ErrorMessage(err))
				case outcome == "created":
					created.Add(1)
				default:
					updated.Add(1)
				}
			}
		})
	}
	closeAll := func() {
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
	}
	last := time.Now()
	stopped := false
	for n := 0; !stopped; n++ {
		row, err := r.Read()
		if err == io.EOF {
			break
		} else if errors.Is(err, csv.ErrFieldCount) {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			continue
		} else if err != nil {
			closeAll()
			progress(false)
			fail("VALIDATION_FAILURE", fmt.Sprintf("The file stops being CSV: %v", err))
			return
		}
		w := n % uploadWorkers
		if keyCol >= 0 {
			h := fnv.New32a()
			h.Write([]byte(row[keyCol]))
			w = int(h.Sum32() % uploadWorkers)
		}
		queues[w] <- row
		if time.Since(last) >= uploadHeartbeat {
			last = time.Now()
			stopped = errors.Is(progress(false), errUploadStopped)
		}
	}
	closeAll()
	if err := progress(true); err != nil && !errors.Is(err, errUploadStopped) {
		fail("INTERNAL_FAILURE", profiles.ErrorMessage(err))
	}
}

// updateUpload reads a job, calls fn on its document and stores it.
func (s *Service) updateUpload(ctx context.Context, domain, id string, fn func(*uploadDoc) error) (*uploadDoc, error) {
	var doc uploadDoc
	_, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigUploadJob, id, func(c *profiles.DomainConfig) error {
		doc = uploadDoc{}
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return fmt.Errorf("upload job %s: %w", id, err)
		}
		if err := fn(&doc); err != nil {
			return err
		}
		data, err := json.Marshal(doc)
		c.Data = data
		return err
	})
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Upload job", id)
	}
	return &doc, nil
}

// uploadFromConfig is a job as its config holds it; one IN_PROGRESS whose
// node has not said how far it got for uploadStale reads as FAILED.
func (s *Service) uploadFromConfig(c *profiles.DomainConfig) (*profiles.UploadJob, error) {
	var doc uploadDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("upload job %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	j := &profiles.UploadJob{DomainName: c.DomainName, ID: c.Name, DisplayName: doc.DisplayName, Fields: doc.Fields, UniqueKey: doc.UniqueKey,
		DataExpiry: doc.DataExpiry, Status: doc.Status, StatusReason: doc.StatusReason, Message: doc.Message, Uploaded: doc.Uploaded,
		Created: doc.Created, Updated: doc.Updated, Failed: doc.Failed, CreatedAt: c.CreatedAt, CompletedAt: doc.CompletedAt}
	if j.Status == "IN_PROGRESS" && s.now().Sub(c.LastUpdatedAt) > uploadStale {
		j.Status, j.StatusReason, j.Message = "FAILED", "INTERNAL_FAILURE", "The node that ran the job stopped before it finished."
	}
	return j, nil
}
