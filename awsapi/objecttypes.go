package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerObjectTypeHandlers() {
	s.handlers["PutProfileObjectType"] = s.putProfileObjectType
	s.handlers["GetProfileObjectType"] = s.getProfileObjectType
	s.handlers["ListProfileObjectTypes"] = s.listProfileObjectTypes
	s.handlers["DeleteProfileObjectType"] = s.deleteProfileObjectType
	s.handlers["GetProfileObjectTypeTemplate"] = s.getProfileObjectTypeTemplate
	s.handlers["ListProfileObjectTypeTemplates"] = s.listProfileObjectTypeTemplates
	s.handlers["DetectProfileObjectType"] = s.detectProfileObjectType
}

func (s *Server) putProfileObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindPutProfileObjectType(c)
	if err != nil {
		return nil, err
	}
	t, err := s.ObjectTypes.PutObjectType(ctx, &profiles.ObjectType{
		DomainName:                       *in.DomainName,
		Name:                             *in.ObjectTypeName,
		Description:                      *in.Description,
		TemplateID:                       deref(in.TemplateId),
		ExpirationDays:                   derefInt(in.ExpirationDays),
		EncryptionKey:                    deref(in.EncryptionKey),
		AllowProfileCreation:             derefBool(in.AllowProfileCreation),
		SourceLastUpdatedTimestampFormat: deref(in.SourceLastUpdatedTimestampFormat),
		MaxProfileObjectCount:            derefInt(in.MaxProfileObjectCount),
		SourcePriority:                   derefInt(in.SourcePriority),
		Fields:                           fieldsFromWire(in.Fields),
		Keys:                             keysFromWire(in.Keys),
		Tags:                             in.Tags,
	})
	if err != nil {
		return nil, err
	}
	out := PutProfileObjectTypeResponse(*objectTypeToWire(t))
	return &out, nil
}

func (s *Server) getProfileObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindGetProfileObjectType(c)
	if err != nil {
		return nil, err
	}
	t, err := s.ObjectTypes.GetObjectType(ctx, *in.DomainName, *in.ObjectTypeName)
	if err != nil {
		return nil, err
	}
	return objectTypeToWire(t), nil
}

func (s *Server) listProfileObjectTypes(ctx context.Context, c *call) (any, error) {
	in, err := bindListProfileObjectTypes(c)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.ObjectTypes.ListObjectTypes(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListProfileObjectTypesResponse{Items: []ListProfileObjectTypeItem{}, NextToken: optional(next)}
	for _, t := range ts {
		out.Items = append(out.Items, ListProfileObjectTypeItem{
			ObjectTypeName:                 &t.Name,
			Description:                    &t.Description,
			CreatedAt:                      NewTimestamp(t.CreatedAt),
			LastUpdatedAt:                  NewTimestamp(t.LastUpdatedAt),
			MaxProfileObjectCount:          positive(t.MaxProfileObjectCount),
			MaxAvailableProfileObjectCount: maxAvailable(t),
			SourcePriority:                 positive(t.SourcePriority),
			Tags:                           tagsToWire(t.Tags),
		})
	}
	return out, nil
}

func (s *Server) deleteProfileObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteProfileObjectType(c)
	if err != nil {
		return nil, err
	}
	if err := s.ObjectTypes.DeleteObjectType(ctx, *in.DomainName, *in.ObjectTypeName); err != nil {
		return nil, err
	}
	msg := "Object type " + *in.ObjectTypeName + " and its objects have been deleted."
	return &DeleteProfileObjectTypeResponse{Message: &msg}, nil
}

func (s *Server) getProfileObjectTypeTemplate(ctx context.Context, c *call) (any, error) {
	in, err := bindGetProfileObjectTypeTemplate(c)
	if err != nil {
		return nil, err
	}
	t, err := s.ObjectTypes.GetTemplate(ctx, *in.TemplateId)
	if err != nil {
		return nil, err
	}
	return &GetProfileObjectTypeTemplateResponse{
		TemplateId:                       &t.ID,
		SourceName:                       optional(t.SourceName),
		SourceObject:                     optional(t.SourceObject),
		AllowProfileCreation:             &t.ObjectType.AllowProfileCreation,
		SourceLastUpdatedTimestampFormat: optional(t.ObjectType.SourceLastUpdatedTimestampFormat),
		Fields:                           fieldsToWire(t.ObjectType.Fields),
		Keys:                             keysToWire(t.ObjectType.Keys),
	}, nil
}

