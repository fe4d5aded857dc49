package main_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// webAnalyticsType is the object type of interaction events: each one
// finds (or makes) its profile by the email it carries.
func webAnalyticsType() *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName:       aws.String("_webAnalytics"),
		Description:          aws.String("web events"),
		AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"eventId": field("_source.EventId", "", "STRING"),
			"email":   field("_source.Email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"eventId": key([]string{"eventId"}, types.StandardIdentifierUnique),
			"_email":  key([]string{"email"}, types.StandardIdentifierProfile),
		},
	}
}

// shopItem is an item of the test catalog.
type shopItem struct{ id, name, category, price string }

var (
	shoes  = shopItem{"shoes-1", "Running shoes", "shoes", "59.00"}
	socks  = shopItem{"socks-1", "Wool socks", "socks", "9.50"}
	laces  = shopItem{"laces-1", "Spare laces", "shoes", "3.00"}
	hat    = shopItem{"hat-1", "Sun hat", "hats", "19.00"}
	jacket = shopItem{"jacket-1", "Rain jacket", "coats", "120.00"}
)

// putEvent ingests one interaction event.
func (e *ingestEnv) putEvent(n int, email, eventType string, it shopItem, at time.Time) {
	e.t.Helper()
	obj := fmt.Sprintf(`{"EventId":"ev-%d","Email":%q,"EventType":%q,"EventTimestamp":%q,"Item":{"Id":%q,"Name":%q,"Category":%q,"Price":%q,"Color":"blue"}}`,
		n, email, eventType, at.UTC().Format(time.RFC3339), it.id, it.name, it.category, it.price)
	if _, err := e.client.PutProfileObject(e.t.Context(), &customerprofiles.PutProfileObjectInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("_webAnalytics"), Object: aws.String(obj)}); err != nil {
		e.t.Fatalf("PutProfileObject %s: %v", obj, err)
	}
}

// rawRecommender is GetRecommender's answer read over the wire, with the
// members the Go SDK does not have yet.
type recommenderWire struct {
	Status                       string
	ActiveRecommenderVersionName string
	TrainingMetrics              []struct {
		RecommenderVersionName string
		Metrics                map[string]float64
	}
	LatestRecommenderUpdate struct{ Status, RecommenderVersionName string }
}

func rawRecommender(t *testing.T, e *ingestEnv, name string, metrics int) recommenderWire {
	t.Helper()
	r := mustDo(t, mustSignedRequest(t, e.m, "GET", fmt.Sprintf("/domains/%s/recommenders/%s?training-metrics-count=%d", e.domain, name, metrics), nil, signOpts{}))
	var out recommenderWire
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != 200 {
		t.Fatalf("GetRecommender %s: %d %s", name, r.Status, r.Body)
	}
	return out
}

func recommendedIDs(recs []types.Recommendation) []string {
	var out []string
	for _, r := range recs {
		out = append(out, aws.ToString(r.CatalogItem.Id))
	}
	return out
}

