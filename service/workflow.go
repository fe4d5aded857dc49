package service

import (
	"bufio"
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
	// settleTime: a scheduled flow leaves files modified this close to its
	// listing to the next pull (S3 times are to the second, and a file may
	// land in the second just read).
	settleTime      = 2 * time.Second
	pullLookback    = 15 * time.Minute // how late a file may become visible and still be read
	maxFileFailures = 3                // failed reads of one file before it is skipped
	// maxRetries: how many times a history's step that failed for a
	// passing reason (S3 unreachable or throttling, the service) is tried
	// again, one sweep after the other, before the workflow is FAILED (as
	// AWS retries a bulk ingestion's transient failures three times); and
	// not before retryWindow has passed since the first failure in a row,
	// so that an outage of a few sweeps (S3, the domain's key disabled a
	// while) does not end a workflow that would go through after it.
	maxRetries          = 3
	retryWindow         = time.Hour
	maxScheduleInterval = 365 * 24 * time.Hour
	// flowBatch is how many records of a file go in at once: enough to
	// fill a group commit of the SQLite store (sqlite.MaxGroupCommit).
	flowBatch = 256
)

// workflowDoc is what a workflow's config holds.
type workflowDoc struct {
	ObjectTypeName string `json:"objectTypeName"`
	RoleArn        string `json:"roleArn"`
	// Principal created the workflow: each file read needs its
	// s3:GetObject on the file, as its policies say at the time.
	Principal        string                   `json:"principal,omitempty"`
	Flow             profiles.FlowDefinition  `json:"flow"`
	Batches          []profiles.WorkflowBatch `json:"batches,omitempty"`
	Status           string                   `json:"status"`
	ErrorDescription string                   `json:"errorDescription,omitempty"`
	Records          int64                    `json:"records"`
	TotalSteps       int64                    `json:"totalSteps"`
	StepsCompleted   int64                    `json:"stepsCompleted"`
	// HistoryDone counts the history's windows (Batches, or the one of all
	// files) read to the end: a run goes on from there.
	HistoryDone int                     `json:"historyDone"`
	StepSeq     int64                   `json:"stepSeq"` // the number of the last step
	Steps       []profiles.WorkflowStep `json:"steps,omitempty"`
	// Watermark and WatermarkKey are the last file read to the end (files
	// are read by last-modified time, then key): an incremental pull reads
	// the files after it.
	Watermark    time.Time `json:"watermark,omitzero"`
	WatermarkKey string    `json:"watermarkKey,omitempty"`
	// Recent holds the files read (key: last-modified time) modified
	// within pullLookback before the watermark: a pull reads that span
	// again for files that became visible late (a multipart upload's time
	// is its start), and skips these.
	Recent map[string]time.Time `json:"recent,omitempty"`
	// FileFailures counts the failed reads of a file a step stopped at;
	// at maxFileFailures it is skipped.
	FileFailures map[string]int `json:"fileFailures,omitempty"`
	// Retries counts the history's steps in a row that failed for a
	// passing reason: the workflow is RETRY (waiting for the next sweep)
	// up to maxRetries and retryWindow from RetryingSince (the first of
	// them), FAILED after. A step that completes resets both.
	Retries       int               `json:"retries,omitempty"`
	RetryingSince time.Time         `json:"retryingSince,omitzero"`
	NextPull      time.Time         `json:"nextPull,omitzero"`
	LeaseUntil    time.Time         `json:"leaseUntil,omitzero"`
	Tags          map[string]string `json:"tags,omitempty"`
	// ViaIntegration: the flow came with PutIntegration, which put its
	// integration; a scheduled flow's first run does not set one up.
	ViaIntegration bool `json:"viaIntegration,omitempty"`
}

// rateRE is the schedule expression OpenProfiles runs: rate(N unit).
var rateRE = regexp.MustCompile(`^rate\(\s*([1-9][0-9]{0,5})\s*(minutes?|hours?|days?)\s*\)$`)

