package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// implicitScrubEnv is a service on SQLite that keeps scrub records, with a
// domain d holding one object ingested through the template
// Shopify-Customer used by name (an implicit type); it returns the
// service, the template's name and the object's profile.
func implicitScrubEnv(t *testing.T) (*service.Service, string, string) {
	t.Helper()
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s := service.New(db, "us-east-1", "000000000000", []byte("secret"))
	s.Configs = db
	s.SetIngestRate(0, 1)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	const tpl = "Shopify-Customer"
	if _, err := s.PutProfileObject(ctx, "d", tpl, `{"id":1,"email":"bob@example.com","first_name":"Bob"}`); err != nil {
		t.Fatal(err)
	}
	found, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_shopifyCustomerId", Values: []string{"1"}}}, profiles.Page{})
	if err != nil || len(found) != 1 {
		t.Fatalf("profile of the customer: %d, %v", len(found), err)
	}
	return s, tpl, found[0].Profile.ID
}

// checkImplicitKept fails t unless the object of implicitScrubEnv, its key
// and the field it set are all there, and no scrub record is left.
func checkImplicitKept(t *testing.T, s *service.Service, tpl, id string) {
	t.Helper()
	ctx := t.Context()
	objs, _, err := s.ListProfileObjects(ctx, "d", tpl, id, "", nil, profiles.Page{})
	if err != nil || len(objs) != 1 {
		t.Errorf("objects of %s (never deleted): %d, %v; want 1", tpl, len(objs), err)
	}
	found, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_shopifyCustomerId", Values: []string{"1"}}}, profiles.Page{})
	if err != nil || len(found) != 1 {
		t.Fatalf("profiles found by the object's key: %d, %v; want 1", len(found), err)
	}
	if f := found[0].Profile.Fields; f["FirstName"] != "Bob" {
		t.Errorf("fields of the profile: %v; want FirstName Bob kept", f)
	}
	if _, err := s.Configs.FindConfig(ctx, "d", profiles.ConfigTypeScrub, tpl); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("scrub record: %v; want none left", err)
	}
}

// TestDeleteObjectType_StoppedBeforeDeleting: a node that stops between
// recording the deletion of a template's implicit type and deleting it
// (killed there) leaves a record, which the sweep of any node finds once
// its lease ran out. The type was never deleted, and a template used by
// name has no row to tell so: the sweep must not delete the objects
// ingested through it. Before, the record carried the time it was made as
// the cutoff, and the sweep deleted every object of the template's name
// written up to it, with their keys and the fields they set.
func TestDeleteObjectType_StoppedBeforeDeleting(t *testing.T) {
	s, tpl, id := implicitScrubEnv(t)
	ctx := t.Context()
	if created, err := s.MarkScrub(ctx, "d", tpl); !created || err != nil {
		t.Fatalf("MarkScrub: %v, %v", created, err)
	}
	later := time.Now().Add(2 * time.Minute) // the stopped node's lease has run out
	s.Now = func() time.Time { return later }
	if n, err := s.RunTypeScrubs(ctx); n != 1 || err != nil {
		t.Fatalf("RunTypeScrubs: %d, %v; want 1 scrub run", n, err)
	}
	checkImplicitKept(t, s, tpl, id)

	// Once it is deleted, its objects go, by the same machinery.
	if err := s.DeleteObjectType(context.WithoutCancel(ctx), "d", tpl); err != nil {
		t.Fatal(err)
	}
	if objs, _, err := s.ListProfileObjects(ctx, "d", tpl, id, "", nil, profiles.Page{}); err != nil || len(objs) != 0 {
		t.Errorf("objects of %s after DeleteObjectType: %d, %v; want none", tpl, len(objs), err)
	}
}

// TestPutObjectType_ScrubFinishedMeanwhile: PutObjectType of a name whose
// deletion is still being finished takes that work over (finishScrub);
// when the node doing it finishes and drops its record between the look
// and the take, nothing is left to do. Before, the record was made again
// with a cutoff of now, and the objects ingested since the deletion
// through a template of that name (an implicit type) were deleted.
func TestPutObjectType_ScrubFinishedMeanwhile(t *testing.T) {
	s, tpl, id := implicitScrubEnv(t)
	if ran, err := s.TakeScrub(t.Context(), "d", tpl); ran || err != nil {
		t.Errorf("TakeScrub of a record gone: ran %v, %v; want not run", ran, err)
	}
	checkImplicitKept(t, s, tpl, id)
}

// pageThrottler is a store whose transactions fail with ETHROTTLED, as
// PostgreSQL's do when every attempt meets a serialization failure, once
// they list more than max profiles or delete more than max objects of a
// type; refused counts them.
type pageThrottler struct {
	profiles.Store
	max     atomic.Int64
	refused atomic.Int64
}

func (p *pageThrottler) Update(ctx context.Context, fn func(profiles.Tx) error) error {
	return p.Store.Update(ctx, func(tx profiles.Tx) error { return fn(&throttledTx{Tx: tx, p: p}) })
}

type throttledTx struct {
	profiles.Tx
	p *pageThrottler
}

func (t *throttledTx) throttle(limit int) error {
	if int64(limit) > t.p.max.Load() {
		t.p.refused.Add(1)
		return profiles.Errorf(profiles.ETHROTTLED, "Too many concurrent changes to the same data; retry the request.")
	}
	return nil
}

