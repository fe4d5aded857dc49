package main_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

func (e *ingestEnv) createSegment(name string, groups *types.SegmentGroup) error {
	_, err := e.client.CreateSegmentDefinition(e.t.Context(), &customerprofiles.CreateSegmentDefinitionInput{
		DomainName: aws.String(e.domain), SegmentDefinitionName: aws.String(name), DisplayName: aws.String(name), SegmentGroups: groups})
	return err
}

// membership returns "PRESENT" or "ABSENT" by profile id, and the ids that
// failed.
func (e *ingestEnv) membership(segment string, ids ...string) (map[string]string, []string) {
	e.t.Helper()
	out, err := e.client.GetSegmentMembership(e.t.Context(), &customerprofiles.GetSegmentMembershipInput{
		DomainName: aws.String(e.domain), SegmentDefinitionName: aws.String(segment), ProfileIds: ids})
	if err != nil {
		e.t.Fatalf("GetSegmentMembership %s: %v", segment, err)
	}
	got := map[string]string{}
	for _, p := range out.Profiles {
		got[aws.ToString(p.ProfileId)] = string(p.QueryResult)
		if (p.QueryResult == types.QueryResultPresent) != (p.Profile != nil) {
			e.t.Errorf("%s: profile %s is %s with profile %v", segment, aws.ToString(p.ProfileId), p.QueryResult, p.Profile)
		}
	}
	var failed []string
	for _, f := range out.Failures {
		failed = append(failed, aws.ToString(f.ProfileId))
	}
	return got, failed
}

func inclusive(values ...string) *types.ProfileDimension {
	return &types.ProfileDimension{DimensionType: types.StringDimensionTypeInclusive, Values: values}
}

