package rowcodec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/rowcodec"
)

func TestProfileRoundTrip(t *testing.T) {
	at := time.UnixMilli(1795687555709).UTC()
	p := &profiles.Profile{DomainName: "d", ID: "p1",
		Fields:  map[string]string{"FirstName": "Ann", "Address.City": "Lyon", "Attributes.tier": "gold"},
		Sources: map[string]profiles.FieldSource{"Address.City": {ObjectType: "contact", Priority: 2, UpdatedAt: at}}}
	b, err := rowcodec.EncodeProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	got := &profiles.Profile{DomainName: "d", ID: "p1"}
	if err := rowcodec.DecodeProfile(got, b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	if got, want := rowcodec.ProfileSize(p), int64(len("FirstNameAnnAddress.CityLyonAttributes.tiergold")); got != want {
		t.Errorf("ProfileSize=%d, want %d", got, want)
	}
	bad := &profiles.Profile{ID: "p2", Fields: map[string]string{"FirstName": "\xff"}}
	if _, err := rowcodec.EncodeProfile(bad); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: err=%v, want a refusal naming UTF-8", err)
	}
}

func TestSettingsAndObjectTypeRoundTrip(t *testing.T) {
	level, score := 3, 0.75
	d := &profiles.Domain{Name: "d",
		Matching: &profiles.MatchingSettings{Enabled: true, JobSchedule: &profiles.JobSchedule{DayOfTheWeek: "MONDAY", Time: "03:30"},
			AutoMerging: &profiles.AutoMerging{Enabled: true, MinAllowedConfidenceScoreForMerging: &score,
				Consolidation: &profiles.Consolidation{MatchingAttributesList: [][]string{{"EmailAddress"}}}}},
		RuleBasedMatching: &profiles.RuleBasedMatchingSettings{Enabled: true, Status: "ACTIVE", MatchingRules: [][]string{{"EmailAddress"}}, MaxAllowedRuleLevelForMerging: &level},
		DataStore:         &profiles.DataStoreSettings{Enabled: true}}
	text, err := rowcodec.EncodeSettings(d)
	if err != nil {
		t.Fatal(err)
	}
	got := &profiles.Domain{Name: "d"}
	if err := rowcodec.DecodeSettings(got, text); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Fatalf("settings round trip (-want +got):\n%s", diff)
	}

	ot := &profiles.ObjectType{Description: "contacts", AllowProfileCreation: true, ExpirationDays: 30, SourcePriority: 1,
		Fields: map[string]profiles.ObjectTypeField{"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: "EMAIL_ADDRESS"}},
		Keys:   map[string][]profiles.ObjectTypeKey{"_email": {{StandardIdentifiers: []string{"PROFILE"}, FieldNames: []string{"email"}}}},
		Tags:   map[string]string{"team": "crm"}}
	data, err := rowcodec.EncodeObjectType(ot)
	if err != nil {
		t.Fatal(err)
	}
	gotOT := &profiles.ObjectType{}
	if err := rowcodec.DecodeObjectType(gotOT, data); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ot, gotOT); diff != "" {
		t.Fatalf("object type round trip (-want +got):\n%s", diff)
	}
}

// TestObjectTypeCache: a cached decoding is DecodeObjectType's, keeps the
// row's own fields, and is a copy each time (top-level fields changed by
// one caller are not another's).
func TestObjectTypeCache(t *testing.T) {
	ot := &profiles.ObjectType{Description: "contacts", ExpirationDays: 30,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}},
		Keys:   map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}}}}
	data, err := rowcodec.EncodeObjectType(ot)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, c := range []*rowcodec.ObjectTypeCache{rowcodec.NewObjectTypeCache(), nil} {
		for i, name := range []string{"a", "b"} {
			got := &profiles.ObjectType{DomainName: "d", Name: name, CreatedAt: at, LastUpdatedAt: at}
			if err := c.Decode(got, data); err != nil {
				t.Fatal(err)
			}
			want := *ot
			want.DomainName, want.Name, want.CreatedAt, want.LastUpdatedAt = "d", name, at, at
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Fatalf("decoding %d (cache %v) (-want +got):\n%s", i, c != nil, diff)
			}
			got.Description = "changed by a caller"
		}
	}
	err = rowcodec.NewObjectTypeCache().Decode(&profiles.ObjectType{DomainName: "d", Name: "broken"}, "{")
	if err == nil || !strings.Contains(err.Error(), `"broken"`) {
		t.Fatalf("Decode of bad data = %v, want an error naming the type", err)
	}
}