// scheduleInterval returns the interval of a rate expression.
func scheduleInterval(expr string) (time.Duration, error) {
	m := rateRE.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return 0, profiles.Errorf(profiles.EINVALID, "ScheduleExpression %q: OpenProfiles runs rate(N minutes), rate(N hours) and rate(N days) schedules (cron expressions are not supported).", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[m[2][0]]
	if time.Duration(n) <= maxScheduleInterval/unit { // no overflow
		return time.Duration(n) * unit, nil
	}
	return 0, profiles.Errorf(profiles.EINVALID, "ScheduleExpression %q: the interval is at most 365 days.", expr)
}

// CreateIntegrationWorkflow checks a workflow and stores it NOT_STARTED:
// the workflow loop runs it.
func (s *Service) CreateIntegrationWorkflow(ctx context.Context, w *profiles.Workflow) (*profiles.Workflow, error) {
	return s.createWorkflow(ctx, w, false)
}

// checkWorkflow checks what a workflow runs: its type, its flow (an S3
// source the server may read, tasks, trigger), its batches and its object
// type.
func (s *Service) checkWorkflow(ctx context.Context, w *profiles.Workflow) error {
	if s.Sources == nil {
		return profiles.Errorf(profiles.EINVALID, "This server reads no S3 buckets: start it with --s3-endpoint to run flows (integration workflows).")
	}
	if w.Type != "APPFLOW_INTEGRATION" {
		return profiles.Errorf(profiles.EINVALID, "WorkflowType must be APPFLOW_INTEGRATION.")
	}
	f := &w.Flow
	if f.ConnectorType != "S3" {
		return profiles.Errorf(profiles.EINVALID, "SourceFlowConfig.ConnectorType %q: OpenProfiles runs flows from S3 only (the other connectors are Amazon AppFlow's).", f.ConnectorType)
	}
	if f.S3Bucket == "" {
		return profiles.Errorf(profiles.EINVALID, "SourceFlowConfig.SourceConnectorProperties.S3.BucketName is required.")
	}
	// Checked here, as a snapshot's bucket is: a name S3 would refuse is
	// the caller's to fix, and S3's refusal is only logged.
	// (The API checks its length.)
	if strings.Trim(f.S3Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return profiles.Errorf(profiles.EINVALID, "SourceFlowConfig.SourceConnectorProperties.S3.BucketName %q: a bucket name is lowercase letters, digits, dots and hyphens.", f.S3Bucket)
	}
	if _, err := compileTasks(f.Tasks); err != nil {
		return err
	}
	switch f.TriggerType {
	case "OnDemand":
	case "Scheduled":
		if f.Schedule == nil {
			return profiles.Errorf(profiles.EINVALID, "TriggerConfig.TriggerProperties.Scheduled is required with TriggerType Scheduled.")
		}
		if _, err := scheduleInterval(f.Schedule.Expression); err != nil {
			return err
		}
		if f.Schedule.DataPullMode == "" {
			f.Schedule.DataPullMode = "Incremental"
		}
	default:
		return profiles.Errorf(profiles.EINVALID, "TriggerConfig.TriggerType %q: OpenProfiles runs OnDemand and Scheduled flows (Event triggers come from the SaaS connectors).", f.TriggerType)
	}
	for i, b := range w.Batches {
		if b.Start.IsZero() || b.End.IsZero() || !b.Start.Before(b.End) {
			return profiles.Errorf(profiles.EINVALID, "Batches[%d]: StartTime must come before EndTime.", i)
		}
	}
	// Windows are [StartTime, EndTime): one that shares times with another
	// would read its files twice. By start time, each must begin where
	// the one before it ends, or later (disjoint so far, that one ends
	// last).
	order := make([]int, len(w.Batches))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return w.Batches[a].Start.Compare(w.Batches[b].Start) })
	for k := 1; k < len(order); k++ {
		if i, prev := order[k], order[k-1]; w.Batches[i].Start.Before(w.Batches[prev].End) {
			i, j := max(i, prev), min(i, prev)
			return profiles.Errorf(profiles.EINVALID, "Batches[%d] overlaps Batches[%d]: a file would be read twice (a batch may start where another ends).", i, j)
		}
	}
	if _, err := s.GetObjectType(ctx, w.DomainName, w.ObjectTypeName); err != nil {
		return err
	}
	if _, err := s.Store.FindDomain(ctx, w.DomainName); err != nil {
		return domainErr(err, w.DomainName)
	}
	// S3's own messages can name the server's credentials: they are
	// logged, not sent.
	switch err := s.Sources.CheckBucket(ctx, "s3://"+f.S3Bucket); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND, profiles.EFORBIDDEN, profiles.EINVALID, profiles.ETHROTTLED:
		s.Logger.Warn("workflow: S3 bucket refused", "bucket", f.S3Bucket, "err", err)
		code := profiles.ErrorCode(err)
		if code != profiles.ETHROTTLED {
			code = profiles.EINVALID
		}
		return profiles.Errorf(code, "SourceConnectorProperties.S3.BucketName: %s.", sourceFailure(err, "the S3 bucket "+f.S3Bucket))
	default:
		return fmt.Errorf("check S3 bucket %s: %w", f.S3Bucket, err)
	}
	return nil
}

// sourceFailure words why S3 refused to give target (a bucket, or a file
// s3://BUCKET/KEY), by error code: S3's own messages can name the server's
// credentials (an AccessDenied names its principal, a KMS error the key's
// policy), so they are logged, not shown.
func sourceFailure(err error, target string) string {
	switch profiles.ErrorCode(err) {
	case profiles.ENOTFOUND:
		return target + " does not exist"
	case profiles.EFORBIDDEN:
		return "this server may not read " + target + " (its credentials need s3:ListBucket and s3:GetObject, and kms:Decrypt on the key of an encrypted file)"
	case profiles.ETHROTTLED:
		return "S3 throttled the reads of " + target
	case profiles.EINVALID:
		return "S3 refused to give " + target + " (the server's log says why)"
	}
	return target + " could not be read (the server's log says why)"
}

