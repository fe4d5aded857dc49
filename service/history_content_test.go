package service

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/openprofiles/profiles"
)

// TestProfileContent: a profile's history record written by an earlier
// release (its flat fields) is returned in the API's Profile shape, as new
// records are written; records of keys, of objects and in the new shape are
// returned as they are.
func TestProfileContent(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef"
	rec := func(objectType, content string) *profiles.HistoryRecord {
		return &profiles.HistoryRecord{ProfileID: id, ObjectTypeName: objectType, Content: []byte(content)}
	}
	tests := []struct {
		name string
		r    *profiles.HistoryRecord
		want string
	}{
		{"Flat", rec("_profile", `{"FirstName":"Ann","Address.City":"Lyon","Attributes.tier":"gold","EngagementPreferences":"{\"Email\":[{\"KeyName\":\"_email\"}]}"}`),
			`{"ProfileId":"` + id + `","FirstName":"Ann","Address":{"City":"Lyon"},"Attributes":{"tier":"gold"},"EngagementPreferences":{"Email":[{"KeyName":"_email"}]}}`},
		{"FlatEmpty", rec("_profile", `{}`), `{"ProfileId":"` + id + `"}`},
		{"APIShape", rec("_profile", `{"ProfileId":"`+id+`","FirstName":"Ann"}`), `{"ProfileId":"` + id + `","FirstName":"Ann"}`},
		{"APIShapeNested", rec("_profile", `{"ProfileId":"`+id+`","Address":{"City":"Lyon"}}`), `{"ProfileId":"` + id + `","Address":{"City":"Lyon"}}`},
		{"Key", rec("_profile", `{"KeyName":"_phone","Values":["+15550100"]}`), `{"KeyName":"_phone","Values":["+15550100"]}`},
		{"Object", rec("contact", `{"FirstName":"x","a.b":"c"}`), `{"FirstName":"x","a.b":"c"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want any
			if err := json.Unmarshal(profileContent(tt.r), &got); err != nil {
				t.Fatalf("content %s: %v", profileContent(tt.r), err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
		})
	}
}
