package iam_test

import (
	"testing"

	"github.com/openprofiles/profiles/iam"
)

// TestConditions checks each condition operator through an Allow statement:
// want is whether the condition holds.
func TestConditions(t *testing.T) {
	tests := []struct {
		name      string
		condition string
		ctx       []string // key, value ('|' separates values; "" is an empty list)
		want      bool
	}{
		// StringEquals and friends.
		{"StringEquals", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, []string{"aws:SourceAccount", account}, true},
		{"StringEqualsOther", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, []string{"aws:SourceAccount", otherAcct}, false},
		{"StringEqualsCase", `{"StringEquals":{"aws:RequestTag/env":"Prod"}}`, []string{"aws:RequestTag/env", "prod"}, false},
		{"StringEqualsMissing", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, nil, false},
		{"StringEqualsEmptyList", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, []string{"aws:SourceAccount", ""}, false},
		{"StringEqualsNumberValue", `{"StringEquals":{"aws:SourceAccount":111122223333}}`, []string{"aws:SourceAccount", account}, true},
		{"StringEqualsKeyIgnoresCase", `{"StringEquals":{"AWS:SOURCEACCOUNT":"111122223333"}}`, []string{"aws:SourceAccount", account}, true},
		{"StringEqualsContextKeyIgnoresCase", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, []string{"Aws:sourceaccount", account}, true},
		{"StringEqualsMultiValuedKey", `{"StringEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", "team|env"}, true},
		{"StringNotEquals", `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, []string{"aws:SourceAccount", otherAcct}, true},
		{"StringNotEqualsSame", `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, []string{"aws:SourceAccount", account}, false},
		{"StringNotEqualsMissing", `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, nil, true},
		{"StringNotEqualsNoneOf", `{"StringNotEquals":{"aws:RequestTag/env":["prod","staging"]}}`, []string{"aws:RequestTag/env", "dev"}, true},
		{"StringNotEqualsOneOf", `{"StringNotEquals":{"aws:RequestTag/env":["prod","staging"]}}`, []string{"aws:RequestTag/env", "staging"}, false},
		{"StringNotEqualsMultiValuedKey", `{"StringNotEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", "team|env"}, false},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:RequestTag/env":"PROD"}}`, []string{"aws:RequestTag/env", "prod"}, true},
		{"StringEqualsIgnoreCaseOther", `{"StringEqualsIgnoreCase":{"aws:RequestTag/env":"PROD"}}`, []string{"aws:RequestTag/env", "dev"}, false},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:RequestTag/env":"PROD"}}`, []string{"aws:RequestTag/env", "Prod"}, false},
		{"StringNotEqualsIgnoreCaseOther", `{"StringNotEqualsIgnoreCase":{"aws:RequestTag/env":"PROD"}}`, []string{"aws:RequestTag/env", "dev"}, true},
		{"StringLike", `{"StringLike":{"aws:RequestTag/team":"contact-*"}}`, []string{"aws:RequestTag/team", "contact-center"}, true},
		{"StringLikeQuestion", `{"StringLike":{"aws:RequestTag/team":"team-?"}}`, []string{"aws:RequestTag/team", "team-é"}, true},
		{"StringLikeQuestionTwo", `{"StringLike":{"aws:RequestTag/team":"team-?"}}`, []string{"aws:RequestTag/team", "team-ab"}, false},
		{"StringLikeIsCaseSensitive", `{"StringLike":{"aws:RequestTag/team":"contact-*"}}`, []string{"aws:RequestTag/team", "Contact-center"}, false},
		{"StringLikeMiddle", `{"StringLike":{"aws:RequestTag/team":"*-center-*"}}`, []string{"aws:RequestTag/team", "a-center-b"}, true},
		{"StringNotLike", `{"StringNotLike":{"aws:RequestTag/team":["contact-*","ops"]}}`, []string{"aws:RequestTag/team", "finance"}, true},
		{"StringNotLikeMatch", `{"StringNotLike":{"aws:RequestTag/team":["contact-*","ops"]}}`, []string{"aws:RequestTag/team", "ops"}, false},
		{"StringNotLikeMissing", `{"StringNotLike":{"aws:RequestTag/team":"ops"}}`, nil, true},

		// IfExists.
		{"IfExistsMissing", `{"StringEqualsIfExists":{"aws:RequestTag/env":"prod"}}`, nil, true},
		{"IfExistsPresent", `{"StringEqualsIfExists":{"aws:RequestTag/env":"prod"}}`, []string{"aws:RequestTag/env", "prod"}, true},
		{"IfExistsPresentOther", `{"StringEqualsIfExists":{"aws:RequestTag/env":"prod"}}`, []string{"aws:RequestTag/env", "dev"}, false},
		{"NotIfExistsMissing", `{"StringNotEqualsIfExists":{"aws:RequestTag/env":"prod"}}`, nil, true},
		{"NumericIfExistsMissing", `{"NumericLessThanIfExists":{"profile:MaxResults":"100"}}`, nil, true},
		{"BoolIfExistsMissing", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, nil, true},
		{"BoolIfExistsFalse", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, []string{"aws:MultiFactorAuthPresent", "false"}, false},
		{"IpAddressIfExistsMissing", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true},
		{"ArnLikeIfExistsMissing", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:profile:*:111122223333:domains/*"}}`, nil, true},

		// Numeric.
		{"NumericEquals", `{"NumericEquals":{"profile:MaxResults":10}}`, []string{"profile:MaxResults", "10"}, true},
		{"NumericEqualsDecimal", `{"NumericEquals":{"profile:MaxResults":"10.0"}}`, []string{"profile:MaxResults", "10"}, true},
		{"NumericEqualsExponent", `{"NumericEquals":{"profile:MaxResults":1e1}}`, []string{"profile:MaxResults", "10"}, true},
		{"NumericEqualsBigInts", `{"NumericEquals":{"profile:Size":"9007199254740993"}}`, []string{"profile:Size", "9007199254740992"}, false},
		{"NumericEqualsNotNumber", `{"NumericEquals":{"profile:MaxResults":"10"}}`, []string{"profile:MaxResults", "ten"}, false},
		{"NumericNotEquals", `{"NumericNotEquals":{"profile:MaxResults":["10","20"]}}`, []string{"profile:MaxResults", "15"}, true},
		{"NumericNotEqualsOneOf", `{"NumericNotEquals":{"profile:MaxResults":["10","20"]}}`, []string{"profile:MaxResults", "20"}, false},
		{"NumericLessThan", `{"NumericLessThan":{"profile:MaxResults":"100"}}`, []string{"profile:MaxResults", "99.5"}, true},
		{"NumericLessThanEqualValue", `{"NumericLessThan":{"profile:MaxResults":"100"}}`, []string{"profile:MaxResults", "100"}, false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"profile:MaxResults":"100"}}`, []string{"profile:MaxResults", "100"}, true},
		{"NumericLessThanEqualsAbove", `{"NumericLessThanEquals":{"profile:MaxResults":"100"}}`, []string{"profile:MaxResults", "101"}, false},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"profile:MaxResults":"-5"}}`, []string{"profile:MaxResults", "0"}, true},
		{"NumericGreaterThanEqualValue", `{"NumericGreaterThan":{"profile:MaxResults":"0"}}`, []string{"profile:MaxResults", "0"}, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"profile:MaxResults":"0"}}`, []string{"profile:MaxResults", "0"}, true},
		{"NumericGreaterThanEqualsBelow", `{"NumericGreaterThanEquals":{"profile:MaxResults":"0"}}`, []string{"profile:MaxResults", "-0.5"}, false},
		{"NumericMissing", `{"NumericLessThan":{"profile:MaxResults":"100"}}`, nil, false},
		{"NumericNotEqualsMissing", `{"NumericNotEquals":{"profile:MaxResults":"100"}}`, nil, true},

		// Dates: ISO 8601 and epoch seconds, either side.
		{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2025-06-01T12:00:00Z"}, true},
		{"DateLessThanAfter", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2026-01-01T00:00:01Z"}, false},
		{"DateLessThanOffset", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2025-12-31T23:00:00-02:00"}, false},
		{"DateLessThanDateOnly", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01"}}`, []string{"aws:CurrentTime", "2025-12-31T23:59:59Z"}, true},
		{"DateLessThanEpochRequest", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:EpochTime", "x", "aws:CurrentTime", "1767225599"}, true},
		{"DateGreaterThanEpochPolicy", `{"DateGreaterThan":{"aws:EpochTime":1767225600}}`, []string{"aws:EpochTime", "1767225601"}, true},
		{"DateEquals", `{"DateEquals":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:TokenIssueTime", "2026-01-01T01:00:00+01:00"}, true},
		{"DateEqualsFraction", `{"DateEquals":{"aws:TokenIssueTime":"2026-01-01T00:00:00.500Z"}}`, []string{"aws:TokenIssueTime", "2026-01-01T00:00:00Z"}, false},
		{"DateNotEquals", `{"DateNotEquals":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:TokenIssueTime", "2026-01-02T00:00:00Z"}, true},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "1767225600"}, true},
		{"DateGreaterThanEquals", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2025-12-31T23:59:59Z"}, false},
		{"DateNotADate", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "tomorrow"}, false},
		{"DateMissing", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, nil, false},

		// Bool, BinaryEquals, Null.
		{"BoolTrue", `{"Bool":{"aws:SecureTransport":"true"}}`, []string{"aws:SecureTransport", "true"}, true},
		{"BoolJSON", `{"Bool":{"aws:SecureTransport":true}}`, []string{"aws:SecureTransport", "TRUE"}, true},
		{"BoolFalse", `{"Bool":{"aws:SecureTransport":"true"}}`, []string{"aws:SecureTransport", "false"}, false},
		{"BoolMissing", `{"Bool":{"aws:SecureTransport":"false"}}`, nil, false},
		{"BinaryEquals", `{"BinaryEquals":{"profile:Blob":"QmluYXJ5"}}`, []string{"profile:Blob", "QmluYXJ5"}, true},
		{"BinaryEqualsOther", `{"BinaryEquals":{"profile:Blob":"QmluYXJ5"}}`, []string{"profile:Blob", "T3RoZXI="}, false},
		{"BinaryEqualsNotBase64", `{"BinaryEquals":{"profile:Blob":"QmluYXJ5"}}`, []string{"profile:Blob", "Binary"}, false},
		{"NullTrueMissing", `{"Null":{"aws:RequestTag/env":"true"}}`, nil, true},
		{"NullTruePresent", `{"Null":{"aws:RequestTag/env":"true"}}`, []string{"aws:RequestTag/env", "prod"}, false},
		{"NullTrueEmpty", `{"Null":{"aws:RequestTag/env":true}}`, []string{"aws:RequestTag/env", ""}, true},
		{"NullFalsePresent", `{"Null":{"aws:RequestTag/env":"false"}}`, []string{"aws:RequestTag/env", "prod"}, true},
		{"NullFalseMissing", `{"Null":{"aws:RequestTag/env":false}}`, nil, false},

		// IP addresses, v4 and v6.
		{"IpAddress", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "203.0.113.7"}, true},
		{"IpAddressOutside", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "203.0.114.7"}, false},
		{"IpAddressSingle", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, []string{"aws:SourceIp", "203.0.113.7"}, true},
		{"IpAddressSingleOther", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, []string{"aws:SourceIp", "203.0.113.8"}, false},
		{"IpAddressHostBitsSet", `{"IpAddress":{"aws:SourceIp":"10.1.2.3/8"}}`, []string{"aws:SourceIp", "10.200.0.1"}, true},
		{"IpAddressList", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, []string{"aws:SourceIp", "203.0.113.7"}, true},
		{"IpAddressV6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, []string{"aws:SourceIp", "2001:db8:ffff::1"}, true},
		{"IpAddressV6Outside", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, []string{"aws:SourceIp", "2001:db9::1"}, false},
		{"IpAddressV4PrefixV6Addr", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, []string{"aws:SourceIp", "2001:db8::1"}, false},
		{"IpAddressV4Mapped", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "::ffff:203.0.113.7"}, true},
		{"IpAddressV4MappedPrefix", `{"IpAddress":{"aws:SourceIp":"::ffff:203.0.113.0/120"}}`, []string{"aws:SourceIp", "203.0.113.7"}, true},
		{"IpAddressNotAnAddress", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, []string{"aws:SourceIp", "localhost"}, false},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}`, []string{"aws:SourceIp", "198.51.100.1"}, true},
		{"NotIpAddressInside", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}`, []string{"aws:SourceIp", "2001:db8::5"}, false},
		{"NotIpAddressNotAnAddress", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, []string{"aws:SourceIp", "garbage"}, true},
		{"NotIpAddressMissing", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true},

		// ARNs: six parts, wildcards within a part.
		{"ArnLike", `{"ArnLike":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/*"}}`, []string{"aws:SourceArn", retail}, true},
		{"ArnLikeOtherAccount", `{"ArnLike":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/*"}}`, []string{"aws:SourceArn", "arn:aws:profile:us-east-1:444455556666:domains/retail"}, false},
		{"ArnLikePartWildcards", `{"ArnLike":{"aws:SourceArn":"arn:aws:*:us-*-1:1111????3333:domains/*"}}`, []string{"aws:SourceArn", retail}, true},
		{"ArnLikeStarStaysInPart", `{"ArnLike":{"aws:SourceArn":"arn:aws:profile:us-east-1:*:domains/*"}}`, []string{"aws:SourceArn", "arn:aws:profile:us-east-1:1111:2222:domains/x"}, false},
		{"ArnLikeResourceKeepsColons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:us-east-1:111122223333:log-group:*"}}`, []string{"aws:SourceArn", "arn:aws:logs:us-east-1:111122223333:log-group:x:y"}, true},
		{"ArnLikeNotAnARN", `{"ArnLike":{"aws:SourceArn":"arn:aws:profile:*:*:*"}}`, []string{"aws:SourceArn", "domains/retail"}, false},
		{"ArnLikeCaseSensitive", `{"ArnLike":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/Retail"}}`, []string{"aws:SourceArn", retail}, false},
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/retail"}}`, []string{"aws:SourceArn", retail}, true},
		{"ArnEqualsWildcard", `{"ArnEquals":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/*"}}`, []string{"aws:SourceArn", retail}, true},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/retail"}}`, []string{"aws:SourceArn", retail + "2"}, true},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:profile:*:111122223333:*"}}`, []string{"aws:SourceArn", retail}, false},
		{"ArnNotLikeMissing", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:profile:*:111122223333:*"}}`, nil, true},
		{"ArnNotLikeOther", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:profile:*:111122223333:*"}}`, []string{"aws:SourceArn", "arn:aws:profile:us-east-1:444455556666:domains/x"}, true},

		// Set operators on multi-valued keys.
		{"ForAllValuesSubset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "env"}, true},
		{"ForAllValuesAll", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "team|env"}, true},
		{"ForAllValuesExtra", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "env|owner"}, false},
		{"ForAllValuesMissing", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, nil, true},
		{"ForAllValuesEmpty", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", ""}, true},
		{"ForAllValuesLike", `{"ForAllValues:StringLike":{"aws:TagKeys":"team-*"}}`, []string{"aws:TagKeys", "team-a|team-b"}, true},
		{"ForAllValuesNotEquals", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, []string{"aws:TagKeys", "env|team"}, true},
		{"ForAllValuesNotEqualsHit", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, []string{"aws:TagKeys", "env|secret"}, false},
		{"ForAllValuesIfExists", `{"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":"env"}}`, nil, true},
		{"ForAnyValue", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "owner|env"}, true},
		{"ForAnyValueNone", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "owner"}, false},
		{"ForAnyValueMissing", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, nil, false},
		{"ForAnyValueEmpty", `{"ForAnyValue:StringEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", ""}, false},
		{"ForAnyValueIfExistsMissing", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"env"}}`, nil, true},
		{"ForAnyValueNotEquals", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", "env|team"}, true},
		{"ForAnyValueNotEqualsOnly", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", "env"}, false},
		{"ForAnyValueIpAddress", `{"ForAnyValue:IpAddress":{"profile:ClientIps":"10.0.0.0/8"}}`, []string{"profile:ClientIps", "192.0.2.1|10.1.1.1"}, true},
		{"ForAllValuesNumeric", `{"ForAllValues:NumericLessThan":{"profile:Sizes":"10"}}`, []string{"profile:Sizes", "1|2|11"}, false},

		// Variables in condition values.
		{"VariableUnknownValue", `{"StringEquals":{"aws:RequestTag/owner":"${aws:PrincipalTag/owner}"}}`, []string{"aws:RequestTag/owner", "x"}, false},
		{"VariableUnknownNegated", `{"StringNotEquals":{"aws:RequestTag/owner":"${aws:PrincipalTag/owner}"}}`, []string{"aws:RequestTag/owner", "x"}, true},
		{"VariableNumeric", `{"NumericLessThanEquals":{"profile:MaxResults":"${profile:Limit}"}}`, []string{"profile:MaxResults", "5", "profile:Limit", "10"}, true},
		{"VariableNumericNotNumber", `{"NumericLessThanEquals":{"profile:MaxResults":"${profile:Limit}"}}`, []string{"profile:MaxResults", "5", "profile:Limit", "lots"}, false},
		{"VariableEscape", `{"StringEquals":{"aws:RequestTag/x":"a${*}b${$}{c}"}}`, []string{"aws:RequestTag/x", "a*b${c}"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MustParse(t, policy(allowAll(tt.condition)))
			r := request(alice, "profile:GetProfile", retail, tt.ctx...)
			want := iam.NotApplicable
			if tt.want {
				want = iam.Allow
			}
			if got := p.Evaluate(r); got != want {
				t.Errorf("%s with context %v: got %v, want %v", tt.condition, r.Context, got, want)
			}
		})
	}
}

// TestConditions_Constructed checks conditions built in Go rather than
// parsed: unknown operators never hold.
func TestConditions_Constructed(t *testing.T) {
	p := &iam.Policy{Version: iam.Version2012, Statements: []iam.Statement{{
		Effect: iam.EffectAllow, Actions: []string{"*"}, Resources: []string{"*"},
		Conditions: []iam.Condition{{Operator: "StringMatches", Key: "aws:SourceAccount", Values: []string{account}}},
	}}}
	if got, want := p.Evaluate(request(alice, "kms:Decrypt", "*", "aws:SourceAccount", account)), iam.NotApplicable; got != want {
		t.Errorf("unknown operator: got %v, want %v", got, want)
	}
}
