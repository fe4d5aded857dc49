package main_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

func profileDim(pa types.ProfileAttributes) types.Dimension {
	return &types.DimensionMemberProfileAttributes{Value: pa}
}

func calcDim(name string, c types.CalculatedAttributeDimension) types.Dimension {
	return &types.DimensionMemberCalculatedAttributes{Value: map[string]types.CalculatedAttributeDimension{name: c}}
}

func strDim(t types.StringDimensionType, values ...string) *types.ProfileDimension {
	return &types.ProfileDimension{DimensionType: t, Values: values}
}

func dateDim(t types.DateDimensionType, values ...string) *types.DateDimension {
	return &types.DateDimension{DimensionType: t, Values: values}
}

func attrDim(name string, t types.AttributeDimensionType, values ...string) map[string]types.AttributeDimension {
	return map[string]types.AttributeDimension{name: {DimensionType: t, Values: values}}
}

// oneGroup is a segment of one group of type typ over dims.
func oneGroup(typ types.IncludeOptions, dims ...types.Dimension) *types.SegmentGroup {
	return &types.SegmentGroup{Groups: []types.Group{{Type: typ, Dimensions: dims}}}
}

// TestSegmentCases checks, through the SDK, which profiles each kind of
// segment criterion holds: every dimension type on profile fields, dates,
// custom attributes, addresses and profile types; missing values; the
// quantifiers of groups, of sources and of the segment; calculated
// attributes with a range override; and the per-profile answers of
// GetSegmentMembership.
func TestSegmentCases(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	ann := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), LastName: aws.String("Smith"),
		EmailAddress: aws.String("ann@example.com"), BirthDate: aws.String("1985-04-12"), PhoneNumber: aws.String("+33612345678"),
		Address: &types.Address{City: aws.String("Lyon")}, ShippingAddress: &types.Address{Country: aws.String("FR")},
		Attributes: map[string]string{"tier": "gold", "visits": "12", "joined": "2020-03-01"}, ProfileType: types.ProfileTypeProfile})
	bob := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("bob"), EmailAddress: aws.String("bob@example.org"),
		BirthDate: aws.String("19950130"), GenderString: aws.String("male"), Address: &types.Address{City: aws.String("Paris")},
		Attributes: map[string]string{"tier": "silver", "visits": "3", "joined": "2023-06-15"}, ProfileType: types.ProfileTypeAccountProfile})
	cat := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Cat")})

	now := time.Now().UTC()
	e.mustPut("Orders", map[string]any{"id": "o1", "email": "ann@example.com", "total": 30, "updated": now.AddDate(0, 0, -2).Format(time.RFC3339)})
	e.mustPut("Orders", map[string]any{"id": "o2", "email": "ann@example.com", "total": 500, "updated": now.AddDate(0, 0, -40).Format(time.RFC3339)})
	e.mustPut("Orders", map[string]any{"id": "o3", "email": "bob@example.org", "total": 100, "updated": now.AddDate(0, 0, -1).Format(time.RFC3339)})
	if _, err := e.createCalc(calcDef{name: "spend", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"}, historical: true}); err != nil {
		t.Fatal(err)
	}

	all, anyOf, none := types.IncludeOptionsAll, types.IncludeOptionsAny, types.IncludeOptionsNone
	const P, A = "PRESENT", "ABSENT"
	for _, tt := range []struct {
		name          string
		groups        *types.SegmentGroup
		ann, bob, cat string
	}{
		// Strings: exact and case-sensitive; EXCLUSIVE holds a profile
		// without the field.
		{"first_inclusive", oneGroup(all, profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Ann", "Cat")})), P, A, P},
		{"first_inclusive_case", oneGroup(all, profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Bob")})), A, A, A},
		{"last_exclusive", oneGroup(all, profileDim(types.ProfileAttributes{LastName: strDim(types.StringDimensionTypeExclusive, "Smith")})), A, P, P},
		{"email_contains", oneGroup(all, profileDim(types.ProfileAttributes{EmailAddress: strDim(types.StringDimensionTypeContains, "@example.")})), P, P, A},
		{"email_begins", oneGroup(all, profileDim(types.ProfileAttributes{EmailAddress: strDim(types.StringDimensionTypeBeginsWith, "bo", "zz")})), A, P, A},
		{"email_ends", oneGroup(all, profileDim(types.ProfileAttributes{EmailAddress: strDim(types.StringDimensionTypeEndsWith, ".com")})), P, A, A},
		{"phone_begins", oneGroup(all, profileDim(types.ProfileAttributes{PhoneNumber: strDim(types.StringDimensionTypeBeginsWith, "+33")})), P, A, A},
		{"gender_string", oneGroup(all, profileDim(types.ProfileAttributes{GenderString: strDim(types.StringDimensionTypeInclusive, "male")})), A, P, A},
		// Addresses.
		{"city", oneGroup(all, profileDim(types.ProfileAttributes{Address: &types.AddressDimension{City: strDim(types.StringDimensionTypeInclusive, "Paris")}})), A, P, A},
		{"shipping_country", oneGroup(all, profileDim(types.ProfileAttributes{ShippingAddress: &types.AddressDimension{Country: strDim(types.StringDimensionTypeInclusive, "FR")}})), P, A, A},
		// Birth dates, as ISO 8601 and as YYYYMMDD; a missing one holds
		// for none of the date types.
		{"born_before", oneGroup(all, profileDim(types.ProfileAttributes{BirthDate: dateDim(types.DateDimensionTypeBefore, "1990-01-01")})), P, A, A},
		{"born_after", oneGroup(all, profileDim(types.ProfileAttributes{BirthDate: dateDim(types.DateDimensionTypeAfter, "1990-01-01")})), A, P, A},
		{"born_on", oneGroup(all, profileDim(types.ProfileAttributes{BirthDate: dateDim(types.DateDimensionTypeOn, "1995-01-30")})), A, P, A},
		{"born_between", oneGroup(all, profileDim(types.ProfileAttributes{BirthDate: dateDim(types.DateDimensionTypeBetween, "1980-01-01", "1989-12-31")})), P, A, A},
		{"born_not_between", oneGroup(all, profileDim(types.ProfileAttributes{BirthDate: dateDim(types.DateDimensionTypeNotBetween, "1980-01-01", "1989-12-31")})), A, P, A},
		// Custom attributes: strings, numbers, dates.
		{"attr_inclusive", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("tier", types.AttributeDimensionTypeInclusive, "gold")})), P, A, A},
		{"attr_exclusive", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("tier", types.AttributeDimensionTypeExclusive, "gold")})), A, P, P},
		{"attr_gt", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("visits", types.AttributeDimensionTypeGreaterThan, "5")})), P, A, A},
		{"attr_le", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("visits", types.AttributeDimensionTypeLessThanOrEqual, "3")})), A, P, A},
		{"attr_eq", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("visits", types.AttributeDimensionTypeEqual, "12.0")})), P, A, A},
		{"attr_before", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("joined", types.AttributeDimensionTypeBefore, "2021-01-01")})), P, A, A},
		{"attr_between", oneGroup(all, profileDim(types.ProfileAttributes{Attributes: attrDim("joined", types.AttributeDimensionTypeBetween, "2023-01-01", "2023-12-31")})), A, P, A},
		// Profile types.
		{"type_account", oneGroup(all, profileDim(types.ProfileAttributes{ProfileType: &types.ProfileTypeDimension{DimensionType: types.ProfileTypeDimensionTypeInclusive, Values: []types.ProfileType{types.ProfileTypeAccountProfile}}})), A, P, A},
		{"type_not_account", oneGroup(all, profileDim(types.ProfileAttributes{ProfileType: &types.ProfileTypeDimension{DimensionType: types.ProfileTypeDimensionTypeExclusive, Values: []types.ProfileType{types.ProfileTypeAccountProfile}}})), P, A, P},
		// Several fields of one dimension all hold.
		{"two_fields", oneGroup(all, profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Ann", "bob"),
			Address: &types.AddressDimension{City: strDim(types.StringDimensionTypeInclusive, "Paris")}})), A, P, A},
		// Group types.
		{"group_all", oneGroup(all, profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Ann", "bob")}),
			profileDim(types.ProfileAttributes{Address: &types.AddressDimension{City: strDim(types.StringDimensionTypeInclusive, "Lyon")}})), P, A, A},
		{"group_any", oneGroup(anyOf, profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Cat")}),
			profileDim(types.ProfileAttributes{Address: &types.AddressDimension{City: strDim(types.StringDimensionTypeInclusive, "Lyon")}})), P, A, P},
		{"group_none", oneGroup(none, profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Cat")}),
			profileDim(types.ProfileAttributes{Address: &types.AddressDimension{City: strDim(types.StringDimensionTypeInclusive, "Lyon")}})), A, P, A},
		// Segment Include over groups.
		{"include_any", &types.SegmentGroup{Include: anyOf, Groups: []types.Group{
			{Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Cat")})}},
			{Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "bob")})}}}}, A, P, P},
		{"include_all", &types.SegmentGroup{Include: all, Groups: []types.Group{
			{Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{EmailAddress: strDim(types.StringDimensionTypeContains, "example")})}},
			{Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "bob")})}}}}, A, P, A},
		{"include_none", &types.SegmentGroup{Include: none, Groups: []types.Group{
			{Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "Cat")})}},
			{Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{FirstName: strDim(types.StringDimensionTypeInclusive, "bob")})}}}}, P, A, A},
		// Calculated attributes: the whole history (Ann 530, Bob 100, Cat
		// none), and the last 7 days (Ann 30, Bob 100).
		{"spend_gt", oneGroup(all, calcDim("spend", types.CalculatedAttributeDimension{DimensionType: types.AttributeDimensionTypeGreaterThan, Values: []string{"200"}})), P, A, A},
		{"spend_gt_week", oneGroup(all, calcDim("spend", types.CalculatedAttributeDimension{DimensionType: types.AttributeDimensionTypeGreaterThan, Values: []string{"50"},
			ConditionOverrides: &types.ConditionOverrides{Range: &types.RangeOverride{Start: aws.Int32(7), Unit: types.RangeUnitDays}}})), A, P, A},
		{"spend_between_weeks", oneGroup(all, calcDim("spend", types.CalculatedAttributeDimension{DimensionType: types.AttributeDimensionTypeEqual, Values: []string{"500"},
			ConditionOverrides: &types.ConditionOverrides{Range: &types.RangeOverride{Start: aws.Int32(60), End: 30, Unit: types.RangeUnitDays}}})), P, A, A},
		{"spend_exclusive", oneGroup(all, calcDim("spend", types.CalculatedAttributeDimension{DimensionType: types.AttributeDimensionTypeExclusive, Values: []string{"530"}})), A, P, P},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.createSegment(tt.name, tt.groups); err != nil {
				t.Fatalf("CreateSegmentDefinition: %v", err)
			}
			got, failed := e.membership(tt.name, ann, bob, cat)
			if len(failed) > 0 {
				t.Errorf("failures %v", failed)
			}
			for who, want := range map[string]string{ann: tt.ann, bob: tt.bob, cat: tt.cat} {
				if got[who] != want {
					t.Errorf("profile %s is %q, want %s (all: ann %s, bob %s, cat %s)", who, got[who], want, got[ann], got[bob], got[cat])
				}
			}
		})
	}

	t.Run("Sources", func(t *testing.T) {
		// Ann and Bob are in email_contains; Bob in attr_le.
		src := func(names ...string) []types.SourceSegment {
			var out []types.SourceSegment
			for _, n := range names {
				out = append(out, types.SourceSegment{SegmentDefinitionName: aws.String(n)})
			}
			return out
		}
		for _, tt := range []struct {
			name          string
			group         types.Group
			ann, bob, cat string
		}{
			{"src_all", types.Group{SourceType: all, SourceSegments: src("email_contains", "attr_le")}, A, P, A},
			{"src_any", types.Group{SourceType: anyOf, SourceSegments: src("email_contains", "attr_le")}, P, P, A},
			{"src_none", types.Group{SourceType: none, SourceSegments: src("attr_le")}, P, A, P},
			{"src_and_dims", types.Group{SourceType: anyOf, SourceSegments: src("email_contains"),
				Dimensions: []types.Dimension{profileDim(types.ProfileAttributes{Attributes: attrDim("tier", types.AttributeDimensionTypeInclusive, "gold")})}}, P, A, A},
		} {
			if err := e.createSegment(tt.name, &types.SegmentGroup{Groups: []types.Group{tt.group}}); err != nil {
				t.Fatalf("CreateSegmentDefinition %s: %v", tt.name, err)
			}
			got, _ := e.membership(tt.name, ann, bob, cat)
			for who, want := range map[string]string{ann: tt.ann, bob: tt.bob, cat: tt.cat} {
				if got[who] != want {
					t.Errorf("%s: profile %s is %q, want %s", tt.name, who, got[who], want)
				}
			}
		}
	})

	t.Run("DaysAndEnums", func(t *testing.T) {
		// A date bound is its whole day, as ON reads it: a time on the
		// last day of BETWEEN is in it, and not AFTER it. GenderString and
		// PartyTypeString read Gender and PartyType when they are not set.
		dan := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Dan"), Gender: types.GenderFemale,
			PartyType: types.PartyTypeBusiness, Attributes: map[string]string{"seen": "2023-12-31T10:00:00Z"}})
		for _, tt := range []struct {
			name string
			dim  types.ProfileAttributes
			want string
		}{
			{"seen_between", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeBetween, "2023-01-01", "2023-12-31")}, P},
			{"seen_between_reversed", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeBetween, "2023-12-31", "2023-01-01")}, P},
			{"seen_not_between", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeNotBetween, "2023-12-31", "2024-01-05")}, A},
			{"seen_after", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeAfter, "2023-12-31")}, A},
			{"seen_after_time", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeAfter, "2023-12-31T09:00:00Z")}, P},
			{"seen_before", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeBefore, "2023-12-31")}, A},
			{"seen_on", types.ProfileAttributes{Attributes: attrDim("seen", types.AttributeDimensionTypeOn, "2023-12-31")}, P},
			{"gender_enum", types.ProfileAttributes{GenderString: strDim(types.StringDimensionTypeInclusive, "FEMALE")}, P},
			{"party_enum", types.ProfileAttributes{PartyTypeString: strDim(types.StringDimensionTypeExclusive, "BUSINESS")}, A},
		} {
			if err := e.createSegment(tt.name, oneGroup(all, profileDim(tt.dim))); err != nil {
				t.Fatalf("CreateSegmentDefinition %s: %v", tt.name, err)
			}
			if got, _ := e.membership(tt.name, dan); got[dan] != tt.want {
				t.Errorf("%s: Dan is %q, want %s", tt.name, got[dan], tt.want)
			}
		}
	})

	t.Run("Membership", func(t *testing.T) {
		missing := "0123456789abcdef0123456789abcdef"
		out, err := e.client.GetSegmentMembership(t.Context(), &customerprofiles.GetSegmentMembershipInput{DomainName: aws.String(e.domain),
			SegmentDefinitionName: aws.String("first_inclusive"), ProfileIds: []string{missing, ann, bob}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Profiles) != 2 || aws.ToString(out.Profiles[0].ProfileId) != ann || out.Profiles[0].QueryResult != types.QueryResultPresent ||
			aws.ToString(out.Profiles[0].Profile.FirstName) != "Ann" || aws.ToString(out.Profiles[1].ProfileId) != bob || out.Profiles[1].Profile != nil {
			t.Errorf("Profiles %+v", out.Profiles)
		}
		if len(out.Failures) != 1 || aws.ToString(out.Failures[0].ProfileId) != missing || aws.ToInt32(out.Failures[0].Status) != 404 ||
			aws.ToString(out.Failures[0].Message) == "" {
			t.Errorf("Failures %+v", out.Failures)
		}
		if aws.ToString(out.SegmentDefinitionName) != "first_inclusive" || out.LastComputedAt == nil {
			t.Errorf("answer %+v", out)
		}
		_, err = e.client.GetSegmentMembership(t.Context(), &customerprofiles.GetSegmentMembershipInput{DomainName: aws.String(e.domain),
			SegmentDefinitionName: aws.String("first_inclusive"), ProfileIds: []string{"not-an-id"}})
		wantAPIError(t, err, "BadRequestException", "ProfileIds")
	})
}
