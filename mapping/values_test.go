package mapping

import (
	"maps"
	"testing"

	"github.com/openprofiles/profiles"
)

// TestFieldValues: every field the object holds, by field name, as read
// (not normalised), templates included; absent fields are left out.
func TestFieldValues(t *testing.T) {
	m, err := Compile(&profiles.ObjectType{Name: "T", Fields: map[string]profiles.ObjectTypeField{
		"id":    {Source: "_source.id"},
		"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
		"total": {Source: "_source.order.total", ContentType: "NUMBER"},
		"name":  {Source: "{{_source.first}} {{_source.last}}", ContentType: "NAME"},
		"gone":  {Source: "_source.nothing"},
	}, Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.FieldValues([]byte(`{"id":"o1","email":"Ann@Example.COM","order":{"total":12.50},"first":"Ann","last":"Lee"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": "o1", "email": "Ann@Example.COM", "total": "12.50", "name": "Ann Lee"}
	if !maps.Equal(got, want) {
		t.Errorf("FieldValues = %v, want %v", got, want)
	}
	if _, err := m.FieldValues([]byte(`[1]`)); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("FieldValues of an array: %v, want EINVALID", err)
	}
}

// TestValueAt reads dotted paths, array indexes included.
func TestValueAt(t *testing.T) {
	obj := []byte(`{"generatedAt":{"timestamp":"1737587945945"},"items":[{"at":"2026-01-02"}],"n":7}`)
	for path, want := range map[string]string{"generatedAt.timestamp": "1737587945945", "items.0.at": "2026-01-02", "n": "7"} {
		if v, ok, err := ValueAt(obj, path); err != nil || !ok || v != want {
			t.Errorf("ValueAt(%s) = %q, %v, %v; want %q", path, v, ok, err, want)
		}
	}
	if _, ok, err := ValueAt(obj, "generatedAt.missing"); ok || err != nil {
		t.Errorf("ValueAt of a missing path: %v, %v", ok, err)
	}
	if _, _, err := ValueAt(obj, "a..b"); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("ValueAt of a malformed path: %v, want EINVALID", err)
	}
}
