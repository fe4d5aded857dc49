package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/recommend"
)

var _ profiles.RecommenderService = (*Service)(nil)

// Recommenders, their schemas and filters are domain configs. A
// recommender's doc holds its state; each trained version's model is a
// config of its own (ConfigRecommenderModel, named by the version), of
// which the newest maxRecommenderVersions are kept. Trainings run in
// StartRecommenderTraining's loop (rectrain.go).

// maxRecommenderVersions is how many trained versions of a recommender are
// kept (GetRecommender's TrainingMetrics, UpdateRecommender's roll back).
const maxRecommenderVersions = 5

// recommenderDoc is what a recommender's config holds.
type recommenderDoc struct {
	Recipe        string                      `json:"recipe"`
	Schema        string                      `json:"schema,omitempty"`
	Description   string                      `json:"description,omitempty"`
	Config        *profiles.RecommenderConfig `json:"config,omitempty"`
	Status        string                      `json:"status"`
	FailureReason string                      `json:"failureReason,omitempty"`
	LatestUpdate  *profiles.RecommenderUpdate `json:"latestUpdate,omitempty"`
	ActiveVersion string                      `json:"activeVersion,omitempty"`
	Versions      []versionDoc                `json:"versions,omitempty"` // newest first
	// Generation counts the changes of the configuration and of the
	// active version: a training records its version only if it is the
	// one it started with (rectrain.go).
	Generation int64 `json:"generation,omitempty"`
	// TrainedAt is when the last training ended (TrainingFrequency counts
	// from it).
	TrainedAt time.Time `json:"trainedAt,omitzero"`
	// LeaseUntil: a node trains the recommender until then, unless it
	// extends it (rectrain.go).
	LeaseUntil time.Time         `json:"leaseUntil,omitzero"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// versionDoc is a kept version: its name (the ConfigRecommenderModel), the
// end of its training, its metrics and the configuration it was trained
// with.
type versionDoc struct {
	Name    string                      `json:"name"`
	Time    time.Time                   `json:"time"`
	Metrics map[string]float64          `json:"metrics,omitempty"`
	Config  *profiles.RecommenderConfig `json:"config,omitempty"`
}

// schemaDoc is what a recommender schema's config holds.
type schemaDoc struct {
	Fields map[string][]profiles.RecommenderSchemaField `json:"fields"`
	Tags   map[string]string                            `json:"tags,omitempty"`
}

// filterDoc is what a recommender filter's config holds.
type filterDoc struct {
	Expression  string            `json:"expression"`
	Schema      string            `json:"schema,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// The columns of each dataset type that every recommender uses.
var mandatoryColumns = map[string][]string{
	profiles.RecommenderEventsType: {"Item.Id", "EventTimestamp", "EventType"},
	profiles.RecommenderItemsType:  {"Id"},
}

// columnRE is a column: a path of names.
var columnRE = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)

