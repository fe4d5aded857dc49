package iam_test

import (
	"testing"

	"github.com/openprofiles/profiles/iam"
)

func TestAuthorize(t *testing.T) {
	var (
		allowSearch   = policy(`{"Sid":"Search","Effect":"Allow","Action":"profile:SearchProfiles","Resource":"*"}`)
		denyRetail    = policy(`{"Sid":"NoRetail","Effect":"Deny","Action":"profile:*","Resource":"` + retail + `"}`)
		denyNoSid     = policy(`{"Effect":"Allow","Action":"kms:*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*"}`)
		resAllowAlice = policy(`{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"profile:*","Resource":"*"}`)
		resDenyAlice  = policy(`{"Sid":"NotAlice","Effect":"Deny","Principal":{"AWS":"` + alice + `"},"Action":"profile:*","Resource":"*"}`)
		resDenyAcct   = policy(`{"Sid":"NotThisAccount","Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"profile:*","Resource":"*"}`)
		resAllowAcct  = policy(`{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"profile:*","Resource":"*"}`)
		resAllowAll   = policy(`{"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"profile:*","Resource":"*"}`)
		resNoPrinc    = policy(`{"Sid":"Loose","Effect":"Allow","Action":"profile:*","Resource":"*"}`)
		resDenyNoPr   = policy(`{"Sid":"LooseDeny","Effect":"Deny","Action":"profile:*","Resource":"*"}`)
		resNotPrinc   = policy(`{"Sid":"AllButBob","Effect":"Deny","NotPrincipal":{"AWS":"` + bob + `"},"Action":"profile:*","Resource":"*"}`)
	)
	search := request(alice, "profile:SearchProfiles", retail)
	tests := []struct {
		name       string
		identity   []string
		resource   []string
		req        *iam.Request
		want       bool
		wantReason string
	}{
		{"NoPolicies", nil, nil, search, false, "no policy allows"},
		{"IdentityAllows", []string{allowSearch}, nil, search, true, "allowed by statement Search (identity policy 0)"},
		{"IdentityOtherAction", []string{allowSearch}, nil, request(alice, "profile:DeleteDomain", retail), false, "no policy allows"},
		{"IdentityDenyOverridesIdentityAllow", []string{allowSearch, denyRetail}, nil, search, false, "explicitly denied by statement NoRetail (identity policy 1)"},
		{"DenyWithoutSid", []string{denyNoSid}, nil, search, false, "explicitly denied by statement 1 (identity policy 0)"},
		{"ResourceDenyOverridesIdentityAllow", []string{allowSearch}, []string{resDenyAlice}, search, false, "explicitly denied by statement NotAlice (resource policy 0)"},
		{"IdentityDenyOverridesResourceAllow", []string{denyRetail}, []string{resAllowAlice}, search, false, "explicitly denied by statement NoRetail (identity policy 0)"},
		{"ResourceDenyOverridesResourceAllow", nil, []string{resAllowAlice, resDenyAlice}, search, false, "explicitly denied by statement NotAlice (resource policy 1)"},
		{"ResourceAllowsPrincipal", nil, []string{resAllowAlice}, search, true, "allowed by statement Alice (resource policy 0)"},
		{"ResourceOtherPrincipal", nil, []string{resAllowAlice}, request(bob, "profile:SearchProfiles", retail), false, "no policy allows"},
		{"ResourceAllowsEveryone", nil, []string{resAllowAll}, request(mallory, "profile:SearchProfiles", retail), true, "allowed by statement Everyone (resource policy 0)"},
		{"AccountDenyCoversUsers", []string{allowSearch}, []string{resDenyAcct}, search, false, "explicitly denied by statement NotThisAccount (resource policy 0)"},
		{"AccountDenySparesOthers", nil, []string{resDenyAcct, resAllowAll}, request(mallory, "profile:SearchProfiles", retail), true, "allowed by statement Everyone (resource policy 1)"},
		{"AccountAllowDelegates", nil, []string{resAllowAcct}, search, false,
			"no policy allows (statement Account (resource policy 0) names the caller's account, which delegates to identity policies)"},
		{"AccountAllowWithIdentity", []string{allowSearch}, []string{resAllowAcct}, search, true, "allowed by statement Search (identity policy 0)"},
		{"AccountAllowRoot", nil, []string{resAllowAcct}, request(rootARN, "profile:SearchProfiles", retail), true, "allowed by statement Account (resource policy 0)"},
		{"AccountAllowOtherAccount", nil, []string{resAllowAcct}, request(mallory, "profile:SearchProfiles", retail), false, "no policy allows"},
		{"ResourceWithoutPrincipalNeverAllows", nil, []string{resNoPrinc}, search, false, "no policy allows"},
		{"ResourceWithoutPrincipalDenies", []string{allowSearch}, []string{resDenyNoPr}, search, false, "explicitly denied by statement LooseDeny (resource policy 0)"},
		{"NotPrincipalDenies", []string{allowSearch}, []string{resNotPrinc}, search, false, "explicitly denied by statement AllButBob (resource policy 0)"},
		{"NotPrincipalExempts", []string{allowSearch}, []string{resNotPrinc}, request(bob, "profile:SearchProfiles", retail), true, "allowed by statement Search (identity policy 0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			identity := make([]*iam.Policy, len(tt.identity))
			for i, doc := range tt.identity {
				identity[i] = MustParse(t, doc)
			}
			resource := make([]*iam.Policy, len(tt.resource))
			for i, doc := range tt.resource {
				resource[i] = MustParse(t, doc)
			}
			got, reason := iam.Authorize(tt.req, identity, resource)
			if got != tt.want || reason != tt.wantReason {
				t.Errorf("Authorize = %v, %q; want %v, %q", got, reason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestAuthorize_NilInputs(t *testing.T) {
	if got, reason := iam.Authorize(nil, nil, nil); got || reason != "no request" {
		t.Errorf("nil request: got %v, %q; want false, %q", got, reason, "no request")
	}
	p := MustParse(t, policy(allowAll("")))
	if got, _ := iam.Authorize(request(alice, "kms:Decrypt", "*"), []*iam.Policy{nil, p}, []*iam.Policy{nil}); !got {
		t.Errorf("nil policies are skipped: got %v, want true", got)
	}
}

// TestAuthorize_KMSKeyPolicy runs the key policy a domain's KMS key needs:
// the account administers the key through IAM, the profiles service may use
// it for domains of the account only.
func TestAuthorize_KMSKeyPolicy(t *testing.T) {
	keyPolicy := []*iam.Policy{MustReadPolicy(t, "kms-key-policy.json")}
	// The same shape with ArnEquals, which also takes wildcards.
	arnEquals := []*iam.Policy{MustParse(t, policy(`{"Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},
		"Action":["kms:GenerateDataKey","kms:Decrypt","kms:CreateGrant"],"Resource":"*",
		"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"},
		"ArnEquals":{"aws:SourceArn":"arn:aws:profile:us-east-1:111122223333:domains/*"}}}`))}
	userDecrypt := []*iam.Policy{MustParse(t, policy(`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+keyARN+`"}`))}

	own := []string{"aws:SourceAccount", account, "aws:SourceArn", retail}
	tests := []struct {
		name     string
		req      *iam.Request
		identity []*iam.Policy
		want     bool
	}{
		{"ServiceGenerateDataKey", request(profileSvc, "kms:GenerateDataKey", keyARN, own...), nil, true},
		{"ServiceDecrypt", request(profileSvc, "kms:Decrypt", keyARN, own...), nil, true},
		{"ServiceCreateGrant", request(profileSvc, "kms:CreateGrant", keyARN, own...), nil, true},
		{"ServiceActionCase", request(profileSvc, "KMS:generatedatakey", keyARN, own...), nil, true},
		{"ServiceOtherAction", request(profileSvc, "kms:ScheduleKeyDeletion", keyARN, own...), nil, false},
		// Confused deputy: another account's domain asks the service to use this key.
		{"ConfusedDeputy", request(profileSvc, "kms:Decrypt", keyARN,
			"aws:SourceAccount", otherAcct, "aws:SourceArn", "arn:aws:profile:us-east-1:444455556666:domains/retail"), nil, false},
		{"ConfusedDeputyForgedAccount", request(profileSvc, "kms:Decrypt", keyARN,
			"aws:SourceAccount", account, "aws:SourceArn", "arn:aws:profile:us-east-1:444455556666:domains/retail"), nil, false},
		{"SourceArnNotADomain", request(profileSvc, "kms:Decrypt", keyARN,
			"aws:SourceAccount", account, "aws:SourceArn", "arn:aws:profile:us-east-1:111122223333:integrations/x"), nil, false},
		{"NoSourceContext", request(profileSvc, "kms:Decrypt", keyARN), nil, false},
		{"OtherService", request("sqs.amazonaws.com", "kms:Decrypt", keyARN, own...), nil, false},
		{"UserWithoutIdentityPolicy", request(alice, "kms:Decrypt", keyARN), nil, false},
		{"UserWithIdentityPolicy", request(alice, "kms:Decrypt", keyARN), userDecrypt, true},
		{"Root", request(rootARN, "kms:ScheduleKeyDeletion", keyARN), nil, true},
		{"OtherAccountUser", request(mallory, "kms:Decrypt", keyARN), userDecrypt, true}, // identity allow alone suffices (see Authorize)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := iam.Authorize(tt.req, tt.identity, keyPolicy)
			if got != tt.want {
				t.Errorf("Authorize(%+v) = %v (%s), want %v", *tt.req, got, reason, tt.want)
			}
			if tt.req.Principal != profileSvc {
				return
			}
			if got, _ := iam.Authorize(tt.req, tt.identity, arnEquals); got != tt.want {
				t.Errorf("ArnEquals form: Authorize(%+v) = %v, want %v", *tt.req, got, tt.want)
			}
		})
	}
}

// TestAuthorize_SQSQueuePolicy runs the policy of a domain's dead-letter
// queue: only the profiles service may send, and only for the account's
// domains.
func TestAuthorize_SQSQueuePolicy(t *testing.T) {
	queuePolicy := []*iam.Policy{MustReadPolicy(t, "sqs-queue-policy.json")}
	own := []string{"aws:SourceAccount", account, "aws:SourceArn", retail}
	tests := []struct {
		name string
		req  *iam.Request
		want bool
	}{
		{"Send", request(profileSvc, "sqs:SendMessage", queueARN, own...), true},
		{"SendUpperCase", request(profileSvc, "SQS:SENDMESSAGE", queueARN, own...), true},
		{"Receive", request(profileSvc, "sqs:ReceiveMessage", queueARN, own...), false},
		{"OtherQueue", request(profileSvc, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:other", own...), false},
		{"ConfusedDeputy", request(profileSvc, "sqs:SendMessage", queueARN, "aws:SourceAccount", otherAcct, "aws:SourceArn", "arn:aws:profile:us-east-1:444455556666:domains/x"), false},
		{"MissingSourceArn", request(profileSvc, "sqs:SendMessage", queueARN, "aws:SourceAccount", account), false},
		{"OtherService", request("sns.amazonaws.com", "sqs:SendMessage", queueARN, own...), false},
		{"User", request(alice, "sqs:SendMessage", queueARN, own...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, reason := iam.Authorize(tt.req, nil, queuePolicy); got != tt.want {
				t.Errorf("Authorize(%+v) = %v (%s), want %v", *tt.req, got, reason, tt.want)
			}
		})
	}
}

// TestDecide: Decide tells an explicit Deny from a request no policy
// allows, where Authorize answers false for both.
func TestDecide(t *testing.T) {
	allow := MustParse(t, policy(`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`))
	deny := MustParse(t, policy(`{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}`))
	r := request(alice, "kms:Decrypt", keyARN)
	for _, tt := range []struct {
		name     string
		identity []*iam.Policy
		want     iam.Decision
	}{
		{"Allow", []*iam.Policy{allow}, iam.Allow},
		{"Deny", []*iam.Policy{allow, deny}, iam.Deny},
		{"None", nil, iam.NotApplicable},
	} {
		if got, reason := iam.Decide(r, tt.identity, nil); got != tt.want || reason == "" {
			t.Errorf("%s: Decide = %v (%q), want %v with a reason", tt.name, got, reason, tt.want)
		}
	}
}

// TestPolicy_EvaluateResource: a resource policy's Allow names the caller
// itself, or only its account (which delegates to identity policies); a
// Deny naming the account applies to all its principals; an Allow without
// a principal allows no one.
func TestPolicy_EvaluateResource(t *testing.T) {
	p := MustParse(t, policy(
		`{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"`+rootARN+`"},"Action":"kms:*","Resource":"*"}`,
		`{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"`+alice+`"},"Action":"kms:Decrypt","Resource":"*"}`,
		`{"Sid":"NoEncrypt","Effect":"Deny","Principal":{"AWS":"`+account+`"},"Action":"kms:Encrypt","Resource":"*"}`,
		`{"Sid":"Anyone","Effect":"Allow","Action":"kms:Sign","Resource":"*"}`))
	for _, tt := range []struct {
		principal, action string
		want              iam.Decision
		byAccount         bool
	}{
		{alice, "kms:Decrypt", iam.Allow, false},
		{bob, "kms:Decrypt", iam.Allow, true},
		{rootARN, "kms:Decrypt", iam.Allow, false},
		{mallory, "kms:Decrypt", iam.NotApplicable, false},
		{alice, "kms:Encrypt", iam.Deny, false},
		{mallory, "kms:Sign", iam.NotApplicable, false},
	} {
		d, byAccount, reason := p.EvaluateResource(request(tt.principal, tt.action, keyARN))
		if d != tt.want || byAccount != tt.byAccount || reason == "" {
			t.Errorf("EvaluateResource(%s, %s) = %v, %v (%q); want %v, %v with a reason", tt.principal, tt.action, d, byAccount, reason, tt.want, tt.byAccount)
		}
	}
}
