package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// putObjectType runs PutObjectType in its own Update.
func putObjectType(ctx context.Context, s profiles.Store, ot *profiles.ObjectType, limit int) error {
	return s.Update(ctx, func(tx profiles.Tx) error { return tx.PutObjectType(ctx, ot, limit) })
}

// findObjectType runs FindObjectType in its own View.
func findObjectType(tb testing.TB, ctx context.Context, s profiles.Store, domain, name string) (*profiles.ObjectType, error) {
	tb.Helper()
	var ot *profiles.ObjectType
	var ferr error
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		ot, ferr = tx.FindObjectType(ctx, domain, name)
		return nil
	})
	return ot, ferr
}

// listObjectTypes returns the names ListObjectTypes returns.
func listObjectTypes(tb testing.TB, ctx context.Context, s profiles.Store, domain, after string, limit int) []string {
	tb.Helper()
	var names []string
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		ots, err := tx.ListObjectTypes(ctx, domain, after, limit)
		for _, ot := range ots {
			names = append(names, ot.Name)
		}
		return err
	})
	return names
}

func testObjectType(t *testing.T, open OpenFunc) {
	t.Run("KeepsEveryField", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		ot := fullObjectType("d", "CTR")
		if zero := zeroFields("ObjectType", reflect.ValueOf(ot)); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		if err := putObjectType(ctx, s, ot, 0); err != nil {
			t.Fatalf("PutObjectType: %v", err)
		}
		want := storedObjectType(fullObjectType("d", "CTR"))
		checkEqual(t, "PutObjectType: ot", want, ot)
		got, err := findObjectType(t, ctx, s, "d", "CTR")
		if err != nil {
			t.Fatalf("FindObjectType: %v", err)
		}
		checkEqual(t, "FindObjectType", want, got)
		mustView(t, ctx, s, func(tx profiles.Tx) error {
			ots, err := tx.ListObjectTypes(ctx, "d", "", 0)
			checkEqual(t, "ListObjectTypes", []*profiles.ObjectType{want}, ots)
			return err
		})
	})

	t.Run("ZeroValuesStayZero", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		ot := &profiles.ObjectType{DomainName: "d", Name: "bare", CreatedAt: clockStart(), LastUpdatedAt: clockStart()}
		if err := putObjectType(ctx, s, ot, 0); err != nil {
			t.Fatalf("PutObjectType: %v", err)
		}
		got, err := findObjectType(t, ctx, s, "d", "bare")
		if err != nil {
			t.Fatalf("FindObjectType: %v", err)
		}
		checkEqual(t, "FindObjectType", &profiles.ObjectType{DomainName: "d", Name: "bare", CreatedAt: clockStart(), LastUpdatedAt: clockStart()}, got)
	})

	t.Run("ZeroTimesSetByStore", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		mustCreateDomains(t, ctx, s, "d")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		ot := fullObjectType("d", "CTR")
		ot.CreatedAt, ot.LastUpdatedAt = time.Time{}, time.Time{}
		if err := putObjectType(ctx, s, ot, 0); err != nil {
			t.Fatalf("PutObjectType: %v", err)
		}
		want := fullObjectType("d", "CTR")
		want.CreatedAt, want.LastUpdatedAt = storedTime(clock.Now()), storedTime(clock.Now())
		checkEqual(t, "PutObjectType: ot", want, ot)
		got, err := findObjectType(t, ctx, s, "d", "CTR")
		if err != nil {
			t.Fatalf("FindObjectType: %v", err)
		}
		checkEqual(t, "FindObjectType", want, got)
	})

	t.Run("ReplaceKeepsCreatedAt", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		if err := putObjectType(ctx, s, fullObjectType("d", "CTR"), 0); err != nil {
			t.Fatalf("PutObjectType: %v", err)
		}
		first := storedObjectType(fullObjectType("d", "CTR"))

		for _, created := range []time.Time{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), {}} {
			repl := &profiles.ObjectType{
				DomainName:     "d",
				Name:           "CTR",
				Description:    "replaced",
				ExpirationDays: 7,
				Fields:         map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}},
				Keys:           map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"id"}}}},
				CreatedAt:      created,
				LastUpdatedAt:  time.Date(2026, 2, 3, 4, 5, 6, 7_890_000, time.UTC),
			}
			// Limit 1 is reached, but a replacement adds no type.
			if err := putObjectType(ctx, s, repl, 1); err != nil {
				t.Fatalf("PutObjectType(replacement, limit 1): %v", err)
			}
			want := *repl
			want.CreatedAt, want.LastUpdatedAt = first.CreatedAt, storedTime(repl.LastUpdatedAt)
			checkEqual(t, "PutObjectType: ot", &want, repl)
			got, err := findObjectType(t, ctx, s, "d", "CTR")
			if err != nil {
				t.Fatalf("FindObjectType: %v", err)
			}
			checkEqual(t, "FindObjectType", &want, got)
		}
	})

	t.Run("ErrQuota", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		for i := range 3 {
			if err := putObjectType(ctx, s, fullObjectType("d", fmt.Sprintf("t%d", i)), 3); err != nil {
				t.Fatalf("PutObjectType(t%d): %v", i, err)
			}
		}
		checkCode(t, "PutObjectType(4th)", putObjectType(ctx, s, fullObjectType("d", "t3"), 3), profiles.EQUOTA)
		_, err := findObjectType(t, ctx, s, "d", "t3")
		checkCode(t, "FindObjectType(4th)", err, profiles.ENOTFOUND)
		if err := putObjectType(ctx, s, fullObjectType("e", "t3"), 3); err != nil {
			t.Errorf("PutObjectType(other domain): %v", err)
		}
		for _, limit := range []int{0, -1, 10} {
			name := fmt.Sprintf("more%d", limit)
			if err := putObjectType(ctx, s, fullObjectType("d", name), limit); err != nil {
				t.Errorf("PutObjectType(limit %d): %v", limit, err)
			}
		}
		if got, want := listObjectTypes(t, ctx, s, "d", "", 0), []string{"more-1", "more0", "more10", "t0", "t1", "t2"}; !slices.Equal(got, want) {
			t.Errorf("ListObjectTypes: %q, want %q", got, want)
		}
	})

	t.Run("ConcurrentQuota", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		codes, errs := concurrently(20, func(i int) error {
			return putObjectType(ctx, s, fullObjectType("d", fmt.Sprintf("t%02d", i)), 5)
		})
		checkCodes(t, "PutObjectType", codes, map[string]int{"": 5, profiles.EQUOTA: 15}, errs)
		if got := listObjectTypes(t, ctx, s, "d", "", 0); len(got) != 5 {
			t.Errorf("ListObjectTypes: %d types %q, want 5", len(got), got)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		if err := putObjectType(ctx, s, fullObjectType("d", "CTR"), 0); err != nil {
			t.Fatalf("PutObjectType: %v", err)
		}
		for _, tt := range []struct {
			name  string
			call  func(tx profiles.Tx) error
			words []string // the message names them
		}{
			{"FindMissingType", func(tx profiles.Tx) error { _, err := tx.FindObjectType(ctx, "d", "Orders"); return err }, []string{"Orders"}},
			{"FindOtherDomainsType", func(tx profiles.Tx) error { _, err := tx.FindObjectType(ctx, "e", "CTR"); return err }, []string{"CTR"}},
			{"FindCaseDiffers", func(tx profiles.Tx) error { _, err := tx.FindObjectType(ctx, "d", "ctr"); return err }, []string{"ctr"}},
			{"FindMissingDomain", func(tx profiles.Tx) error { _, err := tx.FindObjectType(ctx, "x", "CTR"); return err }, []string{"domain", `"x"`}},
			{"PutMissingDomain", func(tx profiles.Tx) error { return tx.PutObjectType(ctx, fullObjectType("x", "CTR"), 0) }, []string{"domain", `"x"`}},
			{"PutMissingDomainLimit", func(tx profiles.Tx) error { return tx.PutObjectType(ctx, fullObjectType("x", "CTR"), 5) }, []string{"domain", `"x"`}},
			{"ListMissingDomain", func(tx profiles.Tx) error { _, err := tx.ListObjectTypes(ctx, "x", "", 0); return err }, []string{"domain", `"x"`}},
			{"DeleteMissingType", func(tx profiles.Tx) error { return tx.DeleteObjectType(ctx, "d", "Orders") }, []string{"Orders"}},
			{"DeleteMissingDomain", func(tx profiles.Tx) error { return tx.DeleteObjectType(ctx, "x", "CTR") }, []string{"domain", `"x"`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, s.Update(ctx, tt.call), tt.words...)
			})
		}
		if _, err := findObjectType(t, ctx, s, "d", "CTR"); err != nil {
			t.Errorf("FindObjectType(CTR) after the failures: %v", err)
		}
	})

	t.Run("ListByteOrder", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		want := []string{"A", "CTR", "Z", "a", "a-1", "a.1", "a_1", "a_10", "a_2", "b", "é"}
		scrambled := slices.Clone(want)
		slices.Reverse(scrambled)
		var values []any
		for _, name := range scrambled {
			values = append(values, fullObjectType("d", name))
		}
		mustPut(t, ctx, s, append(values, fullObjectType("e", "B"))...)
		if got := listObjectTypes(t, ctx, s, "d", "", 0); !slices.Equal(got, want) {
			t.Errorf("ListObjectTypes: %q, want %q", got, want)
		}
		if got := listObjectTypes(t, ctx, s, "e", "", 0); !slices.Equal(got, []string{"B"}) {
			t.Errorf("ListObjectTypes(e): %q, want [B]", got)
		}
	})

	t.Run("ListAfter", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "empty")
		mustPut(t, ctx, s, fullObjectType("d", "t1"), fullObjectType("d", "t3"), fullObjectType("d", "t5"), fullObjectType("d", "t7"))
		for _, tt := range []struct {
			name   string
			domain string
			after  string
			limit  int
			want   []string
		}{
			{"Start", "d", "", 10, []string{"t1", "t3", "t5", "t7"}},
			{"Existing", "d", "t3", 10, []string{"t5", "t7"}},
			{"Missing", "d", "t4", 10, []string{"t5", "t7"}},
			{"Last", "d", "t7", 10, nil},
			{"Limit", "d", "t1", 2, []string{"t3", "t5"}},
			{"NoLimit", "d", "t1", 0, []string{"t3", "t5", "t7"}},
			{"EmptyDomain", "empty", "", 0, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := listObjectTypes(t, ctx, s, tt.domain, tt.after, tt.limit); !slices.Equal(got, tt.want) {
					t.Errorf("ListObjectTypes(%q, %q, %d): %q, want %q", tt.domain, tt.after, tt.limit, got, tt.want)
				}
			})
		}
	})

	t.Run("ListPaging", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		var all []string
		var values []any
		for i := range 25 {
			name := fmt.Sprintf("t%02d", (i*7)%25)
			all = append(all, name)
			values = append(values, fullObjectType("d", name))
		}
		mustPut(t, ctx, s, values...)
		slices.Sort(all)
		var got []string
		var sizes []int
		after := ""
		for range 10 {
			page := listObjectTypes(t, ctx, s, "d", after, 7)
			sizes = append(sizes, len(page))
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !slices.Equal(got, all) {
			t.Errorf("pages visited %q, want %q", got, all)
		}
		if want := []int{7, 7, 7, 4, 0}; !slices.Equal(sizes, want) {
			t.Errorf("page sizes %v, want %v", sizes, want)
		}
	})

	// DeleteObjectType deletes the definition only; DeleteTypeObjects then
	// deletes the objects, page by page, with the keys they produced, and
	// leaves those updated after its cutoff.
	t.Run("DeleteTypeObjects", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		w := newWorld("d")
		mustPut(t, ctx, s, w.values()...)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteObjectType(ctx, "d", "CTR") })
		_, err := findObjectType(t, ctx, s, "d", "CTR")
		checkNotFound(t, "FindObjectType(deleted)", err, "CTR")
		checkWorld(t, ctx, s, &world{domain: "d", types: w.types[1:], profiles: w.profiles, objects: w.objects, keys: w.keys})

		page := func(after string, before time.Time, limit int) string {
			t.Helper()
			var last string
			mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
				var err error
				last, err = tx.DeleteTypeObjects(ctx, "d", "CTR", after, before, limit)
				return err
			})
			return last
		}
		// keysOf: the world's keys but those of CTR objects not named.
		keysOf := func(objs ...*profiles.ProfileObject) []profiles.Key {
			var out []profiles.Key
			for _, k := range w.keys {
				if k.Origin != "CTR" || slices.ContainsFunc(objs, func(o *profiles.ProfileObject) bool { return o.UniqueKey == k.ObjectKey }) {
					out = append(out, k)
				}
			}
			return out
		}
		// contact-1 is updated at the cutoff, contact-2 a minute after it.
		cutoff := w.objects[0].UpdatedAt
		var got []string
		for after := ""; ; {
			if after = page(after, cutoff, 1); after == "" {
				break
			}
			got = append(got, after)
		}
		checkEqual(t, "pages (limit 1)", []string{"contact-1", "contact-2"}, got)
		checkWorld(t, ctx, s, &world{domain: "d", types: w.types[1:], profiles: w.profiles, objects: w.objects[1:], keys: keysOf(w.objects[1])})
		if ids := mustFindProfileIDs(t, ctx, s, "d", "contactId", "contact-1"); len(ids) > 0 {
			t.Errorf("FindProfileIDs(key of a deleted object): %q, want none", ids)
		}

		if last := page("", time.Time{}, 10); last != "contact-2" {
			t.Errorf("DeleteTypeObjects(no cutoff): last %q, want contact-2", last)
		}
		if last := page("", time.Time{}, 10); last != "" {
			t.Errorf("DeleteTypeObjects(none left): last %q, want none", last)
		}
		kept := keysOf()
		all := append(mustListKeys(t, ctx, s, "d", profileID(1)), mustListKeys(t, ctx, s, "d", profileID(2))...)
		checkEqual(t, "ListKeys", sortedKeys(kept...), sortedKeys(all...))
		checkWorld(t, ctx, s, &world{domain: "d", types: w.types[1:], profiles: w.profiles, objects: w.objects[2:], keys: kept})
		if st := mustStats(t, ctx, s, "d"); st.ObjectCount != 1 {
			t.Errorf("DomainStats: ObjectCount=%d, want 1", st.ObjectCount)
		}
		err = s.Update(ctx, func(tx profiles.Tx) error {
			_, err := tx.DeleteTypeObjects(ctx, "x", "CTR", "", time.Time{}, 10)
			return err
		})
		checkNotFound(t, "DeleteTypeObjects(missing domain)", err, `"x"`)
	})

	t.Run("DeleteLeavesObjectsOfUndefinedTypes", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p := fullProfile("d", profileID(1))
		o := newObject("d", "TemplateByName", "u1", p.ID, clockStart())
		mustPut(t, ctx, s, p, o)
		err := s.Update(ctx, func(tx profiles.Tx) error { return tx.DeleteObjectType(ctx, "d", "TemplateByName") })
		checkNotFound(t, "DeleteObjectType(undefined)", err, "TemplateByName")
		if _, err := findObject(t, ctx, s, "d", "TemplateByName", "u1"); err != nil {
			t.Errorf("FindObject: %v", err)
		}
	})
}
