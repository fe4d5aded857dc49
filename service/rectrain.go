package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/recommend"
)

// Trainings of recommenders. A recommender is due when it was never
// trained (PENDING), has a new configuration to train (its LatestUpdate
// PENDING), or is ACTIVE with a TrainingFrequency of days (7 when not
// given, none when 0) that have passed since its last training. A node
// claims a due recommender with a lease
// (LeaseUntil, extended every recommenderHeartbeat while it trains), reads
// every profile's interaction events (objects of the domain's
// _webAnalytics object type), measures the recipe (recommend.Evaluate),
// trains it (recommend.Train), keeps the model sealed under the domain's
// key as a version, and makes it the active one. A node that dies leaves a
// lease that runs out: another node trains the recommender again.
const (
	recommenderLease      = 10 * time.Minute
	recommenderHeartbeat  = time.Minute
	maxEventsPerProfile   = 1000      // a profile's newest events that count
	maxItemAttributes     = 50        // attributes kept of an item
	maxItemAttributeChars = 1000      // of each value (the longest a CatalogItem member holds)
	maxTrainingEvents     = 2_000_000 // a training reads at most these (profiles in id order)
)

// StartRecommenderTraining looks for due recommenders every interval and
// trains them, in the background; Close stops it.
func (s *Service) StartRecommenderTraining(interval time.Duration) {
	s.runEvery(interval, "recommender training", s.RunRecommenderTraining)
}

// RunRecommenderTraining trains the recommenders that are due, one after
// the other, and returns how many it trained (successfully or not).
func (s *Service) RunRecommenderTraining(ctx context.Context) (int, error) {
	return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		return s.eachDue(ctx, d.Name, profiles.ConfigRecommender, func(c *profiles.DomainConfig) bool {
			doc, err := decodeRecommender(c)
			return err == nil && trainingDue(doc, s.now())
		}, s.train)
	})
}

// eachDue calls run with each of a domain's configs of kind that due
// says are due, one after the other, and returns how many it ran. A run's
// error is logged: the others go on.
func (s *Service) eachDue(ctx context.Context, domain, kind string, due func(*profiles.DomainConfig) bool, run func(ctx context.Context, domain, name string) (bool, error)) (int, error) {
	list, err := s.Configs.ListConfigs(ctx, domain, kind, "", 0)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return 0, nil // the domain went meanwhile
	} else if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		if !due(c) {
			continue
		}
		ran, err := run(ctx, domain, c.Name)
		if err != nil && ctx.Err() == nil {
			s.Logger.Error(kind, "domain", domain, "name", c.Name, "err", err)
		}
		if ran {
			n++
		}
	}
	return n, nil
}

// trainingDue reports whether a recommender should be trained at now. A
// stopped one is not (its update trains once it is started).
func trainingDue(doc *recommenderDoc, now time.Time) bool {
	if doc.LeaseUntil.After(now) || doc.Status == "INACTIVE" {
		return false
	}
	switch {
	case doc.Status == "PENDING" || doc.Status == "IN_PROGRESS":
		return true
	case doc.LatestUpdate != nil && (doc.LatestUpdate.Status == "PENDING" || doc.LatestUpdate.Status == "IN_PROGRESS"):
		return true
	case doc.Status == "ACTIVE":
		if days := trainingFrequency(doc.Config); days > 0 {
			return !now.Before(doc.TrainedAt.AddDate(0, 0, days))
		}
	}
	return false
}

// defaultTrainingFrequency is the days between trainings of a
// configuration without a TrainingFrequency: AWS retrains weekly unless
// told 0.
const defaultTrainingFrequency = 7

// trainingFrequency returns the days between a configuration's trainings
// (0: trained only when created or updated).
func trainingFrequency(cfg *profiles.RecommenderConfig) int {
	if cfg == nil || cfg.TrainingFrequency == nil {
		return defaultTrainingFrequency
	}
	return *cfg.TrainingFrequency
}

// errNotDue: another node claimed the recommender, or it changed.
var errNotDue = errors.New("not due")

