package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The IAM cases hold stores that implement profiles.IAMStore (principals,
// their access keys and identity policies) to its contract. Every store of
// this project implements it: a store that does not fails them (a skipped
// case would hide a missing component in CI). Besides the contract:
//
//   - Principals, access keys and policies read back as stored: times to
//     the millisecond in UTC, a zero LastUsedAt as the zero time,
//     SealedSecret byte for byte (nil may read back empty). A zero
//     CreatedAt (of a principal or a key) and a zero UpdatedAt (of a
//     policy) become the store's current time; CreatePrincipal,
//     CreateAccessKey and PutPrincipalPolicy write the times as stored back
//     into their argument.
//   - CreatePrincipal returns EINVALID for a Type other than PrincipalUser
//     and PrincipalRole; CreateAccessKey and UpdateAccessKeyStatus for a
//     status other than AccessKeyActive and AccessKeyInactive. Nothing
//     changes then. ListPrincipals of any other type returns nothing.
//   - Access key ids are unique in the store, not only per principal.
//   - Only active keys count against MaxActiveAccessKeys. Setting the
//     status a key has already changes nothing and succeeds, at the quota
//     too. A failed create or activation changes nothing.
//   - UpdateAccessKeyStatus, DeleteAccessKey, FindPrincipalPolicy and
//     DeletePrincipalPolicy return ENOTFOUND naming the principal when it
//     is missing, and naming the key or the policy when the principal
//     exists but has no such key or policy (the key of another principal
//     included). CreateAccessKey and PutPrincipalPolicy name the missing
//     principal.
//   - TouchAccessKey of a missing key returns nil and changes nothing (the
//     key may have gone since the request that used it was verified). It
//     sets LastUsedAt to t (zero: the store's current time) unless
//     LastUsedAt is t or later: LastUsedAt never goes back, whatever the
//     order in which concurrent requests record their use.
//   - A principal deleted and created again has no keys and no policies;
//     the ids of its deleted keys may be used again.

func testIAM(t *testing.T, open OpenFunc) {
	t.Run("Principal", func(t *testing.T) { testIAMPrincipal(t, open) })
	t.Run("AccessKey", func(t *testing.T) { testIAMAccessKey(t, open) })
	t.Run("Policy", func(t *testing.T) { testIAMPolicy(t, open) })
	t.Run("RevokedSession", func(t *testing.T) { testIAMRevokedSession(t, open) })
}

// testIAMRevokedSession: a revoked session reads as revoked, others not;
// revoking again is harmless; a revocation may go once its session has
// expired, and never before.
func testIAMRevokedSession(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	is, clock := mustOpenIAM(t, open)
	revoked := func(id string) bool {
		t.Helper()
		ok, err := is.SessionRevoked(ctx, id)
		if err != nil {
			t.Fatalf("SessionRevoked(%s): %v", id, err)
		}
		return ok
	}
	if revoked("s1") {
		t.Fatal("a session nobody revoked reads as revoked")
	}
	soon, later := clock.Now().Add(time.Hour), clock.Now().Add(8*time.Hour)
	for _, r := range []struct {
		id      string
		expires time.Time
	}{{"s1", soon}, {"s2", later}, {"s1", soon}} {
		if err := is.RevokeSession(ctx, r.id, r.expires); err != nil {
			t.Fatalf("RevokeSession(%s): %v", r.id, err)
		}
	}
	if !revoked("s1") || !revoked("s2") || revoked("s3") {
		t.Fatalf("revoked s1 %v, s2 %v, s3 %v; want true, true, false", revoked("s1"), revoked("s2"), revoked("s3"))
	}
	// Within the grace after s1's expiry, s1's revocation stays (a node
	// whose clock is behind still refuses it); past it, it may go; s2's
	// stays.
	clock.Add(time.Hour + profiles.RevocationGrace/2)
	if err := is.RevokeSession(ctx, "s4", later); err != nil {
		t.Fatal(err)
	}
	if !revoked("s1") {
		t.Error("s1's revocation went within the grace after its expiry")
	}
	clock.Add(time.Hour)
	if err := is.RevokeSession(ctx, "s3", later); err != nil {
		t.Fatal(err)
	}
	if !revoked("s2") || !revoked("s3") {
		t.Errorf("after s1 expired: s2 %v, s3 %v; want both revoked", revoked("s2"), revoked("s3"))
	}
}

// mustOpenIAM opens a store and returns it as an IAMStore, or fails t if the
// store does not implement it.
func mustOpenIAM(t *testing.T, open OpenFunc) (profiles.IAMStore, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	is, ok := s.(profiles.IAMStore)
	if !ok {
		t.Fatalf("%T does not implement profiles.IAMStore: every store must (the service keeps its principals and access keys there)", s)
	}
	return is, c
}

// checkIAM reports how got differs from want, and a time not in UTC.
func checkIAM(tb testing.TB, op string, want, got any) {
	tb.Helper()
	checkKMS(tb, op, want, got)
}

// fullPrincipal returns a principal of the given name and type with every
// field set, its time below the millisecond and outside UTC.
func fullPrincipal(name, typ string) *profiles.Principal {
	prefix := "AIDA"
	if typ == profiles.PrincipalRole {
		prefix = "AROA"
	}
	return &profiles.Principal{
		Name:      name,
		Type:      typ,
		ID:        prefix + "EXAMPLE" + fmt.Sprintf("%09d", len(name)),
		ARN:       "arn:aws:iam::000000000000:" + typ + "/" + name,
		CreatedAt: time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("UTC+2", 2*60*60)),
	}
}

