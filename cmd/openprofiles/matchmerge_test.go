package main_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	"github.com/openprofiles/profiles"
)

// TestRuleBasedMatching_Values: which profiles a rule matches — values
// compared normalised, a blank value matches nothing, and the parts of
// Address.<part> in one rule come from one address, not one part from the
// main address and another from the shipping address.
func TestRuleBasedMatching_Values(t *testing.T) {
	e := newIngestEnv(t)
	// Blank and missing values: no match on them.
	blank1 := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String(" "), LastName: aws.String("Blank")})
	blank2 := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("  "), LastName: aws.String("Blank")})
	none1 := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("None")})
	none2 := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("None")})
	// Names by case and spaces; attributes by name.
	n1 := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Mary  Ann"), LastName: aws.String("Smith"), Attributes: map[string]string{"loyalty": "L-1"}})
	n2 := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("mary ann"), LastName: aws.String(" SMITH "), Attributes: map[string]string{"loyalty": "L-2"}})
	l1 := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("Loyal"), Attributes: map[string]string{"loyalty": "L-9"}})
	l2 := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("Loyal2"), Attributes: map[string]string{"loyalty": "L-9"}})

	e.setRules(nil, 0, []string{"FirstName", "LastName"}, []string{"Attributes.loyalty"})
	for _, tt := range []struct {
		id    string
		level int32
		want  []string
	}{
		{blank1, 0, nil}, {blank2, 0, nil}, {none1, 0, nil}, {none2, 0, nil},
		{n1, 1, sorted(n1, n2)}, {l1, 2, sorted(l1, l2)},
	} {
		out := e.similar("_profileId", tt.id)
		if !slices.Equal(out.ProfileIds, tt.want) || aws.ToInt32(out.RuleLevel) != tt.level {
			t.Errorf("%s: %v at level %d, want %v at level %d", tt.id, out.ProfileIds, aws.ToInt32(out.RuleLevel), tt.want, tt.level)
		}
	}

	t.Run("AddressPartsOfOneAddress", func(t *testing.T) {
		// a lives in Lyon 69001 and ships to Paris 75001; b lives in
		// Paris 69001: no address of one is an address of the other.
		// c ships to Paris 75001, as a does.
		addr := func(city, postal string) *types.Address {
			return &types.Address{City: aws.String(city), PostalCode: aws.String(postal)}
		}
		a := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("AddrA"), Address: addr("Lyon", "69001"), ShippingAddress: addr("Paris", "75001")})
		b := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("AddrB"), Address: addr("Paris", "69001")})
		c := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("AddrC"), MailingAddress: addr("Paris", "75001")})
		// d and f share a shipping city and a main postal code, each of
		// another address: under ONE_TO_ONE too, field by field, that is
		// no address they share.
		d := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("AddrD"), Address: addr("Nice", "06000"), ShippingAddress: addr("Paris", "75002")})
		f := e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("AddrF"), Address: addr("Marseille", "06000"), ShippingAddress: addr("Paris", "13000")})
		for _, tt := range []struct {
			model types.AttributeMatchingModel
			want  map[string][]string
		}{
			{types.AttributeMatchingModelManyToMany, map[string][]string{a: sorted(a, c), b: nil, c: sorted(a, c), d: nil, f: nil}},
			{types.AttributeMatchingModelOneToOne, map[string][]string{a: nil, b: nil, c: nil, d: nil, f: nil}},
		} {
			e.setRules(&types.AttributeTypesSelector{AttributeMatchingModel: tt.model, Address: []string{"Address", "ShippingAddress", "MailingAddress"}}, 0,
				[]string{"Address.City", "Address.PostalCode"})
			for id, want := range tt.want {
				if out := e.similar("_profileId", id); !slices.Equal(out.ProfileIds, want) {
					t.Errorf("%s: %s matches %v, want %v", tt.model, id, out.ProfileIds, want)
				}
			}
		}
	})

	t.Run("BirthDate", func(t *testing.T) {
		// A birth date written year first is a date, whatever its
		// separators (as identity resolution compares it); one written
		// otherwise (02/01/1990: which day?) is compared as text.
		bd := func(last, date string) string {
			return e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String(last), BirthDate: aws.String(date)})
		}
		d1, d2, d3, d4 := bd("Born", "1990-01-02"), bd("born", "1990/01/02"), bd("BORN", "19900102"), bd("Born", "1990-01-02T00:00:00Z")
		t1, t2, t3 := bd("Born", "02/01/1990"), bd("Born", " 02/01/1990"), bd("Born", "1990-02-01")
		e.setRules(nil, 0, []string{"LastName", "BirthDate"})
		dates, text := sorted(d1, d2, d3, d4), sorted(t1, t2)
		for id, want := range map[string][]string{d1: dates, d2: dates, d3: dates, d4: dates, t1: text, t2: text, t3: nil} {
			if out := e.similar("_profileId", id); !slices.Equal(out.ProfileIds, want) {
				t.Errorf("%s matches %v, want %v", id, out.ProfileIds, want)
			}
		}
	})

	t.Run("BusinessAddress", func(t *testing.T) {
		// The model's documentation names the address kinds Address,
		// BusinessAddress, MaillingAddress and ShippingAddress: a selector
		// copied from it is accepted.
		_, err := e.client.UpdateDomain(t.Context(), &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain),
			RuleBasedMatching: &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"Address.City"}}},
				AttributeTypesSelector: &types.AttributeTypesSelector{AttributeMatchingModel: types.AttributeMatchingModelManyToMany,
					Address: []string{"Address", "BusinessAddress", "MaillingAddress", "ShippingAddress"}}}})
		if err != nil {
			t.Fatalf("UpdateDomain with the documented address kinds: %v", err)
		}
	})
}