// train claims a recommender and trains it. It returns false when another
// node had it or it was no longer due. The training records its version
// only if it still holds the lease and nothing changed the recommender's
// configuration or active version meanwhile (Generation): a change made
// during a training trains next, or (a roll back) stands.
func (s *Service) train(ctx context.Context, domain, name string) (bool, error) {
	now := s.now()
	lease := now.Add(recommenderLease)
	var doc recommenderDoc
	var update *profiles.RecommenderUpdate // the update trained, nil for the recommender's own config
	_, err := s.changeRecommender(ctx, domain, name, func(d *recommenderDoc) error {
		if !trainingDue(d, now) {
			return errNotDue
		}
		d.LeaseUntil = lease
		switch {
		case d.Status == "PENDING" || d.Status == "IN_PROGRESS":
			d.Status = "IN_PROGRESS"
		case d.LatestUpdate != nil && (d.LatestUpdate.Status == "PENDING" || d.LatestUpdate.Status == "IN_PROGRESS"):
			d.LatestUpdate.Status, d.LatestUpdate.LastUpdatedAt = "IN_PROGRESS", now
			u := *d.LatestUpdate
			update = &u
		}
		doc = *d
		return nil
	})
	if errors.Is(err, errNotDue) || profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}

	var mu sync.Mutex // guards lease: the heartbeat extends it
	ours := func(d *recommenderDoc) bool { return d.LeaseUntil.Equal(lease) }
	stopHeartbeat := sync.OnceFunc(every(recommenderHeartbeat, func() {
		mu.Lock()
		defer mu.Unlock()
		next := s.now().Add(recommenderLease)
		if _, err := s.changeRecommender(context.WithoutCancel(ctx), domain, name, func(d *recommenderDoc) error {
			if !ours(d) {
				return errNotDue
			}
			d.LeaseUntil = next
			return nil
		}); err == nil {
			lease = next
		}
	}))
	defer stopHeartbeat()

	cfg := doc.Config
	if update != nil {
		cfg = update.Config
	}
	version, metrics, trainErr := s.trainVersion(ctx, domain, name, &doc, cfg)
	stopHeartbeat()
	stopped := ctx.Err() != nil
	ended := s.now()
	recorded := false
	_, err = s.changeRecommender(context.WithoutCancel(ctx), domain, name, func(d *recommenderDoc) error {
		recorded = false
		if !ours(d) {
			return errNotDue // another node took it over: its training counts
		}
		d.LeaseUntil = time.Time{}
		switch {
		case d.Generation != doc.Generation:
			return nil // changed meanwhile: the change trains next, or stands
		case stopped:
			return nil // the server stops: the next loop (of any node) trains it again
		case trainErr != nil:
			reason := profiles.ErrorMessage(trainErr)
			switch {
			case update != nil:
				d.LatestUpdate.Status, d.LatestUpdate.FailureReason, d.LatestUpdate.LastUpdatedAt = "FAILED", reason, ended
			case d.Status == "IN_PROGRESS":
				d.Status, d.FailureReason = "FAILED", reason
			default: // a scheduled training: the active version serves on
				d.TrainedAt = ended
			}
			return nil
		}
		recorded = true
		d.Versions = slices.Insert(d.Versions, 0, versionDoc{Name: version, Time: ended, Metrics: metrics, Config: cfg})
		d.ActiveVersion, d.TrainedAt = version, ended
		if update != nil {
			d.Config = cfg
			d.LatestUpdate.Status, d.LatestUpdate.VersionName, d.LatestUpdate.LastUpdatedAt = "ACTIVE", version, ended
		}
		if d.Status == "IN_PROGRESS" {
			d.Status, d.FailureReason = "ACTIVE", ""
		}
		return nil
	})
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil && recorded:
		s.pruneVersions(bg, domain, name)
	case version != "" && (err == nil || errors.Is(err, errNotDue) || profiles.ErrorCode(err) == profiles.ENOTFOUND):
		// Not recorded: nobody reads it. (After another error, the
		// version may be recorded: pruneVersions deletes it later if not.)
		s.deleteModel(bg, domain, version)
	}
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		s.deleteModels(bg, domain, name) // deleted meanwhile
	}
	if errors.Is(err, errNotDue) || profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return true, nil
	}
	if trainErr != nil && !stopped {
		s.Logger.Warn("recommender training failed", "domain", domain, "recommender", name, "err", trainErr)
	}
	return true, err
}