func storedPrincipal(p *profiles.Principal) *profiles.Principal {
	out := *p
	out.CreatedAt = storedTime(p.CreatedAt)
	return &out
}

// mustCreatePrincipals creates principals of type typ with the given names.
func mustCreatePrincipals(tb testing.TB, ctx context.Context, s profiles.IAMStore, typ string, names ...string) {
	tb.Helper()
	for _, name := range names {
		if err := s.CreatePrincipal(ctx, fullPrincipal(name, typ)); err != nil {
			tb.Fatalf("CreatePrincipal(%q): %v", name, err)
		}
	}
}

func principalNames(ps []*profiles.Principal) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func testIAMPrincipal(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		if zero := zeroFields("Principal", reflect.ValueOf(fullPrincipal("alice", profiles.PrincipalUser))); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		var want []*profiles.Principal
		for _, p := range []*profiles.Principal{
			fullPrincipal("alice+ops=x,y.z@example-1_", profiles.PrincipalUser),
			fullPrincipal("support-agent", profiles.PrincipalRole),
		} {
			if err := s.CreatePrincipal(ctx, p); err != nil {
				t.Fatalf("CreatePrincipal(%q): %v", p.Name, err)
			}
			w := storedPrincipal(fullPrincipal(p.Name, p.Type))
			checkIAM(t, "CreatePrincipal: p", w, p)
			got, err := s.FindPrincipal(ctx, p.Name)
			if err != nil {
				t.Fatalf("FindPrincipal(%q): %v", p.Name, err)
			}
			checkIAM(t, "FindPrincipal", w, got)
			want = append(want, w)
		}
		list, err := s.ListPrincipals(ctx, "", "", 0)
		if err != nil {
			t.Fatalf("ListPrincipals: %v", err)
		}
		checkIAM(t, "ListPrincipals", want, list)
	})

	t.Run("ZeroCreatedAt", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenIAM(t, open)
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		p := fullPrincipal("bob", profiles.PrincipalUser)
		p.CreatedAt = time.Time{}
		if err := s.CreatePrincipal(ctx, p); err != nil {
			t.Fatalf("CreatePrincipal: %v", err)
		}
		want := fullPrincipal("bob", profiles.PrincipalUser)
		want.CreatedAt = storedTime(clock.Now())
		checkIAM(t, "CreatePrincipal: p", want, p)
		got, err := s.FindPrincipal(ctx, "bob")
		if err != nil {
			t.Fatalf("FindPrincipal: %v", err)
		}
		checkIAM(t, "FindPrincipal", want, got)
	})

	t.Run("CreateRejected", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "taken-user")
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalRole, "taken-role")
		other := func(name, typ string) *profiles.Principal {
			p := fullPrincipal(name, typ)
			p.ID, p.CreatedAt = "AIDAOTHER", clockStart()
			return p
		}
		for _, tt := range []struct {
			name string
			p    *profiles.Principal
			code string
		}{
			{"UserOfUserName", other("taken-user", profiles.PrincipalUser), profiles.ECONFLICT},
			{"RoleOfUserName", other("taken-user", profiles.PrincipalRole), profiles.ECONFLICT},
			{"UserOfRoleName", other("taken-role", profiles.PrincipalUser), profiles.ECONFLICT},
			{"RoleOfRoleName", other("taken-role", profiles.PrincipalRole), profiles.ECONFLICT},
			{"UnknownType", other("new", "group"), profiles.EINVALID},
			{"NoType", other("new", ""), profiles.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkCode(t, "CreatePrincipal", s.CreatePrincipal(ctx, tt.p), tt.code)
			})
		}
		list, err := s.ListPrincipals(ctx, "", "", 0)
		if err != nil {
			t.Fatalf("ListPrincipals: %v", err)
		}
		checkIAM(t, "ListPrincipals after rejected creates", []*profiles.Principal{
			storedPrincipal(fullPrincipal("taken-role", profiles.PrincipalRole)),
			storedPrincipal(fullPrincipal("taken-user", profiles.PrincipalUser)),
		}, list)
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		for _, tt := range []struct {
			name  string
			call  func() error
			names string
		}{
			{"FindPrincipal", func() error { _, err := s.FindPrincipal(ctx, "ghost"); return err }, "ghost"},
			{"DeletePrincipal", func() error { return s.DeletePrincipal(ctx, "ghost") }, "ghost"},
			{"ListAccessKeys", func() error { _, err := s.ListAccessKeys(ctx, "ghost"); return err }, "ghost"},
			{"ListPrincipalPolicies", func() error { _, err := s.ListPrincipalPolicies(ctx, "ghost"); return err }, "ghost"},
			// Names are compared as they are: no case folding.
			{"FindPrincipalOtherCase", func() error { _, err := s.FindPrincipal(ctx, "Alice"); return err }, "Alice"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, tt.call(), tt.names)
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "é", "a.b", "B", "a")
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalRole, "c", "ab", "A", "b")
		all := []string{"A", "B", "a", "a.b", "ab", "b", "c", "é"} // byte order
		for _, tt := range []struct {
			typ, after string
			limit      int
			want       []string
		}{
			{"", "", 0, all},
			{"", "", -1, all},
			{"", "a", 3, []string{"a.b", "ab", "b"}},
			{"", "c", 0, []string{"é"}},
			{"", "é", 0, nil},
			{profiles.PrincipalUser, "", 0, []string{"B", "a", "a.b", "é"}},
			{profiles.PrincipalUser, "B", 2, []string{"a", "a.b"}},
			{profiles.PrincipalUser, "A", 1, []string{"B"}},
			{profiles.PrincipalRole, "", 0, []string{"A", "ab", "b", "c"}},
			{profiles.PrincipalRole, "a.b", -1, []string{"ab", "b", "c"}},
			{profiles.PrincipalRole, "c", 5, nil},
			{"group", "", 0, nil},
		} {
			got, err := s.ListPrincipals(ctx, tt.typ, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("ListPrincipals(%q, %q, %d): %v", tt.typ, tt.after, tt.limit, err)
			}
			for _, p := range got {
				if tt.typ != "" && p.Type != tt.typ {
					t.Errorf("ListPrincipals(%q, …): %q of type %q", tt.typ, p.Name, p.Type)
				}
			}
			checkIAM(t, fmt.Sprintf("ListPrincipals(%q, %q, %d)", tt.typ, tt.after, tt.limit), tt.want, principalNames(got))
		}
	})

	t.Run("DeleteCascades", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "gone", "kept")
		for i, name := range []string{"gone", "gone", "kept"} {
			mustCreateAccessKey(t, ctx, s, newAccessKey(name, i+1, profiles.AccessKeyActive))
			mustPutPolicy(t, ctx, s, newPolicy(name, fmt.Sprint("p", i+1)))
		}
		if err := s.DeletePrincipal(ctx, "gone"); err != nil {
			t.Fatalf("DeletePrincipal: %v", err)
		}
		_, err := s.FindPrincipal(ctx, "gone")
		checkNotFound(t, "FindPrincipal(deleted)", err, "gone")
		for _, id := range []string{accessKeyID(1), accessKeyID(2)} {
			_, err := s.FindAccessKey(ctx, id)
			checkNotFound(t, "FindAccessKey(key of the deleted principal)", err, id)
		}
		_, err = s.FindPrincipalPolicy(ctx, "gone", "p1")
		checkNotFound(t, "FindPrincipalPolicy(policy of the deleted principal)", err, "gone")
		checkNotFound(t, "DeletePrincipal(deleted)", s.DeletePrincipal(ctx, "gone"), "gone")

		// The other principal keeps its key and policy.
		checkIAM(t, "ListAccessKeys(kept)", []string{accessKeyID(3) + "=Active"}, keyStatuses(mustListAccessKeys(t, ctx, s, "kept")))
		if _, err := s.FindPrincipalPolicy(ctx, "kept", "p3"); err != nil {
			t.Errorf("FindPrincipalPolicy(kept, p3): %v", err)
		}

		// A principal of the same name starts with nothing, and the ids of
		// the deleted keys are free, as is the quota.
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalRole, "gone")
		checkIAM(t, "ListAccessKeys(created again)", 0, len(mustListAccessKeys(t, ctx, s, "gone")))
		policies, err := s.ListPrincipalPolicies(ctx, "gone")
		if err != nil {
			t.Fatalf("ListPrincipalPolicies(created again): %v", err)
		}
		checkIAM(t, "ListPrincipalPolicies(created again)", 0, len(policies))
		mustCreateAccessKey(t, ctx, s, newAccessKey("gone", 1, profiles.AccessKeyActive))
		mustCreateAccessKey(t, ctx, s, newAccessKey("gone", 2, profiles.AccessKeyActive))
	})
}
