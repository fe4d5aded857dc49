package service

import (
	"bytes"
	"context"
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
	"unicode/utf8"

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
	// uploadWorkers ingest a job's rows at once: enough to fill the SQLite
	// store's group commits (sqlite.MaxGroupCommit), as the import
	// endpoint does (BENCHMARKS.md, twelfth pass: +49 % rows/s over 32).
	uploadWorkers = 256
	// uploadThrottleWait bounds how long a row waits for its profile's
	// ingestion rate before it fails.
	uploadThrottleWait = 30 * time.Second
	maxUploadJobs      = 1000 // kept a domain; past it, the oldest finished go
	// uploadUnstartedTTL is how long a job never started is kept when the
	// domain needs room for new ones.
	uploadUnstartedTTL = 24 * time.Hour
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
	File         string                              `json:"file,omitempty"`      // name of the file's config
	TokenHash    string                              `json:"tokenHash,omitempty"` // SHA-256 of the current client token
	Created      int                                 `json:"created,omitempty"`
	Updated      int                                 `json:"updated,omitempty"`
	Failed       int                                 `json:"failed,omitempty"`
	CompletedAt  time.Time                           `json:"completedAt,omitzero"`
}

// uploadType is the object type of a job's rows.
func uploadType(domain, id string, doc *uploadDoc) *profiles.ObjectType {
	// A name no object type of the API can have (a space): the job's
	// objects never mix with a type's.
	return &profiles.ObjectType{DomainName: domain, Name: "upload job " + id, Description: "rows of upload job " + id,
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

// dropOldUploadJobs deletes up to 100 of the oldest jobs that are
// finished, or were created more than uploadUnstartedTTL ago and never
// started, with their files.
func (s *Service) dropOldUploadJobs(ctx context.Context, domain string) error {
	list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigUploadJob, "", maxUploadJobs)
	if err != nil {
		return domainErr(err, domain)
	}
	dropped := 0
	for _, c := range list {
		var doc uploadDoc
		if json.Unmarshal(c.Data, &doc) != nil {
			continue
		}
		j, _ := s.uploadFromConfig(c)
		switch {
		case j == nil, j.Status == "IN_PROGRESS":
			continue
		case j.Status == "CREATED" && s.now().Sub(c.CreatedAt) < uploadUnstartedTTL:
			continue
		}
		// A job about to be started meanwhile must not go: it is first
		// marked STOPPED (which no start takes), if it still may go.
		if j.Status == "CREATED" {
			if _, err := s.updateUpload(ctx, domain, c.Name, func(d *uploadDoc) error {
				if d.Status != "CREATED" {
					return errChangedMeanwhile
				}
				d.Status = "STOPPED"
				return nil
			}); err != nil {
				continue
			}
		}
		if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadJob, c.Name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		s.dropUploadFile(ctx, domain, doc.File)
		if dropped++; dropped == 100 {
			break
		}
	}
	if dropped == 0 {
		return profiles.Errorf(profiles.EQUOTA, "Domain %s has %d upload jobs running or created within a day; stop some first.", domain, maxUploadJobs)
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
	size, err := pageSizeUpTo(page.MaxResults, 500) // the API allows up to 500 here
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
	_, err := s.updateUploadAsRead(ctx, domain, id, func(doc *uploadDoc) error {
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

// CheckUpload tells whether a PUT of a job's file may go on: the URL's
// signature and expiry, the job, its client token and its state. The
// upload endpoint asks it before reading the body.
func (s *Service) CheckUpload(ctx context.Context, domain, id, signature, clientToken string) error {
	_, err := s.checkUpload(ctx, domain, id, signature, clientToken, true)
	return err
}

// checkUpload checks an upload, and returns the check of the job's state
// for the update that records the file. The URL's expiry is checked
// (withExpiry) before the body only: a file that began on time is taken.
func (s *Service) checkUpload(ctx context.Context, domain, id, signature, clientToken string, withExpiry bool) (func(*uploadDoc) error, error) {
	forbidden := profiles.Errorf(profiles.EFORBIDDEN, "The upload URL or client token of job %s is wrong or has expired: ask GetUploadJobPath for new ones.", id)
	ms, err := s.tokens.decode(uploadScope(domain, id), signature)
	if err != nil {
		return nil, forbidden
	}
	n, _ := strconv.ParseInt(ms, 10, 64)
	if withExpiry && !s.now().Before(time.UnixMilli(n)) {
		return nil, forbidden
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
		return nil, s.configErr(ctx, err, domain, "Upload job", id)
	}
	var doc uploadDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("upload job %s: %w", id, err)
	}
	return check, check(&doc)
}

// Upload keeps a job's file, sealed under the domain's key, under a name
// of its own that the job then records (replacing, and deleting, an
// earlier file) if its token is still the one given.
func (s *Service) Upload(ctx context.Context, domain, id, signature, clientToken string, file []byte) error {
	check, err := s.checkUpload(ctx, domain, id, signature, clientToken, false)
	if err != nil {
		return err
	}
	if len(file) > profiles.MaxUploadBytes {
		return profiles.Errorf(profiles.EINVALID, "An upload job's file holds at most %d bytes.", profiles.MaxUploadBytes)
	}
	name := id + "." + s.newID(s.now())
	sealed, err := s.crypt.Seal(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordUpload, ID: name}, file)
	if err != nil {
		return err
	}
	if err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigUploadFile, Name: name, Data: sealed}, 0); err != nil {
		return s.configErr(ctx, err, domain, "Upload job", id)
	}
	var previous string
	_, err = s.updateUpload(ctx, domain, id, func(doc *uploadDoc) error {
		if err := check(doc); err != nil {
			return err
		}
		previous, doc.File, doc.Uploaded = doc.File, name, true
		return nil
	})
	if err != nil { // stopped, started or given a new token meanwhile
		s.dropUploadFile(ctx, domain, name)
		return err
	}
	s.dropUploadFile(ctx, domain, previous)
	return nil
}

// dropUploadFile deletes a file config ("" for none); a failure is logged,
// the file then stays until its domain goes.
func (s *Service) dropUploadFile(ctx context.Context, domain, name string) {
	if name == "" {
		return
	}
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigUploadFile, name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Error("upload job file not deleted", "domain", domain, "file", name, "error", err.Error())
	}
}