// pruneVersions deletes the versions a recommender no longer keeps: those
// past the newest maxRecommenderVersions (never the active one), and
// stored ones it does not list (of trainings that ended without
// recording theirs) older than a lease.
func (s *Service) pruneVersions(ctx context.Context, domain, name string) {
	var dropped []string
	var listed map[string]bool
	_, err := s.changeRecommender(ctx, domain, name, func(d *recommenderDoc) error {
		dropped, listed = dropped[:0], map[string]bool{}
		keep := d.Versions[:0]
		for i, v := range d.Versions {
			if i < maxRecommenderVersions || v.Name == d.ActiveVersion {
				keep = append(keep, v)
				listed[v.Name] = true
			} else {
				dropped = append(dropped, v.Name)
			}
		}
		d.Versions = keep
		return nil
	})
	if err != nil {
		return
	}
	for _, v := range dropped {
		s.deleteModel(ctx, domain, v)
	}
	old := s.now().Add(-recommenderLease)
	s.eachModel(ctx, domain, name, func(c *profiles.DomainConfig) {
		if !listed[c.Name] && c.CreatedAt.Before(old) {
			s.deleteModel(ctx, domain, c.Name)
		}
	})
}

// trainVersion reads the domain's events, measures and trains the recipe
// with cfg, and stores the model as a new version.
func (s *Service) trainVersion(ctx context.Context, domain, name string, doc *recommenderDoc, cfg *profiles.RecommenderConfig) (string, map[string]float64, error) {
	keep, err := s.itemColumns(ctx, domain, doc.Schema, cfg)
	if err != nil {
		return "", nil, err
	}
	events, catalog, err := s.allEvents(ctx, domain, keep)
	if err != nil {
		return "", nil, err
	}
	if len(events) == 0 {
		return "", nil, profiles.Errorf(profiles.EINVALID, "Domain %s has no interaction events: ingest them as objects of the %s object type (with EventType, EventTimestamp and Item.Id).", domain, profiles.RecommenderEventsType)
	}
	p := recommend.Params{Recipe: doc.Recipe, Events: eventParams(cfg), Now: s.now()}
	metrics := recommend.Evaluate(events, p)
	m := recommend.Train(events, catalog, p)
	if m.EventCount == 0 {
		return "", nil, profiles.Errorf(profiles.EINVALID, "None of the domain's %d interaction events is of an event type of EventsConfig (or meets its EventValueThreshold).", len(events))
	}
	data, err := json.Marshal(m)
	if err != nil {
		return "", nil, fmt.Errorf("recommender %s: encode the model: %w", name, err)
	}
	for at := s.now().UTC().Truncate(time.Second); ; at = at.Add(time.Second) {
		version := name + "/" + at.Format("2006-01-02T15-04-05Z")
		sealed, err := s.crypt.Seal(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordModel, ID: version}, data)
		if err != nil {
			return "", nil, err
		}
		err = s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigRecommenderModel, Name: version, Data: sealed}, 0)
		if profiles.ErrorCode(err) == profiles.ECONFLICT {
			continue // a version of the same second: the next second's name
		}
		return version, metrics, err
	}
}

// eventParams returns a configuration's event parameters.
func eventParams(cfg *profiles.RecommenderConfig) []recommend.EventParams {
	if cfg == nil || cfg.EventsConfig == nil {
		return nil
	}
	out := make([]recommend.EventParams, len(cfg.EventsConfig.EventParametersList))
	for i, p := range cfg.EventsConfig.EventParametersList {
		out[i] = recommend.EventParams{Type: p.EventType, Threshold: p.EventValueThreshold, Weight: p.EventWeight}
	}
	return out
}

// itemColumns returns which item attributes a training keeps: the
// schema's _catalogItem columns (every one for the default schema), as
// IncludedColumns and ExcludedColumns narrow them. The names it gives are
// the schema's spelling; nil keeps all, as the events spell them.
func (s *Service) itemColumns(ctx context.Context, domain, schema string, cfg *profiles.RecommenderConfig) (func(string) (string, bool), error) {
	var cols []string // nil: every column
	if schema != "" {
		sc, err := s.GetRecommenderSchema(ctx, domain, schema)
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return nil, err
		}
		if sc != nil { // a schema deleted meanwhile: the default one
			cols = []string{}
			for _, f := range sc.Fields[profiles.RecommenderItemsType] {
				cols = append(cols, f.TargetFieldName)
			}
		}
	}
	var excluded []string
	if cfg != nil {
		if in, ok := cfg.IncludedColumns[profiles.RecommenderItemsType]; ok {
			cols = in
		}
		excluded = cfg.ExcludedColumns[profiles.RecommenderItemsType]
	}
	fold := func(list []string, name string) (string, bool) {
		for _, c := range list {
			if strings.EqualFold(c, name) {
				return c, true
			}
		}
		return "", false
	}
	return func(name string) (string, bool) {
		if _, ex := fold(excluded, name); ex {
			return "", false
		}
		if cols == nil {
			return name, true
		}
		return fold(cols, name)
	}, nil
}

