package service_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestRuleBasedMatching_Kept: a node keeps a domain's match groups for 30
// seconds (matchTTL); a profile added meanwhile joins its group after
// that, and new matching rules apply at once.
func TestRuleBasedMatching_Kept(t *testing.T) {
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s := serviceOn(MustOpenSQLite(t), &clock)
	ctx := t.Context()
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	add := func(email, city string) string {
		p, err := s.CreateProfile(ctx, "d", map[string]string{"EmailAddress": email, "Address.City": city})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	rules := func(rule ...string) {
		if _, err := s.UpdateDomain(ctx, "d", &profiles.DomainUpdate{RuleBasedMatching: &profiles.RuleBasedMatchingSettings{
			Enabled: true, MatchingRules: [][]string{rule}}}); err != nil {
			t.Fatal(err)
		}
	}
	size := func(id string) int {
		t.Helper()
		g, _, err := s.GetSimilarProfiles(ctx, "d", "RULE_BASED_MATCHING", "_profileId", id, profiles.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return len(g.ProfileIDs)
	}
	a := add("ann@example.com", "Lyon")
	add("ann@example.com", "Paris")
	rules("EmailAddress")
	if n := size(a); n != 2 {
		t.Fatalf("group of %d, want 2", n)
	}
	add("ANN@example.com", "Lyon")
	clock = clock.Add(29 * time.Second)
	if n := size(a); n != 2 {
		t.Errorf("29 s later: group of %d, want the 2 computed before", n)
	}
	clock = clock.Add(2 * time.Second)
	if n := size(a); n != 3 {
		t.Errorf("31 s later: group of %d, want 3", n)
	}
	add("ann@example.com", "Lyon")
	rules("EmailAddress", "Address.City")
	if n := size(a); n != 3 {
		t.Errorf("new rules: group of %d, want 3 (email and Lyon) at once", n)
	}
}

// viewCounter counts a store's read transactions.
type viewCounter struct {
	profiles.Store
	views atomic.Int64
}

func (c *viewCounter) View(ctx context.Context, fn func(profiles.Tx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// TestRuleBasedMatching_OneComputationAtATime: calls that find a domain's
// groups not kept wait for the one computing them, then read what it kept,
// instead of each reading every profile.
func TestRuleBasedMatching_OneComputationAtATime(t *testing.T) {
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	store := &viewCounter{Store: MustOpenSQLite(t)}
	s := serviceOn(store, &clock)
	ctx := t.Context()
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := s.CreateProfile(ctx, "d", map[string]string{"EmailAddress": fmt.Sprintf("p%d@example.com", i%20)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateDomain(ctx, "d", &profiles.DomainUpdate{RuleBasedMatching: &profiles.RuleBasedMatchingSettings{
		Enabled: true, MatchingRules: [][]string{{"EmailAddress"}}}}); err != nil {
		t.Fatal(err)
	}
	before := store.views.Load()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ids, _, err := s.ListRuleBasedMatches(ctx, "d", profiles.Page{})
			if err != nil || len(ids) != 20 {
				t.Errorf("ListRuleBasedMatches: %d groups, %v; want 20", len(ids), err)
			}
		})
	}
	wg.Wait()
	// One computation: a page of profiles and the empty page after it.
	if n := store.views.Load() - before; n != 2 {
		t.Errorf("8 calls at once read %d pages of profiles, want the 2 of one computation", n)
	}
}
