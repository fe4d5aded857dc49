package profiles

import (
	"context"
	"time"
)

// A DomainConfig is one named piece of a domain's configuration that the
// service keeps as a document: a layout (ConfigLayout), and the other
// definitions of the API that are configuration, not profile data. Kind
// says which; Name is unique per domain and kind; Data is its JSON, the
// service's business (the store keeps it byte for byte).
type DomainConfig struct {
	DomainName    string
	Kind          string
	Name          string
	Data          []byte
	CreatedAt     time.Time
	LastUpdatedAt time.Time
}

// Kinds of DomainConfig.
const (
	ConfigLayout              = "layout"                      // CreateDomainLayout and the other layout operations
	ConfigDefaultLayout       = "default-layout"              // which layout is the domain's default (one config, "default")
	ConfigCalculatedAttribute = "calculated-attribute"        // CreateCalculatedAttributeDefinition and the others
	ConfigSegment             = "segment"                     // CreateSegmentDefinition and the others
	ConfigSegmentEstimate     = "segment-estimate"            // CreateSegmentEstimate's results
	ConfigEventTrigger        = "event-trigger"               // CreateEventTrigger and the others
	ConfigUploadJob           = "upload-job"                  // CreateUploadJob and the others
	ConfigUploadFile          = "upload-file"                 // an upload job's file, sealed, until the job has run
	ConfigDomainObjectType    = "domain-object-type"          // PutDomainObjectType and the others
	ConfigEventStream         = "event-stream"                // CreateEventStream and the others
	ConfigIdentityJob         = "identity-resolution-job"     // an identity resolution job (Domain.Matching)
	ConfigIdentityMatches     = "identity-resolution-matches" // the match groups of a completed job, by job id
	ConfigSegmentSnapshot     = "segment-snapshot"            // CreateSegmentSnapshot's exports
	ConfigRecommender         = "recommender"                 // CreateRecommender and the others
	ConfigRecommenderModel    = "recommender-model"           // a trained version of a recommender, by version name
	ConfigRecommenderSchema   = "recommender-schema"          // CreateRecommenderSchema and the others
	ConfigRecommenderFilter   = "recommender-filter"          // CreateRecommenderFilter and the others
	ConfigWorkflow            = "workflow"                    // CreateIntegrationWorkflow and the others
	ConfigWorkflowFlow        = "workflow-flow"               // a flow name, reserved for its workflow (its id)
	ConfigTypeScrub           = "object-type-scrub"           // a deleted object type whose profile fields are still being cleared, by type name
	ConfigFormToken           = "form-token"                  // a console form's one-time token and the profile its first submission created (CreateProfileOnce); also, named "draft.…", a refused console form, and "drafts.…", the index of its owner's drafts (FormDraftService)
	ConfigRuleMerge           = "rule-merge"                  // the state of the domain's rule-based merging (one config, "state"): lease, last pass
)

// ConfigStore persists domain configs. Deleting a domain deletes its
// configs. ENOTFOUND of a missing domain names the domain; of a missing
// config, its name. A domain being deleted (MarkDomainDeleting) is missing
// for every method, its configs too while its purge has not removed them.
type ConfigStore interface {
	// CreateConfig inserts c. A zero CreatedAt becomes the store's current
	// time and a zero LastUpdatedAt CreatedAt; on success c holds its times
	// as stored. Returns ENOTFOUND for a missing domain, ECONFLICT (naming
	// it) when the domain has a config of that kind and name, and EQUOTA
	// when it holds limit configs of that kind already (limit <= 0: no
	// limit); the checks and the insert are atomic.
	CreateConfig(ctx context.Context, c *DomainConfig, limit int) error

	// FindConfig returns a domain's config. Returns ENOTFOUND.
	FindConfig(ctx context.Context, domain, kind, name string) (*DomainConfig, error)

	// UpdateConfig reads a config, calls fn on it and stores the result,
	// all in one transaction, with LastUpdatedAt the store's current time,
	// and returns it as FindConfig would. fn's error aborts the update and
	// is returned as is; fn must be quick and must not call the store.
	// Changing the domain, kind, name or CreatedAt in fn returns EINVALID.
	// Returns ENOTFOUND.
	UpdateConfig(ctx context.Context, domain, kind, name string, fn func(*DomainConfig) error) (*DomainConfig, error)

	// UpdateConfigs reads the domain's configs that keys name (nil for a
	// missing one), calls fn with them in the order of keys, and stores
	// what fn leaves, all in one transaction: an entry read is updated,
	// with LastUpdatedAt the store's current time; an entry fn put where
	// nil was read is inserted as CreateConfig would (EQUOTA past its key's
	// Limit); an entry fn sets to nil is not written. It returns the
	// entries as FindConfig would, nil for those not written. fn's error
	// aborts the change and is returned as is; fn must be quick and must
	// not call the store. An entry whose domain, kind or name is not its
	// key's, or whose CreatedAt fn changed, returns EINVALID. Concurrent
	// UpdateConfigs of one domain behave as if run one after another.
	// Returns ENOTFOUND for a missing domain.
	UpdateConfigs(ctx context.Context, domain string, keys []ConfigKey, fn func([]*DomainConfig) error) ([]*DomainConfig, error)

	// DeleteConfig deletes a domain's config. Returns ENOTFOUND.
	DeleteConfig(ctx context.Context, domain, kind, name string) error

	// ListConfigs returns a domain's configs of one kind whose names sort
	// after after ("" for the start), in byte order of their names, up to
	// limit (<= 0: all). Returns ENOTFOUND for a missing domain.
	ListConfigs(ctx context.Context, domain, kind, after string, limit int) ([]*DomainConfig, error)
}

// A ConfigKey names one config of a domain, for ConfigStore.UpdateConfigs.
type ConfigKey struct {
	Kind, Name string
	// Limit is CreateConfig's limit, for the config if it is created
	// (<= 0: none).
	Limit int
}

// A Layout is a domain layout: a named, JSON description of how a console
// shows a domain's profile data (CreateDomainLayout). Version counts its
// revisions: "1" when created, one more at every update.
type Layout struct {
	DomainName    string
	Name          string
	Description   string
	DisplayName   string
	IsDefault     bool
	LayoutType    string
	Layout        string // a JSON document
	Version       string
	Tags          map[string]string
	CreatedAt     time.Time
	LastUpdatedAt time.Time
}

// LayoutUpdate is what UpdateLayout changes: the fields that are set.
type LayoutUpdate struct {
	Description *string
	DisplayName *string
	IsDefault   *bool
	LayoutType  *string
	Layout      *string
}

// MaxLayoutsPerDomain is the quota of layouts of a domain.
const MaxLayoutsPerDomain = 100

// LayoutService manages domain layouts. Every method returns ENOTFOUND for
// a missing domain or layout, and EINVALID for a Layout that is not a JSON
// document or a LayoutType that is not PROFILE_EXPLORER. A domain has at
// most one default layout: making one default (IsDefault, on creation or
// update) unmarks the one before, atomically.
type LayoutService interface {
	// CreateLayout creates a layout. Returns ECONFLICT when one of that
	// name exists and EQUOTA past MaxLayoutsPerDomain.
	CreateLayout(ctx context.Context, l *Layout) (*Layout, error)
	GetLayout(ctx context.Context, domain, name string) (*Layout, error)
	UpdateLayout(ctx context.Context, domain, name string, u LayoutUpdate) (*Layout, error)
	DeleteLayout(ctx context.Context, domain, name string) error
	// ListLayouts returns one page of a domain's layouts, by name.
	ListLayouts(ctx context.Context, domain string, page Page) ([]*Layout, string, error)
}
