package main_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/fauxqs"
)

// newWorkflowEnv starts a server on clock that reads the S3 buckets of a
// real S3 protocol server (fauxqs), with crmType and a bucket "crm", and
// returns it with that endpoint.
func newWorkflowEnv(t *testing.T, clock *testClock) (*ingestEnv, string) {
	t.Helper()
	endpoint := fauxqs.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	e := newIngestEnvClock(t, clock, func(c *main.Config) { c.S3Endpoint = endpoint })
	e.putType(crmType())
	fauxqs.CreateBucket(t, endpoint, testRegion, "crm")
	return e, endpoint
}

func putS3(t *testing.T, endpoint, bucket, key, body string) {
	t.Helper()
	if _, err := fauxqs.S3Client(endpoint, testRegion).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader([]byte(body))}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// crmType is an object type for CRM records as a flow maps them.
func crmType() *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("crm"), Description: aws.String("CRM contacts"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":    field("_source.Id", "", "STRING"),
			"email": field("_source.Email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"first": field("_source.FirstName", "_profile.FirstName", "NAME"),
			"city":  field("_source.City", "_profile.Address.City", "STRING"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"id":     key([]string{"id"}, types.StandardIdentifierUnique),
			"_email": key([]string{"email"}, types.StandardIdentifierProfile),
		},
	}
}

func s3Task(typ types.TaskType, op types.S3ConnectorOperator, src []string, dst string, props map[string]string) types.Task {
	t := types.Task{TaskType: typ, SourceFields: src, ConnectorOperator: &types.ConnectorOperator{S3: op}, TaskProperties: props}
	if dst != "" {
		t.DestinationField = aws.String(dst)
	}
	return t
}

// crmFlow reads s3://crm/contacts/: keeps five columns, drops rows scored
// 10 or less and rows without an email, masks the first name's end... and
// maps the columns onto crmType's fields.
func crmFlow(name string, trigger *types.TriggerConfig) *types.FlowDefinition {
	return &types.FlowDefinition{FlowName: aws.String(name), KmsArn: aws.String("arn:aws:kms:us-east-1:000000000000:key/flow"),
		SourceFlowConfig: &types.SourceFlowConfig{ConnectorType: types.SourceConnectorTypeS3,
			SourceConnectorProperties: &types.SourceConnectorProperties{S3: &types.S3SourceProperties{BucketName: aws.String("crm"), BucketPrefix: aws.String("contacts/")}}},
		Tasks: []types.Task{
			s3Task(types.TaskTypeFilter, types.S3ConnectorOperatorProjection, []string{"id", "email", "first", "city", "score"}, "", nil),
			s3Task(types.TaskTypeFilter, types.S3ConnectorOperatorGreaterThan, []string{"score"}, "", map[string]string{"VALUE": "10", "DATA_TYPE": "integer"}),
			s3Task(types.TaskTypeValidate, types.S3ConnectorOperatorValidateNonNull, []string{"email"}, "", map[string]string{"VALIDATION_ACTION": "DropRecord"}),
			s3Task(types.TaskTypeTruncate, types.S3ConnectorOperatorNoOp, []string{"city"}, "", map[string]string{"TRUNCATE_LENGTH": "4"}),
			s3Task(types.TaskTypeMap, types.S3ConnectorOperatorNoOp, []string{"id"}, "Id", nil),
			s3Task(types.TaskTypeMap, types.S3ConnectorOperatorNoOp, []string{"email"}, "Email", nil),
			s3Task(types.TaskTypeMap, types.S3ConnectorOperatorNoOp, []string{"first"}, "FirstName", nil),
			s3Task(types.TaskTypeMap, types.S3ConnectorOperatorNoOp, []string{"city"}, "City", nil),
		},
		TriggerConfig: trigger}
}

