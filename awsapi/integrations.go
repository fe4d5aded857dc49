package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerIntegrationHandlers() {
	s.handlers["PutIntegration"] = s.putIntegration
	s.handlers["GetIntegration"] = s.getIntegration
	s.handlers["ListIntegrations"] = s.listIntegrations
	s.handlers["DeleteIntegration"] = s.deleteIntegration
	s.handlers["ListAccountIntegrations"] = s.listAccountIntegrations
}

func (s *Server) putIntegration(ctx context.Context, c *call) (any, error) {
	in, err := bindPutIntegration(c)
	if err != nil {
		return nil, err
	}
	put := &profiles.Integration{
		DomainName: *in.DomainName, URI: deref(in.Uri), ObjectTypeName: deref(in.ObjectTypeName), ObjectTypeNames: in.ObjectTypeNames,
		RoleARN: deref(in.RoleArn), EventTriggerNames: in.EventTriggerNames, Scope: deref(in.Scope), Tags: in.Tags,
	}
	if in.FlowDefinition != nil {
		flow := flowFromWire(in.FlowDefinition)
		put.Flow = &flow
	}
	out, err := s.Integrations.PutIntegration(ctx, put)
	if err != nil {
		return nil, err
	}
	r := PutIntegrationResponse(*integrationToWire(out))
	return &r, nil
}

func (s *Server) getIntegration(ctx context.Context, c *call) (any, error) {
	in, err := bindGetIntegration(c)
	if err != nil {
		return nil, err
	}
	out, err := s.Integrations.GetIntegration(ctx, *in.DomainName, *in.Uri)
	if err != nil {
		return nil, err
	}
	return integrationToWire(out), nil
}

func (s *Server) listIntegrations(ctx context.Context, c *call) (any, error) {
	in, err := bindListIntegrations(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Integrations.ListIntegrations(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	return &ListIntegrationsResponse{Items: integrationItems(list), NextToken: optional(next)}, nil
}

func (s *Server) deleteIntegration(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteIntegration(c)
	if err != nil {
		return nil, err
	}
	if err := s.Integrations.DeleteIntegration(ctx, *in.DomainName, *in.Uri); err != nil {
		return nil, err
	}
	msg := "Integration " + *in.Uri + " has been deleted from domain " + *in.DomainName + "."
	return &DeleteIntegrationResponse{Message: &msg}, nil
}

func (s *Server) listAccountIntegrations(ctx context.Context, c *call) (any, error) {
	in, err := bindListAccountIntegrations(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Integrations.ListAccountIntegrations(ctx, *in.Uri, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	return &ListAccountIntegrationsResponse{Items: integrationItems(list), NextToken: optional(next)}, nil
}

func integrationToWire(in *profiles.Integration) *GetIntegrationResponse {
	return &GetIntegrationResponse{
		DomainName: &in.DomainName, Uri: &in.URI, ObjectTypeName: optional(in.ObjectTypeName), ObjectTypeNames: in.ObjectTypeNames,
		RoleArn: optional(in.RoleARN), EventTriggerNames: in.EventTriggerNames, Scope: optional(in.Scope), Tags: tagsToWire(in.Tags),
		CreatedAt: NewTimestamp(in.CreatedAt), LastUpdatedAt: NewTimestamp(in.LastUpdatedAt), WorkflowId: optional(in.WorkflowID),
	}
}

func integrationItems(list []*profiles.Integration) []ListIntegrationItem {
	items := []ListIntegrationItem{}
	for _, in := range list {
		w := integrationToWire(in)
		items = append(items, ListIntegrationItem{
			DomainName: w.DomainName, Uri: w.Uri, ObjectTypeName: w.ObjectTypeName, ObjectTypeNames: w.ObjectTypeNames,
			RoleArn: w.RoleArn, EventTriggerNames: w.EventTriggerNames, Scope: w.Scope, Tags: w.Tags,
			CreatedAt: w.CreatedAt, LastUpdatedAt: w.LastUpdatedAt, WorkflowId: w.WorkflowId,
		})
	}
	return items
}
