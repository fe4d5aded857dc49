package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerEventTriggerHandlers() {
	s.handlers["CreateEventTrigger"] = s.createEventTrigger
	s.handlers["GetEventTrigger"] = s.getEventTrigger
	s.handlers["UpdateEventTrigger"] = s.updateEventTrigger
	s.handlers["DeleteEventTrigger"] = s.deleteEventTrigger
	s.handlers["ListEventTriggers"] = s.listEventTriggers
}

func (s *Server) createEventTrigger(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateEventTrigger(c)
	if err != nil {
		return nil, err
	}
	t, err := s.EventTriggers.CreateEventTrigger(ctx, &profiles.EventTrigger{DomainName: *in.DomainName, Name: *in.EventTriggerName,
		ObjectTypeName: deref(in.ObjectTypeName), Description: deref(in.Description), Conditions: triggerConditionsFromWire(in.EventTriggerConditions),
		SegmentFilter: deref(in.SegmentFilter), Limits: triggerLimitsFromWire(in.EventTriggerLimits), Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	r := CreateEventTriggerResponse(*triggerToWire(t))
	return &r, nil
}

func (s *Server) getEventTrigger(ctx context.Context, c *call) (any, error) {
	in, err := bindGetEventTrigger(c)
	if err != nil {
		return nil, err
	}
	t, err := s.EventTriggers.GetEventTrigger(ctx, *in.DomainName, *in.EventTriggerName)
	if err != nil {
		return nil, err
	}
	return triggerToWire(t), nil
}

func (s *Server) updateEventTrigger(ctx context.Context, c *call) (any, error) {
	in, err := bindUpdateEventTrigger(c)
	if err != nil {
		return nil, err
	}
	t, err := s.EventTriggers.UpdateEventTrigger(ctx, *in.DomainName, *in.EventTriggerName, profiles.EventTriggerUpdate{
		ObjectTypeName: in.ObjectTypeName, Description: in.Description, Conditions: triggerConditionsFromWire(in.EventTriggerConditions),
		SegmentFilter: in.SegmentFilter, Limits: triggerLimitsUpdateFromWire(in.EventTriggerLimits)})
	if err != nil {
		return nil, err
	}
	r := UpdateEventTriggerResponse(*triggerToWire(t))
	return &r, nil
}

func (s *Server) deleteEventTrigger(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteEventTrigger(c)
	if err != nil {
		return nil, err
	}
	if err := s.EventTriggers.DeleteEventTrigger(ctx, *in.DomainName, *in.EventTriggerName); err != nil {
		return nil, err
	}
	msg := "Event trigger " + *in.EventTriggerName + " has been deleted."
	return &DeleteEventTriggerResponse{Message: &msg}, nil
}

func (s *Server) listEventTriggers(ctx context.Context, c *call) (any, error) {
	in, err := bindListEventTriggers(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.EventTriggers.ListEventTriggers(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListEventTriggersResponse{Items: []EventTriggerSummaryItem{}, NextToken: optional(next)}
	for _, t := range list {
		w := triggerToWire(t)
		out.Items = append(out.Items, EventTriggerSummaryItem{CreatedAt: w.CreatedAt, Description: w.Description, EventTriggerName: w.EventTriggerName,
			LastUpdatedAt: w.LastUpdatedAt, ObjectTypeName: w.ObjectTypeName, Tags: w.Tags})
	}
	return out, nil
}

func triggerToWire(t *profiles.EventTrigger) *GetEventTriggerResponse {
	w := &GetEventTriggerResponse{EventTriggerName: &t.Name, ObjectTypeName: &t.ObjectTypeName, Description: optional(t.Description),
		SegmentFilter: optional(t.SegmentFilter), Tags: t.Tags, CreatedAt: NewTimestamp(t.CreatedAt), LastUpdatedAt: NewTimestamp(t.LastUpdatedAt),
		EventTriggerConditions: []EventTriggerCondition{}}
	for _, c := range t.Conditions {
		wc := EventTriggerCondition{LogicalOperator: &c.LogicalOperator}
		for _, d := range c.Dimensions {
			var wd EventTriggerDimension
			for _, a := range d {
				wd.ObjectAttributes = append(wd.ObjectAttributes, ObjectAttribute{Source: optional(a.Source), FieldName: optional(a.FieldName),
					ComparisonOperator: &a.ComparisonOperator, Values: a.Values})
			}
			wc.EventTriggerDimensions = append(wc.EventTriggerDimensions, wd)
		}
		w.EventTriggerConditions = append(w.EventTriggerConditions, wc)
	}
	if l := t.Limits; l != nil {
		w.EventTriggerLimits = &EventTriggerLimits{}
		if l.EventExpiration > 0 {
			w.EventTriggerLimits.EventExpiration = &l.EventExpiration
		}
		for _, p := range l.Periods {
			wp := Period{Unit: &p.Unit, Value: &p.Value, Unlimited: &p.Unlimited}
			if p.MaxInvocationsPerProfile > 0 {
				wp.MaxInvocationsPerProfile = &p.MaxInvocationsPerProfile
			}
			w.EventTriggerLimits.Periods = append(w.EventTriggerLimits.Periods, wp)
		}
	}
	return w
}

// triggerConditionsFromWire returns nil for no conditions (an update that
// leaves them).
func triggerConditionsFromWire(cs []EventTriggerCondition) []profiles.EventTriggerCondition {
	var out []profiles.EventTriggerCondition
	for _, c := range cs {
		pc := profiles.EventTriggerCondition{LogicalOperator: deref(c.LogicalOperator)}
		for _, d := range c.EventTriggerDimensions {
			var attrs []profiles.EventTriggerAttribute
			for _, a := range d.ObjectAttributes {
				attrs = append(attrs, profiles.EventTriggerAttribute{Source: deref(a.Source), FieldName: deref(a.FieldName),
					ComparisonOperator: deref(a.ComparisonOperator), Values: a.Values})
			}
			pc.Dimensions = append(pc.Dimensions, attrs)
		}
		out = append(out, pc)
	}
	return out
}

func triggerLimitsFromWire(l *EventTriggerLimits) *profiles.EventTriggerLimits {
	if l == nil {
		return nil
	}
	out := &profiles.EventTriggerLimits{}
	if l.EventExpiration != nil {
		out.EventExpiration = *l.EventExpiration
	}
	for _, p := range l.Periods {
		out.Periods = append(out.Periods, profiles.EventTriggerPeriod{Unit: deref(p.Unit), Value: derefInt(p.Value),
			MaxInvocationsPerProfile: derefInt(p.MaxInvocationsPerProfile), Unlimited: derefBool(p.Unlimited)})
	}
	return out
}

// triggerLimitsUpdateFromWire returns the members of the limits an update
// sends (nil when it sends none): a member left out keeps its value.
func triggerLimitsUpdateFromWire(l *EventTriggerLimits) *profiles.EventTriggerLimitsUpdate {
	if l == nil {
		return nil
	}
	out := &profiles.EventTriggerLimitsUpdate{EventExpiration: l.EventExpiration}
	if l.Periods != nil {
		out.Periods = triggerLimitsFromWire(&EventTriggerLimits{Periods: l.Periods}).Periods
	}
	return out
}