// TestWorkflows drives integration workflows through the SDK: a flow from
// a real S3 protocol server's bucket (CSV and JSON lines files) into an
// object type, its tasks, steps and metrics; a scheduled flow that sets up
// an integration and then reads only new files; refusals; deletion.
func TestWorkflows(t *testing.T) {
	clock := &testClock{now: time.Now().UTC()}
	e, endpoint := newWorkflowEnv(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)
	putS3(t, endpoint, "crm", "contacts/2026-01.csv", "id,email,first,city,score,secret\n"+
		"c1,ann@example.com,Ann,Lyon,50,x\n"+
		"c2,bob@example.com,Bob,Paris,5,x\n"+ // score too low
		"c3,,Cy,Nice,90,x\n") // no email
	putS3(t, endpoint, "crm", "contacts/2026-02.jsonl", `{"id":"c4","email":"dee@example.com","first":"Dee","city":"Marseille","score":20}`+"\n"+
		`{"id":"c5","email":"eve@example.com","first":"Eve","city":"Lille","score":11}`)
	putS3(t, endpoint, "crm", "elsewhere/2026-01.csv", "id,email,first,city,score\nz1,zed@example.com,Zed,Caen,99\n")
	role := aws.String("arn:aws:iam::000000000000:role/flows")
	onDemand := &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand}

	// Refusals, each naming what is wrong.
	for _, c := range []struct {
		name string
		edit func(*types.FlowDefinition)
		code string
		want string
	}{
		{"salesforce", func(f *types.FlowDefinition) { f.SourceFlowConfig.ConnectorType = types.SourceConnectorTypeSalesforce }, "BadRequestException", "S3 only"},
		{"arithmetic", func(f *types.FlowDefinition) {
			f.Tasks = append(f.Tasks, s3Task(types.TaskTypeArithmetic, types.S3ConnectorOperatorAddition, []string{"score"}, "", nil))
		}, "BadRequestException", "Tasks[8].TaskType"},
		{"cron", func(f *types.FlowDefinition) {
			f.TriggerConfig = &types.TriggerConfig{TriggerType: types.TriggerTypeScheduled, TriggerProperties: &types.TriggerProperties{
				Scheduled: &types.ScheduledTriggerProperties{ScheduleExpression: aws.String("cron(0 * * * ? *)")}}}
		}, "BadRequestException", "rate("},
		// Refused before S3 is asked, saying why (not "the server's log
		// says why": the caller has no such log).
		{"bucket name", func(f *types.FlowDefinition) {
			f.SourceFlowConfig.SourceConnectorProperties.S3.BucketName = aws.String("CRM_Exports")
		}, "BadRequestException", "lowercase letters"},
	} {
		f := crmFlow("bad", onDemand)
		c.edit(f)
		_, err := e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
			ObjectTypeName: aws.String("crm"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: f}}})
		t.Run(c.name, func(t *testing.T) { wantAPIError(t, err, c.code, c.want) })
	}
	_, err := e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("nope"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: crmFlow("xx", onDemand)}}})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")

	// An on-demand flow: the history, once.
	created, err := e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: crmFlow("crm-once", onDemand)}}})
	if err != nil || len(aws.ToString(created.WorkflowId)) != 32 {
		t.Fatalf("CreateIntegrationWorkflow: %+v, %v", created, err)
	}
	once := created.WorkflowId
	w, err := e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: once})
	if err != nil || w.Status != types.StatusNotStarted || w.WorkflowType != types.WorkflowTypeAppflowIntegration {
		t.Fatalf("GetWorkflow before its run: %+v, %v", w, err)
	}
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: once})
	if err != nil || w.Status != types.StatusComplete || w.Metrics.AppflowIntegration == nil ||
		w.Metrics.AppflowIntegration.RecordsProcessed != 3 || w.Metrics.AppflowIntegration.StepsCompleted != 1 ||
		w.Attributes.AppflowIntegration.SourceConnectorType != types.SourceConnectorTypeS3 || aws.ToString(w.Attributes.AppflowIntegration.RoleArn) != aws.ToString(role) {
		t.Fatalf("GetWorkflow after its run: %+v (%+v, %q), %v", w, w.Metrics.AppflowIntegration, aws.ToString(w.ErrorDescription), err)
	}
	steps, err := e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: once})
	if err != nil || len(steps.Items) != 1 || steps.Items[0].AppflowIntegration.Status != types.StatusComplete ||
		steps.Items[0].AppflowIntegration.RecordsProcessed != 3 || aws.ToString(steps.Items[0].AppflowIntegration.FlowName) != "crm-once" {
		t.Fatalf("GetWorkflowSteps: %+v, %v", steps, err)
	}
	emails := func() []string {
		t.Helper()
		var out []string
		for _, em := range []string{"ann@example.com", "bob@example.com", "dee@example.com", "eve@example.com", "fay@example.com", "zed@example.com"} {
			found, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{em}})
			if err != nil {
				t.Fatal(err)
			}
			if len(found.Items) == 1 {
				out = append(out, em)
				if em == "dee@example.com" && (aws.ToString(found.Items[0].FirstName) != "Dee" || aws.ToString(found.Items[0].Address.City) != "Mars") {
					t.Errorf("dee's profile: %+v (city truncated to 4: Mars)", found.Items[0])
				}
			}
		}
		return out
	}
	if got := emails(); !slices.Equal(got, []string{"ann@example.com", "dee@example.com", "eve@example.com"}) {
		t.Fatalf("profiles after the flow: %v; want ann, dee, eve (bob scored 5, cy has no email, zed is elsewhere)", got)
	}
	if n, _ := e.m.Service.RunWorkflows(ctx); n != 0 {
		t.Fatalf("an on-demand workflow ran again: %d", n)
	}

	// A scheduled flow: its history in one batch, then new files only. It
	// leaves the files of its last 2 seconds to the next pull (they may
	// share their second with files to come): the server's clock follows
	// the S3 service's here.
	follow := func(ahead time.Duration) {
		clock.mu.Lock()
		clock.now = time.Now().UTC().Add(ahead)
		clock.mu.Unlock()
	}
	time.Sleep(2100 * time.Millisecond)
	follow(0)
	scheduled := &types.TriggerConfig{TriggerType: types.TriggerTypeScheduled, TriggerProperties: &types.TriggerProperties{
		Scheduled: &types.ScheduledTriggerProperties{ScheduleExpression: aws.String("rate(5 minutes)"), DataPullMode: types.DataPullModeIncremental}}}
	created, err = e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{
			FlowDefinition: crmFlow("crm-sync", scheduled),
			Batches:        []types.Batch{{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Minute))}}}}})
	if err != nil {
		t.Fatal(err)
	}
	sync := created.WorkflowId
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	integrations, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: dn})
	if err != nil || len(integrations.Items) != 1 || aws.ToString(integrations.Items[0].Uri) != "arn:aws:appflow:us-east-1:000000000000:flow/crm-sync" {
		t.Fatalf("ListIntegrations: %+v, %v; want the flow's", integrations, err)
	}
	putS3(t, endpoint, "crm", "contacts/2026-03.csv", "id,email,first,city,score\nc6,fay@example.com,Fay,Metz,70\n")
	if n, _ := e.m.Service.RunWorkflows(ctx); n != 0 {
		t.Fatalf("RunWorkflows before the next pull: %d ran", n)
	}
	time.Sleep(2100 * time.Millisecond)
	follow(6 * time.Minute)
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows after 5 minutes: %d, %v", n, err)
	}
	steps, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: sync})
	if err != nil || len(steps.Items) != 2 || steps.Items[0].AppflowIntegration.RecordsProcessed != 3 ||
		aws.ToString(steps.Items[0].AppflowIntegration.BatchRecordsStartTime) == "" ||
		steps.Items[1].AppflowIntegration.RecordsProcessed != 1 {
		t.Fatalf("GetWorkflowSteps of the scheduled flow: %+v, %v; want 3 records, then the new file's 1", steps, err)
	}
	if got := emails(); !slices.Contains(got, "fay@example.com") {
		t.Fatalf("profiles after the pull: %v; want fay's", got)
	}

	// A file that is neither CSV nor JSON is skipped, and named.
	putS3(t, endpoint, "crm", "broken/x.json", "not json")
	f := crmFlow("broken", onDemand)
	f.SourceFlowConfig.SourceConnectorProperties.S3.BucketPrefix = aws.String("broken/")
	created, err = e.client.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: f}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: created.WorkflowId})
	if err != nil || w.Status != types.StatusComplete || !strings.Contains(aws.ToString(w.ErrorDescription), "broken/x.json") {
		t.Fatalf("GetWorkflow of a broken file: %+v (%q), %v", w, aws.ToString(w.ErrorDescription), err)
	}
	steps, err = e.client.GetWorkflowSteps(ctx, &customerprofiles.GetWorkflowStepsInput{DomainName: dn, WorkflowId: created.WorkflowId})
	if err != nil || len(steps.Items) != 1 || !strings.Contains(aws.ToString(steps.Items[0].AppflowIntegration.ExecutionMessage), "1 file skipped: s3://crm/broken/x.json") {
		t.Fatalf("GetWorkflowSteps of a broken file: %+v, %v", steps, err)
	}

	// Lists, newest first, and filters.
	list, err := e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn})
	if err != nil || len(list.Items) != 3 || aws.ToString(list.Items[0].WorkflowId) != aws.ToString(created.WorkflowId) {
		t.Fatalf("ListWorkflows: %+v, %v", list, err)
	}
	list, err = e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn, Status: types.StatusComplete, MaxResults: aws.Int32(1)})
	if err != nil || len(list.Items) != 1 || list.NextToken == nil || aws.ToString(list.Items[0].StatusDescription) == "" {
		t.Fatalf("ListWorkflows COMPLETE, 1: %+v, %v; want a StatusDescription (required)", list, err)
	}

	// The server reads with its own credentials: a caller must also be
	// allowed to read the bucket, and to pass the role.
	base := `{"Effect":"Allow","Action":"profile:*","Resource":"*"}`
	in := &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: crmFlow("crm-agent", onDemand)}}}
	for _, c := range []struct {
		user, want string
		extra      []string
	}{
		{"nobucket", "s3:ListBucket", nil},
		{"noobjects", "arn:aws:s3:::crm/contacts/*", []string{`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::crm"}`}},
		{"norole", "iam:PassRole", []string{`{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::crm","arn:aws:s3:::crm/*"]}`}},
	} {
		u := mustUser(t, e.m, c.user, map[string]string{"p": policy(append([]string{base}, c.extra...)...)})
		_, err := u.CreateIntegrationWorkflow(ctx, in)
		wantAPIError(t, err, "AccessDeniedException", c.want)
	}
	mover := mustUser(t, e.m, "mover", map[string]string{"p": policy(base,
		`{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::crm","arn:aws:s3:::crm/*"]}`,
		`{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::000000000000:role/flows"}`)})
	if _, err := mover.CreateIntegrationWorkflow(ctx, in); err != nil {
		t.Fatalf("CreateIntegrationWorkflow allowed to read the bucket and pass the role: %v", err)
	}
	_, err = mover.CreateIntegrationWorkflow(ctx, in)
	wantAPIError(t, err, "BadRequestException", "crm-agent")

	// Each file read needs its creator's s3:GetObject on it: a Deny on a
	// part of the prefix skips those files.
	putS3(t, endpoint, "crm", "restricted/ok.csv", "id,email,first,city,score\nr1,ray@example.com,Ray,Pau,50\n")
	putS3(t, endpoint, "crm", "restricted/secret.csv", "id,email,first,city,score\nr2,sue@example.com,Sue,Pau,50\n")
	careful := mustUser(t, e.m, "careful", map[string]string{"p": policy(base,
		`{"Effect":"Allow","Action":["s3:*","iam:PassRole"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::crm/restricted/secret*"}`)})
	rf := crmFlow("restricted", onDemand)
	rf.SourceFlowConfig.SourceConnectorProperties.S3.BucketPrefix = aws.String("restricted/")
	restricted, err := careful.CreateIntegrationWorkflow(ctx, &customerprofiles.CreateIntegrationWorkflowInput{DomainName: dn, WorkflowType: types.WorkflowTypeAppflowIntegration,
		ObjectTypeName: aws.String("crm"), RoleArn: role, IntegrationConfig: &types.IntegrationConfig{AppflowIntegration: &types.AppflowIntegration{FlowDefinition: rf}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 2 { // mover's and careful's
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: restricted.WorkflowId})
	if err != nil || w.Status != types.StatusComplete || !strings.Contains(aws.ToString(w.ErrorDescription), "restricted/secret.csv") {
		t.Fatalf("GetWorkflow of a flow with a denied file: %+v (%q), %v", w, aws.ToString(w.ErrorDescription), err)
	}
	for em, want := range map[string]int{"ray@example.com": 1, "sue@example.com": 0} {
		found, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{em}})
		if err != nil || len(found.Items) != want {
			t.Errorf("%s: %d profiles, %v; want %d", em, len(found.Items), err, want)
		}
	}

	// Deletion takes the integration with it.
	if _, err := e.client.DeleteWorkflow(ctx, &customerprofiles.DeleteWorkflowInput{DomainName: dn, WorkflowId: sync}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: sync})
	wantAPIError(t, err, "ResourceNotFoundException", aws.ToString(sync))
	if integrations, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: dn}); err != nil || len(integrations.Items) != 0 {
		t.Fatalf("ListIntegrations after DeleteWorkflow: %+v, %v", integrations, err)
	}
}

