package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerCalculatedAttributeHandlers() {
	s.handlers["CreateCalculatedAttributeDefinition"] = s.createCalculatedAttributeDefinition
	s.handlers["GetCalculatedAttributeDefinition"] = s.getCalculatedAttributeDefinition
	s.handlers["UpdateCalculatedAttributeDefinition"] = s.updateCalculatedAttributeDefinition
	s.handlers["DeleteCalculatedAttributeDefinition"] = s.deleteCalculatedAttributeDefinition
	s.handlers["ListCalculatedAttributeDefinitions"] = s.listCalculatedAttributeDefinitions
	s.handlers["GetCalculatedAttributeForProfile"] = s.getCalculatedAttributeForProfile
	s.handlers["ListCalculatedAttributesForProfile"] = s.listCalculatedAttributesForProfile
	s.handlers["BatchGetCalculatedAttributeForProfile"] = s.batchGetCalculatedAttributeForProfile
}

func (s *Server) createCalculatedAttributeDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateCalculatedAttributeDefinition(c)
	if err != nil {
		return nil, err
	}
	a := &profiles.CalculatedAttribute{DomainName: *in.DomainName, Name: *in.CalculatedAttributeName,
		DisplayName: deref(in.DisplayName), Description: deref(in.Description), Statistic: deref(in.Statistic),
		Conditions: conditionsFromWire(in.Conditions), Filter: filterFromWire(in.Filter),
		UseHistoricalData: derefBool(in.UseHistoricalData), Tags: in.Tags}
	if d := in.AttributeDetails; d != nil {
		a.Expression = deref(d.Expression)
		for _, it := range d.Attributes {
			a.Attributes = append(a.Attributes, deref(it.Name))
		}
	}
	out, err := s.CalculatedAttributes.CreateCalculatedAttribute(ctx, a)
	if err != nil {
		return nil, err
	}
	r := CreateCalculatedAttributeDefinitionResponse(*calcToWire(out))
	return &r, nil
}

func (s *Server) getCalculatedAttributeDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindGetCalculatedAttributeDefinition(c)
	if err != nil {
		return nil, err
	}
	a, err := s.CalculatedAttributes.GetCalculatedAttribute(ctx, *in.DomainName, *in.CalculatedAttributeName)
	if err != nil {
		return nil, err
	}
	return calcToWire(a), nil
}

func (s *Server) updateCalculatedAttributeDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindUpdateCalculatedAttributeDefinition(c)
	if err != nil {
		return nil, err
	}
	a, err := s.CalculatedAttributes.UpdateCalculatedAttribute(ctx, *in.DomainName, *in.CalculatedAttributeName, profiles.CalculatedAttributeUpdate{
		DisplayName: in.DisplayName, Description: in.Description, Conditions: conditionsFromWire(in.Conditions)})
	if err != nil {
		return nil, err
	}
	w := calcToWire(a)
	return &UpdateCalculatedAttributeDefinitionResponse{AttributeDetails: w.AttributeDetails, CalculatedAttributeName: w.CalculatedAttributeName,
		Conditions: w.Conditions, CreatedAt: w.CreatedAt, Description: w.Description, DisplayName: w.DisplayName,
		LastUpdatedAt: w.LastUpdatedAt, Readiness: w.Readiness, Statistic: w.Statistic, Status: w.Status, Tags: w.Tags,
		UseHistoricalData: w.UseHistoricalData}, nil
}

func (s *Server) deleteCalculatedAttributeDefinition(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteCalculatedAttributeDefinition(c)
	if err != nil {
		return nil, err
	}
	if err := s.CalculatedAttributes.DeleteCalculatedAttribute(ctx, *in.DomainName, *in.CalculatedAttributeName); err != nil {
		return nil, err
	}
	return &DeleteCalculatedAttributeDefinitionResponse{}, nil
}

