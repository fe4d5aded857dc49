package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// TestAuthorize_TagsOnlyForPolicies: the condition keys that cost a
// look-up (AuthRequest.Tags) are asked for, once, when policies are
// evaluated, and decide them; the account root is never asked for them.
func TestAuthorize_TagsOnlyForPolicies(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s := service.New(db, "us-east-1", "000000000000", []byte("secret-secret-secret-secret-0123"))
	s.IAM = db
	p, err := s.CreatePrincipal(ctx, profiles.PrincipalUser, "agent")
	if err != nil {
		t.Fatal(err)
	}
	err = s.PutPolicy(ctx, "agent", "team", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"profile:GetDomain","Resource":"*",`+
		`"Condition":{"StringEquals":{"aws:ResourceTag/team":"east"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	asks := 0
	request := func(principal, team string) *profiles.AuthRequest {
		return &profiles.AuthRequest{Principal: principal, Action: "profile:GetDomain", Resource: "arn:aws:profile:us-east-1:000000000000:domains/d",
			Context: map[string][]string{"aws:SourceIp": {"127.0.0.1"}},
			Tags: func(context.Context) (map[string][]string, error) {
				asks++
				if team == "unreadable" {
					return nil, errors.New("the store is down")
				}
				return map[string][]string{"aws:ResourceTag/team": {team}}, nil
			}}
	}

	if err := s.Authorize(ctx, request(profiles.RootARN("000000000000"), "west")); err != nil {
		t.Fatalf("root: %v", err)
	}
	if asks != 0 {
		t.Fatalf("root: tags asked for %d times, want 0", asks)
	}
	if err := s.Authorize(ctx, request(p.ARN, "east")); err != nil {
		t.Fatalf("agent, domain of its team: %v", err)
	}
	if asks != 1 {
		t.Fatalf("agent: tags asked for %d times, want 1", asks)
	}
	r := request(p.ARN, "west")
	if err := s.Authorize(ctx, r); profiles.ErrorCode(err) != profiles.EFORBIDDEN {
		t.Fatalf("agent, domain of another team: got %v, want EFORBIDDEN", err)
	}
	if got := r.Context["aws:ResourceTag/team"]; len(got) != 1 || got[0] != "west" {
		t.Fatalf("the tags were not added to the request's context: %v", r.Context)
	}
	if err := s.Authorize(ctx, r); profiles.ErrorCode(err) != profiles.EFORBIDDEN || asks != 2 {
		t.Fatalf("the same request again: %v after %d asks, want EFORBIDDEN after 2", err, asks)
	}
	// Tags that cannot be read refuse the request (a Deny on a tag must
	// not lapse when the store fails).
	if err := s.Authorize(ctx, request(p.ARN, "unreadable")); err == nil {
		t.Fatal("agent, tags unreadable: allowed; want an error")
	}
}
