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
	// ObjectTypes are the object types whose objects the estimate's query
	// read through calculated attributes: reading the estimate needs
	// kms:Decrypt on their own keys, as making it did (none recorded for
	// an estimate made before they were).
	ObjectTypes []string
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
	// SegmentObjectTypes returns the object types whose objects decide
	// what the segment of that name (with name "", the query q) holds:
	// those its calculated attributes, and its source segments', are
	// computed from. A missing segment or attribute has none.
	SegmentObjectTypes(ctx context.Context, domain, name string, q SegmentGroups) ([]string, error)
}

// A SegmentSnapshot is an export of a segment's profiles, as they were
// when it ran, to an S3 object (CreateSegmentSnapshot).
type SegmentSnapshot struct {
	DomainName     string
	SegmentName    string
	ID             string
	DataFormat     string // CSV or JSONL
	DestinationURI string // s3://bucket/prefix
	EncryptionKey  string // a KMS key ARN the object is encrypted with (S3 SSE-KMS), or ""
	RoleArn        string // kept and returned; OpenProfiles writes with its own credentials
	Status         string // IN_PROGRESS, COMPLETED or FAILED
	StatusMessage  string
	CreatedAt      time.Time
}

// SegmentSnapshotService exports segments. Methods return ENOTFOUND for a
// missing domain, segment or snapshot.
type SegmentSnapshotService interface {
	// CreateSegmentSnapshot checks the request (EINVALID naming what is
	// wrong: the format, the destination, no S3 service configured) and
	// starts the export in the background.
	CreateSegmentSnapshot(ctx context.Context, s *SegmentSnapshot) (*SegmentSnapshot, error)
	GetSegmentSnapshot(ctx context.Context, domain, segment, id string) (*SegmentSnapshot, error)
}

// ObjectDestinations writes objects to S3 buckets. Package awss3
// implements it over the S3 API.
type ObjectDestinations interface {
	// CheckBucket returns nil when the bucket of the s3://bucket/prefix URI
	// exists and the credentials may use it. Returns EINVALID for a URI that
	// is not s3://bucket[/prefix], ENOTFOUND for a missing bucket,
	// EFORBIDDEN when access is denied; other errors are internal.
	CheckBucket(ctx context.Context, uri string) error
	// PutObject writes body as the object key of bucket, with its content
	// type, encrypted with the KMS key kmsKeyARN when it is not "" (S3
	// SSE-KMS). Errors as CheckBucket's.
	PutObject(ctx context.Context, bucket, key string, body []byte, contentType, kmsKeyARN string) error
}