// allEvents reads the interaction events of every profile of a domain
// (each one's newest maxEventsPerProfile) and the catalog they make: each
// item with the attributes keep keeps, as its latest event gives them.
func (s *Service) allEvents(ctx context.Context, domain string, keep func(string) (string, bool)) ([]recommend.Event, map[string]*recommend.Item, error) {
	var events []recommend.Event
	catalog := map[string]*recommend.Item{}
	after := ""
	for {
		var ids []string
		err := s.Store.View(ctx, func(tx profiles.Tx) error {
			if _, err := tx.FindObjectType(ctx, domain, profiles.RecommenderEventsType); profiles.ErrorCode(err) == profiles.ENOTFOUND {
				return profiles.Errorf(profiles.EINVALID, "Domain %s has no %s object type: create it, and ingest interaction events as its objects (with EventType, EventTimestamp and Item.Id).", domain, profiles.RecommenderEventsType)
			} else if err != nil {
				return err
			}
			var err error
			if ids, err = tx.ListProfileIDs(ctx, domain, after, 500); err != nil {
				return err
			}
			for _, id := range ids {
				if events, err = profileEvents(ctx, tx, domain, id, events, catalog, keep); err != nil {
					return err
				}
				if len(events) >= maxTrainingEvents {
					ids = nil // read enough: the loop below stops
					break
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, domainErr(err, domain)
		}
		if len(ids) < 500 || len(events) >= maxTrainingEvents {
			return events, catalog, nil
		}
		after = ids[len(ids)-1]
	}
}

// profileEvents appends a profile's events to events; with catalog set,
// it records their items there.
func profileEvents(ctx context.Context, tx profiles.Tx, domain, profileID string, events []recommend.Event, catalog map[string]*recommend.Item, keep func(string) (string, bool)) ([]recommend.Event, error) {
	objs, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: domain, ObjectType: profiles.RecommenderEventsType, ProfileID: profileID, Limit: maxEventsPerProfile})
	if err != nil {
		return events, err
	}
	for _, o := range objs {
		e, item, ok := parseEvent(o)
		if !ok {
			continue
		}
		events = append(events, e)
		if catalog != nil {
			addToCatalog(catalog, e, item, keep)
		}
	}
	return events, nil
}

// parseEvent reads an interaction event: EventType, Item.Id (a string or
// a number), EventTimestamp (RFC 3339, or seconds or milliseconds since
// 1970; the object's update time without one) and EventValue (a number,
// or a string of one). It returns the Item object too.
func parseEvent(o *profiles.ProfileObject) (recommend.Event, map[string]any, bool) {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(o.Data))
	d.UseNumber()
	if d.Decode(&obj) != nil {
		return recommend.Event{}, nil, false
	}
	item, _ := obj["Item"].(map[string]any)
	e := recommend.Event{ProfileID: o.ProfileID, At: o.UpdatedAt}
	e.Type, _ = obj["EventType"].(string)
	e.ItemID = scalar(item["Id"])
	if e.Type == "" || e.ItemID == "" {
		return e, nil, false
	}
	switch t := obj["EventTimestamp"].(type) {
	case string:
		if at, err := time.Parse(time.RFC3339Nano, t); err == nil {
			e.At = at
		}
	case json.Number:
		if n, err := t.Float64(); err == nil && n > 0 {
			if n < 1e11 {
				n *= 1000 // seconds
			}
			e.At = time.UnixMilli(int64(n))
		}
	}
	e.At = e.At.UTC()
	if v := scalar(obj["EventValue"]); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			e.Value, e.HasValue = f, true
		}
	}
	return e, item, true
}

// scalar returns a JSON string, number or boolean as text ("" otherwise).
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// addToCatalog records an event's item: its first and last event times,
// and the attributes of its latest event that keep keeps (nested objects'
// fields as Parent.Field).
func addToCatalog(catalog map[string]*recommend.Item, e recommend.Event, item map[string]any, keep func(string) (string, bool)) {
	it := catalog[e.ItemID]
	if it == nil {
		it = &recommend.Item{ID: e.ItemID, FirstSeen: e.At, LastSeen: e.At}
		catalog[e.ItemID] = it
	} else if e.At.Before(it.FirstSeen) {
		it.FirstSeen = e.At
	}
	if e.At.Before(it.LastSeen) {
		return // an older event: the newer one's attributes stand
	}
	it.LastSeen = e.At
	attrs := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(m)) { // which 50 are kept: the same at every run
			v := m[k]
			name := prefix + k
			if sub, ok := v.(map[string]any); ok {
				walk(name+".", sub)
				continue
			}
			val := scalar(v)
			if val == "" || strings.EqualFold(name, "Id") || len(attrs) >= maxItemAttributes {
				continue
			}
			if col, ok := keep(name); ok {
				val = cutChars(val, maxItemAttributeChars)
				attrs[col] = val
			}
		}
	}
	walk("", item)
	if len(attrs) > 0 {
		it.Attributes = attrs
	}
}

