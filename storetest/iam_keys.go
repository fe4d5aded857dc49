package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

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
