package main_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

func (e *ingestEnv) setRules(sel *types.AttributeTypesSelector, maxLevel int32, rules ...[]string) {
	e.t.Helper()
	r := &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true), AttributeTypesSelector: sel}
	if maxLevel > 0 {
		r.MaxAllowedRuleLevelForMatching = aws.Int32(maxLevel)
	}
	for _, rule := range rules {
		r.MatchingRules = append(r.MatchingRules, types.MatchingRule{Rule: rule})
	}
	if _, err := e.client.UpdateDomain(e.t.Context(), &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), RuleBasedMatching: r}); err != nil {
		e.t.Fatalf("UpdateDomain: %v", err)
	}
}

func (e *ingestEnv) similar(key, value string) *customerprofiles.GetSimilarProfilesOutput {
	e.t.Helper()
	out, err := e.client.GetSimilarProfiles(e.t.Context(), &customerprofiles.GetSimilarProfilesInput{DomainName: aws.String(e.domain),
		MatchType: types.MatchTypeRuleBasedMatching, SearchKey: aws.String(key), SearchValue: aws.String(value)})
	if err != nil {
		e.t.Fatalf("GetSimilarProfiles %s=%s: %v", key, value, err)
	}
	return out
}

func (e *ingestEnv) matchIDs() []string {
	e.t.Helper()
	var ids []string
	p := customerprofiles.NewListRuleBasedMatchesPaginator(e.client, &customerprofiles.ListRuleBasedMatchesInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(e.t.Context())
		if err != nil {
			e.t.Fatalf("ListRuleBasedMatches: %v", err)
		}
		ids = append(ids, out.MatchIds...)
	}
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestRuleBasedMatching: match groups by rule level through the SDK —
// equal normalised values link profiles, a profile joins the group of the
// first level that matches it, the groups are listed and found by profile
// or match id, and the attribute selector and level limit apply.
func TestRuleBasedMatching(t *testing.T) {
	e := newIngestEnv(t)
	p := func(first, last, email, phone, city string) string {
		return e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String(first), LastName: aws.String(last),
			EmailAddress: aws.String(email), PhoneNumber: aws.String(phone), Address: &types.Address{City: aws.String(city)}})
	}
	a := p("Ann", "Lee", "ann@example.com", "+1 555 010 0100", "Lyon")
	b := p("Annie", "Lee", "ANN@Example.com ", "+1 555 010 0199", "Paris") // a's email: level 1
	c := p("Ann", "Lee", "ann.lee@work.example", "+1 555 010 0300", "Lyon")
	d := p("ann", "LEE", "lee@home.example", "+1 555 010 0400", "lyon") // c's name and city: level 2 (a is taken at level 1)
	x := p("Xavier", "Ng", "x@example.com", "(555) 010-0500", "Nice")
	y := p("Yves", "Ng", "y@example.com", "+15550100500", "Nice") // x's phone: level 3
	z := p("Zoe", "Kim", "z@example.com", "+1 555 010 0999", "Metz")

	_, err := e.client.ListRuleBasedMatches(t.Context(), &customerprofiles.ListRuleBasedMatchesInput{DomainName: aws.String(e.domain)})
	wantAPIError(t, err, "BadRequestException", "Rule-based matching is not enabled")

	e.setRules(nil, 0, []string{"EmailAddress"}, []string{"FirstName", "LastName", "Address.City"}, []string{"PhoneNumber"})
	for _, tt := range []struct {
		key, value string
		level      int32
		want       []string
	}{
		{"_email", "ann@example.com", 1, sorted(a, b)},
		{"_profileId", c, 2, sorted(c, d)},
		{"_profileId", d, 2, sorted(c, d)},
		{"_phone", "+1 555 010 0500", 3, sorted(x, y)},
		{"_profileId", z, 0, nil},
	} {
		out := e.similar(tt.key, tt.value)
		if !slices.Equal(out.ProfileIds, tt.want) || aws.ToInt32(out.RuleLevel) != tt.level || (aws.ToString(out.MatchId) == "") != (tt.want == nil) {
			t.Errorf("GetSimilarProfiles %s=%s: %v at level %d (match %q), want %v at level %d", tt.key, tt.value, out.ProfileIds, aws.ToInt32(out.RuleLevel), aws.ToString(out.MatchId), tt.want, tt.level)
		}
	}
	ids := e.matchIDs()
	if len(ids) != 3 {
		t.Fatalf("ListRuleBasedMatches: %v, want 3 groups", ids)
	}
	if out := e.similar("MatchId", aws.ToString(e.similar("_profileId", c).MatchId)); !slices.Equal(out.ProfileIds, sorted(c, d)) || aws.ToInt32(out.RuleLevel) != 2 {
		t.Errorf("GetSimilarProfiles by match id: %+v", out)
	}
	for _, id := range ids {
		if out := e.similar("MatchId", id); len(out.ProfileIds) < 2 {
			t.Errorf("match %s holds %v", id, out.ProfileIds)
		}
	}

	// MaxAllowedRuleLevelForMatching 1: the name and phone levels go.
	e.setRules(nil, 1, []string{"EmailAddress"}, []string{"FirstName", "LastName", "Address.City"}, []string{"PhoneNumber"})
	if ids := e.matchIDs(); len(ids) != 1 {
		t.Errorf("with levels up to 1: %d groups, want 1", len(ids))
	}
	if out := e.similar("_profileId", c); len(out.ProfileIds) != 0 {
		t.Errorf("c matched %v with levels up to 1", out.ProfileIds)
	}

	t.Run("AttributeTypesSelector", func(t *testing.T) {
		// h's business email is i's email: they match when any selected
		// email field may match any other (MANY_TO_MANY), not field by
		// field (ONE_TO_ONE).
		h := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Hal"), EmailAddress: aws.String("hal@home.example"),
			BusinessEmailAddress: aws.String("shared@corp.example")})
		i := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ida"), EmailAddress: aws.String("shared@corp.example")})
		sel := func(model types.AttributeMatchingModel) *types.AttributeTypesSelector {
			return &types.AttributeTypesSelector{AttributeMatchingModel: model, EmailAddress: []string{"EmailAddress", "BusinessEmailAddress"}}
		}
		e.setRules(sel(types.AttributeMatchingModelManyToMany), 0, []string{"EmailAddress"})
		if out := e.similar("_profileId", h); !slices.Equal(out.ProfileIds, sorted(h, i)) {
			t.Errorf("MANY_TO_MANY: %v, want h and i", out.ProfileIds)
		}
		e.setRules(sel(types.AttributeMatchingModelOneToOne), 0, []string{"EmailAddress"})
		if out := e.similar("_profileId", h); len(out.ProfileIds) != 0 {
			t.Errorf("ONE_TO_ONE: %v, want no match", out.ProfileIds)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		_, err := e.client.GetSimilarProfiles(t.Context(), &customerprofiles.GetSimilarProfilesInput{DomainName: aws.String(e.domain),
			MatchType: types.MatchTypeMlBasedMatching, SearchKey: aws.String("_profileId"), SearchValue: aws.String(a)})
		wantAPIError(t, err, "BadRequestException", "Matching is not enabled") // ML-based: TestIdentityResolution
		_, err = e.client.GetSimilarProfiles(t.Context(), &customerprofiles.GetSimilarProfilesInput{DomainName: aws.String(e.domain),
			MatchType: types.MatchTypeRuleBasedMatching, SearchKey: aws.String("_email"), SearchValue: aws.String("nobody@example.com")})
		wantAPIError(t, err, "ResourceNotFoundException", "nobody@example.com")
		_, err = e.client.GetSimilarProfiles(t.Context(), &customerprofiles.GetSimilarProfilesInput{DomainName: aws.String(e.domain),
			MatchType: types.MatchTypeRuleBasedMatching, SearchKey: aws.String("MatchId"), SearchValue: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
		_, err = e.client.ListRuleBasedMatches(t.Context(), &customerprofiles.ListRuleBasedMatchesInput{DomainName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
	})
}
