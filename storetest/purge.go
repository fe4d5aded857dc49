package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// testDomainPurge runs the cases of a domain's deletion in pages:
// MarkDomainDeleting hides the domain, PurgeDomain removes it a page at a
// time (resumed from the start as well), LeaseDomainPurge hands the purge
// over, and the name is taken until the purge is over.
func testDomainPurge(t *testing.T, open OpenFunc) {
	t.Run("MarkHides", func(t *testing.T) {
		ctx := t.Context()
		s, c := mustOpenClock(t, open)
		cs := s.(profiles.ConfigStore)
		mustCreateDomain(t, ctx, s, fullDomain("a"))
		mustCreateDomains(t, ctx, s, "b")
		mustPut(t, ctx, s, newWorld("a").values()...)
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "a", Kind: profiles.ConfigLayout, Name: "l", Data: []byte(`{}`)}, 0)
		lease := c.Now().Add(time.Minute)
		if err := s.MarkDomainDeleting(ctx, "a", lease); err != nil {
			t.Fatalf("MarkDomainDeleting: %v", err)
		}

		_, err := s.FindDomain(ctx, "a")
		checkNotFound(t, "FindDomain(deleting)", err, `"a"`)
		_, err = s.DomainStats(ctx, "a")
		checkNotFound(t, "DomainStats(deleting)", err, `"a"`)
		_, err = s.UpdateDomain(ctx, "a", func(*profiles.Domain) error { return nil })
		checkNotFound(t, "UpdateDomain(deleting)", err, `"a"`)
		if ds, err := s.ListDomains(ctx, "", 0); err != nil || len(ds) != 1 || ds[0].Name != "b" {
			t.Errorf("ListDomains: %d domains, err %v; want b only", len(ds), err)
		}
		err = s.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.FindProfile(ctx, "a", profileID(99))
			return err
		})
		checkNotFound(t, "FindProfile(deleting, missing profile)", err, `domain "a"`)
		err = s.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.ListObjectTypes(ctx, "a", "", 0)
			return err
		})
		checkNotFound(t, "ListObjectTypes(deleting)", err, `"a"`)
		err = cs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "a", Kind: profiles.ConfigLayout, Name: "m", Data: []byte(`{}`)}, 0)
		checkNotFound(t, "CreateConfig(deleting)", err, `"a"`)
		_, err = cs.UpdateConfigs(ctx, "a", []profiles.ConfigKey{{Kind: profiles.ConfigLayout, Name: "l"}, {Kind: profiles.ConfigLayout, Name: "n"}},
			func(l []*profiles.DomainConfig) error {
				t.Errorf("UpdateConfigs(deleting) called fn with %d configs", len(l))
				return nil
			})
		checkNotFound(t, "UpdateConfigs(deleting)", err, `"a"`)
		checkNotFound(t, "FindConfig(deleting)", findErr(cs.FindConfig(ctx, "a", profiles.ConfigLayout, "l")), `"a"`)
		_, err = cs.ListConfigs(ctx, "a", profiles.ConfigLayout, "", 0)
		checkNotFound(t, "ListConfigs(deleting)", err, `"a"`)
		_, err = cs.UpdateConfig(ctx, "a", profiles.ConfigLayout, "l", func(*profiles.DomainConfig) error { return nil })
		checkNotFound(t, "UpdateConfig(deleting)", err, `"a"`)
		checkNotFound(t, "DeleteConfig(deleting)", cs.DeleteConfig(ctx, "a", profiles.ConfigLayout, "l"), `"a"`)
		if dc, ok := s.(profiles.DeadLetterCopyStore); ok {
			err = dc.PutDeadLetterCopy(ctx, &profiles.DeadLetterCopy{DomainName: "a", Name: "late", Data: []byte("x")})
			checkNotFound(t, "PutDeadLetterCopy(deleting)", err, `"a"`)
		}
		checkCode(t, "MarkDomainDeleting(again)", s.MarkDomainDeleting(ctx, "a", lease), profiles.ENOTFOUND)
		checkCode(t, "MarkDomainDeleting(missing)", s.MarkDomainDeleting(ctx, "x", lease), profiles.ENOTFOUND)
		checkCode(t, "DeleteDomain(deleting)", s.DeleteDomain(ctx, "a"), profiles.ENOTFOUND)

		// The name is taken until the purge is over; the quota counts the
		// domains that are not being deleted.
		checkCode(t, "CreateDomain(deleting)", s.CreateDomain(ctx, &profiles.Domain{Name: "a", DefaultExpirationDays: 7}, 0), profiles.ECONFLICT)
		if err := s.CreateDomain(ctx, &profiles.Domain{Name: "c", DefaultExpirationDays: 7}, 2); err != nil {
			t.Errorf("CreateDomain(c, limit 2, with b and a being deleted): %v", err)
		}

		got, err := s.DeletingDomains(ctx)
		if err != nil {
			t.Fatalf("DeletingDomains: %v", err)
		}
		checkEqual(t, "DeletingDomains", []profiles.DeletingDomain{{Name: "a", DeletingAt: clockStart(), PurgeUntil: lease}}, got)
		_, err = s.PurgeDomain(ctx, "b", "", 10)
		checkCode(t, "PurgeDomain(not being deleted)", err, profiles.ENOTFOUND)
		checkDomain(t, "FindDomain(b)", mustFindDomain(t, ctx, s, "b"), &profiles.Domain{Name: "b", DefaultExpirationDays: 7, CreatedAt: clockStart(), LastUpdatedAt: clockStart()})
	})

	t.Run("PurgePages", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		w, kept := fillPurged(t, ctx, s, "d", 7), newWorld("e")
		mustPut(t, ctx, s, kept.values()...)
		if err := s.MarkDomainDeleting(ctx, "d", time.Time{}); err != nil {
			t.Fatalf("MarkDomainDeleting: %v", err)
		}
		pages, rows := 0, 0
		for after := ""; ; {
			p, err := s.PurgeDomain(ctx, "d", after, 2)
			if err != nil {
				t.Fatalf("PurgeDomain(page %d): %v", pages+1, err)
			}
			pages++
			rows += p.Rows
			if pages == 1 && (p.Done || p.Rows == 0) {
				t.Fatalf("PurgeDomain(first page of 2 profiles): %+v; want some rows deleted, more to come", p)
			}
			if p.Done {
				break
			}
			if pages > 100 {
				t.Fatalf("PurgeDomain: not done after %d pages", pages)
			}
			after = p.After
		}
		if pages < 4 {
			t.Errorf("PurgeDomain: done in %d pages of 2; want at least 4 for 7 profiles", pages)
		}
		if rows < 7 {
			t.Errorf("PurgeDomain: %d rows deleted in all; want at least the 7 profiles", rows)
		}
		if ds, err := s.DeletingDomains(ctx); err != nil || len(ds) != 0 {
			t.Errorf("DeletingDomains after the purge: %v, %v; want none", ds, err)
		}
		_, err := s.PurgeDomain(ctx, "d", "", 2)
		checkCode(t, "PurgeDomain(done)", err, profiles.ENOTFOUND)
		_, err = s.LeaseDomainPurge(ctx, "d", time.Time{}, clockStart())
		checkCode(t, "LeaseDomainPurge(done)", err, profiles.ENOTFOUND)

		mustCreateDomains(t, ctx, s, "d") // the name again: nothing of the old one shows
		checkPurged(t, ctx, s, w)
		checkWorld(t, ctx, s, kept)
	})

	t.Run("Resume", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		w := fillPurged(t, ctx, s, "d", 5)
		if err := s.MarkDomainDeleting(ctx, "d", time.Time{}); err != nil {
			t.Fatalf("MarkDomainDeleting: %v", err)
		}
		if p, err := s.PurgeDomain(ctx, "d", "", 2); err != nil || p.Done {
			t.Fatalf("PurgeDomain(first page): %+v, %v; want more to come", p, err)
		}
		// The node stops; another starts the purge from the start.
		for after, n := "", 0; ; n++ {
			p, err := s.PurgeDomain(ctx, "d", after, 2)
			if err != nil {
				t.Fatalf("PurgeDomain(resumed): %v", err)
			}
			if p.Done {
				break
			}
			if n > 100 {
				t.Fatalf("PurgeDomain(resumed): not done after %d pages", n)
			}
			after = p.After
		}
		mustCreateDomains(t, ctx, s, "d")
		checkPurged(t, ctx, s, w)
	})

	t.Run("Lease", func(t *testing.T) {
		ctx := t.Context()
		s, c := mustOpenClock(t, open)
		mustCreateDomains(t, ctx, s, "d")
		first := c.Now().Add(time.Minute)
		if err := s.MarkDomainDeleting(ctx, "d", first); err != nil {
			t.Fatalf("MarkDomainDeleting: %v", err)
		}
		lease := func(held, until time.Time) bool {
			t.Helper()
			ok, err := s.LeaseDomainPurge(ctx, "d", held, until)
			if err != nil {
				t.Fatalf("LeaseDomainPurge: %v", err)
			}
			return ok
		}
		second := c.Now().Add(2 * time.Minute)
		if lease(time.Time{}, second) {
			t.Errorf("LeaseDomainPurge(another's lease, running): taken; want not")
		}
		if !lease(first, second) {
			t.Errorf("LeaseDomainPurge(the lease held): not taken; want taken")
		}
		c.Add(2 * time.Minute) // the lease runs out
		third := c.Now().Add(time.Minute)
		if !lease(time.Time{}, third) {
			t.Errorf("LeaseDomainPurge(a lease run out): not taken; want taken")
		}
		if ds, err := s.DeletingDomains(ctx); err != nil || len(ds) != 1 || !ds[0].PurgeUntil.Equal(third) {
			t.Errorf("DeletingDomains: %v, %v; want d with the lease %v", ds, err, third)
		}
		_, err := s.LeaseDomainPurge(ctx, "x", time.Time{}, third)
		checkCode(t, "LeaseDomainPurge(missing)", err, profiles.ENOTFOUND)
	})
}

