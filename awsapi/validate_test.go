package awsapi

import (
	"encoding/json"
	"errors"
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
	for _, tt := range []struct {
		in     string
		wantMS int64
	}{
		{"1719000000.123", 1719000000123},
		{`"2024-06-21T20:00:00.123Z"`, 1719000000123},
		{"1719000000", 1719000000000},
		{"1.719000000123e9", 1719000000123},
		{"-62135596800", -62135596800000},     // 0001-01-01T00:00:00Z
		{"253402300799.999", 253402300799999}, // 9999-12-31T23:59:59.999Z
	} {
		var got Timestamp
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Fatalf("unmarshal %s: %v", tt.in, err)
		}
		if got.Time().UnixMilli() != tt.wantMS {
			t.Errorf("unmarshal %s = %v (%d ms), want %d ms", tt.in, got.Time(), got.Time().UnixMilli(), tt.wantMS)
		}
	}
	// Out of years 1 to 9999: 1e20 seconds overflowed into a time of the
	// year 1677 (or 292277026596), a year-0 string was taken as it came.
	for _, in := range []string{`"yesterday"`, "1e20", "-1e20", "253402300800", "-62135596801", "1e400",
		`"99999-01-01T00:00:00Z"`, `"0000-06-01T00:00:00Z"`, `"0001-01-01T00:30:00+01:00"`, "true"} {
		var bad Timestamp
		var typeErr *json.UnmarshalTypeError
		if err := json.Unmarshal([]byte(in), &bad); !errors.As(err, &typeErr) || typeErr.Type != timestampType {
			t.Errorf("unmarshal %s: %v (%v); want a timestamp type error", in, err, bad.Time())
		}
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
