package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// openRecommenders returns a service (on an encrypted SQLite store) whose
// domain "enc" has events: three profiles bought a widget with a gadget,
// Ann bought the widget; and a popular-items recommender "pop".
func openRecommenders(t *testing.T) (*service.Service, *time.Time, string) {
	t.Helper()
	s, _ := MustOpenEncrypted(t, service.DefaultCryptConfig)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.Configs = s.Store.(profiles.ConfigStore)
	ctx := t.Context()
	if _, err := s.PutObjectType(ctx, &profiles.ObjectType{DomainName: "enc", Name: profiles.RecommenderEventsType, Description: "events",
		AllowProfileCreation: true,
		Fields:               map[string]profiles.ObjectTypeField{"id": {Source: "_source.EventId"}, "email": {Source: "_source.Email", Target: "_profile.EmailAddress"}},
		Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}},
			"_email": {{StandardIdentifiers: []string{"PROFILE"}, FieldNames: []string{"email"}}}}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	put := func(email, item string) string {
		n++
		id, err := s.PutProfileObject(ctx, "enc", profiles.RecommenderEventsType, fmt.Sprintf(
			`{"EventId":"e%d","Email":%q,"EventType":"purchase","EventTimestamp":%d,"Item":{"Id":%q,"Name":"Secret %s","Size":{"Width":3}}}`,
			n, email, now.Add(-time.Duration(n)*time.Minute).Unix(), item, item))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for i := range 3 {
		put(fmt.Sprintf("b%d@example.com", i), "widget")
		put(fmt.Sprintf("b%d@example.com", i), "gadget")
	}
	put("ann@example.com", "widget")
	found, _, err := s.SearchProfiles(ctx, "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"ann@example.com"}}}, profiles.Page{})
	if err != nil || len(found) != 1 {
		t.Fatalf("search ann: %v, %v", found, err)
	}
	if _, err := s.CreateRecommender(ctx, &profiles.Recommender{DomainName: "enc", Name: "pop", RecipeName: "recommended-for-you"}); err != nil {
		t.Fatal(err)
	}
	return s, &now, found[0].Profile.ID
}

// TestRecommender_VersionSealed: a trained version holds the items'
// attributes (profile data) sealed under the domain's key, and opens for
// GetProfileRecommendations.
func TestRecommender_VersionSealed(t *testing.T) {
	s, _, ann := openRecommenders(t)
	ctx := t.Context()
	if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining: %d, %v", n, err)
	}
	r, err := s.GetRecommender(ctx, "enc", "pop", 1)
	if err != nil || r.Status != "ACTIVE" {
		t.Fatalf("GetRecommender: %+v, %v", r, err)
	}
	c, err := s.Configs.FindConfig(ctx, "enc", profiles.ConfigRecommenderModel, r.ActiveVersion)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c.Data, []byte("Secret")) || json.Valid(c.Data) {
		t.Fatalf("stored version %s is not sealed: %.80q", r.ActiveVersion, c.Data)
	}
	recs, err := s.GetProfileRecommendations(ctx, &profiles.RecommendationsRequest{DomainName: "enc", ProfileID: ann, RecommenderName: "pop",
		MetadataColumns: []string{"Size.Width"}})
	if err != nil || len(recs) != 1 || recs[0].Item.ID != "gadget" || recs[0].Item.Name != "Secret gadget" || recs[0].Item.Attributes["Size.Width"] != "3" {
		t.Fatalf("GetProfileRecommendations: %+v, %v; want the gadget, its name and nested width", recs, err)
	}
}