// purged is what fillPurged put into a domain.
type purged struct {
	*world
	history []*profiles.HistoryRecord
}

// fillPurged puts n profiles into the domain, each with an object, a key
// and a history record, and history of a profile no longer there, an
// ingest bucket, a config, stream events and a dead-letter copy.
func fillPurged(tb testing.TB, ctx context.Context, s profiles.Store, domain string, n int) *purged {
	tb.Helper()
	at := clockStart().Add(-time.Hour)
	w := &purged{world: &world{domain: domain, types: []*profiles.ObjectType{fullObjectType(domain, "CTR")}}}
	for i := 1; i <= n; i++ {
		p := fullProfile(domain, profileID(i))
		o := newObject(domain, "CTR", fmt.Sprintf("contact-%d", i), p.ID, at)
		w.profiles = append(w.profiles, p)
		w.objects = append(w.objects, o)
		w.keys = append(w.keys, objectKey(o, "contactId", o.UniqueKey))
		w.history = append(w.history, fullHistory(domain, p.ID, historyID(i)))
	}
	gone := fullHistory(domain, profileID(n+100), historyID(n+100)) // its profile merged away
	w.history = append(w.history, gone)
	mustPut(tb, ctx, s, w.values()...)
	mustPutHistory(tb, ctx, s, w.history...)
	mustUpdate(tb, ctx, s, func(tx profiles.Tx) error {
		if err := tx.PutIngestBucket(ctx, &profiles.IngestBucket{DomainName: domain, ProfileID: profileID(1), Tokens: 1, UpdatedAt: at}); err != nil {
			return err
		}
		return tx.PutStreamEvents(ctx, []*profiles.StreamEvent{
			{DomainName: domain, StreamName: "s", ID: "ev1", PartitionKey: profileID(1), Data: []byte("1")},
			{DomainName: domain, StreamName: "s", ID: "ev2", PartitionKey: profileID(2), Data: []byte("2")},
			{DomainName: domain, StreamName: "s", ID: "ev3", PartitionKey: profileID(3), Data: []byte("3")},
		})
	})
	if cs, ok := s.(profiles.ConfigStore); ok {
		mustCreateConfig(tb, ctx, cs, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigLayout, Name: "l", Data: []byte(`{}`)}, 0)
	}
	if cs, ok := s.(profiles.DeadLetterCopyStore); ok {
		mustPutCopy(tb, ctx, cs, &profiles.DeadLetterCopy{DomainName: domain, Name: "copy", Data: []byte("sealed")})
	}
	return w
}