// errModelGone: a version was deleted after its recommender was read (a
// newer one replaced it).
var errModelGone = errors.New("recommender version deleted")

// model returns a recommender's version, opened and parsed once per node
// (concurrent requests for it wait for the one reading it).
func (s *Service) model(ctx context.Context, domain, version string) (*recommend.Model, error) {
	return s.models.load(domain+"\x00"+version, func() (*recommend.Model, int, error) {
		c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigRecommenderModel, version)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, 0, errModelGone
		} else if err != nil {
			return nil, 0, fmt.Errorf("recommender version %s of domain %s: %w", version, domain, err)
		}
		data, err := s.crypt.Open(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordModel, ID: version}, c.Data)
		if err != nil {
			return nil, 0, fmt.Errorf("recommender version %s of domain %s: %w", version, domain, err)
		}
		var m recommend.Model
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, 0, fmt.Errorf("recommender version %s of domain %s: %w", version, domain, err)
		}
		return &m, 3 * len(data), nil // parsed maps take about thrice their JSON
	})
}

// GetProfileRecommendations returns a profile's recommendations from the
// active version of an ACTIVE recommender.
func (s *Service) GetProfileRecommendations(ctx context.Context, r *profiles.RecommendationsRequest) ([]profiles.Recommendation, error) {
	rec, m, err := s.activeModel(ctx, r.DomainName, r.RecommenderName)
	if err != nil {
		return nil, err
	}
	switch {
	case rec.Status == "INACTIVE":
		return nil, profiles.Errorf(profiles.EINVALID, "Recommender %s is stopped (INACTIVE): start it with StartRecommender.", rec.Name)
	case rec.Status == "FAILED":
		return nil, profiles.Errorf(profiles.EINVALID, "Recommender %s failed to train: %s", rec.Name, rec.FailureReason)
	case rec.Status != "ACTIVE" || rec.ActiveVersion == "":
		return nil, profiles.Errorf(profiles.EINVALID, "Recommender %s is not trained yet (%s): ask again when it is ACTIVE.", rec.Name, rec.Status)
	}
	req := recommend.Request{Candidates: r.CandidateIDs, Max: r.MaxResults}
	if req.Max == 0 {
		req.Max = 10
	}
	if rec.RecipeName == recommend.PersonalizedRanking && len(r.CandidateIDs) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "CandidateIds are required by recommender %s (recipe %s).", rec.Name, rec.RecipeName)
	}
	for k, v := range r.Context {
		if strings.EqualFold(k, "ItemId") {
			req.ItemID = v
		}
	}
	if f := r.Filter; f != nil {
		if req.Filter, err = s.boundFilter(ctx, r.DomainName, f.Name, f.Values, "RecommenderFilters[0]"); err != nil {
			return nil, err
		}
	}
	if p := r.Promotion; p != nil {
		if p.Percent == 0 {
			return nil, profiles.Errorf(profiles.EINVALID, "RecommenderPromotionalFilters[0].PercentPromotedItems is required.")
		}
		if req.Promotion, err = s.boundFilter(ctx, r.DomainName, p.Name, p.Values, "RecommenderPromotionalFilters[0]"); err != nil {
			return nil, err
		}
		req.PromotePercent = p.Percent
	}
	if req.Caps, err = diversityCaps(rec, r.Diversity, req.Max); err != nil {
		return nil, err
	}
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		if _, err := s.findProfile(ctx, tx, r.DomainName, r.ProfileID); err != nil {
			return err
		}
		req.History, err = profileEvents(ctx, tx, r.DomainName, r.ProfileID, nil, nil, nil)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil // no _webAnalytics type (deleted since the training): no history
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	recs := m.Recommend(req)
	out := make([]profiles.Recommendation, len(recs))
	for i, rc := range recs {
		out[i] = profiles.Recommendation{Item: catalogItem(rc.Item, r.MetadataColumns), Score: rc.Score}
	}
	return out, nil
}

