package service_test

import (
	"bytes"
	"net/url"
	"strings"
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
	// The rows left retry every 20 ms; the run sees its job gone within a
	// second. Watch the new domain for longer than that.
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n := profilesOf(); n != 0 {
			t.Fatalf("the new domain d holds %d profiles of the deleted domain's upload job, want none", n)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
