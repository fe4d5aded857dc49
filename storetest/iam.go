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

// accessKeyID returns the i-th access key id of the cases: AKIA and 16
// digits.
func accessKeyID(i int) string { return fmt.Sprintf("AKIA%016d", i) }

// fullAccessKey returns the i-th access key of principal with every field
// set, times below the millisecond and outside UTC.
func fullAccessKey(principal string, i int) *profiles.AccessKey {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.AccessKey{
		ID:            accessKeyID(i),
		PrincipalName: principal,
		SealedSecret:  []byte{0, 1, 2, 0xff, 0, 's', 0xc3, 0x28, byte(i)}, // NULs, and not UTF-8
		Status:        profiles.AccessKeyActive,
		CreatedAt:     time.Date(2025, 12, 31, 23, 59, 59, 999999999, east),
		LastUsedAt:    time.Date(2026, 1, 2, 3, 4, 5, 600700800, east),
	}
}

// newAccessKey returns the i-th access key of principal, of the given
// status, created i seconds after the clock's start.
func newAccessKey(principal string, i int, status string) *profiles.AccessKey {
	return &profiles.AccessKey{ID: accessKeyID(i), PrincipalName: principal, SealedSecret: []byte{byte(i)},
		Status: status, CreatedAt: clockStart().Add(time.Duration(i) * time.Second)}
}

func storedAccessKey(k *profiles.AccessKey) *profiles.AccessKey {
	out := *k
	out.CreatedAt = storedTime(k.CreatedAt)
	if !k.LastUsedAt.IsZero() {
		out.LastUsedAt = storedTime(k.LastUsedAt)
	}
	return &out
}

func mustCreateAccessKey(tb testing.TB, ctx context.Context, s profiles.IAMStore, k *profiles.AccessKey) {
	tb.Helper()
	if err := s.CreateAccessKey(ctx, k); err != nil {
		tb.Fatalf("CreateAccessKey(%q): %v", k.ID, err)
	}
}

func mustFindAccessKey(tb testing.TB, ctx context.Context, s profiles.IAMStore, id string) *profiles.AccessKey {
	tb.Helper()
	k, err := s.FindAccessKey(ctx, id)
	if err != nil {
		tb.Fatalf("FindAccessKey(%q): %v", id, err)
	}
	return k
}

func mustListAccessKeys(tb testing.TB, ctx context.Context, s profiles.IAMStore, principal string) []*profiles.AccessKey {
	tb.Helper()
	keys, err := s.ListAccessKeys(ctx, principal)
	if err != nil {
		tb.Fatalf("ListAccessKeys(%q): %v", principal, err)
	}
	return keys
}

// keyStatuses returns "id=status" of each key, in order.
func keyStatuses(keys []*profiles.AccessKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID+"="+k.Status)
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

