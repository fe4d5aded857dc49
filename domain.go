package profiles

import (
	"context"
	"time"
)

// Domain is a container for profiles, object types, keys and encryption
// keys. Domains share nothing with each other.
type Domain struct {
	Name                  string
	DefaultExpirationDays int
	DefaultEncryptionKey  string // KMS key ARN or id; "" for a service-owned key
	DeadLetterQueueURL    string // "" for none
	Matching              *MatchingSettings
	RuleBasedMatching     *RuleBasedMatchingSettings
	DataStore             *DataStoreSettings
	Tags                  map[string]string
	CreatedAt             time.Time
	LastUpdatedAt         time.Time
}

// DomainStats counts what a domain holds.
type DomainStats struct {
	ProfileCount         int64
	MeteringProfileCount int64
	ObjectCount          int64
	TotalSize            int64
}

// MatchingSettings configure ML-style identity resolution jobs.
type MatchingSettings struct {
	Enabled         bool
	JobSchedule     *JobSchedule
	AutoMerging     *AutoMerging
	ExportingConfig *ExportingConfig
}

// JobSchedule is the weekly time a matching job runs (UTC).
type JobSchedule struct {
	DayOfTheWeek string
	Time         string
}

// AutoMerging configures merging of matched profiles.
type AutoMerging struct {
	Enabled                             bool
	Consolidation                       *Consolidation
	ConflictResolution                  *ConflictResolution
	MinAllowedConfidenceScoreForMerging *float64
}

// Consolidation lists attribute sets whose equality merges profiles.
type Consolidation struct {
	MatchingAttributesList [][]string
}

// ConflictResolution says which value wins when merged profiles disagree.
type ConflictResolution struct {
	ConflictResolvingModel string // RECENCY or SOURCE
	SourceName             string
}

// ExportingConfig is where match results are exported.
type ExportingConfig struct {
	S3Exporting *S3Exporting
}

// S3Exporting names an S3 bucket and key prefix.
type S3Exporting struct {
	S3BucketName string
	S3KeyName    string
}

// RuleBasedMatchingSettings configure rule-based identity resolution.
type RuleBasedMatchingSettings struct {
	Enabled                        bool
	MatchingRules                  [][]string
	Status                         string // PENDING, IN_PROGRESS or ACTIVE; set by the service
	MaxAllowedRuleLevelForMerging  *int
	MaxAllowedRuleLevelForMatching *int
	AttributeTypesSelector         *AttributeTypesSelector
	ConflictResolution             *ConflictResolution
	ExportingConfig                *ExportingConfig
}

// AttributeTypesSelector chooses which address, phone and email fields
// rule-based matching compares.
type AttributeTypesSelector struct {
	AttributeMatchingModel string // ONE_TO_ONE or MANY_TO_MANY
	Address                []string
	PhoneNumber            []string
	EmailAddress           []string
}

// DataStoreSettings switch the domain's data store on or off.
type DataStoreSettings struct {
	Enabled   bool
	Readiness *Readiness
}

// Readiness tells how far the data store has been prepared.
type Readiness struct {
	ProgressPercentage *int
	Message            string
}

// DomainUpdate holds the changes of an UpdateDomain call: a nil field is
// left unchanged. An empty DeadLetterQueueURL or DefaultEncryptionKey
// removes the setting. Tags are added or overwritten.
type DomainUpdate struct {
	DefaultExpirationDays *int
	DefaultEncryptionKey  *string
	DeadLetterQueueURL    *string
	Matching              *MatchingSettings
	RuleBasedMatching     *RuleBasedMatchingSettings
	DataStore             *DataStoreSettings
	Tags                  map[string]string
}

// Page asks for one page of a list. Token is an opaque token returned by the
// previous page ("" for the first); MaxResults 0 means the default size.
type Page struct {
	Token      string
	MaxResults int
}

