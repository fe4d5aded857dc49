package service_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// putFlow puts the integration of a flow "sync" of s3://b/prefix.
func putFlow(t *testing.T, s interface {
	PutIntegration(context.Context, *profiles.Integration) (*profiles.Integration, error)
}, prefix, trigger string, tasks ...profiles.FlowTask) *profiles.Integration {
	t.Helper()
	f := &profiles.FlowDefinition{Name: "sync", ConnectorType: "S3", S3Bucket: "b", S3Prefix: prefix, TriggerType: trigger, Tasks: tasks}
	if trigger == "Scheduled" {
		f.Schedule = &profiles.FlowSchedule{Expression: "rate(5 minutes)"}
	}
	in, err := s.PutIntegration(t.Context(), &profiles.Integration{DomainName: "enc", ObjectTypeName: "crm", Flow: f, Tags: map[string]string{"team": "crm"}})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestPutIntegration_FlowReplaced: PutIntegration of a flow name that has
// a workflow replaces its flow. Same source, scheduled: the next pull goes
// on from the last file read, with the new tasks. A new source: the
// workflow starts over, and a step running stops (within seconds: it
// checks that it holds the workflow every 5 seconds).
func TestPutIntegration_FlowReplaced(t *testing.T) {
	s, src, now := openWorkflows(t)
	ctx := t.Context()
	src.put("in/a.json", jsonl("a", "b"), now.Add(-time.Hour))
	in := putFlow(t, s, "in/", "Scheduled")
	if in.URI != "arn:aws:appflow:us-east-1:000000000000:flow/sync" || len(in.WorkflowID) != 32 {
		t.Fatalf("PutIntegration: %+v; want the flow's ARN and its workflow", in)
	}
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("history: %d, %v", n, err)
	}
	if got, _ := s.GetIntegration(ctx, "enc", in.URI); got.Tags["team"] != "crm" || got.WorkflowID != in.WorkflowID {
		t.Fatalf("integration after the history: %+v; want PutIntegration's tags kept, and its workflow", got)
	}

	// The same source with a filter: a, b are not read again; of the new
	// file's records, c is dropped.
	again := putFlow(t, s, "in/", "Scheduled", profiles.FlowTask{Type: "Filter", Operator: "NOT_EQUAL_TO", SourceFields: []string{"id"},
		Properties: map[string]string{"VALUE": "c", "DATA_TYPE": "string"}})
	if again.WorkflowID != in.WorkflowID || !again.CreatedAt.Equal(in.CreatedAt) {
		t.Fatalf("PutIntegration again: %+v; want the same workflow and CreatedAt as %+v", again, in)
	}
	if w, _ := s.GetWorkflow(ctx, "enc", in.WorkflowID); w.Status != "COMPLETE" || len(w.Flow.Tasks) != 1 {
		t.Fatalf("workflow after the new flow: %+v; want COMPLETE with the filter", w)
	}
	src.put("in/b.json", jsonl("c", "d"), now.Add(time.Minute))
	*now = now.Add(6 * time.Minute)
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("pull: %d, %v", n, err)
	}
	steps, _, _ := s.GetWorkflowSteps(ctx, "enc", in.WorkflowID, profiles.Page{})
	if len(steps) != 2 || steps[1].Records != 1 {
		t.Fatalf("steps: %+v; want the history, then a pull of d only", steps)
	}
	if got := ingested(t, s, "a", "b", "c", "d"); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Fatalf("profiles: %v; want a, b, d", got)
	}

	// Another prefix, while a step reads: the step stops, the workflow
	// starts over on the new prefix.
	src.put("other/x.json", jsonl("x"), now.Add(-time.Hour))
	src.put("in/c.json", jsonl("e"), now.Add(time.Minute))
	src.put("in/d.json", jsonl("f"), now.Add(time.Minute+time.Second))
	*now = now.Add(6 * time.Minute)
	var replaced *profiles.Integration
	src.onGet = func(key string) {
		if key == "in/c.json" && replaced == nil {
			replaced = putFlow(t, s, "other/", "OnDemand")
		}
	}
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("pull: %d, %v", n, err)
	}
	src.onGet = nil
	*now = now.Add(2 * time.Minute) // the handover of a flow replaced during a run
	w, _ := s.GetWorkflow(ctx, "enc", in.WorkflowID)
	steps, _, _ = s.GetWorkflowSteps(ctx, "enc", in.WorkflowID, profiles.Page{})
	if replaced == nil || replaced.WorkflowID != in.WorkflowID || w.Status != "NOT_STARTED" || w.Flow.S3Prefix != "other/" ||
		len(steps) != 3 || steps[2].Status != "FAILED" || !strings.Contains(steps[2].Message, "PutIntegration replaced the flow") {
		t.Fatalf("after the flow was replaced mid-step: %+v, steps %+v", w, steps)
	}
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("the new flow: %d, %v", n, err)
	}
	if w, _ := s.GetWorkflow(ctx, "enc", in.WorkflowID); w.Status != "COMPLETE" || w.StepsCompleted != 3 {
		t.Fatalf("after the new flow: %+v", w)
	}
	// (The step replaced may read on for up to 5 seconds, the time
	// between its checks that it still holds the workflow: here it read
	// in/d.json, f.)
	if got := ingested(t, s, "x", "e"); !slices.Equal(got, []string{"x", "e"}) {
		t.Fatalf("profiles: %v; want x, and e of the step replaced", got)
	}
	if n, _ := s.RunWorkflows(ctx); n != 0 {
		t.Fatalf("an on-demand flow ran again: %d", n)
	}
	putFlow(t, s, "other/", "OnDemand") // an on-demand flow put again runs again
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("the on-demand flow put again: %d, %v", n, err)
	}

	// Deleting the integration deletes the workflow and frees the name.
	if err := s.DeleteIntegration(ctx, "enc", in.URI); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWorkflow(ctx, "enc", in.WorkflowID); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("GetWorkflow after DeleteIntegration: %v; want ENOTFOUND", err)
	}
	if next := putFlow(t, s, "other/", "OnDemand"); next.WorkflowID == in.WorkflowID {
		t.Fatalf("PutIntegration after the deletion: %+v; want a new workflow", next)
	}
}

