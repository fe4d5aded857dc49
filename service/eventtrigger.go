package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.EventTriggerService = (*Service)(nil)

// triggerDoc is what an event trigger's config holds.
type triggerDoc struct {
	ObjectTypeName string                           `json:"objectTypeName"`
	Description    string                           `json:"description,omitempty"`
	Conditions     []profiles.EventTriggerCondition `json:"conditions"`
	SegmentFilter  string                           `json:"segmentFilter,omitempty"`
	Limits         *profiles.EventTriggerLimits     `json:"limits,omitempty"`
	Tags           map[string]string                `json:"tags,omitempty"`
}

// CreateEventTrigger checks a trigger against the domain and stores it.
func (s *Service) CreateEventTrigger(ctx context.Context, t *profiles.EventTrigger) (*profiles.EventTrigger, error) {
	doc := triggerDoc{ObjectTypeName: t.ObjectTypeName, Description: t.Description, Conditions: t.Conditions,
		SegmentFilter: t.SegmentFilter, Limits: t.Limits, Tags: t.Tags}
	if err := s.checkTrigger(ctx, t.DomainName, &doc, checkAll); err != nil {
		return nil, err
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: t.DomainName, Kind: profiles.ConfigEventTrigger, Name: t.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxEventTriggersPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, t.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Event trigger %s already exists in domain %s.", t.Name, t.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d event triggers, the most it may have.", t.DomainName, profiles.MaxEventTriggersPerDomain)
	default:
		return nil, err
	}
	return triggerFromConfig(c)
}

// GetEventTrigger returns a trigger.
func (s *Service) GetEventTrigger(ctx context.Context, domain, name string) (*profiles.EventTrigger, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigEventTrigger, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Event trigger", name)
	}
	return triggerFromConfig(c)
}

// UpdateEventTrigger changes the fields of u that are set, and of the
// limits the members that are set, and checks the trigger they make. The check reads the domain outside the update's
// transaction: the update stores the trigger only if it is still the one
// checked, else checks again (a concurrent update changed it).
func (s *Service) UpdateEventTrigger(ctx context.Context, domain, name string, u profiles.EventTriggerUpdate) (*profiles.EventTrigger, error) {
	for try := 0; ; try++ {
		c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigEventTrigger, name)
		if err != nil {
			return nil, s.configErr(ctx, err, domain, "Event trigger", name)
		}
		checked := c.Data
		var doc triggerDoc
		if err := json.Unmarshal(checked, &doc); err != nil {
			return nil, fmt.Errorf("event trigger %s: %w", name, err)
		}
		applyTriggerUpdate(&doc, u)
		// What the update leaves as it was is not checked again: the
		// object type or segment it names may have been deleted since,
		// and a new description must not need them back.
		what := triggerChecks{conditions: u.ObjectTypeName != nil || u.Conditions != nil, segment: u.SegmentFilter != nil}
		if err := s.checkTrigger(ctx, domain, &doc, what); err != nil {
			return nil, err
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		c, err = s.Configs.UpdateConfig(ctx, domain, profiles.ConfigEventTrigger, name, func(c *profiles.DomainConfig) error {
			if !bytes.Equal(c.Data, checked) {
				return errChangedMeanwhile
			}
			c.Data = data
			return nil
		})
		if errors.Is(err, errChangedMeanwhile) && try < 5 {
			continue
		} else if errors.Is(err, errChangedMeanwhile) {
			return nil, profiles.Errorf(profiles.ETHROTTLED, "Event trigger %s keeps changing under this update; retry.", name)
		} else if err != nil {
			return nil, s.configErr(ctx, err, domain, "Event trigger", name)
		}
		return triggerFromConfig(c)
	}
}

// errChangedMeanwhile aborts an update whose config changed since it was
// checked.
var errChangedMeanwhile = errors.New("changed meanwhile")

func applyTriggerUpdate(doc *triggerDoc, u profiles.EventTriggerUpdate) {
	set(&doc.ObjectTypeName, u.ObjectTypeName)
	set(&doc.Description, u.Description)
	set(&doc.SegmentFilter, u.SegmentFilter)
	if u.Conditions != nil {
		doc.Conditions = u.Conditions
	}
	if u.Limits != nil {
		// The members of the limits sent replace theirs; the others
		// stay (EventExpiration and Periods are each optional).
		l := profiles.EventTriggerLimits{}
		if doc.Limits != nil {
			l = *doc.Limits
		}
		set(&l.EventExpiration, u.Limits.EventExpiration)
		if u.Limits.Periods != nil {
			l.Periods = u.Limits.Periods
		}
		doc.Limits = &l
	}
}

// DeleteEventTrigger deletes a trigger.
func (s *Service) DeleteEventTrigger(ctx context.Context, domain, name string) error {
	// "You cannot delete an Event Trigger with an active Integration
	// associated" (the model).
	if s.Integrations != nil {
		list, err := s.Integrations.ListIntegrations(ctx, domain, "", 0)
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		for _, in := range list {
			if slices.Contains(in.EventTriggerNames, name) {
				return profiles.Errorf(profiles.EINVALID, "Event trigger %s is used by integration %s: remove it from the integration's EventTriggerNames (PutIntegration) first.", name, in.URI)
			}
		}
	}
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigEventTrigger, name), domain, "Event trigger", name)
}