// createWorkflow checks a workflow and stores it NOT_STARTED, reserving
// its flow name. viaIntegration: PutIntegration puts the flow's
// integration (a scheduled flow's run does not set it up).
func (s *Service) createWorkflow(ctx context.Context, w *profiles.Workflow, viaIntegration bool) (*profiles.Workflow, error) {
	if err := s.checkWorkflow(ctx, w); err != nil {
		return nil, err
	}
	f := &w.Flow
	// A flow's ARN names the integration of the flow, in any domain of
	// the account: a flow name has one workflow in all of them. Another
	// domain's integration of that ARN (or workflow) is looked for; in
	// this domain, the name is reserved (ConfigWorkflowFlow) with the
	// workflow, atomically.
	if _, err := s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		if d.Name == w.DomainName {
			return 0, nil
		}
		_, err := s.Configs.FindConfig(ctx, d.Name, profiles.ConfigWorkflowFlow, f.Name)
		if err == nil {
			return 0, profiles.Errorf(profiles.EINVALID, "FlowName %s is the flow of another workflow of this account: a flow has one workflow.", f.Name)
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return 0, err
		}
		if _, err := s.Integrations.FindIntegration(ctx, d.Name, s.flowARN(f.Name)); err == nil {
			return 0, profiles.Errorf(profiles.EINVALID, "FlowName %s names an integration of this account already (%s).", f.Name, s.flowARN(f.Name))
		}
		return 0, nil
	}); err != nil {
		return nil, err
	}
	steps := int64(max(1, len(w.Batches)))
	doc := workflowDoc{ObjectTypeName: w.ObjectTypeName, RoleArn: w.RoleArn, Principal: profiles.PrincipalFromContext(ctx), Flow: *f, Batches: w.Batches,
		Status: "NOT_STARTED", TotalSteps: steps, Tags: w.Tags, ViaIntegration: viaIntegration}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: w.DomainName, Kind: profiles.ConfigWorkflow, Name: s.newID(s.now()), Data: data}
	reservation := &profiles.DomainConfig{DomainName: w.DomainName, Kind: profiles.ConfigWorkflowFlow, Name: f.Name, Data: []byte(`"` + c.Name + `"`),
		CreatedAt: s.now()} // on the service's clock, which reclaimFlowName reads
	switch err := s.Configs.CreateConfig(ctx, reservation, 0); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, w.DomainName)
	case profiles.ECONFLICT:
		if reclaimed, rerr := s.reclaimFlowName(ctx, w.DomainName, f.Name); rerr != nil || !reclaimed {
			return nil, profiles.Errorf(profiles.EINVALID, "FlowName %s is the flow of another workflow of this domain: a flow has one workflow.", f.Name)
		}
		if err := s.Configs.CreateConfig(ctx, reservation, 0); err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "FlowName %s is the flow of another workflow of this domain: a flow has one workflow.", f.Name)
		}
	default:
		return nil, err
	}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxWorkflowsPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, w.DomainName)
	case profiles.EQUOTA:
		s.releaseFlowName(ctx, w.DomainName, f.Name, c.Name)
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d workflows, the most it may have.", w.DomainName, profiles.MaxWorkflowsPerDomain)
	default:
		s.releaseFlowName(ctx, w.DomainName, f.Name, c.Name)
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
		CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt, RecordsProcessed: doc.Records, TotalSteps: doc.TotalSteps,
		StepsCompleted: doc.StepsCompleted, Tags: doc.Tags}
	return w, nil
}

func decodeWorkflow(c *profiles.DomainConfig) (*workflowDoc, error) {
	return decodeDoc[workflowDoc](c)
}

// GetWorkflow returns a workflow.
func (s *Service) GetWorkflow(ctx context.Context, domain, id string) (*profiles.Workflow, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflow, id)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Workflow", id)
	}
	return workflowFromConfig(c)
}

// GetWorkflowSteps returns one page of a workflow's steps, oldest first
// (the token holds the number of the page's last step).
func (s *Service) GetWorkflowSteps(ctx context.Context, domain, id string, page profiles.Page) ([]profiles.WorkflowStep, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	scope := "GetWorkflowSteps/" + domain + "/" + id
	var after int64
	if page.Token != "" {
		at, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		if after, err = strconv.ParseInt(at, 10, 64); err != nil {
			return nil, "", profiles.Errorf(profiles.EINVALID, "NextToken is not valid.")
		}
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigWorkflow, id)
	if err != nil {
		return nil, "", s.configErr(ctx, err, domain, "Workflow", id)
	}
	doc, err := decodeWorkflow(c)
	if err != nil {
		return nil, "", err
	}
	out := []profiles.WorkflowStep{}
	for _, st := range doc.Steps {
		if st.Seq > after {
			out = append(out, st)
		}
	}
	if len(out) <= size {
		return out, "", nil
	}
	out = out[:size]
	return out, s.tokens.encode(scope, strconv.FormatInt(out[size-1].Seq, 10)), nil
}

// ListWorkflows returns one page of a domain's workflows, newest first,
// those q selects (the token holds the page's last id: ids sort by
// creation time).
func (s *Service) ListWorkflows(ctx context.Context, domain string, q profiles.WorkflowQuery, page profiles.Page) ([]*profiles.Workflow, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	// A window that ends before it starts selects nothing: a mistake
	// (the bounds swapped) rather than a question, said as such.
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		return nil, "", profiles.Errorf(profiles.EINVALID, "QueryStartDate (%s) must not be after QueryEndDate (%s).",
			q.From.UTC().Format(time.RFC3339Nano), q.To.UTC().Format(time.RFC3339Nano))
	}
	scope := fmt.Sprintf("ListWorkflows/%s/%s/%s/%d/%d", domain, q.Type, q.Status, q.From.UnixMilli(), q.To.UnixMilli())
	before := ""
	if page.Token != "" {
		if before, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigWorkflow, "", 0)
	if err != nil {
		return nil, "", domainErr(err, domain)
	}
	out := []*profiles.Workflow{}
	for _, c := range slices.Backward(list) {
		if before != "" && c.Name >= before {
			continue
		}
		w, err := workflowFromConfig(c)
		if err != nil {
			return nil, "", err
		}
		if q.Type != "" && q.Type != w.Type || q.Status != "" && q.Status != w.Status ||
			!q.From.IsZero() && w.CreatedAt.Before(q.From) || !q.To.IsZero() && w.CreatedAt.After(q.To) {
			continue
		}
		if len(out) == size {
			return out, s.tokens.encode(scope, out[size-1].ID), nil
		}
		out = append(out, w)
	}
	return out, "", nil
}

