package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// expiring is a domain "d" with profile 1 holding, of type CTR, object
// "live" (never expires) and object "soon" (expires an hour after the
// clock's start), each with a key of its own, and a key "_phone" from both
// objects and from the profile; and profile 2 holding only object "only"
// (expires with "soon") and its key.
type expiring struct {
	live, soon, only *profiles.ProfileObject
	expiresAt        time.Time
	profileKey       profiles.Key
}

func newExpiring(tb testing.TB, ctx context.Context, s profiles.Store) *expiring {
	tb.Helper()
	e := &expiring{expiresAt: clockStart().Add(time.Hour)}
	e.live = newObject("d", "CTR", "live", profileID(1), clockStart())
	e.soon = newObject("d", "CTR", "soon", profileID(1), clockStart().Add(time.Minute))
	e.soon.ExpiresAt = e.expiresAt
	e.only = newObject("d", "CTR", "only", profileID(2), clockStart())
	e.only.ExpiresAt = e.expiresAt
	e.profileKey = profiles.Key{DomainName: "d", Name: "_phone", Value: "+1", ProfileID: profileID(1), Origin: profiles.KeyOriginProfile}
	mustCreateDomains(tb, ctx, s, "d")
	mustPut(tb, ctx, s,
		&profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)},
		e.live, e.soon, e.only, e.keys(e.live, e.soon, e.only))
	return e
}

// keys returns the keys of objects os, and the profile key if os has live.
func (e *expiring) keys(os ...*profiles.ProfileObject) []profiles.Key {
	var out []profiles.Key
	for _, o := range os {
		out = append(out, objectKey(o, "contactId", o.UniqueKey))
		if o.ProfileID == profileID(1) {
			out = append(out, objectKey(o, "_phone", "+1"))
		}
		if o == e.live {
			out = append(out, e.profileKey)
		}
	}
	return sortedKeys(out...)
}

// check checks that exactly objects os of the three are visible, through
// every read, in both View and Update.
func (e *expiring) check(tb testing.TB, ctx context.Context, s profiles.Store, os ...*profiles.ProfileObject) {
	tb.Helper()
	visible := func(o *profiles.ProfileObject) bool {
		for _, v := range os {
			if v == o {
				return true
			}
		}
		return false
	}
	var want profiles.DomainStats
	want.ProfileCount, want.MeteringProfileCount = 2, 2
	for _, o := range os {
		want.ObjectCount++
		want.TotalSize += int64(len(o.Data))
	}
	checkEqual(tb, "DomainStats", want, mustStats(tb, ctx, s, "d"))

	for _, run := range []func(context.Context, func(profiles.Tx) error) error{s.View, s.Update} {
		if err := run(ctx, func(tx profiles.Tx) error {
			for _, o := range []*profiles.ProfileObject{e.live, e.soon, e.only} {
				got, err := tx.FindObject(ctx, "d", "CTR", o.UniqueKey)
				if visible(o) {
					if err != nil {
						return fmt.Errorf("FindObject(%s): %w", o.UniqueKey, err)
					}
					checkEqual(tb, "FindObject", storedObject(o), got)
				} else {
					checkNotFound(tb, "FindObject("+o.UniqueKey+")", err, o.UniqueKey)
				}
				ids, err := tx.FindProfileIDs(ctx, "d", "contactId", o.UniqueKey)
				if err != nil {
					return err
				}
				if want := []string{o.ProfileID}; visible(o) {
					checkEqual(tb, "FindProfileIDs(contactId "+o.UniqueKey+")", want, ids)
				} else {
					checkEqual(tb, "FindProfileIDs(contactId "+o.UniqueKey+")", []string(nil), ids)
				}
			}
			for i, objects := range [][]*profiles.ProfileObject{{e.live, e.soon}, {e.only}} {
				id := profileID(i + 1)
				var wantList []*profiles.ProfileObject
				var wantUsage profiles.ProfileUsage
				var wantKeys []*profiles.ProfileObject
				for _, o := range objects {
					if visible(o) {
						wantList = append([]*profiles.ProfileObject{storedObject(o)}, wantList...) // newest first
						wantUsage.Objects++
						wantUsage.Bytes += int64(len(o.Data))
						wantKeys = append(wantKeys, o)
					}
				}
				list, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: id})
				if err != nil {
					return err
				}
				checkEqual(tb, "ListObjects("+id+")", wantList, list)
				filtered, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: id,
					FilterKey: "contactId", FilterValues: []string{"live", "soon", "only"}})
				if err != nil {
					return err
				}
				checkEqual(tb, "ListObjects("+id+", filter)", uniqueKeys(wantList), uniqueKeys(filtered))
				usage, err := tx.ProfileUsage(ctx, "d", id, "CTR")
				if err != nil {
					return err
				}
				checkEqual(tb, "ProfileUsage("+id+")", wantUsage, usage)
				keys, err := tx.ListKeys(ctx, "d", id)
				if err != nil {
					return err
				}
				sortKeys(keys)
				checkEqual(tb, "ListKeys("+id+")", e.keys(wantKeys...), keys)
			}
			ids, err := tx.FindProfileIDs(ctx, "d", "_phone", "+1")
			if err != nil {
				return err
			}
			// Profile 1 holds the key from its fields whatever its objects.
			checkEqual(tb, "FindProfileIDs(_phone)", []string{profileID(1)}, ids)
			return nil
		}); err != nil {
			tb.Fatalf("read: %v", err)
		}
	}
}

