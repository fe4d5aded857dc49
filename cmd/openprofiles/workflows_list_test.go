package main_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// createTestWorkflow creates an on-demand workflow of flow name reading
// s3://crm/prefix into crm, with batches, and returns its id.
func createTestWorkflow(t *testing.T, e *ingestEnv, name, prefix string, batches []types.Batch, edit func(*types.FlowDefinition)) string {
	t.Helper()
	f := crmFlow(name, &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand})
	f.SourceFlowConfig.SourceConnectorProperties.S3.BucketPrefix = aws.String(prefix)
	if edit != nil {
		edit(f)
	}
	out, err := e.client.CreateIntegrationWorkflow(t.Context(), &customerprofiles.CreateIntegrationWorkflowInput{DomainName: aws.String(e.domain),
		WorkflowType: types.WorkflowTypeAppflowIntegration, ObjectTypeName: aws.String("crm"), RoleArn: aws.String("arn:aws:iam::000000000000:role/flows"),
		IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: f, Batches: batches}}})
	if err != nil {
		t.Fatalf("CreateIntegrationWorkflow %s: %v", name, err)
	}
	return aws.ToString(out.WorkflowId)
}

// TestListWorkflows_Filters: each filter of ListWorkflows alone and
// combined, the date bounds (both inclusive, to the millisecond), paging
// with tokens (refused for other filters), and refusals naming the member.
func TestListWorkflows_Filters(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	clock := &testClock{now: t0}
	e, endpoint := newWorkflowEnv(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)
	putS3(t, endpoint, "crm", "ok/a.csv", "id,email,first,city,score\nc1,ann@example.com,Ann,Lyon,50\n")
	putS3(t, endpoint, "crm", "bad/a.csv", "id,email,first,city,score\nc2,,Bob,Lyon,50\n")

	// complete at t0, failed (a Validate task with TerminateFlow refuses
	// its record) at t0+1h, not started at t0+2h.
	complete := createTestWorkflow(t, e, "complete", "ok/", nil, nil)
	clock.add(time.Hour)
	failed := createTestWorkflow(t, e, "failed", "bad/", nil, func(f *types.FlowDefinition) {
		f.Tasks[2].TaskProperties["VALIDATION_ACTION"] = "TerminateFlow"
	})
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 2 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	clock.add(time.Hour)
	notStarted := createTestWorkflow(t, e, "later", "ok/", nil, nil)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	ms := time.Millisecond

	ids := func(in *customerprofiles.ListWorkflowsInput) []string {
		t.Helper()
		in.DomainName = dn
		out, err := e.client.ListWorkflows(ctx, in)
		if err != nil {
			t.Fatalf("ListWorkflows %+v: %v", in, err)
		}
		got := []string{}
		for _, it := range out.Items {
			got = append(got, aws.ToString(it.WorkflowId))
		}
		return got
	}
	for _, c := range []struct {
		name string
		in   customerprofiles.ListWorkflowsInput
		want []string
	}{
		{"all, newest first", customerprofiles.ListWorkflowsInput{}, []string{notStarted, failed, complete}},
		{"type", customerprofiles.ListWorkflowsInput{WorkflowType: types.WorkflowTypeAppflowIntegration}, []string{notStarted, failed, complete}},
		{"COMPLETE", customerprofiles.ListWorkflowsInput{Status: types.StatusComplete}, []string{complete}},
		{"FAILED", customerprofiles.ListWorkflowsInput{Status: types.StatusFailed}, []string{failed}},
		{"NOT_STARTED", customerprofiles.ListWorkflowsInput{Status: types.StatusNotStarted}, []string{notStarted}},
		{"IN_PROGRESS", customerprofiles.ListWorkflowsInput{Status: types.StatusInProgress}, []string{}},
		{"CANCELLED", customerprofiles.ListWorkflowsInput{Status: types.StatusCancelled}, []string{}},
		{"start at t1 (inclusive)", customerprofiles.ListWorkflowsInput{QueryStartDate: aws.Time(t1)}, []string{notStarted, failed}},
		{"start just after t1", customerprofiles.ListWorkflowsInput{QueryStartDate: aws.Time(t1.Add(ms))}, []string{notStarted}},
		{"end at t1 (inclusive)", customerprofiles.ListWorkflowsInput{QueryEndDate: aws.Time(t1)}, []string{failed, complete}},
		{"end just before t1", customerprofiles.ListWorkflowsInput{QueryEndDate: aws.Time(t1.Add(-ms))}, []string{complete}},
		{"start and end at t1", customerprofiles.ListWorkflowsInput{QueryStartDate: aws.Time(t1), QueryEndDate: aws.Time(t1)}, []string{failed}},
		{"start t0, end t2", customerprofiles.ListWorkflowsInput{QueryStartDate: aws.Time(t0), QueryEndDate: aws.Time(t2)}, []string{notStarted, failed, complete}},
		{"before all", customerprofiles.ListWorkflowsInput{QueryEndDate: aws.Time(t0.Add(-ms))}, []string{}},
		{"status and dates", customerprofiles.ListWorkflowsInput{Status: types.StatusComplete, QueryStartDate: aws.Time(t1)}, []string{}},
		{"status, type and dates", customerprofiles.ListWorkflowsInput{Status: types.StatusFailed, WorkflowType: types.WorkflowTypeAppflowIntegration,
			QueryStartDate: aws.Time(t0), QueryEndDate: aws.Time(t1)}, []string{failed}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(&c.in); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}

	// Each item says when it was created, to the millisecond.
	list, err := e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Time{t2, t1, t0} {
		it := list.Items[i]
		if !aws.ToTime(it.CreatedAt).Equal(want) || it.WorkflowType != types.WorkflowTypeAppflowIntegration || aws.ToString(it.StatusDescription) == "" {
			t.Errorf("item %d: %+v; want CreatedAt %v, a type and a StatusDescription", i, it, want)
		}
	}

	// Paging, one at a time, with and without filters.
	for _, in := range []customerprofiles.ListWorkflowsInput{{}, {QueryEndDate: aws.Time(t1)}, {Status: types.StatusFailed}} {
		var got []string
		in := in
		in.DomainName, in.MaxResults = dn, aws.Int32(1)
		for range 5 {
			out, err := e.client.ListWorkflows(ctx, &in)
			if err != nil {
				t.Fatalf("ListWorkflows %+v: %v", in, err)
			}
			for _, it := range out.Items {
				got = append(got, aws.ToString(it.WorkflowId))
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		want := ids(&customerprofiles.ListWorkflowsInput{Status: in.Status, QueryEndDate: in.QueryEndDate})
		if !slices.Equal(got, want) {
			t.Errorf("pages of %+v: %v; want %v", in, got, want)
		}
	}
	first, err := e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn, MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("ListWorkflows, 1: %+v, %v", first, err)
	}
	// The same list with another page size goes on.
	if got := ids(&customerprofiles.ListWorkflowsInput{NextToken: first.NextToken, MaxResults: aws.Int32(5)}); !slices.Equal(got, []string{failed, complete}) {
		t.Errorf("next page, 5 at most: %v", got)
	}
	// A token of a list with other filters, or of another list, is refused.
	for _, in := range []customerprofiles.ListWorkflowsInput{
		{Status: types.StatusComplete},
		{WorkflowType: types.WorkflowTypeAppflowIntegration},
		{QueryStartDate: aws.Time(t0)},
		{QueryEndDate: aws.Time(t2)},
	} {
		in.DomainName, in.NextToken = dn, first.NextToken
		_, err := e.client.ListWorkflows(ctx, &in)
		wantAPIError(t, err, "BadRequestException", "NextToken")
	}
	_, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(complete), NextToken: first.NextToken})
	wantAPIError(t, err, "BadRequestException", "NextToken")

	// Refusals name the member.
	for _, c := range []struct {
		in   customerprofiles.ListWorkflowsInput
		want string
	}{
		{customerprofiles.ListWorkflowsInput{Status: "RUNNING"}, "Status"},
		{customerprofiles.ListWorkflowsInput{WorkflowType: "GLUE"}, "WorkflowType"},
		{customerprofiles.ListWorkflowsInput{MaxResults: aws.Int32(101)}, "max-results"},
		{customerprofiles.ListWorkflowsInput{NextToken: aws.String("garbage")}, "NextToken"},
		// Bounds swapped: said so, rather than an empty list.
		{customerprofiles.ListWorkflowsInput{QueryStartDate: aws.Time(t1), QueryEndDate: aws.Time(t1.Add(-ms))}, "QueryStartDate"},
	} {
		c.in.DomainName = dn
		_, err := e.client.ListWorkflows(ctx, &c.in)
		wantAPIError(t, err, "BadRequestException", c.want)
	}
	_, err = e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: aws.String("nodomain")})
	wantAPIError(t, err, "ResourceNotFoundException", "nodomain")
}