// TestSegments drives segment definitions through the SDK: profile field,
// address, custom attribute, date and calculated-attribute dimensions,
// source segments, membership, estimates, and errors.
func TestSegments(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	ann := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), EmailAddress: aws.String("ann@example.com"),
		BirthDate: aws.String("1985-04-12"), Address: &types.Address{City: aws.String("Lyon")}, Attributes: map[string]string{"tier": "gold"}})
	bob := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Bob"), EmailAddress: aws.String("bob@example.com"),
		BirthDate: aws.String("1995-01-30"), Address: &types.Address{City: aws.String("Lyon")}, Attributes: map[string]string{"tier": "silver"}})
	cat := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Cat"), EmailAddress: aws.String("cat@example.com"),
		Address: &types.Address{City: aws.String("Paris")}})
	day := time.Now().UTC().AddDate(0, 0, -1).Format(time.RFC3339)
	e.mustPut("Orders", map[string]any{"id": "o1", "email": "bob@example.com", "total": 150, "updated": day})
	e.mustPut("Orders", map[string]any{"id": "o2", "email": "cat@example.com", "total": 20, "updated": day})
	if _, err := e.createCalc(calcDef{name: "spend", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"}, historical: true}); err != nil {
		t.Fatal(err)
	}

	all := types.IncludeOptionsAll
	for name, groups := range map[string]*types.SegmentGroup{
		"lyon_gold": {Include: all, Groups: []types.Group{{Type: all, Dimensions: []types.Dimension{
			&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{
				Address:    &types.AddressDimension{City: inclusive("Lyon")},
				Attributes: map[string]types.AttributeDimension{"tier": {DimensionType: types.AttributeDimensionTypeInclusive, Values: []string{"gold"}}},
			}}}}}},
		"big_spenders": {Groups: []types.Group{{Dimensions: []types.Dimension{
			&types.DimensionMemberCalculatedAttributes{Value: map[string]types.CalculatedAttributeDimension{
				"spend": {DimensionType: types.AttributeDimensionTypeGreaterThan, Values: []string{"100"}}}}}}}},
		"born_before_1990": {Groups: []types.Group{{Dimensions: []types.Dimension{
			&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{
				BirthDate: &types.DateDimension{DimensionType: types.DateDimensionTypeBefore, Values: []string{"1990-01-01"}}}}}}}},
	} {
		if err := e.createSegment(name, groups); err != nil {
			t.Fatalf("CreateSegmentDefinition %s: %v", name, err)
		}
	}
	// A segment of segments, and one with a group of NONE.
	if err := e.createSegment("gold_or_big", &types.SegmentGroup{Groups: []types.Group{{SourceType: types.IncludeOptionsAny,
		SourceSegments: []types.SourceSegment{{SegmentDefinitionName: aws.String("lyon_gold")}, {SegmentDefinitionName: aws.String("big_spenders")}}}}}); err != nil {
		t.Fatalf("CreateSegmentDefinition gold_or_big: %v", err)
	}
	if err := e.createSegment("not_lyon", &types.SegmentGroup{Groups: []types.Group{{Type: types.IncludeOptionsNone, Dimensions: []types.Dimension{
		&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{Address: &types.AddressDimension{City: inclusive("Lyon")}}}}}}}); err != nil {
		t.Fatalf("CreateSegmentDefinition not_lyon: %v", err)
	}

	missing := "0123456789abcdef0123456789abcdef"
	for segment, want := range map[string]map[string]string{
		"lyon_gold":        {ann: "PRESENT", bob: "ABSENT", cat: "ABSENT"},
		"big_spenders":     {ann: "ABSENT", bob: "PRESENT", cat: "ABSENT"},
		"born_before_1990": {ann: "PRESENT", bob: "ABSENT", cat: "ABSENT"},
		"gold_or_big":      {ann: "PRESENT", bob: "PRESENT", cat: "ABSENT"},
		"not_lyon":         {ann: "ABSENT", bob: "ABSENT", cat: "PRESENT"},
	} {
		got, failed := e.membership(segment, ann, bob, cat, missing)
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: profile %s is %q, want %s", segment, id, got[id], w)
			}
		}
		if len(failed) != 1 || failed[0] != missing {
			t.Errorf("%s: failures %v, want the missing profile", segment, failed)
		}
	}

	t.Run("Estimate", func(t *testing.T) {
		out, err := e.client.CreateSegmentEstimate(t.Context(), &customerprofiles.CreateSegmentEstimateInput{DomainName: aws.String(e.domain),
			SegmentQuery: &types.SegmentGroupStructure{Groups: []types.Group{{Dimensions: []types.Dimension{
				&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{Address: &types.AddressDimension{City: inclusive("Lyon")}}}}}}}})
		if err != nil {
			t.Fatalf("CreateSegmentEstimate: %v", err)
		}
		est, err := e.client.GetSegmentEstimate(t.Context(), &customerprofiles.GetSegmentEstimateInput{DomainName: aws.String(e.domain), EstimateId: out.EstimateId})
		if err != nil || est.Status != types.EstimateStatusSucceeded || aws.ToString(est.Estimate) != "2" {
			t.Fatalf("GetSegmentEstimate: %+v, %v; want SUCCEEDED, 2", est, err)
		}
		_, err = e.client.GetSegmentEstimate(t.Context(), &customerprofiles.GetSegmentEstimateInput{DomainName: aws.String(e.domain), EstimateId: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
	})

	t.Run("ConcurrentMembership", func(t *testing.T) {
		// 256 membership reads of a segment on a calculated attribute at
		// once (enough to hang them all before e415287): each runs in one read transaction and reads nothing
		// outside it (a read waiting for another's connection would hang
		// them all once the pool is taken).
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 256)
		for range 256 {
			wg.Go(func() {
				out, err := e.client.GetSegmentMembership(ctx, &customerprofiles.GetSegmentMembershipInput{DomainName: aws.String(e.domain),
					SegmentDefinitionName: aws.String("gold_or_big"), ProfileIds: []string{ann, bob, cat}})
				if err == nil && len(out.Profiles) != 3 {
					err = fmt.Errorf("%d results", len(out.Profiles))
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})

	t.Run("LoopsAndDeletedAttributes", func(t *testing.T) {
		// b_src names a_src; a_src is deleted and defined again naming
		// b_src: refused, it would be its own source.
		lyon := &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
			&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{Address: &types.AddressDimension{City: inclusive("Lyon")}}}}}}}
		from := func(src string) *types.SegmentGroup {
			return &types.SegmentGroup{Groups: []types.Group{{SourceSegments: []types.SourceSegment{{SegmentDefinitionName: aws.String(src)}}}}}
		}
		if err := e.createSegment("a_src", lyon); err != nil {
			t.Fatal(err)
		}
		if err := e.createSegment("b_src", from("a_src")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DeleteSegmentDefinition(t.Context(), &customerprofiles.DeleteSegmentDefinitionInput{DomainName: aws.String(e.domain), SegmentDefinitionName: aws.String("a_src")}); err != nil {
			t.Fatal(err)
		}
		wantAPIError(t, e.createSegment("a_src", from("b_src")), "BadRequestException", "a_src", "source of itself")

		// A segment on a calculated attribute whose object type was
		// deleted holds nobody through it; the call still answers.
		gone := contactType("gone")
		e.putType(gone)
		if _, err := e.createCalc(calcDef{name: "gone_count", expr: "{gone.id}", stat: "COUNT", attrs: []string{"id"}, historical: true}); err != nil {
			t.Fatal(err)
		}
		if err := e.createSegment("on_gone", &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
			&types.DimensionMemberCalculatedAttributes{Value: map[string]types.CalculatedAttributeDimension{
				"gone_count": {DimensionType: types.AttributeDimensionTypeGreaterThanOrEqual, Values: []string{"0"}}}}}}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.membership("on_gone", ann); got[ann] != "PRESENT" {
			t.Errorf("before the type's deletion: %v", got)
		}
		if _, err := e.client.DeleteProfileObjectType(t.Context(), &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("gone")}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.membership("on_gone", ann); got[ann] != "ABSENT" {
			t.Errorf("after the type's deletion: %v, want ABSENT", got)
		}
		for _, name := range []string{"b_src", "on_gone"} {
			if _, err := e.client.DeleteSegmentDefinition(t.Context(), &customerprofiles.DeleteSegmentDefinitionInput{DomainName: aws.String(e.domain), SegmentDefinitionName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("ReadListDelete", func(t *testing.T) {
		got, err := e.client.GetSegmentDefinition(t.Context(), &customerprofiles.GetSegmentDefinitionInput{DomainName: aws.String(e.domain), SegmentDefinitionName: aws.String("lyon_gold")})
		if err != nil {
			t.Fatalf("GetSegmentDefinition: %v", err)
		}
		pa, ok := got.SegmentGroups.Groups[0].Dimensions[0].(*types.DimensionMemberProfileAttributes)
		if !ok || aws.ToString(got.SegmentDefinitionArn) == "" || got.SegmentType != types.SegmentTypeClassic || pa.Value.Address == nil ||
			pa.Value.Address.City.Values[0] != "Lyon" || pa.Value.Attributes["tier"].Values[0] != "gold" {
			t.Fatalf("GetSegmentDefinition answered %+v", got)
		}
		// The model lets pages of segment definitions hold up to 500.
		list, err := e.client.ListSegmentDefinitions(t.Context(), &customerprofiles.ListSegmentDefinitionsInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(500)})
		if err != nil || len(list.Items) != 5 || aws.ToString(list.Items[0].SegmentDefinitionName) != "big_spenders" {
			t.Fatalf("ListSegmentDefinitions: %+v, %v", list, err)
		}
		// A deleted source holds nobody: Bob was in gold_or_big through it.
		if _, err := e.client.DeleteSegmentDefinition(t.Context(), &customerprofiles.DeleteSegmentDefinitionInput{DomainName: aws.String(e.domain), SegmentDefinitionName: aws.String("big_spenders")}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.membership("gold_or_big", ann, bob); got[ann] != "PRESENT" || got[bob] != "ABSENT" {
			t.Errorf("gold_or_big without big_spenders: %v", got)
		}
		_, err = e.client.GetSegmentMembership(t.Context(), &customerprofiles.GetSegmentMembershipInput{DomainName: aws.String(e.domain),
			SegmentDefinitionName: aws.String("big_spenders"), ProfileIds: []string{ann}})
		wantAPIError(t, err, "ResourceNotFoundException", "big_spenders")
	})

	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			groups *types.SegmentGroup
			words  []string
		}{
			{&types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{&types.DimensionMemberCalculatedAttributes{Value: map[string]types.CalculatedAttributeDimension{
				"nope": {DimensionType: types.AttributeDimensionTypeInclusive, Values: []string{"1"}}}}}}}}, []string{"calculated attribute nope"}},
			{&types.SegmentGroup{Groups: []types.Group{{SourceSegments: []types.SourceSegment{{SegmentDefinitionName: aws.String("ghost")}}}}}, []string{"ghost"}},
			{&types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{
				BirthDate: &types.DateDimension{DimensionType: types.DateDimensionTypeBefore, Values: []string{"last year"}}}}}}}}, []string{"BirthDate", "date"}},
			{&types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{
				Attributes: map[string]types.AttributeDimension{"n": {DimensionType: types.AttributeDimensionTypeGreaterThan, Values: []string{"many"}}}}}}}}}, []string{"Attributes.n", "number"}},
		} {
			wantAPIError(t, e.createSegment("bad", tt.groups), "BadRequestException", tt.words...)
		}
		wantAPIError(t, e.createSegment("lyon_gold", &types.SegmentGroup{Groups: []types.Group{{SourceSegments: []types.SourceSegment{{SegmentDefinitionName: aws.String("not_lyon")}}}}}),
			"BadRequestException", "lyon_gold", "already exists")
		_, err := e.client.CreateSegmentDefinition(t.Context(), &customerprofiles.CreateSegmentDefinitionInput{DomainName: aws.String(e.domain),
			SegmentDefinitionName: aws.String("sql"), DisplayName: aws.String("sql"), SegmentSqlQuery: aws.String("SELECT 1")})
		wantAPIError(t, err, "NotImplementedException", "SegmentSqlQuery")
		_, err = e.client.ListSegmentDefinitions(t.Context(), &customerprofiles.ListSegmentDefinitionsInput{DomainName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
	})
}
