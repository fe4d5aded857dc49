package profiles

import (
	"context"
	"time"
)

// An EventTrigger is a rule on the objects a domain ingests: which objects
// of ObjectTypeName (Conditions), of which profiles (SegmentFilter), how
// often per profile (Limits) should invoke a destination — the
// integrations that name it in their EventTriggerNames. OpenProfiles
// stores and checks event triggers; it invokes no destination.
type EventTrigger struct {
	DomainName     string
	Name           string
	ObjectTypeName string
	Description    string
	Conditions     []EventTriggerCondition
	SegmentFilter  string
	Limits         *EventTriggerLimits
	Tags           map[string]string
	CreatedAt      time.Time
	LastUpdatedAt  time.Time
}

// EventTriggerCondition holds when LogicalOperator (ANY, ALL, NONE) of its
// dimensions hold; a dimension when all of its object attributes do.
type EventTriggerCondition struct {
	LogicalOperator string
	Dimensions      [][]EventTriggerAttribute
}

// EventTriggerAttribute compares one value of an object, named by the
// object type's FieldName or by a Source path, with Values.
type EventTriggerAttribute struct {
	Source             string
	FieldName          string
	ComparisonOperator string
	Values             []string
}

// EventTriggerLimits bound how often a trigger fires: within EventExpiration
// milliseconds of ingestion, and at most MaxInvocationsPerProfile times a
// period (or Unlimited).
type EventTriggerLimits struct {
	EventExpiration int64
	Periods         []EventTriggerPeriod
}

// EventTriggerPeriod is one period of EventTriggerLimits.
type EventTriggerPeriod struct {
	Unit                     string
	Value                    int
	MaxInvocationsPerProfile int
	Unlimited                bool
}

// EventTriggerUpdate is what UpdateEventTrigger changes: the fields that
// are set.
type EventTriggerUpdate struct {
	ObjectTypeName *string
	Description    *string
	Conditions     []EventTriggerCondition // nil: unchanged
	SegmentFilter  *string
	Limits         *EventTriggerLimitsUpdate // nil: unchanged
}

// EventTriggerLimitsUpdate is what UpdateEventTrigger changes of a
// trigger's limits: the members that are set; the others keep their
// values.
type EventTriggerLimitsUpdate struct {
	EventExpiration *int64               // 0: none
	Periods         []EventTriggerPeriod // nil: unchanged
}

// MaxEventTriggersPerDomain is the quota of event triggers of a domain.
const MaxEventTriggersPerDomain = 100

// EventTriggerService manages event triggers. Every method returns
// ENOTFOUND for a missing domain or trigger, and EINVALID naming what is
// wrong with a trigger: an object type, field or segment the domain does
// not have, values that do not suit their operator, contradictory limits.
type EventTriggerService interface {
	CreateEventTrigger(ctx context.Context, t *EventTrigger) (*EventTrigger, error)
	GetEventTrigger(ctx context.Context, domain, name string) (*EventTrigger, error)
	UpdateEventTrigger(ctx context.Context, domain, name string, u EventTriggerUpdate) (*EventTrigger, error)
	DeleteEventTrigger(ctx context.Context, domain, name string) error
	// ListEventTriggers returns one page of a domain's triggers, by name.
	ListEventTriggers(ctx context.Context, domain string, page Page) ([]*EventTrigger, string, error)
}