// TestRuleBasedMatching_Paging: GetSimilarProfiles and
// ListRuleBasedMatches page with NextToken; a token of another call is
// refused.
func TestRuleBasedMatching_Paging(t *testing.T) {
	e := newIngestEnv(t)
	var group []string
	for i := range 5 {
		group = append(group, e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String(fmt.Sprint("P", i)), EmailAddress: aws.String("same@example.com")}))
	}
	for i := range 3 {
		e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String(fmt.Sprintf("pair%d@example.com", i))})
		e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String(fmt.Sprintf("PAIR%d@example.com", i))})
	}
	e.setRules(nil, 0, []string{"EmailAddress"})
	var got []string
	var token *string
	pages := 0
	for {
		out, err := e.client.GetSimilarProfiles(t.Context(), &customerprofiles.GetSimilarProfilesInput{DomainName: aws.String(e.domain),
			MatchType: types.MatchTypeRuleBasedMatching, SearchKey: aws.String("_email"), SearchValue: aws.String("same@example.com"),
			MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatalf("GetSimilarProfiles page %d: %v", pages, err)
		}
		pages++
		if len(out.ProfileIds) > 2 || aws.ToInt32(out.RuleLevel) != 1 || aws.ToString(out.MatchId) == "" {
			t.Errorf("page %d: %+v", pages, out)
		}
		got = append(got, out.ProfileIds...)
		if token = out.NextToken; token == nil {
			break
		}
		if pages > 5 {
			t.Fatal("GetSimilarProfiles pages without end")
		}
	}
	if !slices.Equal(got, sorted(group...)) || pages != 3 {
		t.Errorf("GetSimilarProfiles by pages of 2: %v in %d pages, want %v in 3", got, pages, sorted(group...))
	}
	if ids := e.matchIDs(); len(ids) != 4 {
		t.Errorf("ListRuleBasedMatches by pages of 2: %v, want 4 groups", ids)
	}
	first, err := e.client.ListRuleBasedMatches(t.Context(), &customerprofiles.ListRuleBasedMatchesInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("ListRuleBasedMatches: %v %v", first, err)
	}
	_, err = e.client.GetSimilarProfiles(t.Context(), &customerprofiles.GetSimilarProfilesInput{DomainName: aws.String(e.domain),
		MatchType: types.MatchTypeRuleBasedMatching, SearchKey: aws.String("_email"), SearchValue: aws.String("same@example.com"), NextToken: first.NextToken})
	wantAPIError(t, err, "BadRequestException")
}

