package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/openprofiles/profiles"
)

// The KMS cases hold stores that implement profiles.KMSStore (the
// persistence of the built-in key manager) to its contract. Every store of
// this project implements it: a store that does not fails them (a skipped
// case would hide a missing component in CI). Besides the contract:
//
//   - Keys, aliases and grants read back as stored: times to the
//     millisecond in UTC, a zero DeletionDate as the zero time,
//     WrappedMaterial byte for byte, empty maps and slices possibly nil.
//   - UpdateKMSKey returns the key as FindKMSKey would.
//   - Grant ids are unique in the store, not only per key.

func testKMS(t *testing.T, open OpenFunc) {
	t.Run("Key", func(t *testing.T) { testKMSKey(t, open) })
	t.Run("Alias", func(t *testing.T) { testKMSAlias(t, open) })
	t.Run("Grant", func(t *testing.T) { testKMSGrant(t, open) })
}

// mustOpenKMS opens a store and returns it as a KMSStore, or fails t if the
// store does not implement it.
func mustOpenKMS(t *testing.T, open OpenFunc) (profiles.KMSStore, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	ks, ok := s.(profiles.KMSStore)
	if !ok {
		t.Fatalf("%T does not implement profiles.KMSStore: every store must (the built-in key manager keeps its keys there)", s)
	}
	return ks, c
}

// kmsKeyID returns the i-th key id of the cases, a UUID.
func kmsKeyID(i int) string { return fmt.Sprintf("0000%04x-1111-4222-8333-444455556666", i) }

func fullKMSKey(i int) *profiles.KMSKey {
	east := time.FixedZone("UTC+2", 2*60*60)
	id := kmsKeyID(i)
	return &profiles.KMSKey{
		KeyID:           id,
		ARN:             "arn:aws:kms:us-east-1:000000000000:key/" + id,
		Description:     "clé de test \"quoted\" ✓",
		State:           profiles.KeyStatePendingDeletion,
		KeySpec:         "SYMMETRIC_DEFAULT",
		KeyUsage:        "ENCRYPT_DECRYPT",
		WrappedMaterial: []byte{0, 1, 2, 0xff, 0, 'x', byte(i)},
		Policy:          `{"Version":"2012-10-17","Statement":[]}`,
		Tags:            map[string]string{"team": "support", "empty": ""},
		CreatedAt:       time.Date(2024, 2, 29, 23, 59, 58, 123456789, east),
		DeletionDate:    time.Date(2026, 7, 1, 0, 0, 0, 987654321, east),
	}
}

func newKMSKey(i int) *profiles.KMSKey {
	id := kmsKeyID(i)
	return &profiles.KMSKey{KeyID: id, ARN: "arn:aws:kms:us-east-1:000000000000:key/" + id,
		State: profiles.KeyStateEnabled, KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT",
		WrappedMaterial: []byte{byte(i)}, CreatedAt: clockStart()}
}

func storedKMSKey(k *profiles.KMSKey) *profiles.KMSKey {
	out := *k
	out.CreatedAt = storedTime(k.CreatedAt)
	if !k.DeletionDate.IsZero() {
		out.DeletionDate = storedTime(k.DeletionDate)
	}
	return &out
}

func fullKMSGrant(keyIndex int, id string) *profiles.KMSGrant {
	return &profiles.KMSGrant{
		GrantID: id, Token: "token-" + id, KeyID: kmsKeyID(keyIndex), Name: "grant " + id,
		GranteePrincipal:        "arn:aws:iam::000000000000:role/app",
		RetiringPrincipal:       "arn:aws:iam::000000000000:role/admin",
		IssuingAccount:          "arn:aws:iam::000000000000:root",
		Operations:              []string{"Decrypt", "GenerateDataKey"},
		EncryptionContextEquals: map[string]string{"aws:profile:domain": "d1"},
		EncryptionContextSubset: map[string]string{"ünï": "✓"},
		CreatedAt:               time.Date(2025, 1, 2, 3, 4, 5, 987654321, time.FixedZone("UTC-5", -5*60*60)),
	}
}

// checkKMS reports how got differs from want, and a time not in UTC.
func checkKMS(tb testing.TB, op string, want, got any) {
	tb.Helper()
	if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("%s: mismatch (-want +got):\n%s", op, diff)
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if t, ok := v.Interface().(time.Time); ok {
				if !t.IsZero() && t.Location() != time.UTC {
					tb.Errorf("%s: time %v in %v, want UTC", op, t, t.Location())
				}
				return
			}
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(got))
}