// filterNameRE is a recommender filter's name, whole: the model's pattern
// (which the transport matches anywhere in the value) and length. A name
// outside it could not be given to GetProfileRecommendations (whose filter
// names are the model's anchored name) nor make an ARN of one resource.
var filterNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,63}$`)

var recipeDescriptions = map[string]string{
	recommend.RecommendedForYou:     "Items similar to the ones the profile interacted with (item-to-item collaborative filtering), then popular items; never items it interacted with.",
	recommend.SimilarItems:          "Items that the same profiles interacted with as one item (Context ItemId, else the profile's latest).",
	recommend.FrequentlyPairedItems: "Items that profiles interacted with within an hour of one item (Context ItemId, else the profile's latest).",
	recommend.PopularItems:          "The items with the most (weighted) interactions.",
	recommend.TrendingNow:           "The items whose (weighted) interactions grew the most from the 7 days before the last 7 to the last 7.",
	recommend.PersonalizedRanking:   "CandidateIds ranked by their similarity to the items the profile interacted with.",
}

func (s *Service) recommenderARN(domain, name string) string {
	return s.DomainARN(domain) + "/recommenders/" + name
}

// ListRecommenderRecipes returns the recipes: one page, whatever its size.
func (s *Service) ListRecommenderRecipes(ctx context.Context, page profiles.Page) ([]profiles.RecommenderRecipe, string, error) {
	if page.Token != "" {
		return nil, "", profiles.Errorf(profiles.EINVALID, "NextToken is not valid: every recipe fits on the first page.")
	}
	out := make([]profiles.RecommenderRecipe, len(recommend.Recipes()))
	for i, r := range recommend.Recipes() {
		out[i] = profiles.RecommenderRecipe{Name: r, Description: recipeDescriptions[r]}
	}
	return out, "", nil
}

// CreateRecommender checks a recommender and stores it PENDING: the
// training loop trains it.
func (s *Service) CreateRecommender(ctx context.Context, r *profiles.Recommender) (*profiles.Recommender, error) {
	if !slices.Contains(recommend.Recipes(), r.RecipeName) {
		return nil, profiles.Errorf(profiles.EINVALID, "RecommenderRecipeName must be one of %s.", strings.Join(recommend.Recipes(), ", "))
	}
	if err := s.checkRecommenderConfig(ctx, r.DomainName, r.SchemaName, r.Config, "RecommenderConfig"); err != nil {
		return nil, err
	}
	doc := recommenderDoc{Recipe: r.RecipeName, Schema: r.SchemaName, Description: r.Description, Config: r.Config,
		Status: "PENDING", Tags: r.Tags}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: r.DomainName, Kind: profiles.ConfigRecommender, Name: r.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxRecommendersPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, r.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Recommender %s already exists in domain %s.", r.Name, r.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d recommenders, the most it may have.", r.DomainName, profiles.MaxRecommendersPerDomain)
	default:
		return nil, err
	}
	return s.recommenderFromConfig(c, 0)
}

// checkRecommenderConfig checks a configuration against its schema (""
// the default one, which has every column).
func (s *Service) checkRecommenderConfig(ctx context.Context, domain, schema string, cfg *profiles.RecommenderConfig, path string) error {
	var fields map[string][]profiles.RecommenderSchemaField
	if schema != "" {
		sc, err := s.GetRecommenderSchema(ctx, domain, schema)
		if err != nil {
			return err
		}
		fields = sc.Fields
	} else if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return domainErr(err, domain)
	}
	if cfg == nil {
		return nil
	}
	if cfg.IncludedColumns != nil && cfg.ExcludedColumns != nil {
		return profiles.Errorf(profiles.EINVALID, "%s: IncludedColumns and ExcludedColumns cannot both be given.", path)
	}
	for _, cols := range []struct {
		name string
		m    map[string][]string
	}{{"IncludedColumns", cfg.IncludedColumns}, {"ExcludedColumns", cfg.ExcludedColumns}} {
		for typ, list := range cols.m {
			if _, ok := mandatoryColumns[typ]; !ok {
				return profiles.Errorf(profiles.EINVALID, "%s.%s: dataset type %q must be %s or %s.", path, cols.name, typ, profiles.RecommenderEventsType, profiles.RecommenderItemsType)
			}
			for _, col := range list {
				if fields != nil && !hasColumn(fields[typ], col) && !slices.Contains(mandatoryColumns[typ], col) {
					return profiles.Errorf(profiles.EINVALID, "%s.%s: column %q is not a %s column of recommender schema %s.", path, cols.name, col, typ, schema)
				}
				if cols.name == "ExcludedColumns" && slices.ContainsFunc(mandatoryColumns[typ], func(m string) bool { return strings.EqualFold(m, col) }) {
					return profiles.Errorf(profiles.EINVALID, "%s.ExcludedColumns: column %s of %s is always used and cannot be excluded.", path, col, typ)
				}
			}
		}
	}
	if ec := cfg.EventsConfig; ec != nil {
		seen := map[string]bool{}
		for i, p := range ec.EventParametersList {
			if p.EventType == "" {
				return profiles.Errorf(profiles.EINVALID, "%s.EventsConfig.EventParametersList[%d].EventType must not be empty.", path, i)
			}
			if seen[p.EventType] {
				return profiles.Errorf(profiles.EINVALID, "%s.EventsConfig.EventParametersList: event type %q is listed twice.", path, p.EventType)
			}
			seen[p.EventType] = true
		}
	}
	if dc := cfg.DiversityConfig; dc != nil {
		seen := map[string]bool{}
		for i, c := range dc.DiversityColumns {
			at := fmt.Sprintf("%s.DiversityConfig.DiversityColumns[%d]", path, i)
			if fields != nil && !hasColumn(fields[profiles.RecommenderItemsType], c.Name) {
				return profiles.Errorf(profiles.EINVALID, "%s.Name: %q is not a %s column of recommender schema %s.", at, c.Name, profiles.RecommenderItemsType, schema)
			}
			if seen[strings.ToLower(c.Name)] {
				return profiles.Errorf(profiles.EINVALID, "%s.Name: column %q is capped twice.", at, c.Name)
			}
			seen[strings.ToLower(c.Name)] = true
			if c.CapType != "PERCENTAGE" && c.CapType != "VALUE" {
				return profiles.Errorf(profiles.EINVALID, "%s.CapType must be PERCENTAGE or VALUE.", at)
			}
			if strings.HasPrefix(c.Target, "$") {
				continue
			}
			n, err := strconv.Atoi(c.Target)
			if err != nil || n < 1 || c.CapType == "PERCENTAGE" && n > 100 {
				return profiles.Errorf(profiles.EINVALID, "%s.Target must be a whole number from 1 (to 100 for PERCENTAGE) or a $name.", at)
			}
		}
	}
	return nil
}

func hasColumn(fields []profiles.RecommenderSchemaField, col string) bool {
	return slices.ContainsFunc(fields, func(f profiles.RecommenderSchemaField) bool { return strings.EqualFold(f.TargetFieldName, col) })
}

// GetRecommender returns a recommender with the metrics of its newest
// metrics versions.
func (s *Service) GetRecommender(ctx context.Context, domain, name string, metrics int) (*profiles.Recommender, error) {
	if metrics < 0 || metrics > maxRecommenderVersions {
		return nil, profiles.Errorf(profiles.EINVALID, "TrainingMetricsCount must be between 0 and %d.", maxRecommenderVersions)
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigRecommender, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Recommender", name)
	}
	return s.recommenderFromConfig(c, metrics)
}

func (s *Service) recommenderFromConfig(c *profiles.DomainConfig, metrics int) (*profiles.Recommender, error) {
	doc, err := decodeRecommender(c)
	if err != nil {
		return nil, err
	}
	r := &profiles.Recommender{DomainName: c.DomainName, Name: c.Name, Arn: s.recommenderARN(c.DomainName, c.Name),
		RecipeName: doc.Recipe, SchemaName: doc.Schema, Description: doc.Description, Config: doc.Config,
		Status: doc.Status, FailureReason: doc.FailureReason, CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt,
		LatestUpdate: doc.LatestUpdate, ActiveVersion: doc.ActiveVersion, Tags: doc.Tags}
	for _, v := range doc.Versions[:min(metrics, len(doc.Versions))] {
		r.TrainingMetrics = append(r.TrainingMetrics, profiles.RecommenderMetrics{Time: v.Time, Metrics: v.Metrics, VersionName: v.Name})
	}
	return r, nil
}

func decodeRecommender(c *profiles.DomainConfig) (*recommenderDoc, error) {
	return decodeDoc[recommenderDoc](c)
}

// decodeDoc reads the JSON document (a T) of a config.
func decodeDoc[T any](c *profiles.DomainConfig) (*T, error) {
	var doc T
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("%s %s of domain %s: %w", c.Kind, c.Name, c.DomainName, err)
	}
	return &doc, nil
}

// changeRecommender applies fn to a recommender's doc in one transaction;
// fn's error aborts.
func (s *Service) changeRecommender(ctx context.Context, domain, name string, fn func(*recommenderDoc) error) (*profiles.DomainConfig, error) {
	c, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigRecommender, name, fn)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, s.configErr(ctx, err, domain, "Recommender", name)
	}
	return c, err
}

// changeDoc applies fn to the JSON document (a T) of a config in one
// transaction; fn's error aborts, and is returned as is.
func changeDoc[T any](ctx context.Context, configs profiles.ConfigStore, domain, kind, name string, fn func(*T) error) (*profiles.DomainConfig, error) {
	return configs.UpdateConfig(ctx, domain, kind, name, func(c *profiles.DomainConfig) error {
		doc, err := decodeDoc[T](c)
		if err != nil {
			return err
		}
		if err := fn(doc); err != nil {
			return err
		}
		c.Data, err = json.Marshal(doc)
		return err
	})
}

// UpdateRecommender changes a recommender's description, trains a new
// version with a new configuration (the active one serves meanwhile), or
// makes a kept version the active one.
func (s *Service) UpdateRecommender(ctx context.Context, domain, name string, ch profiles.RecommenderChange) (*profiles.Recommender, error) {
	cur, err := s.GetRecommender(ctx, domain, name, 0)
	if err != nil {
		return nil, err
	}
	if ch.Config != nil {
		if err := s.checkRecommenderConfig(ctx, domain, cur.SchemaName, ch.Config, "RecommenderConfig"); err != nil {
			return nil, err
		}
	}
	now := s.now()
	c, err := s.changeRecommender(ctx, domain, name, func(doc *recommenderDoc) error {
		if ch.VersionName != nil {
			if doc.LatestUpdate != nil && (doc.LatestUpdate.Status == "PENDING" || doc.LatestUpdate.Status == "IN_PROGRESS") {
				return profiles.Errorf(profiles.EINVALID, "Recommender %s is training a new configuration: change its version once that is done.", name)
			}
			i := slices.IndexFunc(doc.Versions, func(v versionDoc) bool { return v.Name == *ch.VersionName })
			if i < 0 {
				return profiles.Errorf(profiles.EINVALID, "RecommenderVersionName: recommender %s has no version %s (it keeps its %d newest).", name, *ch.VersionName, maxRecommenderVersions)
			}
			doc.ActiveVersion = *ch.VersionName
			doc.Config = doc.Versions[i].Config // the configuration that made it
			doc.TrainedAt = now                 // it stands TrainingFrequency days
			doc.Generation++
			// The latest update is this one: the version, active at once.
			doc.LatestUpdate = &profiles.RecommenderUpdate{Config: doc.Config, Status: "ACTIVE", VersionName: *ch.VersionName,
				CreatedAt: now, LastUpdatedAt: now}
		}
		set(&doc.Description, ch.Description)
		if ch.Config != nil {
			if doc.Schema != cur.SchemaName {
				return errChangedMeanwhile
			}
			doc.Generation++
			if doc.ActiveVersion == "" {
				// Never trained: train the new configuration (again, if
				// a training of the old one runs).
				doc.Config, doc.Status, doc.FailureReason = ch.Config, "PENDING", ""
				return nil
			}
			doc.LatestUpdate = &profiles.RecommenderUpdate{Config: ch.Config, Status: "PENDING", CreatedAt: now, LastUpdatedAt: now}
		}
		return nil
	})
	if errors.Is(err, errChangedMeanwhile) {
		return nil, profiles.Errorf(profiles.ETHROTTLED, "Recommender %s changed under this update; retry.", name)
	} else if err != nil {
		return nil, err
	}
	return s.recommenderFromConfig(c, 0)
}

// StartRecommender makes a stopped recommender serve again, or one that
// failed train again.
func (s *Service) StartRecommender(ctx context.Context, domain, name string) error {
	_, err := s.changeRecommender(ctx, domain, name, func(doc *recommenderDoc) error {
		switch {
		case doc.Status == "INACTIVE" && doc.ActiveVersion != "":
			doc.Status = "ACTIVE"
		case doc.Status == "INACTIVE" || doc.Status == "FAILED":
			doc.Status, doc.FailureReason = "PENDING", ""
		default:
			return profiles.Errorf(profiles.EINVALID, "Recommender %s is %s: only a stopped (INACTIVE) or FAILED recommender can be started.", name, doc.Status)
		}
		return nil
	})
	return err
}

// StopRecommender stops an ACTIVE recommender.
func (s *Service) StopRecommender(ctx context.Context, domain, name string) error {
	_, err := s.changeRecommender(ctx, domain, name, func(doc *recommenderDoc) error {
		if doc.Status != "ACTIVE" {
			return profiles.Errorf(profiles.EINVALID, "Recommender %s is %s: only an ACTIVE recommender can be stopped.", name, doc.Status)
		}
		doc.Status = "INACTIVE"
		return nil
	})
	return err
}

// DeleteRecommender deletes a recommender and its trained versions.
func (s *Service) DeleteRecommender(ctx context.Context, domain, name string) error {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigRecommender, name)
	if err != nil {
		return s.configErr(ctx, err, domain, "Recommender", name)
	}
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigRecommender, name); err != nil {
		return s.configErr(ctx, err, domain, "Recommender", name)
	}
	// The versions go after the recommender (a failure leaves them until
	// the domain goes); one a training stores meanwhile is deleted by that
	// training (rectrain.go).
	if doc, err := decodeRecommender(c); err == nil {
		for _, v := range doc.Versions {
			s.deleteModel(ctx, domain, v.Name)
		}
	}
	s.deleteModels(ctx, domain, name)
	return nil
}

// deleteModels deletes every stored version of a recommender (those of
// trainings that ended after it was read, too).
func (s *Service) deleteModels(ctx context.Context, domain, name string) {
	s.eachModel(ctx, domain, name, func(c *profiles.DomainConfig) { s.deleteModel(ctx, domain, c.Name) })
}

// eachModel calls fn with each stored version of a recommender, a few at a
// time (they are large).
func (s *Service) eachModel(ctx context.Context, domain, name string, fn func(*profiles.DomainConfig)) {
	after := name + "/"
	for {
		list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigRecommenderModel, after, 4)
		if err != nil {
			if profiles.ErrorCode(err) != profiles.ENOTFOUND {
				s.Logger.Error("recommender: list versions", "domain", domain, "recommender", name, "err", err)
			}
			return
		}
		for _, c := range list {
			if !strings.HasPrefix(c.Name, name+"/") {
				return
			}
			fn(c)
		}
		if len(list) < 4 {
			return
		}
		after = list[len(list)-1].Name
	}
}

func (s *Service) deleteModel(ctx context.Context, domain, version string) {
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigRecommenderModel, version); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Error("recommender: delete a version", "domain", domain, "version", version, "err", err)
	}
}

// ListRecommenders returns one page of a domain's recommenders, by name.
func (s *Service) ListRecommenders(ctx context.Context, domain string, page profiles.Page) ([]*profiles.Recommender, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigRecommender, "ListRecommenders", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.Recommender, len(list))
	for i, c := range list {
		if out[i], err = s.recommenderFromConfig(c, 0); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// CreateRecommenderSchema checks a schema and stores it.
func (s *Service) CreateRecommenderSchema(ctx context.Context, sc *profiles.RecommenderSchema) (*profiles.RecommenderSchema, error) {
	if len(sc.Fields) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "Fields must name %s or %s columns.", profiles.RecommenderEventsType, profiles.RecommenderItemsType)
	}
	for typ, list := range sc.Fields {
		if _, ok := mandatoryColumns[typ]; !ok {
			return nil, profiles.Errorf(profiles.EINVALID, "Fields: dataset type %q must be %s or %s.", typ, profiles.RecommenderEventsType, profiles.RecommenderItemsType)
		}
		seen := map[string]bool{}
		for i, f := range list {
			at := fmt.Sprintf("Fields.%s[%d]", typ, i)
			if !columnRE.MatchString(f.TargetFieldName) {
				return nil, profiles.Errorf(profiles.EINVALID, "%s.TargetFieldName %q must be names of letters, digits or '_' joined by '.'.", at, f.TargetFieldName)
			}
			if seen[strings.ToLower(f.TargetFieldName)] {
				return nil, profiles.Errorf(profiles.EINVALID, "%s.TargetFieldName: column %q is listed twice.", at, f.TargetFieldName)
			}
			seen[strings.ToLower(f.TargetFieldName)] = true
			if f.ContentType != "" && f.ContentType != "STRING" && f.ContentType != "NUMBER" {
				return nil, profiles.Errorf(profiles.EINVALID, "%s.ContentType must be STRING or NUMBER.", at)
			}
			if f.FeatureType != "" && f.FeatureType != "TEXTUAL" && f.FeatureType != "CATEGORICAL" {
				return nil, profiles.Errorf(profiles.EINVALID, "%s.FeatureType must be TEXTUAL or CATEGORICAL.", at)
			}
		}
	}
	data, err := json.Marshal(schemaDoc{Fields: sc.Fields, Tags: sc.Tags})
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: sc.DomainName, Kind: profiles.ConfigRecommenderSchema, Name: sc.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxRecommenderSchemasPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, sc.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Recommender schema %s already exists in domain %s.", sc.Name, sc.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d recommender schemas, the most it may have.", sc.DomainName, profiles.MaxRecommenderSchemasPerDomain)
	default:
		return nil, err
	}
	return s.schemaFromConfig(c)
}

// GetRecommenderSchema returns a schema.
func (s *Service) GetRecommenderSchema(ctx context.Context, domain, name string) (*profiles.RecommenderSchema, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigRecommenderSchema, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Recommender schema", name)
	}
	return s.schemaFromConfig(c)
}

func (s *Service) schemaFromConfig(c *profiles.DomainConfig) (*profiles.RecommenderSchema, error) {
	var doc schemaDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("recommender schema %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.RecommenderSchema{DomainName: c.DomainName, Name: c.Name, Arn: s.DomainARN(c.DomainName) + "/recommender-schemas/" + c.Name,
		Fields: doc.Fields, Status: "ACTIVE", CreatedAt: c.CreatedAt, Tags: doc.Tags}, nil
}

// DeleteRecommenderSchema deletes a schema no recommender or filter uses.
// A recommender or filter created meanwhile with it may keep naming it:
// it then has the default schema's columns (rectrain.go).
func (s *Service) DeleteRecommenderSchema(ctx context.Context, domain, name string) error {
	if _, err := s.GetRecommenderSchema(ctx, domain, name); err != nil {
		return err
	}
	recs, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigRecommender, "", 0)
	if err != nil {
		return domainErr(err, domain)
	}
	for _, c := range recs {
		if doc, err := decodeRecommender(c); err == nil && doc.Schema == name {
			return profiles.Errorf(profiles.EINVALID, "Recommender schema %s is used by recommender %s: delete that first.", name, c.Name)
		}
	}
	filters, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigRecommenderFilter, "", 0)
	if err != nil {
		return domainErr(err, domain)
	}
	for _, c := range filters {
		var doc filterDoc
		if json.Unmarshal(c.Data, &doc) == nil && doc.Schema == name {
			return profiles.Errorf(profiles.EINVALID, "Recommender schema %s is used by recommender filter %s: delete that first.", name, c.Name)
		}
	}
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigRecommenderSchema, name), domain, "Recommender schema", name)
}

// ListRecommenderSchemas returns one page of a domain's schemas, by name.
func (s *Service) ListRecommenderSchemas(ctx context.Context, domain string, page profiles.Page) ([]*profiles.RecommenderSchema, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigRecommenderSchema, "ListRecommenderSchemas", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.RecommenderSchema, len(list))
	for i, c := range list {
		if out[i], err = s.schemaFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// CreateRecommenderFilter parses a filter expression, checks its Items
// columns against the schema (the default one has every column) and stores
// it.
func (s *Service) CreateRecommenderFilter(ctx context.Context, f *profiles.RecommenderFilter) (*profiles.RecommenderFilter, error) {
	if !filterNameRE.MatchString(f.Name) {
		return nil, profiles.Errorf(profiles.EINVALID, "RecommenderFilterName %q must be 1 to 63 letters, digits, '_' or '-'.", f.Name)
	}
	parsed, err := recommend.ParseFilter(f.Expression)
	if err != nil {
		return nil, profiles.Errorf(profiles.EINVALID, "RecommenderFilterExpression: %s", err.Error())
	}
	if f.SchemaName != "" {
		sc, err := s.GetRecommenderSchema(ctx, f.DomainName, f.SchemaName)
		if err != nil {
			return nil, err
		}
		for _, col := range parsed.ItemColumns() {
			if !hasColumn(sc.Fields[profiles.RecommenderItemsType], col) && !strings.EqualFold(col, "Id") {
				return nil, profiles.Errorf(profiles.EINVALID, "RecommenderFilterExpression: Items.%s is not a %s column of recommender schema %s.", col, profiles.RecommenderItemsType, f.SchemaName)
			}
		}
	}
	data, err := json.Marshal(filterDoc{Expression: f.Expression, Schema: f.SchemaName, Description: f.Description, Tags: f.Tags})
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: f.DomainName, Kind: profiles.ConfigRecommenderFilter, Name: f.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxRecommenderFiltersPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, f.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Recommender filter %s already exists in domain %s.", f.Name, f.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d recommender filters, the most it may have.", f.DomainName, profiles.MaxRecommenderFiltersPerDomain)
	default:
		return nil, err
	}
	return s.filterFromConfig(c)
}

// GetRecommenderFilter returns a filter.
func (s *Service) GetRecommenderFilter(ctx context.Context, domain, name string) (*profiles.RecommenderFilter, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigRecommenderFilter, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Recommender filter", name)
	}
	return s.filterFromConfig(c)
}

func (s *Service) filterFromConfig(c *profiles.DomainConfig) (*profiles.RecommenderFilter, error) {
	var doc filterDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("recommender filter %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.RecommenderFilter{DomainName: c.DomainName, Name: c.Name, Arn: s.DomainARN(c.DomainName) + "/recommender-filters/" + c.Name,
		Expression: doc.Expression, SchemaName: doc.Schema, Description: doc.Description, Status: "ACTIVE",
		CreatedAt: c.CreatedAt, Tags: doc.Tags}, nil
}

// DeleteRecommenderFilter deletes a filter.
func (s *Service) DeleteRecommenderFilter(ctx context.Context, domain, name string) error {
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigRecommenderFilter, name), domain, "Recommender filter", name)
}

// ListRecommenderFilters returns one page of a domain's filters, by name.
func (s *Service) ListRecommenderFilters(ctx context.Context, domain string, page profiles.Page) ([]*profiles.RecommenderFilter, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigRecommenderFilter, "ListRecommenderFilters", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.RecommenderFilter, len(list))
	for i, c := range list {
		if out[i], err = s.filterFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}