// TestPutIntegration_Flow: PutIntegration with a FlowDefinition, as the
// AWS console's S3 integration sends it, runs the flow as a workflow; the
// integration (its Uri the flow's ARN) names the workflow, and the two go
// together.
func TestPutIntegration_Flow(t *testing.T) {
	clock := &testClock{now: time.Now().UTC()}
	e, endpoint := newWorkflowEnv(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)
	putS3(t, endpoint, "crm", "contacts/2026-01.csv", "id,email,first,city,score\nc1,ann@example.com,Ann,Lyon,50\nc2,bob@example.com,Bob,Paris,5\n")
	scheduled := &types.TriggerConfig{TriggerType: types.TriggerTypeScheduled, TriggerProperties: &types.TriggerProperties{
		Scheduled: &types.ScheduledTriggerProperties{ScheduleExpression: aws.String("rate(1 hours)")}}}
	arn := "arn:aws:appflow:us-east-1:000000000000:flow/crm-put"

	for _, c := range []struct {
		name string
		in   customerprofiles.PutIntegrationInput
		want string
	}{
		{"another uri", customerprofiles.PutIntegrationInput{Uri: aws.String("arn:aws:appflow:us-east-1:000000000000:flow/other")}, arn},
		{"event types", customerprofiles.PutIntegrationInput{ObjectTypeNames: map[string]string{"SegmentIdentify": "crm"}}, "ObjectTypeNames"},
		{"no object type", customerprofiles.PutIntegrationInput{}, "ObjectTypeName is required"},
	} {
		in := c.in
		in.DomainName, in.FlowDefinition = dn, crmFlow("crm-put", scheduled)
		if c.name != "no object type" && in.ObjectTypeNames == nil {
			in.ObjectTypeName = aws.String("crm")
		}
		_, err := e.client.PutIntegration(ctx, &in)
		t.Run(c.name, func(t *testing.T) { wantAPIError(t, err, "BadRequestException", c.want) })
	}
	// The caller must be allowed to read the bucket, as for
	// CreateIntegrationWorkflow.
	u := mustUser(t, e.m, "nobucket", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`)})
	_, err := u.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, ObjectTypeName: aws.String("crm"), FlowDefinition: crmFlow("crm-put", scheduled)})
	wantAPIError(t, err, "AccessDeniedException", "s3:ListBucket")

	put, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, ObjectTypeName: aws.String("crm"),
		FlowDefinition: crmFlow("crm-put", scheduled), Tags: map[string]string{"team": "crm"}})
	if err != nil || aws.ToString(put.Uri) != arn || len(aws.ToString(put.WorkflowId)) != 32 || put.Tags["team"] != "crm" {
		t.Fatalf("PutIntegration with a FlowDefinition: %+v, %v; want Uri %s and a WorkflowId", put, err, arn)
	}
	// A scheduled flow leaves the files of its last 2 seconds to the next
	// pull: the server's clock follows the S3 service's here.
	time.Sleep(2100 * time.Millisecond)
	clock.mu.Lock()
	clock.now = time.Now().UTC()
	clock.mu.Unlock()
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err := e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: put.WorkflowId})
	if err != nil || w.Status != types.StatusComplete || w.Metrics.AppflowIntegration.RecordsProcessed != 1 {
		t.Fatalf("GetWorkflow of the integration's flow: %+v, %v; want COMPLETE, ann's record (bob scored 5)", w, err)
	}
	got, err := e.client.GetIntegration(ctx, &customerprofiles.GetIntegrationInput{DomainName: dn, Uri: aws.String(arn)})
	if err != nil || aws.ToString(got.WorkflowId) != aws.ToString(put.WorkflowId) || got.Tags["team"] != "crm" || aws.ToString(got.ObjectTypeName) != "crm" {
		t.Fatalf("GetIntegration after the first run: %+v, %v", got, err)
	}
	list, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: dn})
	if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].WorkflowId) != aws.ToString(put.WorkflowId) {
		t.Fatalf("ListIntegrations: %+v, %v", list, err)
	}
	account, err := e.client.ListAccountIntegrations(ctx, &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(arn)})
	if err != nil || len(account.Items) != 1 || aws.ToString(account.Items[0].WorkflowId) != aws.ToString(put.WorkflowId) {
		t.Fatalf("ListAccountIntegrations: %+v, %v", account, err)
	}

	// Put again, without the score filter: the same workflow, its next
	// pull with the new tasks.
	f := crmFlow("crm-put", scheduled)
	f.Tasks = slices.Delete(f.Tasks, 1, 2)
	again, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, Uri: aws.String(arn), ObjectTypeName: aws.String("crm"), FlowDefinition: f})
	if err != nil || aws.ToString(again.WorkflowId) != aws.ToString(put.WorkflowId) || !aws.ToTime(again.CreatedAt).Equal(aws.ToTime(put.CreatedAt)) {
		t.Fatalf("PutIntegration again: %+v, %v; want the same workflow and CreatedAt", again, err)
	}

	// Deleting the integration deletes its workflow.
	if _, err := e.client.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: dn, Uri: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: put.WorkflowId})
	wantAPIError(t, err, "ResourceNotFoundException", aws.ToString(put.WorkflowId))
	if wl, err := e.client.ListWorkflows(ctx, &customerprofiles.ListWorkflowsInput{DomainName: dn}); err != nil || len(wl.Items) != 0 {
		t.Fatalf("ListWorkflows after DeleteIntegration: %+v, %v", wl, err)
	}
}

// TestPutIntegration_FlowRedirected: PutIntegration of a flow's ARN
// without a FlowDefinition sets the object type its workflow ingests into;
// the files it reads from then on need that caller's s3:GetObject, not
// the flow's creator's, or a caller without access to the bucket could
// send its files into an object type of its choice.
func TestPutIntegration_FlowRedirected(t *testing.T) {
	clock := &testClock{now: time.Now().UTC()}
	e, endpoint := newWorkflowEnv(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)
	other := crmType()
	other.ObjectTypeName = aws.String("crm2")
	e.putType(other)
	arn := "arn:aws:appflow:us-east-1:000000000000:flow/crm-redirect"
	put, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, ObjectTypeName: aws.String("crm"),
		FlowDefinition: crmFlow("crm-redirect", &types.TriggerConfig{TriggerType: types.TriggerTypeOndemand})})
	if err != nil {
		t.Fatal(err)
	}
	nobucket := mustUser(t, e.m, "redirector", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`)})
	if _, err := nobucket.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: dn, Uri: aws.String(arn), ObjectTypeName: aws.String("crm2")}); err != nil {
		t.Fatalf("PutIntegration of the flow's ARN: %v", err)
	}
	putS3(t, endpoint, "crm", "contacts/2026-03.csv", "id,email,first,city,score\nc9,kim@example.com,Kim,Lyon,50\n")
	if n, err := e.m.Service.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, err := e.client.GetWorkflow(ctx, &customerprofiles.GetWorkflowInput{DomainName: dn, WorkflowId: put.WorkflowId})
	if err != nil || w.Metrics.AppflowIntegration.RecordsProcessed != 0 || !strings.Contains(aws.ToString(w.ErrorDescription), "may not read it") {
		t.Fatalf("GetWorkflow: %+v (%q), %v; want the file skipped: the redirector may not read it", w, aws.ToString(w.ErrorDescription), err)
	}
	found, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"kim@example.com"}})
	if err != nil || len(found.Items) != 0 {
		t.Fatalf("kim@example.com: %d profiles, %v; want none", len(found.Items), err)
	}
}