// DomainService manages the domains of the account.
type DomainService interface {
	// CreateDomain creates a domain. Returns EINVALID for bad settings,
	// ECONFLICT if the name is taken and EQUOTA when the account holds the
	// maximum number of domains.
	CreateDomain(ctx context.Context, d *Domain) (*Domain, error)

	// GetDomain returns a domain and its statistics. Returns ENOTFOUND.
	GetDomain(ctx context.Context, name string) (*Domain, *DomainStats, error)

	// UpdateDomain applies upd to a domain. Returns ENOTFOUND, EINVALID.
	UpdateDomain(ctx context.Context, name string, upd *DomainUpdate) (*Domain, error)

	// DeleteDomain deletes a domain and everything it holds. Returns ENOTFOUND.
	DeleteDomain(ctx context.Context, name string) error

	// ListDomains returns one page of domains in name order and the token
	// of the next page ("" after the last). Returns EINVALID for a bad token.
	ListDomains(ctx context.Context, page Page) ([]*Domain, string, error)

	// DomainARN returns the ARN of the named domain.
	DomainARN(name string) string

	// CheckDomain returns ENOTFOUND if no domain of that name exists, or
	// it is being deleted (its data is then still being removed): every
	// operation on a domain checks it before it acts. It reads the domain
	// as the store held it at most a second ago: a deletion through
	// another node applies here at most that long after it.
	CheckDomain(ctx context.Context, name string) error

	// EncryptionKeyARN returns the ARN of the KMS key the domain's data is
	// encrypted with (the service's default key when it names none).
	// Returns ENOTFOUND.
	EncryptionKeyARN(ctx context.Context, name string) (string, error)

	// ObjectTypeKeyARN returns the ARN of an object type's own
	// EncryptionKey, which seals its objects: "" when it has none (its
	// objects are sealed under the domain's key) or does not exist.
	ObjectTypeKeyARN(ctx context.Context, domain, objectType string) (string, error)

	// ObjectTypeKeyARNs returns the keys, other than the domain's, whose
	// kms:Decrypt reading the objects of these object types (or what is
	// computed from them) needs beside the domain's key: their own
	// EncryptionKeys, each once. A type without one, or missing, adds
	// none.
	ObjectTypeKeyARNs(ctx context.Context, domain string, objectTypes []string) ([]string, error)

	// KeyARN returns the ARN of a KMS key named by its ARN, id or alias
	// ("" names the server's default key; "" when there is none). A key
	// KMS does not know is returned as named.
	KeyARN(ctx context.Context, key string) (string, error)

	// RecordActivation records on a domain that the console activation
	// whose one-time token is token created it, for FormTokenTTL (as a
	// ConfigFormToken), so that a repeat of that activation's Submit (a
	// double click, a resubmission, through any node) is told the domain
	// it made. Returns ENOTFOUND, EINVALID for a malformed token.
	RecordActivation(ctx context.Context, domain, token string) error

	// ActivatedBy reports whether RecordActivation recorded token on the
	// domain. A missing domain was not: false, no error.
	ActivatedBy(ctx context.Context, domain, token string) (bool, error)

	// LockActivation waits until no other console activation of the
	// account runs, on this node or on any other node of the store, and
	// returns the function that ends this one; the caller holds it from
	// the check that the activation is not made yet (ActivatedBy) to
	// RecordActivation. It waits a bounded time (and no longer than ctx):
	// then it returns ECONFLICT, saying that another activation is
	// running.
	LockActivation(ctx context.Context) (release func(), err error)
}

// TagService tags resources by ARN.
type TagService interface {
	// TagResource adds or overwrites tags. Returns EINVALID for an ARN this
	// service does not own, ENOTFOUND for a missing resource and EQUOTA
	// past 50 tags.
	TagResource(ctx context.Context, arn string, tags map[string]string) error

	// UntagResource removes tag keys. Returns EINVALID, ENOTFOUND.
	UntagResource(ctx context.Context, arn string, keys []string) error

	// ListTagsForResource returns the tags of a resource. Returns EINVALID, ENOTFOUND.
	ListTagsForResource(ctx context.Context, arn string) (map[string]string, error)
}
