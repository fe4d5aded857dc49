package awsapi

import (
	"context"
)

func (s *Server) registerObjectHandlers() {
	s.handlers["PutProfileObject"] = s.putProfileObject
	s.handlers["ListProfileObjects"] = s.listProfileObjects
	s.handlers["DeleteProfileObject"] = s.deleteProfileObject
}

func (s *Server) putProfileObject(ctx context.Context, c *call) (any, error) {
	in, err := bindPutProfileObject(c)
	if err != nil {
		return nil, err
	}
	key, err := s.Ingest.PutProfileObject(ctx, *in.DomainName, *in.ObjectTypeName, *in.Object)
	if err != nil {
		return nil, err
	}
	return &PutProfileObjectResponse{ProfileObjectUniqueKey: &key}, nil
}

func (s *Server) listProfileObjects(ctx context.Context, c *call) (any, error) {
	in, err := bindListProfileObjects(c)
	if err != nil {
		return nil, err
	}
	var filterKey string
	var filterValues []string
	if f := in.ObjectFilter; f != nil {
		filterKey, filterValues = *f.KeyName, f.Values
	}
	objs, next, err := s.Ingest.ListProfileObjects(ctx, *in.DomainName, *in.ObjectTypeName, *in.ProfileId, filterKey, filterValues, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListProfileObjectsResponse{Items: []ListProfileObjectsItem{}, NextToken: optional(next)}
	for _, o := range objs {
		data := string(o.Data)
		out.Items = append(out.Items, ListProfileObjectsItem{ObjectTypeName: &o.ObjectTypeName, ProfileObjectUniqueKey: &o.UniqueKey, Object: &data})
	}
	return out, nil
}

func (s *Server) deleteProfileObject(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteProfileObject(c)
	if err != nil {
		return nil, err
	}
	if err := s.Ingest.DeleteProfileObject(ctx, *in.DomainName, *in.ObjectTypeName, *in.ProfileId, *in.ProfileObjectUniqueKey); err != nil {
		return nil, err
	}
	msg := "Profile object " + *in.ProfileObjectUniqueKey + " has been deleted."
	return &DeleteProfileObjectResponse{Message: &msg}, nil
}
