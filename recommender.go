package profiles

import (
	"context"
	"time"
)

// A Recommender recommends items (of a domain's interaction events, the
// objects of the object type named RecommenderEventsType) to profiles, by
// one recipe (RecipeName). A training makes a version of it
// (ActiveVersion serves); OpenProfiles trains by a fixed, documented rule
// per recipe (package recommend), where AWS trains machine-learning
// models.
type Recommender struct {
	DomainName    string
	Name          string
	Arn           string
	RecipeName    string
	SchemaName    string
	Description   string
	Config        *RecommenderConfig
	Status        string // PENDING, IN_PROGRESS, ACTIVE, FAILED, INACTIVE
	FailureReason string
	CreatedAt     time.Time
	LastUpdatedAt time.Time
	LatestUpdate  *RecommenderUpdate
	ActiveVersion string
	// TrainingMetrics are the metrics of the newest versions, newest first.
	TrainingMetrics []RecommenderMetrics
	Tags            map[string]string
}

// RecommenderEventsType and RecommenderItemsType are the dataset types of
// recommender schemas and column lists: the interaction events (objects of
// the domain's object type of that name) and the items they name.
const (
	RecommenderEventsType = "_webAnalytics"
	RecommenderItemsType  = "_catalogItem"
)

// RecommenderConfig is how a recommender trains and serves.
type RecommenderConfig struct {
	EventsConfig *RecommenderEventsConfig `json:"eventsConfig,omitempty"`
	// TrainingFrequency is the days between trainings; unset: 7, as AWS
	// does; 0: none after the first (and after updates).
	TrainingFrequency *int                        `json:"trainingFrequency,omitempty"`
	InferenceConfig   *RecommenderInferenceConfig `json:"inferenceConfig,omitempty"`
	IncludedColumns   map[string][]string         `json:"includedColumns,omitempty"`
	ExcludedColumns   map[string][]string         `json:"excludedColumns,omitempty"`
	DiversityConfig   *DiversityConfig            `json:"diversityConfig,omitempty"`
}

// RecommenderEventsConfig lists the event types that count, and how.
type RecommenderEventsConfig struct {
	EventParametersList []RecommenderEventParameters `json:"eventParametersList"`
}

// RecommenderEventParameters is how events of one type count.
type RecommenderEventParameters struct {
	EventType           string   `json:"eventType"`
	EventValueThreshold *float64 `json:"eventValueThreshold,omitempty"`
	EventWeight         *float64 `json:"eventWeight,omitempty"`
}

// RecommenderInferenceConfig is kept and returned; OpenProfiles provisions
// nothing.
type RecommenderInferenceConfig struct {
	MinProvisionedTPS *int `json:"minProvisionedTPS,omitempty"`
}

// DiversityConfig caps how many recommended items share a value of an
// item column.
type DiversityConfig struct {
	DiversityColumns []DiversityColumn `json:"diversityColumns"`
}

// DiversityColumn is one cap: at most Target items (CapType VALUE), or
// Target percent of them (PERCENTAGE); Target is a number or a $name
// given at GetProfileRecommendations.
type DiversityColumn struct {
	Name    string `json:"name"`
	CapType string `json:"capType"`
	Target  string `json:"target"`
}

// RecommenderUpdate is the latest change of a recommender's configuration
// and its training.
type RecommenderUpdate struct {
	Config        *RecommenderConfig `json:"config,omitempty"`
	Status        string             `json:"status"`
	FailureReason string             `json:"failureReason,omitempty"`
	VersionName   string             `json:"versionName,omitempty"`
	CreatedAt     time.Time          `json:"createdAt"`
	LastUpdatedAt time.Time          `json:"lastUpdatedAt"`
}