// StartUploadJob starts a job on this node.
func (s *Service) StartUploadJob(ctx context.Context, domain, id string) error {
	doc, err := s.updateUploadAsRead(ctx, domain, id, func(doc *uploadDoc) error {
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
	// The run outlives the request, not the service (Close); it keeps the
	// request's principal.
	runCtx := profiles.NewContextWithPrincipal(s.bg.context(), profiles.PrincipalFromContext(ctx))
	s.bg.wg.Go(func() { s.runUpload(runCtx, domain, id, doc) })
	return nil
}

// background holds the work a service runs beyond a request (upload
// jobs): Close cancels it and waits for it.
type background struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (b *background) context() context.Context {
	b.once.Do(func() { b.ctx, b.cancel = context.WithCancel(context.Background()) })
	return b.ctx
}

// StopBackground tells the service's background work to stop (as Close
// does), and returns without waiting for it: errors the work meets from
// then on are not logged.
func (s *Service) StopBackground() {
	s.bg.context()
	s.bg.cancel()
}

// Close stops the service's background work (a running upload job ends
// FAILED, with the rows it ingested counted) and waits for it until ctx
// is done.
func (s *Service) Close(ctx context.Context) error {
	s.StopBackground()
	done := make(chan struct{})
	go func() { s.bg.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("background work still running: %w", ctx.Err())
	}
}

// StopUploadJob stops a job that has not finished (a run sees it within a
// second), and deletes its file (a run read it when it started).
func (s *Service) StopUploadJob(ctx context.Context, domain, id string) error {
	var file string
	_, err := s.updateUploadAsRead(ctx, domain, id, func(doc *uploadDoc) error {
		if doc.Status != "CREATED" && doc.Status != "IN_PROGRESS" {
			return profiles.Errorf(profiles.EINVALID, "Upload job %s is %s: only a job not finished can stop.", id, doc.Status)
		}
		file, doc.File = doc.File, ""
		doc.Status, doc.CompletedAt = "STOPPED", s.now()
		return nil
	})
	if err == nil {
		s.dropUploadFile(ctx, domain, file)
	}
	return err
}

// uploadRow is one data row of a job's file, as the object it becomes;
// bad says why the row cannot be (a short or long row).
type uploadRow struct {
	obj string
	bad string
}

// parseUpload reads a job's whole file before any row goes in: it must be
// UTF-8 CSV (a leading byte-order mark is dropped) whose first row names
// distinct columns, among them every column a field's source reads. A
// file in another encoding (Windows-1252, UTF-16) is refused whole: its
// letters would otherwise go in replaced.
func parseUpload(file []byte, doc *uploadDoc) ([]uploadRow, error) {
	file = bytes.TrimPrefix(file, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(file) {
		line := 1 + bytes.Count(file[:firstInvalidUTF8(file)], []byte("\n"))
		return nil, fmt.Errorf("The file is not UTF-8 text (line %d is not): save it as CSV UTF-8.", line)
	}
	r := csv.NewReader(bytes.NewReader(file))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("The file is not CSV with a header row: %v", err)
	}
	header = slices.Clone(header)
	for i, col := range header {
		if slices.Contains(header[:i], col) {
			return nil, fmt.Errorf("The header names column %q twice.", col)
		}
	}
	for name, f := range doc.Fields {
		// A row is flat: `_source.contact.email` reads the column named
		// contact.email (mapping reads a dotted member name by its path).
		if col, ok := strings.CutPrefix(f.Source, "_source."); ok && !slices.Contains(header, col) {
			return nil, fmt.Errorf("Field %s reads column %q, which the header does not name.", name, col)
		}
	}
	var rows []uploadRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		} else if errors.Is(err, csv.ErrFieldCount) {
			rows = append(rows, uploadRow{bad: fmt.Sprintf("Row %d has %d columns; the header names %d.", len(rows)+2, len(rec), len(header))})
			continue
		} else if err != nil {
			return nil, fmt.Errorf("The file stops being CSV: %v", err)
		}
		obj := make(map[string]string, len(header))
		for i, col := range header {
			obj[col] = rec[i]
		}
		b, _ := json.Marshal(obj)
		rows = append(rows, uploadRow{obj: string(b)})
	}
}