// ListEventTriggers returns one page of a domain's triggers, by name.
func (s *Service) ListEventTriggers(ctx context.Context, domain string, page profiles.Page) ([]*profiles.EventTrigger, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigEventTrigger, "ListEventTriggers", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.EventTrigger, len(list))
	for i, c := range list {
		if out[i], err = triggerFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func triggerFromConfig(c *profiles.DomainConfig) (*profiles.EventTrigger, error) {
	var doc triggerDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("event trigger %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.EventTrigger{DomainName: c.DomainName, Name: c.Name, ObjectTypeName: doc.ObjectTypeName, Description: doc.Description,
		Conditions: doc.Conditions, SegmentFilter: doc.SegmentFilter, Limits: doc.Limits, Tags: doc.Tags,
		CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}, nil
}

// triggerChecks says which parts of a trigger checkTrigger checks against
// the domain (its limits it always checks).
type triggerChecks struct {
	conditions bool // the object type and the fields the conditions name
	segment    bool // the segment filter
}

var checkAll = triggerChecks{conditions: true, segment: true}

// checkTrigger checks a trigger against the domain: its object type and
// the fields its conditions name exist, Source paths are _source paths,
// values suit their operators, the segment filter exists (each as what
// says), and each limit period is either unlimited or has a maximum.
func (s *Service) checkTrigger(ctx context.Context, domain string, doc *triggerDoc, what triggerChecks) error {
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return domainErr(err, domain)
	}
	if what.conditions {
		if err := s.checkTriggerConditions(ctx, domain, doc); err != nil {
			return err
		}
	}
	if doc.SegmentFilter != "" && what.segment {
		if _, err := s.GetSegmentDefinition(ctx, domain, doc.SegmentFilter); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return bad("SegmentFilter: domain %s has no segment definition %s.", domain, doc.SegmentFilter)
		} else if err != nil {
			return err
		}
	}
	if l := doc.Limits; l != nil {
		if l.EventExpiration < 0 {
			return bad("EventTriggerLimits.EventExpiration must not be negative.")
		}
		for i, p := range l.Periods {
			if p.Unlimited == (p.MaxInvocationsPerProfile > 0) {
				return bad("EventTriggerLimits.Periods[%d] needs MaxInvocationsPerProfile or Unlimited, not both.", i)
			}
		}
	}
	return nil
}

// checkTriggerConditions checks a trigger's object type and conditions.
func (s *Service) checkTriggerConditions(ctx context.Context, domain string, doc *triggerDoc) error {
	bad := func(format string, args ...any) error { return profiles.Errorf(profiles.EINVALID, format, args...) }
	var t *profiles.ObjectType
	err := s.Store.View(ctx, func(tx profiles.Tx) error {
		var err error
		t, err = s.findObjectType(ctx, tx, domain, doc.ObjectTypeName)
		return err
	})
	if isTypeNotFound(err) {
		return bad("ObjectTypeName: domain %s has no object type %s.", domain, doc.ObjectTypeName)
	} else if err != nil {
		return err
	}
	if len(doc.Conditions) == 0 {
		return bad("EventTriggerConditions must hold at least one condition.")
	}
	for i, c := range doc.Conditions {
		where := fmt.Sprintf("EventTriggerConditions[%d]", i)
		if !slices.Contains([]string{"ANY", "ALL", "NONE"}, c.LogicalOperator) {
			return bad("%s.LogicalOperator %q must be ANY, ALL or NONE.", where, c.LogicalOperator)
		}
		if len(c.Dimensions) == 0 {
			return bad("%s.EventTriggerDimensions must hold at least one dimension.", where)
		}
		for j, d := range c.Dimensions {
			if len(d) == 0 {
				return bad("%s.EventTriggerDimensions[%d].ObjectAttributes must hold at least one attribute.", where, j)
			}
			for k, a := range d {
				awhere := fmt.Sprintf("%s.EventTriggerDimensions[%d].ObjectAttributes[%d]", where, j, k)
				switch {
				case (a.FieldName == "") == (a.Source == ""):
					return bad("%s needs FieldName or Source, not both.", awhere)
				case a.FieldName != "":
					if _, ok := t.Fields[a.FieldName]; !ok {
						return bad("%s.FieldName: object type %s has no field %s.", awhere, t.Name, a.FieldName)
					}
				case !strings.HasPrefix(a.Source, "_source."):
					return bad("%s.Source %q must be a path of the object such as _source.order.total.", awhere, a.Source)
				default:
					if _, _, err := mapping.ValueAt([]byte("{}"), strings.TrimPrefix(a.Source, "_source.")); err != nil {
						return bad("%s.Source %q must be a path of the object such as _source.order.total.", awhere, a.Source)
					}
				}
				if err := checkFilterCondition(profiles.CalcFilterCondition{DimensionType: a.ComparisonOperator, Values: a.Values}); err != nil {
					return bad("%s: %s", awhere, err)
				}
			}
		}
	}
	return nil
}
