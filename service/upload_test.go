package service_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/service"
)

// TestUploadJob_DomainCreatedAgain: an upload job whose domain is deleted
// while it runs, and a domain of the same name created (through this node
// or another), puts none of its rows into the new domain, and ends. Before,
// the run went on and its remaining rows went into the new domain: another
// domain, which shares nothing with the deleted one.
func TestUploadJob_DomainCreatedAgain(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: time.Now}
	key, err := k.EnsureDefaultKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := service.New(db, "us-east-1", "000000000000", []byte("secret"))
	s.Configs, s.Keys, s.DefaultKey = db, k, key
	var log lockedBuffer
	s.Logger = slog.New(slog.NewTextHandler(&log, nil))
	db.Sealer = s.Sealer()
	// One row, then the rows of the same key wait out the profile's rate
	// (one token, refilled in 1000 s): the job is still running when its
	// domain goes.
	s.SetIngestRate(0.001, 1)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	job, err := s.CreateUploadJob(ctx, &profiles.UploadJob{DomainName: "d", DisplayName: "j", UniqueKey: "id",
		Fields: map[string]profiles.ObjectTypeField{
			"id":    {Source: "_source.id", Target: "_profile.AccountNumber"},
			"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
		}})
	if err != nil {
		t.Fatal(err)
	}
	path, err := s.UploadJobPath(ctx, "d", job.ID, "http://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(path.URL)
	if err != nil {
		t.Fatal(err)
	}
	file := "id,email\n" + strings.Repeat("r1,ada@example.com\n", 2000)
	if err := s.Upload(ctx, "d", job.ID, u.Query().Get("signature"), path.ClientToken, []byte(file)); err != nil {
		t.Fatal(err)
	}
	if err := s.StartUploadJob(ctx, "d", job.ID); err != nil {
		t.Fatal(err)
	}
	profilesOf := func() int {
		t.Helper()
		var ids []string
		err := db.View(ctx, func(tx profiles.Tx) error {
			var err error
			ids, err = tx.ListProfileIDs(ctx, "d", "", 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	for deadline := time.Now().Add(10 * time.Second); profilesOf() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job's first row never went in")
		}
	}
	if err := s.DeleteDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // another creation time
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	// The rows left go on (retrying every 20 ms while throttled) until the
	// run has tried them all or sees its job gone (within a second), and
	// ends, saying so: then none of them can go in any more.
	ended := func() bool {
		l := log.String()
		return strings.Contains(l, "upload job ended") || strings.Contains(l, "upload job failed")
	}
	for deadline := time.Now().Add(20 * time.Second); !ended(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the upload job did not end with its domain; log:\n%s", log.String())
		}
	}
	if n := profilesOf(); n != 0 {
		t.Fatalf("the new domain d holds %d profiles of the deleted domain's upload job, want none", n)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// readsInUpdate is a store that counts the domain reads made while one of
// its write transactions runs (a store read nested in Store.Update can
// hang the server once the pools are taken).
type readsInUpdate struct {
	profiles.Store
	active, nested atomic.Int32
}

func (r *readsInUpdate) Update(ctx context.Context, fn func(profiles.Tx) error) error {
	r.active.Add(1)
	defer r.active.Add(-1)
	return r.Store.Update(ctx, fn)
}

func (r *readsInUpdate) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	if r.active.Load() > 0 {
		r.nested.Add(1)
	}
	return r.Store.FindDomain(ctx, name)
}

// TestUploadRow_NoReadInUpdate: an upload job's row checks that its domain
// is the one the job started in without reading the domain inside the
// ingestion's transaction, also when the domain kept by this node has
// expired (domainTTL) meanwhile; a domain created again still gets none of
// the job's rows. Before, the check read the domain from the store in the
// transaction once the kept one had expired.
func TestUploadRow_NoReadInUpdate(t *testing.T) {
	ctx := t.Context()
	store := &readsInUpdate{Store: MustOpenSQLite(t)}
	s := service.New(store, "us-east-1", "000000000000", []byte("secret"))
	s.SetIngestRate(0, 1)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { // each reading a domainTTL later: nothing kept is fresh
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	d, err := store.FindDomain(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.IngestFor(ctx, "d", "contact", d.CreatedAt, contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	if n := store.nested.Load(); n != 0 {
		t.Errorf("%d domain reads inside the ingestion's transaction, want none", n)
	}
	if err := s.DeleteDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IngestFor(ctx, "d", "contact", d.CreatedAt, contact(2, 2)); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("a row of the deleted domain's job into the new one: %v, want ENOTFOUND", err)
	}
}
