package main_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// mustOpenMainPurging starts the real server with config c, whose
// DeleteDomain waits wait for a domain's purge and purges page profiles a
// page (0: the defaults).
func mustOpenMainPurging(t *testing.T, c main.Config, wait time.Duration, page int) *main.Main {
	t.Helper()
	m := &main.Main{Config: withTestStore(t, c), DomainPurgeWait: wait, DomainPurgePage: page}
	if err := m.Open(); err != nil {
		t.Fatalf("open main: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// purgeConfig is the server's config of the domain deletion tests, with
// sweep as its sweep interval.
func purgeConfig(t *testing.T, sweep time.Duration) main.Config {
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	c.SweepInterval = sweep
	return c
}

// fillDomain creates the domain with an object type "contact" and n
// objects of it, each of a profile of its own, through the service.
func fillDomain(t *testing.T, m *main.Main, client *customerprofiles.Client, domain string, n int) {
	t.Helper()
	ctx := t.Context()
	e := &ingestEnv{t: t, m: m, client: client, domain: domain}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	for i := 0; i < n; i += profiles.MaxBatchObjects {
		var objs []string
		for j := i; j < min(n, i+profiles.MaxBatchObjects); j++ {
			objs = append(objs, fmt.Sprintf(`{"id":"c%d","email":"%s%d@example.com","name":{"first":"Old"}}`, j, domain, j))
		}
		if _, errs, err := m.Service.PutProfileObjects(ctx, domain, "contact", objs); err != nil || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
			t.Fatalf("PutProfileObjects: %v %v", err, errs)
		}
	}
}

// waitPurged waits until no domain of that name is being deleted.
func waitPurged(t *testing.T, m *main.Main, domain string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ds, err := m.DB.DeletingDomains(t.Context())
		if err != nil {
			t.Fatalf("DeletingDomains: %v", err)
		}
		if !slices.ContainsFunc(ds, func(d profiles.DeletingDomain) bool { return d.Name == domain }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("domain %s: its purge is not over", domain)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustBeDeleting fails t unless a domain of that name is being deleted.
func mustBeDeleting(t *testing.T, m *main.Main, domain string) {
	t.Helper()
	ds, err := m.DB.DeletingDomains(t.Context())
	if err != nil {
		t.Fatalf("DeletingDomains: %v", err)
	}
	if !slices.ContainsFunc(ds, func(d profiles.DeletingDomain) bool { return d.Name == domain }) {
		t.Fatalf("domain %s is not being deleted (%v): its purge was not interrupted", domain, ds)
	}
}

// checkDomainGone checks that every request on the domain finds none.
func checkDomainGone(t *testing.T, client *customerprofiles.Client, domain string) {
	t.Helper()
	ctx := t.Context()
	notFound := func(op string, err error) {
		t.Helper()
		if !errors.As(err, new(*types.ResourceNotFoundException)) {
			t.Errorf("%s of a deleted domain: %v, want ResourceNotFoundException", op, err)
		}
	}
	_, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)})
	notFound("GetDomain", err)
	_, err = client.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{DomainName: aws.String(domain),
		ObjectTypeName: aws.String("contact"), Object: aws.String(`{"id":"late","email":"late@example.com"}`)})
	notFound("PutProfileObject", err)
	_, err = client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain),
		KeyName: aws.String("_email"), Values: []string{domain + "0@example.com"}})
	notFound("SearchProfiles", err)
	_, err = client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String(domain)})
	notFound("DeleteDomain", err)
	out, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
	if err != nil {
		t.Fatalf("ListDomains: %v", err)
	}
	for _, d := range out.Items {
		if aws.ToString(d.DomainName) == domain {
			t.Errorf("ListDomains lists the deleted domain %s", domain)
		}
	}
}

// checkDomainNew checks that the domain, created again, holds nothing of
// the one deleted (n objects, as fillDomain put them).
func checkDomainNew(t *testing.T, client *customerprofiles.Client, domain string, n int) {
	t.Helper()
	ctx := t.Context()
	out, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)})
	if err != nil {
		t.Fatalf("GetDomain of the domain created again: %v", err)
	}
	if st := out.Stats; st == nil || st.ProfileCount != 0 || st.ObjectCount != 0 {
		t.Errorf("GetDomain of the domain created again: stats %+v, want no profile and no object", st)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		s, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain),
			KeyName: aws.String("_email"), Values: []string{fmt.Sprintf("%s%d@example.com", domain, i)}})
		if err != nil {
			t.Fatalf("SearchProfiles: %v", err)
		}
		if len(s.Items) != 0 {
			t.Errorf("SearchProfiles in the domain created again finds %d profiles of the one deleted", len(s.Items))
		}
	}
}

// TestDomainDelete_LargeWhileOtherDomainIngests: a domain of many objects
// is deleted, in small pages, while another domain ingests without pause;
// every ingestion of the other domain succeeds, the deleted domain is gone
// for every request at once, and its name, created again once its purge is
// over, holds none of its data.
func TestDomainDelete_LargeWhileOtherDomainIngests(t *testing.T) {
	const n = 3000
	m := mustOpenMainPurging(t, purgeConfig(t, time.Minute), 0, 20)
	client := MustClient(t, m)
	ctx := t.Context()
	fillDomain(t, m, client, "big", n)
	live := &ingestEnv{t: t, m: m, client: client, domain: "live"}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("live"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	live.putType(contactType("contact"))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	puts := make([]int, 3)
	for w := range puts {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := live.put("contact", map[string]any{"id": fmt.Sprintf("l%d-%d", w, i), "email": fmt.Sprintf("l%d-%d@example.com", w, i)}); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
				puts[w]++
			}
		})
	}
	if _, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("big")}); err != nil {
		t.Errorf("DeleteDomain: %v", err)
	}
	checkDomainGone(t, client, "big")
	waitPurged(t, m, "big")
	close(stop)
	wg.Wait()
	for _, err := range failures {
		t.Errorf("PutProfileObject into the other domain during the deletion: %v", err)
	}
	if total := puts[0] + puts[1] + puts[2]; total == 0 {
		t.Errorf("no ingestion into the other domain ran during the deletion")
	}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("big"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatalf("CreateDomain of the name again: %v", err)
	}
	checkDomainNew(t, client, "big", n)
	live.mustOne("_email", "l0-0@example.com")
}

