package service

import (
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestMappers: a compiled type is reused while its definition is the same,
// and compiled again when its fields, keys or timestamp format change, even
// at the same LastUpdatedAt.
func TestMappers(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	typ := func(target string) *profiles.ObjectType {
		return &profiles.ObjectType{DomainName: "d", Name: "contact", LastUpdatedAt: at,
			Fields: map[string]profiles.ObjectTypeField{
				"id":   {Source: "_source.id"},
				"name": {Source: "_source.name", Target: target},
			},
			Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"id"}}}},
		}
	}
	var c mappers
	obj := []byte(`{"id":"1","name":"Ada"}`)

	first, err := c.get(typ("_profile.FirstName"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.get(typ("_profile.FirstName"))
	if err != nil || again != first {
		t.Fatalf("the same definition was compiled again (%v)", err)
	}
	res, err := c.mapObject(typ("_profile.LastName"), obj)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fields["LastName"] != "Ada" || res.Fields["FirstName"] != "" {
		t.Fatalf("a changed target at the same LastUpdatedAt mapped with the old definition: %v", res.Fields)
	}

	changedKey := typ("_profile.LastName")
	changedKey.Keys["id"][0].StandardIdentifiers = []string{profiles.IdentifierUnique, profiles.IdentifierProfile}
	res, err = c.mapObject(changedKey, obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Keys) != 1 || len(res.Keys[0].Identifiers) != 2 {
		t.Fatalf("a changed key mapped with the old definition: %+v", res.Keys)
	}
	// The entry holds its own copy: changing the caller's type afterwards
	// does not change what the entry compares with.
	changedKey.Keys["id"][0].FieldNames[0] = "name"
	if e := c.entries["d\x00contact"]; e.compiledFrom(changedKey) {
		t.Fatal("the entry shares the caller's key definitions")
	}

	withFormat := typ("_profile.LastName")
	withFormat.SourceLastUpdatedTimestampFormat = "yyyy-MM-dd"
	m, err := c.get(withFormat)
	if err != nil {
		t.Fatal(err)
	}
	if m == first {
		t.Fatal("a changed timestamp format reused the old mapping")
	}

	bad := typ("_profile.NoSuchField")
	if _, err := c.get(bad); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("a bad target: got %v, want EINVALID", err)
	}
}
