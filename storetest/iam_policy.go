package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// fullPolicy returns a policy of principal with every field set, its time
// below the millisecond and outside UTC.
func fullPolicy(principal, name string) *profiles.PrincipalPolicy {
	return &profiles.PrincipalPolicy{
		PrincipalName: principal,
		PolicyName:    name,
		Document: `{"Version":"2012-10-17","Statement":[{"Sid":"clé ✓","Effect":"Allow",` +
			"\n\t" + `"Action":["profile:Get*","kms:Decrypt"],"Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:SourceAccount":"000000000000","x":"\"quoted\" \u0000"}}}]}`,
		UpdatedAt: time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("UTC+2", 2*60*60)),
	}
}

// newPolicy returns a policy of principal, updated at the clock's start.
func newPolicy(principal, name string) *profiles.PrincipalPolicy {
	return &profiles.PrincipalPolicy{PrincipalName: principal, PolicyName: name,
		Document: `{"Version":"2012-10-17","Statement":[]}`, UpdatedAt: clockStart()}
}

func storedPolicy(p *profiles.PrincipalPolicy) *profiles.PrincipalPolicy {
	out := *p
	out.UpdatedAt = storedTime(p.UpdatedAt)
	return &out
}

func mustPutPolicy(tb testing.TB, ctx context.Context, s profiles.IAMStore, p *profiles.PrincipalPolicy) {
	tb.Helper()
	if err := s.PutPrincipalPolicy(ctx, p); err != nil {
		tb.Fatalf("PutPrincipalPolicy(%q, %q): %v", p.PrincipalName, p.PolicyName, err)
	}
}

func mustFindPolicy(tb testing.TB, ctx context.Context, s profiles.IAMStore, principal, name string) *profiles.PrincipalPolicy {
	tb.Helper()
	p, err := s.FindPrincipalPolicy(ctx, principal, name)
	if err != nil {
		tb.Fatalf("FindPrincipalPolicy(%q, %q): %v", principal, name, err)
	}
	return p
}

func mustListPolicies(tb testing.TB, ctx context.Context, s profiles.IAMStore, principal string) []*profiles.PrincipalPolicy {
	tb.Helper()
	ps, err := s.ListPrincipalPolicies(ctx, principal)
	if err != nil {
		tb.Fatalf("ListPrincipalPolicies(%q): %v", principal, err)
	}
	return ps
}

func policyNames(ps []*profiles.PrincipalPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.PolicyName)
	}
	return out
}