// TestRecommenders drives the recommender operations through the SDK:
// schemas, filters, recommenders of three recipes trained from ingested
// _webAnalytics events, their recommendations with filters, promotions and
// diversity, stopping and starting, a new configuration trained beside the
// active version and a roll back.
func TestRecommenders(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	e := newIngestEnvClock(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)

	recipes, err := e.client.ListRecommenderRecipes(ctx, &customerprofiles.ListRecommenderRecipesInput{})
	if err != nil || len(recipes.RecommenderRecipes) != 6 || recipes.NextToken != nil {
		t.Fatalf("ListRecommenderRecipes: %+v, %v", recipes, err)
	}
	for _, r := range recipes.RecommenderRecipes {
		if r.Name == "" || aws.ToString(r.Description) == "" {
			t.Errorf("recipe %+v: want a name and a description", r)
		}
	}

	// A recommender on a domain without events fails its training.
	if _, err := e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn,
		RecommenderName: aws.String("early"), RecommenderRecipeName: types.RecommenderRecipeNamePopularItems}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.Service.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining: %d, %v; want 1", n, err)
	}
	early, err := e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("early")})
	if err != nil || early.Status != types.RecommenderStatusFailed || !regexp.MustCompile(`_webAnalytics`).MatchString(aws.ToString(early.FailureReason)) {
		t.Fatalf("GetRecommender early: %+v, %v; want FAILED naming _webAnalytics", early, err)
	}
	if _, err := e.client.DeleteRecommender(ctx, &customerprofiles.DeleteRecommenderInput{DomainName: dn, RecommenderName: aws.String("early")}); err != nil {
		t.Fatal(err)
	}

	// Events: six profiles buy shoes with socks; two buy hats; the
	// jacket is viewed, last week, by many; Ann only looked at shoes.
	e.putType(webAnalyticsType())
	n := 0
	ev := func(email, typ string, it shopItem, at time.Time) {
		n++
		e.putEvent(n, email, typ, it, at)
	}
	base := clock.Now().Add(-20 * 24 * time.Hour)
	for i := range 6 {
		who := fmt.Sprintf("buyer%d@example.com", i)
		ev(who, "purchase", shoes, base.Add(time.Duration(i)*time.Hour))
		ev(who, "purchase", socks, base.Add(time.Duration(i)*time.Hour+10*time.Minute))
	}
	ev("buyer0@example.com", "purchase", laces, base.Add(20*time.Minute))
	ev("hats1@example.com", "purchase", hat, base)
	ev("hats2@example.com", "purchase", hat, base)
	for i := range 4 {
		ev(fmt.Sprintf("jacket%d@example.com", i), "view", jacket, clock.Now().Add(-time.Duration(i+1)*time.Hour))
	}
	ev("ann@example.com", "view", shoes, clock.Now().Add(-time.Hour))
	search, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
	if err != nil || len(search.Items) != 1 {
		t.Fatalf("SearchProfiles ann: %+v, %v", search, err)
	}
	ann := search.Items[0].ProfileId

	// A schema: the item columns recommenders and filters may use.
	schema, err := e.client.CreateRecommenderSchema(ctx, &customerprofiles.CreateRecommenderSchemaInput{DomainName: dn,
		RecommenderSchemaName: aws.String("shop"), Fields: map[string][]types.RecommenderSchemaField{
			"_catalogItem": {{TargetFieldName: aws.String("Name")}, {TargetFieldName: aws.String("Category"), FeatureType: types.FeatureTypeCategorical},
				{TargetFieldName: aws.String("Price"), ContentType: types.ContentTypeNumber}},
			"_webAnalytics": {{TargetFieldName: aws.String("Item.Id")}, {TargetFieldName: aws.String("EventType")}}},
		Tags: map[string]string{"team": "shop"}})
	if err != nil || schema.Status != types.RecommenderSchemaStatusActive || !regexp.MustCompile(`/recommender-schemas/shop$`).MatchString(aws.ToString(schema.RecommenderSchemaArn)) {
		t.Fatalf("CreateRecommenderSchema: %+v, %v", schema, err)
	}
	_, err = e.client.CreateRecommenderSchema(ctx, &customerprofiles.CreateRecommenderSchemaInput{DomainName: dn,
		RecommenderSchemaName: aws.String("bad"), Fields: map[string][]types.RecommenderSchemaField{"_orders": {{TargetFieldName: aws.String("Id")}}}})
	wantAPIError(t, err, "BadRequestException", "_orders")
	_, err = e.client.CreateRecommenderSchema(ctx, &customerprofiles.CreateRecommenderSchemaInput{DomainName: dn,
		RecommenderSchemaName: aws.String("shop"), Fields: map[string][]types.RecommenderSchemaField{"_catalogItem": {{TargetFieldName: aws.String("Name")}}}})
	wantAPIError(t, err, "BadRequestException", "already exists")

	// Recommenders: bad configurations are refused, naming the rule.
	_, err = e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String("x"),
		RecommenderRecipeName: types.RecommenderRecipeNameRecommendedForYou, RecommenderSchemaName: aws.String("shop"),
		RecommenderConfig: &types.RecommenderConfig{ExcludedColumns: map[string][]string{"_catalogItem": {"Id"}}}})
	wantAPIError(t, err, "BadRequestException", "cannot be excluded")
	_, err = e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String("x"),
		RecommenderRecipeName: types.RecommenderRecipeNameRecommendedForYou, RecommenderSchemaName: aws.String("shop"),
		RecommenderConfig: &types.RecommenderConfig{IncludedColumns: map[string][]string{"_catalogItem": {"Colour"}}}})
	wantAPIError(t, err, "BadRequestException", "Colour", "shop")
	_, err = e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String("x"),
		RecommenderRecipeName: types.RecommenderRecipeNameRecommendedForYou, RecommenderSchemaName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")

	// foryou is made over the wire: the Go SDK of the model's revision
	// before has no DiversityConfig yet.
	r := mustDo(t, mustSignedRequest(t, e.m, "POST", "/domains/ingest/recommenders/foryou", []byte(`{"RecommenderRecipeName":"recommended-for-you",
		"RecommenderSchemaName":"shop","Description":"for the agents","Tags":{"team":"shop"},
		"RecommenderConfig":{"TrainingFrequency":7,"EventsConfig":{"EventParametersList":[{"EventType":"purchase","EventWeight":1},{"EventType":"view","EventWeight":0.5}]},
			"DiversityConfig":{"DiversityColumns":[{"Name":"Category","CapType":"VALUE","Target":"$per_category"}]}}}`), signOpts{}))
	var created struct {
		RecommenderArn string
		Tags           map[string]string
	}
	if err := json.Unmarshal(r.Body, &created); err != nil || r.Status != 200 ||
		!regexp.MustCompile(`^arn:aws:profile:.*:domains/ingest/recommenders/foryou$`).MatchString(created.RecommenderArn) || created.Tags["team"] != "shop" {
		t.Fatalf("CreateRecommender: %d %s", r.Status, r.Body)
	}
	for _, r := range []struct {
		name   string
		recipe types.RecommenderRecipeName
	}{{"popular", types.RecommenderRecipeNamePopularItems}, {"trending", types.RecommenderRecipeNameTrendingNow},
		{"similar", types.RecommenderRecipeNameSimilarItems}, {"paired", types.RecommenderRecipeNameFrequentlyPairedItems},
		{"ranking", types.RecommenderRecipeNamePersonalizedRanking}} {
		if _, err := e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn,
			RecommenderName: aws.String(r.name), RecommenderRecipeName: r.recipe}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou")})
	if err != nil || got.Status != types.RecommenderStatusPending || len(got.TrainingMetrics) != 0 || aws.ToString(got.RecommenderSchemaName) != "shop" ||
		aws.ToInt32(got.RecommenderConfig.TrainingFrequency) != 7 || len(got.RecommenderConfig.EventsConfig.EventParametersList) != 2 {
		t.Fatalf("GetRecommender before training: %+v, %v", got, err)
	}
	_, err = e.client.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: dn, ProfileId: ann, RecommenderName: aws.String("foryou")})
	wantAPIError(t, err, "BadRequestException", "not trained yet")

	// Trainings: several nodes' loops at once train each recommender once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	trained := 0
	for range 4 {
		wg.Go(func() {
			n, err := e.m.Service.RunRecommenderTraining(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			trained += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if trained != 6 {
		t.Fatalf("trained %d recommenders, want 6", trained)
	}
	got, err = e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou")})
	if err != nil || got.Status != types.RecommenderStatusActive || len(got.TrainingMetrics) != 1 {
		t.Fatalf("GetRecommender after training: %+v, %v", got, err)
	}
	// The version names are members the Go SDK does not have yet.
	raw := rawRecommender(t, e, "foryou", 1)
	if raw.ActiveRecommenderVersionName != raw.TrainingMetrics[0].RecommenderVersionName ||
		!regexp.MustCompile(`^foryou/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$`).MatchString(raw.ActiveRecommenderVersionName) {
		t.Fatalf("GetRecommender after training: %+v", raw)
	}
	if m := got.TrainingMetrics[0].Metrics; len(m) != 0 {
		t.Errorf("metrics %v: want none, from 6 profiles with two items (10 are needed)", m)
	}
	firstVersion := raw.ActiveRecommenderVersionName

	recommend := func(in customerprofiles.GetProfileRecommendationsInput) []types.Recommendation {
		t.Helper()
		in.DomainName, in.ProfileId = dn, ann
		out, err := e.client.GetProfileRecommendations(ctx, &in)
		if err != nil {
			t.Fatalf("GetProfileRecommendations %s: %v", aws.ToString(in.RecommenderName), err)
		}
		return out.Recommendations
	}
	// Ann viewed shoes: the socks (bought with shoes) first, then the
	// laces; never the shoes she saw.
	recs := recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("foryou"),
		MetadataConfig: &types.MetadataConfig{MetadataColumns: []string{"Price"}}})
	if ids := recommendedIDs(recs); len(ids) < 2 || ids[0] != "socks-1" || ids[1] != "laces-1" || slices.Contains(ids, "shoes-1") {
		t.Fatalf("recommended-for-you: %v; want socks-1, laces-1 first, no shoes-1", ids)
	}
	top := recs[0]
	if it := top.CatalogItem; aws.ToString(it.Name) != "Wool socks" || aws.ToString(it.Category) != "socks" || aws.ToString(it.Price) != "9.50" ||
		it.Attributes["Price"] != "9.50" || it.Attributes["Color"] != "" || it.CreatedAt == nil || aws.ToFloat64(top.Score) <= 0 || aws.ToFloat64(top.Score) > 1 {
		t.Fatalf("top recommendation: %+v (%+v)", top, it)
	}
	for i := 1; i < len(recs); i++ {
		if aws.ToFloat64(recs[i].Score) > aws.ToFloat64(recs[i-1].Score) {
			t.Fatalf("scores not in order: %v", recs)
		}
	}
	// Diversity: at most one item of a category.
	r = mustDo(t, mustSignedRequest(t, e.m, "POST", "/domains/ingest/profiles/"+aws.ToString(ann)+"/recommendations",
		[]byte(`{"RecommenderName":"foryou","DiversityConfig":{"Enabled":true,"Values":{"per_category":1}}}`), signOpts{}))
	var diverse struct {
		Recommendations []struct{ CatalogItem struct{ Id, Category string } }
	}
	if err := json.Unmarshal(r.Body, &diverse); err != nil || r.Status != 200 || len(diverse.Recommendations) < 3 {
		t.Fatalf("GetProfileRecommendations with diversity: %d %s", r.Status, r.Body)
	}
	cats := map[string]int{}
	for _, rc := range diverse.Recommendations {
		if cats[rc.CatalogItem.Category]++; cats[rc.CatalogItem.Category] > 1 {
			t.Fatalf("diversity: two items of %s in %s", rc.CatalogItem.Category, r.Body)
		}
	}
	r = mustDo(t, mustSignedRequest(t, e.m, "POST", "/domains/ingest/profiles/"+aws.ToString(ann)+"/recommendations",
		[]byte(`{"RecommenderName":"foryou","DiversityConfig":{"Enabled":true}}`), signOpts{}))
	checkError(t, r, 400, "BadRequestException", "$per_category")

	// Filters.
	_, err = e.client.CreateRecommenderFilter(ctx, &customerprofiles.CreateRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String("bad"),
		RecommenderFilterExpression: aws.String(`INCLUDE ItemID WHEN Items.Price < 10`)})
	wantAPIError(t, err, "BadRequestException", "position", "WHERE")
	_, err = e.client.CreateRecommenderFilter(ctx, &customerprofiles.CreateRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String("bad"),
		RecommenderFilterExpression: aws.String(`INCLUDE ItemID WHERE Items.Colour IN ("blue")`), RecommenderSchemaName: aws.String("shop")})
	wantAPIError(t, err, "BadRequestException", "Items.Colour", "shop")
	// A name the model's pattern does not cover whole: it could not be
	// given to GetProfileRecommendations.
	for _, name := range []string{"under ten", "a/b", "price<10"} {
		_, err = e.client.CreateRecommenderFilter(ctx, &customerprofiles.CreateRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String(name),
			RecommenderFilterExpression: aws.String(`INCLUDE ItemID WHERE Items.Price < 10`)})
		wantAPIError(t, err, "BadRequestException", "RecommenderFilterName", name)
	}
	filter, err := e.client.CreateRecommenderFilter(ctx, &customerprofiles.CreateRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String("cheap"),
		RecommenderFilterExpression: aws.String(`INCLUDE ItemID WHERE Items.Price < $MAX`), RecommenderSchemaName: aws.String("shop"), Description: aws.String("under a price")})
	if err != nil || !regexp.MustCompile(`/recommender-filters/cheap$`).MatchString(aws.ToString(filter.RecommenderFilterArn)) {
		t.Fatalf("CreateRecommenderFilter: %+v, %v", filter, err)
	}
	if _, err := e.client.CreateRecommenderFilter(ctx, &customerprofiles.CreateRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String("hats"),
		RecommenderFilterExpression: aws.String(`INCLUDE ItemID WHERE Items.Category IN ("hats")`)}); err != nil {
		t.Fatal(err)
	}
	gf, err := e.client.GetRecommenderFilter(ctx, &customerprofiles.GetRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String("cheap")})
	if err != nil || aws.ToString(gf.RecommenderFilterExpression) != `INCLUDE ItemID WHERE Items.Price < $MAX` || gf.Status != types.RecommenderFilterStatusActive ||
		aws.ToString(gf.RecommenderSchemaName) != "shop" || aws.ToString(gf.Description) != "under a price" {
		t.Fatalf("GetRecommenderFilter: %+v, %v", gf, err)
	}
	recs = recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("popular"),
		RecommenderFilters: []types.RecommenderFilter{{Name: aws.String("cheap"), Values: map[string]string{"MAX": "10"}}}})
	if ids := recommendedIDs(recs); !slices.Equal(ids, []string{"socks-1", "laces-1"}) {
		t.Fatalf("popular under 10: %v; want socks-1, laces-1", ids)
	}
	_, err = e.client.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: dn, ProfileId: ann,
		RecommenderName: aws.String("popular"), RecommenderFilters: []types.RecommenderFilter{{Name: aws.String("cheap")}}})
	wantAPIError(t, err, "BadRequestException", "$MAX")
	// A promotion: half of the places for hats.
	recs = recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("popular"), MaxResults: aws.Int32(2),
		RecommenderPromotionalFilters: []types.RecommenderPromotionalFilter{{Name: aws.String("hats"), PromotionName: aws.String("summer"), PercentPromotedItems: aws.Int32(50)}}})
	if ids := recommendedIDs(recs); len(ids) != 2 || !slices.Contains(ids, "hat-1") || !slices.Contains(ids, "shoes-1") {
		t.Fatalf("popular with a hats promotion: %v; want hat-1 and the most popular, shoes-1", ids)
	}

	// The other recipes.
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("popular"), MaxResults: aws.Int32(3)})); !slices.Equal(ids, []string{"shoes-1", "socks-1", "jacket-1"}) {
		t.Errorf("popular-items: %v; want shoes-1, socks-1, jacket-1", ids)
	}
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("trending")})); !slices.Equal(ids, []string{"jacket-1", "shoes-1"}) {
		t.Errorf("trending-now: %v; want jacket-1 (4 views this week), shoes-1 (Ann's)", ids)
	}
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("similar"), MaxResults: aws.Int32(1),
		Context: map[string]string{"ItemId": "socks-1"}})); !slices.Equal(ids, []string{"shoes-1"}) {
		t.Errorf("similar-items to socks-1: %v; want shoes-1", ids)
	}
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("paired"), MaxResults: aws.Int32(2)})); !slices.Equal(ids, []string{"socks-1", "laces-1"}) {
		t.Errorf("frequently-paired-items with Ann's shoes: %v; want socks-1, laces-1", ids)
	}
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("ranking"),
		CandidateIds: []string{"hat-1", "jacket-1", "socks-1", "unknown"}})); !slices.Equal(ids, []string{"socks-1", "jacket-1", "hat-1", "unknown"}) {
		t.Errorf("personalized-ranking: %v; want socks-1 (bought with shoes), then by popularity", ids)
	}
	_, err = e.client.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: dn, ProfileId: ann, RecommenderName: aws.String("ranking")})
	wantAPIError(t, err, "BadRequestException", "CandidateIds")
	_, err = e.client.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: dn, ProfileId: aws.String("0123456789abcdef0123456789abcdef"), RecommenderName: aws.String("popular")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Stop and start.
	if _, err := e.client.StopRecommender(ctx, &customerprofiles.StopRecommenderInput{DomainName: dn, RecommenderName: aws.String("popular")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: dn, ProfileId: ann, RecommenderName: aws.String("popular")})
	wantAPIError(t, err, "BadRequestException", "INACTIVE")
	_, err = e.client.StopRecommender(ctx, &customerprofiles.StopRecommenderInput{DomainName: dn, RecommenderName: aws.String("popular")})
	wantAPIError(t, err, "BadRequestException", "INACTIVE")
	if _, err := e.client.StartRecommender(ctx, &customerprofiles.StartRecommenderInput{DomainName: dn, RecommenderName: aws.String("popular")}); err != nil {
		t.Fatal(err)
	}
	recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("popular")})

	// A new configuration trains beside the active version, which serves
	// meanwhile; then a roll back to the first.
	clock.add(time.Minute)
	if _, err := e.client.UpdateRecommender(ctx, &customerprofiles.UpdateRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou"),
		Description: aws.String("purchases only"), RecommenderConfig: &types.RecommenderConfig{EventsConfig: &types.EventsConfig{
			EventParametersList: []types.EventParameters{{EventType: aws.String("purchase")}}}}}); err != nil {
		t.Fatal(err)
	}
	got, err = e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou")})
	if err != nil || got.Status != types.RecommenderStatusActive || got.LatestRecommenderUpdate == nil || got.LatestRecommenderUpdate.Status != types.RecommenderStatusPending ||
		aws.ToString(got.Description) != "purchases only" || len(got.RecommenderConfig.EventsConfig.EventParametersList) != 2 {
		t.Fatalf("GetRecommender after UpdateRecommender: %+v, %v", got, err)
	}
	recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("foryou")})
	if n, err := e.m.Service.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining after the update: %d, %v; want 1", n, err)
	}
	got, err = e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou"), TrainingMetricsCount: aws.Int32(5)})
	if err != nil || got.LatestRecommenderUpdate.Status != types.RecommenderStatusActive || len(got.TrainingMetrics) != 2 ||
		len(got.RecommenderConfig.EventsConfig.EventParametersList) != 1 {
		t.Fatalf("GetRecommender after the update's training: %+v, %v", got, err)
	}
	raw = rawRecommender(t, e, "foryou", 5)
	if raw.ActiveRecommenderVersionName == firstVersion || raw.LatestRecommenderUpdate.RecommenderVersionName != raw.ActiveRecommenderVersionName ||
		len(raw.TrainingMetrics) != 2 || raw.TrainingMetrics[1].RecommenderVersionName != firstVersion {
		t.Fatalf("GetRecommender after the update's training: %+v", raw)
	}
	// Purchases only: Ann's view does not count, she is new to it.
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("foryou"), MaxResults: aws.Int32(2)})); !slices.Equal(ids, []string{"shoes-1", "socks-1"}) {
		t.Errorf("recommended-for-you on purchases only: %v; want the popular shoes-1, socks-1", ids)
	}
	if r := mustDo(t, mustSignedRequest(t, e.m, "PATCH", "/domains/ingest/recommenders/foryou", []byte(`{"RecommenderVersionName":"`+firstVersion+`"}`), signOpts{})); r.Status != 200 {
		t.Fatalf("UpdateRecommender to %s: %d %s", firstVersion, r.Status, r.Body)
	}
	if ids := recommendedIDs(recommend(customerprofiles.GetProfileRecommendationsInput{RecommenderName: aws.String("foryou"), MaxResults: aws.Int32(1)})); !slices.Equal(ids, []string{"socks-1"}) {
		t.Errorf("recommended-for-you rolled back: %v; want socks-1", ids)
	}
	// The roll back is the latest update: its version, active, with the
	// configuration that trained it.
	raw = rawRecommender(t, e, "foryou", 0)
	if raw.ActiveRecommenderVersionName != firstVersion || raw.LatestRecommenderUpdate.RecommenderVersionName != firstVersion ||
		raw.LatestRecommenderUpdate.Status != "ACTIVE" {
		t.Fatalf("GetRecommender after the roll back: %+v; want %s active and its latest update", raw, firstVersion)
	}
	got, err = e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou")})
	if err != nil || got.LatestRecommenderUpdate == nil || got.LatestRecommenderUpdate.RecommenderConfig == nil ||
		len(got.LatestRecommenderUpdate.RecommenderConfig.EventsConfig.EventParametersList) != 2 || len(got.RecommenderConfig.EventsConfig.EventParametersList) != 2 {
		t.Fatalf("GetRecommender after the roll back: %+v, %v; want the first configuration (two event types) in it and its latest update", got, err)
	}
	r = mustDo(t, mustSignedRequest(t, e.m, "PATCH", "/domains/ingest/recommenders/foryou", []byte(`{"RecommenderVersionName":"foryou/2020-01-01T00-00-00Z"}`), signOpts{}))
	checkError(t, r, 400, "BadRequestException", "no version")
	// TrainingFrequency: due again 7 days after the last training.
	if n, _ := e.m.Service.RunRecommenderTraining(ctx); n != 0 {
		t.Fatalf("RunRecommenderTraining: %d trained, want none due", n)
	}

	// Lists.
	list, err := e.client.ListRecommenders(ctx, &customerprofiles.ListRecommendersInput{DomainName: dn, MaxResults: aws.Int32(4)})
	if err != nil || len(list.Recommenders) != 4 || list.NextToken == nil || aws.ToString(list.Recommenders[0].RecommenderName) != "foryou" {
		t.Fatalf("ListRecommenders: %+v, %v", list, err)
	}
	list, err = e.client.ListRecommenders(ctx, &customerprofiles.ListRecommendersInput{DomainName: dn, NextToken: list.NextToken})
	if err != nil || len(list.Recommenders) != 2 || list.NextToken != nil {
		t.Fatalf("ListRecommenders page 2: %+v, %v", list, err)
	}
	schemas, err := e.client.ListRecommenderSchemas(ctx, &customerprofiles.ListRecommenderSchemasInput{DomainName: dn})
	if err != nil || len(schemas.RecommenderSchemas) != 1 || len(schemas.RecommenderSchemas[0].Fields["_catalogItem"]) != 3 {
		t.Fatalf("ListRecommenderSchemas: %+v, %v", schemas, err)
	}
	filters, err := e.client.ListRecommenderFilters(ctx, &customerprofiles.ListRecommenderFiltersInput{DomainName: dn})
	if err != nil || len(filters.RecommenderFilters) != 2 || aws.ToString(filters.RecommenderFilters[0].RecommenderFilterName) != "cheap" {
		t.Fatalf("ListRecommenderFilters: %+v, %v", filters, err)
	}

	// Deletions: a schema in use stays.
	_, err = e.client.DeleteRecommenderSchema(ctx, &customerprofiles.DeleteRecommenderSchemaInput{DomainName: dn, RecommenderSchemaName: aws.String("shop")})
	wantAPIError(t, err, "BadRequestException", "foryou")
	if _, err := e.client.DeleteRecommender(ctx, &customerprofiles.DeleteRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetRecommender(ctx, &customerprofiles.GetRecommenderInput{DomainName: dn, RecommenderName: aws.String("foryou")})
	wantAPIError(t, err, "ResourceNotFoundException", "foryou")
	if _, err := e.m.Service.Configs.FindConfig(ctx, e.domain, "recommender-model", firstVersion); err == nil {
		t.Errorf("version %s of the deleted recommender is still stored", firstVersion)
	}
	_, err = e.client.DeleteRecommenderSchema(ctx, &customerprofiles.DeleteRecommenderSchemaInput{DomainName: dn, RecommenderSchemaName: aws.String("shop")})
	wantAPIError(t, err, "BadRequestException", "cheap")
	del, err := e.client.DeleteRecommenderFilter(ctx, &customerprofiles.DeleteRecommenderFilterInput{DomainName: dn, RecommenderFilterName: aws.String("cheap")})
	if err != nil || aws.ToString(del.Message) == "" {
		t.Fatalf("DeleteRecommenderFilter: %+v, %v", del, err)
	}
	if _, err := e.client.DeleteRecommenderSchema(ctx, &customerprofiles.DeleteRecommenderSchemaInput{DomainName: dn, RecommenderSchemaName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetRecommenderSchema(ctx, &customerprofiles.GetRecommenderSchemaInput{DomainName: dn, RecommenderSchemaName: aws.String("shop")})
	wantAPIError(t, err, "ResourceNotFoundException", "shop")
}

// TestRecommenders_TrainingFrequency: a recommender is trained again every
// TrainingFrequency days; without one, every 7 days (as AWS retrains); with
// 0, never after its first training.
func TestRecommenders_TrainingFrequency(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	e := newIngestEnvClock(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)
	e.putType(webAnalyticsType())
	e.putEvent(1, "ann@example.com", "purchase", shoes, clock.Now().Add(-time.Hour))
	e.putEvent(2, "bob@example.com", "purchase", socks, clock.Now().Add(-time.Hour))

	for name, cfg := range map[string]*types.RecommenderConfig{"weekly": nil,
		"never": {TrainingFrequency: aws.Int32(0)}, "daily": {TrainingFrequency: aws.Int32(1)}} {
		if _, err := e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String(name),
			RecommenderRecipeName: types.RecommenderRecipeNamePopularItems, RecommenderConfig: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	versions := func() map[string]int {
		t.Helper()
		out := map[string]int{}
		for _, name := range []string{"weekly", "never", "daily"} {
			r := rawRecommender(t, e, name, 5)
			if r.Status != "ACTIVE" {
				t.Fatalf("recommender %s: %+v; want ACTIVE", name, r)
			}
			out[name] = len(r.TrainingMetrics)
		}
		return out
	}
	for _, step := range []struct {
		after   time.Duration
		trained int
		want    map[string]int // versions of each
	}{
		{0, 3, map[string]int{"weekly": 1, "never": 1, "daily": 1}},
		{24 * time.Hour, 1, map[string]int{"weekly": 1, "never": 1, "daily": 2}},
		{6*24*time.Hour - time.Minute, 1, map[string]int{"weekly": 1, "never": 1, "daily": 3}},
		{time.Minute, 1, map[string]int{"weekly": 2, "never": 1, "daily": 3}},
		{7 * 24 * time.Hour, 2, map[string]int{"weekly": 3, "never": 1, "daily": 4}},
	} {
		clock.add(step.after)
		if n, err := e.m.Service.RunRecommenderTraining(ctx); err != nil || n != step.trained {
			t.Fatalf("%s: RunRecommenderTraining: %d, %v; want %d trained", clock.Now(), n, err, step.trained)
		}
		if got := versions(); !maps.Equal(got, step.want) {
			t.Fatalf("%s: versions %v, want %v", clock.Now(), got, step.want)
		}
	}
}

// TestWorkspace_Recommendations: a profile's page in the agent workspace
// lists what the domain's active recommenders recommend to it (Chromium),
// to agents allowed profile:GetProfileRecommendations.
func TestWorkspace_Recommendations(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	dn := aws.String(e.domain)
	e.putType(webAnalyticsType())
	at := time.Now().Add(-time.Hour)
	for i := range 3 {
		who := fmt.Sprintf("buyer%d@example.com", i)
		e.putEvent(2*i, who, "purchase", shoes, at)
		e.putEvent(2*i+1, who, "purchase", socks, at.Add(time.Minute))
	}
	e.putEvent(10, "ann@example.com", "view", shoes, at)
	search, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
	if err != nil || len(search.Items) != 1 {
		t.Fatalf("SearchProfiles ann: %+v, %v", search, err)
	}
	ann := aws.ToString(search.Items[0].ProfileId)
	for name, recipe := range map[string]types.RecommenderRecipeName{"for-you": types.RecommenderRecipeNameRecommendedForYou,
		"ranking": types.RecommenderRecipeNamePersonalizedRanking, "stopped": types.RecommenderRecipeNamePopularItems} {
		if _, err := e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: dn, RecommenderName: aws.String(name), RecommenderRecipeName: recipe}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := e.m.Service.RunRecommenderTraining(ctx); err != nil || n != 3 {
		t.Fatalf("RunRecommenderTraining: %d, %v", n, err)
	}
	if _, err := e.client.StopRecommender(ctx, &customerprofiles.StopRecommenderInput{DomainName: dn, RecommenderName: aws.String("stopped")}); err != nil {
		t.Fatal(err)
	}

	id, secret := mustAgent(t, e.m, "seller", `{"Effect":"Allow","Action":["profile:SearchProfiles","profile:ListProfileObjects","profile:GetProfileRecommendations","profile:ListRecommenders"],"Resource":"*"}`, agentDecrypt)
	b := mustBrowser(t, e.m)
	b.signIn(id, secret)
	if st := b.open("/console/domains/ingest/profiles/" + ann); st != http.StatusOK {
		t.Fatalf("profile page: %d", st)
	}
	b.mustContain(`ol[data-recommender="for-you"] li[data-item="socks-1"]`, "Wool socks", "socks", "9.50", "score")
	if n := b.count("ol.recommendations"); n != 1 {
		t.Errorf("%d recommenders listed, want 1 (not the ranking one, nor the stopped one)", n)
	}
	if n := b.count(`li[data-item="shoes-1"]`); n != 0 {
		t.Errorf("shoes-1, which Ann saw, is recommended")
	}
	b.shot("workspace-recommendations")

	for _, c := range []struct{ name, actions string }{
		{"reader", `"profile:SearchProfiles","profile:ListProfileObjects","profile:ListRecommenders"`},
		{"nolist", `"profile:SearchProfiles","profile:ListProfileObjects","profile:GetProfileRecommendations"`},
	} {
		id, secret = mustAgent(t, e.m, c.name, `{"Effect":"Allow","Action":[`+c.actions+`],"Resource":"*"}`, agentDecrypt)
		b = mustBrowser(t, e.m)
		b.signIn(id, secret)
		b.open("/console/domains/ingest/profiles/" + ann)
		if n := b.count("#recommended"); n != 0 {
			t.Errorf("recommendations shown to %s, allowed only %s", c.name, c.actions)
		}
	}
}