// activeModel reads a recommender and, when it has one, its active
// version (nil otherwise), reading both again if the version went
// meanwhile.
func (s *Service) activeModel(ctx context.Context, domain, name string) (*profiles.Recommender, *recommend.Model, error) {
	for try := 0; ; try++ {
		rec, err := s.GetRecommender(ctx, domain, name, 0)
		if err != nil || rec.ActiveVersion == "" || rec.Status != "ACTIVE" {
			return rec, nil, err
		}
		m, err := s.model(ctx, domain, rec.ActiveVersion)
		if errors.Is(err, errModelGone) && try < 2 {
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("recommender %s: %w", name, err)
		}
		return rec, m, nil
	}
}

// boundFilter reads a filter and binds its placeholders.
func (s *Service) boundFilter(ctx context.Context, domain, name string, values map[string]string, path string) (*recommend.Bound, error) {
	if name == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "%s.Name is required.", path)
	}
	f, err := s.GetRecommenderFilter(ctx, domain, name)
	if err != nil {
		return nil, err
	}
	parsed, err := recommend.ParseFilter(f.Expression)
	if err != nil {
		return nil, fmt.Errorf("recommender filter %s: %w", name, err)
	}
	b, err := parsed.Bind(values)
	if err != nil {
		return nil, profiles.Errorf(profiles.EINVALID, "%s.Values: %s", path, err.Error())
	}
	return b, nil
}

// diversityCaps returns the caps of a recommender's DiversityConfig when a
// request turns them on.
func diversityCaps(rec *profiles.Recommender, d *profiles.RecommendationDiversity, limit int) ([]recommend.Cap, error) {
	if d == nil || !d.Enabled {
		return nil, nil
	}
	if rec.Config == nil || rec.Config.DiversityConfig == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "DiversityConfig: recommender %s has no DiversityConfig to enable.", rec.Name)
	}
	var caps []recommend.Cap
	for _, c := range rec.Config.DiversityConfig.DiversityColumns {
		n, err := strconv.Atoi(c.Target)
		if name, ok := strings.CutPrefix(c.Target, "$"); ok {
			v, given := d.Values[name]
			if !given {
				return nil, profiles.Errorf(profiles.EINVALID, "DiversityConfig.Values: the value of %s (the cap of column %s) is required.", c.Target, c.Name)
			}
			n, err = v, nil
		}
		if err != nil || n < 1 {
			return nil, profiles.Errorf(profiles.EINVALID, "DiversityConfig: the cap of column %s must be a whole number of at least 1.", c.Name)
		}
		if c.CapType == "PERCENTAGE" {
			n = max(1, int(math.Ceil(float64(limit)*float64(min(n, 100))/100)))
		}
		caps = append(caps, recommend.Cap{Column: c.Name, Max: n})
	}
	return caps, nil
}

// catalogItem turns a model's item into the API's: its standard columns,
// and in Attributes the metadata columns asked for.
func catalogItem(it *recommend.Item, metadata []string) profiles.CatalogItem {
	ci := profiles.CatalogItem{ID: it.ID, CreatedAt: it.FirstSeen, UpdatedAt: it.LastSeen}
	for _, f := range []struct {
		name string
		dst  *string
		max  int // the model's length of the member
	}{{"Name", &ci.Name, 255}, {"Code", &ci.Code, 255}, {"Type", &ci.Type, 255}, {"Category", &ci.Category, 255},
		{"Description", &ci.Description, 255}, {"AdditionalInformation", &ci.AdditionalInformation, 1000},
		{"ImageLink", &ci.ImageLink, 1000}, {"Link", &ci.Link, 1000}, {"Price", &ci.Price, 255}} {
		*f.dst = cutChars(itemAttribute(it, f.name), f.max)
	}
	for _, col := range metadata {
		if v := itemAttribute(it, col); v != "" {
			if ci.Attributes == nil {
				ci.Attributes = map[string]string{}
			}
			ci.Attributes[cutChars(col, 255)] = cutChars(v, 255)
		}
	}
	return ci
}

// cutChars returns s cut to at most n characters.
func cutChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for at := range s {
		if i == n {
			return s[:at]
		}
		i++
	}
	return s
}

func itemAttribute(it *recommend.Item, name string) string {
	if v, ok := it.Attributes[name]; ok {
		return v
	}
	for k, v := range it.Attributes {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
