package awsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerSegmentHandlers() {
	s.handlers["CreateSegmentDefinition"] = s.createSegmentDefinition
	s.handlers["GetSegmentDefinition"] = s.getSegmentDefinition
	s.handlers["DeleteSegmentDefinition"] = s.deleteSegmentDefinition
	s.handlers["ListSegmentDefinitions"] = s.listSegmentDefinitions
	s.handlers["GetSegmentMembership"] = s.getSegmentMembership
	s.handlers["CreateSegmentEstimate"] = s.createSegmentEstimate
	s.handlers["GetSegmentEstimate"] = s.getSegmentEstimate
}

// errSegmentSQL answers the enhanced (SQL) segments, which OpenProfiles
// does not run.
func errSegmentSQL() error {
	return profiles.Errorf(profiles.ENOTIMPLEMENTED, "OpenProfiles does not run SegmentSqlQuery (enhanced segments); define the segment with SegmentGroups.")
}

func (s *Server) createSegmentDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateSegmentDefinition(c)
	if err != nil {
		return nil, err
	}
	if in.SegmentSqlQuery != nil {
		return nil, errSegmentSQL()
	}
	if in.SegmentGroups == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "SegmentGroups is required.")
	}
	groups, err := segmentGroupsFromWire(in.SegmentGroups.Include, in.SegmentGroups.Groups)
	if err != nil {
		return nil, err
	}
	d := &profiles.SegmentDefinition{DomainName: *in.DomainName, Name: *in.SegmentDefinitionName, DisplayName: deref(in.DisplayName),
		Description: deref(in.Description), Groups: groups, Tags: in.Tags}
	if in.SegmentSort != nil {
		for _, a := range in.SegmentSort.Attributes {
			d.Sort = append(d.Sort, profiles.SegmentSortAttribute{Name: deref(a.Name), DataType: deref(a.DataType), Order: deref(a.Order), Type: deref(a.Type)})
		}
	}
	out, err := s.Segments.CreateSegmentDefinition(ctx, d)
	if err != nil {
		return nil, err
	}
	w := s.segmentToWire(out)
	return &CreateSegmentDefinitionResponse{CreatedAt: w.CreatedAt, Description: w.Description, DisplayName: w.DisplayName,
		SegmentDefinitionArn: w.SegmentDefinitionArn, SegmentDefinitionName: w.SegmentDefinitionName, Tags: w.Tags}, nil
}

func (s *Server) getSegmentDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindGetSegmentDefinition(c)
	if err != nil {
		return nil, err
	}
	d, err := s.Segments.GetSegmentDefinition(ctx, *in.DomainName, *in.SegmentDefinitionName)
	if err != nil {
		return nil, err
	}
	return s.segmentToWire(d), nil
}

func (s *Server) deleteSegmentDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteSegmentDefinition(c)
	if err != nil {
		return nil, err
	}
	if err := s.Segments.DeleteSegmentDefinition(ctx, *in.DomainName, *in.SegmentDefinitionName); err != nil {
		return nil, err
	}
	msg := "Segment definition " + *in.SegmentDefinitionName + " has been deleted."
	return &DeleteSegmentDefinitionResponse{Message: &msg}, nil
}

