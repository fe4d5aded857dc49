package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerLayoutHandlers() {
	s.handlers["CreateDomainLayout"] = s.createDomainLayout
	s.handlers["GetDomainLayout"] = s.getDomainLayout
	s.handlers["UpdateDomainLayout"] = s.updateDomainLayout
	s.handlers["DeleteDomainLayout"] = s.deleteDomainLayout
	s.handlers["ListDomainLayouts"] = s.listDomainLayouts
}

func (s *Server) createDomainLayout(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateDomainLayout(c)
	if err != nil {
		return nil, err
	}
	l, err := s.Layouts.CreateLayout(ctx, &profiles.Layout{DomainName: *in.DomainName, Name: *in.LayoutDefinitionName,
		Description: deref(in.Description), DisplayName: deref(in.DisplayName), IsDefault: derefBool(in.IsDefault),
		LayoutType: deref(in.LayoutType), Layout: deref(in.Layout), Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	r := CreateDomainLayoutResponse(*layoutToWire(l))
	return &r, nil
}

func (s *Server) getDomainLayout(ctx context.Context, c *call) (any, error) {
	in, err := bindGetDomainLayout(c)
	if err != nil {
		return nil, err
	}
	l, err := s.Layouts.GetLayout(ctx, *in.DomainName, *in.LayoutDefinitionName)
	if err != nil {
		return nil, err
	}
	return layoutToWire(l), nil
}

func (s *Server) updateDomainLayout(ctx context.Context, c *call) (any, error) {
	in, err := bindUpdateDomainLayout(c)
	if err != nil {
		return nil, err
	}
	l, err := s.Layouts.UpdateLayout(ctx, *in.DomainName, *in.LayoutDefinitionName, profiles.LayoutUpdate{
		Description: in.Description, DisplayName: in.DisplayName, IsDefault: in.IsDefault, LayoutType: in.LayoutType, Layout: in.Layout})
	if err != nil {
		return nil, err
	}
	r := UpdateDomainLayoutResponse(*layoutToWire(l))
	return &r, nil
}

func (s *Server) deleteDomainLayout(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteDomainLayout(c)
	if err != nil {
		return nil, err
	}
	if err := s.Layouts.DeleteLayout(ctx, *in.DomainName, *in.LayoutDefinitionName); err != nil {
		return nil, err
	}
	msg := "Layout " + *in.LayoutDefinitionName + " has been deleted."
	return &DeleteDomainLayoutResponse{Message: &msg}, nil
}

func (s *Server) listDomainLayouts(ctx context.Context, c *call) (any, error) {
	in, err := bindListDomainLayouts(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Layouts.ListLayouts(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListDomainLayoutsResponse{Items: []LayoutItem{}, NextToken: optional(next)}
	for _, l := range list {
		w := layoutToWire(l)
		out.Items = append(out.Items, LayoutItem{CreatedAt: w.CreatedAt, Description: w.Description, DisplayName: w.DisplayName,
			IsDefault: w.IsDefault, LastUpdatedAt: w.LastUpdatedAt, LayoutDefinitionName: w.LayoutDefinitionName,
			LayoutType: w.LayoutType, Tags: w.Tags})
	}
	return out, nil
}

func layoutToWire(l *profiles.Layout) *GetDomainLayoutResponse {
	return &GetDomainLayoutResponse{LayoutDefinitionName: &l.Name, Description: &l.Description, DisplayName: &l.DisplayName,
		IsDefault: &l.IsDefault, LayoutType: &l.LayoutType, Layout: &l.Layout, Version: &l.Version, Tags: l.Tags,
		CreatedAt: NewTimestamp(l.CreatedAt), LastUpdatedAt: NewTimestamp(l.LastUpdatedAt)}
}
