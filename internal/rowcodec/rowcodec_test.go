package rowcodec_test

import (
	"encoding/json"
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

// TestProfileDecode_EarlierJSONForm: rows written while the data column was
// JSON decode to the same profile as the binary form.
func TestProfileDecode_EarlierJSONForm(t *testing.T) {
	at := time.UnixMilli(1795687555709).UTC()
	want := &profiles.Profile{DomainName: "d", ID: "p1",
		Fields:  map[string]string{"FirstName": "Ann", "Address.City": "Lyon"},
		Sources: map[string]profiles.FieldSource{"Address.City": {ObjectType: "contact", Priority: 2, UpdatedAt: at}}}
	old := `{"fields":{"Address.City":"Lyon","FirstName":"Ann"},"sources":{"Address.City":{"objectType":"contact","priority":2,"updatedAt":1795687555709}}}`
	got := &profiles.Profile{DomainName: "d", ID: "p1"}
	if err := rowcodec.DecodeProfile(got, []byte(old)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("JSON form (-want +got):\n%s", diff)
	}
	b, err := rowcodec.EncodeProfile(want)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] == '{' {
		t.Fatalf("EncodeProfile wrote the JSON form: %q", b)
	}
}

// TestProfileDecode_Empty: a profile without fields or sources (one made
// through CreateProfile with nothing yet) decodes to nil maps, in both forms.
func TestProfileDecode_Empty(t *testing.T) {
	b, err := rowcodec.EncodeProfile(&profiles.Profile{ID: "p", Fields: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{b, []byte(`{}`)} {
		got := &profiles.Profile{ID: "p"}
		if err := rowcodec.DecodeProfile(got, data); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if got.Fields != nil || got.Sources != nil {
			t.Fatalf("%q: fields %v, sources %v; want none", data, got.Fields, got.Sources)
		}
	}
}

// TestProfileDecode_Corrupt: every truncation of a binary row, a wrong first
// byte and a count larger than the data are errors, never a panic or a
// partial profile.
func TestProfileDecode_Corrupt(t *testing.T) {
	p := &profiles.Profile{ID: "p1", Fields: map[string]string{"FirstName": "Ann", "EmailAddress": "ann@example.com"},
		Sources: map[string]profiles.FieldSource{"FirstName": {ObjectType: "contact", Priority: -1, UpdatedAt: time.UnixMilli(-5)}}}
	b, err := rowcodec.EncodeProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		got := &profiles.Profile{ID: "p1"}
		if err := rowcodec.DecodeProfile(got, b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded without an error: %+v", n, len(b), got)
		}
		if got.Fields != nil || got.Sources != nil {
			t.Fatalf("%d of %d bytes: a partial profile was set", n, len(b))
		}
	}
	for _, data := range [][]byte{append([]byte{0x02}, b[1:]...), {0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}, append(b, 0)} {
		if err := rowcodec.DecodeProfile(&profiles.Profile{ID: "p1"}, data); err == nil || !strings.Contains(err.Error(), `profile "p1"`) {
			t.Fatalf("%x: err=%v, want an error naming the profile", data, err)
		}
	}
	// The round trip keeps negative priorities and times.
	got := &profiles.Profile{ID: "p1"}
	if err := rowcodec.DecodeProfile(got, b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Sources, got.Sources); diff != "" {
		t.Fatalf("sources (-want +got):\n%s", diff)
	}
}

// benchProfile is a profile as ingestion leaves it: a dozen fields, each
// with its source.
func benchProfile() *profiles.Profile {
	at := time.UnixMilli(1795687555709).UTC()
	p := &profiles.Profile{ID: "019abc", Fields: map[string]string{}, Sources: map[string]profiles.FieldSource{}}
	for _, f := range []string{"FirstName", "LastName", "EmailAddress", "PersonalEmailAddress", "PhoneNumber", "MobilePhoneNumber",
		"AccountNumber", "Address.City", "Address.Country", "Address.PostalCode", "Attributes.customerId", "Attributes.tier"} {
		p.Fields[f] = f + "-value-of-some-length"
		p.Sources[f] = profiles.FieldSource{ObjectType: "contact", UpdatedAt: at}
	}
	return p
}

// go test ./internal/rowcodec -bench Profile -benchmem
func BenchmarkProfileEncode(b *testing.B) {
	p := benchProfile()
	for b.Loop() {
		if _, err := rowcodec.EncodeProfile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProfileDecode(b *testing.B) {
	data, err := rowcodec.EncodeProfile(benchProfile())
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkProfileDecodeJSON decodes the earlier JSON form of the same
// profile, for comparison.
func BenchmarkProfileDecodeJSON(b *testing.B) {
	p := benchProfile()
	fields, sources := map[string]any{}, map[string]any{}
	for k, v := range p.Fields {
		fields[k] = v
		sources[k] = map[string]any{"objectType": "contact", "updatedAt": p.Sources[k].UpdatedAt.UnixMilli()}
	}
	data, err := json.Marshal(map[string]any{"fields": fields, "sources": sources})
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// benchDecode decodes the data column data, b.N times.
func benchDecode(b *testing.B, data []byte) {
	for b.Loop() {
		if err := rowcodec.DecodeProfile(&profiles.Profile{}, data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzProfileDecode: any data decodes to a profile or an error, never a
// panic, and a decoded binary profile encodes back to the same profile.
// go test ./internal/rowcodec -fuzz FuzzProfileDecode
func FuzzProfileDecode(f *testing.F) {
	b, err := rowcodec.EncodeProfile(benchProfile())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0x01, 0x00, 0x00})
	f.Add([]byte(`{"fields":{"a":"b"}}`))
	f.Add([]byte{0x01, 0x01, 0x01, 'a', 0x01, 'b', 0x01, 0x01, 'a', 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &profiles.Profile{ID: "p"}
		if err := rowcodec.DecodeProfile(p, data); err != nil || data[0] == '{' {
			return
		}
		again, err := rowcodec.EncodeProfile(p)
		if err != nil {
			return // invalid UTF-8 read back: refused on the way in
		}
		q := &profiles.Profile{ID: "p"}
		if err := rowcodec.DecodeProfile(q, again); err != nil {
			t.Fatalf("re-encoded profile does not decode: %v", err)
		}
		if diff := cmp.Diff(p, q); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
