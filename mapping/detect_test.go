package mapping_test

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// wantKey is one expected key: its identifiers and the sources of its fields.
type wantKey struct {
	ids     []string
	sources []string
}

func TestDetect_Samples(t *testing.T) {
	for _, tt := range []struct {
		file       string
		keys       map[string]wantKey
		targets    map[string]string // source → target ("" for key-only)
		format     string
		timestamp  string            // source of _sourceLastUpdatedTimestamp
		types      map[string]string // source → content type
		notTargets []string          // sources that must not get a field
	}{
		{
			file: "crm-contact.json",
			keys: map[string]wantKey{
				"Id":     {[]string{"UNIQUE"}, []string{"_source.Id"}},
				"_email": {[]string{"PROFILE"}, []string{"_source.Email"}},
				"_phone": {[]string{"PROFILE"}, []string{"_source.Phone"}},
			},
			targets: map[string]string{
				"_source.Id":                "",
				"_source.FirstName":         "_profile.FirstName",
				"_source.LastName":          "_profile.LastName",
				"_source.Email":             "_profile.EmailAddress",
				"_source.Phone":             "_profile.PhoneNumber",
				"_source.MobilePhone":       "_profile.MobilePhoneNumber",
				"_source.Fax":               "_profile.Attributes.Fax",
				"_source.Birthdate":         "_profile.BirthDate",
				"_source.MailingStreet":     "_profile.MailingAddress.Address1",
				"_source.MailingCity":       "_profile.MailingAddress.City",
				"_source.MailingState":      "_profile.MailingAddress.State",
				"_source.MailingPostalCode": "_profile.MailingAddress.PostalCode",
				"_source.MailingCountry":    "_profile.MailingAddress.Country",
				"_source.AccountId":         "_profile.Attributes.AccountId",
				"_source.Title":             "_profile.Attributes.Title",
				"_source.attributes.type":   "_profile.Attributes.attributes_type",
			},
			format:    "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
			timestamp: "_source.LastModifiedDate",
			types: map[string]string{
				"_source.FirstName":            profiles.ContentName,
				"_source.Email":                profiles.ContentEmail,
				"_source.Phone":                profiles.ContentPhone,
				"_source.Fax":                  profiles.ContentPhone,
				"_source.NumberOfEmployees__c": profiles.ContentNumber,
			},
		},
		{
			file: "shopify-customer.json",
			keys: map[string]wantKey{
				"id":     {[]string{"UNIQUE"}, []string{"_source.id"}},
				"_email": {[]string{"PROFILE"}, []string{"_source.email"}},
				"_phone": {[]string{"PROFILE"}, []string{"_source.phone"}},
			},
			targets: map[string]string{
				"_source.id":                       "",
				"_source.first_name":               "_profile.FirstName",
				"_source.last_name":                "_profile.LastName",
				"_source.email":                    "_profile.EmailAddress",
				"_source.phone":                    "_profile.PhoneNumber",
				"_source.state":                    "_profile.Attributes.state",
				"_source.orders_count":             "_profile.Attributes.orders_count",
				"_source.default_address.address1": "_profile.Address.Address1",
				"_source.default_address.address2": "_profile.Address.Address2",
				"_source.default_address.city":     "_profile.Address.City",
				"_source.default_address.province": "_profile.Address.Province",
				"_source.default_address.country":  "_profile.Address.Country",
				"_source.default_address.zip":      "_profile.Address.PostalCode",
				"_source.default_address.company":  "_profile.BusinessName",
				"_source.default_address.id":       "_profile.Attributes.default_address_id",
				"_source.addresses.0.city":         "_profile.Attributes.addresses_0_city",
			},
			format:     "yyyy-MM-dd'T'HH:mm:ssXXX",
			timestamp:  "_source.updated_at",
			types:      map[string]string{"_source.orders_count": profiles.ContentNumber, "_source.id": profiles.ContentString},
			notTargets: []string{"_source.note.x", "_source.multipass_identifier"},
		},
		{
			file: "zendesk-user.json",
			keys: map[string]wantKey{
				"id":     {[]string{"UNIQUE"}, []string{"_source.id"}},
				"_email": {[]string{"PROFILE"}, []string{"_source.email"}},
				"_phone": {[]string{"PROFILE"}, []string{"_source.phone"}},
			},
			targets: map[string]string{
				"_source.id":                       "",
				"_source.name":                     "_profile.Attributes.name",
				"_source.email":                    "_profile.EmailAddress",
				"_source.phone":                    "_profile.PhoneNumber",
				"_source.external_id":              "_profile.Attributes.external_id",
				"_source.organization_id":          "_profile.Attributes.organization_id",
				"_source.user_fields.birthday":     "_profile.BirthDate",
				"_source.user_fields.loyalty_tier": "_profile.Attributes.loyalty_tier",
				"_source.time_zone":                "_profile.Attributes.time_zone",
			},
			format:     "yyyy-MM-dd'T'HH:mm:ssXXX",
			timestamp:  "_source.updated_at",
			types:      map[string]string{"_source.name": profiles.ContentName},
			notTargets: []string{"_source.tags.0", "_source.photo"},
		},
	} {
		t.Run(tt.file, func(t *testing.T) {
			samples := MustReadSamples(t, filepath.Join("testdata", "detect", tt.file))
			ot, err := mapping.Detect(samples)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			t.Cleanup(func() {
				if t.Failed() {
					b, _ := json.MarshalIndent(ot, "", "  ")
					t.Logf("proposal:\n%s", b)
				}
			})
			if err := mapping.Validate(ot); err != nil {
				t.Fatalf("Validate(proposal) = %v, want nil", err)
			}
			CheckFieldNames(t, ot)

			bySource := map[string]string{} // source → field name
			for name, f := range ot.Fields {
				bySource[f.Source] = name
			}
			if got, want := len(ot.Keys), len(tt.keys); got != want {
				t.Errorf("keys = %v, want %d keys", slices.Sorted(maps.Keys(ot.Keys)), want)
			}
			for name, want := range tt.keys {
				defs := ot.Keys[name]
				if len(defs) != 1 {
					t.Errorf("key %q has %d definitions, want 1", name, len(defs))
					continue
				}
				if got := defs[0].StandardIdentifiers; !slices.Equal(got, want.ids) {
					t.Errorf("key %q identifiers = %v, want %v", name, got, want.ids)
				}
				var sources []string
				for _, f := range defs[0].FieldNames {
					sources = append(sources, ot.Fields[f].Source)
				}
				if !slices.Equal(sources, want.sources) {
					t.Errorf("key %q sources = %v, want %v", name, sources, want.sources)
				}
			}
			for src, want := range tt.targets {
				name, ok := bySource[src]
				if !ok {
					t.Errorf("no field reads %s", src)
					continue
				}
				if got := ot.Fields[name].Target; got != want {
					t.Errorf("field %q (%s) target = %q, want %q", name, src, got, want)
				}
			}
			for src, want := range tt.types {
				if got := ot.Fields[bySource[src]].ContentType; got != want {
					t.Errorf("field reading %s content type = %q, want %q", src, got, want)
				}
			}
			for _, src := range tt.notTargets {
				if name, ok := bySource[src]; ok {
					t.Errorf("field %q reads %s, want no field", name, src)
				}
			}
			if got := ot.SourceLastUpdatedTimestampFormat; got != tt.format {
				t.Errorf("SourceLastUpdatedTimestampFormat = %q, want %q", got, tt.format)
			}
			if got := ot.Fields["_sourceLastUpdatedTimestamp"].Source; got != tt.timestamp {
				t.Errorf("_sourceLastUpdatedTimestamp source = %q, want %q", got, tt.timestamp)
			}

			// The proposal maps its own samples: a UNIQUE key and a time each.
			for i, s := range samples {
				res, err := mapping.Map(ot, s)
				if err != nil {
					t.Fatalf("Map(sample %d): %v", i+1, err)
				}
				if !slices.ContainsFunc(res.Keys, func(k mapping.Key) bool { return slices.Contains(k.Identifiers, "UNIQUE") }) {
					t.Errorf("Map(sample %d) keys = %v, want a UNIQUE key", i+1, res.Keys)
				}
				if res.SourceLastUpdated.IsZero() {
					t.Errorf("Map(sample %d) SourceLastUpdated is zero", i+1)
				}
			}
		})
	}
}