// DeleteWorkflow deletes a workflow and the integration of its flow.
func (s *Service) DeleteWorkflow(ctx context.Context, domain, id string) error {
	w, err := s.GetWorkflow(ctx, domain, id)
	if err != nil {
		return err
	}
	if err := s.deleteWorkflow(ctx, domain, id, w.Flow.Name); err != nil {
		return err
	}
	if err := s.Integrations.DeleteIntegration(ctx, domain, s.flowARN(w.Flow.Name)); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	return nil
}

// deleteWorkflow deletes a workflow and the reservation of its flow name
// (if it is the workflow's: a workflow gone already still has its
// reservation deleted). Returns ENOTFOUND, once the reservation is gone,
// when the workflow was.
func (s *Service) deleteWorkflow(ctx context.Context, domain, id, flow string) error {
	gone := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigWorkflow, id)
	if gone != nil && profiles.ErrorCode(gone) != profiles.ENOTFOUND {
		return gone
	}
	if err := s.releaseFlowName(ctx, domain, flow, id); err != nil {
		return err
	}
	if gone != nil {
		return s.configErr(ctx, gone, domain, "Workflow", id)
	}
	return nil
}

func (s *Service) flowARN(name string) string {
	return fmt.Sprintf("arn:aws:appflow:%s:%s:flow/%s", s.Region, s.AccountID, name)
}

// StartWorkflows runs due workflows every interval, in the background;
// Close stops it.
//
// Each workflow runs on a goroutine of its own, at most
// maxRunningWorkflows at once on a node: a long history does not hold up
// the other workflows' pulls.
func (s *Service) StartWorkflows(interval time.Duration) {
	if s.Sources == nil {
		return
	}
	var mu sync.Mutex
	running := map[string]bool{} // domain/id of the workflows running here
	s.runEvery(interval, "workflows", func(ctx context.Context) (int, error) {
		return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
			return s.eachDue(ctx, d.Name, profiles.ConfigWorkflow, s.workflowIsDue, func(ctx context.Context, domain, id string) (bool, error) {
				key := domain + "/" + id
				mu.Lock()
				defer mu.Unlock()
				if running[key] || len(running) >= maxRunningWorkflows {
					return false, nil // the next sweep
				}
				running[key] = true
				s.bg.wg.Go(func() {
					defer func() {
						mu.Lock()
						delete(running, key)
						mu.Unlock()
					}()
					if _, err := s.runWorkflow(ctx, domain, id); err != nil && ctx.Err() == nil {
						s.Logger.Error("workflow", "domain", domain, "workflow", id, "err", err)
					}
				})
				return true, nil
			})
		})
	})
}

// maxRunningWorkflows is how many workflows a node runs at once.
const maxRunningWorkflows = 4

func (s *Service) workflowIsDue(c *profiles.DomainConfig) bool {
	doc, err := decodeWorkflow(c)
	return err == nil && workflowDue(doc, s.now())
}

// RunWorkflows runs the steps that are due, one workflow after the other,
// and returns how many workflows ran (StartWorkflows runs them side by
// side).
func (s *Service) RunWorkflows(ctx context.Context) (int, error) {
	if s.Sources == nil {
		return 0, nil
	}
	return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		return s.eachDue(ctx, d.Name, profiles.ConfigWorkflow, s.workflowIsDue, s.runWorkflow)
	})
}

// workflowDue reports whether a workflow has a step to run at now.
func workflowDue(doc *workflowDoc, now time.Time) bool {
	if doc.LeaseUntil.After(now) {
		return false
	}
	switch doc.Status {
	case "NOT_STARTED", "IN_PROGRESS", "RETRY":
		return true
	case "COMPLETE":
		sc := doc.Flow.Schedule
		return doc.Flow.TriggerType == "Scheduled" && sc != nil && !now.Before(doc.NextPull) && (sc.EndTime.IsZero() || now.Before(sc.EndTime))
	}
	return false
}

// changeWorkflow applies fn to a workflow's doc in one transaction.
func (s *Service) changeWorkflow(ctx context.Context, domain, id string, fn func(*workflowDoc) error) error {
	_, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigWorkflow, id, fn)
	return err
}

