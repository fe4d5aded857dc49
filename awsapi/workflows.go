package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerWorkflowHandlers() {
	s.handlers["CreateIntegrationWorkflow"] = s.createIntegrationWorkflow
	s.handlers["GetWorkflow"] = s.getWorkflow
	s.handlers["GetWorkflowSteps"] = s.getWorkflowSteps
	s.handlers["ListWorkflows"] = s.listWorkflows
	s.handlers["DeleteWorkflow"] = s.deleteWorkflow
}

func (s *Server) createIntegrationWorkflow(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateIntegrationWorkflow(c)
	if err != nil {
		return nil, err
	}
	w := &profiles.Workflow{DomainName: *in.DomainName, Type: deref(in.WorkflowType), ObjectTypeName: deref(in.ObjectTypeName),
		RoleArn: deref(in.RoleArn), Tags: in.Tags}
	if in.IntegrationConfig == nil || in.IntegrationConfig.AppflowIntegration == nil || in.IntegrationConfig.AppflowIntegration.FlowDefinition == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "IntegrationConfig.AppflowIntegration.FlowDefinition is required.")
	}
	ai := in.IntegrationConfig.AppflowIntegration
	w.Flow = flowFromWire(ai.FlowDefinition)
	for _, b := range ai.Batches {
		w.Batches = append(w.Batches, profiles.WorkflowBatch{Start: timeOf(b.StartTime), End: timeOf(b.EndTime)})
	}
	out, err := s.Workflows.CreateIntegrationWorkflow(ctx, w)
	if err != nil {
		return nil, err
	}
	msg := "Workflow " + out.ID + " created: it starts at the server's next sweep (GetWorkflow, GetWorkflowSteps)."
	return &CreateIntegrationWorkflowResponse{WorkflowId: &out.ID, Message: &msg}, nil
}

func timeOf(t *Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time()
}

func flowFromWire(f *FlowDefinition) profiles.FlowDefinition {
	out := profiles.FlowDefinition{Name: deref(f.FlowName), Description: deref(f.Description), KmsArn: deref(f.KmsArn)}
	if sc := f.SourceFlowConfig; sc != nil {
		out.ConnectorType, out.ConnectorProfileName = deref(sc.ConnectorType), deref(sc.ConnectorProfileName)
		if sc.IncrementalPullConfig != nil {
			out.DatetimeField = deref(sc.IncrementalPullConfig.DatetimeTypeFieldName)
		}
		if p := sc.SourceConnectorProperties; p != nil && p.S3 != nil {
			out.S3Bucket, out.S3Prefix = deref(p.S3.BucketName), deref(p.S3.BucketPrefix)
		}
	}
	for _, t := range f.Tasks {
		ft := profiles.FlowTask{Type: deref(t.TaskType), SourceFields: t.SourceFields, DestinationField: deref(t.DestinationField), Properties: t.TaskProperties}
		if t.ConnectorOperator != nil {
			ft.Operator = deref(t.ConnectorOperator.S3)
		}
		out.Tasks = append(out.Tasks, ft)
	}
	if tc := f.TriggerConfig; tc != nil {
		out.TriggerType = deref(tc.TriggerType)
		if tc.TriggerProperties != nil && tc.TriggerProperties.Scheduled != nil {
			sp := tc.TriggerProperties.Scheduled
			out.Schedule = &profiles.FlowSchedule{Expression: deref(sp.ScheduleExpression), DataPullMode: deref(sp.DataPullMode),
				StartTime: timeOf(sp.ScheduleStartTime), EndTime: timeOf(sp.ScheduleEndTime), FirstExecutionFrom: timeOf(sp.FirstExecutionFrom),
				Timezone: deref(sp.Timezone)}
			if sp.ScheduleOffset != nil {
				out.Schedule.Offset = *sp.ScheduleOffset
			}
		}
	}
	return out
}