func (t *throttledTx) ListProfileIDs(ctx context.Context, domain, after string, limit int) ([]string, error) {
	if err := t.throttle(limit); err != nil {
		return nil, err
	}
	return t.Tx.ListProfileIDs(ctx, domain, after, limit)
}

func (t *throttledTx) DeleteTypeObjects(ctx context.Context, domain, objectType, after string, before time.Time, limit int) (string, error) {
	if err := t.throttle(limit); err != nil {
		return "", err
	}
	return t.Tx.DeleteTypeObjects(ctx, domain, objectType, after, before, limit)
}

// TestDeleteObjectType_PagesShrinkWhenThrottled: a page of the deletion's
// work (objects, then profile fields) that fails for concurrent changes is
// tried again smaller, and the deletion finishes within the call while
// pages of a few dozen go through; when even those fail, the call leaves
// the rest to the sweep, which goes down to pages of one. Before, a page of
// 500 profiles on PostgreSQL under steady ingestion into any domain failed
// every attempt (its predicate locks covered whole tables), the call
// succeeded with the work left to the sweep, and the profiles kept the
// fields of the deleted type until then.
func TestDeleteObjectType_PagesShrinkWhenThrottled(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	store := &pageThrottler{Store: db}
	store.max.Store(1 << 20)
	clock := time.Now()
	s := serviceOn(store, &clock)
	s.Configs = db
	const n = 80
	ingest := func(domain string) []string {
		t.Helper()
		if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: domain, DefaultExpirationDays: 30}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutObjectType(ctx, contactType(domain)); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := range n {
			key, err := s.PutProfileObject(ctx, domain, "contact", contact(i, i))
			if err != nil {
				t.Fatal(err)
			}
			found, _, err := s.SearchProfiles(ctx, domain, profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("person%d@example.com", i)}}}, profiles.Page{})
			if err != nil || len(found) != 1 {
				t.Fatalf("profile of object %s: %d, %v", key, len(found), err)
			}
			ids = append(ids, found[0].Profile.ID)
		}
		return ids
	}
	cleared := func(domain string, ids []string) {
		t.Helper()
		for _, id := range ids {
			found, _, err := s.SearchProfiles(ctx, domain, profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_profileId", Values: []string{id}}}, profiles.Page{})
			if err != nil || len(found) != 1 {
				t.Fatalf("profile %s: %d, %v", id, len(found), err)
			}
			if f := found[0].Profile.Fields; len(f) != 0 {
				t.Fatalf("profile %s of %s keeps fields of the deleted type: %v", id, domain, f)
			}
		}
		if _, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigTypeScrub, "contact"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
			t.Fatalf("scrub record of %s: %v; want none left", domain, err)
		}
	}

	// Pages of 31 go through: the call finishes.
	ids := ingest("call")
	store.max.Store(40)
	if err := s.DeleteObjectType(ctx, "call", "contact"); err != nil {
		t.Fatal(err)
	}
	if store.refused.Load() == 0 {
		t.Fatal("no page was refused: the test does not test the retry")
	}
	cleared("call", ids)

	// Only pages of up to 8 do: the call leaves the work to the sweep.
	store.max.Store(1 << 20)
	ids = ingest("sweep")
	store.max.Store(8)
	if err := s.DeleteObjectType(ctx, "sweep", "contact"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Configs.FindConfig(ctx, "sweep", profiles.ConfigTypeScrub, "contact"); err != nil {
		t.Fatalf("scrub record after the call: %v; want one, the sweep to finish", err)
	}
	if _, err := s.RunTypeScrubs(ctx); err != nil {
		t.Fatal(err)
	}
	cleared("sweep", ids)

	// A call past its budget answers after the page it is at and leaves
	// the rest, from there, to the sweep.
	store.max.Store(1 << 20)
	ids = ingest("budget")
	defer service.SetCallScrubBudget(time.Nanosecond)()
	if err := s.DeleteObjectType(ctx, "budget", "contact"); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Configs.FindConfig(ctx, "budget", profiles.ConfigTypeScrub, "contact")
	if err != nil {
		t.Fatalf("scrub record after a call past its budget: %v; want one", err)
	}
	if !strings.Contains(string(rec.Data), `"objects":true`) || !strings.Contains(string(rec.Data), `"objectsAfter":"`) {
		t.Errorf("scrub record after the call's first page: %s; want the objects' progress", rec.Data)
	}
	// A type of the name again waits for the scrub, which a call past its
	// budget does not finish: refused, to be sent again.
	if _, err := s.PutObjectType(ctx, contactType("budget")); profiles.ErrorCode(err) != profiles.ETHROTTLED || !strings.Contains(profiles.ErrorMessage(err), "still being removed") {
		t.Fatalf("PutObjectType while the scrub of its name goes on: %v; want ETHROTTLED, still being removed", err)
	}
	if _, err := s.RunTypeScrubs(ctx); err != nil {
		t.Fatal(err)
	}
	cleared("budget", ids)
	if _, err := s.PutObjectType(ctx, contactType("budget")); err != nil {
		t.Fatalf("PutObjectType once the scrub finished: %v", err)
	}
}