func mustCreateKMSKeys(tb testing.TB, ctx context.Context, s profiles.KMSStore, indexes ...int) {
	tb.Helper()
	for _, i := range indexes {
		if err := s.CreateKMSKey(ctx, newKMSKey(i)); err != nil {
			tb.Fatalf("CreateKMSKey(%d): %v", i, err)
		}
	}
}

func testKMSKey(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		probe := fullKMSKey(1)
		probe.WrappedMaterial = []byte("x") // zeroFields would see its NUL bytes
		if zero := zeroFields("KMSKey", reflect.ValueOf(probe)); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		k := fullKMSKey(1)
		if err := s.CreateKMSKey(ctx, k); err != nil {
			t.Fatalf("CreateKMSKey: %v", err)
		}
		want := storedKMSKey(fullKMSKey(1))
		checkKMS(t, "CreateKMSKey: k", want, k)
		got, err := s.FindKMSKey(ctx, kmsKeyID(1))
		if err != nil {
			t.Fatalf("FindKMSKey: %v", err)
		}
		checkKMS(t, "FindKMSKey", want, got)
		list, err := s.ListKMSKeys(ctx, "", 0)
		if err != nil {
			t.Fatalf("ListKMSKeys: %v", err)
		}
		checkKMS(t, "ListKMSKeys", []*profiles.KMSKey{want}, list)
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenKMS(t, open)
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		k := newKMSKey(1)
		k.CreatedAt = time.Time{}
		if err := s.CreateKMSKey(ctx, k); err != nil {
			t.Fatalf("CreateKMSKey: %v", err)
		}
		checkKMS(t, "CreateKMSKey: k.CreatedAt", storedTime(clock.Now()), k.CreatedAt)
		got, err := s.FindKMSKey(ctx, k.KeyID)
		if err != nil {
			t.Fatalf("FindKMSKey: %v", err)
		}
		checkKMS(t, "FindKMSKey", k, got)
		if !got.DeletionDate.IsZero() {
			t.Errorf("FindKMSKey: DeletionDate=%v, want the zero time", got.DeletionDate)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		k := newKMSKey(1)
		k.Description = "other"
		checkCode(t, "CreateKMSKey(same id)", s.CreateKMSKey(ctx, k), profiles.ECONFLICT)
		got, err := s.FindKMSKey(ctx, k.KeyID)
		if err != nil {
			t.Fatalf("FindKMSKey: %v", err)
		}
		checkKMS(t, "FindKMSKey", newKMSKey(1), got)
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		_, err := s.FindKMSKey(ctx, kmsKeyID(2))
		checkNotFound(t, "FindKMSKey", err, kmsKeyID(2))
		_, err = s.UpdateKMSKey(ctx, kmsKeyID(2), func(*profiles.KMSKey) error { return nil })
		checkNotFound(t, "UpdateKMSKey", err, kmsKeyID(2))
		checkNotFound(t, "DeleteKMSKey", s.DeleteKMSKey(ctx, kmsKeyID(2)), kmsKeyID(2))
	})

	t.Run("Update", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		deletion := time.Date(2026, 6, 8, 12, 0, 0, 555555555, time.Local)
		got, err := s.UpdateKMSKey(ctx, kmsKeyID(1), func(k *profiles.KMSKey) error {
			k.Description, k.State, k.Policy = "new", profiles.KeyStatePendingDeletion, `{"x":1}`
			k.Tags, k.DeletionDate = map[string]string{"a": "b"}, deletion
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateKMSKey: %v", err)
		}
		want := newKMSKey(1)
		want.Description, want.State, want.Policy = "new", profiles.KeyStatePendingDeletion, `{"x":1}`
		want.Tags, want.DeletionDate = map[string]string{"a": "b"}, storedTime(deletion)
		checkKMS(t, "UpdateKMSKey", want, got)
		found, err := s.FindKMSKey(ctx, kmsKeyID(1))
		if err != nil {
			t.Fatalf("FindKMSKey: %v", err)
		}
		checkKMS(t, "FindKMSKey", want, found)

		// Back to no deletion date.
		got, err = s.UpdateKMSKey(ctx, kmsKeyID(1), func(k *profiles.KMSKey) error {
			k.State, k.DeletionDate = profiles.KeyStateDisabled, time.Time{}
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateKMSKey: %v", err)
		}
		want.State, want.DeletionDate = profiles.KeyStateDisabled, time.Time{}
		checkKMS(t, "UpdateKMSKey(no deletion date)", want, got)
	})

	t.Run("UpdateRejected", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		errFn := errors.New("fn failed")
		for _, tt := range []struct {
			name string
			fn   func(*profiles.KMSKey) error
			code string
		}{
			{"FnError", func(k *profiles.KMSKey) error { k.Description = "x"; return errFn }, ""},
			{"KeyID", func(k *profiles.KMSKey) error { k.KeyID = kmsKeyID(2); return nil }, profiles.EINVALID},
			{"ARN", func(k *profiles.KMSKey) error { k.ARN += "x"; return nil }, profiles.EINVALID},
			{"Material", func(k *profiles.KMSKey) error { k.WrappedMaterial = []byte("other"); return nil }, profiles.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.UpdateKMSKey(ctx, kmsKeyID(1), tt.fn)
				if tt.code == "" {
					if !errors.Is(err, errFn) {
						t.Fatalf("UpdateKMSKey: err=%v, want fn's error as is", err)
					}
				} else {
					checkCode(t, "UpdateKMSKey", err, tt.code)
				}
				got, err := s.FindKMSKey(ctx, kmsKeyID(1))
				if err != nil {
					t.Fatalf("FindKMSKey: %v", err)
				}
				checkKMS(t, "FindKMSKey", newKMSKey(1), got)
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 3, 1, 4, 2)
		for _, tt := range []struct {
			after string
			limit int
			want  []string
		}{
			{"", 0, []string{kmsKeyID(1), kmsKeyID(2), kmsKeyID(3), kmsKeyID(4)}},
			{"", -1, []string{kmsKeyID(1), kmsKeyID(2), kmsKeyID(3), kmsKeyID(4)}},
			{"", 2, []string{kmsKeyID(1), kmsKeyID(2)}},
			{kmsKeyID(2), 2, []string{kmsKeyID(3), kmsKeyID(4)}},
			{kmsKeyID(4), 2, nil},
		} {
			keys, err := s.ListKMSKeys(ctx, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("ListKMSKeys: %v", err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, k.KeyID)
			}
			checkKMS(t, fmt.Sprintf("ListKMSKeys(%q, %d)", tt.after, tt.limit), tt.want, got)
		}
	})

	t.Run("DeleteCascades", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		mustCreateKMSAlias(t, ctx, s, "alias/one", kmsKeyID(1))
		mustCreateKMSAlias(t, ctx, s, "alias/two", kmsKeyID(2))
		mustCreateKMSGrant(t, ctx, s, fullKMSGrant(1, "g1"))
		mustCreateKMSGrant(t, ctx, s, fullKMSGrant(2, "g2"))
		if err := s.DeleteKMSKey(ctx, kmsKeyID(1)); err != nil {
			t.Fatalf("DeleteKMSKey: %v", err)
		}
		_, err := s.FindKMSKey(ctx, kmsKeyID(1))
		checkCode(t, "FindKMSKey", err, profiles.ENOTFOUND)
		_, err = s.FindKMSAlias(ctx, "alias/one")
		checkCode(t, "FindKMSAlias(alias of the deleted key)", err, profiles.ENOTFOUND)
		_, err = s.FindKMSGrantByToken(ctx, "token-g1")
		checkCode(t, "FindKMSGrantByToken(grant of the deleted key)", err, profiles.ENOTFOUND)
		_, err = s.ListKMSGrants(ctx, kmsKeyID(1), "", 0)
		checkCode(t, "ListKMSGrants(deleted key)", err, profiles.ENOTFOUND)

		// The other key keeps its alias and grant.
		if _, err := s.FindKMSAlias(ctx, "alias/two"); err != nil {
			t.Errorf("FindKMSAlias(alias/two): %v", err)
		}
		if _, err := s.FindKMSGrant(ctx, kmsKeyID(2), "g2"); err != nil {
			t.Errorf("FindKMSGrant(g2): %v", err)
		}
	})

	t.Run("ConcurrentUpdate", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		const n = 16
		codes, errs := concurrently(n, func(i int) error {
			_, err := s.UpdateKMSKey(ctx, kmsKeyID(1), func(k *profiles.KMSKey) error {
				tags := map[string]string{fmt.Sprint(i): "x"}
				for name, v := range k.Tags {
					tags[name] = v
				}
				k.Tags = tags
				return nil
			})
			return err
		})
		checkCodes(t, "UpdateKMSKey", codes, map[string]int{"": n}, errs)
		got, err := s.FindKMSKey(ctx, kmsKeyID(1))
		if err != nil {
			t.Fatalf("FindKMSKey: %v", err)
		}
		if len(got.Tags) != n {
			t.Errorf("after %d concurrent updates adding one tag each: %d tags (%v), want %d: an update was lost",
				n, len(got.Tags), got.Tags, n)
		}
	})
}