// RecommenderMetrics are one version's training metrics.
type RecommenderMetrics struct {
	Time        time.Time          `json:"time"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	VersionName string             `json:"versionName"`
}

// RecommenderChange is what UpdateRecommender changes: the fields that are
// set. A Config trains a new version (the recommender serves the active
// one meanwhile); a VersionName makes a kept version the active one.
type RecommenderChange struct {
	Description *string
	Config      *RecommenderConfig
	VersionName *string
}

// RecommenderRecipe is one recipe of ListRecommenderRecipes.
type RecommenderRecipe struct {
	Name        string
	Description string
}

// A RecommenderSchema names, per dataset type, the columns recommenders
// and filters may use.
type RecommenderSchema struct {
	DomainName string
	Name       string
	Arn        string
	Fields     map[string][]RecommenderSchemaField
	Status     string // ACTIVE
	CreatedAt  time.Time
	Tags       map[string]string
}

// RecommenderSchemaField is one column of a RecommenderSchema: a path in
// the event object (_webAnalytics) or an item column (_catalogItem).
type RecommenderSchemaField struct {
	TargetFieldName string `json:"targetFieldName"`
	ContentType     string `json:"contentType,omitempty"` // STRING, NUMBER
	FeatureType     string `json:"featureType,omitempty"` // TEXTUAL, CATEGORICAL
}

// A RecommenderFilter is a named filter expression
// GetProfileRecommendations applies (package recommend has its syntax).
type RecommenderFilter struct {
	DomainName    string
	Name          string
	Arn           string
	Expression    string
	SchemaName    string
	Description   string
	Status        string // ACTIVE
	FailureReason string
	CreatedAt     time.Time
	Tags          map[string]string
}

// RecommendationsRequest is one GetProfileRecommendations.
type RecommendationsRequest struct {
	DomainName      string
	ProfileID       string
	RecommenderName string
	// Context's ItemId (any case) is the item similar-items and
	// frequently-paired-items start from; other keys are ignored.
	Context         map[string]string
	Filter          *RecommenderFilterUse
	Promotion       *RecommenderPromotion
	CandidateIDs    []string
	MaxResults      int // 0: 10
	MetadataColumns []string
	Diversity       *RecommendationDiversity
}

// RecommenderFilterUse names a filter and the values of its placeholders.
type RecommenderFilterUse struct {
	Name   string
	Values map[string]string
}

// RecommenderPromotion fills Percent of the places with the best items a
// filter keeps.
type RecommenderPromotion struct {
	Name          string
	Values        map[string]string
	PromotionName string
	Percent       int
}

// RecommendationDiversity turns the recommender's DiversityConfig on, with
// the values of its $name targets.
type RecommendationDiversity struct {
	Enabled bool
	Values  map[string]int
}

// A Recommendation is one recommended item with its score (0 to 1).
type Recommendation struct {
	Item  CatalogItem
	Score float64
}

// CatalogItem is what a recommendation says of its item: the standard
// columns, and in Attributes the MetadataColumns asked for.
type CatalogItem struct {
	ID, Name, Code, Type, Category, Description string
	AdditionalInformation, ImageLink, Link      string
	Price                                       string
	CreatedAt, UpdatedAt                        time.Time
	Attributes                                  map[string]string
}

// Quotas of recommenders.
const (
	MaxRecommendersPerDomain       = 20
	MaxRecommenderSchemasPerDomain = 20
	MaxRecommenderFiltersPerDomain = 50
)

// RecommenderService manages recommenders, their schemas and filters, and
// answers GetProfileRecommendations. Every method returns ENOTFOUND for a
// missing domain or resource (naming it), EINVALID naming what is wrong.
type RecommenderService interface {
	// CreateRecommender creates a recommender (PENDING until its first
	// training). Returns EINVALID for a name in use (as AWS does), EQUOTA
	// past MaxRecommendersPerDomain.
	CreateRecommender(ctx context.Context, r *Recommender) (*Recommender, error)
	// GetRecommender returns a recommender with the metrics of its newest
	// metrics versions (0 to 5).
	GetRecommender(ctx context.Context, domain, name string, metrics int) (*Recommender, error)
	UpdateRecommender(ctx context.Context, domain, name string, c RecommenderChange) (*Recommender, error)
	DeleteRecommender(ctx context.Context, domain, name string) error
	// ListRecommenders returns one page of a domain's recommenders, by name.
	ListRecommenders(ctx context.Context, domain string, page Page) ([]*Recommender, string, error)
	// StartRecommender makes a stopped (INACTIVE) recommender serve again
	// (ACTIVE), or one that failed train again (PENDING).
	StartRecommender(ctx context.Context, domain, name string) error
	// StopRecommender stops an ACTIVE recommender (INACTIVE): it serves no
	// recommendations and is not trained until started.
	StopRecommender(ctx context.Context, domain, name string) error
	ListRecommenderRecipes(ctx context.Context, page Page) ([]RecommenderRecipe, string, error)

	CreateRecommenderSchema(ctx context.Context, s *RecommenderSchema) (*RecommenderSchema, error)
	GetRecommenderSchema(ctx context.Context, domain, name string) (*RecommenderSchema, error)
	// DeleteRecommenderSchema deletes a schema no recommender or filter
	// uses (EINVALID naming one that does).
	DeleteRecommenderSchema(ctx context.Context, domain, name string) error
	ListRecommenderSchemas(ctx context.Context, domain string, page Page) ([]*RecommenderSchema, string, error)

	CreateRecommenderFilter(ctx context.Context, f *RecommenderFilter) (*RecommenderFilter, error)
	GetRecommenderFilter(ctx context.Context, domain, name string) (*RecommenderFilter, error)
	DeleteRecommenderFilter(ctx context.Context, domain, name string) error
	ListRecommenderFilters(ctx context.Context, domain string, page Page) ([]*RecommenderFilter, string, error)

	// GetProfileRecommendations returns a profile's recommendations from an
	// ACTIVE recommender, best first.
	GetProfileRecommendations(ctx context.Context, r *RecommendationsRequest) ([]Recommendation, error)
}