// runWorkflow claims a due workflow and runs its steps: the history's
// windows not read yet on its first run(s), one pull of new files after.
func (s *Service) runWorkflow(ctx context.Context, domain, id string) (bool, error) {
	now := s.now()
	lease := now.Add(workflowLease)
	var doc workflowDoc
	err := s.changeWorkflow(ctx, domain, id, func(d *workflowDoc) error {
		if !workflowDue(d, now) {
			return errNotDue
		}
		d.LeaseUntil = lease
		if d.Status == "NOT_STARTED" || d.Status == "RETRY" {
			d.Status = "IN_PROGRESS" // the history runs (again)
		}
		for i := range d.Steps {
			if d.Steps[i].Status == "IN_PROGRESS" { // its node stopped
				d.Steps[i].Status, d.Steps[i].Message, d.Steps[i].LastUpdatedAt = "FAILED", "Interrupted: the node running the step stopped; the next step reads its files again.", now
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
	// save records fn's change if the workflow is still this run's,
	// extending the lease; false when it could not.
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
			if !lost {
				s.Logger.Error("workflow: record progress", "domain", domain, "workflow", id, "err", err)
			}
			return false
		}
		lease = next
		return true
	}
	stopHeartbeat := sync.OnceFunc(every(workflowHeartbeat, func() { save(func(*workflowDoc) {}) }))
	defer stopHeartbeat()
	// alive says whether to go on: the run still holds the workflow (read
	// again every few seconds, so that a deleted workflow stops soon) and
	// the server does not stop.
	lastCheck := time.Now()
	alive := func() bool {
		if time.Since(lastCheck) > 5*time.Second {
			lastCheck = time.Now()
			save(func(*workflowDoc) {})
		}
		mu.Lock()
		defer mu.Unlock()
		return !lost && ctx.Err() == nil
	}

	tasks, err := compileTasks(doc.Flow.Tasks)
	if err != nil {
		return true, err
	}
	history := doc.Status == "IN_PROGRESS"
	scheduled := doc.Flow.TriggerType == "Scheduled"
	var windows []flowWindow
	switch {
	case history && len(doc.Batches) > 0:
		for i := doc.HistoryDone; i < len(doc.Batches); i++ {
			windows = append(windows, flowWindow{batch: &doc.Batches[i]})
		}
	case history:
		if doc.HistoryDone == 0 {
			windows = []flowWindow{{}}
		}
	case doc.Flow.Schedule.DataPullMode == "Complete":
		windows = []flowWindow{{}}
	default:
		w := flowWindow{after: doc.Watermark, afterKey: doc.WatermarkKey, seen: doc.Recent}
		if !w.after.IsZero() {
			w.after, w.afterKey = w.after.Add(-pullLookback), ""
		}
		windows = []flowWindow{w}
	}
	failed := ""
	transient := false       // a write to the store failed, or S3 or the service: the next sweep goes on
	retry := ""              // why
	skippedAny := false      // files were skipped
	failedRecords := false   // records went to the dead-letter queue
	var historyCap time.Time // files modified after it are the pulls'
	for _, w := range windows {
		if !alive() {
			break
		}
		started := s.now()
		step := profiles.WorkflowStep{FlowName: doc.Flow.Name, Status: "IN_PROGRESS", CreatedAt: started, LastUpdatedAt: started,
			Message: fmt.Sprintf("Reading s3://%s/%s.", doc.Flow.S3Bucket, doc.Flow.S3Prefix),
			// The window of last-modified times read: after the last file
			// read, to now; or the batch's.
			BatchStart: w.after.UTC().Format(time.RFC3339), BatchEnd: started.UTC().Format(time.RFC3339)}
		if w.after.IsZero() {
			step.BatchStart = time.Unix(0, 0).UTC().Format(time.RFC3339)
		}
		if w.batch != nil {
			step.BatchStart, step.BatchEnd = w.batch.Start.UTC().Format(time.RFC3339), w.batch.End.UTC().Format(time.RFC3339)
		}
		if scheduled {
			w.until = started.Add(-settleTime)
			historyCap = w.until
		}
		if !save(func(d *workflowDoc) {
			d.StepSeq++
			step.Seq = d.StepSeq
			if !history {
				d.TotalSteps++
			}
			d.Steps = appendStep(d.Steps, step)
		}) {
			transient = true
			break
		}
		res := s.runStep(ctx, domain, id, &doc, tasks, w, alive)
		step.Records, step.LastUpdatedAt = res.ingested, s.now()
		switch {
		case res.interrupted:
			step.Status, step.Message = "FAILED", "Interrupted (the server stopped, or the workflow was deleted); the next step reads these files again."
		case res.err != nil && res.retry:
			step.Status, step.Message = "FAILED", cutChars(profiles.ErrorMessage(res.err), 255)
			retry = step.Message
		case res.err != nil:
			step.Status, step.Message = "FAILED", cutChars(profiles.ErrorMessage(res.err), 255)
			failed = step.Message
		default:
			step.Status, step.Message = "COMPLETE", res.summary()
		}
		skippedAny = skippedAny || len(res.skipped) > 0
		failedRecords = failedRecords || res.failed > 0
		if save(func(d *workflowDoc) {
			d.Steps[len(d.Steps)-1] = step
			d.Records += res.ingested
			if res.newest.After(d.Watermark) || res.newest.Equal(d.Watermark) && res.newestKey > d.WatermarkKey {
				d.Watermark, d.WatermarkKey = res.newest, res.newestKey
			}
			if d.Recent == nil {
				d.Recent = map[string]time.Time{}
			}
			for key, at := range res.read {
				d.Recent[key] = at
				delete(d.FileFailures, key)
			}
			for key, at := range d.Recent {
				if at.Before(d.Watermark.Add(-pullLookback)) {
					delete(d.Recent, key)
				}
			}
			if res.failedKey != "" {
				if d.FileFailures == nil {
					d.FileFailures = map[string]int{}
				}
				d.FileFailures[res.failedKey]++
			}
			if step.Status == "COMPLETE" {
				d.StepsCompleted++
				if history {
					d.HistoryDone++
					if d.Retries > 0 && strings.HasPrefix(d.ErrorDescription, retryPrefix) {
						d.ErrorDescription = "" // the retry went through
					}
					d.Retries, d.RetryingSince = 0, time.Time{}
				}
			}
			if len(res.skipped) > 0 {
				d.ErrorDescription = cutChars("Files skipped: "+strings.Join(res.skipped, "; "), 255)
			}
			if res.failed > 0 {
				d.ErrorDescription = cutChars(fmt.Sprintf("%d records failed in step %d (each sent to the domain's dead-letter queue, when it has one).", res.failed, step.Seq), 255)
			}
			if retry != "" {
				d.ErrorDescription = cutChars(retryPrefix+retry, 255)
			}
		}) && failed == "" && retry == "" && !res.interrupted {
			continue
		}
		if failed == "" && !res.interrupted {
			transient = true
		}
		break
	}
	stopHeartbeat()
	live := alive()
	if !live || transient {
		// Deleted, taken over, the server stops, or the store failed: free
		// the lease so the next run (of any node) goes on. A history's
		// step that failed for a passing reason waits for the next sweep
		// (RETRY), up to maxRetries times and retryWindow, then the
		// workflow fails. (A pull is tried again at each sweep: the
		// workflow stays COMPLETE.)
		save(func(d *workflowDoc) {
			d.LeaseUntil = time.Time{}
			if !history || retry == "" || !live {
				return
			}
			now := s.now()
			if d.Retries == 0 || d.RetryingSince.IsZero() {
				d.RetryingSince = now
			}
			if d.Retries >= maxRetries && now.Sub(d.RetryingSince) >= retryWindow {
				d.Status = "FAILED"
				d.ErrorDescription = cutChars(fmt.Sprintf("Failed %d times in a row over %s (given up): %s", d.Retries+1, now.Sub(d.RetryingSince).Round(time.Minute), retry), 255)
				return
			}
			d.Retries++
			d.Status = "RETRY"
		})
		return true, nil
	}
	if history && failed == "" && scheduled {
		// Read again whether PutIntegration took the flow meanwhile (it
		// also takes the lease: the run stops here).
		via := doc.ViaIntegration
		if !save(func(d *workflowDoc) { via = d.ViaIntegration }) {
			return true, nil
		}
		if !via {
			if err := s.setUpFlowIntegration(context.WithoutCancel(ctx), domain, id, &doc); err != nil {
				failed = "The integration for the flow's new data was not set up: " + cutChars(profiles.ErrorMessage(err), 180)
			}
		}
	}
	save(func(d *workflowDoc) {
		d.LeaseUntil = time.Time{}
		switch {
		case history && failed != "":
			d.Status, d.ErrorDescription = "FAILED", failed
		case history:
			d.Status = "COMPLETE"
			if n := len(d.Batches); n > 0 {
				// The pulls read what came after the batches (and after
				// what the history left to them).
				end := d.Batches[n-1].End
				if !historyCap.IsZero() && historyCap.Before(end) {
					end = historyCap
				}
				if end.After(d.Watermark) {
					d.Watermark, d.WatermarkKey = end, ""
				}
			}
		case failed != "":
			d.ErrorDescription = cutChars("The last pull failed: "+failed, 255)
		case !skippedAny && !failedRecords:
			d.ErrorDescription = "" // the pull went well: the last one's error is past
		}
		if scheduled {
			interval, _ := scheduleInterval(d.Flow.Schedule.Expression)
			d.NextPull = s.now().Add(interval)
		}
	})
	return true, nil
}

// setUpFlowIntegration records the integration of a scheduled flow unless
// it has one (PutIntegration's); if the workflow was deleted meanwhile, it
// deletes it again.
func (s *Service) setUpFlowIntegration(ctx context.Context, domain, id string, doc *workflowDoc) error {
	uri := s.flowARN(doc.Flow.Name)
	if _, err := s.Integrations.FindIntegration(ctx, domain, uri); err == nil {
		return nil
	} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	if _, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: domain, URI: uri, ObjectTypeName: doc.ObjectTypeName, RoleARN: doc.RoleArn}); err != nil {
		return err
	}
	if _, err := s.GetWorkflow(ctx, domain, id); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return s.DeleteIntegration(context.WithoutCancel(ctx), domain, uri)
	}
	return nil
}