func mustCreateKMSAlias(tb testing.TB, ctx context.Context, s profiles.KMSStore, name, keyID string) *profiles.KMSAlias {
	tb.Helper()
	a := &profiles.KMSAlias{Name: name, KeyID: keyID, CreatedAt: clockStart(), LastUpdatedAt: clockStart()}
	if err := s.CreateKMSAlias(ctx, a); err != nil {
		tb.Fatalf("CreateKMSAlias(%q): %v", name, err)
	}
	return a
}

func aliasNames(as []*profiles.KMSAlias) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

func testKMSAlias(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		east := time.FixedZone("UTC+2", 2*60*60)
		a := &profiles.KMSAlias{Name: "alias/team/clé-1_x", KeyID: kmsKeyID(1),
			CreatedAt:     time.Date(2025, 3, 4, 5, 6, 7, 891234567, east),
			LastUpdatedAt: time.Date(2025, 4, 4, 5, 6, 7, 891234567, east)}
		if err := s.CreateKMSAlias(ctx, a); err != nil {
			t.Fatalf("CreateKMSAlias: %v", err)
		}
		want := &profiles.KMSAlias{Name: a.Name, KeyID: kmsKeyID(1),
			CreatedAt: storedTime(a.CreatedAt), LastUpdatedAt: storedTime(a.LastUpdatedAt)}
		checkKMS(t, "CreateKMSAlias: a", want, a)
		got, err := s.FindKMSAlias(ctx, a.Name)
		if err != nil {
			t.Fatalf("FindKMSAlias: %v", err)
		}
		checkKMS(t, "FindKMSAlias", want, got)

		// Zero times become the clock's.
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		z := &profiles.KMSAlias{Name: "alias/zero", KeyID: kmsKeyID(1)}
		if err := s.CreateKMSAlias(ctx, z); err != nil {
			t.Fatalf("CreateKMSAlias(zero times): %v", err)
		}
		now := storedTime(clock.Now())
		checkKMS(t, "CreateKMSAlias(zero times): a", &profiles.KMSAlias{Name: "alias/zero", KeyID: kmsKeyID(1),
			CreatedAt: now, LastUpdatedAt: now}, z)
	})

	t.Run("Create", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		mustCreateKMSAlias(t, ctx, s, "alias/a", kmsKeyID(1))
		err := s.CreateKMSAlias(ctx, &profiles.KMSAlias{Name: "alias/a", KeyID: kmsKeyID(2)})
		checkCode(t, "CreateKMSAlias(taken name)", err, profiles.ECONFLICT)
		err = s.CreateKMSAlias(ctx, &profiles.KMSAlias{Name: "alias/b", KeyID: kmsKeyID(3)})
		checkNotFound(t, "CreateKMSAlias(missing key)", err, kmsKeyID(3))
		got, err := s.FindKMSAlias(ctx, "alias/a")
		if err != nil {
			t.Fatalf("FindKMSAlias: %v", err)
		}
		checkKMS(t, "FindKMSAlias(alias/a).KeyID", kmsKeyID(1), got.KeyID)
		_, err = s.FindKMSAlias(ctx, "alias/b")
		checkNotFound(t, "FindKMSAlias(alias/b)", err, "alias/b")
	})

	t.Run("Update", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		mustCreateKMSAlias(t, ctx, s, "alias/a", kmsKeyID(1))
		at := time.Date(2026, 6, 2, 0, 0, 0, 999999999, time.Local)
		got, err := s.UpdateKMSAlias(ctx, "alias/a", kmsKeyID(2), at)
		if err != nil {
			t.Fatalf("UpdateKMSAlias: %v", err)
		}
		want := &profiles.KMSAlias{Name: "alias/a", KeyID: kmsKeyID(2), CreatedAt: clockStart(), LastUpdatedAt: storedTime(at)}
		checkKMS(t, "UpdateKMSAlias", want, got)
		found, err := s.FindKMSAlias(ctx, "alias/a")
		if err != nil {
			t.Fatalf("FindKMSAlias: %v", err)
		}
		checkKMS(t, "FindKMSAlias", want, found)

		clock.Add(time.Hour)
		got, err = s.UpdateKMSAlias(ctx, "alias/a", kmsKeyID(1), time.Time{})
		if err != nil {
			t.Fatalf("UpdateKMSAlias(zero time): %v", err)
		}
		want.KeyID, want.LastUpdatedAt = kmsKeyID(1), storedTime(clock.Now())
		checkKMS(t, "UpdateKMSAlias(zero time)", want, got)

		_, err = s.UpdateKMSAlias(ctx, "alias/missing", kmsKeyID(1), at)
		checkNotFound(t, "UpdateKMSAlias(missing alias)", err, "alias/missing")
		_, err = s.UpdateKMSAlias(ctx, "alias/a", kmsKeyID(3), at)
		checkNotFound(t, "UpdateKMSAlias(missing key)", err, kmsKeyID(3))
		found, err = s.FindKMSAlias(ctx, "alias/a")
		if err != nil {
			t.Fatalf("FindKMSAlias: %v", err)
		}
		checkKMS(t, "FindKMSAlias after failed updates", want, found)
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		mustCreateKMSAlias(t, ctx, s, "alias/a", kmsKeyID(1))
		if err := s.DeleteKMSAlias(ctx, "alias/a"); err != nil {
			t.Fatalf("DeleteKMSAlias: %v", err)
		}
		_, err := s.FindKMSAlias(ctx, "alias/a")
		checkCode(t, "FindKMSAlias(deleted)", err, profiles.ENOTFOUND)
		checkNotFound(t, "DeleteKMSAlias(deleted)", s.DeleteKMSAlias(ctx, "alias/a"), "alias/a")
		if _, err := s.FindKMSKey(ctx, kmsKeyID(1)); err != nil {
			t.Errorf("FindKMSKey after DeleteKMSAlias: %v", err)
		}
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		for _, a := range []struct{ name, key string }{
			{"alias/c", kmsKeyID(1)}, {"alias/a", kmsKeyID(2)}, {"alias/b", kmsKeyID(1)}, {"alias/B", kmsKeyID(1)},
		} {
			mustCreateKMSAlias(t, ctx, s, a.name, a.key)
		}
		for _, tt := range []struct {
			keyID, after string
			limit        int
			want         []string
		}{
			{"", "", 0, []string{"alias/B", "alias/a", "alias/b", "alias/c"}},
			{"", "alias/B", 2, []string{"alias/a", "alias/b"}},
			{kmsKeyID(1), "", 0, []string{"alias/B", "alias/b", "alias/c"}},
			{kmsKeyID(1), "alias/B", 1, []string{"alias/b"}},
			{kmsKeyID(2), "", -1, []string{"alias/a"}},
			{kmsKeyID(3), "", 0, nil},
		} {
			got, err := s.ListKMSAliases(ctx, tt.keyID, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("ListKMSAliases: %v", err)
			}
			checkKMS(t, fmt.Sprintf("ListKMSAliases(%q, %q, %d)", tt.keyID, tt.after, tt.limit), tt.want, aliasNames(got))
		}
	})
}

