package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// describeCounter is a key manager that answers DescribeKey for one alias
// and counts the calls; its other methods are not used here.
type describeCounter struct {
	profiles.KeyManager
	calls int
}

func (d *describeCounter) DescribeKey(ctx context.Context, keyID string) (*profiles.KeyMetadata, error) {
	d.calls++
	if keyID == "alias/crm" {
		return &profiles.KeyMetadata{KeyID: "k1", ARN: "arn:aws:kms:us-east-1:000000000000:key/k1"}, nil
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "Key '%s' does not exist", keyID)
}

// TestEncryptionKeyARN: a domain's key named by its ARN is that ARN
// without a call to the key manager (every read of profile data asks); an
// alias is resolved.
func TestEncryptionKeyARN(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	for _, d := range []*profiles.Domain{
		{Name: "by-arn", DefaultExpirationDays: 30, DefaultEncryptionKey: "arn:aws:kms:us-east-1:000000000000:key/k2"},
		{Name: "by-alias", DefaultExpirationDays: 30, DefaultEncryptionKey: "alias/crm"},
	} {
		if _, err := s.CreateDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	keys := &describeCounter{}
	s.Keys = keys
	if arn, err := s.EncryptionKeyARN(ctx, "by-arn"); err != nil || arn != "arn:aws:kms:us-east-1:000000000000:key/k2" || keys.calls != 0 {
		t.Fatalf("EncryptionKeyARN(by-arn) = %q, %v after %d DescribeKey calls; want the key's ARN after none", arn, err, keys.calls)
	}
	if arn, err := s.EncryptionKeyARN(ctx, "by-alias"); err != nil || arn != "arn:aws:kms:us-east-1:000000000000:key/k1" || keys.calls != 1 {
		t.Fatalf("EncryptionKeyARN(by-alias) = %q, %v after %d DescribeKey calls; want the aliased key's ARN after one", arn, err, keys.calls)
	}
}

// TestEncryptionKeyARN_DomainChanges: the kms:Decrypt check of profile-data
// reads keeps the domain it read for a second (domaincache.go): 20 checks
// read it once; a key set beside the service (another node, here the store
// itself) is checked from a second later; a change through the service is
// read at once; a domain deleted beside the service still gives its key
// within the second, but the read it authorises fails as not found.
func TestEncryptionKeyARN_DomainChanges(t *testing.T) {
	ctx := t.Context()
	store := &findDomainCounter{Store: MustOpenSQLite(t)}
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := serviceOn(store, &clock)
	const k2, k3 = "arn:aws:kms:us-east-1:000000000000:key/k2", "arn:aws:kms:us-east-1:000000000000:key/k3"
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DefaultEncryptionKey: k2}); err != nil {
		t.Fatal(err)
	}
	s.Keys = &describeCounter{}
	check := func(want string) int64 {
		t.Helper()
		before := store.calls.Load()
		if arn, err := s.EncryptionKeyARN(ctx, "d"); err != nil || arn != want {
			t.Fatalf("EncryptionKeyARN = %q, %v; want %q", arn, err, want)
		}
		return store.calls.Load() - before
	}
	var reads int64
	for range 20 {
		reads += check(k2)
	}
	if reads != 1 {
		t.Errorf("20 checks read the domain %d times, want 1", reads)
	}

	if _, err := store.UpdateDomain(ctx, "d", func(d *profiles.Domain) error {
		d.DefaultEncryptionKey = k3
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check(k2) // within the second
	clock = clock.Add(time.Second)
	if n := check(k3); n != 1 {
		t.Errorf("a second after the key changed beside the service: %d reads, want 1", n)
	}

	days := 40
	if _, err := s.UpdateDomain(ctx, "d", &profiles.DomainUpdate{DefaultExpirationDays: &days}); err != nil {
		t.Fatal(err)
	}
	if n := check(k3); n != 1 {
		t.Errorf("after UpdateDomain through the service: %d reads, want 1 (the domain read again)", n)
	}

	if err := store.DeleteDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	check(k3) // within the second
	_, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"a@example.com"}}}, profiles.Page{})
	if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("SearchProfiles in a domain deleted beside the service: %v, want ENOTFOUND", err)
	}
	clock = clock.Add(time.Second)
	if _, err := s.EncryptionKeyARN(ctx, "d"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("a second after the deletion: EncryptionKeyARN err = %v, want ENOTFOUND", err)
	}
}