// firstInvalidUTF8 is the offset of the first byte of b that is not UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// runUpload ingests a job's rows, and says how far it got.
func (s *Service) runUpload(runCtx context.Context, domain, id string, doc *uploadDoc) {
	// Rows are ingested with runCtx (cancelled when the service closes);
	// the job's state is written with ctx, which outlives it.
	ctx := context.WithoutCancel(runCtx)
	var created, updated, failed atomic.Int64
	var stopped atomic.Bool
	var firstErr firstError
	// progress saves the counts; a job stopped meanwhile keeps them and
	// its state, and the run ends.
	progress := func(final bool) error {
		_, err := s.updateUpload(ctx, domain, id, func(d *uploadDoc) error {
			d.Created, d.Updated, d.Failed, d.File = int(created.Load()), int(updated.Load()), int(failed.Load()), ""
			if d.Status == "STOPPED" {
				stopped.Store(true)
				return nil
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
				if e := firstErr.get(); e != nil {
					d.Message = profiles.ErrorMessage(e)
					if code := profiles.ErrorCode(e); code != profiles.EINVALID && code != profiles.EQUOTA {
						d.StatusReason = "INTERNAL_FAILURE"
					}
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
				d.Status, d.StatusReason, d.Message, d.CompletedAt, d.File = "FAILED", reason, msg, s.now(), ""
			}
			return nil
		})
	}

	// The domain the job belongs to, as created then: one deleted and
	// created again under its name (through any node) is another domain,
	// which gets none of the job's rows.
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		fail("INTERNAL_FAILURE", profiles.ErrorMessage(domainErr(err, domain)))
		return
	}
	born := d.CreatedAt

	// The file, read whole, then deleted: the run holds it from here.
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigUploadFile, doc.File)
	if err != nil {
		fail("INTERNAL_FAILURE", "The job's file is gone.")
		return
	}
	file, err := s.crypt.Open(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordUpload, ID: doc.File}, c.Data)
	s.dropUploadFile(ctx, domain, doc.File)
	if err != nil {
		fail("INTERNAL_FAILURE", profiles.ErrorMessage(err))
		return
	}
	rows, err := parseUpload(file, doc)
	if err != nil {
		fail("VALIDATION_FAILURE", err.Error())
		return
	}
	t := uploadType(domain, id, doc)
	m, err := s.mappers.get(t)
	if err != nil {
		fail("VALIDATION_FAILURE", profiles.ErrorMessage(err))
		return
	}
	// jobCtx ends with the service, or when the job is stopped: a row
	// waiting out its profile's ingestion rate then gives up at once.
	jobCtx, cancelJob := context.WithCancel(runCtx)
	defer cancelJob()

	// Rows go to workers by their unique key as ingestion compares it
	// (normalised): the rows of one key are ingested by one worker, in the
	// file's order, so the last one is kept.
	queues := make([]chan string, uploadWorkers)
	var wg sync.WaitGroup
	for w := range queues {
		queues[w] = make(chan string, 16)
		q := queues[w]
		wg.Go(func() {
			for obj := range q {
				if jobCtx.Err() != nil {
					continue
				}
				outcome, err := s.ingestUploadRow(jobCtx, domain, born, t, obj)
				switch {
				case err != nil && jobCtx.Err() != nil:
					// interrupted (stopped, or the server stops): not a
					// failure of the row's
				case err != nil:
					failed.Add(1)
					firstErr.set(err)
				case outcome == "created":
					created.Add(1)
				default:
					updated.Add(1)
				}
			}
		})
	}
	// A stop is seen within a second, and so is the job's end with its
	// domain (deleted, maybe created again, through any node); the counts
	// are saved every uploadHeartbeat (which tells the job's readers this
	// node still runs it).
	done := make(chan struct{})
	var watch sync.WaitGroup
	var gone atomic.Bool
	watch.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last := s.now()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			j, err := s.GetUploadJob(ctx, domain, id)
			switch {
			case profiles.ErrorCode(err) == profiles.ENOTFOUND:
				gone.Store(true)
				cancelJob()
			case err == nil && j.Status == "STOPPED":
				stopped.Store(true)
				cancelJob()
			}
			if s.now().Sub(last) >= uploadHeartbeat {
				last = s.now()
				progress(false)
			}
		}
	})
	for n, row := range rows {
		if stopped.Load() || gone.Load() || jobCtx.Err() != nil {
			break
		}
		if row.bad != "" {
			failed.Add(1)
			firstErr.set(profiles.Errorf(profiles.EINVALID, "%s", row.bad))
			continue
		}
		w := n % uploadWorkers
		if res, err := m.Map([]byte(row.obj)); err == nil {
			for _, k := range res.Keys {
				if hasIdentifier(k.Identifiers, profiles.IdentifierUnique) {
					h := fnv.New32a()
					h.Write([]byte(k.Value))
					w = int(h.Sum32() % uploadWorkers)
					break
				}
			}
		}
		queues[w] <- row.obj
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	close(done)
	watch.Wait()
	if gone.Load() {
		s.Logger.Info("upload job ended with its domain", "domain", domain, "job", id, "created", created.Load(), "updated", updated.Load())
		return
	}
	if runCtx.Err() != nil && !stopped.Load() {
		progress(false)
		fail("INTERNAL_FAILURE", "The server stopped while the job ran; the counts are of the rows it ingested.")
		return
	}
	if err := progress(true); err != nil {
		fail("INTERNAL_FAILURE", profiles.ErrorMessage(err))
		return
	}
	msg := ""
	if e := firstErr.get(); e != nil {
		msg = profiles.ErrorMessage(e)
	}
	s.Logger.Info("upload job ended", "domain", domain, "job", id, "stopped", stopped.Load(), "created", created.Load(),
		"updated", updated.Load(), "failed", failed.Load(), "first_failure", msg)
}