func testIAMAccessKey(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		probe := fullAccessKey("alice", 1)
		probe.SealedSecret = []byte("x") // zeroFields would see its NUL bytes
		if zero := zeroFields("AccessKey", reflect.ValueOf(probe)); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		k := fullAccessKey("alice", 1)
		mustCreateAccessKey(t, ctx, s, k)
		want := storedAccessKey(fullAccessKey("alice", 1))
		checkIAM(t, "CreateAccessKey: k", want, k)
		checkIAM(t, "FindAccessKey", want, mustFindAccessKey(t, ctx, s, accessKeyID(1)))
		checkIAM(t, "ListAccessKeys", []*profiles.AccessKey{want}, mustListAccessKeys(t, ctx, s, "alice"))

		// An inactive key, of a role.
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalRole, "app")
		k = fullAccessKey("app", 2)
		k.Status = profiles.AccessKeyInactive
		mustCreateAccessKey(t, ctx, s, k)
		want = storedAccessKey(k)
		checkIAM(t, "FindAccessKey(inactive)", want, mustFindAccessKey(t, ctx, s, accessKeyID(2)))
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		k := &profiles.AccessKey{ID: accessKeyID(1), PrincipalName: "alice", Status: profiles.AccessKeyActive}
		mustCreateAccessKey(t, ctx, s, k)
		want := &profiles.AccessKey{ID: accessKeyID(1), PrincipalName: "alice", Status: profiles.AccessKeyActive,
			CreatedAt: storedTime(clock.Now())}
		checkIAM(t, "CreateAccessKey: k", want, k)
		got := mustFindAccessKey(t, ctx, s, accessKeyID(1))
		checkIAM(t, "FindAccessKey", want, got)
		if !got.LastUsedAt.IsZero() {
			t.Errorf("FindAccessKey: LastUsedAt=%v, want the zero time", got.LastUsedAt)
		}
	})

	t.Run("CreateRejected", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		mustCreateAccessKey(t, ctx, s, newAccessKey("alice", 1, profiles.AccessKeyActive))
		withStatus := func(status string) *profiles.AccessKey { return newAccessKey("bob", 2, status) }
		for _, tt := range []struct {
			name  string
			k     *profiles.AccessKey
			code  string
			names string // in the message of an ENOTFOUND
		}{
			{"MissingPrincipal", newAccessKey("ghost", 2, profiles.AccessKeyActive), profiles.ENOTFOUND, "ghost"},
			{"MissingPrincipalInactive", newAccessKey("ghost", 2, profiles.AccessKeyInactive), profiles.ENOTFOUND, "ghost"},
			{"SameIDSamePrincipal", newAccessKey("alice", 1, profiles.AccessKeyInactive), profiles.ECONFLICT, ""},
			{"SameIDOtherPrincipal", newAccessKey("bob", 1, profiles.AccessKeyActive), profiles.ECONFLICT, ""},
			{"NoStatus", withStatus(""), profiles.EINVALID, ""},
			{"LowerCaseStatus", withStatus("active"), profiles.EINVALID, ""},
			{"UnknownStatus", withStatus("Deleted"), profiles.EINVALID, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := s.CreateAccessKey(ctx, tt.k)
				if tt.names != "" {
					checkNotFound(t, "CreateAccessKey", err, tt.names)
				} else {
					checkCode(t, "CreateAccessKey", err, tt.code)
				}
			})
		}
		checkIAM(t, "FindAccessKey(1)", storedAccessKey(newAccessKey("alice", 1, profiles.AccessKeyActive)),
			mustFindAccessKey(t, ctx, s, accessKeyID(1)))
		_, err := s.FindAccessKey(ctx, accessKeyID(2))
		checkNotFound(t, "FindAccessKey(2)", err, accessKeyID(2))
		checkIAM(t, "ListAccessKeys(bob)", 0, len(mustListAccessKeys(t, ctx, s, "bob")))
	})

	t.Run("Quota", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		if profiles.MaxActiveAccessKeys != 2 {
			t.Fatalf("MaxActiveAccessKeys=%d: the steps below assume 2", profiles.MaxActiveAccessKeys)
		}
		create := func(principal string, i int, status string) func() error {
			return func() error { return s.CreateAccessKey(ctx, newAccessKey(principal, i, status)) }
		}
		update := func(i int, status string) func() error {
			return func() error { return s.UpdateAccessKeyStatus(ctx, "alice", accessKeyID(i), status) }
		}
		const active, inactive = profiles.AccessKeyActive, profiles.AccessKeyInactive
		for _, step := range []struct {
			name string
			do   func() error
			code string
		}{
			{"CreateFirstActive", create("alice", 1, active), ""},
			{"CreateSecondActive", create("alice", 2, active), ""},
			{"CreateThirdActive", create("alice", 3, active), profiles.EQUOTA},
			{"CreateThirdInactive", create("alice", 3, inactive), ""}, // the failed create left nothing behind
			{"ReactivateAtQuota", update(3, active), profiles.EQUOTA},
			{"ActivateActiveAtQuota", update(1, active), ""},
			{"OtherPrincipalUnaffected", create("bob", 10, active), ""},
			{"Deactivate", update(1, inactive), ""},
			{"DeactivateInactive", update(1, inactive), ""},
			{"ReactivateBelowQuota", update(3, active), ""},
			{"ReactivateOverQuota", update(1, active), profiles.EQUOTA},
			{"CreateInactiveAtQuota", create("alice", 4, inactive), ""},
			{"DeleteActive", func() error { return s.DeleteAccessKey(ctx, "alice", accessKeyID(2)) }, ""},
			{"ReactivateAfterDelete", update(1, active), ""},
			{"CreateActiveAtQuota", create("alice", 5, active), profiles.EQUOTA},
		} {
			checkCode(t, step.name, step.do(), step.code)
		}
		checkIAM(t, "ListAccessKeys(alice)", []string{
			accessKeyID(1) + "=Active", accessKeyID(3) + "=Active", accessKeyID(4) + "=Inactive",
		}, keyStatuses(mustListAccessKeys(t, ctx, s, "alice")))
		checkIAM(t, "ListAccessKeys(bob)", []string{accessKeyID(10) + "=Active"}, keyStatuses(mustListAccessKeys(t, ctx, s, "bob")))
	})

	t.Run("ConcurrentCreate", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		const n = 10
		warmUp(t, ctx, s, n, "alice")
		codes, errs := concurrently(n, func(i int) error {
			return s.CreateAccessKey(ctx, newAccessKey("alice", i+1, profiles.AccessKeyActive))
		})
		checkCodes(t, "CreateAccessKey", codes, map[string]int{"": profiles.MaxActiveAccessKeys,
			profiles.EQUOTA: n - profiles.MaxActiveAccessKeys}, errs)
		keys := mustListAccessKeys(t, ctx, s, "alice")
		if len(keys) != profiles.MaxActiveAccessKeys {
			t.Fatalf("after %d concurrent creates: %v, want %d active keys", n, keyStatuses(keys), profiles.MaxActiveAccessKeys)
		}
		for _, k := range keys {
			if k.Status != profiles.AccessKeyActive || errs[indexOfKey(k.ID)-1] != nil {
				t.Errorf("key %s (%s) listed, but its create returned %v", k.ID, k.Status, errs[indexOfKey(k.ID)-1])
			}
		}
	})

	t.Run("ConcurrentActivate", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		const n = 6
		for i := range n {
			mustCreateAccessKey(t, ctx, s, newAccessKey("alice", i+1, profiles.AccessKeyInactive))
		}
		warmUp(t, ctx, s, n, "alice")
		codes, errs := concurrently(n, func(i int) error {
			return s.UpdateAccessKeyStatus(ctx, "alice", accessKeyID(i+1), profiles.AccessKeyActive)
		})
		checkCodes(t, "UpdateAccessKeyStatus", codes, map[string]int{"": profiles.MaxActiveAccessKeys,
			profiles.EQUOTA: n - profiles.MaxActiveAccessKeys}, errs)
		for _, k := range mustListAccessKeys(t, ctx, s, "alice") {
			if activated := errs[indexOfKey(k.ID)-1] == nil; activated != (k.Status == profiles.AccessKeyActive) {
				t.Errorf("key %s is %s, but its activation returned %v", k.ID, k.Status, errs[indexOfKey(k.ID)-1])
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob", "carol")
		t0 := clockStart()
		for _, k := range []struct {
			i       int
			status  string
			created time.Time
		}{
			{3, profiles.AccessKeyActive, t0},
			{1, profiles.AccessKeyInactive, t0.Add(time.Second)},
			{2, profiles.AccessKeyActive, t0.Add(500 * time.Microsecond)}, // the same millisecond as 3
			{4, profiles.AccessKeyInactive, t0.Add(-time.Second)},
		} {
			key := newAccessKey("alice", k.i, k.status)
			key.CreatedAt = k.created
			mustCreateAccessKey(t, ctx, s, key)
		}
		mustCreateAccessKey(t, ctx, s, newAccessKey("bob", 5, profiles.AccessKeyActive))
		checkIAM(t, "ListAccessKeys(alice)", []string{
			accessKeyID(4) + "=Inactive", accessKeyID(2) + "=Active", accessKeyID(3) + "=Active", accessKeyID(1) + "=Inactive",
		}, keyStatuses(mustListAccessKeys(t, ctx, s, "alice")))
		checkIAM(t, "ListAccessKeys(bob)", []string{accessKeyID(5) + "=Active"}, keyStatuses(mustListAccessKeys(t, ctx, s, "bob")))
		checkIAM(t, "ListAccessKeys(carol)", 0, len(mustListAccessKeys(t, ctx, s, "carol")))
		_, err := s.ListAccessKeys(ctx, "ghost")
		checkNotFound(t, "ListAccessKeys(ghost)", err, "ghost")
	})

	t.Run("UpdateStatusRejected", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		mustCreateAccessKey(t, ctx, s, fullAccessKey("alice", 1))
		mustCreateAccessKey(t, ctx, s, newAccessKey("bob", 2, profiles.AccessKeyInactive))
		for _, tt := range []struct {
			name, principal, id, status string
			code, names                 string
		}{
			{"MissingPrincipal", "ghost", accessKeyID(1), profiles.AccessKeyInactive, profiles.ENOTFOUND, "ghost"},
			{"MissingKey", "alice", accessKeyID(9), profiles.AccessKeyInactive, profiles.ENOTFOUND, accessKeyID(9)},
			{"KeyOfOtherPrincipal", "bob", accessKeyID(1), profiles.AccessKeyInactive, profiles.ENOTFOUND, accessKeyID(1)},
			{"KeyOfOtherPrincipalActivated", "alice", accessKeyID(2), profiles.AccessKeyActive, profiles.ENOTFOUND, accessKeyID(2)},
			{"NoStatus", "alice", accessKeyID(1), "", profiles.EINVALID, ""},
			{"UnknownStatus", "alice", accessKeyID(1), "Disabled", profiles.EINVALID, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := s.UpdateAccessKeyStatus(ctx, tt.principal, tt.id, tt.status)
				if tt.names != "" {
					checkNotFound(t, "UpdateAccessKeyStatus", err, tt.names)
				} else {
					checkCode(t, "UpdateAccessKeyStatus", err, tt.code)
				}
			})
		}
		checkIAM(t, "FindAccessKey(1)", storedAccessKey(fullAccessKey("alice", 1)), mustFindAccessKey(t, ctx, s, accessKeyID(1)))
		checkIAM(t, "FindAccessKey(2)", storedAccessKey(newAccessKey("bob", 2, profiles.AccessKeyInactive)),
			mustFindAccessKey(t, ctx, s, accessKeyID(2)))

		// A change of status changes the status only.
		if err := s.UpdateAccessKeyStatus(ctx, "alice", accessKeyID(1), profiles.AccessKeyInactive); err != nil {
			t.Fatalf("UpdateAccessKeyStatus: %v", err)
		}
		want := storedAccessKey(fullAccessKey("alice", 1))
		want.Status = profiles.AccessKeyInactive
		checkIAM(t, "FindAccessKey(1) after UpdateAccessKeyStatus", want, mustFindAccessKey(t, ctx, s, accessKeyID(1)))
	})

	t.Run("Touch", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice")
		key := newAccessKey("alice", 1, profiles.AccessKeyActive)
		mustCreateAccessKey(t, ctx, s, key)
		t1 := time.Date(2026, 6, 2, 8, 0, 0, 999999999, time.FixedZone("UTC-5", -5*60*60))
		t2 := t1.Add(time.Hour)
		for _, tt := range []struct {
			name  string
			clock time.Time // the store's clock during the touch
			at    time.Time
			want  time.Time
		}{
			{"First", clockStart(), t1, storedTime(t1)},
			{"Earlier", clockStart(), t1.Add(-time.Minute), storedTime(t1)},
			{"Same", clockStart(), t1, storedTime(t1)},
			{"Later", clockStart(), t2, storedTime(t2)},
			{"ZeroIsNow", t2.Add(time.Minute + 123456), time.Time{}, storedTime(t2.Add(time.Minute + 123456))},
			{"ZeroBeforeLast", t1, time.Time{}, storedTime(t2.Add(time.Minute + 123456))},
		} {
			clock.Set(tt.clock)
			if err := s.TouchAccessKey(ctx, accessKeyID(1), tt.at); err != nil {
				t.Fatalf("%s: TouchAccessKey: %v", tt.name, err)
			}
			want := storedAccessKey(newAccessKey("alice", 1, profiles.AccessKeyActive))
			want.LastUsedAt = tt.want
			checkIAM(t, tt.name+": FindAccessKey", want, mustFindAccessKey(t, ctx, s, accessKeyID(1)))
		}

		// An inactive key records its use too (the caller decides what it
		// means); a missing key is not an error.
		if err := s.UpdateAccessKeyStatus(ctx, "alice", accessKeyID(1), profiles.AccessKeyInactive); err != nil {
			t.Fatalf("UpdateAccessKeyStatus: %v", err)
		}
		t3 := t2.Add(24 * time.Hour)
		if err := s.TouchAccessKey(ctx, accessKeyID(1), t3); err != nil {
			t.Fatalf("TouchAccessKey(inactive): %v", err)
		}
		checkIAM(t, "FindAccessKey(inactive).LastUsedAt", storedTime(t3), mustFindAccessKey(t, ctx, s, accessKeyID(1)).LastUsedAt)
		if err := s.TouchAccessKey(ctx, accessKeyID(2), t3); err != nil {
			t.Errorf("TouchAccessKey(missing key): %v, want nil", err)
		}
		_, err := s.FindAccessKey(ctx, accessKeyID(2))
		checkNotFound(t, "FindAccessKey(missing key, touched)", err, accessKeyID(2))
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenIAM(t, open)
		mustCreatePrincipals(t, ctx, s, profiles.PrincipalUser, "alice", "bob")
		mustCreateAccessKey(t, ctx, s, newAccessKey("alice", 1, profiles.AccessKeyActive))
		mustCreateAccessKey(t, ctx, s, newAccessKey("alice", 2, profiles.AccessKeyInactive))
		mustCreateAccessKey(t, ctx, s, newAccessKey("bob", 3, profiles.AccessKeyActive))
		for _, tt := range []struct {
			name, principal, id, names string
		}{
			{"MissingPrincipal", "ghost", accessKeyID(1), "ghost"},
			{"MissingKey", "alice", accessKeyID(9), accessKeyID(9)},
			{"KeyOfOtherPrincipal", "alice", accessKeyID(3), accessKeyID(3)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, "DeleteAccessKey", s.DeleteAccessKey(ctx, tt.principal, tt.id), tt.names)
			})
		}
		if err := s.DeleteAccessKey(ctx, "alice", accessKeyID(1)); err != nil {
			t.Fatalf("DeleteAccessKey: %v", err)
		}
		_, err := s.FindAccessKey(ctx, accessKeyID(1))
		checkNotFound(t, "FindAccessKey(deleted)", err, accessKeyID(1))
		checkNotFound(t, "DeleteAccessKey(deleted)", s.DeleteAccessKey(ctx, "alice", accessKeyID(1)), accessKeyID(1))
		checkIAM(t, "ListAccessKeys(alice)", []string{accessKeyID(2) + "=Inactive"}, keyStatuses(mustListAccessKeys(t, ctx, s, "alice")))
		checkIAM(t, "ListAccessKeys(bob)", []string{accessKeyID(3) + "=Active"}, keyStatuses(mustListAccessKeys(t, ctx, s, "bob")))
		if _, err := s.FindPrincipal(ctx, "alice"); err != nil {
			t.Errorf("FindPrincipal after DeleteAccessKey: %v", err)
		}
	})
}

// warmUp runs n concurrent reads of principal's keys, so that a store
// with a connection pool has connections ready for the n goroutines of a
// concurrency case: they then race from the start, instead of one after
// another as each connects.
func warmUp(tb testing.TB, ctx context.Context, s profiles.IAMStore, n int, principal string) {
	tb.Helper()
	codes, errs := concurrently(n, func(int) error { _, err := s.ListAccessKeys(ctx, principal); return err })
	checkCodes(tb, "ListAccessKeys", codes, map[string]int{"": n}, errs)
}

// indexOfKey returns i of accessKeyID(i).
func indexOfKey(id string) int {
	var i int
	if _, err := fmt.Sscanf(id, "AKIA%d", &i); err != nil {
		panic(fmt.Sprintf("access key id %q is not one of the cases", id))
	}
	return i
}

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