// records says n records.
func records(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

// appendStep appends a step, dropping the oldest past maxWorkflowSteps.
func appendStep(steps []profiles.WorkflowStep, st profiles.WorkflowStep) []profiles.WorkflowStep {
	steps = append(steps, st)
	if len(steps) > maxWorkflowSteps {
		steps = slices.Delete(steps, 0, len(steps)-maxWorkflowSteps)
	}
	return steps
}

// flowWindow is what a step reads: the files after (after, afterKey) in
// (last-modified, key) order, modified before until (zero: any time), and
// within the batch's times when it has one.
type flowWindow struct {
	after    time.Time
	afterKey string
	until    time.Time
	batch    *profiles.WorkflowBatch
	seen     map[string]time.Time // files read already (key: last-modified time)
}

func (w flowWindow) holds(o profiles.SourceObject) bool {
	switch {
	case strings.HasSuffix(o.Key, "/"):
		return false // a "folder"
	case !w.after.IsZero() && (o.LastModified.Before(w.after) || o.LastModified.Equal(w.after) && o.Key <= w.afterKey):
		return false
	case !w.until.IsZero() && !o.LastModified.Before(w.until):
		return false // the next pull's
	case w.batch != nil && (o.LastModified.Before(w.batch.Start) || !o.LastModified.Before(w.batch.End)):
		return false
	}
	if at, ok := w.seen[o.Key]; ok && at.Equal(o.LastModified) {
		return false // read already
	}
	return true
}

// stepResult is what a step did.
type stepResult struct {
	ingested, failed int64
	skipped          []string // files that cannot be read, and why
	newest           time.Time
	newestKey        string               // the last file read to the end (or skipped)
	read             map[string]time.Time // the files read to the end (or skipped)
	failedKey        string               // the file the step stopped at
	interrupted      bool                 // stopped before its end: read again next time
	retry            bool                 // err is passing (S3 or the service): the next sweep tries again
	err              error                // the step failed: its files from the failed one on are read again next time
}

func (r *stepResult) summary() string {
	msg := records(r.ingested) + " ingested."
	if r.failed > 0 {
		msg = fmt.Sprintf("%s ingested, %d failed (each sent to the domain's dead-letter queue, when it has one).", records(r.ingested), r.failed)
	}
	if len(r.skipped) > 0 {
		n := fmt.Sprintf("%d files", len(r.skipped))
		if len(r.skipped) == 1 {
			n = "1 file"
		}
		msg += fmt.Sprintf(" %s skipped: %s", n, strings.Join(r.skipped, "; "))
	}
	return cutChars(msg, 255)
}

// runStep reads the files of a window, by last-modified time then key,
// and ingests their records. A file deleted since the listing is passed
// over; one that is not CSV or JSON, or too large, is skipped and named;
// one S3 will not give (throttled, forbidden) ends the step with an error,
// as does a record a Validate task with TerminateFlow refuses.
func (s *Service) runStep(ctx context.Context, domain, id string, doc *workflowDoc, tasks []flowTask, w flowWindow, alive func() bool) stepResult {
	var res stepResult
	f := doc.Flow
	objs, err := s.Sources.ListObjects(ctx, f.S3Bucket, f.S3Prefix)
	if err != nil {
		s.Logger.Warn("workflow: list the bucket", "domain", domain, "workflow", id, "bucket", f.S3Bucket, "err", err)
		code := profiles.ErrorCode(err)
		res.err = profiles.Errorf(cmp.Or(code, profiles.EINTERNAL), "%s.", sourceFailure(err, "the S3 bucket "+f.S3Bucket))
		res.retry = code == profiles.ETHROTTLED || code == profiles.EINTERNAL
		return res
	}
	objs = slices.DeleteFunc(objs, func(o profiles.SourceObject) bool { return !w.holds(o) })
	slices.SortFunc(objs, func(a, b profiles.SourceObject) int {
		if c := a.LastModified.Compare(b.LastModified); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	for _, o := range objs {
		if !alive() {
			res.interrupted = true
			return res
		}
		done := func() {
			if res.newest.IsZero() || o.LastModified.After(res.newest) || o.LastModified.Equal(res.newest) && o.Key > res.newestKey {
				res.newest, res.newestKey = o.LastModified, o.Key
			}
			if res.read == nil {
				res.read = map[string]time.Time{}
			}
			res.read[o.Key] = o.LastModified
		}
		// giveUp: the file failed maxFileFailures times: skip it.
		giveUp := func(why string) bool {
			if doc.FileFailures[o.Key] < maxFileFailures-1 {
				res.failedKey = o.Key
				return false
			}
			res.skipped = append(res.skipped, fmt.Sprintf("s3://%s/%s: %s (failed %d times)", f.S3Bucket, o.Key, why, maxFileFailures))
			done()
			return true
		}
		if doc.Principal != "" {
			// The server reads with its own credentials: the creator must
			// (still) be allowed this file.
			switch err := s.Authorize(ctx, &profiles.AuthRequest{Principal: doc.Principal, Action: "s3:GetObject", Resource: "arn:aws:s3:::" + f.S3Bucket + "/" + o.Key}); {
			case profiles.ErrorCode(err) == profiles.EFORBIDDEN:
				res.skipped = append(res.skipped, fmt.Sprintf("s3://%s/%s: the principal the workflow reads as (its creator, or whoever last changed its integration) may not read it (s3:GetObject)", f.S3Bucket, o.Key))
				done()
				continue
			case err != nil:
				res.err = err
				return res
			}
		}
		body, err := s.Sources.OpenObject(ctx, f.S3Bucket, o.Key, maxSourceFileBytes)
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			s.Logger.Warn("workflow: read a file", "domain", domain, "workflow", id, "key", o.Key, "err", err)
		}
		switch profiles.ErrorCode(err) {
		case "":
		case profiles.ENOTFOUND:
			done() // deleted since the listing
			continue
		case profiles.EINVALID:
			res.skipped = append(res.skipped, fmt.Sprintf("s3://%s/%s: %s", f.S3Bucket, o.Key, profiles.ErrorMessage(err)))
			done()
			continue
		default:
			if ctx.Err() != nil {
				res.interrupted = true
				return res
			}
			if giveUp(sourceFailure(err, "it")) {
				continue
			}
			code := profiles.ErrorCode(err)
			res.err = profiles.Errorf(cmp.Or(code, profiles.EINTERNAL), "%s.", sourceFailure(err, fmt.Sprintf("s3://%s/%s", f.S3Bucket, o.Key)))
			res.retry = code == profiles.ETHROTTLED || code == profiles.EINTERNAL
			return res
		}
		// Records go in batches of flowBatch (as PutProfileObjects: the
		// batch's objects go in at once and commit together, versions of
		// one object, and objects of one profile, in the file's order); one
		// throttled waits out the rate (up to uploadThrottleWait) in its
		// round, and goes to the dead-letter queue if it cannot, as one
		// refused for what it holds does.
		var batch []string
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			objs := batch
			batch = nil
			_, errs, err := s.putObjects(ctx, domain, doc.ObjectTypeName, objs, uploadThrottleWait)
			if ctx.Err() != nil {
				return errStepInterrupted
			}
			for i, obj := range objs {
				e := err
				if e == nil {
					e = errs[i]
				}
				switch {
				case e == nil:
					res.ingested++
				case !recordFault(e) && profiles.ErrorCode(e) != profiles.ETHROTTLED:
					// Not this record's fault (the store, the key, the
					// object type): the step stops, the file is read again.
					s.Logger.Warn("workflow: ingest a record", "domain", domain, "workflow", id, "key", o.Key, "err", e)
					return &ingestError{e}
				default:
					if dlqErr := s.deadLetterObject(ctx, domain, doc.ObjectTypeName, obj, "workflow:"+id, e); dlqErr != nil {
						s.Logger.Warn("workflow: dead-letter a record", "domain", domain, "workflow", id, "key", o.Key, "err", dlqErr)
						return &ingestError{dlqErr}
					}
					res.failed++
				}
			}
			return nil
		}
		n := 0
		perr := eachRecord(o.Key, body, func(r map[string]any) error {
			n++
			if n%100 == 0 && !alive() {
				return errStepInterrupted
			}
			out, keep, err := applyTasks(tasks, r)
			if err != nil {
				return profiles.Errorf(profiles.EINVALID, "s3://%s/%s, record %d: %s", f.S3Bucket, o.Key, n, err.Error())
			}
			if !keep {
				return nil
			}
			obj, err := json.Marshal(out)
			if err != nil {
				return err
			}
			if batch = append(batch, string(obj)); len(batch) == flowBatch {
				return flush()
			}
			return nil
		})
		body.Close()
		if !errors.Is(perr, errStepInterrupted) {
			if err := flush(); err != nil {
				perr = err
			}
		}
		var ie *ingestError
		switch {
		case perr == nil:
			done()
		case errors.As(perr, &ie):
			res.err, res.retry = profiles.Errorf(profiles.EINTERNAL, "s3://%s/%s: records could not be ingested (%s); the file is read again at the next sweep.", f.S3Bucket, o.Key, profiles.ErrorMessage(ie.err)), true
			return res
		case errors.Is(perr, errStepInterrupted):
			res.interrupted = true
			return res
		case errors.As(perr, new(*recordsError)):
			res.skipped = append(res.skipped, fmt.Sprintf("s3://%s/%s: %s (from record %d)", f.S3Bucket, o.Key, perr.Error(), n+1))
			done()
		default: // TerminateFlow, or worse
			if giveUp(profiles.ErrorMessage(perr)) {
				continue
			}
			res.err = perr
			return res
		}
	}
	return res
}

var errStepInterrupted = errors.New("step interrupted")

// retryPrefix begins the ErrorDescription of a workflow whose step failed
// for a passing reason and is tried again at the next sweep.
const retryPrefix = "Retrying at the next sweep: "

// ingestError: a record could not be ingested for a reason not its own.
type ingestError struct{ err error }

func (e *ingestError) Error() string { return e.err.Error() }

// recordFault reports whether an ingestion failed for the record itself
// (what it holds, or its profile's quota): it goes to the dead-letter
// queue. Other failures are the service's, and pass.
func recordFault(err error) bool {
	switch profiles.ErrorCode(err) {
	case profiles.EINVALID, profiles.EQUOTA, profiles.ECONFLICT:
		return true
	}
	return false
}

// recordsError: a file is not CSV or JSON from some point on.
type recordsError struct{ msg string }

func (e *recordsError) Error() string { return e.msg }

// eachRecord calls fn with each record of a file, read as it goes: CSV
// with a header row when its key ends in .csv (rows may be shorter or
// longer than the header; empty cells are left out), else a JSON array of
// objects or JSON objects one after the other (JSON lines); a byte-order
// mark is passed over. fn's error stops it and is returned; a file that
// stops being CSV or JSON, or that cannot be read to its end (too large),
// is a *recordsError (the records before were given to fn).
func eachRecord(key string, r io.Reader, fn func(map[string]any) error) error {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	if strings.HasSuffix(strings.ToLower(key), ".csv") {
		rd := csv.NewReader(br)
		rd.FieldsPerRecord = -1
		rd.ReuseRecord = true
		header, err := rd.Read()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return &recordsError{fmt.Sprintf("not CSV: %s", readError(err))}
		}
		header = slices.Clone(header)
		for {
			row, err := rd.Read()
			if err == io.EOF {
				return nil
			} else if err != nil {
				return &recordsError{fmt.Sprintf("not CSV: %s", readError(err))}
			}
			r := map[string]any{}
			for i, h := range header {
				if i < len(row) && row[i] != "" {
					r[h] = row[i]
				}
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	// JSON: an array when its first byte (past spaces) is '['.
	array := false
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return &recordsError{readError(err)}
		}
		if b == ' ' || b == '\t' || b == '\n' || b == '\r' {
			continue
		}
		array = b == '['
		br.UnreadByte()
		break
	}
	d := json.NewDecoder(br)
	d.UseNumber()
	if array {
		d.Token() // the '['
	}
	for array && d.More() || !array {
		var r map[string]any
		err := d.Decode(&r)
		if err == io.EOF && !array {
			return nil
		} else if err != nil {
			if array {
				return &recordsError{fmt.Sprintf("not a JSON array of objects: %s", readError(err))}
			}
			return &recordsError{fmt.Sprintf("not JSON objects (JSON lines): %s", readError(err))}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if t, err := d.Token(); err != nil || t != json.Delim(']') { // the array's end
		return &recordsError{fmt.Sprintf("not a JSON array of objects: it does not end (%v)", err)}
	}
	return nil
}

// readError words an error met reading a file: the source's own message
// (a file over the size limit says so), else the parser's.
func readError(err error) string {
	var pe *profiles.Error
	if errors.As(err, &pe) {
		return profiles.ErrorMessage(err)
	}
	return err.Error()
}