func (s *Server) getWorkflow(ctx context.Context, c *call) (any, error) {
	in, err := bindGetWorkflow(c)
	if err != nil {
		return nil, err
	}
	w, err := s.Workflows.GetWorkflow(ctx, *in.DomainName, *in.WorkflowId)
	if err != nil {
		return nil, err
	}
	connector := w.Flow.ConnectorType
	// ConnectorProfileName is required on the wire; an S3 flow has no
	// connector profile: its bucket stands for it.
	profile := w.Flow.ConnectorProfileName
	if profile == "" {
		profile = w.Flow.S3Bucket
	}
	return &GetWorkflowResponse{WorkflowId: &w.ID, WorkflowType: &w.Type, Status: &w.Status, ErrorDescription: optional(w.ErrorDescription),
		StartDate: NewTimestamp(w.CreatedAt), LastUpdatedAt: NewTimestamp(w.LastUpdatedAt),
		Attributes: &WorkflowAttributes{AppflowIntegration: &AppflowIntegrationWorkflowAttributes{SourceConnectorType: &connector,
			ConnectorProfileName: optional(profile), RoleArn: optional(w.RoleArn)}},
		Metrics: &WorkflowMetrics{AppflowIntegration: &AppflowIntegrationWorkflowMetrics{RecordsProcessed: &w.RecordsProcessed,
			StepsCompleted: &w.StepsCompleted, TotalSteps: &w.TotalSteps}}}, nil
}

func (s *Server) getWorkflowSteps(ctx context.Context, c *call) (any, error) {
	in, err := bindGetWorkflowSteps(c)
	if err != nil {
		return nil, err
	}
	steps, next, err := s.Workflows.GetWorkflowSteps(ctx, *in.DomainName, *in.WorkflowId, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	typ := "APPFLOW_INTEGRATION"
	out := &GetWorkflowStepsResponse{WorkflowId: in.WorkflowId, WorkflowType: &typ, Items: []WorkflowStepItem{}, NextToken: optional(next)}
	for _, st := range steps {
		out.Items = append(out.Items, WorkflowStepItem{AppflowIntegration: &AppflowIntegrationWorkflowStep{
			FlowName: optional(st.FlowName), Status: optional(st.Status), ExecutionMessage: optional(st.Message), RecordsProcessed: &st.Records,
			BatchRecordsStartTime: optional(st.BatchStart), BatchRecordsEndTime: optional(st.BatchEnd),
			CreatedAt: NewTimestamp(st.CreatedAt), LastUpdatedAt: NewTimestamp(st.LastUpdatedAt)}})
	}
	return out, nil
}

func (s *Server) listWorkflows(ctx context.Context, c *call) (any, error) {
	in, err := bindListWorkflows(c)
	if err != nil {
		return nil, err
	}
	q := profiles.WorkflowQuery{Type: deref(in.WorkflowType), Status: deref(in.Status), From: timeOf(in.QueryStartDate), To: timeOf(in.QueryEndDate)}
	list, next, err := s.Workflows.ListWorkflows(ctx, *in.DomainName, q, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListWorkflowsResponse{Items: []ListWorkflowsItem{}, NextToken: optional(next)}
	for _, w := range list {
		out.Items = append(out.Items, ListWorkflowsItem{WorkflowId: &w.ID, WorkflowType: &w.Type, Status: &w.Status,
			StatusDescription: optional(workflowStatusDescription(w)), CreatedAt: NewTimestamp(w.CreatedAt), LastUpdatedAt: NewTimestamp(w.LastUpdatedAt)})
	}
	return out, nil
}

func (s *Server) deleteWorkflow(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteWorkflow(c)
	if err != nil {
		return nil, err
	}
	if err := s.Workflows.DeleteWorkflow(ctx, *in.DomainName, *in.WorkflowId); err != nil {
		return nil, err
	}
	return &DeleteWorkflowResponse{}, nil
}

// workflowStatusDescription says what a workflow's status means (a member
// the model requires): its error, else a sentence of its progress.
func workflowStatusDescription(w *profiles.Workflow) string {
	if w.ErrorDescription != "" {
		return w.ErrorDescription
	}
	switch w.Status {
	case "NOT_STARTED":
		return "Not started yet."
	case "IN_PROGRESS":
		return fmt.Sprintf("Reading the source: %d of %d steps done.", w.StepsCompleted, w.TotalSteps)
	}
	return fmt.Sprintf("%d records ingested in %d steps.", w.RecordsProcessed, w.StepsCompleted)
}