// TestRecommender_Lease: a recommender another node is training (its lease
// runs) is left alone; once the lease has run out (the node died), the next
// loop trains it.
func TestRecommender_Lease(t *testing.T) {
	s, now, _ := openRecommenders(t)
	ctx := t.Context()
	if _, err := s.Configs.UpdateConfig(ctx, "enc", profiles.ConfigRecommender, "pop", func(c *profiles.DomainConfig) error {
		var doc map[string]any
		json.Unmarshal(c.Data, &doc)
		doc["status"], doc["leaseUntil"] = "IN_PROGRESS", now.Add(10*time.Minute)
		c.Data, _ = json.Marshal(doc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 0 {
		t.Fatalf("RunRecommenderTraining under another node's lease: %d, %v; want none", n, err)
	}
	*now = now.Add(11 * time.Minute)
	if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining after the lease: %d, %v; want 1", n, err)
	}
	if r, err := s.GetRecommender(ctx, "enc", "pop", 0); err != nil || r.Status != "ACTIVE" || r.ActiveVersion == "" {
		t.Fatalf("GetRecommender: %+v, %v", r, err)
	}
}

// TestRecommender_VersionsKept: the versions past the newest five are
// deleted; DeleteRecommender deletes the rest.
func TestRecommender_VersionsKept(t *testing.T) {
	s, now, ann := openRecommenders(t)
	ctx := t.Context()
	var first string
	for i := range 7 {
		if i > 0 {
			if _, err := s.UpdateRecommender(ctx, "enc", "pop", profiles.RecommenderChange{Config: &profiles.RecommenderConfig{}}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 1 {
			t.Fatalf("training %d: %d, %v", i, n, err)
		}
		if i == 0 {
			r, _ := s.GetRecommender(ctx, "enc", "pop", 0)
			first = r.ActiveVersion
		}
		*now = now.Add(time.Second)
	}
	r, err := s.GetRecommender(ctx, "enc", "pop", 5)
	if err != nil || len(r.TrainingMetrics) != 5 || r.TrainingMetrics[0].VersionName != r.ActiveVersion || r.ActiveVersion == first {
		t.Fatalf("GetRecommender: %+v, %v; want 5 versions, the newest active", r, err)
	}
	if _, err := s.Configs.FindConfig(ctx, "enc", profiles.ConfigRecommenderModel, first); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("the first version: %v, want it deleted", err)
	}
	models, err := s.Configs.ListConfigs(ctx, "enc", profiles.ConfigRecommenderModel, "", 0)
	if err != nil || len(models) != 5 {
		t.Fatalf("stored versions: %d, %v; want 5", len(models), err)
	}
	if _, err := s.GetProfileRecommendations(ctx, &profiles.RecommendationsRequest{DomainName: "enc", ProfileID: ann, RecommenderName: "pop"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecommender(ctx, "enc", "pop"); err != nil {
		t.Fatal(err)
	}
	if models, _ := s.Configs.ListConfigs(ctx, "enc", profiles.ConfigRecommenderModel, "", 0); len(models) != 0 {
		t.Fatalf("%d versions left after DeleteRecommender", len(models))
	}
}

// hookedConfigs runs once, after a training stores its version (and
// before it records it), what a concurrent request would do.
type hookedConfigs struct {
	profiles.ConfigStore
	meanwhile func()
}

func (h *hookedConfigs) CreateConfig(ctx context.Context, c *profiles.DomainConfig, limit int) error {
	err := h.ConfigStore.CreateConfig(ctx, c, limit)
	if f := h.meanwhile; err == nil && c.Kind == profiles.ConfigRecommenderModel && f != nil {
		h.meanwhile = nil
		f()
	}
	return err
}

func mustTrain(t *testing.T, s *service.Service, want int) {
	t.Helper()
	if n, err := s.RunRecommenderTraining(t.Context()); err != nil || n != want {
		t.Fatalf("RunRecommenderTraining: %d, %v; want %d", n, err, want)
	}
}

func mustModels(t *testing.T, s *service.Service, want int) {
	t.Helper()
	if models, err := s.Configs.ListConfigs(t.Context(), "enc", profiles.ConfigRecommenderModel, "", 0); err != nil || len(models) != want {
		t.Fatalf("%d stored versions, %v; want %d", len(models), err, want)
	}
}

// TestRecommender_ChangedDuringTraining: what changes a recommender while
// it trains wins: a second update trains next (the lease is free at once),
// a roll back stands, a new configuration of a recommender never trained
// trains next; the training's version goes.
func TestRecommender_ChangedDuringTraining(t *testing.T) {
	s, now, _ := openRecommenders(t)
	ctx := t.Context()
	hooked := &hookedConfigs{ConfigStore: s.Configs}
	s.Configs = hooked
	weight := func(w float64) *profiles.RecommenderConfig {
		return &profiles.RecommenderConfig{EventsConfig: &profiles.RecommenderEventsConfig{EventParametersList: []profiles.RecommenderEventParameters{{EventType: "purchase", EventWeight: &w}}}}
	}
	update := func(c *profiles.RecommenderConfig) {
		if _, err := s.UpdateRecommender(ctx, "enc", "pop", profiles.RecommenderChange{Config: c}); err != nil {
			t.Fatal(err)
		}
	}

	// Never trained, given a new configuration during its first training.
	hooked.meanwhile = func() { update(weight(0.5)) }
	mustTrain(t, s, 1)
	r, _ := s.GetRecommender(ctx, "enc", "pop", 5)
	if r.Status != "PENDING" || r.ActiveVersion != "" {
		t.Fatalf("after a training whose configuration changed: %+v; want PENDING, no version", r)
	}
	mustModels(t, s, 0)
	mustTrain(t, s, 1)
	r, _ = s.GetRecommender(ctx, "enc", "pop", 5)
	if r.Status != "ACTIVE" || len(r.TrainingMetrics) != 1 {
		t.Fatalf("after the next training: %+v", r)
	}
	first := r.ActiveVersion

	// An update, updated again while it trains.
	*now = now.Add(time.Second)
	update(weight(0.7))
	hooked.meanwhile = func() { update(weight(0.9)) }
	mustTrain(t, s, 1)
	mustModels(t, s, 1)
	mustTrain(t, s, 1) // the second update, at once: no lease left behind
	r, _ = s.GetRecommender(ctx, "enc", "pop", 5)
	if r.LatestUpdate.Status != "ACTIVE" || *r.Config.EventsConfig.EventParametersList[0].EventWeight != 0.9 || len(r.TrainingMetrics) != 2 {
		t.Fatalf("after the second update's training: %+v (update %+v)", r, r.LatestUpdate)
	}

	// A roll back during a scheduled training stands, and for a
	// TrainingFrequency: the version rolled back to (daily) is not due
	// again before a day.
	freq := 1
	*now = now.Add(time.Second)
	update(&profiles.RecommenderConfig{TrainingFrequency: &freq})
	mustTrain(t, s, 1)
	r, _ = s.GetRecommender(ctx, "enc", "pop", 0)
	daily := r.ActiveVersion
	*now = now.Add(25 * time.Hour)
	hooked.meanwhile = func() {
		if _, err := s.UpdateRecommender(ctx, "enc", "pop", profiles.RecommenderChange{VersionName: &daily}); err != nil {
			t.Fatal(err)
		}
	}
	mustTrain(t, s, 1)
	r, _ = s.GetRecommender(ctx, "enc", "pop", 5)
	if r.ActiveVersion != daily || r.Config.TrainingFrequency == nil || *r.Config.TrainingFrequency != 1 {
		t.Fatalf("after a roll back during a training: active %s (config %+v), want %s and its configuration", r.ActiveVersion, r.Config, daily)
	}
	mustModels(t, s, 3)
	mustTrain(t, s, 0)
	*now = now.Add(23 * time.Hour)
	mustTrain(t, s, 0)
	*now = now.Add(2 * time.Hour)
	mustTrain(t, s, 1) // a day after the roll back
	_ = first
}

// TestRecommender_Stopped: a stopped recommender's update trains only once
// it is started.
func TestRecommender_Stopped(t *testing.T) {
	s, _, _ := openRecommenders(t)
	ctx := t.Context()
	mustTrain(t, s, 1)
	if err := s.StopRecommender(ctx, "enc", "pop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecommender(ctx, "enc", "pop", profiles.RecommenderChange{Config: &profiles.RecommenderConfig{}}); err != nil {
		t.Fatal(err)
	}
	mustTrain(t, s, 0)
	if err := s.StartRecommender(ctx, "enc", "pop"); err != nil {
		t.Fatal(err)
	}
	mustTrain(t, s, 1)
	if err := s.StartRecommender(ctx, "enc", "pop"); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("StartRecommender of an ACTIVE one: %v, want EINVALID", err)
	}
	if _, _, err := s.ListRecommenderRecipes(ctx, profiles.Page{Token: "x"}); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("ListRecommenderRecipes with a token: %v, want EINVALID (one page)", err)
	}
}

// TestRecommender_StartFailed: a recommender that failed to train (no
// events of its event types) trains again once started.
func TestRecommender_StartFailed(t *testing.T) {
	s, _, _ := openRecommenders(t)
	ctx := t.Context()
	w := 1.0
	if _, err := s.CreateRecommender(ctx, &profiles.Recommender{DomainName: "enc", Name: "views", RecipeName: "popular-items",
		Config: &profiles.RecommenderConfig{EventsConfig: &profiles.RecommenderEventsConfig{EventParametersList: []profiles.RecommenderEventParameters{{EventType: "view", EventWeight: &w}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecommender(ctx, "enc", "pop"); err != nil {
		t.Fatal(err)
	}
	mustTrain(t, s, 1)
	r, _ := s.GetRecommender(ctx, "enc", "views", 0)
	if r.Status != "FAILED" || !strings.Contains(r.FailureReason, "event type") {
		t.Fatalf("%+v: want FAILED, naming the event types", r)
	}
	mustTrain(t, s, 0) // FAILED is not retried by itself
	if err := s.StartRecommender(ctx, "enc", "views"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.GetRecommender(ctx, "enc", "views", 0); r.Status != "PENDING" {
		t.Fatalf("after StartRecommender: %s, want PENDING", r.Status)
	}
	mustTrain(t, s, 1)
}

// TestRecommender_ServerStops: a training cut short by the server's stop
// leaves the recommender as it was, free for the next loop to train.
func TestRecommender_ServerStops(t *testing.T) {
	s, _, _ := openRecommenders(t)
	hooked := &hookedConfigs{ConfigStore: s.Configs}
	s.Configs = hooked
	ctx, cancel := context.WithCancel(t.Context())
	hooked.meanwhile = cancel
	if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining: %d, %v", n, err)
	}
	r, _ := s.GetRecommender(t.Context(), "enc", "pop", 0)
	if r.Status != "IN_PROGRESS" || r.FailureReason != "" {
		t.Fatalf("after a stop: %+v; want IN_PROGRESS", r)
	}
	mustModels(t, s, 0)
	mustTrain(t, s, 1)
	if r, _ := s.GetRecommender(t.Context(), "enc", "pop", 0); r.Status != "ACTIVE" {
		t.Fatalf("after the next training: %+v", r)
	}
}
