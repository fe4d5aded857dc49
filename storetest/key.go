package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/openprofiles/profiles"
)

func testKey(t *testing.T, open OpenFunc) {
	t.Run("FindProfileIDs", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		var values []any
		for _, i := range []int{3, 1, 2, 4} {
			values = append(values, &profiles.Profile{DomainName: "d", ID: profileID(i)})
		}
		values = append(values, &profiles.Profile{DomainName: "e", ID: profileID(5)})
		key := func(i int, name, value, origin, objectKey string) profiles.Key {
			domain := "d"
			if i == 5 {
				domain = "e"
			}
			return profiles.Key{DomainName: domain, Name: name, Value: value, ProfileID: profileID(i), Origin: origin, ObjectKey: objectKey}
		}
		mustPut(t, ctx, s, append(values, []profiles.Key{
			// Profile 3 holds the email twice, from two origins; 1 and 2 once.
			key(3, "_email", "a@example.com", profiles.KeyOriginProfile, ""),
			key(1, "_email", "a@example.com", profiles.KeyOriginAPI, ""),
			key(3, "_email", "a@example.com", "Web", "w1"),
			key(2, "_email", "a@example.com", "Web", "w2"),
			key(4, "_email", "A@example.com", profiles.KeyOriginProfile, ""),
			key(4, "_email", "a%", profiles.KeyOriginProfile, ""),
			key(4, "_phone", "a@example.com", profiles.KeyOriginProfile, ""),
			key(5, "_email", "a@example.com", profiles.KeyOriginProfile, ""),
		})...)
		for _, tt := range []struct {
			name               string
			domain, key, value string
			want               []string
		}{
			{"DistinctInByteOrder", "d", "_email", "a@example.com", []string{profileID(1), profileID(2), profileID(3)}},
			{"CaseSensitive", "d", "_email", "A@example.com", []string{profileID(4)}},
			{"OtherName", "d", "_phone", "a@example.com", []string{profileID(4)}},
			{"OtherDomain", "e", "_email", "a@example.com", []string{profileID(5)}},
			{"NoWildcards", "d", "_email", "a%", []string{profileID(4)}},
			{"NoWildcardMatch", "d", "_email", "a_example.com", nil},
			{"NoPrefixMatch", "d", "_email", "a@example", nil},
			{"NoSuchName", "d", "_fax", "a@example.com", nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkEqual(t, "FindProfileIDs", tt.want, mustFindProfileIDs(t, ctx, s, tt.domain, tt.key, tt.value))
			})
		}
	})

	t.Run("PutKeysIgnoresDuplicates", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		k := profiles.Key{DomainName: "d", Name: "_email", Value: "a@example.com", ProfileID: profileID(1), Origin: profiles.KeyOriginProfile}
		api := k
		api.Origin = profiles.KeyOriginAPI
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, []profiles.Key{k, k, api})
		mustPut(t, ctx, s, []profiles.Key{api, k})
		checkEqual(t, "ListKeys", sortedKeys(k, api), mustListKeys(t, ctx, s, "d", profileID(1)))
	})

	t.Run("PutKeysMany", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		var keys []profiles.Key
		for i := range 1000 {
			keys = append(keys, profiles.Key{DomainName: "d", Name: "k", Value: fmt.Sprintf("v%04d", i), ProfileID: profileID(1 + i%2), Origin: profiles.KeyOriginAPI})
		}
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)}, keys)
		got := append(mustListKeys(t, ctx, s, "d", profileID(1)), mustListKeys(t, ctx, s, "d", profileID(2))...)
		checkEqual(t, "ListKeys", sortedKeys(keys...), sortedKeys(got...))
	})

	t.Run("DeleteKeys", func(t *testing.T) {
		p1, p2 := profileID(1), profileID(2)
		key := func(id, name, origin, objectKey string) profiles.Key {
			return profiles.Key{DomainName: "d", Name: name, Value: "v", ProfileID: id, Origin: origin, ObjectKey: objectKey}
		}
		all := []profiles.Key{
			key(p1, "_phone", profiles.KeyOriginProfile, ""),
			key(p1, "_email", profiles.KeyOriginProfile, ""),
			key(p1, "_account", profiles.KeyOriginAPI, ""),
			key(p1, "contactId", "CTR", "c1"),
			key(p1, "_phone", "CTR", "c1"),
			key(p1, "contactId", "CTR", "c2"),
			key(p1, "orderId", "Orders", "c1"),
			key(p2, "_phone", profiles.KeyOriginProfile, ""),
			key(p2, "contactId", "CTR", "c1"),
		}
		for _, tt := range []struct {
			name               string
			id, origin, objKey string
			gone               []int // indexes in all
		}{
			{"Origin", p1, profiles.KeyOriginProfile, "", []int{0, 1}},
			{"APIOrigin", p1, profiles.KeyOriginAPI, "", []int{2}},
			{"ObjectKey", p1, "CTR", "c1", []int{3, 4}},
			{"AllOfAnObjectType", p1, "CTR", "", []int{3, 4, 5}},
			{"OtherProfile", p2, "CTR", "c1", []int{8}},
			{"NoneIsNoError", p1, "CTR", "c9", nil},
			{"MissingProfile", profileID(3), profiles.KeyOriginProfile, "", nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				mustCreateDomains(t, ctx, s, "d")
				mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: p1}, &profiles.Profile{DomainName: "d", ID: p2}, all)
				mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteKeys(ctx, "d", tt.id, tt.origin, tt.objKey) })
				var want []profiles.Key
				for i, k := range all {
					if !slices.Contains(tt.gone, i) {
						want = append(want, k)
					}
				}
				got := append(mustListKeys(t, ctx, s, "d", p1), mustListKeys(t, ctx, s, "d", p2)...)
				checkEqual(t, "ListKeys", sortedKeys(want...), sortedKeys(got...))
			})
		}
	})

	t.Run("DeleteKeyValues", func(t *testing.T) {
		p1, p2 := profileID(1), profileID(2)
		key := func(domain, id, name, value, origin, objectKey string) profiles.Key {
			return profiles.Key{DomainName: domain, Name: name, Value: value, ProfileID: id, Origin: origin, ObjectKey: objectKey}
		}
		all := []profiles.Key{
			key("d", p1, "_email", "a", profiles.KeyOriginProfile, ""),
			key("d", p1, "_email", "a", profiles.KeyOriginAPI, ""),
			key("d", p1, "_email", "a", "Web", "w1"),
			key("d", p1, "_email", "b", "Web", "w2"),
			key("d", p1, "_email", "c", profiles.KeyOriginAPI, ""),
			key("d", p1, "_phone", "a", profiles.KeyOriginProfile, ""),
			key("d", p2, "_email", "a", profiles.KeyOriginProfile, ""),
			key("d", p2, "_email", "b", profiles.KeyOriginAPI, ""),
			key("e", p1, "_email", "a", profiles.KeyOriginAPI, ""),
		}
		for _, tt := range []struct {
			name    string
			id, key string
			values  []string
			gone    []int // indexes in all
		}{
			{"EveryOrigin", p1, "_email", []string{"a"}, []int{0, 1, 2}},
			{"SeveralValues", p1, "_email", []string{"b", "a"}, []int{0, 1, 2, 3}},
			{"RepeatedValues", p1, "_email", []string{"b", "c", "b"}, []int{3, 4}},
			{"OtherName", p1, "_phone", []string{"a"}, []int{5}},
			{"OtherProfile", p2, "_email", []string{"a", "b", "c"}, []int{6, 7}},
			{"CaseSensitive", p1, "_email", []string{"A"}, nil},
			{"NoMatch", p1, "_email", []string{"z"}, nil},
			{"NoValues", p1, "_email", nil, nil},
			{"MissingProfile", profileID(3), "_email", []string{"a"}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				mustCreateDomains(t, ctx, s, "d", "e")
				mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: p1}, &profiles.Profile{DomainName: "d", ID: p2},
					&profiles.Profile{DomainName: "e", ID: p1}, all)
				var n int
				mustUpdate(t, ctx, s, func(tx profiles.Tx) (err error) {
					n, err = tx.DeleteKeyValues(ctx, "d", tt.id, tt.key, tt.values)
					return err
				})
				if n != len(tt.gone) {
					t.Errorf("DeleteKeyValues: %d, want %d", n, len(tt.gone))
				}
				want := map[string][]profiles.Key{}
				for i, k := range all {
					if !slices.Contains(tt.gone, i) {
						want[k.DomainName] = append(want[k.DomainName], k)
					}
				}
				got := append(mustListKeys(t, ctx, s, "d", p1), mustListKeys(t, ctx, s, "d", p2)...)
				checkEqual(t, "ListKeys(d)", sortedKeys(want["d"]...), sortedKeys(got...))
				checkEqual(t, "ListKeys(e)", sortedKeys(want["e"]...), mustListKeys(t, ctx, s, "e", p1))
			})
		}
	})

	t.Run("DeleteKeyValuesMany", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		var keys, kept []profiles.Key
		var values []string
		for i := range 1200 {
			k := profiles.Key{DomainName: "d", Name: "k", Value: fmt.Sprintf("v%04d", i), ProfileID: profileID(1), Origin: profiles.KeyOriginAPI}
			keys = append(keys, k)
			if i%12 == 0 {
				kept = append(kept, k)
			} else {
				values = append(values, k.Value)
			}
		}
		values = append(values, "missing")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, keys)
		var n int
		mustUpdate(t, ctx, s, func(tx profiles.Tx) (err error) {
			n, err = tx.DeleteKeyValues(ctx, "d", profileID(1), "k", values)
			return err
		})
		if want := len(keys) - len(kept); n != want {
			t.Errorf("DeleteKeyValues: %d, want %d", n, want)
		}
		checkEqual(t, "ListKeys", sortedKeys(kept...), mustListKeys(t, ctx, s, "d", profileID(1)))
	})

	t.Run("ListKeysMissingProfile", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		if keys := mustListKeys(t, ctx, s, "d", profileID(1)); len(keys) > 0 {
			t.Errorf("ListKeys: %v, want none", keys)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
		ok := profiles.Key{DomainName: "d", Name: "n", Value: "v", ProfileID: profileID(1), Origin: profiles.KeyOriginAPI}
		missingProfile := ok
		missingProfile.ProfileID = profileID(2)
		missingDomain := ok
		missingDomain.DomainName = "x"
		for _, tt := range []struct {
			name  string
			call  func(tx profiles.Tx) error
			words []string
		}{
			{"PutMissingProfile", func(tx profiles.Tx) error { return tx.PutKeys(ctx, []profiles.Key{ok, missingProfile}) }, []string{profileID(2)}},
			{"PutMissingDomain", func(tx profiles.Tx) error { return tx.PutKeys(ctx, []profiles.Key{missingDomain}) }, []string{"domain", `"x"`}},
			{"FindMissingDomain", func(tx profiles.Tx) error { _, err := tx.FindProfileIDs(ctx, "x", "n", "v"); return err }, []string{"domain", `"x"`}},
			{"ListMissingDomain", func(tx profiles.Tx) error { _, err := tx.ListKeys(ctx, "x", profileID(1)); return err }, []string{"domain", `"x"`}},
			{"DeleteMissingDomain", func(tx profiles.Tx) error {
				return tx.DeleteKeys(ctx, "x", profileID(1), profiles.KeyOriginAPI, "")
			}, []string{"domain", `"x"`}},
			{"DeleteValuesMissingDomain", func(tx profiles.Tx) error {
				_, err := tx.DeleteKeyValues(ctx, "x", profileID(1), "n", []string{"v"})
				return err
			}, []string{"domain", `"x"`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, s.Update(ctx, tt.call), tt.words...)
			})
		}
		if keys := mustListKeys(t, ctx, s, "d", profileID(1)); len(keys) > 0 {
			t.Errorf("ListKeys after failed puts: %v, want none", keys)
		}
	})
}