func (s *Server) listProfileObjectTypeTemplates(ctx context.Context, c *call) (any, error) {
	in, err := bindListProfileObjectTypeTemplates(c)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.ObjectTypes.ListTemplates(ctx, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListProfileObjectTypeTemplatesResponse{Items: []ListProfileObjectTypeTemplateItem{}, NextToken: optional(next)}
	for _, t := range ts {
		out.Items = append(out.Items, ListProfileObjectTypeTemplateItem{TemplateId: &t.ID, SourceName: optional(t.SourceName), SourceObject: optional(t.SourceObject)})
	}
	return out, nil
}

func (s *Server) detectProfileObjectType(ctx context.Context, c *call) (any, error) {
	in, err := bindDetectProfileObjectType(c)
	if err != nil {
		return nil, err
	}
	t, err := s.ObjectTypes.DetectObjectType(ctx, *in.DomainName, in.Objects)
	if err != nil {
		return nil, err
	}
	return &DetectProfileObjectTypeResponse{DetectedProfileObjectTypes: []DetectedProfileObjectType{{
		Fields:                           fieldsToWire(t.Fields),
		Keys:                             keysToWire(t.Keys),
		SourceLastUpdatedTimestampFormat: optional(t.SourceLastUpdatedTimestampFormat),
	}}}, nil
}

func objectTypeToWire(t *profiles.ObjectType) *GetProfileObjectTypeResponse {
	return &GetProfileObjectTypeResponse{
		ObjectTypeName:                   &t.Name,
		Description:                      optional(t.Description),
		TemplateId:                       optional(t.TemplateID),
		ExpirationDays:                   positive(t.ExpirationDays),
		EncryptionKey:                    optional(t.EncryptionKey),
		AllowProfileCreation:             &t.AllowProfileCreation,
		SourceLastUpdatedTimestampFormat: optional(t.SourceLastUpdatedTimestampFormat),
		MaxProfileObjectCount:            positive(t.MaxProfileObjectCount),
		MaxAvailableProfileObjectCount:   maxAvailable(t),
		SourcePriority:                   positive(t.SourcePriority),
		Fields:                           fieldsToWire(t.Fields),
		Keys:                             keysToWire(t.Keys),
		CreatedAt:                        NewTimestamp(t.CreatedAt),
		LastUpdatedAt:                    NewTimestamp(t.LastUpdatedAt),
		Tags:                             tagsToWire(t.Tags),
	}
}

// maxAvailable is how many objects of the type a profile may hold.
func maxAvailable(t *profiles.ObjectType) *int {
	n := profiles.MaxObjectsPerProfile
	if t.MaxProfileObjectCount > 0 && t.MaxProfileObjectCount < n {
		n = t.MaxProfileObjectCount
	}
	return &n
}

func positive(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func fieldsFromWire(in map[string]ObjectTypeField) map[string]profiles.ObjectTypeField {
	if in == nil {
		return nil
	}
	out := make(map[string]profiles.ObjectTypeField, len(in))
	for name, f := range in {
		out[name] = profiles.ObjectTypeField{Source: deref(f.Source), Target: deref(f.Target), ContentType: deref(f.ContentType)}
	}
	return out
}

func fieldsToWire(in map[string]profiles.ObjectTypeField) map[string]ObjectTypeField {
	if in == nil {
		return nil
	}
	out := make(map[string]ObjectTypeField, len(in))
	for name, f := range in {
		out[name] = ObjectTypeField{Source: optional(f.Source), Target: optional(f.Target), ContentType: optional(f.ContentType)}
	}
	return out
}

func keysFromWire(in map[string][]ObjectTypeKey) map[string][]profiles.ObjectTypeKey {
	if in == nil {
		return nil
	}
	out := make(map[string][]profiles.ObjectTypeKey, len(in))
	for name, defs := range in {
		for _, d := range defs {
			out[name] = append(out[name], profiles.ObjectTypeKey{StandardIdentifiers: d.StandardIdentifiers, FieldNames: d.FieldNames})
		}
	}
	return out
}

func keysToWire(in map[string][]profiles.ObjectTypeKey) map[string][]ObjectTypeKey {
	if in == nil {
		return nil
	}
	out := make(map[string][]ObjectTypeKey, len(in))
	for name, defs := range in {
		for _, d := range defs {
			out[name] = append(out[name], ObjectTypeKey{StandardIdentifiers: d.StandardIdentifiers, FieldNames: d.FieldNames})
		}
	}
	return out
}