// TestMergeProfiles_Fields: FieldSourceProfileIds chooses each field, each
// attribute by its key, and an address whole; a named profile without the
// field leaves it empty; errors leave every profile as it was.
func TestMergeProfiles_Fields(t *testing.T) {
	e := newIngestEnv(t)
	main := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Main"), EmailAddress: aws.String("main@example.com"),
		BirthDate: aws.String("1990-01-01"), Attributes: map[string]string{"tier": "gold", "color": "red"},
		ShippingAddress: &types.Address{City: aws.String("Lyon"), Country: aws.String("FR")}})
	x := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("X"), EmailAddress: aws.String("x@example.com"),
		Attributes: map[string]string{"tier": "silver", "size": "L"}, ShippingAddress: &types.Address{City: aws.String("Nice")}})
	y := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Y"), Attributes: map[string]string{"color": "blue"},
		AccountNumber: aws.String("acc-y")})

	t.Run("Errors", func(t *testing.T) {
		ghost := "0123456789abcdef0123456789abcdef"
		for _, tt := range []struct {
			name string
			in   customerprofiles.MergeProfilesInput
			code string
		}{
			{"main unknown", customerprofiles.MergeProfilesInput{MainProfileId: aws.String(ghost), ProfileIdsToBeMerged: []string{x}}, "ResourceNotFoundException"},
			{"merged unknown", customerprofiles.MergeProfilesInput{MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{x, ghost}}, "ResourceNotFoundException"},
			{"itself", customerprofiles.MergeProfilesInput{MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{x, main}}, "BadRequestException"},
			{"twice", customerprofiles.MergeProfilesInput{MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{x, x}}, "BadRequestException"},
			{"source outside", customerprofiles.MergeProfilesInput{MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{x},
				FieldSourceProfileIds: &types.FieldSourceProfileIds{Attributes: map[string]string{"tier": y}}}, "BadRequestException"},
		} {
			in := tt.in
			in.DomainName = aws.String(e.domain)
			_, err := e.client.MergeProfiles(t.Context(), &in)
			wantAPIError(t, err, tt.code)
		}
		if got := aws.ToString(e.getProfile(x).FirstName); got != "X" {
			t.Errorf("a refused merge changed x: FirstName %q", got)
		}
	})

	_, err := e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain),
		MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{x, y},
		FieldSourceProfileIds: &types.FieldSourceProfileIds{
			EmailAddress: aws.String(x), BirthDate: aws.String(y), ShippingAddress: aws.String(x),
			Attributes: map[string]string{"tier": x, "color": y},
		}})
	if err != nil {
		t.Fatalf("MergeProfiles: %v", err)
	}
	p := e.getProfile(main)
	want := map[string]string{"FirstName": "Main", "EmailAddress": "x@example.com", "BirthDate": "", "AccountNumber": "acc-y",
		"tier": "silver", "color": "blue", "size": "L", "Shipping.City": "Nice", "Shipping.Country": ""}
	got := map[string]string{"FirstName": aws.ToString(p.FirstName), "EmailAddress": aws.ToString(p.EmailAddress), "BirthDate": aws.ToString(p.BirthDate),
		"AccountNumber": aws.ToString(p.AccountNumber), "tier": p.Attributes["tier"], "color": p.Attributes["color"], "size": p.Attributes["size"]}
	if p.ShippingAddress != nil {
		got["Shipping.City"], got["Shipping.Country"] = aws.ToString(p.ShippingAddress.City), aws.ToString(p.ShippingAddress.Country)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("merged %s = %q, want %q", k, got[k], w)
		}
	}
	// The losing email still finds the main profile.
	if found := e.search("_email", "main@example.com"); len(found) != 1 || aws.ToString(found[0].ProfileId) != main {
		t.Errorf("the main profile's own email after the merge finds %d profiles", len(found))
	}
}

