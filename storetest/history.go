package storetest

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

func testHistory(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		probe := fullHistory("d", profileID(1), historyID(1))
		probe.Content = []byte("x") // zeroFields would see its NUL byte
		if zero := zeroFields("HistoryRecord", reflect.ValueOf(probe)); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		r := fullHistory("d", profileID(1), historyID(1))
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
		mustPutHistory(t, ctx, s, r)
		want := storedHistory(fullHistory("d", profileID(1), historyID(1)))
		checkEqual(t, "PutHistory: r.CreatedAt", want.CreatedAt, r.CreatedAt)
		checkEqual(t, "PutHistory: r.LastUpdatedAt", want.LastUpdatedAt, r.LastUpdatedAt)
		got, err := findHistory(t, ctx, s, "d", profileID(1), historyID(1))
		if err != nil {
			t.Fatalf("FindHistory: %v", err)
		}
		checkEqual(t, "FindHistory", want, got)
		list := mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: profileID(1)})
		checkEqual(t, "ListHistory", []*profiles.HistoryRecord{want}, list)
	})

	t.Run("EmptyFields", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		r := &profiles.HistoryRecord{DomainName: "d", ProfileID: profileID(1), ID: historyID(1),
			ActionType: profiles.ActionCreated, ObjectTypeName: profiles.ProfileObjectTypeName,
			CreatedAt: clockStart(), LastUpdatedAt: clockStart()}
		mustPutHistory(t, ctx, s, r)
		got, err := findHistory(t, ctx, s, "d", profileID(1), historyID(1))
		if err != nil {
			t.Fatalf("FindHistory: %v", err)
		}
		checkEqual(t, "FindHistory", storedHistory(r), got)
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		mustCreateDomains(t, ctx, s, "d")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		r := newHistory("d", profileID(1), historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", time.Time{})
		mustPutHistory(t, ctx, s, r)
		want := newHistory("d", profileID(1), historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", storedTime(clock.Now()))
		checkEqual(t, "PutHistory: r", want, r)
		got, err := findHistory(t, ctx, s, "d", profileID(1), historyID(1))
		if err != nil {
			t.Fatalf("FindHistory: %v", err)
		}
		checkEqual(t, "FindHistory", want, got)
	})

	t.Run("ListPagesNewestFirst", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		// 23 records; i%8 sets the time, so that records share a time and
		// pages end among them; the id breaks ties. Records of another
		// profile and another domain sit between them.
		const n = 23
		var rs, noise []*profiles.HistoryRecord
		for _, i := range shuffled(n) {
			created := clockStart().Add(time.Duration(i%8) * time.Second)
			rs = append(rs, newHistory("d", profileID(1), historyID(i), profiles.ActionIngested, "CTR", "CTR", created))
			noise = append(noise,
				newHistory("d", profileID(2), historyID(i), profiles.ActionIngested, "CTR", "CTR", created),
				newHistory("e", profileID(1), historyID(100+i), profiles.ActionIngested, "CTR", "CTR", created))
		}
		mustPutHistory(t, ctx, s, append(slices.Clone(rs), noise...)...)
		want := slices.Clone(rs)
		slices.SortFunc(want, func(a, b *profiles.HistoryRecord) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
		})
		for i, r := range want {
			want[i] = storedHistory(r)
		}

		var got []*profiles.HistoryRecord
		q := profiles.HistoryQuery{DomainName: "d", ProfileID: profileID(1), Limit: 5}
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatalf("ListHistory: more than %d pages", n)
			}
			page := mustListHistory(t, ctx, s, q)
			if len(page) > q.Limit {
				t.Fatalf("ListHistory: page of %d records, limit %d", len(page), q.Limit)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			last := page[len(page)-1]
			q.AfterCreatedAt, q.AfterID = last.CreatedAt, last.ID
		}
		checkEqual(t, "ListHistory pages", want, got)

		for _, limit := range []int{0, -1} {
			all := mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: profileID(1), Limit: limit})
			checkEqual(t, "ListHistory(no limit)", want, all)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		at := func(i int) time.Time { return clockStart().Add(time.Duration(i) * time.Minute) }
		p := profileID(1)
		rs := []*profiles.HistoryRecord{
			newHistory("d", p, historyID(1), profiles.ActionIngested, "CTR", "CTR", at(1)),
			newHistory("d", p, historyID(2), profiles.ActionUpdated, "CTR", "arn:a", at(2)),
			newHistory("d", p, historyID(3), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", at(3)),
			newHistory("d", p, historyID(4), profiles.ActionUpdated, profiles.ProfileObjectTypeName, "arn:b", at(4)),
			newHistory("d", p, historyID(5), profiles.ActionIngested, "Orders", "Orders", at(5)),
			newHistory("d", p, historyID(6), profiles.ActionAddedProfileKey, profiles.ProfileObjectTypeName, "arn:a", at(6)),
			// The same on another profile: never listed.
			newHistory("d", profileID(2), historyID(7), profiles.ActionUpdated, profiles.ProfileObjectTypeName, "arn:a", at(7)),
		}
		mustPutHistory(t, ctx, s, rs...)
		for _, tt := range []struct {
			name string
			q    profiles.HistoryQuery
			want []int
		}{
			{"None", profiles.HistoryQuery{}, []int{6, 5, 4, 3, 2, 1}},
			{"ObjectType", profiles.HistoryQuery{ObjectTypeName: profiles.ProfileObjectTypeName}, []int{6, 4, 3}},
			{"ActionType", profiles.HistoryQuery{ActionType: profiles.ActionUpdated}, []int{4, 2}},
			{"PerformedBy", profiles.HistoryQuery{PerformedBy: "arn:a"}, []int{6, 3, 2}},
			{"ObjectTypeAndPerformedBy", profiles.HistoryQuery{ObjectTypeName: profiles.ProfileObjectTypeName, PerformedBy: "arn:a"}, []int{6, 3}},
			{"All", profiles.HistoryQuery{ObjectTypeName: "CTR", ActionType: profiles.ActionUpdated, PerformedBy: "arn:a"}, []int{2}},
			{"NoMatch", profiles.HistoryQuery{ActionType: profiles.ActionExpired}, nil},
			{"ExactMatch", profiles.HistoryQuery{PerformedBy: "arn:"}, nil},
			{"Paged", profiles.HistoryQuery{ObjectTypeName: profiles.ProfileObjectTypeName, AfterCreatedAt: at(6), AfterID: historyID(6), Limit: 1}, []int{4}},
			{"PagedToTheEnd", profiles.HistoryQuery{ObjectTypeName: profiles.ProfileObjectTypeName, AfterCreatedAt: at(3), AfterID: historyID(3)}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				q.DomainName, q.ProfileID = "d", p
				var want []string
				for _, i := range tt.want {
					want = append(want, historyID(i))
				}
				checkEqual(t, "ListHistory", want, historyIDs(mustListHistory(t, ctx, s, q)))
			})
		}
	})

	t.Run("MissingProfileHasNone", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPutHistory(t, ctx, s, newHistory("d", profileID(1), historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", clockStart()))
		if rs := mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: profileID(2)}); len(rs) > 0 {
			t.Errorf("ListHistory(missing profile): %d records, want none", len(rs))
		}
	})

	t.Run("KeptAfterDeleteProfile", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p := profileID(1)
		created := newHistory("d", p, historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", clockStart())
		deleted := newHistory("d", p, historyID(2), profiles.ActionDeletedByCustomer, profiles.ProfileObjectTypeName, "arn:a", clockStart().Add(time.Second))
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: p})
		mustPutHistory(t, ctx, s, created)
		// The record of the deletion is written after it, in its transaction.
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			if err := tx.DeleteProfile(ctx, "d", p); err != nil {
				return err
			}
			return tx.PutHistory(ctx, deleted)
		})
		if _, err := findProfile(t, ctx, s, "d", p); profiles.ErrorCode(err) != profiles.ENOTFOUND {
			t.Fatalf("FindProfile(deleted): err=%v, want ENOTFOUND", err)
		}
		for _, want := range []*profiles.HistoryRecord{created, deleted} {
			got, err := findHistory(t, ctx, s, "d", p, want.ID)
			if err != nil {
				t.Fatalf("FindHistory(%q): %v", want.ID, err)
			}
			checkEqual(t, "FindHistory", storedHistory(want), got)
		}
		list := mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: p})
		checkEqual(t, "ListHistory", []string{historyID(2), historyID(1)}, historyIDs(list))
	})

	// ClearProfileHistory (DeleteProfile's, in its transaction) removes
	// the content of every record of the profile, whatever its action or
	// object, and keeps the records; other profiles' records, and the same
	// profile id's in another domain, keep theirs.
	t.Run("ClearProfileHistory", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		p := profileID(1)
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: p})
		at := func(i int) time.Time { return clockStart().Add(time.Duration(i) * time.Second) }
		ingested := newHistory("d", p, historyID(3), profiles.ActionIngested, "CTR", "arn:feed", at(3))
		ingested.ObjectKey = "contact-1"
		expired := newHistory("d", p, historyID(5), profiles.ActionExpired, "CTR", profiles.ServicePerformer, at(5))
		expired.ObjectKey, expired.Content = "contact-0", nil
		cleared := []*profiles.HistoryRecord{
			newHistory("d", p, historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", at(1)),
			newHistory("d", p, historyID(2), profiles.ActionUpdated, profiles.ProfileObjectTypeName, "arn:a", at(2)),
			ingested,
			newHistory("d", p, historyID(4), profiles.ActionAddedProfileKey, profiles.ProfileObjectTypeName, "arn:a", at(4)),
			expired,
			newHistory("d", p, historyID(6), profiles.ActionMerged, profiles.ProfileObjectTypeName, "arn:a", at(6)),
		}
		kept := []*profiles.HistoryRecord{
			newHistory("d", profileID(2), historyID(7), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", at(7)),
			newHistory("e", p, historyID(8), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", at(8)),
		}
		mustPutHistory(t, ctx, s, append(slices.Clone(cleared), kept...)...)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			if err := tx.DeleteProfile(ctx, "d", p); err != nil {
				return err
			}
			return tx.ClearProfileHistory(ctx, "d", p)
		})
		for _, r := range cleared {
			want := storedHistory(r)
			want.Content = nil
			got, err := findHistory(t, ctx, s, "d", p, r.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s): %v", r.ID, err)
			}
			checkEqual(t, "cleared "+r.ActionType+" record", want, got)
		}
		for _, r := range kept {
			got, err := findHistory(t, ctx, s, r.DomainName, r.ProfileID, r.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s): %v", r.ID, err)
			}
			checkEqual(t, "record of "+r.DomainName+"/"+r.ProfileID, storedHistory(r), got)
		}
		list := mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: p})
		checkEqual(t, "ListHistory", []string{historyID(6), historyID(5), historyID(4), historyID(3), historyID(2), historyID(1)}, historyIDs(list))
		for _, r := range list {
			if len(r.Content) > 0 {
				t.Errorf("ListHistory: %s record has content %q, want none", r.ActionType, r.Content)
			}
		}
		// Again, or of a profile without history: nothing to do.
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			if err := tx.ClearProfileHistory(ctx, "d", p); err != nil {
				return err
			}
			return tx.ClearProfileHistory(ctx, "d", profileID(9))
		})
	})

	t.Run("GoneWithDomain", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		p := profileID(1)
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: p})
		mustPutHistory(t, ctx, s,
			newHistory("d", p, historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", clockStart()),
			newHistory("d", profileID(2), historyID(2), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", clockStart()))
		kept := newHistory("e", p, historyID(1), profiles.ActionCreated, profiles.ProfileObjectTypeName, "arn:a", clockStart())
		mustPutHistory(t, ctx, s, kept)
		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		err := s.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: "d", ProfileID: p})
			return err
		})
		checkNotFound(t, "ListHistory in deleted domain", err, "domain", `"d"`)

		mustCreateDomains(t, ctx, s, "d") // the name again: nothing of the old one shows
		for _, id := range []string{profileID(1), profileID(2)} {
			if rs := mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: id}); len(rs) > 0 {
				t.Errorf("ListHistory(%s) after DeleteDomain: %d records, want none", id, len(rs))
			}
		}
		_, err = findHistory(t, ctx, s, "d", p, historyID(1))
		checkNotFound(t, "FindHistory after DeleteDomain", err, historyID(1))
		got, err := findHistory(t, ctx, s, "e", p, historyID(1))
		if err != nil {
			t.Fatalf("FindHistory(other domain): %v", err)
		}
		checkEqual(t, "FindHistory(other domain)", storedHistory(kept), got)
	})

	t.Run("RolledBack", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		fail := errors.New("storetest: fn failed")
		err := s.Update(ctx, func(tx profiles.Tx) error {
			if err := tx.PutHistory(ctx, fullHistory("d", profileID(1), historyID(1))); err != nil {
				return err
			}
			return fail
		})
		if !errors.Is(err, fail) {
			t.Fatalf("Update: err=%v, want %v", err, fail)
		}
		_, err = findHistory(t, ctx, s, "d", profileID(1), historyID(1))
		checkNotFound(t, "FindHistory(rolled back)", err, historyID(1))
	})

	t.Run("ErrConflict", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		first := fullHistory("d", profileID(1), historyID(1))
		mustPutHistory(t, ctx, s, first)
		again := newHistory("d", profileID(1), historyID(1), profiles.ActionUpdated, profiles.ProfileObjectTypeName, "arn:b", clockStart())
		err := s.Update(ctx, func(tx profiles.Tx) error { return tx.PutHistory(ctx, again) })
		checkCode(t, "PutHistory(same id)", err, profiles.ECONFLICT)
		got, err := findHistory(t, ctx, s, "d", profileID(1), historyID(1))
		if err != nil {
			t.Fatalf("FindHistory: %v", err)
		}
		checkEqual(t, "FindHistory after conflict", storedHistory(fullHistory("d", profileID(1), historyID(1))), got)

		// The id is unique per domain and profile only.
		other := fullHistory("d", profileID(2), historyID(1))
		elsewhere := fullHistory("e", profileID(1), historyID(1))
		mustPutHistory(t, ctx, s, other, elsewhere)
		for _, want := range []*profiles.HistoryRecord{other, elsewhere} {
			got, err := findHistory(t, ctx, s, want.DomainName, want.ProfileID, want.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s, %s): %v", want.DomainName, want.ProfileID, err)
			}
			checkEqual(t, "FindHistory", storedHistory(want), got)
		}
	})

	t.Run("Update", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		first, second := fullHistory("d", profileID(1), historyID(1)), fullHistory("d", profileID(1), historyID(2))
		second.ObjectKey = "contact-2"
		mustPutHistory(t, ctx, s, first, second)

		// ObjectKey selects the records of one object.
		var found []*profiles.HistoryRecord
		mustView(t, ctx, s, func(tx profiles.Tx) error {
			var err error
			found, err = tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: "d", ProfileID: profileID(1), ObjectKey: "contact-2"})
			return err
		})
		if got, want := historyIDs(found), []string{historyID(2)}; !slices.Equal(got, want) {
			t.Fatalf("ListHistory(ObjectKey contact-2) = %v, want %v", got, want)
		}

		// Content, performer and LastUpdatedAt change; the rest stays.
		later := second.LastUpdatedAt.Add(time.Hour)
		change := &profiles.HistoryRecord{DomainName: "d", ProfileID: profileID(1), ID: historyID(2),
			PerformedBy: "arn:b", Content: []byte(`{"v":2}`), LastUpdatedAt: later}
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.UpdateHistory(ctx, change) })
		checkEqual(t, "UpdateHistory: r.LastUpdatedAt", storedTime(later), change.LastUpdatedAt)
		want := storedHistory(second)
		want.PerformedBy, want.Content, want.LastUpdatedAt = "arn:b", []byte(`{"v":2}`), storedTime(later)
		got, err := findHistory(t, ctx, s, "d", profileID(1), historyID(2))
		if err != nil {
			t.Fatalf("FindHistory: %v", err)
		}
		checkEqual(t, "FindHistory after UpdateHistory", want, got)
		got, err = findHistory(t, ctx, s, "d", profileID(1), historyID(1))
		if err != nil {
			t.Fatalf("FindHistory: %v", err)
		}
		checkEqual(t, "FindHistory of the other record", storedHistory(fullHistory("d", profileID(1), historyID(1))), got)

		missing := &profiles.HistoryRecord{DomainName: "d", ProfileID: profileID(1), ID: historyID(3), Content: []byte("x")}
		err = s.Update(ctx, func(tx profiles.Tx) error { return tx.UpdateHistory(ctx, missing) })
		checkNotFound(t, "UpdateHistory(missing)", err, historyID(3))
		missing.DomainName = "x"
		err = s.Update(ctx, func(tx profiles.Tx) error { return tx.UpdateHistory(ctx, missing) })
		checkNotFound(t, "UpdateHistory(missing domain)", err, `"x"`)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPutHistory(t, ctx, s, fullHistory("d", profileID(1), historyID(1)))
		for _, tt := range []struct {
			name  string
			call  func(tx profiles.Tx) error
			words []string
		}{
			{"FindMissing", func(tx profiles.Tx) error {
				_, err := tx.FindHistory(ctx, "d", profileID(1), historyID(2))
				return err
			}, []string{historyID(2)}},
			{"FindOtherProfiles", func(tx profiles.Tx) error {
				_, err := tx.FindHistory(ctx, "d", profileID(2), historyID(1))
				return err
			}, []string{historyID(1)}},
			{"FindMissingDomain", func(tx profiles.Tx) error {
				_, err := tx.FindHistory(ctx, "x", profileID(1), historyID(1))
				return err
			}, []string{"domain", `"x"`}},
			{"ListMissingDomain", func(tx profiles.Tx) error {
				_, err := tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: "x", ProfileID: profileID(1)})
				return err
			}, []string{"domain", `"x"`}},
			{"PutMissingDomain", func(tx profiles.Tx) error {
				return tx.PutHistory(ctx, fullHistory("x", profileID(1), historyID(1)))
			}, []string{"domain", `"x"`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, s.Update(ctx, tt.call), tt.words...)
			})
		}
	})
}

// shuffled returns 0 … n-1 in an order that is neither ascending nor
// descending (n must not be a multiple of 7).
func shuffled(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i * 7 % n
	}
	return out
}
