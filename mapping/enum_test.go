package mapping_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// TestMap_EnumTargets: a value for Gender, PartyType or ProfileType that
// is one of the enum's values in any case is written as that value; other
// text goes to GenderString or PartyTypeString, and ProfileType, which has
// no free-text field, refuses it naming the field and the value.
func TestMap_EnumTargets(t *testing.T) {
	typ := &profiles.ObjectType{Name: "T", Fields: map[string]profiles.ObjectTypeField{
		"id":      {Source: "_source.id"},
		"gender":  {Source: "_source.gender", Target: "_profile.Gender"},
		"party":   {Source: "_source.party", Target: "_profile.PartyType"},
		"profile": {Source: "_source.profile", Target: "_profile.ProfileType"},
	}, Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}}}}
	for _, tt := range []struct {
		name, obj string
		want      map[string]string
	}{
		{"EnumValues", `{"id":"1","gender":"MALE","party":"BUSINESS","profile":"PROFILE"}`,
			map[string]string{"Gender": "MALE", "PartyType": "BUSINESS", "ProfileType": "PROFILE"}},
		{"AnyCase", `{"id":"1","gender":" female ","party":"individual","profile":"Account_Profile"}`,
			map[string]string{"Gender": "FEMALE", "PartyType": "INDIVIDUAL", "ProfileType": "ACCOUNT_PROFILE"}},
		{"FreeText", `{"id":"1","gender":"non-binary","party":"Nonprofit"}`,
			map[string]string{"GenderString": "non-binary", "PartyTypeString": "Nonprofit"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := mapping.Map(typ, []byte(tt.obj))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(res.Fields, tt.want) {
				t.Errorf("Fields = %v, want %v", res.Fields, tt.want)
			}
		})
	}

	_, err := mapping.Map(typ, []byte(`{"id":"1","profile":"CUSTOMER"}`))
	if profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("ProfileType CUSTOMER: %v, want EINVALID", err)
	}
	for _, w := range []string{`"profile"`, `"CUSTOMER"`, "_profile.ProfileType", "ACCOUNT_PROFILE, PROFILE"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %s", err, w)
		}
	}

	// A field that targets the free-text field itself comes first in
	// field-name order and keeps its value.
	typ.Fields["a"] = profiles.ObjectTypeField{Source: "_source.a", Target: "_profile.GenderString"}
	res, err := mapping.Map(typ, []byte(`{"id":"1","a":"woman","gender":"femme"}`))
	if err != nil || res.Fields["GenderString"] != "woman" || res.Fields["Gender"] != "" {
		t.Errorf("Fields = %v, %v; want GenderString woman and no Gender", res.Fields, err)
	}
}
