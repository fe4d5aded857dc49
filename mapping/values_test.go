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

// TestValueAt_DottedMemberNames: a member whose name has dots (a CSV
// column such as contact.email) is read by the path of its segments; a
// nested member of that path wins over it.
func TestValueAt_DottedMemberNames(t *testing.T) {
	for _, tt := range []struct{ obj, path, want string }{
		{`{"contact.email":"ann@example.com"}`, "contact.email", "ann@example.com"},
		{`{"contact":"Ann","contact.email":"ann@example.com"}`, "contact.email", "ann@example.com"},
		{`{"a":{"b.c":"1"}}`, "a.b.c", "1"},
		{`{"a.b":{"c":"2"}}`, "a.b.c", "2"},
		{`{"a.b.c":"3"}`, "a.b.c", "3"},
		{`{"a.b":[{"c":"4"}]}`, "a.b.0.c", "4"},
		{`{"contact":{"email":"nested@example.com"},"contact.email":"flat@example.com"}`, "contact.email", "nested@example.com"},
	} {
		if v, ok, err := ValueAt([]byte(tt.obj), tt.path); err != nil || !ok || v != tt.want {
			t.Errorf("ValueAt(%s, %s) = %q, %v, %v; want %q", tt.obj, tt.path, v, ok, err, tt.want)
		}
	}
	if _, ok, _ := ValueAt([]byte(`{"contact.mail":"x","contact":{}}`), "contact.email"); ok {
		t.Error("ValueAt found a member that is not there")
	}
}