func (s *Server) listCalculatedAttributeDefinitions(ctx context.Context, c *call) (any, error) {
	in, err := bindListCalculatedAttributeDefinitions(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.CalculatedAttributes.ListCalculatedAttributes(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListCalculatedAttributeDefinitionsResponse{Items: []ListCalculatedAttributeDefinitionItem{}, NextToken: optional(next)}
	for _, a := range list {
		w := calcToWire(a)
		out.Items = append(out.Items, ListCalculatedAttributeDefinitionItem{CalculatedAttributeName: w.CalculatedAttributeName,
			CreatedAt: w.CreatedAt, Description: w.Description, DisplayName: w.DisplayName, LastUpdatedAt: w.LastUpdatedAt,
			Status: w.Status, Tags: w.Tags, UseHistoricalData: w.UseHistoricalData})
	}
	return out, nil
}

func (s *Server) getCalculatedAttributeForProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindGetCalculatedAttributeForProfile(c)
	if err != nil {
		return nil, err
	}
	v, err := s.CalculatedAttributes.CalculatedValue(ctx, *in.DomainName, *in.ProfileId, *in.CalculatedAttributeName)
	if err != nil {
		return nil, err
	}
	w := calcValueToWire(v)
	return &GetCalculatedAttributeForProfileResponse{CalculatedAttributeName: w.CalculatedAttributeName, DisplayName: w.DisplayName,
		IsDataPartial: w.IsDataPartial, LastObjectTimestamp: w.LastObjectTimestamp, Value: w.Value}, nil
}

func (s *Server) listCalculatedAttributesForProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindListCalculatedAttributesForProfile(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.CalculatedAttributes.CalculatedValues(ctx, *in.DomainName, *in.ProfileId, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListCalculatedAttributesForProfileResponse{Items: []ListCalculatedAttributeForProfileItem{}, NextToken: optional(next)}
	for _, v := range list {
		w := calcValueToWire(v)
		out.Items = append(out.Items, ListCalculatedAttributeForProfileItem{CalculatedAttributeName: w.CalculatedAttributeName,
			DisplayName: w.DisplayName, IsDataPartial: w.IsDataPartial, LastObjectTimestamp: w.LastObjectTimestamp, Value: w.Value})
	}
	return out, nil
}

func (s *Server) batchGetCalculatedAttributeForProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindBatchGetCalculatedAttributeForProfile(c)
	if err != nil {
		return nil, err
	}
	var override *profiles.CalcValueRange
	if o := in.ConditionOverrides; o != nil && o.Range != nil {
		override = &profiles.CalcValueRange{Start: derefInt(o.Range.Start), End: derefInt(o.Range.End)}
	}
	values, errs, err := s.CalculatedAttributes.BatchCalculatedValue(ctx, *in.DomainName, *in.CalculatedAttributeName, in.ProfileIds, override)
	if err != nil {
		return nil, err
	}
	out := &BatchGetCalculatedAttributeForProfileResponse{CalculatedAttributeValues: []CalculatedAttributeValue{},
		Errors: []BatchGetCalculatedAttributeForProfileError{}, ConditionOverrides: in.ConditionOverrides}
	for _, v := range values {
		out.CalculatedAttributeValues = append(out.CalculatedAttributeValues, *calcValueToWire(v))
	}
	for _, id := range in.ProfileIds {
		if err := errs[id]; err != nil {
			we := toWireError(err)
			out.Errors = append(out.Errors, BatchGetCalculatedAttributeForProfileError{ProfileId: &id, Code: &we.Type, Message: &we.Message})
		}
	}
	return out, nil
}

func calcValueToWire(v *profiles.CalculatedValue) *CalculatedAttributeValue {
	partial := "false"
	if v.IsDataPartial {
		partial = "true"
	}
	return &CalculatedAttributeValue{CalculatedAttributeName: &v.Name, DisplayName: optional(v.DisplayName), IsDataPartial: &partial,
		LastObjectTimestamp: NewTimestamp(v.LastObjectTimestamp), ProfileId: &v.ProfileID, Value: optional(v.Value)}
}

// calcToWire is a definition as the API shows it: always ready (values are
// computed when read, there is nothing to backfill).
func calcToWire(a *profiles.CalculatedAttribute) *GetCalculatedAttributeDefinitionResponse {
	status, progress := "COMPLETED", 100
	w := &GetCalculatedAttributeDefinitionResponse{CalculatedAttributeName: &a.Name, DisplayName: optional(a.DisplayName),
		Description: optional(a.Description), Statistic: &a.Statistic, Conditions: conditionsToWire(a.Conditions),
		Filter: filterToWire(a.Filter), UseHistoricalData: &a.UseHistoricalData, Tags: a.Tags,
		CreatedAt: NewTimestamp(a.CreatedAt), LastUpdatedAt: NewTimestamp(a.LastUpdatedAt),
		Status: &status, Readiness: &Readiness{ProgressPercentage: &progress}}
	w.AttributeDetails = &AttributeDetails{Expression: &a.Expression, Attributes: []AttributeItem{}}
	for _, name := range a.Attributes {
		w.AttributeDetails.Attributes = append(w.AttributeDetails.Attributes, AttributeItem{Name: &name})
	}
	return w
}

func conditionsFromWire(c *Conditions) *profiles.CalcConditions {
	if c == nil {
		return nil
	}
	out := &profiles.CalcConditions{ObjectCount: derefInt(c.ObjectCount)}
	if r := c.Range; r != nil {
		out.Range = &profiles.CalcRange{Value: derefInt(r.Value), Unit: deref(r.Unit),
			TimestampSource: deref(r.TimestampSource), TimestampFormat: deref(r.TimestampFormat)}
		if vr := r.ValueRange; vr != nil {
			out.Range.ValueRange = &profiles.CalcValueRange{Start: derefInt(vr.Start), End: derefInt(vr.End)}
		}
	}
	if t := c.Threshold; t != nil {
		out.Threshold = &profiles.CalcThreshold{Value: deref(t.Value), Operator: deref(t.Operator)}
	}
	return out
}

func conditionsToWire(c *profiles.CalcConditions) *Conditions {
	if c == nil {
		return nil
	}
	out := &Conditions{}
	if c.ObjectCount > 0 {
		out.ObjectCount = &c.ObjectCount
	}
	if r := c.Range; r != nil {
		out.Range = &Range{Unit: &r.Unit, TimestampSource: optional(r.TimestampSource), TimestampFormat: optional(r.TimestampFormat)}
		if r.Value > 0 {
			out.Range.Value = &r.Value
		}
		if vr := r.ValueRange; vr != nil {
			out.Range.ValueRange = &ValueRange{Start: &vr.Start, End: &vr.End}
		}
	}
	if t := c.Threshold; t != nil {
		out.Threshold = &Threshold{Value: &t.Value, Operator: &t.Operator}
	}
	return out
}

func filterFromWire(f *Filter) *profiles.CalcFilter {
	if f == nil {
		return nil
	}
	out := &profiles.CalcFilter{Include: deref(f.Include)}
	for _, g := range f.Groups {
		group := profiles.CalcFilterGroup{Type: deref(g.Type)}
		for _, d := range g.Dimensions {
			dim := map[string]profiles.CalcFilterCondition{}
			for name, a := range d.Attributes {
				dim[name] = profiles.CalcFilterCondition{DimensionType: deref(a.DimensionType), Values: a.Values}
			}
			group.Dimensions = append(group.Dimensions, dim)
		}
		out.Groups = append(out.Groups, group)
	}
	return out
}

func filterToWire(f *profiles.CalcFilter) *Filter {
	if f == nil {
		return nil
	}
	out := &Filter{Include: &f.Include, Groups: []FilterGroup{}}
	for _, g := range f.Groups {
		group := FilterGroup{Type: &g.Type, Dimensions: []FilterDimension{}}
		for _, d := range g.Dimensions {
			dim := FilterDimension{Attributes: map[string]FilterAttributeDimension{}}
			for name, c := range d {
				dim.Attributes[name] = FilterAttributeDimension{DimensionType: &c.DimensionType, Values: c.Values}
			}
			group.Dimensions = append(group.Dimensions, dim)
		}
		out.Groups = append(out.Groups, group)
	}
	return out
}
