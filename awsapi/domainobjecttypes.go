package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerDomainObjectTypeHandlers() {
	s.handlers["PutDomainObjectType"] = s.putDomainObjectType
	s.handlers["GetDomainObjectType"] = s.getDomainObjectType
	s.handlers["DeleteDomainObjectType"] = s.deleteDomainObjectType
	s.handlers["ListDomainObjectTypes"] = s.listDomainObjectTypes
}

func (s *Server) putDomainObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindPutDomainObjectType(c)
	if err != nil {
		return nil, err
	}
	fields := map[string]profiles.DomainObjectTypeField{}
	for name, f := range in.Fields {
		fields[name] = profiles.DomainObjectTypeField{Source: deref(f.Source), Target: deref(f.Target), ContentType: deref(f.ContentType), FeatureType: deref(f.FeatureType)}
	}
	t, err := s.DomainObjectTypes.PutDomainObjectType(ctx, &profiles.DomainObjectType{DomainName: *in.DomainName, Name: *in.ObjectTypeName,
		Description: deref(in.Description), EncryptionKey: deref(in.EncryptionKey), Fields: fields, Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	r := PutDomainObjectTypeResponse(*domainTypeToWire(t))
	return &r, nil
}

func (s *Server) getDomainObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindGetDomainObjectType(c)
	if err != nil {
		return nil, err
	}
	t, err := s.DomainObjectTypes.GetDomainObjectType(ctx, *in.DomainName, *in.ObjectTypeName)
	if err != nil {
		return nil, err
	}
	return domainTypeToWire(t), nil
}

func (s *Server) deleteDomainObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteDomainObjectType(c)
	if err != nil {
		return nil, err
	}
	if err := s.DomainObjectTypes.DeleteDomainObjectType(ctx, *in.DomainName, *in.ObjectTypeName); err != nil {
		return nil, err
	}
	return &DeleteDomainObjectTypeResponse{}, nil
}

func (s *Server) listDomainObjectTypes(ctx context.Context, c *call) (any, error) {
	in, err := bindListDomainObjectTypes(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.DomainObjectTypes.ListDomainObjectTypes(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListDomainObjectTypesResponse{Items: []DomainObjectTypesListItem{}, NextToken: optional(next)}
	for _, t := range list {
		w := domainTypeToWire(t)
		out.Items = append(out.Items, DomainObjectTypesListItem{ObjectTypeName: w.ObjectTypeName, Description: w.Description,
			CreatedAt: w.CreatedAt, LastUpdatedAt: w.LastUpdatedAt, Tags: w.Tags})
	}
	return out, nil
}

func domainTypeToWire(t *profiles.DomainObjectType) *GetDomainObjectTypeResponse {
	w := &GetDomainObjectTypeResponse{ObjectTypeName: &t.Name, Description: optional(t.Description), EncryptionKey: optional(t.EncryptionKey),
		Tags: t.Tags, CreatedAt: NewTimestamp(t.CreatedAt), LastUpdatedAt: NewTimestamp(t.LastUpdatedAt), Fields: map[string]DomainObjectTypeField{}}
	for name, f := range t.Fields {
		w.Fields[name] = DomainObjectTypeField{Source: &f.Source, Target: &f.Target, ContentType: optional(f.ContentType), FeatureType: optional(f.FeatureType)}
	}
	return w
}
