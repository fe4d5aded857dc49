package service_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/templates"
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

// TestSearchProfiles_ProfileID: a profile has no _profileId key row, yet a
// search by _profileId finds it by its id, once even when a key row holds
// the id too (an added key here; profiles stored by earlier versions kept
// such a row), and still after that row is deleted; an unknown or deleted
// id finds nothing; and an object type
// whose PROFILE key is _profileId attaches its objects to the profile of
// that id.
func TestSearchProfiles_ProfileID(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s := service.New(db, "us-east-1", "000000000000", []byte("secret"))
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	ann, err := s.CreateProfile(ctx, "d", map[string]string{"FirstName": "Ann", "EmailAddress": "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(ctx, func(tx profiles.Tx) error {
		keys, err := tx.ListKeys(ctx, "d", ann.ID)
		if len(keys) == 0 {
			return fmt.Errorf("no standard keys at all: %v", err)
		}
		for _, k := range keys {
			if k.Name == service.KeyProfileID {
				return fmt.Errorf("a %s key row: %+v", k.Name, k)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	search := func(id string) []string {
		t.Helper()
		found, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: service.KeyProfileID, Values: []string{id}}}, profiles.Page{})
		if err != nil {
			t.Fatalf("search %s: %v", id, err)
		}
		var ids []string
		for _, f := range found {
			ids = append(ids, f.Profile.ID)
			if len(f.FoundBy) != 1 || f.FoundBy[0].KeyName != service.KeyProfileID {
				t.Errorf("search %s: found by %+v", id, f.FoundBy)
			}
		}
		return ids
	}
	if got := search(ann.ID); !slices.Equal(got, []string{ann.ID}) {
		t.Errorf("search by Ann's id: %v, want [%s]", got, ann.ID)
	}
	if err := s.AddProfileKey(ctx, "d", ann.ID, service.KeyProfileID, []string{ann.ID}); err != nil {
		t.Fatal(err)
	}
	if got := search(ann.ID); !slices.Equal(got, []string{ann.ID}) {
		t.Errorf("search by Ann's id, with a key row of it: %v, want [%s] once", got, ann.ID)
	}
	// Deleting that key deletes the row; the id itself stays a search key,
	// and there is then no key left to delete.
	if err := s.DeleteProfileKey(ctx, "d", ann.ID, service.KeyProfileID, []string{ann.ID}); err != nil {
		t.Fatal(err)
	}
	if got := search(ann.ID); !slices.Equal(got, []string{ann.ID}) {
		t.Errorf("search by Ann's id after DeleteProfileKey: %v, want [%s]", got, ann.ID)
	}
	if err := s.DeleteProfileKey(ctx, "d", ann.ID, service.KeyProfileID, []string{ann.ID}); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("DeleteProfileKey of the id again: %v, want ENOTFOUND", err)
	}
	if got := search("0123456789abcdef0123456789abcdef"); len(got) != 0 {
		t.Errorf("search by an unknown id: %v, want none", got)
	}
	bob, err := s.CreateProfile(ctx, "d", map[string]string{"FirstName": "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteProfile(ctx, "d", bob.ID); err != nil {
		t.Fatal(err)
	}
	if got := search(bob.ID); len(got) != 0 {
		t.Errorf("search by a deleted profile's id: %v, want none", got)
	}

	// Ingestion: a note names its profile by id.
	note := &profiles.ObjectType{DomainName: "d", Name: "note", Description: "notes", AllowProfileCreation: false,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}, "pid": {Source: "_source.pid"}},
		Keys: map[string][]profiles.ObjectTypeKey{
			"noteId":             {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"id"}}},
			service.KeyProfileID: {{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{"pid"}}},
		}}
	if _, err := s.PutObjectType(ctx, note); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "d", "note", fmt.Sprintf(`{"id":"n1","pid":%q}`, ann.ID)); err != nil {
		t.Fatal(err)
	}
	objs, _, err := s.ListProfileObjects(ctx, "d", "note", ann.ID, "", nil, profiles.Page{})
	if err != nil || len(objs) != 1 {
		t.Fatalf("Ann's notes: %d, %v; want the one that named her id", len(objs), err)
	}
	if _, err := s.PutProfileObject(ctx, "d", "note", fmt.Sprintf(`{"id":"n2","pid":%q}`, bob.ID)); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("a note naming a deleted profile (no profile creation): %v, want EINVALID", err)
	}
}

// TestSearchProfiles_TemplateKeys: every key of a built-in template is a
// search key of a domain that defines no type of it, since objects may be
// put to the template's name without one; ServiceNow-task's
// _serviceNowTaskId, which AWS's list of predefined keys omits, included.
func TestSearchProfiles_TemplateKeys(t *testing.T) {
	s := MustOpenService(t)
	for _, tpl := range templates.All() {
		for name := range tpl.ObjectType.Keys {
			q := profiles.SearchQuery{Key: profiles.SearchKey{KeyName: name, Values: []string{"x@example.com"}}}
			if _, _, err := s.SearchProfiles(t.Context(), "bench", q, profiles.Page{}); err != nil {
				t.Errorf("%s: SearchProfiles by its key %s: %v", tpl.ID, name, err)
			}
		}
	}
}
