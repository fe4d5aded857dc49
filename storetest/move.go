package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// moving is domain "d" with profile 1 (from) holding objects and keys of
// every origin, profile 2 (to) holding its own and one API key equal to one
// of from's, and profile 3 holding the same key value as from; and domain
// "e" with the same profile ids.
type moving struct {
	from, to, other *profiles.Profile
	objects         []*profiles.ProfileObject // of from
	toObject        *profiles.ProfileObject
	stay            profiles.Key   // from's key of origin KeyOriginProfile
	move            []profiles.Key // from's keys that move
	dup             profiles.Key   // from's key that to has already
	toKeys          []profiles.Key
	otherKeys       []profiles.Key
	elsewhere       *world // domain "e"
}

func newMoving(tb testing.TB, ctx context.Context, s profiles.Store) *moving {
	tb.Helper()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	m := &moving{
		from:      fullProfile("d", profileID(1)),
		to:        &profiles.Profile{DomainName: "d", ID: profileID(2), Fields: map[string]string{"FirstName": "To"}},
		other:     &profiles.Profile{DomainName: "d", ID: profileID(3)},
		elsewhere: newWorld("e"),
	}
	c1 := newObject("d", "CTR", "contact-1", m.from.ID, at)
	c2 := newObject("d", "CTR", "contact-2", m.from.ID, at.Add(2*time.Minute))
	c2.ExpiresAt = clockStart().Add(24 * time.Hour)
	o1 := newObject("d", "Orders", "order-1", m.from.ID, at)
	m.objects = []*profiles.ProfileObject{c1, c2, o1}
	m.toObject = newObject("d", "CTR", "contact-3", m.to.ID, at.Add(time.Minute))
	api := func(id, value string) profiles.Key {
		return profiles.Key{DomainName: "d", Name: "_account", Value: value, ProfileID: id, Origin: profiles.KeyOriginAPI}
	}
	m.stay = profiles.Key{DomainName: "d", Name: "_phone", Value: "+1", ProfileID: m.from.ID, Origin: profiles.KeyOriginProfile}
	m.move = []profiles.Key{
		api(m.from.ID, "A-1"),
		objectKey(c1, "contactId", "contact-1"),
		objectKey(c1, "_phone", "+1"),
		objectKey(c2, "contactId", "contact-2"),
		objectKey(o1, "orderId", "order-1"),
	}
	m.dup = api(m.from.ID, "A-2")
	m.toKeys = []profiles.Key{
		{DomainName: "d", Name: "_phone", Value: "+2", ProfileID: m.to.ID, Origin: profiles.KeyOriginProfile},
		api(m.to.ID, "A-2"),
		objectKey(m.toObject, "contactId", "contact-3"),
	}
	m.otherKeys = []profiles.Key{api(m.other.ID, "A-1")}
	mustCreateDomains(tb, ctx, s, "d", "e")
	keys := append([]profiles.Key{m.stay, m.dup}, m.move...)
	keys = append(append(keys, m.toKeys...), m.otherKeys...)
	mustPut(tb, ctx, s, m.from, m.to, m.other, c1, c2, o1, m.toObject, keys)
	mustPut(tb, ctx, s, m.elsewhere.values()...)
	return m
}

// moved returns what the objects and keys of from are on to.
func (m *moving) moved() (objects []*profiles.ProfileObject, keys []profiles.Key) {
	for _, o := range m.objects {
		o := storedObject(o)
		o.ProfileID = m.to.ID
		objects = append(objects, o)
	}
	for _, k := range m.move {
		k.ProfileID = m.to.ID
		keys = append(keys, k)
	}
	return objects, keys
}

// checkUntouched checks profile to's fields, the other profile and domain
// "e".
func (m *moving) checkUntouched(tb testing.TB, ctx context.Context, s profiles.Store) {
	tb.Helper()
	if got, err := findProfile(tb, ctx, s, "d", m.to.ID); err != nil {
		tb.Errorf("FindProfile(to): %v", err)
	} else {
		checkEqual(tb, "FindProfile(to)", storedProfile(m.to), got)
	}
	checkWorld(tb, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{m.other}, keys: m.otherKeys})
	checkWorld(tb, ctx, s, m.elsewhere)
}

