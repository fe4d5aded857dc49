package service_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// benchRecommenders returns a service whose domain "enc" holds events of
// profiles × perProfile (items in 10 clusters of shoppers), a trained
// recommended-for-you recommender "r", and a profile id.
func benchRecommenders(b *testing.B, profilesN, perProfile int) (*service.Service, string) {
	b.Helper()
	s, _ := MustOpenEncrypted(b, service.DefaultCryptConfig)
	s.Configs = s.Store.(profiles.ConfigStore)
	ctx := b.Context()
	if _, err := s.PutObjectType(ctx, &profiles.ObjectType{DomainName: "enc", Name: profiles.RecommenderEventsType, Description: "events",
		AllowProfileCreation: true,
		Fields:               map[string]profiles.ObjectTypeField{"id": {Source: "_source.EventId"}, "email": {Source: "_source.Email", Target: "_profile.EmailAddress"}},
		Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}},
			"_email": {{StandardIdentifiers: []string{"PROFILE"}, FieldNames: []string{"email"}}}}}); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	var batch []string
	n := 0
	for p := range profilesN {
		for e := range perProfile {
			item := (p%10)*100 + r.IntN(100)
			if r.IntN(10) == 0 {
				item = r.IntN(1000)
			}
			n++
			batch = append(batch, fmt.Sprintf(`{"EventId":"e%d","Email":"p%d@example.com","EventType":"purchase","EventTimestamp":%d,"Item":{"Id":"i%d","Name":"Item %d","Category":"c%d","Price":"%d.00"}}`,
				n, p, now.Add(-time.Duration(perProfile-e)*time.Hour).Unix(), item, item, item/100, 1+item%50))
		}
		if len(batch) >= 10 || p == profilesN-1 {
			for len(batch) > 0 {
				k := min(10, len(batch))
				if _, errs, err := s.PutProfileObjects(ctx, "enc", profiles.RecommenderEventsType, batch[:k]); err != nil {
					b.Fatal(err)
				} else {
					for _, err := range errs {
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				batch = batch[k:]
			}
		}
	}
	found, _, err := s.SearchProfiles(ctx, "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"p7@example.com"}}}, profiles.Page{})
	if err != nil || len(found) != 1 {
		b.Fatalf("search: %v, %v", found, err)
	}
	if _, err := s.CreateRecommender(ctx, &profiles.Recommender{DomainName: "enc", Name: "r", RecipeName: "recommended-for-you"}); err != nil {
		b.Fatal(err)
	}
	return s, found[0].Profile.ID
}

// BenchmarkRecommenderTraining: one training (read and open every event,
// measure, train, seal and store the version) of 2,000 profiles' 10
// events each.
func BenchmarkRecommenderTraining(b *testing.B) {
	s, _ := benchRecommenders(b, 2000, 10)
	ctx := b.Context()
	for b.Loop() {
		if _, err := s.UpdateRecommender(ctx, "enc", "r", profiles.RecommenderChange{Config: &profiles.RecommenderConfig{}}); err != nil {
			b.Fatal(err)
		}
		if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 1 {
			b.Fatalf("trained %d, %v", n, err)
		}
	}
	b.ReportMetric(20000, "events/op")
}

// BenchmarkGetProfileRecommendations: one request of a profile with 10
// events, from the version kept parsed.
func BenchmarkGetProfileRecommendations(b *testing.B) {
	s, id := benchRecommenders(b, 2000, 10)
	ctx := b.Context()
	if n, err := s.RunRecommenderTraining(ctx); err != nil || n != 1 {
		b.Fatalf("trained %d, %v", n, err)
	}
	req := &profiles.RecommendationsRequest{DomainName: "enc", ProfileID: id, RecommenderName: "r", MaxResults: 25}
	for b.Loop() {
		recs, err := s.GetProfileRecommendations(ctx, req)
		if err != nil || len(recs) != 25 {
			b.Fatalf("%d recommendations, %v", len(recs), err)
		}
	}
}
