package iam_test

import (
	"testing"

	"github.com/openprofiles/profiles/iam"
)

func TestPolicy_Evaluate(t *testing.T) {
	const (
		allowSearch = `{"Sid":"Search","Effect":"Allow","Action":"profile:SearchProfiles","Resource":"arn:aws:profile:us-east-1:111122223333:domains/retail"}`
		denySearch  = `{"Sid":"NoSearch","Effect":"Deny","Action":"profile:SearchProfiles","Resource":"*"}`
		allowAny    = `{"Effect":"Allow","Action":"*","Resource":"*"}`
	)
	search := request(alice, "profile:SearchProfiles", retail)
	tests := []struct {
		name string
		doc  string
		req  *iam.Request
		want iam.Decision
	}{
		// Actions.
		{"ExactAllow", policy(allowSearch), search, iam.Allow},
		{"OtherAction", policy(allowSearch), request(alice, "profile:GetProfile", retail), iam.NotApplicable},
		{"ActionIgnoresCase", policy(allowSearch), request(alice, "PROFILE:searchprofiles", retail), iam.Allow},
		{"ActionPatternIgnoresCase", policy(`{"Effect":"Allow","Action":"Profile:search*","Resource":"*"}`), request(alice, "profile:SearchProfiles", "*"), iam.Allow},
		{"ActionStar", policy(`{"Effect":"Allow","Action":"profile:Search*","Resource":"*"}`), request(alice, "profile:SearchProfiles", "*"), iam.Allow},
		{"ActionStarNoMatch", policy(`{"Effect":"Allow","Action":"profile:Search*","Resource":"*"}`), request(alice, "profile:GetProfile", "*"), iam.NotApplicable},
		{"ActionQuestion", policy(`{"Effect":"Allow","Action":"profile:Get?rofile","Resource":"*"}`), request(alice, "profile:GetProfile", "*"), iam.Allow},
		{"ActionQuestionOneChar", policy(`{"Effect":"Allow","Action":"profile:Get?Profile","Resource":"*"}`), request(alice, "profile:GetProfile", "*"), iam.NotApplicable},
		{"ActionServiceStar", policy(`{"Effect":"Allow","Action":"kms:*","Resource":"*"}`), request(alice, "profile:GetProfile", "*"), iam.NotApplicable},
		{"ActionList", policy(`{"Effect":"Allow","Action":["kms:Decrypt","profile:GetProfile"],"Resource":"*"}`), request(alice, "profile:GetProfile", "*"), iam.Allow},
		{"NotActionOther", policy(`{"Effect":"Allow","NotAction":"kms:*","Resource":"*"}`), request(alice, "profile:GetProfile", "*"), iam.Allow},
		{"NotActionListed", policy(`{"Effect":"Allow","NotAction":"kms:*","Resource":"*"}`), request(alice, "KMS:Decrypt", "*"), iam.NotApplicable},

		// Resources.
		{"ResourceIsCaseSensitive", policy(allowSearch), request(alice, "profile:SearchProfiles", "arn:aws:profile:us-east-1:111122223333:domains/Retail"), iam.NotApplicable},
		{"ResourceStar", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/*"}`), search, iam.Allow},
		{"ResourceStarCrossesSlash", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/*"}`), request(alice, "profile:GetProfile", retail+"/profiles/p1"), iam.Allow},
		{"ResourceStarOtherAccount", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:*:111122223333:domains/*"}`), request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:444455556666:domains/retail"), iam.NotApplicable},
		{"ResourceQuestion", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-?:111122223333:domains/retail"}`), search, iam.Allow},
		{"ResourceARNDoesNotMatchStarRequest", policy(allowSearch), request(alice, "profile:SearchProfiles", "*"), iam.NotApplicable},
		{"ResourceStarMatchesStarRequest", policy(allowAny), request(alice, "profile:ListDomains", "*"), iam.Allow},
		{"NotResourceOther", policy(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:profile:us-east-1:111122223333:domains/secret*"}`), search, iam.Allow},
		{"NotResourceListed", policy(`{"Effect":"Allow","Action":"*","NotResource":["arn:aws:kms:*:*:*","arn:aws:profile:us-east-1:111122223333:domains/retail"]}`), search, iam.NotApplicable},

		// Deny, allow, not applicable.
		{"Empty", policy(`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`), search, iam.NotApplicable},
		{"DenyOverridesAllow", policy(allowSearch, denySearch), search, iam.Deny},
		{"DenyOverridesAllowInAnyOrder", policy(denySearch, allowSearch), search, iam.Deny},
		{"DenyElsewhere", policy(allowSearch, `{"Effect":"Deny","Action":"profile:DeleteDomain","Resource":"*"}`), search, iam.Allow},
		{"DenyOnly", policy(denySearch), search, iam.Deny},
		{"DenyNotResource", policy(allowAny, `{"Effect":"Deny","Action":"profile:*","NotResource":"arn:aws:profile:us-east-1:111122223333:domains/retail*"}`),
			request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/wholesale"), iam.Deny},
		{"DenyNotResourceExempt", policy(allowAny, `{"Effect":"Deny","Action":"profile:*","NotResource":"arn:aws:profile:us-east-1:111122223333:domains/retail*"}`),
			search, iam.Allow},
		{"DenyNotAction", policy(allowAny, `{"Effect":"Deny","NotAction":["profile:Get*","profile:Search*"],"Resource":"*"}`), search, iam.Allow},
		{"DenyNotActionOther", policy(allowAny, `{"Effect":"Deny","NotAction":["profile:Get*","profile:Search*"],"Resource":"*"}`), request(alice, "profile:DeleteDomain", retail), iam.Deny},

		// Principals (Evaluate checks them when present).
		{"PrincipalARN", policy(`{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`), search, iam.Allow},
		{"PrincipalOtherARN", policy(`{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`), request(bob, "profile:SearchProfiles", retail), iam.NotApplicable},
		{"PrincipalAccountID", policy(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`), search, iam.Allow},
		{"PrincipalAccountRoot", policy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*","Resource":"*"}`), search, iam.Allow},
		{"PrincipalOtherAccount", policy(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`), request(mallory, "profile:SearchProfiles", retail), iam.NotApplicable},
		{"PrincipalAccountNotService", policy(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`), request(profileSvc, "kms:Decrypt", keyARN), iam.NotApplicable},
		{"PrincipalStar", policy(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), request(mallory, "profile:SearchProfiles", retail), iam.Allow},
		{"PrincipalAWSStar", policy(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}`), request(profileSvc, "kms:Decrypt", keyARN), iam.Allow},
		{"PrincipalService", policy(`{"Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},"Action":"*","Resource":"*"}`), request(profileSvc, "kms:Decrypt", keyARN), iam.Allow},
		{"PrincipalServiceNotUser", policy(`{"Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},"Action":"*","Resource":"*"}`), search, iam.NotApplicable},
		{"NotPrincipalOther", policy(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`), request(bob, "profile:SearchProfiles", retail), iam.Deny},
		{"NotPrincipalListed", policy(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}`), search, iam.NotApplicable},

		// Conditions combine: operators AND, keys AND, values OR.
		{"ConditionsAllHold", policy(allowAll(`{"StringEquals":{"aws:SourceAccount":"111122223333","aws:username":"alice"},"Bool":{"aws:SecureTransport":true}}`)),
			request(alice, "profile:SearchProfiles", retail, "aws:SourceAccount", account, "aws:SecureTransport", "true"), iam.Allow},
		{"ConditionOperatorFails", policy(allowAll(`{"StringEquals":{"aws:SourceAccount":"111122223333"},"Bool":{"aws:SecureTransport":true}}`)),
			request(alice, "profile:SearchProfiles", retail, "aws:SourceAccount", account, "aws:SecureTransport", "false"), iam.NotApplicable},
		{"ConditionKeyFails", policy(allowAll(`{"StringEquals":{"aws:SourceAccount":"111122223333","aws:username":"bob"}}`)),
			request(alice, "profile:SearchProfiles", retail, "aws:SourceAccount", account), iam.NotApplicable},
		{"ConditionValuesOr", policy(allowAll(`{"StringEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}`)),
			request(alice, "profile:SearchProfiles", retail, "aws:SourceAccount", account), iam.Allow},
		{"ConditionedDeny", policy(allowAny, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			request(alice, "profile:SearchProfiles", retail, "aws:SecureTransport", "false"), iam.Deny},
		{"ConditionedDenyNotMet", policy(allowAny, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			request(alice, "profile:SearchProfiles", retail, "aws:SecureTransport", "true"), iam.Allow},
		{"ConditionedDenyKeyMissing", policy(allowAny, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`),
			search, iam.Deny},

		// Policy variables.
		{"VariableInResource", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/home-${aws:username}"}`),
			request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/home-alice"), iam.Allow},
		{"VariableOtherUser", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/home-${aws:username}"}`),
			request(bob, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/home-alice"), iam.NotApplicable},
		{"VariableFromContext", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:${aws:SourceAccount}:domains/*"}`),
			request(profileSvc, "profile:GetProfile", retail, "aws:SourceAccount", account), iam.Allow},
		{"VariableUnknown", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:PrincipalTag/team}"}`),
			request(alice, "profile:GetProfile", retail), iam.NotApplicable},
		{"VariableDefault", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:PrincipalTag/team, 'retail'}"}`),
			request(alice, "profile:GetProfile", retail), iam.Allow},
		{"VariableMultiValued", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:PrincipalTag/team}"}`),
			request(alice, "profile:GetProfile", retail, "aws:PrincipalTag/team", "retail|ops"), iam.NotApplicable},
		{"VariableTextIsLiteral", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:PrincipalTag/team}"}`),
			request(alice, "profile:GetProfile", retail, "aws:PrincipalTag/team", "*"), iam.NotApplicable},
		{"VariableTextMatchesItself", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:PrincipalTag/team}"}`),
			request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/*", "aws:PrincipalTag/team", "*"), iam.Allow},
		{"EscapeStar", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${*}"}`),
			request(alice, "profile:GetProfile", retail), iam.NotApplicable},
		{"EscapeStarLiteral", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${*}${?}${$}"}`),
			request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/*?$"), iam.Allow},
		{"BackslashWithVariable", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/a\\*${aws:username}"}`),
			request(alice, "profile:GetProfile", `arn:aws:profile:us-east-1:111122223333:domains/a\xyz-alice`), iam.Allow},
		{"BackslashWithVariableNoBackslash", policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/a\\*${aws:username}"}`),
			request(alice, "profile:GetProfile", `arn:aws:profile:us-east-1:111122223333:domains/axyz-alice`), iam.NotApplicable},
		{"Version2008IsLiteral", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:username}"}}`,
			request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/alice"), iam.NotApplicable},
		{"Version2008LiteralMatches", `{"Statement":{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:111122223333:domains/${aws:username}"}}`,
			request(alice, "profile:GetProfile", "arn:aws:profile:us-east-1:111122223333:domains/${aws:username}"), iam.Allow},
		{"VariableInCondition", policy(allowAll(`{"StringEquals":{"aws:RequestTag/owner":"${aws:username}"}}`)),
			request(alice, "profile:TagResource", retail, "aws:RequestTag/owner", "alice"), iam.Allow},
		{"VariableInConditionOther", policy(allowAll(`{"StringEquals":{"aws:RequestTag/owner":"${aws:username}"}}`)),
			request(bob, "profile:TagResource", retail, "aws:RequestTag/owner", "alice"), iam.NotApplicable},
		{"VariablePrincipalArnInArnEquals", policy(allowAll(`{"ArnEquals":{"aws:SourceArn":"${aws:PrincipalArn}"}}`)),
			request(alice, "profile:GetProfile", retail, "aws:SourceArn", alice), iam.Allow},
		{"VariableInStringLikeIsLiteral", policy(allowAll(`{"StringLike":{"aws:RequestTag/name":"${aws:username}-*"}}`)),
			request(alice, "profile:TagResource", retail, "aws:RequestTag/name", "alice-01"), iam.Allow},
		{"ContextOverridesDerived", policy(allowAll(`{"StringEquals":{"aws:username":"carol"}}`)),
			request(alice, "profile:GetProfile", retail, "aws:username", "carol"), iam.Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MustParse(t, tt.doc)
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Errorf("Evaluate(%+v) = %v, want %v", *tt.req, got, tt.want)
			}
		})
	}
}

func TestPolicy_Evaluate_Nil(t *testing.T) {
	var p *iam.Policy
	if got, want := p.Evaluate(request(alice, "kms:Decrypt", "*")), iam.NotApplicable; got != want {
		t.Errorf("nil policy: got %v, want %v", got, want)
	}
	p = MustParse(t, policy(allowAll("")))
	if got, want := p.Evaluate(nil), iam.NotApplicable; got != want {
		t.Errorf("nil request: got %v, want %v", got, want)
	}
}

func TestDecision_String(t *testing.T) {
	for d, want := range map[iam.Decision]string{iam.NotApplicable: "NotApplicable", iam.Allow: "Allow", iam.Deny: "Deny", 7: "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

// TestPolicy_Evaluate_AgentPolicy runs the five-statement identity policy of
// testdata (also the benchmark policy) against typical requests.
func TestPolicy_Evaluate_AgentPolicy(t *testing.T) {
	p := MustReadPolicy(t, "agent-policy.json")
	ctx := []string{"aws:SecureTransport", "true", "aws:SourceIp", "203.0.113.10", "aws:CurrentTime", "2026-03-02T10:00:00Z"}
	with := func(kv ...string) []string { return append(append([]string{}, ctx...), kv...) }
	tests := []struct {
		name string
		req  *iam.Request
		want iam.Decision
	}{
		{"Search", request(alice, "profile:SearchProfiles", retail, ctx...), iam.Allow},
		{"GetObject", request(alice, "profile:GetProfileObjectType", retail+"/object-types/CTR", ctx...), iam.Allow},
		{"FromIPv6", request(alice, "profile:SearchProfiles", retail, "aws:SecureTransport", "true", "aws:SourceIp", "2001:db8:1234:5::7", "aws:CurrentTime", "2026-03-02T10:00:00Z"), iam.Allow},
		{"FromElsewhere", request(alice, "profile:SearchProfiles", retail, "aws:SecureTransport", "true", "aws:SourceIp", "198.51.100.7", "aws:CurrentTime", "2026-03-02T10:00:00Z"), iam.NotApplicable},
		{"PlainHTTP", request(alice, "profile:SearchProfiles", retail, "aws:SecureTransport", "false", "aws:SourceIp", "203.0.113.10"), iam.NotApplicable},
		{"OtherDomain", request(alice, "profile:SearchProfiles", "arn:aws:profile:us-east-1:111122223333:domains/wholesale", ctx...), iam.NotApplicable},
		{"Sandbox", request(alice, "profile:DeleteProfile", "arn:aws:profile:us-east-1:111122223333:domains/sandbox-alice-2", ctx...), iam.Allow},
		{"OthersSandbox", request(bob, "profile:DeleteProfile", "arn:aws:profile:us-east-1:111122223333:domains/sandbox-alice-2", ctx...), iam.NotApplicable},
		{"DeleteDomain", request(alice, "profile:DeleteDomain", "arn:aws:profile:us-east-1:111122223333:domains/sandbox-alice", ctx...), iam.Deny},
		{"DeleteDomainAdmin", request(alice, "profile:DeleteDomain", "arn:aws:profile:us-east-1:111122223333:domains/sandbox-alice", with("aws:PrincipalTag/role", "admin")...), iam.Allow},
		{"AfterCutoff", request(alice, "profile:SearchProfiles", retail, "aws:SecureTransport", "true", "aws:SourceIp", "203.0.113.10", "aws:CurrentTime", "2030-06-01T00:00:00Z"), iam.Deny},
		{"Decrypt", request(alice, "kms:Decrypt", keyARN, with("kms:ViaService", "profile.us-east-1.amazonaws.com")...), iam.Allow},
		{"DecryptDirect", request(alice, "kms:Decrypt", keyARN, ctx...), iam.NotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Errorf("Evaluate(%+v) = %v, want %v", *tt.req, got, tt.want)
			}
		})
	}
}