// checkPurged checks that the domain, created again, holds nothing
// fillPurged put there.
func checkPurged(tb testing.TB, ctx context.Context, s profiles.Store, w *purged) {
	tb.Helper()
	checkNoWorld(tb, ctx, s, w.world)
	for _, h := range w.history {
		_, err := findHistory(tb, ctx, s, w.domain, h.ProfileID, h.ID)
		checkNotFound(tb, "FindHistory("+h.ID+")", err, h.ID)
	}
	if _, err := findBucket(tb, ctx, s, w.domain, profileID(1)); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		tb.Errorf("FindIngestBucket: %v, want ENOTFOUND", err)
	}
	if cs, ok := s.(profiles.ConfigStore); ok {
		if l, err := cs.ListConfigs(ctx, w.domain, profiles.ConfigLayout, "", 0); err != nil || len(l) > 0 {
			tb.Errorf("ListConfigs: %d configs, err %v; want none", len(l), err)
		}
	}
	if cs, ok := s.(profiles.DeadLetterCopyStore); ok {
		_, err := cs.FindDeadLetterCopy(ctx, w.domain, "copy")
		checkNotFound(tb, "FindDeadLetterCopy", err, "copy")
	}
	if ob, ok := s.(profiles.EventOutbox); ok {
		mustCountStreamEvents(tb, ctx, ob, w.domain, "s", 0)
	}
}