// firstError keeps the first error set.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// ingestUploadRow ingests one row, waiting out the per-profile ingestion
// rate (rows of one profile come one after another): a row fails for it
// only after uploadThrottleWait. born is when the job's domain was created:
// a domain of that name created since is another one, and the row fails.
func (s *Service) ingestUploadRow(ctx context.Context, domain string, born time.Time, t *profiles.ObjectType, obj string) (string, error) {
	deadline := time.Now().Add(uploadThrottleWait)
	for {
		_, outcome, err := s.ingestObject(ctx, domain, t.Name, t, born, obj, nil)
		if profiles.ErrorCode(err) != profiles.ETHROTTLED || time.Now().After(deadline) {
			return outcome, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// updateUpload reads a job, calls fn on its document and stores it.
func (s *Service) updateUpload(ctx context.Context, domain, id string, fn func(*uploadDoc) error) (*uploadDoc, error) {
	return s.updateUploadDoc(ctx, domain, id, false, fn)
}

// updateUploadAsRead is updateUpload for a caller's request: fn sees the
// job as GetUploadJob shows it, so a job whose node died reads FAILED
// (and is stored so if fn stores it).
func (s *Service) updateUploadAsRead(ctx context.Context, domain, id string, fn func(*uploadDoc) error) (*uploadDoc, error) {
	return s.updateUploadDoc(ctx, domain, id, true, fn)
}

func (s *Service) updateUploadDoc(ctx context.Context, domain, id string, asRead bool, fn func(*uploadDoc) error) (*uploadDoc, error) {
	var doc uploadDoc
	_, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigUploadJob, id, func(c *profiles.DomainConfig) error {
		doc = uploadDoc{}
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return fmt.Errorf("upload job %s: %w", id, err)
		}
		if asRead && s.uploadNodeDied(doc.Status, c.LastUpdatedAt) {
			doc.Status, doc.StatusReason, doc.Message, doc.File = "FAILED", "INTERNAL_FAILURE", uploadNodeDiedMessage, ""
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
	if s.uploadNodeDied(j.Status, c.LastUpdatedAt) {
		j.Status, j.StatusReason, j.Message = "FAILED", "INTERNAL_FAILURE", uploadNodeDiedMessage
	}
	return j, nil
}

const uploadNodeDiedMessage = "The node that ran the job stopped before it finished."

// uploadNodeDied tells whether a job of this status, last written at
// updated, was left IN_PROGRESS by a node that no longer runs it (which
// says how far it got every uploadHeartbeat).
func (s *Service) uploadNodeDied(status string, updated time.Time) bool {
	return status == "IN_PROGRESS" && s.now().Sub(updated) > uploadStale
}
