package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestWorkflow_DeletedWhileRunning: a workflow is IN_PROGRESS, with a step
// IN_PROGRESS, while it reads; deleted then, it stays deleted (the run's
// progress does not bring it back, nor set up its flow's integration), and
// its flow name can be taken again by a workflow the old run leaves alone.
func TestWorkflow_DeletedWhileRunning(t *testing.T) {
	for _, trigger := range []string{"OnDemand", "Scheduled"} {
		t.Run(trigger, func(t *testing.T) {
			s, src, now := openWorkflows(t)
			ctx := t.Context()
			src.put("in/a.json", jsonl("a1"), now.Add(-time.Hour))
			src.put("in/b.json", jsonl("b1"), now.Add(-time.Hour+time.Second))
			id := createFlow(t, s, trigger)
			if w, err := s.GetWorkflow(ctx, "enc", id); err != nil || w.Status != "NOT_STARTED" {
				t.Fatalf("before its run: %+v, %v", w, err)
			}
			var during *profiles.Workflow
			var duringSteps []profiles.WorkflowStep
			var deleteErr error
			src.onGet = func(key string) {
				if key != "in/a.json" {
					return
				}
				during, _ = s.GetWorkflow(ctx, "enc", id)
				duringSteps, _, _ = s.GetWorkflowSteps(ctx, "enc", id, profiles.Page{})
				deleteErr = s.DeleteWorkflow(ctx, "enc", id)
			}
			if _, err := s.RunWorkflows(ctx); err != nil {
				t.Fatal(err)
			}
			if during == nil || during.Status != "IN_PROGRESS" || len(duringSteps) != 1 || duringSteps[0].Status != "IN_PROGRESS" {
				t.Fatalf("while it reads: %+v, steps %+v; want IN_PROGRESS, one step IN_PROGRESS", during, duringSteps)
			}
			if deleteErr != nil {
				t.Fatalf("DeleteWorkflow while it runs: %v", deleteErr)
			}
			if _, err := s.GetWorkflow(ctx, "enc", id); profiles.ErrorCode(err) != profiles.ENOTFOUND {
				t.Fatalf("GetWorkflow after its run: %v; want ENOTFOUND", err)
			}
			if list, _, err := s.ListWorkflows(ctx, "enc", profiles.WorkflowQuery{}, profiles.Page{}); err != nil || len(list) != 0 {
				t.Fatalf("ListWorkflows: %+v, %v; want none", list, err)
			}
			if _, err := s.Integrations.FindIntegration(ctx, "enc", "arn:aws:appflow:"+s.Region+":"+s.AccountID+":flow/f-"+trigger); profiles.ErrorCode(err) != profiles.ENOTFOUND {
				t.Fatalf("the flow's integration after its workflow was deleted: %v; want none", err)
			}
			if n, err := s.RunWorkflows(ctx); err != nil || n != 0 {
				t.Fatalf("RunWorkflows after: %d, %v; want none to run", n, err)
			}

			// The flow name again: a new workflow, run to its end.
			src.onGet = nil
			again := createFlow(t, s, trigger)
			if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
				t.Fatalf("RunWorkflows of the new workflow: %d, %v", n, err)
			}
			w, err := s.GetWorkflow(ctx, "enc", again)
			if err != nil || w.Status != "COMPLETE" || w.RecordsProcessed != 2 || w.StepsCompleted != 1 {
				t.Fatalf("the new workflow: %+v, %v; want COMPLETE, 2 records", w, err)
			}
		})
	}
}

// TestWorkflow_Batches: batches that share times are refused, naming
// them (each file of the shared times would be read, and ingested, once
// per batch); batches that meet (one starts where another ends) read
// each file once.
func TestWorkflow_Batches(t *testing.T) {
	s, src, now := openWorkflows(t)
	ctx := t.Context()
	t0 := now.Add(-4 * time.Hour)
	src.put("in/a.json", jsonl("a1"), t0.Add(30*time.Minute))
	src.put("in/b.json", jsonl("b1"), t0.Add(time.Hour)) // where the batches meet
	src.put("in/c.json", jsonl("c1"), t0.Add(90*time.Minute))
	create := func(name string, batches ...profiles.WorkflowBatch) (*profiles.Workflow, error) {
		return s.CreateIntegrationWorkflow(ctx, &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "crm",
			Flow: profiles.FlowDefinition{Name: name, ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: "OnDemand"}, Batches: batches})
	}
	for _, c := range []struct {
		name    string
		batches []profiles.WorkflowBatch
		want    string
	}{
		{"overlap", []profiles.WorkflowBatch{{Start: t0, End: t0.Add(2 * time.Hour)}, {Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour)}}, "Batches[1] overlaps Batches[0]"},
		{"inside", []profiles.WorkflowBatch{{Start: t0.Add(-time.Hour), End: t0}, {Start: t0, End: t0.Add(3 * time.Hour)}, {Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Second)}}, "Batches[2] overlaps Batches[1]"},
		{"latest first", []profiles.WorkflowBatch{{Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour)}, {Start: t0.Add(-time.Hour), End: t0.Add(-time.Minute)},
			{Start: t0, End: t0.Add(time.Hour + time.Second)}}, "Batches[2] overlaps Batches[0]"},
		{"same", []profiles.WorkflowBatch{{Start: t0, End: t0.Add(time.Hour)}, {Start: t0, End: t0.Add(time.Hour)}}, "Batches[1] overlaps Batches[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := create("overlap-"+c.name, c.batches...)
			if profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(profiles.ErrorMessage(err), c.want) {
				t.Fatalf("err = %v; want EINVALID naming %q", err, c.want)
			}
		})
	}
	// Batches that meet, given latest first: each file once.
	w, err := create("meet", profiles.WorkflowBatch{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)}, profiles.WorkflowBatch{Start: t0, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err = s.GetWorkflow(ctx, "enc", w.ID)
	if err != nil || w.Status != "COMPLETE" || w.RecordsProcessed != 3 || w.StepsCompleted != 2 {
		t.Fatalf("batches that meet: %+v, %v; want COMPLETE, 3 records in 2 steps", w, err)
	}
	steps, _, err := s.GetWorkflowSteps(ctx, "enc", w.ID, profiles.Page{})
	if err != nil || len(steps) != 2 || steps[0].Records != 2 || steps[1].Records != 1 {
		t.Fatalf("steps: %+v, %v; want 2 records (b, c), then 1 (a)", steps, err)
	}
}
