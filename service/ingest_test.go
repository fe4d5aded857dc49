package service_test

import (
	"testing"

	"github.com/openprofiles/profiles"
)

// TestPutProfileObject_TypeChanged: an object is mapped before its
// transaction with the mapping last used for its type; when the type has
// changed since, the transaction maps it again with the type it reads.
func TestPutProfileObject_TypeChanged(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	// The city now goes to the shipping address instead.
	typ := contactType("bench")
	typ.Fields["city"] = profiles.ObjectTypeField{Source: "_source.city", Target: "_profile.ShippingAddress.City"}
	if _, err := s.PutObjectType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(2, 2)); err != nil {
		t.Fatal(err)
	}
	found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"person2@example.com"}}}, profiles.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("found %d profiles, want 1", len(found))
	}
	p := found[0].Profile
	if got := p.Fields["ShippingAddress.City"]; got != "Lyon" {
		t.Fatalf("ShippingAddress.City = %q, want Lyon (fields %v): the object was mapped with the old type", got, p.Fields)
	}
	if got := p.Fields["Address.City"]; got != "" {
		t.Fatalf("Address.City = %q, want none: the object was mapped with the old type", got)
	}
}