// TestMergeProfiles_WhileIngesting: objects ingested for a profile while it
// is merged into another all land on the main profile, none is lost, and
// the merged profile is gone.
func TestMergeProfiles_WhileIngesting(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	const rounds, perRound = 4, 6
	total := 0
	for r := range rounds {
		main := e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String(fmt.Sprintf("main%d@example.com", r))})
		dup := e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String(fmt.Sprintf("dup%d@example.com", r))})
		var wg sync.WaitGroup
		errs := make(chan error, 2*perRound+1)
		for i := range perRound {
			for _, who := range []string{"main", "dup"} {
				wg.Go(func() {
					_, err := e.put("contact", map[string]any{"id": fmt.Sprintf("r%d-%s-%d", r, who, i), "email": fmt.Sprintf("%s%d@example.com", who, r)})
					errs <- err
				})
			}
		}
		wg.Go(func() {
			_, err := e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain),
				MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{dup}})
			errs <- err
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: %v", r, err)
			}
		}
		total += 2 * perRound
		if got := len(e.objects("contact", main)); got != 2*perRound {
			t.Errorf("round %d: main holds %d contacts, want %d", r, got, 2*perRound)
		}
		for _, email := range []string{fmt.Sprintf("main%d@example.com", r), fmt.Sprintf("dup%d@example.com", r)} {
			if found := e.search("_email", email); len(found) != 1 || aws.ToString(found[0].ProfileId) != main {
				t.Errorf("round %d: %s finds %d profiles, want the main one", r, email, len(found))
			}
		}
		out, err := e.client.BatchGetProfile(t.Context(), &customerprofiles.BatchGetProfileInput{DomainName: aws.String(e.domain), ProfileIds: []string{dup}})
		if err != nil || len(out.Profiles) != 0 {
			t.Errorf("round %d: the merged profile: %v %v", r, out, err)
		}
	}
}

// TestMatchingSettings_Refused: settings that would do nothing, or not what
// they say, are refused naming the member — SOURCE without SourceName in
// RuleBasedMatching as in AutoMerging, and a Consolidation attribute that
// is no attribute of the profile (it would never merge); the attributes of
// the standard profile and custom ones are accepted.
func TestMatchingSettings_Refused(t *testing.T) {
	e := newIngestEnv(t)
	ctx, dn := t.Context(), aws.String(e.domain)

	_, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, RuleBasedMatching: &types.RuleBasedMatchingRequest{
		Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
		ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelSource}}})
	wantAPIError(t, err, "BadRequestException", "RuleBasedMatching.ConflictResolution.SourceName")
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, RuleBasedMatching: &types.RuleBasedMatchingRequest{
		Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
		ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelSource, SourceName: aws.String("CRM")}}}); err != nil {
		t.Fatalf("RuleBasedMatching with SOURCE and a SourceName: %v", err)
	}

	autoMerging := func(lists ...[]string) *types.MatchingRequest {
		return &types.MatchingRequest{Enabled: aws.Bool(true), AutoMerging: &types.AutoMerging{Enabled: aws.Bool(true),
			Consolidation: &types.Consolidation{MatchingAttributesList: lists}}}
	}
	good := [][]string{{"EmailAddress", "FirstName", "LastName", "BirthDate"}, {"PhoneNumber", "Address.Address", "Address.PostalCode"},
		{"ShippingAddress.City", "BusinessEmailAddress", "Attributes.loyaltyId", "AccountNumber", "Gender"}}
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: autoMerging(good...)}); err != nil {
		t.Fatalf("AutoMerging with attributes of the standard profile: %v", err)
	}
	for _, tt := range []struct {
		lists [][]string
		words []string
	}{
		{[][]string{{"EmailAddress"}, {"LastName", "Email"}}, []string{"MatchingAttributesList[1][1]", `"Email"`}},
		{[][]string{{"Attributes."}}, []string{"MatchingAttributesList[0][0]"}},
		{[][]string{{"Address.Street"}}, []string{"MatchingAttributesList[0][0]", `"Address.Street"`}},
		{[][]string{{"HomeAddress.City"}}, []string{"MatchingAttributesList[0][0]"}},
	} {
		_, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: autoMerging(tt.lists...)})
		wantAPIError(t, err, "BadRequestException", append([]string{"Matching.AutoMerging: Consolidation."}, tt.words...)...)
		_, err = e.client.GetAutoMergingPreview(ctx, &customerprofiles.GetAutoMergingPreviewInput{DomainName: dn,
			Consolidation: &types.Consolidation{MatchingAttributesList: tt.lists}, ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}})
		wantAPIError(t, err, "BadRequestException", tt.words...)
	}
	// The refused settings left the domain's as they were.
	got, err := e.client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: dn})
	if err != nil {
		t.Fatal(err)
	}
	if l := got.Matching.AutoMerging.Consolidation.MatchingAttributesList; !slices.EqualFunc(l, good, slices.Equal) {
		t.Errorf("Consolidation after the refusals: %v, want %v", l, good)
	}
}