func testExpiry(t *testing.T, open OpenFunc) {
	t.Run("ExpiredObjectsInvisible", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		e.check(t, ctx, s, e.live, e.soon, e.only)

		clock.Set(e.expiresAt.Add(-time.Millisecond))
		e.check(t, ctx, s, e.live, e.soon, e.only)

		clock.Set(e.expiresAt) // at ExpiresAt: expired
		e.check(t, ctx, s, e.live)
		err := s.Update(ctx, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "soon") })
		checkNotFound(t, "DeleteObject(expired)", err, "soon")

		clock.Set(e.expiresAt.Add(-time.Second)) // not deleted: visible again
		e.check(t, ctx, s, e.live, e.soon, e.only)
	})

	t.Run("FindProfileIDsAmongExpiredKeys", func(t *testing.T) {
		// One key value held by four profiles, through many objects each
		// (more keys than a store may read in one range before it skips
		// from profile to profile): profile 1 only through objects that
		// expire; profile 2 through twenty objects of which every other
		// one, the first among them, expires; profile 3 through ten that
		// do not; profile 4 only through objects that expire. Once they
		// expire, the profiles with a live key are found, each once, in
		// order; and a value of a few keys likewise.
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		expiresAt := clockStart().Add(time.Hour)
		mustCreateDomains(t, ctx, s, "d")
		var put []any
		var keys []profiles.Key
		add := func(p int, value string, n int, expires func(i int) bool) {
			for i := range n {
				o := newObject("d", "CTR", fmt.Sprintf("p%d-%s-%02d", p, value, i), profileID(p), clockStart())
				if expires(i) {
					o.ExpiresAt = expiresAt
				}
				put = append(put, o)
				keys = append(keys, objectKey(o, "_email", value))
			}
		}
		always := func(int) bool { return true }
		never := func(int) bool { return false }
		for p := 1; p <= 4; p++ {
			put = append(put, &profiles.Profile{DomainName: "d", ID: profileID(p)})
		}
		add(1, "many", 3, always)
		add(2, "many", 20, func(i int) bool { return i%2 == 0 })
		add(3, "many", 10, never)
		add(4, "many", 5, always)
		add(1, "few", 1, always)
		add(2, "few", 2, func(i int) bool { return i == 0 })
		add(3, "few", 1, never)
		mustPut(t, ctx, s, append(put, keys)...)
		all := []string{profileID(1), profileID(2), profileID(3), profileID(4)}
		checkEqual(t, "FindProfileIDs(many) before the expiry", all, mustFindProfileIDs(t, ctx, s, "d", "_email", "many"))
		checkEqual(t, "FindProfileIDs(few) before the expiry", all[:3], mustFindProfileIDs(t, ctx, s, "d", "_email", "few"))
		clock.Set(expiresAt)
		checkEqual(t, "FindProfileIDs(many) after the expiry", all[1:3], mustFindProfileIDs(t, ctx, s, "d", "_email", "many"))
		checkEqual(t, "FindProfileIDs(few) after the expiry", all[1:3], mustFindProfileIDs(t, ctx, s, "d", "_email", "few"))
	})

	t.Run("PutObjectOverExpiredDropsItsKeys", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		clock.Set(e.expiresAt.Add(time.Minute))
		again := newObject("d", "CTR", "soon", profileID(1), clock.Now())
		again.CreatedAt = time.Time{}
		mustPut(t, ctx, s, again)
		if got, want := again.CreatedAt, storedTime(clock.Now()); !got.Equal(want) {
			t.Errorf("PutObject over an expired object: CreatedAt=%v, want %v (a new object)", got, want)
		}
		got, err := findObject(t, ctx, s, "d", "CTR", "soon")
		if err != nil {
			t.Fatalf("FindObject: %v", err)
		}
		checkEqual(t, "FindObject", storedObject(again), got)
		checkEqual(t, "ListKeys", e.keys(e.live), mustListKeys(t, ctx, s, "d", profileID(1)))

		clock.Set(clockStart()) // the old object's keys are gone, not hidden
		checkEqual(t, "ListKeys(earlier clock)", e.keys(e.live), mustListKeys(t, ctx, s, "d", profileID(1)))
	})

	// Ingestion's order: FindObject (not found: expired, or no row at all),
	// then PutObject in the same Update. The expired object's keys still go.
	t.Run("FindThenPutObjectOverExpired", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		clock.Set(e.expiresAt.Add(time.Minute))
		again := newObject("d", "CTR", "soon", profileID(1), clock.Now())
		fresh := newObject("d", "CTR", "fresh", profileID(1), clock.Now())
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			for _, o := range []*profiles.ProfileObject{again, fresh} {
				if _, err := tx.FindObject(ctx, "d", "CTR", o.UniqueKey); profiles.ErrorCode(err) != profiles.ENOTFOUND {
					t.Errorf("FindObject(%s) before PutObject: %v, want ENOTFOUND", o.UniqueKey, err)
				}
				if err := tx.PutObject(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		for _, o := range []*profiles.ProfileObject{again, fresh} {
			got, err := findObject(t, ctx, s, "d", "CTR", o.UniqueKey)
			if err != nil {
				t.Fatalf("FindObject(%s): %v", o.UniqueKey, err)
			}
			checkEqual(t, "FindObject("+o.UniqueKey+")", storedObject(o), got)
		}
		clock.Set(clockStart()) // the old object's keys are gone, not hidden
		checkEqual(t, "ListKeys(earlier clock)", e.keys(e.live), mustListKeys(t, ctx, s, "d", profileID(1)))
	})

	t.Run("DeleteKeyValuesCountsLiveKeys", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		clock.Set(e.expiresAt)
		var n int
		mustUpdate(t, ctx, s, func(tx profiles.Tx) (err error) {
			n, err = tx.DeleteKeyValues(ctx, "d", profileID(1), "_phone", []string{"+1"})
			return err
		})
		// The profile's key and live's; soon's is not seen.
		if n != 2 {
			t.Errorf("DeleteKeyValues: %d, want 2", n)
		}
		checkEqual(t, "ListKeys", sortedKeys(objectKey(e.live, "contactId", "live")), mustListKeys(t, ctx, s, "d", profileID(1)))
	})

	t.Run("MoveProfileDataMovesExpiredObjects", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		clock.Set(e.expiresAt)
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.MoveProfileData(ctx, "d", profileID(1), profileID(2)) })

		// Expired objects are hidden, not deleted: they moved too.
		clock.Set(clockStart())
		want := []*profiles.ProfileObject{storedObject(e.soon), storedObject(e.only), storedObject(e.live)} // newest first
		var wantKeys []profiles.Key
		want[0].ProfileID, want[2].ProfileID = profileID(2), profileID(2)
		for _, k := range e.keys(e.live, e.soon, e.only) {
			if k.Origin != profiles.KeyOriginProfile {
				k.ProfileID = profileID(2)
				wantKeys = append(wantKeys, k)
			}
		}
		checkEqual(t, "ListObjects(2)", want, mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: profileID(2)}))
		checkEqual(t, "ListKeys(2)", sortedKeys(wantKeys...), mustListKeys(t, ctx, s, "d", profileID(2)))
		checkEqual(t, "ListKeys(1)", []profiles.Key{e.profileKey}, mustListKeys(t, ctx, s, "d", profileID(1)))

		// DeleteExpired deletes them with their keys, from their new profile.
		if n, err := s.DeleteExpired(ctx, e.expiresAt, 0); err != nil || n != 2 {
			t.Fatalf("DeleteExpired: %d, %v; want 2, nil", n, err)
		}
		checkEqual(t, "ListObjects(2) after DeleteExpired", []string{"live"},
			uniqueKeys(mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: profileID(2)})))
		var left []profiles.Key
		for _, k := range wantKeys {
			if k.ObjectKey == "live" {
				left = append(left, k)
			}
		}
		checkEqual(t, "ListKeys(2) after DeleteExpired", sortedKeys(left...), mustListKeys(t, ctx, s, "d", profileID(2)))
	})

	t.Run("DeleteExpiredDeletesObjectsAndKeys", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		for _, tt := range []struct {
			now  time.Time
			want int
		}{
			{e.expiresAt.Add(-time.Millisecond), 0},
			{e.expiresAt, 2},
			{e.expiresAt.Add(time.Hour), 0},
		} {
			n, err := s.DeleteExpired(ctx, tt.now, 10)
			if err != nil {
				t.Fatalf("DeleteExpired(%v): %v", tt.now, err)
			} else if n != tt.want {
				t.Errorf("DeleteExpired(%v): %d, want %d", tt.now, n, tt.want)
			}
		}
		// The clock never moved: what is missing is deleted, not hidden.
		e.check(t, ctx, s, e.live)
	})

	t.Run("DeleteExpiredRecordsHistory", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		at := e.expiresAt.Add(time.Minute)
		if n, err := s.DeleteExpired(ctx, at, 0); err != nil || n != 2 {
			t.Fatalf("DeleteExpired: %d, %v; want 2, nil", n, err)
		}
		// Each object deleted has one EXPIRED record on its profile, naming
		// it, with no content; the live object has none.
		for _, o := range []*profiles.ProfileObject{e.soon, e.only} {
			var recs []*profiles.HistoryRecord
			if err := s.View(ctx, func(tx profiles.Tx) error {
				var err error
				recs, err = tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: "d", ProfileID: o.ProfileID})
				return err
			}); err != nil {
				t.Fatalf("ListHistory(%s): %v", o.ProfileID, err)
			}
			if len(recs) != 1 {
				t.Fatalf("ListHistory(%s): %d records, want 1 (EXPIRED of %s)", o.ProfileID, len(recs), o.UniqueKey)
			}
			r := recs[0]
			if len(r.ID) != 32 || r.ID[:12] != profiles.NewHistoryID(at)[:12] {
				t.Errorf("record id %q: want 32 hex characters beginning with the time's %q", r.ID, profiles.NewHistoryID(at)[:12])
			}
			r.ID = ""
			want := &profiles.HistoryRecord{DomainName: "d", ProfileID: o.ProfileID, ActionType: profiles.ActionExpired,
				ObjectTypeName: "CTR", ObjectKey: o.UniqueKey, PerformedBy: profiles.ServicePerformer,
				CreatedAt: at, LastUpdatedAt: at}
			checkEqual(t, "EXPIRED record of "+o.UniqueKey, want, r)
		}
		// A second sweep finds nothing and records nothing more.
		if n, err := s.DeleteExpired(ctx, at.Add(time.Hour), 0); err != nil || n != 0 {
			t.Fatalf("DeleteExpired again: %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("DeleteExpiredRecordsNothingOfDeletingDomain", func(t *testing.T) {
		// A domain being deleted gets no EXPIRED records: its purge would
		// have them to delete. The purge of its one profile and the
		// object the sweep left (none, or the expired one) deletes as
		// many rows as with no sweep at all, less the objects swept.
		ctx := t.Context()
		rows := func(sweep bool) int {
			s, _ := mustOpenClock(t, open)
			mustCreateDomains(t, ctx, s, "d")
			o := newObject("d", "CTR", "gone", profileID(1), clockStart())
			o.ExpiresAt = clockStart().Add(time.Minute)
			mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, o)
			if err := s.MarkDomainDeleting(ctx, "d", time.Time{}); err != nil {
				t.Fatalf("MarkDomainDeleting: %v", err)
			}
			swept := 0
			if sweep {
				n, err := s.DeleteExpired(ctx, clockStart().Add(time.Hour), 0)
				if err != nil {
					t.Fatalf("DeleteExpired: %v", err)
				}
				swept = n
			}
			total := 0
			for after, pages := "", 0; ; pages++ {
				p, err := s.PurgeDomain(ctx, "d", after, 100)
				if err != nil {
					t.Fatalf("PurgeDomain: %v", err)
				}
				total += p.Rows
				if p.Done || pages > 20 {
					break
				}
				after = p.After
			}
			return total + swept
		}
		if without, with := rows(false), rows(true); with != without {
			t.Errorf("rows purged + objects swept: %d after a sweep, %d without; want the same (no history written)", with, without)
		}
	})

	// The sweep removes the content of the history records of each object
	// it deletes on the object's profile (by type and key: each version's
	// INGESTED record), keeping the records; other objects' records, those
	// of another type with the same key and the profile's own keep theirs.
	t.Run("DeleteExpiredClearsHistoryContent", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		objectRecord := func(i int, o *profiles.ProfileObject, objectType string) *profiles.HistoryRecord {
			r := newHistory("d", o.ProfileID, historyID(i), profiles.ActionIngested, objectType, "arn:aws:iam::123456789012:role/Feed",
				clockStart().Add(time.Duration(i)*time.Second))
			r.ObjectKey = o.UniqueKey
			return r
		}
		cleared := []*profiles.HistoryRecord{
			objectRecord(1, e.soon, "CTR"), objectRecord(2, e.soon, "CTR"), // two versions
			objectRecord(3, e.only, "CTR"),
		}
		kept := []*profiles.HistoryRecord{
			objectRecord(4, e.live, "CTR"),
			objectRecord(5, e.soon, "Other"), // another type, the same key
			newHistory("d", profileID(1), historyID(6), profiles.ActionUpdated, profiles.ProfileObjectTypeName, "arn:aws:iam::123456789012:role/Agent", clockStart()),
		}
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			for _, r := range append(slices.Clone(cleared), kept...) {
				if err := tx.PutHistory(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if n, err := s.DeleteExpired(ctx, e.expiresAt.Add(time.Minute), 0); err != nil || n != 2 {
			t.Fatalf("DeleteExpired: %d, %v; want 2, nil", n, err)
		}
		for _, r := range cleared {
			want := storedHistory(r)
			want.Content = nil
			got, err := findHistory(t, ctx, s, "d", r.ProfileID, r.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s): %v", r.ID, err)
			}
			checkEqual(t, "record of expired object "+r.ObjectKey, want, got)
		}
		for _, r := range kept {
			got, err := findHistory(t, ctx, s, "d", r.ProfileID, r.ID)
			if err != nil {
				t.Fatalf("FindHistory(%s): %v", r.ID, err)
			}
			checkEqual(t, "record "+r.ObjectTypeName+"/"+r.ObjectKey, storedHistory(r), got)
		}
		// ListHistory reads them the same: the cleared records and the
		// EXPIRED ones have no content.
		for _, id := range []string{profileID(1), profileID(2)} {
			for _, r := range mustListHistory(t, ctx, s, profiles.HistoryQuery{DomainName: "d", ProfileID: id}) {
				hasContent := slices.ContainsFunc(kept, func(k *profiles.HistoryRecord) bool { return k.ID == r.ID })
				if got := len(r.Content) > 0; got != hasContent {
					t.Errorf("ListHistory: record %s %s/%s has content %v, want %v", r.ActionType, r.ObjectTypeName, r.ObjectKey, got, hasContent)
				}
			}
		}
	})

	// An expired object replaced by PutObject before the sweep came (as
	// ingestion does, after FindObject) loses its records' content too;
	// the new version's record, written after, keeps its.
	t.Run("PutObjectOverExpiredClearsHistoryContent", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		e := newExpiring(t, ctx, s)
		old := newHistory("d", profileID(1), historyID(1), profiles.ActionIngested, "CTR", "arn:aws:iam::123456789012:role/Feed", clockStart())
		old.ObjectKey = e.soon.UniqueKey
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.PutHistory(ctx, old) })
		clock.Set(e.expiresAt.Add(time.Minute))
		again := newObject("d", "CTR", "soon", profileID(1), clock.Now())
		fresh := newHistory("d", profileID(1), historyID(2), profiles.ActionIngested, "CTR", "arn:aws:iam::123456789012:role/Feed", clock.Now())
		fresh.ObjectKey = e.soon.UniqueKey
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			if _, err := tx.FindObject(ctx, "d", "CTR", "soon"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
				t.Errorf("FindObject(soon) before PutObject: %v, want ENOTFOUND", err)
			}
			if err := tx.PutObject(ctx, again); err != nil {
				return err
			}
			return tx.PutHistory(ctx, fresh)
		})
		want := storedHistory(old)
		want.Content = nil
		got, err := findHistory(t, ctx, s, "d", profileID(1), old.ID)
		if err != nil {
			t.Fatalf("FindHistory(old): %v", err)
		}
		checkEqual(t, "record of the expired version", want, got)
		if got, err = findHistory(t, ctx, s, "d", profileID(1), fresh.ID); err != nil {
			t.Fatalf("FindHistory(fresh): %v", err)
		}
		checkEqual(t, "record of the new version", storedHistory(fresh), got)
	})

	t.Run("DeleteExpiredRespectsLimit", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p := &profiles.Profile{DomainName: "d", ID: profileID(1)}
		values := []any{p}
		var keys []profiles.Key
		for i := range 5 {
			o := newObject("d", "CTR", fmt.Sprintf("x%d", i), p.ID, clockStart())
			o.ExpiresAt = clockStart().Add(time.Duration(i+1) * time.Minute)
			values = append(values, o)
			keys = append(keys, objectKey(o, "contactId", o.UniqueKey))
		}
		later := newObject("d", "CTR", "later", p.ID, clockStart())
		later.ExpiresAt = clockStart().Add(time.Hour)
		never := newObject("d", "CTR", "never", p.ID, clockStart())
		mustPut(t, ctx, s, append(values, later, never, keys)...)

		var counts []int
		for range 5 {
			n, err := s.DeleteExpired(ctx, clockStart().Add(10*time.Minute), 2)
			if err != nil {
				t.Fatalf("DeleteExpired: %v", err)
			}
			counts = append(counts, n)
		}
		checkEqual(t, "DeleteExpired counts", []int{2, 2, 1, 0, 0}, counts)
		list := mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: p.ID})
		checkEqual(t, "ListObjects", []string{"never", "later"}, uniqueKeys(list))
		checkEqual(t, "ListKeys", []profiles.Key(nil), mustListKeys(t, ctx, s, "d", p.ID))

		for _, limit := range []int{0, -1} {
			o := newObject("d", "CTR", fmt.Sprintf("nolimit%d", limit), p.ID, clockStart())
			o.ExpiresAt = clockStart().Add(time.Minute)
			mustPut(t, ctx, s, o)
			if n, err := s.DeleteExpired(ctx, clockStart().Add(2*time.Hour), limit); err != nil || n != 2 {
				t.Errorf("DeleteExpired(limit %d): %d, %v; want 2 (all), nil", limit, n, err)
			}
			mustPut(t, ctx, s, later)
		}
	})
}
