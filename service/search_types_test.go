package service_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// typesCounter is the store of a service, counting the ListObjectTypes
// calls of its read transactions.
type typesCounter struct {
	profiles.Store
	calls atomic.Int64
}

func (c *typesCounter) View(ctx context.Context, fn func(profiles.Tx) error) error {
	return c.Store.View(ctx, func(tx profiles.Tx) error { return fn(countingTx{Tx: tx, c: c}) })
}

type countingTx struct {
	profiles.Tx
	c *typesCounter
}

func (t countingTx) ListObjectTypes(ctx context.Context, domain, after string, limit int) ([]*profiles.ObjectType, error) {
	t.c.calls.Add(1)
	return t.Tx.ListObjectTypes(ctx, domain, after, limit)
}

// TestSearchProfiles_TypesChanges: searches keep a domain's object types
// for a second (domaincache.go): 20 searches read them once; a type put
// through the service is searchable at once; one put beside the service
// (another node, here the store itself) a second later; a domain deleted
// beside the service fails the next search at once.
func TestSearchProfiles_TypesChanges(t *testing.T) {
	ctx := t.Context()
	store := &typesCounter{Store: MustOpenSQLite(t)}
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := serviceOn(store, &clock)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "d", "contact", contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	search := func(key, value string) (int, error) {
		t.Helper()
		found, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: key, Values: []string{value}}}, profiles.Page{})
		return len(found), err
	}
	before := store.calls.Load()
	for range 20 {
		if n, err := search("_email", "person1@example.com"); err != nil || n != 1 {
			t.Fatalf("search by _email: %d found, %v; want 1", n, err)
		}
	}
	if n := store.calls.Load() - before; n != 1 {
		t.Errorf("20 searches read the object types %d times, want 1", n)
	}

	// A type with a new key name, through the service: searchable at once.
	withCity := contactType("d")
	withCity.Name = "contact2"
	withCity.Keys["cityKey"] = []profiles.ObjectTypeKey{{StandardIdentifiers: []string{profiles.IdentifierLookupOnly}, FieldNames: []string{"city"}}}
	if _, err := s.PutObjectType(ctx, withCity); err != nil {
		t.Fatal(err)
	}
	if _, err := search("cityKey", "Lyon"); err != nil {
		t.Fatalf("search by a key of a type just put through the service: %v", err)
	}

	// A type put beside the service: its key is searchable a second later.
	other := contactType("d")
	other.Name = "contact3"
	other.Keys["lastKey"] = []profiles.ObjectTypeKey{{StandardIdentifiers: []string{profiles.IdentifierLookupOnly}, FieldNames: []string{"last"}}}
	other.CreatedAt, other.LastUpdatedAt = clock, clock
	if err := store.Update(ctx, func(tx profiles.Tx) error { return tx.PutObjectType(ctx, other, 0) }); err != nil {
		t.Fatal(err)
	}
	if _, err := search("lastKey", "Lee"); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("within the second: search by a key of a type put beside the service: %v, want EINVALID (not yet known)", err)
	}
	clock = clock.Add(time.Second)
	if _, err := search("lastKey", "Lee"); err != nil {
		t.Fatalf("a second later: search by a key of a type put beside the service: %v", err)
	}

	// A domain deleted beside the service: the next search fails at once,
	// though its types are kept.
	if _, err := search("_email", "person1@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := search("_email", "person1@example.com"); profiles.ErrorCode(err) != profiles.ENOTFOUND || profiles.ErrorMessage(err) != "Domain d not found." {
		t.Fatalf("search in a domain deleted beside the service: %v, want ENOTFOUND Domain d not found.", err)
	}
}
