package service_test

import (
	"context"
	"slices"
	"strings"
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