// TestWorkflows_StepsAndLife: a workflow's status and metrics through its
// life, its steps page by page, unknown ids named, refusals naming the
// member.
func TestWorkflows_StepsAndLife(t *testing.T) {
	clock := &testClock{now: time.Now().UTC()}
	e, endpoint := newWorkflowEnv(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)
	putS3(t, endpoint, "crm", "contacts/a.csv", "id,email,first,city,score\nc1,ann@example.com,Ann,Lyon,50\nc2,bob@example.com,Bob,Lyon,50\n")

	// Five batches: five steps; the files' times are now, in the last.
	now := time.Now().UTC()
	var batches []types.Batch
	for i := 5; i > 0; i-- {
		end := now.Add(-time.Duration(i-1) * time.Hour)
		if i == 1 {
			end = now.Add(time.Minute)
		}
		batches = append(batches, types.Batch{StartTime: aws.Time(now.Add(-time.Duration(i) * time.Hour)), EndTime: aws.Time(end)})
	}
	id := createTestWorkflow(t, e, "five", "contacts/", batches, nil)
	w, err := e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: aws.String(id)})
	if err != nil || w.Status != types.StatusNotStarted || aws.ToString(w.WorkflowId) != id || w.StartDate == nil || w.LastUpdatedAt == nil ||
		w.Metrics.AppflowIntegration.TotalSteps != 5 || w.Metrics.AppflowIntegration.StepsCompleted != 0 || w.Metrics.AppflowIntegration.RecordsProcessed != 0 ||
		aws.ToString(w.Attributes.AppflowIntegration.ConnectorProfileName) == "" {
		t.Fatalf("GetWorkflow before its run: %+v, %v", w, err)
	}
	steps, err := e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(id)})
	if err != nil || len(steps.Items) != 0 || steps.NextToken != nil || aws.ToString(steps.WorkflowId) != id {
		t.Fatalf("GetWorkflowSteps before its run: %+v, %v", steps, err)
	}
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: aws.String(id)})
	if err != nil || w.Status != types.StatusComplete || w.ErrorDescription != nil || w.Metrics.AppflowIntegration.TotalSteps != 5 ||
		w.Metrics.AppflowIntegration.StepsCompleted != 5 || w.Metrics.AppflowIntegration.RecordsProcessed != 2 {
		t.Fatalf("GetWorkflow after its run: %+v (%+v), %v", w, w.Metrics.AppflowIntegration, err)
	}

	// The steps, two by two, oldest first.
	var got []types.AppflowIntegrationWorkflowStep
	in := &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(id), MaxResults: aws.Int32(2)}
	pages := 0
	for {
		out, err := e.client.GetWorkflowSteps(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			got = append(got, *it.AppflowIntegration)
		}
		if out.NextToken == nil || pages > 5 {
			break
		}
		in.NextToken = out.NextToken
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("GetWorkflowSteps by 2: %d pages, %d steps; want 3 pages, 5 steps", pages, len(got))
	}
	for i, st := range got {
		wantStart := aws.ToTime(batches[i].StartTime).UTC().Format(time.RFC3339)
		wantRecords := int64(0)
		if i == 4 {
			wantRecords = 2
		}
		if st.Status != types.StatusComplete || aws.ToString(st.FlowName) != "five" || aws.ToString(st.BatchRecordsStartTime) != wantStart ||
			st.RecordsProcessed != wantRecords || aws.ToString(st.ExecutionMessage) == "" {
			t.Errorf("step %d: %+v; want COMPLETE, batch from %s, %d records", i, st, wantStart, wantRecords)
		}
	}
	// A token of another workflow's steps is refused.
	other := createTestWorkflow(t, e, "other", "contacts/", nil, nil)
	first, err := e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(id), MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("GetWorkflowSteps, 1: %+v, %v", first, err)
	}
	_, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(other), NextToken: first.NextToken})
	wantAPIError(t, err, "BadRequestException", "NextToken")
	_, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(id), MaxResults: aws.Int32(101)})
	wantAPIError(t, err, "BadRequestException", "max-results")

	// Unknown ids and domains are named.
	unknown := "0123456789abcdef0123456789abcdef"
	_, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: aws.String(unknown)})
	wantAPIError(t, err, "ResourceNotFoundException", unknown)
	_, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(unknown)})
	wantAPIError(t, err, "ResourceNotFoundException", unknown)
	_, err = e.client.DeleteWorkflow(ctx, &customerprofiles.DeleteWorkflowInput{DomainName: dn, WorkflowId: aws.String(unknown)})
	wantAPIError(t, err, "ResourceNotFoundException", unknown)
	_, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: aws.String("nodomain"), WorkflowId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", "nodomain")
	_, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: aws.String("not-a-workflow-id")})
	wantAPIError(t, err, "BadRequestException", "WorkflowId")

	// Refusals of CreateIntegrationWorkflow name the member.
	for _, c := range []struct {
		name    string
		typ     types.WorkflowType
		batches []types.Batch
		edit    func(*types.FlowDefinition)
		want    string
	}{
		{"type", "GLUE", nil, nil, "WorkflowType"},
		{"batch backwards", types.WorkflowTypeAppflowIntegration, []types.Batch{{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}}, nil, "Batches[0]"},
		{"no bucket", types.WorkflowTypeAppflowIntegration, nil, func(f *types.FlowDefinition) { f.SourceFlowConfig.SourceConnectorProperties.S3 = nil }, "S3"},
		{"trigger", types.WorkflowTypeAppflowIntegration, nil, func(f *types.FlowDefinition) { f.TriggerConfig.TriggerType = types.TriggerTypeEvent }, "TriggerType"},
		{"scheduled without schedule", types.WorkflowTypeAppflowIntegration, nil, func(f *types.FlowDefinition) { f.TriggerConfig.TriggerType = types.TriggerTypeScheduled }, "Scheduled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := crmFlow("refused", &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand})
			if c.edit != nil {
				c.edit(f)
			}
			_, err := e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: c.typ,
				ObjectTypeName: aws.String("crm"), RoleArn: aws.String("arn:aws:iam::000000000000:role/flows"),
				IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: f, Batches: c.batches}}})
			wantAPIError(t, err, "BadRequestException", c.want)
		})
	}
	_, err = e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: aws.String("arn:aws:iam::000000000000:role/flows"), IntegrationConfig: &types.IntegrationConfig{}})
	wantAPIError(t, err, "BadRequestException", "IntegrationConfig.AppflowIntegration")
	_, err = e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: aws.String("nodomain"), WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: aws.String("arn:aws:iam::000000000000:role/flows"),
		IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: crmFlow("nodomain", &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand})}}})
	wantAPIError(t, err, "ResourceNotFoundException", "nodomain")

	// Deleted: gone from the list, its flow name free again.
	if _, err := e.client.DeleteWorkflow(ctx, &customerprofiles.DeleteWorkflowInput{DomainName: dn, WorkflowId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", id)
	_, err = e.client.DeleteWorkflow(ctx, &customerprofiles.DeleteWorkflowInput{DomainName: dn, WorkflowId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", id)
	list, err := e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn})
	if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].WorkflowId) != other {
		t.Fatalf("ListWorkflows after DeleteWorkflow: %+v, %v", list, err)
	}
	createTestWorkflow(t, e, "five", "contacts/", nil, nil)
}
