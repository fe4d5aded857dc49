package main_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/fauxqs"
)

// flakyS3 stands between the server and the S3 protocol server: it passes
// requests on, answers 503 SlowDown while failing, and holds one request
// (saying so on entered) until released.
type flakyS3 struct {
	proxy   http.Handler
	mu      sync.Mutex
	failing bool
	hold    chan struct{}
	entered chan struct{}
}

func (f *flakyS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	failing, hold := f.failing, f.hold
	f.hold = nil
	f.mu.Unlock()
	if hold != nil {
		f.entered <- struct{}{}
		<-hold
	}
	if failing {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>`))
		return
	}
	f.proxy.ServeHTTP(w, r)
}

func (f *flakyS3) fail(on bool) {
	f.mu.Lock()
	f.failing = on
	f.mu.Unlock()
}

// holdNext holds the next request until the returned func is called.
func (f *flakyS3) holdNext() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.hold = ch
	f.mu.Unlock()
	return sync.OnceFunc(func() { close(ch) })
}

// TestWorkflows_Retry: a history's step that fails for a passing reason
// (S3 throttling every read) leaves the workflow RETRY until its next
// attempt, IN_PROGRESS while that attempt runs, COMPLETE once it goes
// through; a workflow whose source keeps failing is FAILED after 3
// retries.
func TestWorkflows_Retry(t *testing.T) {
	endpoint := fauxqs.Start(t)
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyS3{proxy: httputil.NewSingleHostReverseProxy(u), entered: make(chan struct{}, 1)}
	front := httptest.NewServer(flaky)
	t.Cleanup(front.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	clock := &testClock{now: time.Now().UTC()}
	e := newIngestEnvClock(t, clock, func(c *main.Config) { c.S3Endpoint = front.URL })
	e.putType(crmType())
	fauxqs.CreateBucket(t, endpoint, testRegion, "crm")
	putS3(t, endpoint, "crm", "contacts/2026-01.csv", "id,email,first,city,score\nc1,ann@example.com,Ann,Lyon,50\n")
	ctx := t.Context()
	dn := aws.String(e.domain)
	create := func(name string) *string {
		t.Helper()
		out, err := e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
			ObjectTypeName: aws.String("crm"), RoleArn: aws.String("arn:aws:iam::000000000000:role/flows"),
			IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: crmFlow(name, &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand})}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.WorkflowId
	}
	get := func(id *string) *customerprofiles.GetWorkflowOutput {
		t.Helper()
		w, err := e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: id})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	run := func(want int) {
		t.Helper()
		if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != want {
			t.Fatalf("RunWorkflows: %d, %v; want %d ran", n, err, want)
		}
	}

	id := create("crm-retry")
	flaky.fail(true)
	run(1)
	if w := get(id); w.Status != types.StatusRetry || !strings.Contains(aws.ToString(w.ErrorDescription), "S3 throttled") {
		t.Fatalf("after S3 throttled the history: %s (%q); want RETRY, saying why", w.Status, aws.ToString(w.ErrorDescription))
	}
	list, err := e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn, Status: types.StatusRetry})
	if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].WorkflowId) != aws.ToString(id) {
		t.Fatalf("ListWorkflows RETRY: %+v, %v; want the workflow", list, err)
	}

	// S3 is back: the next attempt runs (IN_PROGRESS), and goes through.
	flaky.fail(false)
	release := flaky.holdNext()
	t.Cleanup(release)
	done := make(chan error, 1)
	go func() {
		_, err := e.m.Service.RunWorkflows(ctx)
		done <- err
	}()
	<-flaky.entered
	if w := get(id); w.Status != types.StatusInProgress {
		t.Errorf("while the retry runs: %s; want IN_PROGRESS", w.Status)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w := get(id)
	if w.Status != types.StatusComplete || w.Metrics.AppflowIntegration.RecordsProcessed != 1 || aws.ToString(w.ErrorDescription) != "" {
		t.Fatalf("after the retry: %s (%q, %+v); want COMPLETE, ann's record, no error left", w.Status, aws.ToString(w.ErrorDescription), w.Metrics.AppflowIntegration)
	}
	steps, err := e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: id})
	if err != nil || len(steps.Items) != 2 || steps.Items[0].AppflowIntegration.Status != types.StatusFailed || steps.Items[1].AppflowIntegration.Status != types.StatusComplete {
		t.Fatalf("GetWorkflowSteps: %+v, %v; want the failed step, then the one that went through", steps, err)
	}

	// A source that keeps failing: RETRY until 3 retries AND an hour since
	// the first failure have passed (an outage of a few sweeps does not end
	// the workflow), then FAILED, not run again.
	id = create("crm-giveup")
	flaky.fail(true)
	for i := range 5 {
		run(1)
		if w := get(id); w.Status != types.StatusRetry {
			t.Fatalf("after failure %d within the hour: %s (%q); want RETRY", i+1, w.Status, aws.ToString(w.ErrorDescription))
		}
	}
	clock.mu.Lock()
	clock.now = clock.now.Add(time.Hour)
	clock.mu.Unlock()
	run(1)
	if w := get(id); w.Status != types.StatusFailed || !strings.Contains(aws.ToString(w.ErrorDescription), "6 times in a row over 1h0m0s") {
		t.Fatalf("after an hour of failures: %s (%q); want FAILED, given up", w.Status, aws.ToString(w.ErrorDescription))
	}
	run(0)

	// A scheduled flow's pulls are its integration's ongoing updates: the
	// workflow (its history) stays COMPLETE during and between them; a
	// pull that fails for a passing reason is tried again at each sweep,
	// ErrorDescription saying so, until one goes through.
	flaky.fail(false)
	f := crmFlow("crm-pulls", &types.TriggerConfig{TriggerType: types.TriggerTypeScheduled, TriggerProperties: &types.TriggerProperties{
		Scheduled: &types.ScheduledTriggerProperties{ScheduleExpression: aws.String("rate(5 minutes)"), DataPullMode: types.DataPullModeIncremental}}})
	f.SourceFlowConfig.SourceConnectorProperties.S3.BucketPrefix = aws.String("later/")
	out, err := e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: aws.String("arn:aws:iam::000000000000:role/flows"),
		IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: f}}})
	if err != nil {
		t.Fatal(err)
	}
	id = out.WorkflowId
	run(1)
	if w := get(id); w.Status != types.StatusComplete {
		t.Fatalf("after the scheduled flow's history: %s; want COMPLETE", w.Status)
	}
	clock.mu.Lock()
	clock.now = clock.now.Add(6 * time.Minute)
	clock.mu.Unlock()
	flaky.fail(true)
	run(1)
	if w := get(id); w.Status != types.StatusComplete || !strings.Contains(aws.ToString(w.ErrorDescription), "Retrying at the next sweep") {
		t.Fatalf("after a failed pull: %s (%q); want COMPLETE, retrying", w.Status, aws.ToString(w.ErrorDescription))
	}
	flaky.fail(false)
	release = flaky.holdNext()
	t.Cleanup(release)
	go func() {
		_, err := e.m.Service.RunWorkflows(ctx)
		done <- err
	}()
	<-flaky.entered
	w = get(id)
	steps, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: id})
	if err != nil || w.Status != types.StatusComplete || len(steps.Items) != 3 || steps.Items[2].AppflowIntegration.Status != types.StatusInProgress {
		t.Errorf("during a pull: %s, steps %+v, %v; want COMPLETE, the pull's step IN_PROGRESS", w.Status, steps, err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w := get(id); w.Status != types.StatusComplete || aws.ToString(w.ErrorDescription) != "" {
		t.Fatalf("after the pull went through: %s (%q); want COMPLETE, no error left", w.Status, aws.ToString(w.ErrorDescription))
	}
}
