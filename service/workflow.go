package service

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.WorkflowService = (*Service)(nil)

// Integration workflows (APPFLOW_INTEGRATION) with an S3 source: a
// workflow's first run reads the objects of its bucket and prefix (one
// step per batch of last-modified times, or one for all), turns each file
// (CSV with a header row, a JSON array or JSON lines) into records, applies
// the flow's tasks and ingests each record into the object type as
// PutProfileObject would (a failure goes to the dead-letter queue). A
// Scheduled flow then sets up an integration (its Uri the flow's ARN) and
// reads, at every interval, the objects modified since the last read
// (Incremental) or all of them (Complete). One node runs a workflow at a
// time (a lease, as for recommenders).
const (
	workflowLease      = 10 * time.Minute
	workflowHeartbeat  = time.Minute
	maxWorkflowSteps   = 100      // steps kept; older ones go
	maxSourceFileBytes = 64 << 20 // an S3 object a step reads at most
)

// workflowDoc is what a workflow's config holds.
type workflowDoc struct {
	ObjectTypeName   string                   `json:"objectTypeName"`
	RoleArn          string                   `json:"roleArn"`
	Flow             profiles.FlowDefinition  `json:"flow"`
	Batches          []profiles.WorkflowBatch `json:"batches,omitempty"`
	Status           string                   `json:"status"`
	ErrorDescription string                   `json:"errorDescription,omitempty"`
	Records          int64                    `json:"records"`
	TotalSteps       int64                    `json:"totalSteps"`
	Steps            []profiles.WorkflowStep  `json:"steps,omitempty"`
	// Watermark is the newest last-modified time read: an incremental
	// pull reads the objects modified after it.
	Watermark  time.Time         `json:"watermark,omitzero"`
	NextPull   time.Time         `json:"nextPull,omitzero"`
	LeaseUntil time.Time         `json:"leaseUntil,omitzero"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// rateRE is the schedule expression OpenProfiles runs: rate(N unit).
var rateRE = regexp.MustCompile(`^rate\(\s*([1-9][0-9]{0,5})\s+(minutes?|hours?|days?)\s*\)$`)

// scheduleInterval returns the interval of a rate expression.
func scheduleInterval(expr string) (time.Duration, error) {
	m := rateRE.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return 0, profiles.Errorf(profiles.EINVALID, "ScheduleExpression %q: OpenProfiles runs rate(N minutes|hours|days) schedules, not cron expressions.", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[m[2][0]]
	return time.Duration(n) * unit, nil
}

// CreateIntegrationWorkflow checks a workflow and stores it NOT_STARTED:
// the workflow loop runs it.
func (s *Service) CreateIntegrationWorkflow(ctx context.Context, w *profiles.Workflow) (*profiles.Workflow, error) {
	if s.Sources == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "This server reads no S3 buckets: start it with --s3-endpoint to run integration workflows.")
	}
	if w.Type != "APPFLOW_INTEGRATION" {
		return nil, profiles.Errorf(profiles.EINVALID, "WorkflowType must be APPFLOW_INTEGRATION.")
	}
	f := &w.Flow
	if f.ConnectorType != "S3" {
		return nil, profiles.Errorf(profiles.EINVALID, "SourceFlowConfig.ConnectorType %q: OpenProfiles runs flows from S3 only (the other connectors are Amazon AppFlow's).", f.ConnectorType)
	}
	if f.S3Bucket == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "SourceFlowConfig.SourceConnectorProperties.S3.BucketName is required.")
	}
	if _, err := compileTasks(f.Tasks); err != nil {
		return nil, err
	}
	switch f.TriggerType {
	case "OnDemand":
	case "Scheduled":
		if f.Schedule == nil {
			return nil, profiles.Errorf(profiles.EINVALID, "TriggerConfig.TriggerProperties.Scheduled is required with TriggerType Scheduled.")
		}
		if _, err := scheduleInterval(f.Schedule.Expression); err != nil {
			return nil, err
		}
		if f.Schedule.DataPullMode == "" {
			f.Schedule.DataPullMode = "Incremental"
		}
	default:
		return nil, profiles.Errorf(profiles.EINVALID, "TriggerConfig.TriggerType %q: OpenProfiles runs OnDemand and Scheduled flows (Event triggers come from the SaaS connectors).", f.TriggerType)
	}
	for i, b := range w.Batches {
		if b.Start.IsZero() || b.End.IsZero() || !b.Start.Before(b.End) {
			return nil, profiles.Errorf(profiles.EINVALID, "Batches[%d]: StartTime must come before EndTime.", i)
		}
	}
	if _, err := s.GetObjectType(ctx, w.DomainName, w.ObjectTypeName); err != nil {
		return nil, err
	}
	steps := int64(max(1, len(w.Batches)))
	doc := workflowDoc{ObjectTypeName: w.ObjectTypeName, RoleArn: w.RoleArn, Flow: *f, Batches: w.Batches,
		Status: "NOT_STARTED", TotalSteps: steps, Tags: w.Tags}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: w.DomainName, Kind: profiles.ConfigWorkflow, Name: s.newID(s.now()), Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxWorkflowsPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, w.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d workflows, the most it may have.", w.DomainName, profiles.MaxWorkflowsPerDomain)
	default:
		return nil, err
	}
	return workflowFromConfig(c)
}

func workflowFromConfig(c *profiles.DomainConfig) (*profiles.Workflow, error) {
	doc, err := decodeWorkflow(c)
	if err != nil {
		return nil, err
	}
	w := &profiles.Workflow{DomainName: c.DomainName, ID: c.Name, Type: "APPFLOW_INTEGRATION", ObjectTypeName: doc.ObjectTypeName,
		RoleArn: doc.RoleArn, Flow: doc.Flow, Batches: doc.Batches, Status: doc.Status, ErrorDescription: doc.ErrorDescription,
		CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt, RecordsProcessed: doc.Records, TotalSteps: doc.TotalSteps, Tags: doc.Tags}
	for _, st := range doc.Steps {
		if st.Status == "COMPLETE" {
			w.StepsCompleted++
		}
	}
	return w, nil
}

func decodeWorkflow(c *profiles.DomainConfig) (*workflowDoc, error) {
	var doc workflowDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("workflow %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &doc, nil
}

// GetWorkflow returns a workflow.
func (s *Service) GetWorkflow(ctx context.Context, domain, id string) (*profiles.Workflow, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflow, id)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Workflow", id)
	}
	return workflowFromConfig(c)
}

// GetWorkflowSteps returns one page of a workflow's steps, oldest first.
func (s *Service) GetWorkflowSteps(ctx context.Context, domain, id string, page profiles.Page) ([]profiles.WorkflowStep, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflow, id)
	if err != nil {
		return nil, "", s.configErr(ctx, err, domain, "Workflow", id)
	}
	doc, err := decodeWorkflow(c)
	if err != nil {
		return nil, "", err
	}
	return pageOf(s, doc.Steps, "GetWorkflowSteps/"+domain+"/"+id, page.Token, size)
}

// pageOf returns one page of list (the position in the token) and the next
// token.
func pageOf[T any](s *Service, list []T, scope, token string, size int) ([]T, string, error) {
	from := 0
	if token != "" {
		at, err := s.tokens.decode(scope, token)
		if err != nil {
			return nil, "", err
		}
		if from, err = strconv.Atoi(at); err != nil || from < 0 {
			return nil, "", profiles.Errorf(profiles.EINVALID, "NextToken is not valid.")
		}
	}
	if from >= len(list) {
		return []T{}, "", nil
	}
	end := min(len(list), from+size)
	next := ""
	if end < len(list) {
		next = s.tokens.encode(scope, strconv.Itoa(end))
	}
	return list[from:end], next, nil
}

// ListWorkflows returns one page of a domain's workflows, newest first,
// those q selects.
func (s *Service) ListWorkflows(ctx context.Context, domain string, q profiles.WorkflowQuery, page profiles.Page) ([]*profiles.Workflow, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigWorkflow, "", 0)
	if err != nil {
		return nil, "", domainErr(err, domain)
	}
	var out []*profiles.Workflow
	for _, c := range slices.Backward(list) { // ids sort by creation time
		w, err := workflowFromConfig(c)
		if err != nil {
			return nil, "", err
		}
		if q.Type != "" && q.Type != w.Type || q.Status != "" && q.Status != w.Status ||
			!q.From.IsZero() && w.CreatedAt.Before(q.From) || !q.To.IsZero() && w.CreatedAt.After(q.To) {
			continue
		}
		out = append(out, w)
	}
	return pageOf(s, out, "ListWorkflows/"+domain, page.Token, size)
}

// DeleteWorkflow deletes a workflow and the integration it set up.
func (s *Service) DeleteWorkflow(ctx context.Context, domain, id string) error {
	w, err := s.GetWorkflow(ctx, domain, id)
	if err != nil {
		return err
	}
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigWorkflow, id); err != nil {
		return s.configErr(ctx, err, domain, "Workflow", id)
	}
	if w.Flow.TriggerType == "Scheduled" {
		if err := s.DeleteIntegration(ctx, domain, s.flowARN(w.Flow.Name)); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
	}
	return nil
}

func (s *Service) flowARN(name string) string {
	return fmt.Sprintf("arn:aws:appflow:%s:%s:flow/%s", s.Region, s.AccountID, name)
}

// StartWorkflows runs due workflows every interval, in the background;
// Close stops it.
func (s *Service) StartWorkflows(interval time.Duration) {
	ctx := s.bg.context()
	s.bg.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := s.RunWorkflows(ctx); err != nil && ctx.Err() == nil {
					s.Logger.Error("workflows", "err", err)
				}
			}
		}
	})
}

// RunWorkflows runs the steps that are due, one workflow after the other,
// and returns how many workflows ran.
func (s *Service) RunWorkflows(ctx context.Context) (int, error) {
	if s.Sources == nil {
		return 0, nil
	}
	n, after := 0, ""
	for {
		domains, err := s.Store.ListDomains(ctx, after, 100)
		if err != nil {
			return n, err
		}
		for _, d := range domains {
			list, err := s.Configs.ListConfigs(ctx, d.Name, profiles.ConfigWorkflow, "", 0)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				continue
			} else if err != nil {
				return n, err
			}
			for _, c := range list {
				doc, err := decodeWorkflow(c)
				if err != nil || !workflowDue(doc, s.now()) {
					continue
				}
				ran, err := s.runWorkflow(ctx, d.Name, c.Name)
				if err != nil && ctx.Err() == nil {
					s.Logger.Error("workflow", "domain", d.Name, "workflow", c.Name, "err", err)
				}
				if ran {
					n++
				}
			}
		}
		if len(domains) < 100 {
			return n, nil
		}
		after = domains[len(domains)-1].Name
	}
}

// workflowDue reports whether a workflow has a step to run at now.
func workflowDue(doc *workflowDoc, now time.Time) bool {
	if doc.LeaseUntil.After(now) {
		return false
	}
	switch doc.Status {
	case "NOT_STARTED", "IN_PROGRESS":
		return true
	case "COMPLETE":
		sc := doc.Flow.Schedule
		return doc.Flow.TriggerType == "Scheduled" && sc != nil && !now.Before(doc.NextPull) && (sc.EndTime.IsZero() || now.Before(sc.EndTime))
	}
	return false
}

// changeWorkflow applies fn to a workflow's doc in one transaction.
func (s *Service) changeWorkflow(ctx context.Context, domain, id string, fn func(*workflowDoc) error) error {
	_, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigWorkflow, id, func(c *profiles.DomainConfig) error {
		doc, err := decodeWorkflow(c)
		if err != nil {
			return err
		}
		if err := fn(doc); err != nil {
			return err
		}
		c.Data, err = json.Marshal(doc)
		return err
	})
	return err
}

// runWorkflow claims a due workflow and runs its steps: the history
// (every batch) on its first run, one pull of new objects after.
func (s *Service) runWorkflow(ctx context.Context, domain, id string) (bool, error) {
	now := s.now()
	lease := now.Add(workflowLease)
	var doc workflowDoc
	err := s.changeWorkflow(ctx, domain, id, func(d *workflowDoc) error {
		if !workflowDue(d, now) {
			return errNotDue
		}
		d.LeaseUntil = lease
		if d.Status == "NOT_STARTED" {
			d.Status = "IN_PROGRESS"
		}
		for i := range d.Steps {
			if d.Steps[i].Status == "IN_PROGRESS" { // its node stopped
				d.Steps[i].Status, d.Steps[i].Message, d.Steps[i].LastUpdatedAt = "FAILED", "The node running the step stopped; the next step went on.", now
			}
		}
		doc = *d
		return nil
	})
	if errors.Is(err, errNotDue) || profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var mu sync.Mutex // guards lease and lost
	lost := false     // the workflow was deleted or taken over
	ours := func(d *workflowDoc) bool { return d.LeaseUntil.Equal(lease) }
	save := func(fn func(*workflowDoc)) bool {
		mu.Lock()
		defer mu.Unlock()
		if lost {
			return false
		}
		next := s.now().Add(workflowLease)
		err := s.changeWorkflow(context.WithoutCancel(ctx), domain, id, func(d *workflowDoc) error {
			if !ours(d) {
				return errNotDue
			}
			d.LeaseUntil = next
			fn(d)
			return nil
		})
		if err != nil {
			lost = errors.Is(err, errNotDue) || profiles.ErrorCode(err) == profiles.ENOTFOUND
			return false
		}
		lease = next
		return true
	}
	stopHeartbeat := sync.OnceFunc(every(workflowHeartbeat, func() { save(func(*workflowDoc) {}) }))
	defer stopHeartbeat()
	alive := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !lost && ctx.Err() == nil
	}

	tasks, err := compileTasks(doc.Flow.Tasks)
	if err != nil {
		return true, err
	}
	type window struct {
		after, until time.Time // (after, until]; zero: open
		batch        *profiles.WorkflowBatch
	}
	var windows []window
	history := doc.Status == "IN_PROGRESS"
	switch {
	case history && len(doc.Batches) > 0:
		for i := range doc.Batches {
			windows = append(windows, window{batch: &doc.Batches[i]})
		}
	case history || doc.Flow.Schedule.DataPullMode == "Complete":
		windows = []window{{}}
	default:
		windows = []window{{after: doc.Watermark}}
	}
	if history && len(doc.Steps) > 0 {
		windows = windows[min(len(windows), countComplete(doc.Steps)):] // a node died: go on where it stopped
	}
	failed := ""
	for _, w := range windows {
		if !alive() {
			break
		}
		started := s.now()
		step := profiles.WorkflowStep{FlowName: doc.Flow.Name, Status: "IN_PROGRESS", CreatedAt: started, LastUpdatedAt: started,
			// The window of last-modified times read: (after, now], or
			// the batch's.
			BatchStart: w.after.UTC().Format(time.RFC3339), BatchEnd: started.UTC().Format(time.RFC3339)}
		if w.after.IsZero() {
			step.BatchStart = time.Unix(0, 0).UTC().Format(time.RFC3339)
		}
		if w.batch != nil {
			step.BatchStart, step.BatchEnd = w.batch.Start.UTC().Format(time.RFC3339), w.batch.End.UTC().Format(time.RFC3339)
		}
		if !save(func(d *workflowDoc) { d.Steps = appendStep(d.Steps, step) }) {
			break
		}
		n, bad, newest, err := s.runStep(ctx, domain, id, &doc, tasks, w.after, w.batch, alive)
		step.Records, step.LastUpdatedAt, step.Status = n, s.now(), "COMPLETE"
		step.Message = records(n) + " ingested."
		if bad > 0 {
			step.Message = fmt.Sprintf("%s ingested, %d failed (sent to the dead-letter queue).", records(n), bad)
		}
		if err != nil {
			step.Status, step.Message = "FAILED", cutChars(profiles.ErrorMessage(err), 255)
			failed = step.Message
		}
		if !save(func(d *workflowDoc) {
			d.Steps[len(d.Steps)-1] = step
			d.Records += n
			if newest.After(d.Watermark) {
				d.Watermark = newest
			}
		}) || failed != "" {
			break
		}
	}
	stopHeartbeat()
	if !alive() {
		// Deleted, taken over, or the server stops: free the lease so the
		// next run (of any node) goes on.
		save(func(d *workflowDoc) { d.LeaseUntil = time.Time{} })
		return true, nil
	}
	if history && failed == "" && doc.Flow.TriggerType == "Scheduled" {
		if _, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: domain, URI: s.flowARN(doc.Flow.Name),
			ObjectTypeName: doc.ObjectTypeName, RoleARN: doc.RoleArn}); err != nil {
			failed = "The integration for the flow's new data was not set up: " + cutChars(profiles.ErrorMessage(err), 180)
		}
	}
	save(func(d *workflowDoc) {
		d.LeaseUntil = time.Time{}
		switch {
		case history && failed != "":
			d.Status, d.ErrorDescription = "FAILED", failed
		case history:
			d.Status = "COMPLETE"
		}
		if d.Flow.TriggerType == "Scheduled" {
			every, _ := scheduleInterval(d.Flow.Schedule.Expression)
			d.NextPull = s.now().Add(every)
		}
	})
	return true, nil
}

// records says n records.
func records(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

func countComplete(steps []profiles.WorkflowStep) int {
	n := 0
	for _, st := range steps {
		if st.Status == "COMPLETE" {
			n++
		}
	}
	return n
}

// appendStep appends a step, dropping the oldest past maxWorkflowSteps.
func appendStep(steps []profiles.WorkflowStep, st profiles.WorkflowStep) []profiles.WorkflowStep {
	steps = append(steps, st)
	if len(steps) > maxWorkflowSteps {
		steps = slices.Delete(steps, 0, len(steps)-maxWorkflowSteps)
	}
	return steps
}

// runStep reads the source's objects modified after after (and within the
// batch, when set), oldest first, and ingests their records. It returns
// how many records were ingested and failed, and the newest last-modified
// time read. A record a Validate task with TerminateFlow refuses, or an
// object that cannot be read, ends the step with an error.
func (s *Service) runStep(ctx context.Context, domain, id string, doc *workflowDoc, tasks []flowTask, after time.Time, batch *profiles.WorkflowBatch, alive func() bool) (int64, int64, time.Time, error) {
	f := doc.Flow
	objs, err := s.Sources.ListObjects(ctx, f.S3Bucket, f.S3Prefix)
	if err != nil {
		return 0, 0, time.Time{}, profiles.Errorf(profiles.ErrorCode(err), "S3 bucket %s: %s", f.S3Bucket, profiles.ErrorMessage(err))
	}
	objs = slices.DeleteFunc(objs, func(o profiles.SourceObject) bool {
		return strings.HasSuffix(o.Key, "/") || !after.IsZero() && !o.LastModified.After(after) ||
			batch != nil && (o.LastModified.Before(batch.Start) || !o.LastModified.Before(batch.End))
	})
	slices.SortFunc(objs, func(a, b profiles.SourceObject) int {
		if c := a.LastModified.Compare(b.LastModified); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	var n, bad int64
	var newest time.Time
	for _, o := range objs {
		if !alive() {
			return n, bad, newest, nil
		}
		data, err := s.Sources.GetObject(ctx, f.S3Bucket, o.Key, maxSourceFileBytes)
		if err != nil {
			return n, bad, newest, profiles.Errorf(cmp.Or(profiles.ErrorCode(err), profiles.EINTERNAL), "s3://%s/%s: %s", f.S3Bucket, o.Key, profiles.ErrorMessage(err))
		}
		records, err := parseRecords(o.Key, data)
		if err != nil {
			return n, bad, newest, profiles.Errorf(profiles.EINVALID, "s3://%s/%s: %s", f.S3Bucket, o.Key, err.Error())
		}
		for i, r := range records {
			out, keep, err := applyTasks(tasks, r)
			if err != nil {
				return n, bad, newest, profiles.Errorf(profiles.EINVALID, "s3://%s/%s, record %d: %s", f.S3Bucket, o.Key, i+1, err.Error())
			}
			if !keep {
				continue
			}
			obj, err := json.Marshal(out)
			if err != nil {
				return n, bad, newest, err
			}
			if _, err := s.IngestAsync(ctx, domain, doc.ObjectTypeName, string(obj), "workflow:"+id); err != nil {
				bad++ // in the dead-letter queue, with its error
				continue
			}
			n++
		}
		newest = o.LastModified
	}
	return n, bad, newest, nil
}

// parseRecords reads a file's records: CSV with a header row when its key
// ends in .csv, else a JSON array of objects or JSON objects one after the
// other (JSON lines).
func parseRecords(key string, data []byte) ([]map[string]any, error) {
	if strings.HasSuffix(strings.ToLower(key), ".csv") {
		rd := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		rows, err := rd.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("not CSV: %v", err)
		}
		if len(rows) == 0 {
			return nil, nil
		}
		var out []map[string]any
		for _, row := range rows[1:] {
			r := map[string]any{}
			for i, h := range rows[0] {
				if i < len(row) && row[i] != "" {
					r[h] = row[i]
				}
			}
			out = append(out, r)
		}
		return out, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		var out []map[string]any
		if err := d.Decode(&out); err != nil {
			return nil, fmt.Errorf("not a JSON array of objects: %v", err)
		}
		return out, nil
	}
	var out []map[string]any
	for {
		var r map[string]any
		if err := d.Decode(&r); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("not JSON objects (JSON lines): %v", err)
		}
		out = append(out, r)
	}
}
