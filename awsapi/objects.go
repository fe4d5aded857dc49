package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerObjectHandlers() {
	s.handlers["PutProfileObject"] = s.putProfileObject
	s.handlers["BatchPutProfileObject"] = s.batchPutProfileObject
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

// batchPutProfileObject ingests each item as PutProfileObject does. A
// missing domain or object type fails the call; an item's own failure goes
// in Failed with the HTTP status and message PutProfileObject would have
// answered, and the other items go in.
func (s *Server) batchPutProfileObject(ctx context.Context, c *call) (any, error) {
	in, err := bindBatchPutProfileObject(c)
	if err != nil {
		return nil, err
	}
	first := map[string]int{}
	objs := make([]string, len(in.Items))
	for i, it := range in.Items {
		if j, ok := first[*it.Id]; ok {
			return nil, profiles.Errorf(profiles.EINVALID, "Value at 'Items.%d.member.Id' (%s) is also the Id of item %d: each item's Id must be unique in the request.", i+1, *it.Id, j+1)
		}
		first[*it.Id] = i
		objs[i] = *it.Object
	}
	keys, errs, err := s.Ingest.PutProfileObjects(ctx, *in.DomainName, *in.ObjectTypeName, objs)
	if err != nil {
		return nil, err
	}
	out := &BatchPutProfileObjectResponse{Successful: []BatchPutProfileObjectResponseItem{}, Failed: []BatchPutProfileObjectErrorItem{}}
	for i, it := range in.Items {
		if errs[i] != nil {
			we := toWireError(errs[i])
			if we.Status >= 500 {
				s.Logger.Error("batch item failed", "request_id", c.requestID, "id", *it.Id, "error", errs[i].Error())
			}
			out.Failed = append(out.Failed, BatchPutProfileObjectErrorItem{Id: it.Id, Code: &we.Status, Message: &we.Message})
			continue
		}
		out.Successful = append(out.Successful, BatchPutProfileObjectResponseItem{Id: it.Id, ProfileObjectUniqueKey: &keys[i]})
	}
	return out, nil
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
