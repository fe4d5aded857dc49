package storetest

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

func testObject(t *testing.T, open OpenFunc) {
	t.Run("KeepsEveryField", func(t *testing.T) {
		east := time.FixedZone("UTC+2", 2*60*60)
		full := &profiles.ProfileObject{
			DomainName:        "d",
			ObjectTypeName:    "CTR",
			UniqueKey:         "contact-1",
			ProfileID:         profileID(1),
			Data:              []byte("{\"a\": \"é\\u00e9\",\n \"b\": [1, 2.50]}\x00\xff\xfe not JSON \x80"),
			SourceLastUpdated: time.Date(2025, 1, 2, 3, 4, 5, 678912345, east),
			CreatedAt:         time.Date(2025, 1, 2, 3, 4, 6, 999999, east),
			UpdatedAt:         time.Date(2025, 1, 2, 3, 4, 7, 1_000_001, east),
			ExpiresAt:         time.Date(2027, 1, 2, 3, 4, 5, 600_700_800, east),
		}
		for _, tt := range []struct {
			name string
			o    func() *profiles.ProfileObject
		}{
			{"Full", func() *profiles.ProfileObject { o := *full; return &o }},
			{"ZeroTimesAndNoData", func() *profiles.ProfileObject {
				return &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: "contact-1", ProfileID: profileID(1),
					Data: []byte{}, CreatedAt: clockStart(), UpdatedAt: clockStart()}
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				mustCreateDomains(t, ctx, s, "d")
				probe := *full
				probe.Data = []byte("x") // zeroFields would see its NUL byte
				if zero := zeroFields("ProfileObject", reflect.ValueOf(&probe)); len(zero) > 0 {
					t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
				}
				o := tt.o()
				mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, o)
				want := storedObject(tt.o())
				checkEqual(t, "PutObject: o", want.CreatedAt, o.CreatedAt)
				checkEqual(t, "PutObject: o", want.UpdatedAt, o.UpdatedAt)
				got, err := findObject(t, ctx, s, "d", "CTR", "contact-1")
				if err != nil {
					t.Fatalf("FindObject: %v", err)
				}
				checkEqual(t, "FindObject", want, got)
				if !got.ExpiresAt.Equal(want.ExpiresAt) || got.ExpiresAt.IsZero() != want.ExpiresAt.IsZero() {
					t.Errorf("FindObject: ExpiresAt=%v, want %v", got.ExpiresAt, want.ExpiresAt)
				}
				list := mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: profileID(1)})
				checkEqual(t, "ListObjects", []*profiles.ProfileObject{want}, list)
			})
		}
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		mustCreateDomains(t, ctx, s, "d")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		created := storedTime(clock.Now())
		o := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: "c1", ProfileID: profileID(1), Data: []byte("{}")}
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, o)
		if !o.CreatedAt.Equal(created) || !o.UpdatedAt.Equal(created) {
			t.Errorf("PutObject(new): times %v, %v; want the store's %v", o.CreatedAt, o.UpdatedAt, created)
		}
		clock.Add(time.Hour)
		o = &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: "c1", ProfileID: profileID(1), Data: []byte("[]")}
		mustPut(t, ctx, s, o)
		got, err := findObject(t, ctx, s, "d", "CTR", "c1")
		if err != nil {
			t.Fatalf("FindObject: %v", err)
		}
		if !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(storedTime(clock.Now())) {
			t.Errorf("FindObject after replacement: times %v, %v; want %v (kept), %v", got.CreatedAt, got.UpdatedAt, created, storedTime(clock.Now()))
		}
		checkEqual(t, "PutObject(replacement): o", got, o)
	})

	t.Run("ReplacesByUniqueKey", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p1, p2 := &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)}
		first := newObject("d", "CTR", "c1", p1.ID, clockStart())
		first.ExpiresAt = clockStart().Add(time.Hour)
		other := newObject("d", "Orders", "c1", p1.ID, clockStart()) // same key, other type
		mustPut(t, ctx, s, p1, p2, first, other, objectKey(first, "contactId", "c1"))

		moved := newObject("d", "CTR", "c1", p2.ID, clockStart().Add(time.Minute))
		moved.Data = []byte(`{"second":true}`)
		mustPut(t, ctx, s, moved)
		got, err := findObject(t, ctx, s, "d", "CTR", "c1")
		if err != nil {
			t.Fatalf("FindObject: %v", err)
		}
		checkEqual(t, "FindObject", storedObject(moved), got)
		q := profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: p1.ID}
		checkEqual(t, "ListObjects(old profile)", []string(nil), uniqueKeys(mustListObjects(t, ctx, s, q)))
		q.ProfileID = p2.ID
		checkEqual(t, "ListObjects(new profile)", []string{"c1"}, uniqueKeys(mustListObjects(t, ctx, s, q)))
		if got, err := findObject(t, ctx, s, "d", "Orders", "c1"); err != nil {
			t.Errorf("FindObject(other type): %v", err)
		} else {
			checkEqual(t, "FindObject(other type)", storedObject(other), got)
		}
		// Keys are the caller's business: PutObject left the key on profile 1.
		checkEqual(t, "ListKeys", []profiles.Key{objectKey(first, "contactId", "c1")}, mustListKeys(t, ctx, s, "d", p1.ID))
		if st := mustStats(t, ctx, s, "d"); st.ObjectCount != 2 {
			t.Errorf("DomainStats: ObjectCount=%d, want 2", st.ObjectCount)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		o := newObject("d", "CTR", "c1", profileID(1), clockStart())
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, o)
		for _, tt := range []struct {
			name  string
			call  func(tx profiles.Tx) error
			words []string
		}{
			{"FindMissing", func(tx profiles.Tx) error { _, err := tx.FindObject(ctx, "d", "CTR", "c2"); return err }, []string{"c2"}},
			{"FindOtherType", func(tx profiles.Tx) error { _, err := tx.FindObject(ctx, "d", "Orders", "c1"); return err }, []string{"c1"}},
			{"FindOtherDomain", func(tx profiles.Tx) error { _, err := tx.FindObject(ctx, "e", "CTR", "c1"); return err }, []string{"c1"}},
			{"FindMissingDomain", func(tx profiles.Tx) error { _, err := tx.FindObject(ctx, "x", "CTR", "c1"); return err }, []string{"domain", `"x"`}},
			{"PutMissingProfile", func(tx profiles.Tx) error {
				return tx.PutObject(ctx, newObject("d", "CTR", "c2", profileID(2), clockStart()))
			}, []string{profileID(2)}},
			{"PutMissingDomain", func(tx profiles.Tx) error {
				return tx.PutObject(ctx, newObject("x", "CTR", "c2", profileID(1), clockStart()))
			}, []string{"domain", `"x"`}},
			{"DeleteMissing", func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "c2") }, []string{"c2"}},
			{"DeleteMissingDomain", func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "x", "CTR", "c1") }, []string{"domain", `"x"`}},
			{"ListMissingDomain", func(tx profiles.Tx) error {
				_, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: "x", ObjectType: "CTR", ProfileID: profileID(1)})
				return err
			}, []string{"domain", `"x"`}},
			{"UsageMissingDomain", func(tx profiles.Tx) error {
				_, err := tx.ProfileUsage(ctx, "x", profileID(1), "")
				return err
			}, []string{"domain", `"x"`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, s.Update(ctx, tt.call), tt.words...)
			})
		}
		checkWorld(t, ctx, s, &world{domain: "d", objects: []*profiles.ProfileObject{o}})
		if got := mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: profileID(2)}); len(got) > 0 {
			t.Errorf("ListObjects(missing profile): %q, want none", uniqueKeys(got))
		}
	})

	t.Run("DeleteDeletesItsKeys", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		w := newWorld("d")
		// The same unique key under another type, with a key of the same
		// name and value: not the deleted object's.
		twin := newObject("d", "Orders", "contact-1", profileID(1), clockStart())
		w.objects = append(w.objects, twin)
		w.keys = append(w.keys, objectKey(twin, "contactId", "contact-1"))
		mustPut(t, ctx, s, w.values()...)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "contact-1") })

		_, err := findObject(t, ctx, s, "d", "CTR", "contact-1")
		checkNotFound(t, "FindObject(deleted)", err, "contact-1")
		rest := &world{domain: "d", types: w.types, profiles: w.profiles}
		for _, o := range w.objects {
			if o.ObjectTypeName != "CTR" || o.UniqueKey != "contact-1" {
				rest.objects = append(rest.objects, o)
			}
		}
		for _, k := range w.keys {
			if k.Origin != "CTR" || k.ObjectKey != "contact-1" {
				rest.keys = append(rest.keys, k)
			}
		}
		checkWorld(t, ctx, s, rest)
		checkEqual(t, "FindProfileIDs(contactId)", []string{profileID(1)}, mustFindProfileIDs(t, ctx, s, "d", "contactId", "contact-1"))
		err = s.Update(ctx, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "contact-1") })
		checkNotFound(t, "DeleteObject(again)", err, "contact-1")
	})

	// DeleteObject (a customer deleting an object) removes the content of
	// its history records on its profile, as the expiry sweep does; the
	// records stay, and so do the content of the profile's other records.
	t.Run("DeleteClearsHistoryContent", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		w := newWorld("d")
		twin := newObject("d", "Orders", "contact-1", profileID(1), clockStart())
		w.objects = append(w.objects, twin)
		mustPut(t, ctx, s, w.values()...)
		objectRecord := func(i int, profileID, objectType, key string) *profiles.HistoryRecord {
			r := newHistory("d", profileID, historyID(i), profiles.ActionIngested, objectType, "arn:aws:iam::123456789012:role/Feed",
				clockStart().Add(time.Duration(i)*time.Second))
			r.ObjectKey = key
			return r
		}
		cleared := []*profiles.HistoryRecord{
			objectRecord(1, profileID(1), "CTR", "contact-1"), objectRecord(2, profileID(1), "CTR", "contact-1"), // two versions
		}
		kept := []*profiles.HistoryRecord{
			objectRecord(3, profileID(1), "CTR", "contact-2"),
			objectRecord(4, profileID(1), "Orders", "contact-1"), // another type, the same key
			newHistory("d", profileID(1), historyID(5), profiles.ActionUpdated, profiles.ProfileObjectTypeName, "arn:aws:iam::123456789012:role/Agent", clockStart()),
			objectRecord(6, profileID(2), "CTR", "contact-1"), // another profile's
		}
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			for _, r := range append(slices.Clone(cleared), kept...) {
				if err := tx.PutHistory(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "contact-1") })
		for _, r := range cleared {
			want := storedHistory(r)
			want.Content = nil
			got, err := findHistory(t, ctx, s, "d", r.ProfileID, r.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s): %v", r.ID, err)
			}
			checkEqual(t, "record of the deleted object", want, got)
		}
		for _, r := range kept {
			got, err := findHistory(t, ctx, s, "d", r.ProfileID, r.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s): %v", r.ID, err)
			}
			checkEqual(t, "record "+r.ProfileID+" "+r.ObjectTypeName+"/"+r.ObjectKey, storedHistory(r), got)
		}
		// A DeleteObject that finds nothing changes nothing.
		err := s.Update(ctx, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "contact-2x") })
		checkNotFound(t, "DeleteObject(missing)", err, "contact-2x")
	})

	t.Run("ListNewestFirstInPages", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p1, p2 := &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)}
		values := []any{p1, p2}
		var want []*profiles.ProfileObject
		for i := range 25 {
			j := (i * 7) % 25 // created out of order
			// Groups of three share an UpdatedAt (to the millisecond): the
			// unique key breaks the ties.
			updated := clockStart().Add(time.Duration(j/3)*time.Minute + time.Duration(j%3)*time.Microsecond)
			o := newObject("d", "CTR", fmt.Sprintf("c%02d", (j*11)%25), p1.ID, updated)
			values = append(values, o)
			want = append(want, storedObject(o))
		}
		// Noise: another type on the same profile, the same type on another.
		values = append(values, newObject("d", "Orders", "o1", p1.ID, clockStart()), newObject("d", "CTR", "x1", p2.ID, clockStart()))
		mustPut(t, ctx, s, values...)
		slices.SortFunc(want, func(a, b *profiles.ProfileObject) int {
			return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), strings.Compare(b.UniqueKey, a.UniqueKey))
		})

		q := profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: p1.ID, Limit: 7}
		var got []*profiles.ProfileObject
		var sizes []int
		for range 10 {
			page := mustListObjects(t, ctx, s, q)
			sizes = append(sizes, len(page))
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			q.AfterUpdatedAt, q.AfterUniqueKey = page[len(page)-1].UpdatedAt, page[len(page)-1].UniqueKey
		}
		checkEqual(t, "pages", uniqueKeys(want), uniqueKeys(got))
		checkEqual(t, "objects", want, got)
		if want := []int{7, 7, 7, 4, 0}; !slices.Equal(sizes, want) {
			t.Errorf("page sizes %v, want %v", sizes, want)
		}
		for _, limit := range []int{0, -1} {
			q := profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: p1.ID, Limit: limit}
			checkEqual(t, fmt.Sprintf("ListObjects(limit %d)", limit), uniqueKeys(want), uniqueKeys(mustListObjects(t, ctx, s, q)))
		}
	})

	t.Run("ListFilterByKey", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p1, p2 := &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)}
		var objects []*profiles.ProfileObject
		for i := range 4 {
			objects = append(objects, newObject("d", "CTR", fmt.Sprintf("c%d", i), p1.ID, clockStart().Add(time.Duration(i)*time.Minute)))
		}
		theirs := newObject("d", "CTR", "c9", p2.ID, clockStart())
		other := newObject("d", "Orders", "c1", p1.ID, clockStart())
		keys := []profiles.Key{
			objectKey(objects[0], "channel", "VOICE"),
			objectKey(objects[1], "channel", "CHAT"),
			objectKey(objects[2], "channel", "VOICE"),
			objectKey(objects[2], "queue", "sales"),
			objectKey(objects[3], "queue", "VOICE"),
			objectKey(theirs, "channel", "VOICE"),
			objectKey(other, "channel", "EMAIL"),
			// Not produced by c3: another origin, or another object key.
			{DomainName: "d", Name: "channel", Value: "TASK", ProfileID: p1.ID, Origin: profiles.KeyOriginAPI},
			{DomainName: "d", Name: "channel", Value: "TASK", ProfileID: p1.ID, Origin: "Orders", ObjectKey: "c3"},
			// Naming c3, but on another profile.
			{DomainName: "d", Name: "channel", Value: "SMS", ProfileID: p2.ID, Origin: "CTR", ObjectKey: "c3"},
		}
		mustPut(t, ctx, s, p1, p2, objects[0], objects[1], objects[2], objects[3], theirs, other, keys)
		for _, tt := range []struct {
			name   string
			key    string
			values []string
			want   []string
		}{
			{"NoFilter", "", nil, []string{"c3", "c2", "c1", "c0"}},
			{"ValuesWithoutKey", "", []string{"VOICE"}, []string{"c3", "c2", "c1", "c0"}},
			{"OneValue", "channel", []string{"VOICE"}, []string{"c2", "c0"}},
			{"TwoValues", "channel", []string{"CHAT", "VOICE"}, []string{"c2", "c1", "c0"}},
			{"DuplicateValues", "channel", []string{"VOICE", "VOICE"}, []string{"c2", "c0"}},
			{"OtherKeyName", "queue", []string{"VOICE"}, []string{"c3"}},
			{"OtherTypesKey", "channel", []string{"EMAIL"}, nil},
			{"OtherOriginsKey", "channel", []string{"TASK"}, nil},
			{"OtherProfilesKey", "channel", []string{"SMS"}, nil},
			{"NoMatch", "channel", []string{"voice"}, nil},
			{"NoValues", "channel", nil, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				q := profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: p1.ID, FilterKey: tt.key, FilterValues: tt.values}
				checkEqual(t, "ListObjects", tt.want, uniqueKeys(mustListObjects(t, ctx, s, q)))
			})
		}
		q := profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: p1.ID, FilterKey: "channel", FilterValues: []string{"CHAT", "VOICE"}, Limit: 2}
		page := mustListObjects(t, ctx, s, q)
		checkEqual(t, "ListObjects(filter, page 1)", []string{"c2", "c1"}, uniqueKeys(page))
		q.AfterUpdatedAt, q.AfterUniqueKey = page[len(page)-1].UpdatedAt, page[len(page)-1].UniqueKey
		checkEqual(t, "ListObjects(filter, page 2)", []string{"c0"}, uniqueKeys(mustListObjects(t, ctx, s, q)))
	})

	t.Run("ProfileUsage", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p1, p2 := &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)}
		values := []any{p1, p2}
		add := func(objectType, uk, id string, size int) {
			o := newObject("d", objectType, uk, id, clockStart())
			o.Data = make([]byte, size)
			values = append(values, o)
		}
		add("CTR", "c1", p1.ID, 10)
		add("CTR", "c2", p1.ID, 20)
		add("Orders", "o1", p1.ID, 400)
		add("CTR", "c3", p2.ID, 5000)
		mustPut(t, ctx, s, values...)
		for _, tt := range []struct {
			name       string
			id         string
			objectType string
			want       profiles.ProfileUsage
		}{
			{"AllTypes", p1.ID, "", profiles.ProfileUsage{Objects: 3, Bytes: 430}},
			{"OneType", p1.ID, "CTR", profiles.ProfileUsage{Objects: 2, Bytes: 30}},
			{"OtherType", p1.ID, "Orders", profiles.ProfileUsage{Objects: 1, Bytes: 400}},
			{"NoObjectsOfType", p1.ID, "Web", profiles.ProfileUsage{}},
			{"OtherProfile", p2.ID, "", profiles.ProfileUsage{Objects: 1, Bytes: 5000}},
			{"MissingProfile", profileID(3), "", profiles.ProfileUsage{}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkEqual(t, "ProfileUsage", tt.want, mustUsage(t, ctx, s, "d", tt.id, tt.objectType))
			})
		}
	})
}