func (s *Server) listSegmentDefinitions(ctx context.Context, c *call) (any, error) {
	in, err := bindListSegmentDefinitions(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Segments.ListSegmentDefinitions(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListSegmentDefinitionsResponse{Items: []SegmentDefinitionItem{}, NextToken: optional(next)}
	for _, d := range list {
		w := s.segmentToWire(d)
		out.Items = append(out.Items, SegmentDefinitionItem{CreatedAt: w.CreatedAt, Description: w.Description, DisplayName: w.DisplayName,
			SegmentDefinitionArn: w.SegmentDefinitionArn, SegmentDefinitionName: w.SegmentDefinitionName, SegmentType: w.SegmentType, Tags: w.Tags})
	}
	return out, nil
}

func (s *Server) getSegmentMembership(ctx context.Context, c *call) (any, error) {
	in, err := bindGetSegmentMembership(c)
	if err != nil {
		return nil, err
	}
	members, errs, err := s.Segments.SegmentMembership(ctx, *in.DomainName, *in.SegmentDefinitionName, in.ProfileIds)
	if err != nil {
		return nil, err
	}
	out := &GetSegmentMembershipResponse{SegmentDefinitionName: in.SegmentDefinitionName, Profiles: []ProfileQueryResult{},
		Failures: []ProfileQueryFailures{}, LastComputedAt: NewTimestamp(s.Now())}
	for _, m := range members {
		r := ProfileQueryResult{ProfileId: &m.ProfileID, QueryResult: strPtr("ABSENT")}
		if m.Present {
			r.QueryResult, r.Profile = strPtr("PRESENT"), profileToWire(m.Profile)
		}
		out.Profiles = append(out.Profiles, r)
	}
	for _, id := range in.ProfileIds {
		if err := errs[id]; err != nil {
			we := toWireError(err)
			out.Failures = append(out.Failures, ProfileQueryFailures{ProfileId: &id, Message: &we.Message, Status: &we.Status})
		}
	}
	return out, nil
}

func (s *Server) createSegmentEstimate(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateSegmentEstimate(c)
	if err != nil {
		return nil, err
	}
	if in.SegmentSqlQuery != nil {
		return nil, errSegmentSQL()
	}
	if in.SegmentQuery == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "SegmentQuery is required.")
	}
	q, err := segmentGroupsFromWire(in.SegmentQuery.Include, in.SegmentQuery.Groups)
	if err != nil {
		return nil, err
	}
	e, err := s.Segments.CreateSegmentEstimate(ctx, *in.DomainName, q)
	if err != nil {
		return nil, err
	}
	return &CreateSegmentEstimateResponse{DomainName: &e.DomainName, EstimateId: &e.ID}, nil
}

func (s *Server) getSegmentEstimate(ctx context.Context, c *call) (any, error) {
	in, err := bindGetSegmentEstimate(c)
	if err != nil {
		return nil, err
	}
	e, err := s.Segments.GetSegmentEstimate(ctx, *in.DomainName, *in.EstimateId)
	if err != nil {
		return nil, err
	}
	return &GetSegmentEstimateResponse{DomainName: &e.DomainName, EstimateId: &e.ID, Status: &e.Status,
		Estimate: strPtr(strconv.Itoa(e.Estimate)), Message: optional(e.Message)}, nil
}

func (s *Server) segmentToWire(d *profiles.SegmentDefinition) *GetSegmentDefinitionResponse {
	arn := s.Domains.DomainARN(d.DomainName) + "/segment-definitions/" + d.Name
	w := &GetSegmentDefinitionResponse{SegmentDefinitionName: &d.Name, DisplayName: optional(d.DisplayName), Description: optional(d.Description),
		SegmentDefinitionArn: &arn, CreatedAt: NewTimestamp(d.CreatedAt), Tags: d.Tags, SegmentType: strPtr("CLASSIC"),
		SegmentGroups: segmentGroupsToWire(d.Groups)}
	if len(d.Sort) > 0 {
		w.SegmentSort = &SegmentSort{}
		for _, a := range d.Sort {
			w.SegmentSort.Attributes = append(w.SegmentSort.Attributes, SortAttribute{Name: &a.Name, DataType: optional(a.DataType), Order: optional(a.Order), Type: optional(a.Type)})
		}
	}
	return w
}

// addressKinds are the members of ProfileAttributes that are addresses.
var addressKinds = []string{"Address", "ShippingAddress", "MailingAddress", "BillingAddress"}

// wireCondition is the shape every dimension of the model shares.
type wireCondition struct {
	DimensionType string   `json:"DimensionType"`
	Values        []string `json:"Values"`
}

func segmentGroupsFromWire(include *string, groups []Group) (profiles.SegmentGroups, error) {
	out := profiles.SegmentGroups{Include: deref(include)}
	for _, g := range groups {
		group := profiles.SegmentGroup{Type: deref(g.Type), SourceType: deref(g.SourceType)}
		for _, src := range g.SourceSegments {
			group.SourceSegments = append(group.SourceSegments, deref(src.SegmentDefinitionName))
		}
		for _, d := range g.Dimensions {
			dim, err := dimensionFromWire(d)
			if err != nil {
				return out, err
			}
			group.Dimensions = append(group.Dimensions, dim)
		}
		out.Groups = append(out.Groups, group)
	}
	return out, nil
}

