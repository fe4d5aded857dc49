package service_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/sqlite"
)

// MustOpenEncrypted returns a service whose store seals records with keys
// of a built-in KMS, with one domain "enc" on the service's default key.
func MustOpenEncrypted(tb testing.TB, cfg service.CryptConfig) (*service.Service, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "enc.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: time.Now}
	key, err := k.EnsureDefaultKey(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	s := service.New(db, "us-east-1", "000000000000", []byte("secret-secret-secret-secret-0123"))
	s.Keys, s.DefaultKey = k, key
	s.SetCryptConfig(cfg)
	db.Sealer = s.Sealer()
	s.SetIngestRate(0, 1)
	if _, err := s.CreateDomain(tb.Context(), &profiles.Domain{Name: "enc", DefaultExpirationDays: 30}); err != nil {
		tb.Fatal(err)
	}
	return s, path
}

func TestSealer(t *testing.T) {
	s, _ := MustOpenEncrypted(t, service.DefaultCryptConfig)
	ctx := t.Context()
	sealer := s.Sealer()
	ref := profiles.RecordRef{Domain: "enc", Kind: profiles.RecordProfile, ID: "p1"}
	plain := []byte(`{"FirstName":"Ada"}`)
	sealed, err := sealer.Seal(ctx, ref, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Ada")) {
		t.Fatalf("sealed record holds the plaintext")
	}
	got, err := sealer.Open(ctx, ref, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open=%q, %v; want %q", got, err, plain)
	}

	// The authenticated data binds the record to its domain, kind, type and
	// id: the same bytes anywhere else do not open.
	for _, other := range []profiles.RecordRef{
		{Domain: "enc", Kind: profiles.RecordProfile, ID: "p2"},
		{Domain: "other", Kind: profiles.RecordProfile, ID: "p1"},
		{Domain: "enc", Kind: profiles.RecordObject, ID: "p1"},
		{Domain: "enc", Kind: profiles.RecordObject, ObjectType: "x", ID: "p1"},
	} {
		if _, err := sealer.Open(ctx, other, sealed); profiles.ErrorCode(err) != profiles.EINVALID && profiles.ErrorCode(err) != profiles.EFORBIDDEN {
			t.Errorf("record of %+v opened as %+v: err=%v", ref, other, err)
		}
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := sealer.Open(ctx, ref, tampered); profiles.ErrorCode(err) != profiles.EINVALID || profiles.ErrorReason(err) != profiles.ReasonKMSKeyInvalid {
		t.Errorf("tampered record: err=%v, want EINVALID with reason %s", err, profiles.ReasonKMSKeyInvalid)
	}
	// Records written in plaintext (before encryption) still read.
	if got, err := sealer.Open(ctx, ref, plain); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("plaintext record: %q %v", got, err)
	}
}

func TestSealer_CopiedRowDoesNotOpen(t *testing.T) {
	s, dbPath := MustOpenEncrypted(t, service.DefaultCryptConfig)
	ctx := t.Context()
	a, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	// Copy Ann's sealed row over Bob's, as someone with the file could.
	raw, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE profiles SET data = (SELECT data FROM profiles WHERE id = ?) WHERE id = ?`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	_, missing, err := s.BatchGetProfiles(ctx, "enc", []string{b.ID})
	if profiles.ErrorCode(err) != profiles.EINVALID || len(missing) != 0 {
		t.Fatalf("reading a copied row: err=%v; want EINVALID", err)
	}
}

// BenchmarkPutProfileObject_Encrypted measures ingestion with envelope
// encryption, with the data-key cache and without it (every record asks the
// built-in KMS for a data key).
func BenchmarkPutProfileObject_Encrypted(b *testing.B) {
	for _, tt := range []struct {
		name string
		cfg  service.CryptConfig
	}{
		{"Cached", service.DefaultCryptConfig},
		{"NoCache", service.CryptConfig{DataKeyMaxAge: 0, CacheSize: 1, KeyStateTTL: 0}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, _ := MustOpenEncrypted(b, tt.cfg)
			if _, err := s.PutObjectType(b.Context(), contactType("enc")); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if _, err := s.PutProfileObject(b.Context(), "enc", "contact", contact(i, i%100)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSealer_DomainKeyOfAnotherNode: a node seals a domain's records with
// the key the domain has in the store as of a second ago at most, also
// when another node deleted the domain and created it again with another
// key (the records would otherwise go under the old domain's key, which
// may be deleted next).
func TestSealer_DomainKeyOfAnotherNode(t *testing.T) {
	ctx := t.Context()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "nodes.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: now}
	node := func() *service.Service {
		s := service.New(db, "us-east-1", "000000000000", []byte("secret-secret-secret-secret-0123"))
		s.Keys, s.Now = k, now
		return s
	}
	a, b := node(), node()
	keys := mustServiceKeys(t, k, 2)
	ref := profiles.RecordRef{Domain: "d", Kind: profiles.RecordProfile, ID: "p1"}
	sealedUnder := func(s *service.Service) string {
		t.Helper()
		sealed, err := s.Sealer().Seal(ctx, ref, []byte(`{"FirstName":"Ada"}`))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		for _, key := range keys {
			if bytes.Contains(sealed, []byte(key)) {
				return key
			}
		}
		t.Fatalf("sealed under neither key")
		return ""
	}
	if _, err := a.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DefaultEncryptionKey: keys[0]}); err != nil {
		t.Fatal(err)
	}
	if got := sealedUnder(b); got != keys[0] {
		t.Fatalf("node b seals under %s, want the domain's key %s", got, keys[0])
	}
	if err := a.DeleteDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DefaultEncryptionKey: keys[1]}); err != nil {
		t.Fatal(err)
	}
	if got := sealedUnder(a); got != keys[1] {
		t.Errorf("node a, which made the change, seals under %s, want the new key %s at once", got, keys[1])
	}
	clock = clock.Add(1100 * time.Millisecond)
	if got := sealedUnder(b); got != keys[1] {
		t.Errorf("node b a second after the domain was created again seals under %s, want its new key %s", got, keys[1])
	}
}

// mustServiceKeys creates n keys of the built-in KMS that the service may
// use, and returns their ARNs.
func mustServiceKeys(t *testing.T, k *localkms.KMS, n int) []string {
	t.Helper()
	var arns []string
	for range n {
		md, err := k.CreateServiceKey(t.Context(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, md.ARN)
	}
	return arns
}

// noNesting is a store whose View fails when called while another View
// runs (the test using it runs one request at a time, so that is a View
// inside a View): on SQLite a read transaction that waits for a second
// connection hangs every reader once the pool is taken
// (TestSegments/ConcurrentMembership).
type noNesting struct {
	profiles.Store
	active, nested atomic.Int32
}

func (n *noNesting) View(ctx context.Context, fn func(profiles.Tx) error) error {
	if n.active.Add(1) > 1 {
		n.active.Add(-1)
		n.nested.Add(1)
		return errors.New("a read transaction inside another")
	}
	defer n.active.Add(-1)
	return n.Store.View(ctx, fn)
}

// TestOpen_NoNestedView: opening records (inside the store's read
// transactions) reads no store through another transaction, also when
// the caches of the keys of objects' types have expired.
func TestOpen_NoNestedView(t *testing.T) {
	ctx := t.Context()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "nest.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Now()
	now := func() time.Time { return clock }
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: now}
	def, err := k.EnsureDefaultKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := &noNesting{Store: db}
	s := service.New(store, "us-east-1", "000000000000", []byte("secret-secret-secret-secret-0123"))
	s.Keys, s.DefaultKey, s.Now = k, def, now
	db.Sealer = s.Sealer()
	s.SetIngestRate(0, 1)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	ot := contactType("d")
	ot.EncryptionKey = mustServiceKeys(t, k, 1)[0]
	if _, err := s.PutObjectType(ctx, ot); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "d", "contact", contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	found, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"person1@example.com"}}}, profiles.Page{})
	if err != nil || len(found) != 1 {
		t.Fatalf("SearchProfiles: %v, %v", found, err)
	}
	clock = clock.Add(time.Minute) // every cache of keys and checks expired
	if _, _, err := s.ListProfileObjects(ctx, "d", "contact", found[0].Profile.ID, "", nil, profiles.Page{}); err != nil {
		t.Errorf("ListProfileObjects: %v", err)
	}
	if n := store.nested.Load(); n != 0 {
		t.Errorf("%d read transactions began inside another while records were opened", n)
	}
}

// TestSealer_AliasMoved: a domain whose key is an alias has its records
// sealed under the key the alias names as of the last key check
// (KeyStateTTL), not under the key it named when the data key in use was
// made: an alias moved to a new key (through any node, or the KMS itself)
// and the old key disabled, records sealed a check later go under the new
// key. Before, the check asked about the alias's new target and let the
// old key's data key seal on for up to DataKeyMaxAge (5 minutes), under a
// key that was disabled (records no node could read).
func TestSealer_AliasMoved(t *testing.T) {
	ctx := t.Context()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "alias.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: now}
	s := service.New(db, "us-east-1", "000000000000", []byte("secret-secret-secret-secret-0123"))
	s.Keys, s.Now = k, now
	s.SetCryptConfig(service.CryptConfig{DataKeyMaxAge: 5 * time.Minute, CacheSize: 100, KeyStateTTL: 5 * time.Second})
	old, err := k.CreateServiceKey(ctx, "", "alias/crm")
	if err != nil {
		t.Fatal(err)
	}
	next := mustServiceKeys(t, k, 1)[0]
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DefaultEncryptionKey: "alias/crm"}); err != nil {
		t.Fatal(err)
	}
	ref := profiles.RecordRef{Domain: "d", Kind: profiles.RecordProfile, ID: "p1"}
	sealedUnder := func() string {
		t.Helper()
		sealed, err := s.Sealer().Seal(ctx, ref, []byte(`{"FirstName":"Ada"}`))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		for _, key := range []string{old.ARN, next} {
			if bytes.Contains(sealed, []byte(key)) {
				return key
			}
		}
		t.Fatalf("sealed under neither key")
		return ""
	}
	if got := sealedUnder(); got != old.ARN {
		t.Fatalf("sealed under %s, want the alias's key %s", got, old.ARN)
	}
	// The alias moves to the new key and the old one is disabled.
	nextID := next[len(next)-36:]
	if _, err := db.UpdateKMSAlias(ctx, "alias/crm", nextID, clock); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateKMSKey(ctx, old.KeyID, func(key *profiles.KMSKey) error {
		key.State = profiles.KeyStateDisabled
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(6 * time.Second) // past a key check, well within the data key's age
	if got := sealedUnder(); got != next {
		t.Errorf("a key check after the alias moved, sealed under %s (disabled), want the alias's new key %s", got, next)
	}
}
