package profiles

import (
	"context"
	"strings"
	"time"
)

// A CalculatedAttribute is the definition of a value computed for each
// profile from its objects of one object type: a statistic (Statistic*)
// over Expression, which reads one field of the type ("{Orders.Total}") or
// combines two with +, -, * or / ("{Orders.Price} * {Orders.Quantity}").
// Attributes names the fields the expression reads.
type CalculatedAttribute struct {
	DomainName        string
	Name              string
	DisplayName       string
	Description       string
	Attributes        []string
	Expression        string
	Statistic         string
	Conditions        *CalcConditions // nil: every object
	Filter            *CalcFilter     // nil: every object
	UseHistoricalData bool            // false: objects ingested since CreatedAt only
	Tags              map[string]string
	CreatedAt         time.Time
	LastUpdatedAt     time.Time
}

// ObjectTypeName returns the object type whose objects the attribute is
// computed from: the one its Expression reads ({ObjectTypeName.attribute}),
// or "" for an expression of another form.
func (a *CalculatedAttribute) ObjectTypeName() string {
	_, ref, ok := strings.Cut(a.Expression, "{")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(ref, ".")
	if !ok {
		return ""
	}
	return strings.TrimSpace(name)
}

// Statistics of a CalculatedAttribute.
const (
	StatisticFirstOccurrence = "FIRST_OCCURRENCE"
	StatisticLastOccurrence  = "LAST_OCCURRENCE"
	StatisticCount           = "COUNT"
	StatisticSum             = "SUM"
	StatisticMinimum         = "MINIMUM"
	StatisticMaximum         = "MAXIMUM"
	StatisticAverage         = "AVERAGE"
	StatisticMaxOccurrence   = "MAX_OCCURRENCE"
)

// CalcConditions narrow the objects a calculated attribute reads and shape
// its value.
type CalcConditions struct {
	Range       *CalcRange     // nil: any time
	ObjectCount int            // > 0: the newest ObjectCount objects only
	Threshold   *CalcThreshold // nil: the statistic itself is the value
}

// CalcRange keeps the objects whose time falls in a window relative to
// now: the last Value days, or, with ValueRange, from Start days ago to End
// days ago (negative: in the future). An object's time is the value at
// TimestampSource ("{Type.path.in.object}", read as TimestampFormat:
// EPOCHMILLI or ISO_8601), else its source's last-updated time, else when
// it was ingested.
type CalcRange struct {
	Value           int
	Unit            string // DAYS
	ValueRange      *CalcValueRange
	TimestampSource string
	TimestampFormat string
}

// CalcValueRange is a window in days before now: Start ≥ End.
type CalcValueRange struct{ Start, End int }

// CalcThreshold turns a calculated attribute's value into "true" or
// "false": the value compared with Value by Operator (EQUAL_TO,
// NOT_EQUAL_TO, GREATER_THAN, LESS_THAN; numerically when both are
// numbers).
type CalcThreshold struct{ Value, Operator string }

// CalcFilter keeps the objects that satisfy Include (ALL, ANY or NONE) of
// its groups. A group is satisfied by Type (ALL, ANY or NONE) of its
// dimensions; a dimension when every one of its fields' conditions holds.
type CalcFilter struct {
	Include string
	Groups  []CalcFilterGroup
}

// CalcFilterGroup is one group of a CalcFilter.
type CalcFilterGroup struct {
	Type       string
	Dimensions []map[string]CalcFilterCondition // field name -> condition
}

// CalcFilterCondition is the condition on one field of an object:
// DimensionType (INCLUSIVE, EXCLUSIVE, CONTAINS, BEGINS_WITH, ENDS_WITH;
// EQUAL, GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL,
// LESS_THAN_OR_EQUAL on numbers; BEFORE, AFTER, ON, BETWEEN, NOT_BETWEEN on
// dates) with its Values.
type CalcFilterCondition struct {
	DimensionType string
	Values        []string
}

// CalculatedAttributeUpdate is what UpdateCalculatedAttribute changes: the
// fields that are set.
type CalculatedAttributeUpdate struct {
	DisplayName *string
	Description *string
	Conditions  *CalcConditions
}

// A CalculatedValue is a calculated attribute's value for one profile.
// Value is "" when no object contributed (COUNT is then "0").
type CalculatedValue struct {
	ProfileID           string
	Name                string
	DisplayName         string
	Value               string
	IsDataPartial       bool
	LastObjectTimestamp time.Time // of the newest object read; zero for none
}

// MaxCalculatedAttributesPerDomain is the quota of calculated attributes
// of a domain.
const MaxCalculatedAttributesPerDomain = 50

// CalculatedAttributeService manages calculated attributes and computes
// their values. Every method returns ENOTFOUND for a missing domain,
// definition or profile.
type CalculatedAttributeService interface {
	// CreateCalculatedAttribute validates and stores a definition. Returns
	// EINVALID naming what is wrong, EQUOTA past
	// MaxCalculatedAttributesPerDomain.
	CreateCalculatedAttribute(ctx context.Context, a *CalculatedAttribute) (*CalculatedAttribute, error)
	GetCalculatedAttribute(ctx context.Context, domain, name string) (*CalculatedAttribute, error)
	UpdateCalculatedAttribute(ctx context.Context, domain, name string, u CalculatedAttributeUpdate) (*CalculatedAttribute, error)
	DeleteCalculatedAttribute(ctx context.Context, domain, name string) error
	// ListCalculatedAttributes returns one page of a domain's definitions,
	// by name.
	ListCalculatedAttributes(ctx context.Context, domain string, page Page) ([]*CalculatedAttribute, string, error)

	// CalculatedValue computes one attribute for one profile.
	CalculatedValue(ctx context.Context, domain, profileID, name string) (*CalculatedValue, error)
	// CalculatedValues computes every attribute of the domain for one
	// profile: one page, by attribute name.
	CalculatedValues(ctx context.Context, domain, profileID string, page Page) ([]*CalculatedValue, string, error)
	// BatchCalculatedValue computes one attribute for several profiles,
	// with its range replaced by override when set. A missing profile is
	// an error of errs (by profile id), not of the call.
	BatchCalculatedValue(ctx context.Context, domain, name string, profileIDs []string, override *CalcValueRange) (values []*CalculatedValue, errs map[string]error, err error)

	// CalculatedObjectTypes returns the object types whose objects the
	// named attribute's values are computed from, or with name "", those
	// of every attribute of the domain (each once): reading the values
	// needs kms:Decrypt on those types' own keys (see
	// DomainService.ObjectTypeKeyARNs). A missing domain or attribute has
	// none.
	CalculatedObjectTypes(ctx context.Context, domain, name string) ([]string, error)
}
