package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// findProfile runs FindProfile in its own View.
func findProfile(tb testing.TB, ctx context.Context, s profiles.Store, domain, id string) (*profiles.Profile, error) {
	tb.Helper()
	var p *profiles.Profile
	var ferr error
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		p, ferr = tx.FindProfile(ctx, domain, id)
		return nil
	})
	return p, ferr
}

func testProfile(t *testing.T, open OpenFunc) {
	t.Run("ListProfileIDs", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "other")
		for _, i := range []int{3, 1, 2, 5, 4} {
			mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(i), Fields: map[string]string{"FirstName": "x"}})
		}
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "other", ID: profileID(9)})
		var got []string
		after := ""
		for {
			var page []string
			err := s.View(ctx, func(tx profiles.Tx) error {
				var err error
				page, err = tx.ListProfileIDs(ctx, "d", after, 2)
				return err
			})
			if err != nil {
				t.Fatalf("ListProfileIDs: %v", err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		checkEqual(t, "ListProfileIDs", []string{profileID(1), profileID(2), profileID(3), profileID(4), profileID(5)}, got)
		err := s.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.ListProfileIDs(ctx, "missing", "", 0)
			return err
		})
		if got, want := profiles.ErrorCode(err), profiles.ENOTFOUND; got != want {
			t.Errorf("ListProfileIDs(missing domain): code %q, want %q", got, want)
		}
	})

	t.Run("KeepsFieldsAndSources", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p := fullProfile("d", profileID(1))
		mustPut(t, ctx, s, p)
		want := storedProfile(fullProfile("d", profileID(1)))
		checkEqual(t, "PutProfile: p.CreatedAt", want.CreatedAt, p.CreatedAt)
		checkEqual(t, "PutProfile: p.LastUpdatedAt", want.LastUpdatedAt, p.LastUpdatedAt)
		got, err := findProfile(t, ctx, s, "d", profileID(1))
		if err != nil {
			t.Fatalf("FindProfile: %v", err)
		}
		checkEqual(t, "FindProfile", want, got)
		if got, want := got.Sources["Address.City"].UpdatedAt, (time.Time{}); !got.Equal(want) {
			t.Errorf("FindProfile: zero source time read back as %v", got)
		}
	})

	t.Run("ReplacesFieldsAsAWhole", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, fullProfile("d", profileID(1)))
		for _, tt := range []struct {
			name    string
			fields  map[string]string
			sources map[string]profiles.FieldSource
		}{
			{"Fewer", map[string]string{"FirstName": "Ana"}, map[string]profiles.FieldSource{"FirstName": {ObjectType: "Web", Priority: 1, UpdatedAt: clockStart()}}},
			{"NoSources", map[string]string{"LastName": "Silva", "Attributes.x": "1"}, nil},
			{"Nothing", nil, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := &profiles.Profile{DomainName: "d", ID: profileID(1), Fields: tt.fields, Sources: tt.sources,
					CreatedAt: clockStart(), LastUpdatedAt: clockStart().Add(time.Second)}
				want := storedProfile(p)
				mustPut(t, ctx, s, p)
				got, err := findProfile(t, ctx, s, "d", profileID(1))
				if err != nil {
					t.Fatalf("FindProfile: %v", err)
				}
				checkEqual(t, "FindProfile", want, got)
			})
		}
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		mustCreateDomains(t, ctx, s, "d")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		created := storedTime(clock.Now())

		p := &profiles.Profile{DomainName: "d", ID: profileID(1), Fields: map[string]string{"FirstName": "New"}}
		mustPut(t, ctx, s, p)
		want := &profiles.Profile{DomainName: "d", ID: profileID(1), Fields: map[string]string{"FirstName": "New"}, CreatedAt: created, LastUpdatedAt: created}
		checkEqual(t, "PutProfile(new): p", want, p)

		clock.Add(time.Hour)
		p = &profiles.Profile{DomainName: "d", ID: profileID(1), Fields: map[string]string{"FirstName": "Replaced"}}
		mustPut(t, ctx, s, p)
		want.Fields["FirstName"], want.LastUpdatedAt = "Replaced", storedTime(clock.Now())
		checkEqual(t, "PutProfile(replacement): p", want, p)
		got, err := findProfile(t, ctx, s, "d", profileID(1))
		if err != nil {
			t.Fatalf("FindProfile: %v", err)
		}
		checkEqual(t, "FindProfile", want, got)
	})

	t.Run("DomainsAreSeparate", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		d, e := fullProfile("d", profileID(1)), fullProfile("e", profileID(1))
		e.Fields = map[string]string{"FirstName": "Other"}
		mustPut(t, ctx, s, d, e)
		for _, want := range []*profiles.Profile{d, e} {
			got, err := findProfile(t, ctx, s, want.DomainName, want.ID)
			if err != nil {
				t.Fatalf("FindProfile: %v", err)
			}
			checkEqual(t, "FindProfile("+want.DomainName+")", storedProfile(want), got)
		}
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteProfile(ctx, "e", profileID(1)) })
		if _, err := findProfile(t, ctx, s, "d", profileID(1)); err != nil {
			t.Errorf("FindProfile(d) after deleting e's: %v", err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		mustPut(t, ctx, s, fullProfile("d", profileID(1)))
		for _, tt := range []struct {
			name  string
			call  func(tx profiles.Tx) error
			words []string
		}{
			{"FindMissing", func(tx profiles.Tx) error { _, err := tx.FindProfile(ctx, "d", profileID(2)); return err }, []string{profileID(2)}},
			{"FindOtherDomains", func(tx profiles.Tx) error { _, err := tx.FindProfile(ctx, "e", profileID(1)); return err }, []string{profileID(1)}},
			{"FindMissingDomain", func(tx profiles.Tx) error { _, err := tx.FindProfile(ctx, "x", profileID(1)); return err }, []string{"domain", `"x"`}},
			{"PutMissingDomain", func(tx profiles.Tx) error { return tx.PutProfile(ctx, fullProfile("x", profileID(1))) }, []string{"domain", `"x"`}},
			{"DeleteMissing", func(tx profiles.Tx) error { return tx.DeleteProfile(ctx, "d", profileID(2)) }, []string{profileID(2)}},
			{"DeleteMissingDomain", func(tx profiles.Tx) error { return tx.DeleteProfile(ctx, "x", profileID(1)) }, []string{"domain", `"x"`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, s.Update(ctx, tt.call), tt.words...)
			})
		}
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{fullProfile("d", profileID(1))}})
	})

	t.Run("DeleteDeletesObjectsAndKeys", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		w := newWorld("d")
		// Profile 1 also holds an object of profile 2's type, and a key
		// equal to one of profile 2's.
		extra := newObject("d", "Orders", "order-2", profileID(1), clockStart())
		w.objects = append(w.objects, extra)
		w.keys = append(w.keys, objectKey(extra, "orderId", "order-1"))
		mustPut(t, ctx, s, w.values()...)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteProfile(ctx, "d", profileID(1)) })

		_, err := findProfile(t, ctx, s, "d", profileID(1))
		checkNotFound(t, "FindProfile(deleted)", err, profileID(1))
		for _, o := range w.objects {
			if o.ProfileID == profileID(1) {
				_, err := findObject(t, ctx, s, "d", o.ObjectTypeName, o.UniqueKey)
				checkNotFound(t, "FindObject("+o.UniqueKey+")", err, o.UniqueKey)
			}
		}
		if keys := mustListKeys(t, ctx, s, "d", profileID(1)); len(keys) > 0 {
			t.Errorf("ListKeys(deleted profile): %v, want none", keys)
		}
		if u := mustUsage(t, ctx, s, "d", profileID(1), ""); u != (profiles.ProfileUsage{}) {
			t.Errorf("ProfileUsage(deleted profile): %+v, want zero", u)
		}
		rest := &world{domain: "d", types: w.types, profiles: w.profiles[1:], objects: w.objects[2:3]}
		for _, k := range w.keys {
			if k.ProfileID != profileID(1) {
				rest.keys = append(rest.keys, k)
			}
		}
		checkWorld(t, ctx, s, rest)
		for _, k := range w.keys {
			want := []string{profileID(2)}
			if k.ProfileID == profileID(1) && k.Value != "order-1" {
				want = nil
			}
			checkEqual(t, "FindProfileIDs("+k.Name+", "+k.Value+")", want, mustFindProfileIDs(t, ctx, s, "d", k.Name, k.Value))
		}
		st := mustStats(t, ctx, s, "d")
		if st.ProfileCount != 1 || st.ObjectCount != 1 {
			t.Errorf("DomainStats: %+v, want 1 profile and 1 object", st)
		}
	})
}
