package awsapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

func ptr[T any](v T) *T { return &v }

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		in   interface{ validate(*validator, string) }
		want string // "" for valid
	}{
		{"Valid", &CreateDomainRequest{DomainName: ptr("d"), DefaultExpirationDays: ptr(1)}, ""},
		{"Required", &CreateDomainRequest{DomainName: ptr("d")},
			"1 validation error detected: Value null at 'DefaultExpirationDays' failed to satisfy constraint: Member must not be null"},
		{"Pattern", &CreateDomainRequest{DomainName: ptr("a b"), DefaultExpirationDays: ptr(1)},
			"1 validation error detected: Value at 'DomainName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$"},
		{"Range", &CreateDomainRequest{DomainName: ptr("d"), DefaultExpirationDays: ptr(2000)},
			"1 validation error detected: Value at 'DefaultExpirationDays' failed to satisfy constraint: Member must have value less than or equal to 1098"},
		{"NegativeLookahead", &TagResourceRequest{ResourceArn: ptr("arn:aws:profile:x"), Tags: map[string]string{"aws:k": "v"}},
			"1 validation error detected: Value at 'tags.aws:k' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$"},
		{"NestedList", &CreateDomainRequest{DomainName: ptr("d"), DefaultExpirationDays: ptr(1),
			RuleBasedMatching: &RuleBasedMatchingRequest{Enabled: ptr(true), MatchingRules: []MatchingRule{{Rule: []string{}}}}},
			"1 validation error detected: Value at 'RuleBasedMatching.MatchingRules.1.member.Rule' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		// An integer of the model is 32 bits: the SDKs read a larger one
		// back cut to 32 bits (the Go SDK's int32(4294967297) is 1).
		{"Int32Max", &UpdateCalculatedAttributeDefinitionRequest{DomainName: ptr("d"), CalculatedAttributeName: ptr("c"),
			Conditions: &Conditions{ObjectCount: ptr(2147483647)}}, ""},
		{"Int32Overflow", &UpdateCalculatedAttributeDefinitionRequest{DomainName: ptr("d"), CalculatedAttributeName: ptr("c"),
			Conditions: &Conditions{ObjectCount: ptr(4294967297)}},
			"1 validation error detected: Value at 'Conditions.ObjectCount' failed to satisfy constraint: Member must have value less than or equal to 2147483647"},
		{"Int32Underflow", &UpdateCalculatedAttributeDefinitionRequest{DomainName: ptr("d"), CalculatedAttributeName: ptr("c"),
			Conditions: &Conditions{Range: &Range{Unit: ptr("DAYS"), ValueRange: &ValueRange{Start: ptr(-2147483649), End: ptr(2147483647)}}}},
			"1 validation error detected: Value at 'Conditions.Range.ValueRange.Start' failed to satisfy constraint: Member must have value greater than or equal to -2147483648"},
		{"UnionOneMember", segmentWithDimension(Dimension{ProfileAttributes: &ProfileAttributes{}}), ""},
		// A union (the model's Dimension) holds exactly one member: with
		// both, a client reads back one of them (the Go SDK at random).
		{"UnionTwoMembers", segmentWithDimension(Dimension{ProfileAttributes: &ProfileAttributes{}, CalculatedAttributes: map[string]CalculatedAttributeDimension{}}),
			"1 validation error detected: Value at 'SegmentGroups.Groups.1.member.Dimensions.1.member' failed to satisfy constraint: Member must have exactly one of its members set: one of [CalculatedAttributes, ProfileAttributes]"},
		{"UnionNoMember", segmentWithDimension(Dimension{}),
			"1 validation error detected: Value at 'SegmentGroups.Groups.1.member.Dimensions.1.member' failed to satisfy constraint: Member must have exactly one of its members set: one of [CalculatedAttributes, ProfileAttributes]"},
		{"Several", &CreateDomainRequest{DomainName: ptr(""), DefaultExpirationDays: ptr(0)},
			"3 validation errors detected: Value at 'DefaultExpirationDays' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value at 'DomainName' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value at 'DomainName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := new(validator)
			tt.in.validate(v, "")
			err := v.err()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v, want valid", err)
				}
				return
			}
			if got := profiles.ErrorCode(err); got != profiles.EINVALID {
				t.Fatalf("code=%q, want %q", got, profiles.EINVALID)
			}
			if got := profiles.ErrorMessage(err); got != tt.want {
				t.Fatalf("message:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func segmentWithDimension(d Dimension) *CreateSegmentDefinitionRequest {
	return &CreateSegmentDefinitionRequest{DomainName: ptr("d"), SegmentDefinitionName: ptr("s"), DisplayName: ptr("s"),
		SegmentGroups: &SegmentGroup{Groups: []Group{{Dimensions: []Dimension{d}}}}}
}

func TestTimestamp(t *testing.T) {
	ts := Timestamp(time.UnixMilli(1719000000123))
	b, err := json.Marshal(ts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "1719000000.123"; got != want {
		t.Fatalf("marshal=%s, want %s", got, want)
	}
	for _, in := range []string{"1719000000.123", `"2024-06-21T20:00:00.123Z"`} {
		var got Timestamp
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("unmarshal %s: %v", in, err)
		}
		if got.Time().UnixMilli() != 1719000000123 {
			t.Errorf("unmarshal %s = %v", in, got.Time())
		}
	}
	var bad Timestamp
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Errorf("unmarshal of a bad timestamp succeeded")
	}
}

// TestDecodeBody_TypeErrors: a value of the wrong JSON type is refused
// naming the member and the type the model wants (an integer member given
// 5.5 read "must be of type number, not number 5.5").
func TestDecodeBody_TypeErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"DefaultExpirationDays":5.5}`, "Malformed request body: value at 'DefaultExpirationDays' must be of type integer, not number 5.5"},
		{`{"DefaultExpirationDays":"5"}`, "Malformed request body: value at 'DefaultExpirationDays' must be of type integer, not string"},
		{`{"Matching":{"Enabled":1}}`, "Malformed request body: value at 'Matching.Enabled' must be of type boolean, not number"},
		{`{"Tags":[]}`, "Malformed request body: value at 'Tags' must be of type object, not array"},
	}
	for _, tt := range tests {
		c := &call{body: []byte(tt.body)}
		err := c.decodeBody(new(CreateDomainRequest))
		if got := profiles.ErrorMessage(err); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.body, got, tt.want)
		}
	}
}