func testIAMPolicy(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		if zero := zeroFields("PrincipalPolicy", reflect.ValueOf(fullPolicy("alice", "p"))); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		p := fullPolicy("alice", "read+write=all,profiles.@-_")
		mustPutPolicy(t, ctx, s, p)
		want := storedPolicy(fullPolicy("alice", "read+write=all,profiles.@-_"))
		checkIAM(t, "PutPrincipalPolicy: p", want, p)
		checkIAM(t, "FindPrincipalPolicy", want, mustFindPolicy(t, ctx, s, "alice", p.PolicyName))
		checkIAM(t, "ListPrincipalPolicies", []*profiles.PrincipalPolicy{want}, mustListPolicies(t, ctx, s, "alice"))
	})

	t.Run("ZeroUpdatedAt", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalRole, "app")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		p := fullPolicy("app", "p")
		p.UpdatedAt = time.Time{}
		mustPutPolicy(t, ctx, s, p)
		want := fullPolicy("app", "p")
		want.UpdatedAt = storedTime(clock.Now())
		checkIAM(t, "PutPrincipalPolicy: p", want, p)
		checkIAM(t, "FindPrincipalPolicy", want, mustFindPolicy(t, ctx, s, "app", "p"))
	})

	t.Run("Replace", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		mustPutPolicy(t, ctx, s, fullPolicy("alice", "p"))
		mustPutPolicy(t, ctx, s, fullPolicy("bob", "p"))
		mustPutPolicy(t, ctx, s, newPolicy("alice", "other"))

		replaced := &profiles.PrincipalPolicy{PrincipalName: "alice", PolicyName: "p", Document: `{"replaced":true}`,
			UpdatedAt: time.Date(2026, 6, 3, 0, 0, 0, 1, time.UTC)}
		mustPutPolicy(t, ctx, s, replaced)
		want := storedPolicy(replaced)
		checkIAM(t, "FindPrincipalPolicy(replaced)", want, mustFindPolicy(t, ctx, s, "alice", "p"))
		checkIAM(t, "ListPrincipalPolicies(alice)", []*profiles.PrincipalPolicy{storedPolicy(newPolicy("alice", "other")), want},
			mustListPolicies(t, ctx, s, "alice"))
		checkIAM(t, "FindPrincipalPolicy(bob's of the same name)", storedPolicy(fullPolicy("bob", "p")),
			mustFindPolicy(t, ctx, s, "bob", "p"))

		// Replacing with a zero UpdatedAt stamps the store's time.
		clock.Add(time.Hour)
		again := &profiles.PrincipalPolicy{PrincipalName: "alice", PolicyName: "p", Document: "{}"}
		mustPutPolicy(t, ctx, s, again)
		want = &profiles.PrincipalPolicy{PrincipalName: "alice", PolicyName: "p", Document: "{}", UpdatedAt: storedTime(clock.Now())}
		checkIAM(t, "PutPrincipalPolicy(zero UpdatedAt): p", want, again)
		checkIAM(t, "FindPrincipalPolicy(replaced again)", want, mustFindPolicy(t, ctx, s, "alice", "p"))
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob", "carol")
		for _, name := range []string{"b", "B", "ab", "a", "a.b"} {
			mustPutPolicy(t, ctx, s, newPolicy("alice", name))
		}
		mustPutPolicy(t, ctx, s, newPolicy("bob", "0"))
		checkIAM(t, "ListPrincipalPolicies(alice)", []string{"B", "a", "a.b", "ab", "b"}, policyNames(mustListPolicies(t, ctx, s, "alice")))
		checkIAM(t, "ListPrincipalPolicies(bob)", []string{"0"}, policyNames(mustListPolicies(t, ctx, s, "bob")))
		checkIAM(t, "ListPrincipalPolicies(carol)", 0, len(mustListPolicies(t, ctx, s, "carol")))
		_, err := s.ListPrincipalPolicies(ctx, "ghost")
		checkNotFound(t, "ListPrincipalPolicies(ghost)", err, "ghost")
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		mustPutPolicy(t, ctx, s, newPolicy("bob", "bobs-policy"))
		for _, tt := range []struct {
			name  string
			call  func() error
			names string
		}{
			{"PutMissingPrincipal", func() error { return s.PutPrincipalPolicy(ctx, newPolicy("ghost", "p")) }, "ghost"},
			{"FindMissingPrincipal", func() error { _, err := s.FindPrincipalPolicy(ctx, "ghost", "p"); return err }, "ghost"},
			{"FindMissingPolicy", func() error { _, err := s.FindPrincipalPolicy(ctx, "alice", "nope"); return err }, "nope"},
			{"FindPolicyOfOtherPrincipal", func() error { _, err := s.FindPrincipalPolicy(ctx, "alice", "bobs-policy"); return err }, "bobs-policy"},
			{"DeleteMissingPrincipal", func() error { return s.DeletePrincipalPolicy(ctx, "ghost", "p") }, "ghost"},
			{"DeleteMissingPolicy", func() error { return s.DeletePrincipalPolicy(ctx, "alice", "nope") }, "nope"},
			{"DeletePolicyOfOtherPrincipal", func() error { return s.DeletePrincipalPolicy(ctx, "alice", "bobs-policy") }, "bobs-policy"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, tt.call(), tt.names)
			})
		}
		checkIAM(t, "ListPrincipalPolicies(bob)", []string{"bobs-policy"}, policyNames(mustListPolicies(t, ctx, s, "bob")))
		checkIAM(t, "ListPrincipalPolicies(alice)", 0, len(mustListPolicies(t, ctx, s, "alice")))
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		mustPutPolicy(t, ctx, s, newPolicy("alice", "pol-p"))
		mustPutPolicy(t, ctx, s, newPolicy("alice", "pol-q"))
		mustPutPolicy(t, ctx, s, newPolicy("bob", "pol-p"))
		if err := s.DeletePrincipalPolicy(ctx, "alice", "pol-p"); err != nil {
			t.Fatalf("DeletePrincipalPolicy: %v", err)
		}
		_, err := s.FindPrincipalPolicy(ctx, "alice", "pol-p")
		checkNotFound(t, "FindPrincipalPolicy(deleted)", err, "pol-p")
		checkNotFound(t, "DeletePrincipalPolicy(deleted)", s.DeletePrincipalPolicy(ctx, "alice", "pol-p"), "pol-p")
		checkIAM(t, "ListPrincipalPolicies(alice)", []string{"pol-q"}, policyNames(mustListPolicies(t, ctx, s, "alice")))
		checkIAM(t, "ListPrincipalPolicies(bob)", []string{"pol-p"}, policyNames(mustListPolicies(t, ctx, s, "bob")))
		if _, err := s.FindPrincipal(ctx, "alice"); err != nil {
			t.Errorf("FindPrincipal after DeletePrincipalPolicy: %v", err)
		}
	})
}