func testMoveProfileData(t *testing.T, open OpenFunc) {
	t.Run("MovesObjectsAndKeys", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		m := newMoving(t, ctx, s)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.MoveProfileData(ctx, "d", m.from.ID, m.to.ID) })
		objects, keys := m.moved()

		for _, want := range objects {
			got, err := findObject(t, ctx, s, "d", want.ObjectTypeName, want.UniqueKey)
			if err != nil {
				t.Fatalf("FindObject(%s): %v", want.UniqueKey, err)
			}
			checkEqual(t, "FindObject("+want.UniqueKey+")", want, got)
		}
		checkEqual(t, "ListObjects(to, CTR)", []*profiles.ProfileObject{objects[1], storedObject(m.toObject), objects[0]},
			mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: m.to.ID}))
		checkEqual(t, "ListObjects(to, Orders)", []*profiles.ProfileObject{objects[2]},
			mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "Orders", ProfileID: m.to.ID}))
		for _, objectType := range []string{"CTR", "Orders"} {
			if os := mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: objectType, ProfileID: m.from.ID}); len(os) > 0 {
				t.Errorf("ListObjects(from, %s): %q, want none", objectType, uniqueKeys(os))
			}
		}
		filtered := mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: m.to.ID,
			FilterKey: "contactId", FilterValues: []string{"contact-1"}})
		checkEqual(t, "ListObjects(to, filtered by a moved key)", []string{"contact-1"}, uniqueKeys(filtered))
		if u := mustUsage(t, ctx, s, "d", m.from.ID, ""); u != (profiles.ProfileUsage{}) {
			t.Errorf("ProfileUsage(from): %+v, want zero", u)
		}
		if u := mustUsage(t, ctx, s, "d", m.to.ID, ""); u.Objects != 4 {
			t.Errorf("ProfileUsage(to): %+v, want 4 objects", u)
		}

		checkEqual(t, "ListKeys(from)", []profiles.Key{m.stay}, mustListKeys(t, ctx, s, "d", m.from.ID))
		checkEqual(t, "ListKeys(to)", sortedKeys(append(keys, m.toKeys...)...), mustListKeys(t, ctx, s, "d", m.to.ID))
		for _, tt := range []struct {
			name, value string
			want        []string
		}{
			{"_account", "A-1", []string{m.to.ID, m.other.ID}},
			{"_account", "A-2", []string{m.to.ID}},
			{"_phone", "+1", []string{m.from.ID, m.to.ID}},
			{"contactId", "contact-2", []string{m.to.ID}},
		} {
			checkEqual(t, "FindProfileIDs("+tt.name+", "+tt.value+")", tt.want, mustFindProfileIDs(t, ctx, s, "d", tt.name, tt.value))
		}

		// The profiles themselves do not change.
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{m.from}, keys: []profiles.Key{m.stay}})
		m.checkUntouched(t, ctx, s)
	})

	t.Run("ThenDeleteFrom", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		m := newMoving(t, ctx, s)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			if err := tx.MoveProfileData(ctx, "d", m.from.ID, m.to.ID); err != nil {
				return err
			}
			return tx.DeleteProfile(ctx, "d", m.from.ID)
		})
		objects, keys := m.moved()
		_, err := findProfile(t, ctx, s, "d", m.from.ID)
		checkNotFound(t, "FindProfile(from)", err, m.from.ID)
		checkWorld(t, ctx, s, &world{domain: "d", objects: objects, profiles: []*profiles.Profile{m.to}, keys: append(keys, m.toKeys...)})
		m.checkUntouched(t, ctx, s)

		// A moved object takes the keys it produced, which moved with it.
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "contact-1") })
		var want []profiles.Key
		for _, k := range append(keys, m.toKeys...) {
			if k.ObjectKey != "contact-1" {
				want = append(want, k)
			}
		}
		checkEqual(t, "ListKeys(to) after DeleteObject", sortedKeys(want...), mustListKeys(t, ctx, s, "d", m.to.ID))
	})

	t.Run("OnlyDuplicates", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		m := newMoving(t, ctx, s)
		// other's one key is one that from has: it is dropped; then other
		// has nothing left to move.
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.MoveProfileData(ctx, "d", m.other.ID, m.from.ID) })
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.MoveProfileData(ctx, "d", m.other.ID, m.to.ID) })
		if keys := mustListKeys(t, ctx, s, "d", m.other.ID); len(keys) > 0 {
			t.Errorf("ListKeys(other): %v, want none", keys)
		}
		checkEqual(t, "FindProfileIDs(_account, A-1)", []string{m.from.ID}, mustFindProfileIDs(t, ctx, s, "d", "_account", "A-1"))
		keys := append([]profiles.Key{m.stay, m.dup}, m.move...)
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{m.from}, objects: m.objects, keys: keys})
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{m.to}, objects: []*profiles.ProfileObject{m.toObject}, keys: m.toKeys})
	})

	t.Run("Errors", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		m := newMoving(t, ctx, s)
		missing := profileID(9)
		for _, tt := range []struct {
			name     string
			domain   string
			from, to string
			code     string
			words    []string
		}{
			{"MissingFrom", "d", missing, m.to.ID, profiles.ENOTFOUND, []string{missing}},
			{"MissingTo", "d", m.from.ID, missing, profiles.ENOTFOUND, []string{missing}},
			{"MissingDomain", "x", m.from.ID, m.to.ID, profiles.ENOTFOUND, []string{"domain", `"x"`}},
			{"OtherDomainsProfile", "e", m.from.ID, m.other.ID, profiles.ENOTFOUND, []string{m.other.ID}},
			{"SameProfile", "d", m.from.ID, m.from.ID, profiles.EINVALID, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Update(ctx, func(tx profiles.Tx) error { return tx.MoveProfileData(ctx, tt.domain, tt.from, tt.to) })
				checkCode(t, "MoveProfileData", err, tt.code)
				if tt.code == profiles.ENOTFOUND {
					checkNotFound(t, "MoveProfileData", err, tt.words...)
				}
			})
		}
		keys := append([]profiles.Key{m.stay, m.dup}, m.move...)
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{m.from}, objects: m.objects, keys: keys})
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{m.to}, objects: []*profiles.ProfileObject{m.toObject}, keys: m.toKeys})
		m.checkUntouched(t, ctx, s)
	})
}
