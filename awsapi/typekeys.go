package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

// allowTypeKeys checks allow("kms:Decrypt", …) on the own keys of the
// object types that have one other than the domain's key
// (DomainService.ObjectTypeKeyARNs, which the console's checks read too).
func (s *Server) allowTypeKeys(ctx context.Context, domain string, types []string, allow func(action, resource string) error) error {
	keys, err := s.Domains.ObjectTypeKeyARNs(ctx, domain, types)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := allow("kms:Decrypt", k); err != nil {
			return err
		}
	}
	return nil
}

// objectTypeNames returns the names of a domain's object types (none for
// a missing domain: the operation answers for it).
func (s *Server) objectTypeNames(ctx context.Context, domain string) ([]string, error) {
	var names []string
	for page := (profiles.Page{MaxResults: 100}); ; {
		types, next, err := s.ObjectTypes.ListObjectTypes(ctx, domain, page)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		for _, t := range types {
			names = append(names, t.Name)
		}
		if next == "" {
			return names, nil
		}
		page.Token = next
	}
}

// objectTypeKeyChange returns what PutProfileObjectType's caller must also
// be allowed when it changes the type's own EncryptionKey: kms:Decrypt on
// the key it had (the objects sealed under it stay readable to the new
// key's decrypters) and kms:GenerateDataKey on the new one.
func (s *Server) objectTypeKeyChange(ctx context.Context, c *call, domain string) ([][2]string, error) {
	var in PutProfileObjectTypeRequest
	if err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	current, err := s.Domains.ObjectTypeKeyARN(ctx, domain, c.labels["ObjectTypeName"])
	if err != nil {
		return nil, err
	}
	next := ""
	if k := deref(in.EncryptionKey); k != "" {
		if next, err = s.Domains.KeyARN(ctx, k); err != nil { // ids and aliases are the ARNs they name
			return nil, err
		}
	}
	if next == current {
		return nil, nil
	}
	var out [][2]string
	if current != "" {
		out = append(out, [2]string{"kms:Decrypt", current})
	}
	if next != "" {
		out = append(out, [2]string{"kms:GenerateDataKey", next})
	}
	return out, nil
}

// calculatedTypes returns the object types the named calculated attribute
// of a domain is computed from, or with name "", those of every one of
// its attributes (CalculatedAttributeService.CalculatedObjectTypes, which
// the console's checks read too).
func (s *Server) calculatedTypes(ctx context.Context, domain, name string) ([]string, error) {
	if s.CalculatedAttributes == nil {
		return nil, nil
	}
	return s.CalculatedAttributes.CalculatedObjectTypes(ctx, domain, name)
}

// segmentTypes returns the object types whose objects decide what the
// segment an operation reads holds: that of its path's
// SegmentDefinitionName, CreateSegmentEstimate's SegmentQuery, or the
// estimate GetSegmentEstimate reads (those its query read when it was
// made; none for a query the operation refuses, or a missing segment or
// estimate: the operation answers for them).
func (s *Server) segmentTypes(ctx context.Context, c *call, domain string) ([]string, error) {
	if s.Segments == nil {
		return nil, nil
	}
	name := c.labels["SegmentDefinitionName"]
	var q profiles.SegmentGroups
	if c.operation == "GetSegmentEstimate" {
		// The types its query read, recorded when it was made.
		est, err := s.Segments.GetSegmentEstimate(ctx, domain, c.labels["EstimateId"])
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, nil // the operation answers for it
		} else if err != nil {
			return nil, err
		}
		return est.ObjectTypes, nil
	}
	if c.operation == "CreateSegmentEstimate" {
		var in CreateSegmentEstimateRequest
		if err := c.decodeBody(&in); err != nil {
			return nil, err
		}
		if in.SegmentQuery == nil {
			return nil, nil
		}
		var err error
		if q, err = segmentGroupsFromWire(in.SegmentQuery.Include, in.SegmentQuery.Groups); err != nil {
			return nil, nil
		}
	} else if name == "" {
		return nil, nil
	}
	return s.Segments.SegmentObjectTypes(ctx, domain, name, q)
}