// TestPutIntegration_FlowNameRaces: PutIntegrations of one new flow name
// side by side leave one workflow, the integration's; a reservation left
// by a deletion cut short is taken back once it is old, not while a
// workflow may be on its way.
func TestPutIntegration_FlowNameRaces(t *testing.T) {
	s, src, now := openWorkflows(t)
	ctx := t.Context()
	src.put("in/a.json", jsonl("a"), now.Add(-time.Hour))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &profiles.FlowDefinition{Name: "sync", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: "OnDemand"}
			_, errs[i] = s.PutIntegration(ctx, &profiles.Integration{DomainName: "enc", ObjectTypeName: "crm", Flow: f})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case profiles.ErrorCode(err) != profiles.ECONFLICT || !strings.Contains(profiles.ErrorMessage(err), "sync"):
			t.Errorf("a PutIntegration side by side: %v; want success, or a conflict naming the flow (try again)", err)
		}
	}
	list, _, err := s.ListWorkflows(ctx, "enc", profiles.WorkflowQuery{}, profiles.Page{})
	if err != nil || len(list) != 1 || ok == 0 {
		t.Fatalf("%d PutIntegrations succeeded, workflows %+v, %v; want one workflow", ok, list, err)
	}
	in, err := s.GetIntegration(ctx, "enc", "arn:aws:appflow:us-east-1:000000000000:flow/sync")
	if err != nil || in.WorkflowID != list[0].ID {
		t.Fatalf("integration %+v, %v; want workflow %s", in, err, list[0].ID)
	}

	// A reservation whose workflow is gone: refused while it is recent,
	// taken back a minute on.
	stale := &profiles.DomainConfig{DomainName: "enc", Kind: profiles.ConfigWorkflowFlow, Name: "left", Data: []byte(`"0123456789abcdef0123456789abcdef"`), CreatedAt: *now}
	if err := s.Configs.CreateConfig(ctx, stale, 0); err != nil {
		t.Fatal(err)
	}
	left := &profiles.FlowDefinition{Name: "left", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: "OnDemand"}
	_, err = s.PutIntegration(ctx, &profiles.Integration{DomainName: "enc", ObjectTypeName: "crm", Flow: left})
	if profiles.ErrorCode(err) != profiles.ECONFLICT || !strings.Contains(profiles.ErrorMessage(err), "try again") {
		t.Fatalf("PutIntegration of a name reserved a moment ago, without its workflow: %v; want ECONFLICT, try again", err)
	}
	_, err = s.CreateIntegrationWorkflow(ctx, &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "crm", Flow: *left})
	if profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("CreateIntegrationWorkflow of a name reserved a moment ago: %v; want EINVALID", err)
	}
	*now = now.Add(2 * time.Minute)
	if in, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: "enc", ObjectTypeName: "crm", Flow: left}); err != nil || in.WorkflowID == "" {
		t.Fatalf("PutIntegration of a name left reserved: %+v, %v; want it taken back", in, err)
	}
}

