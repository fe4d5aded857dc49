package service_test

import (
	"testing"

	"github.com/openprofiles/profiles"
)

// TestSearchProfiles_KeyContentType: a search normalises the values of a
// key of an object type as the key's field does (here a phone number
// written another way), and refuses a key no type defines.
func TestSearchProfiles_KeyContentType(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	typ := contactType("bench")
	typ.Keys["contactPhone"] = []profiles.ObjectTypeKey{{StandardIdentifiers: []string{profiles.IdentifierProfile, profiles.IdentifierSecondary}, FieldNames: []string{"phone"}}}
	if _, err := s.PutObjectType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(1, 7)); err != nil { // phone "+1 555 0000007"
		t.Fatal(err)
	}
	found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "contactPhone", Values: []string{"+1-555-000-0007"}}}, profiles.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Profile.Fields["EmailAddress"] != "person7@example.com" {
		t.Fatalf("contactPhone +1-555-000-0007 finds %d profiles, want the one of person7", len(found))
	}
	_, _, err = s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "fax", Values: []string{"1"}}}, profiles.Page{})
	if profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("search by an unknown key: err = %v, want EINVALID", err)
	}
}

// TestSearchProfiles_MissingDomain: the error names the domain as AWS does.
func TestSearchProfiles_MissingDomain(t *testing.T) {
	s := MustOpenService(t)
	_, _, err := s.SearchProfiles(t.Context(), "nope", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"a@example.com"}}}, profiles.Page{})
	if profiles.ErrorCode(err) != profiles.ENOTFOUND || profiles.ErrorMessage(err) != "Domain nope not found." {
		t.Fatalf("SearchProfiles in a missing domain: err = %v, want ENOTFOUND Domain nope not found.", err)
	}
}