// TestMatchingSettings_StoredBeforeTheChecks: a domain stored with settings
// the checks now refuse (RuleBasedMatching SOURCE without SourceName, an
// unknown Consolidation attribute) is still read, listed and updated in its
// other settings, keeps its settings, and its identity resolution job
// runs; only setting them again (UpdateDomain with them, or a preview of
// them) is refused.
func TestMatchingSettings_StoredBeforeTheChecks(t *testing.T) {
	e := newIngestEnv(t)
	ctx, dn := t.Context(), aws.String(e.domain)
	if _, err := e.m.Service.Store.UpdateDomain(ctx, e.domain, func(d *profiles.Domain) error {
		d.Matching = &profiles.MatchingSettings{Enabled: true, AutoMerging: &profiles.AutoMerging{Enabled: true,
			Consolidation: &profiles.Consolidation{MatchingAttributesList: [][]string{{"Email", "LastName"}}}}}
		d.RuleBasedMatching = &profiles.RuleBasedMatchingSettings{Enabled: true, MatchingRules: [][]string{{"EmailAddress"}},
			ConflictResolution: &profiles.ConflictResolution{ConflictResolvingModel: "SOURCE"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com")})
	e.createProfile(&customerprofiles.CreateProfileInput{LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com")})

	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, DefaultExpirationDays: aws.Int32(40),
		Tags: map[string]string{"team": "a"}}); err != nil {
		t.Fatalf("UpdateDomain of other settings: %v", err)
	}
	got, err := e.client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: dn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.DefaultExpirationDays) != 40 || got.Matching == nil || got.Matching.AutoMerging == nil ||
		!slices.EqualFunc(got.Matching.AutoMerging.Consolidation.MatchingAttributesList, [][]string{{"Email", "LastName"}}, slices.Equal) ||
		got.RuleBasedMatching == nil || got.RuleBasedMatching.ConflictResolution == nil || got.RuleBasedMatching.ConflictResolution.ConflictResolvingModel != types.ConflictResolvingModelSource {
		t.Errorf("GetDomain after the update: %+v, matching %+v, rules %+v", got, got.Matching, got.RuleBasedMatching)
	}
	if list, err := e.client.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err != nil || len(list.Items) == 0 {
		t.Errorf("ListDomains: %+v, %v", list, err)
	}
	if n, err := e.m.Service.RunIdentityResolution(ctx); err != nil || n != 1 {
		t.Fatalf("RunIdentityResolution: %d, %v; want 1 job", n, err)
	}
	jobs, err := e.client.ListIdentityResolutionJobs(ctx, &customerprofiles.ListIdentityResolutionJobsInput{DomainName: dn})
	if err != nil || len(jobs.IdentityResolutionJobsList) != 1 || jobs.IdentityResolutionJobsList[0].Status != types.IdentityResolutionJobStatusCompleted ||
		jobs.IdentityResolutionJobsList[0].JobStats.NumberOfMergesDone != 0 {
		t.Fatalf("the job of the stored settings: %+v, %v; want COMPLETED, no merge (Email is no attribute)", jobs, err)
	}
	// Sent again, as GetDomain returns them: refused, naming the member.
	_, err = e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: &types.MatchingRequest{Enabled: aws.Bool(true),
		AutoMerging: got.Matching.AutoMerging}})
	wantAPIError(t, err, "BadRequestException", "MatchingAttributesList[0][0]")
	_, err = e.client.GetAutoMergingPreview(ctx, &customerprofiles.GetAutoMergingPreviewInput{DomainName: dn,
		Consolidation: got.Matching.AutoMerging.Consolidation, ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}})
	wantAPIError(t, err, "BadRequestException", `"Email"`)
}