// TestDomainDelete_InterruptedPurgeResumes: the server stops while the
// purges of two deleted domains are under way (DeleteDomain returned at
// once, its purge going on in the background). After a restart the
// domains are still gone for every request, a CreateDomain of one name
// finishes its purge and creates the new domain empty, and the sweep
// finishes the other's purge. Before that, while the purge ran, a
// CreateDomain that may not wait for it was refused, saying why.
func TestDomainDelete_InterruptedPurgeResumes(t *testing.T) {
	const n = 1200
	c := purgeConfig(t, time.Hour) // no sweep
	m := mustOpenMainPurging(t, c, -1, 2)
	client := MustClient(t, m)
	ctx := t.Context()
	fillDomain(t, m, client, "swept", n)
	fillDomain(t, m, client, "again", n)
	for _, d := range []string{"swept", "again"} {
		if _, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String(d)}); err != nil {
			t.Fatalf("DeleteDomain(%s): %v", d, err)
		}
	}
	_, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("again"), DefaultExpirationDays: aws.Int32(30)})
	var bad *types.BadRequestException
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "still being deleted") {
		t.Errorf("CreateDomain while its purge goes on (no wait): %v; want BadRequestException saying it is still being deleted", err)
	}
	m.Close()

	// Restarted, without a sweep: both purges stopped half way.
	m = mustOpenMainPurging(t, c, 0, 0)
	client = MustClient(t, m)
	mustBeDeleting(t, m, "swept")
	mustBeDeleting(t, m, "again")
	checkDomainGone(t, client, "swept")
	checkDomainGone(t, client, "again")
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("again"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatalf("CreateDomain during the purge of the name (small enough to finish first): %v", err)
	}
	checkDomainNew(t, client, "again", n)
	mustBeDeleting(t, m, "swept")
	m.Close()

	// Restarted with a sweep: it finishes the other purge.
	c.SweepInterval = 100 * time.Millisecond
	m = mustOpenMainPurging(t, c, 0, 0)
	client = MustClient(t, m)
	waitPurged(t, m, "swept")
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("swept"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatalf("CreateDomain after the sweep's purge: %v", err)
	}
	checkDomainNew(t, client, "swept", n)
	checkDomainNew(t, client, "again", n)
}

// TestPostgres_DeleteDomainUnderStatementTimeout: on PostgreSQL, whose
// every statement is bounded by --pg-statement-timeout, a domain too large
// to delete in one statement within it is deleted (the one DELETE whose
// cascade removed the whole domain was cancelled: the domain could not be
// deleted at all).
func TestPostgres_DeleteDomainUnderStatementTimeout(t *testing.T) {
	c := purgeConfig(t, time.Minute)
	c.Store, c.PGStatementTimeout = mustPostgresDatabase(t), 500*time.Millisecond
	m := MustOpenMain(t, c)
	client := MustClient(t, m)
	ctx := t.Context()
	const n, copies = 200, 400 // 80,200 profiles with their objects, keys and history
	fillDomain(t, m, client, "big", n)
	// Copies of the domain's rows under other ids, written directly: the
	// service would take minutes for as many.
	for _, table := range []struct{ name, columns, copy string }{
		{"profiles", "domain, id, data, size, created_at, updated_at", "domain, id || g, data, size, created_at, updated_at"},
		{"objects", "domain, object_type, unique_key, profile_id, data, size, source_last_updated, created_at, updated_at, expires_at",
			"domain, object_type, unique_key || g, profile_id || g, data, size, source_last_updated, created_at, updated_at, expires_at"},
		{"keys", "domain, name, value, profile_id, origin, object_key", "domain, name, value || g, profile_id || g, origin, object_key || g"},
		{"history", "domain, profile_id, id, action_type, object_type, object_key, performed_by, content, created_at, updated_at",
			"domain, profile_id || g, id, action_type, object_type, object_key, performed_by, content, created_at, updated_at"},
	} {
		mustRawExec(t, m, `INSERT INTO `+table.name+` (`+table.columns+`) SELECT `+table.copy+`
			FROM `+table.name+`, generate_series(1, ?::int) g WHERE domain = 'big'`, copies)
	}
	if got := mustRawCount(t, m, `SELECT count(*) FROM profiles WHERE domain = 'big'`); got < n*copies {
		t.Fatalf("profiles of the domain: %d, want at least %d", got, n*copies)
	}

	if _, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("big")}); err != nil {
		t.Fatalf("DeleteDomain of a domain too large for one statement within the statement timeout: %v", err)
	}
	checkDomainGone(t, client, "big")
	waitPurged(t, m, "big")
	for _, table := range []string{"profiles", "objects", "keys", "history"} {
		if got := mustRawCount(t, m, `SELECT count(*) FROM `+table+` WHERE domain = 'big'`); got != 0 {
			t.Errorf("%s of the deleted domain: %d rows left", table, got)
		}
	}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("big"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatalf("CreateDomain of the name again: %v", err)
	}
	checkDomainNew(t, client, "big", n)
}
