package profiles

import (
	"context"
	"time"
)

// A SegmentDefinition selects profiles: those that satisfy Include (ALL,
// ANY or NONE) of its groups.
type SegmentDefinition struct {
	DomainName  string
	Name        string
	DisplayName string
	Description string
	Groups      SegmentGroups
	Sort        []SegmentSortAttribute
	Tags        map[string]string
	CreatedAt   time.Time
}

// SegmentGroups is a segment's criteria (the API's SegmentGroup).
type SegmentGroups struct {
	Include string // ALL, ANY or NONE of Groups; "" is ALL
	Groups  []SegmentGroup
}

// A SegmentGroup holds a profile that satisfies Type (ALL, ANY or NONE; ""
// is ALL) of its dimensions and, when it names source segments,
// SourceType of its membership in them.
type SegmentGroup struct {
	Type           string
	Dimensions     []SegmentDimension
	SourceSegments []string // segment definition names
	SourceType     string
}

// A SegmentDimension holds a profile when every one of its conditions
// does: on profile fields, by path ("FirstName", "Address.City",
// "Attributes.tier", "BirthDate", "ProfileType"), and on the profile's
// calculated attributes, by name.
type SegmentDimension struct {
	Profile    map[string]CalcFilterCondition
	Calculated map[string]SegmentCalculatedCondition
}

// SegmentCalculatedCondition is a condition on a calculated attribute's
// value, computed with Range, when set, in place of the attribute's own.
type SegmentCalculatedCondition struct {
	CalcFilterCondition
	Range *CalcValueRange
}

// SegmentSortAttribute is one attribute a segment's profiles sort by; it
// is stored and returned, not applied (there is no export).
type SegmentSortAttribute struct {
	Name, DataType, Order, Type string
}

// SegmentMember is one profile's membership of a segment; Profile is set
// for members.
type SegmentMember struct {
	ProfileID string
	Present   bool
	Profile   *Profile
}

// SegmentEstimate is how many profiles of a domain a segment query held
// when it was computed.
type SegmentEstimate struct {
	DomainName string
	ID         string
	Status     string // SUCCEEDED, FAILED
	Estimate   int
	Message    string
	CreatedAt  time.Time
}

// MaxSegmentDefinitionsPerDomain is the quota of segment definitions of a
// domain.
const MaxSegmentDefinitionsPerDomain = 100

// SegmentService manages segment definitions and evaluates them. Every
// method returns ENOTFOUND for a missing domain or definition.
type SegmentService interface {
	// CreateSegmentDefinition validates and stores a definition: its
	// fields, calculated attributes and source segments must exist.
	CreateSegmentDefinition(ctx context.Context, d *SegmentDefinition) (*SegmentDefinition, error)
	GetSegmentDefinition(ctx context.Context, domain, name string) (*SegmentDefinition, error)
	DeleteSegmentDefinition(ctx context.Context, domain, name string) error
	// ListSegmentDefinitions returns one page of a domain's definitions,
	// by name.
	ListSegmentDefinitions(ctx context.Context, domain string, page Page) ([]*SegmentDefinition, string, error)
	// SegmentMembership says, for each profile, whether the segment holds
	// it; a missing profile is an error of errs, not of the call.
	SegmentMembership(ctx context.Context, domain, name string, profileIDs []string) (members []SegmentMember, errs map[string]error, err error)
	// CreateSegmentEstimate counts the profiles of the domain that q holds,
	// and keeps the result for GetSegmentEstimate.
	CreateSegmentEstimate(ctx context.Context, domain string, q SegmentGroups) (*SegmentEstimate, error)
	GetSegmentEstimate(ctx context.Context, domain, id string) (*SegmentEstimate, error)
}