func TestDetect_Fallbacks(t *testing.T) {
	for _, tt := range []struct {
		name    string
		samples []string
		keys    map[string][]string // key name → identifiers
		format  string
	}{
		{"IdOnlyKeyIsAlsoProfile", []string{`{"uuid": "u1", "tier": "gold"}`, `{"uuid": "u2", "tier": "gold"}`},
			map[string][]string{"uuid": {"UNIQUE", "PROFILE"}}, ""},
		{"EmailIsUnique", []string{`{"mail": "a@example.com", "tier": "gold"}`, `{"mail": "b@example.com", "tier": "gold"}`},
			map[string][]string{"_email": {"PROFILE", "UNIQUE"}}, ""},
		{"PhoneIsUnique", []string{`{"email": "a@example.com", "mobile": "+1 555 010 0001"}`, `{"email": "a@example.com", "mobile": "+1 555 010 0002"}`},
			map[string][]string{"_email": {"PROFILE"}, "_phone": {"PROFILE", "UNIQUE"}}, ""},
		{"FirstDistinctField", []string{`{"kind": "x", "code": "A1"}`, `{"kind": "x", "code": "A2"}`},
			map[string][]string{"code": {"UNIQUE", "PROFILE"}}, ""},
		{"IdMissingInOneSampleIsNotUnique", []string{`{"id": "1", "email": "a@example.com"}`, `{"email": "b@example.com"}`},
			map[string][]string{"_email": {"PROFILE", "UNIQUE"}}, ""},
		{"RepeatedIdIsNotUnique", []string{`{"customerId": "1", "orderId": "o1"}`, `{"customerId": "1", "orderId": "o2"}`},
			map[string][]string{"orderId": {"UNIQUE", "PROFILE"}}, ""},
		{"EpochTimestamp", []string{`{"id": 1, "updatedAt": 1709660730250}`, `{"id": 2, "updatedAt": 1709660731000}`},
			map[string][]string{"id": {"UNIQUE", "PROFILE"}}, ""},
		{"MixedRFC3339", []string{`{"id": 1, "modified": "2024-03-05T17:45:30Z"}`, `{"id": 2, "modified": "2024-03-05T17:45:30.123456789+01:00"}`},
			map[string][]string{"id": {"UNIQUE", "PROFILE"}}, "yyyy-MM-dd'T'HH:mm:ssXXX"},
		{"SQLTimestamp", []string{`{"id": 1, "last_updated": "2024-03-05 17:45:30"}`},
			map[string][]string{"id": {"UNIQUE", "PROFILE"}}, "yyyy-MM-dd HH:mm:ss"},
		{"RFCNameTimestamp", []string{`{"id": 1, "dateModified": "Tue, 05 Mar 2024 17:45:30 GMT"}`},
			map[string][]string{"id": {"UNIQUE", "PROFILE"}}, "EEE, dd MMM yyyy HH:mm:ss z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var samples [][]byte
			for _, s := range tt.samples {
				samples = append(samples, []byte(s))
			}
			ot, err := mapping.Detect(samples)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			got := map[string][]string{}
			for name, defs := range ot.Keys {
				got[name] = defs[0].StandardIdentifiers
			}
			if !maps.EqualFunc(got, tt.keys, slices.Equal) {
				t.Errorf("keys = %v, want %v", got, tt.keys)
			}
			if got := ot.SourceLastUpdatedTimestampFormat; got != tt.format {
				t.Errorf("format = %q, want %q", got, tt.format)
			}
			if err := mapping.Validate(ot); err != nil {
				t.Errorf("Validate(proposal) = %v", err)
			}
			for _, s := range samples {
				if _, err := mapping.Map(ot, s); err != nil {
					t.Errorf("Map(%s): %v", s, err)
				}
			}
		})
	}
}