// dimensionFromWire flattens a dimension's ProfileAttributes into
// conditions by profile field path: "FirstName", "Address.City",
// "Attributes.tier". Every condition of the model has the same two
// members, so the members are read generically, by their JSON names.
func dimensionFromWire(d Dimension) (profiles.SegmentDimension, error) {
	out := profiles.SegmentDimension{Profile: map[string]profiles.CalcFilterCondition{}, Calculated: map[string]profiles.SegmentCalculatedCondition{}}
	for name, c := range d.CalculatedAttributes {
		cc := profiles.SegmentCalculatedCondition{CalcFilterCondition: profiles.CalcFilterCondition{DimensionType: deref(c.DimensionType), Values: c.Values}}
		if o := c.ConditionOverrides; o != nil && o.Range != nil {
			cc.Range = &profiles.CalcValueRange{Start: derefInt(o.Range.Start), End: derefInt(o.Range.End)}
		}
		out.Calculated[name] = cc
	}
	if d.ProfileAttributes == nil {
		return out, nil
	}
	b, err := json.Marshal(d.ProfileAttributes)
	if err != nil {
		return out, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return out, err
	}
	for member, raw := range members {
		if member == "Attributes" || slices.Contains(addressKinds, member) {
			var parts map[string]wireCondition
			if err := json.Unmarshal(raw, &parts); err != nil {
				return out, fmt.Errorf("ProfileAttributes.%s: %w", member, err)
			}
			for part, c := range parts {
				out.Profile[member+"."+part] = profiles.CalcFilterCondition{DimensionType: c.DimensionType, Values: c.Values}
			}
			continue
		}
		var c wireCondition
		if err := json.Unmarshal(raw, &c); err != nil {
			return out, fmt.Errorf("ProfileAttributes.%s: %w", member, err)
		}
		out.Profile[member] = profiles.CalcFilterCondition{DimensionType: c.DimensionType, Values: c.Values}
	}
	return out, nil
}

func segmentGroupsToWire(q profiles.SegmentGroups) *SegmentGroup {
	out := &SegmentGroup{Include: optional(q.Include), Groups: []Group{}}
	for _, g := range q.Groups {
		group := Group{Type: optional(g.Type), SourceType: optional(g.SourceType)}
		for _, name := range g.SourceSegments {
			group.SourceSegments = append(group.SourceSegments, SourceSegment{SegmentDefinitionName: &name})
		}
		for _, d := range g.Dimensions {
			group.Dimensions = append(group.Dimensions, dimensionToWire(d))
		}
		out.Groups = append(out.Groups, group)
	}
	return out
}

// dimensionToWire nests the conditions by field path back into
// ProfileAttributes, through the members' JSON names.
func dimensionToWire(d profiles.SegmentDimension) Dimension {
	var out Dimension
	if len(d.Calculated) > 0 {
		out.CalculatedAttributes = map[string]CalculatedAttributeDimension{}
		for name, c := range d.Calculated {
			w := CalculatedAttributeDimension{DimensionType: &c.DimensionType, Values: c.Values}
			if r := c.Range; r != nil {
				w.ConditionOverrides = &ConditionOverrides{Range: &RangeOverride{Start: &r.Start, End: &r.End, Unit: strPtr("DAYS")}}
			}
			out.CalculatedAttributes[name] = w
		}
	}
	if len(d.Profile) == 0 {
		return out
	}
	members := map[string]any{}
	for path, c := range d.Profile {
		wc := wireCondition{DimensionType: c.DimensionType, Values: c.Values}
		if member, part, ok := strings.Cut(path, "."); ok {
			m, _ := members[member].(map[string]wireCondition)
			if m == nil {
				m = map[string]wireCondition{}
				members[member] = m
			}
			m[part] = wc
			continue
		}
		members[path] = wc
	}
	b, _ := json.Marshal(members)
	out.ProfileAttributes = new(ProfileAttributes)
	json.Unmarshal(b, out.ProfileAttributes)
	return out
}

func strPtr(s string) *string { return &s }
