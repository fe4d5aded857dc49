package service_test

import (
	"fmt"
	"testing"

	"github.com/openprofiles/profiles"
)

// TestRuleBasedMatching_LowCardinality: a value more than 500 profiles
// share links none of them (as AWS skips such values), while a rarer one
// still links its profiles at the next level.
func TestRuleBasedMatching_LowCardinality(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	var pair []string
	for i := range 503 {
		fields := map[string]string{"LastName": "Smith", "EmailAddress": fmt.Sprintf("p%d@example.com", i)}
		if i < 2 {
			fields["PhoneNumber"] = "+1 555 010 0001"
		}
		p, err := s.CreateProfile(ctx, "bench", fields)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			pair = append(pair, p.ID)
		}
	}
	if _, err := s.UpdateDomain(ctx, "bench", &profiles.DomainUpdate{RuleBasedMatching: &profiles.RuleBasedMatchingSettings{
		Enabled: true, MatchingRules: [][]string{{"LastName"}, {"PhoneNumber"}}}}); err != nil {
		t.Fatal(err)
	}
	ids, _, err := s.ListRuleBasedMatches(ctx, "bench", profiles.Page{})
	if err != nil || len(ids) != 1 {
		t.Fatalf("ListRuleBasedMatches: %v, %v; want one group (the phone pair)", ids, err)
	}
	g, _, err := s.GetSimilarProfiles(ctx, "bench", "RULE_BASED_MATCHING", "MatchId", ids[0], profiles.Page{})
	if err != nil || g.RuleLevel != 2 || len(g.ProfileIDs) != 2 {
		t.Fatalf("the group: %+v, %v; want the two profiles of the phone at level 2", g, err)
	}
	for _, id := range pair {
		if id != g.ProfileIDs[0] && id != g.ProfileIDs[1] {
			t.Errorf("profile %s is not in the group %v", id, g.ProfileIDs)
		}
	}
}