func TestDetect_FieldNames(t *testing.T) {
	long := strings.Repeat("a", 40)
	obj := `{"id": 1, "` + long + `": {"` + long + `1": "x", "` + long + `2": "y"}, "first name": "Ann", "prix €": 3, "a.b": "skipped", "": "skipped"}`
	ot, err := mapping.Detect([][]byte{[]byte(obj)})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	CheckFieldNames(t, ot)
	var names []string
	for name := range ot.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	wantNames := []string{long + "_" + strings.Repeat("a", 23), long + "_" + strings.Repeat("a", 21) + "_2", "first_name", "id", "prix__"}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("field names = %q, want %q", names, wantNames)
	}
	want := profiles.ObjectTypeField{Source: "_source.first name", Target: "_profile.FirstName", ContentType: profiles.ContentName}
	if got := ot.Fields["first_name"]; got != want {
		t.Errorf("first_name field = %+v, want %+v", got, want)
	}
	if _, err := mapping.Map(ot, []byte(obj)); err != nil {
		t.Errorf("Map: %v", err)
	}
}

func TestDetect_Errors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		samples []string
		want    string
	}{
		{"NoSamples", nil, "At least one sample object is required"},
		{"Array", []string{`{"id": 1}`, `[{"id": 2}]`}, "Object 2 must be a JSON object: got an array"},
		{"String", []string{`"x"`}, "Object 1 must be a JSON object: got a string"},
		{"InvalidJSON", []string{`{"id": }`}, "Object 1 must be a JSON object: invalid character"},
		{"NothingIdentifies", []string{`{"kind": "x"}`, `{"kind": "x"}`}, "No field identifies every sample object"},
		{"NoScalars", []string{`{"a": {"b": null}, "c": []}`}, "No field identifies every sample object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var samples [][]byte
			for _, s := range tt.samples {
				samples = append(samples, []byte(s))
			}
			_, err := mapping.Detect(samples)
			if got, want := profiles.ErrorCode(err), profiles.EINVALID; got != want {
				t.Fatalf("code = %q (%v), want %q", got, err, want)
			}
			if got := profiles.ErrorMessage(err); !strings.Contains(got, tt.want) {
				t.Errorf("message = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

var fieldNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// CheckFieldNames checks the model's pattern on every field name.
func CheckFieldNames(tb testing.TB, ot *profiles.ObjectType) {
	tb.Helper()
	for name := range ot.Fields {
		if !fieldNameRE.MatchString(name) {
			tb.Errorf("field name %q does not match %s", name, fieldNameRE)
		}
	}
}

// MustReadSamples reads a JSON array of sample objects.
func MustReadSamples(tb testing.TB, path string) [][]byte {
	tb.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal(MustReadFile(tb, path), &raw); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	samples := make([][]byte, len(raw))
	for i, r := range raw {
		samples[i] = r
	}
	return samples
}