func mustCreateKMSGrant(tb testing.TB, ctx context.Context, s profiles.KMSStore, g *profiles.KMSGrant) {
	tb.Helper()
	if err := s.CreateKMSGrant(ctx, g); err != nil {
		tb.Fatalf("CreateKMSGrant(%q): %v", g.GrantID, err)
	}
}

func testKMSGrant(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		if zero := zeroFields("KMSGrant", reflect.ValueOf(fullKMSGrant(1, "g1"))); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		g := fullKMSGrant(1, "g1")
		mustCreateKMSGrant(t, ctx, s, g)
		want := fullKMSGrant(1, "g1")
		want.CreatedAt = storedTime(want.CreatedAt)
		checkKMS(t, "CreateKMSGrant: g", want, g)
		got, err := s.FindKMSGrant(ctx, kmsKeyID(1), "g1")
		if err != nil {
			t.Fatalf("FindKMSGrant: %v", err)
		}
		checkKMS(t, "FindKMSGrant", want, got)
		got, err = s.FindKMSGrantByToken(ctx, "token-g1")
		if err != nil {
			t.Fatalf("FindKMSGrantByToken: %v", err)
		}
		checkKMS(t, "FindKMSGrantByToken", want, got)
		list, err := s.ListKMSGrants(ctx, kmsKeyID(1), "", 0)
		if err != nil {
			t.Fatalf("ListKMSGrants: %v", err)
		}
		checkKMS(t, "ListKMSGrants", []*profiles.KMSGrant{want}, list)
	})

	t.Run("EmptyFields", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1)
		g := &profiles.KMSGrant{GrantID: "g1", Token: "t1", KeyID: kmsKeyID(1), GranteePrincipal: "p"}
		mustCreateKMSGrant(t, ctx, s, g)
		want := &profiles.KMSGrant{GrantID: "g1", Token: "t1", KeyID: kmsKeyID(1), GranteePrincipal: "p",
			CreatedAt: storedTime(clock.Now())}
		checkKMS(t, "CreateKMSGrant: g", want, g)
		got, err := s.FindKMSGrant(ctx, kmsKeyID(1), "g1")
		if err != nil {
			t.Fatalf("FindKMSGrant: %v", err)
		}
		checkKMS(t, "FindKMSGrant", want, got)
	})

	t.Run("Create", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		mustCreateKMSGrant(t, ctx, s, fullKMSGrant(1, "g1"))
		checkNotFound(t, "CreateKMSGrant(missing key)", s.CreateKMSGrant(ctx, fullKMSGrant(3, "g3")), kmsKeyID(3))

		sameID := fullKMSGrant(2, "g1")
		sameID.Token = "other"
		checkCode(t, "CreateKMSGrant(id of a grant of another key)", s.CreateKMSGrant(ctx, sameID), profiles.ECONFLICT)
		sameToken := fullKMSGrant(1, "g2")
		sameToken.Token = "token-g1"
		checkCode(t, "CreateKMSGrant(taken token)", s.CreateKMSGrant(ctx, sameToken), profiles.ECONFLICT)
		list, err := s.ListKMSGrants(ctx, kmsKeyID(2), "", 0)
		if err != nil {
			t.Fatalf("ListKMSGrants: %v", err)
		}
		checkKMS(t, "ListKMSGrants(key 2)", 0, len(list))
	})

	t.Run("FindDelete", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		mustCreateKMSGrant(t, ctx, s, fullKMSGrant(1, "g1"))
		_, err := s.FindKMSGrant(ctx, kmsKeyID(2), "g1")
		checkNotFound(t, "FindKMSGrant(grant of another key)", err, "g1")
		_, err = s.FindKMSGrantByToken(ctx, "token-missing")
		checkCode(t, "FindKMSGrantByToken(missing)", err, profiles.ENOTFOUND)
		checkNotFound(t, "DeleteKMSGrant(grant of another key)", s.DeleteKMSGrant(ctx, kmsKeyID(2), "g1"), "g1")
		if err := s.DeleteKMSGrant(ctx, kmsKeyID(1), "g1"); err != nil {
			t.Fatalf("DeleteKMSGrant: %v", err)
		}
		_, err = s.FindKMSGrant(ctx, kmsKeyID(1), "g1")
		checkCode(t, "FindKMSGrant(deleted)", err, profiles.ENOTFOUND)
		_, err = s.FindKMSGrantByToken(ctx, "token-g1")
		checkCode(t, "FindKMSGrantByToken(deleted)", err, profiles.ENOTFOUND)
		checkCode(t, "DeleteKMSGrant(deleted)", s.DeleteKMSGrant(ctx, kmsKeyID(1), "g1"), profiles.ENOTFOUND)
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenKMS(t, open)
		mustCreateKMSKeys(t, ctx, s, 1, 2)
		for _, id := range []string{"g3", "g1", "g4", "g2"} {
			mustCreateKMSGrant(t, ctx, s, fullKMSGrant(1, id))
		}
		mustCreateKMSGrant(t, ctx, s, fullKMSGrant(2, "g0"))
		for _, tt := range []struct {
			after string
			limit int
			want  []string
		}{
			{"", 0, []string{"g1", "g2", "g3", "g4"}},
			{"", 3, []string{"g1", "g2", "g3"}},
			{"g3", 3, []string{"g4"}},
			{"g4", 0, nil},
		} {
			grants, err := s.ListKMSGrants(ctx, kmsKeyID(1), tt.after, tt.limit)
			if err != nil {
				t.Fatalf("ListKMSGrants: %v", err)
			}
			var got []string
			for _, g := range grants {
				got = append(got, g.GrantID)
			}
			checkKMS(t, fmt.Sprintf("ListKMSGrants(%q, %d)", tt.after, tt.limit), tt.want, got)
		}
		_, err := s.ListKMSGrants(ctx, kmsKeyID(3), "", 0)
		checkNotFound(t, "ListKMSGrants(missing key)", err, kmsKeyID(3))
	})
}