// TestPutIntegration_FlowOfAnotherDomain: a flow's integration belongs to
// its workflow's domain; a refused PutIntegration changes nothing.
func TestPutIntegration_FlowOfAnotherDomain(t *testing.T) {
	s, src, now := openWorkflows(t)
	ctx := t.Context()
	src.put("in/a.json", jsonl("a"), now.Add(-time.Hour))
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "other", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, &profiles.ObjectType{DomainName: "other", Name: "crm", Description: "crm", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}},
		Keys:   map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE", "PROFILE"}, FieldNames: []string{"id"}}}}}); err != nil {
		t.Fatal(err)
	}
	id := createFlow(t, s, "OnDemand") // flow f-OnDemand in enc
	arn := "arn:aws:appflow:us-east-1:000000000000:flow/f-OnDemand"
	if _, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: "other", URI: arn, ObjectTypeName: "crm"}); profiles.ErrorCode(err) != profiles.ECONFLICT {
		t.Fatalf("PutIntegration of enc's flow in other: %v; want ECONFLICT", err)
	}
	// The flow of "took" is another domain's integration already: a
	// PutIntegration with it is refused, and nothing is created.
	took := "arn:aws:appflow:us-east-1:000000000000:flow/took"
	if _, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: "other", URI: took, ObjectTypeName: "crm"}); err != nil {
		t.Fatal(err)
	}
	f := &profiles.FlowDefinition{Name: "took", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "x/", TriggerType: "OnDemand"}
	if _, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: "enc", ObjectTypeName: "crm", Flow: f}); profiles.ErrorCode(err) != profiles.ECONFLICT {
		t.Fatalf("PutIntegration of another domain's flow: %v; want ECONFLICT", err)
	}
	if list, _, _ := s.ListWorkflows(ctx, "enc", profiles.WorkflowQuery{}, profiles.Page{}); len(list) != 1 {
		t.Fatalf("workflows: %+v; want enc's first only", list)
	}

	// CreateIntegrationWorkflow's flow put as an integration: the same
	// workflow; DeleteWorkflow takes the integration (an on-demand flow's
	// too).
	same := &profiles.FlowDefinition{Name: "f-OnDemand", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: "OnDemand"}
	in, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: "enc", ObjectTypeName: "crm", Flow: same})
	if err != nil || in.WorkflowID != id {
		t.Fatalf("PutIntegration of CreateIntegrationWorkflow's flow: %+v, %v; want workflow %s", in, err, id)
	}
	// A PutIntegration of the flow's ARN without a FlowDefinition keeps
	// the workflow in step: it ingests into the integration's type.
	if _, err := s.PutObjectType(ctx, &profiles.ObjectType{DomainName: "enc", Name: "crm2", Description: "crm2", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}},
		Keys:   map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE", "PROFILE"}, FieldNames: []string{"id"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIntegration(ctx, &profiles.Integration{DomainName: "enc", URI: arn, ObjectTypeName: "crm2"}); err != nil {
		t.Fatal(err)
	}
	if w, err := s.GetWorkflow(ctx, "enc", id); err != nil || w.ObjectTypeName != "crm2" {
		t.Fatalf("the workflow after a PutIntegration of its flow's ARN: %+v, %v; want object type crm2", w, err)
	}
	if err := s.DeleteWorkflow(ctx, "enc", id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIntegration(ctx, "enc", arn); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("GetIntegration after DeleteWorkflow: %v; want ENOTFOUND", err)
	}
	if _, err := s.Configs.FindConfig(ctx, "enc", profiles.ConfigWorkflowFlow, "f-OnDemand"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("the flow name after DeleteWorkflow: %v; want free", err)
	}
}
