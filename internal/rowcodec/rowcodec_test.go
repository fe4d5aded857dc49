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
