package templates_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/templates"
)

// required are the template ids OpenProfiles must ship; optional may be
// shipped too. Nothing else may.
var (
	required = []string{
		"CTR", "CTR-NoInferred", "CTR-AutoAssociateOnly",
		"Salesforce-Account", "Salesforce-Contact",
		"Zendesk-users", "ServiceNow-sys_user", "Marketo-leads",
		"Segment-Identify", "Shopify-Customer",
	}
	optional = []string{
		"Salesforce-Asset", "Zendesk-tickets", "ServiceNow-task", "ServiceNow-incident",
		"Shopify-Order", "Shopify-DraftOrder",
	}
)

// standardKeys are the predefined key names templates may use.
var standardKeys = []string{
	"_ctrContactId", "_phone", "_email",
	"_salesforceAccountId", "_salesforceContactId", "_salesforceAssetId",
	"_zendeskUserId", "_zendeskExternalId", "_zendeskTicketId",
	"_serviceNowSystemId", "_serviceNowTaskId", "_serviceNowIncidentId",
	"_marketoLeadId", "_segmentUserId",
	"_shopifyCustomerId", "_shopifyOrderId",
}

var (
	fieldNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	keyNameRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	attrNameRE  = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	pathRE      = regexp.MustCompile(`^_source(\.[^.{}\s]+)+$`)
	placeRE     = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
)

var contentTypes = []string{
	profiles.ContentString, profiles.ContentNumber, profiles.ContentPhone,
	profiles.ContentEmail, profiles.ContentName,
}

var identifiers = []string{
	profiles.IdentifierProfile, profiles.IdentifierUnique, profiles.IdentifierSecondary,
	profiles.IdentifierLookupOnly, profiles.IdentifierNewOnly,
	profiles.IdentifierAsset, profiles.IdentifierCase, profiles.IdentifierOrder,
}

func TestIDs(t *testing.T) {
	all := templates.All()
	var ids []string
	for _, tpl := range all {
		ids = append(ids, tpl.ID)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("All() ids not sorted: %q", ids)
	}
	if c := slices.Compact(slices.Clone(ids)); len(c) != len(ids) {
		t.Errorf("All() has duplicate ids: %q", ids)
	}
	for _, id := range required {
		if !slices.Contains(ids, id) {
			t.Errorf("required template %q missing", id)
		}
	}
	for _, id := range ids {
		if !slices.Contains(required, id) && !slices.Contains(optional, id) {
			t.Errorf("unexpected template %q", id)
		}
	}
}

// TestKeys pins the keys of every template: name → identifiers, in the
// files' order, and the profile-creation flag.
func TestKeys(t *testing.T) {
	type keys map[string][]string
	ctr := func(allow bool, contact []string) struct {
		allow bool
		keys  keys
	} {
		return struct {
			allow bool
			keys  keys
		}{allow, keys{"_ctrContactId": {"PROFILE", "UNIQUE"}, "_phone": contact, "_email": contact}}
	}
	tests := map[string]struct {
		allow bool
		keys  keys
	}{
		"CTR":                   ctr(true, []string{"PROFILE", "SECONDARY"}),
		"CTR-NoInferred":        ctr(true, []string{"PROFILE", "SECONDARY"}),
		"CTR-AutoAssociateOnly": ctr(false, []string{"PROFILE", "SECONDARY", "LOOKUP_ONLY"}),
		"Salesforce-Account":    {true, keys{"_salesforceAccountId": {"PROFILE", "UNIQUE"}}},
		"Salesforce-Contact":    {true, keys{"_salesforceContactId": {"PROFILE", "UNIQUE"}, "_salesforceAccountId": {}}},
		"Salesforce-Asset": {false, keys{
			"_salesforceAssetId":   {"UNIQUE", "ASSET"},
			"_salesforceContactId": {"PROFILE"},
			"_salesforceAccountId": {"PROFILE", "SECONDARY"},
		}},
		"Zendesk-users":       {true, keys{"_zendeskUserId": {"PROFILE", "UNIQUE"}, "_zendeskExternalId": {"PROFILE", "SECONDARY"}}},
		"Zendesk-tickets":     {false, keys{"_zendeskTicketId": {"UNIQUE", "CASE"}, "_zendeskUserId": {"PROFILE"}}},
		"ServiceNow-sys_user": {true, keys{"_serviceNowSystemId": {"PROFILE", "UNIQUE"}}},
		"ServiceNow-task":     {false, keys{"_serviceNowTaskId": {"UNIQUE", "CASE"}, "_serviceNowSystemId": {"PROFILE"}}},
		"ServiceNow-incident": {false, keys{"_serviceNowIncidentId": {"UNIQUE", "CASE"}, "_serviceNowSystemId": {"PROFILE"}}},
		"Marketo-leads": {true, keys{
			"_marketoLeadId":       {"PROFILE", "UNIQUE"},
			"_salesforceContactId": {"PROFILE", "SECONDARY"},
			"_salesforceAccountId": {},
		}},
		"Segment-Identify": {true, keys{"_segmentUserId": {"PROFILE", "UNIQUE"}}},
		"Shopify-Customer": {true, keys{"_shopifyCustomerId": {"PROFILE", "UNIQUE"}}},
		"Shopify-Order":    {false, keys{"_shopifyOrderId": {"UNIQUE", "ORDER"}, "_shopifyCustomerId": {"PROFILE"}}},
		"Shopify-DraftOrder": {false, keys{
			"_shopifyOrderId":    {"UNIQUE", "ORDER"},
			"_shopifyCustomerId": {"PROFILE"},
			"_email":             {"PROFILE", "SECONDARY", "LOOKUP_ONLY"},
		}},
	}
	for _, tpl := range templates.All() {
		want, ok := tests[tpl.ID]
		if !ok {
			t.Errorf("%s: no expectation", tpl.ID)
			continue
		}
		if got := tpl.ObjectType.AllowProfileCreation; got != want.allow {
			t.Errorf("%s: AllowProfileCreation = %v, want %v", tpl.ID, got, want.allow)
		}
		got := keys{}
		for name, defs := range tpl.ObjectType.Keys {
			for _, d := range defs {
				got[name] = append(got[name], d.StandardIdentifiers...)
			}
			if got[name] == nil {
				got[name] = []string{}
			}
		}
		if !reflect.DeepEqual(got, want.keys) {
			t.Errorf("%s: keys = %v, want %v", tpl.ID, got, want.keys)
		}
	}
}

// TestRules checks every template against the rules of mappings.
func TestRules(t *testing.T) {
	keyContent := map[string]string{} // key name → content type, across templates
	for _, tpl := range templates.All() {
		t.Run(tpl.ID, func(t *testing.T) {
			ot := tpl.ObjectType
			if ot.Name != tpl.ID || ot.TemplateID != tpl.ID {
				t.Errorf("Name, TemplateID = %q, %q, want %q", ot.Name, ot.TemplateID, tpl.ID)
			}
			if tpl.SourceName == "" || tpl.SourceObject == "" {
				t.Errorf("SourceName, SourceObject = %q, %q, want both set", tpl.SourceName, tpl.SourceObject)
			}
			if ot.Description == "" || strings.Contains(ot.Description, "\n") {
				t.Errorf("Description = %q, want one line", ot.Description)
			}
			if len(ot.Fields) == 0 {
				t.Fatal("no fields")
			}
			targets := map[string]string{}
			for name, f := range ot.Fields {
				if f.Target != "" {
					if other, ok := targets[f.Target]; ok {
						t.Errorf("fields %s and %s both target %s", name, other, f.Target)
					}
					targets[f.Target] = name
				}
				if !fieldNameRE.MatchString(name) || len(name) > 64 {
					t.Errorf("field name %q is not valid", name)
				}
				if _, err := sourcePaths(f.Source); err != nil {
					t.Errorf("field %s: %v", name, err)
				}
				if err := checkTarget(f.Target); err != nil {
					t.Errorf("field %s: %v", name, err)
				}
				if !slices.Contains(contentTypes, f.ContentType) {
					t.Errorf("field %s: ContentType %q is not valid", name, f.ContentType)
				}
			}
			if f, ok := ot.Fields["_sourceLastUpdatedTimestamp"]; !ok {
				t.Error("no _sourceLastUpdatedTimestamp field")
			} else if f.Target != "" {
				t.Errorf("_sourceLastUpdatedTimestamp has Target %q", f.Target)
			}

			if n := len(ot.Keys); n == 0 || n > profiles.MaxKeysPerObjectType {
				t.Errorf("%d keys, want 1..%d", n, profiles.MaxKeysPerObjectType)
			}
			var unique, ties, persistedProfile int
			var lookupOnly bool
			for name, defs := range ot.Keys {
				if !keyNameRE.MatchString(name) {
					t.Errorf("key name %q is not valid", name)
				}
				if !slices.Contains(standardKeys, name) {
					t.Errorf("key %q is not a standard key name", name)
				}
				if len(defs) != 1 {
					t.Errorf("key %s has %d definitions, want 1", name, len(defs))
				}
				for _, d := range defs {
					if len(d.FieldNames) == 0 {
						t.Errorf("key %s has no fields", name)
					}
					for _, fn := range d.FieldNames {
						f, ok := ot.Fields[fn]
						if !ok {
							t.Errorf("key %s: no field %q", name, fn)
							continue
						}
						ct := f.ContentType
						if prev, ok := keyContent[name]; ok && prev != ct {
							t.Errorf("key %s: field %s is %s, another template feeds it %s", name, fn, ct, prev)
						}
						keyContent[name] = ct
					}
					has := func(id string) bool { return slices.Contains(d.StandardIdentifiers, id) }
					for i, id := range d.StandardIdentifiers {
						if !slices.Contains(identifiers, id) {
							t.Errorf("key %s: identifier %q is not valid", name, id)
						}
						if slices.Contains(d.StandardIdentifiers[:i], id) {
							t.Errorf("key %s: identifier %q repeated", name, id)
						}
					}
					if has("UNIQUE") {
						unique++
						if has("LOOKUP_ONLY") || has("SECONDARY") || has("NEW_ONLY") {
							t.Errorf("key %s: UNIQUE with %v", name, d.StandardIdentifiers)
						}
					}
					if has("PROFILE") || has("ASSET") || has("CASE") || has("ORDER") {
						ties++
					}
					if has("PROFILE") && !has("LOOKUP_ONLY") {
						persistedProfile++
					}
					if has("LOOKUP_ONLY") {
						lookupOnly = true
					}
					for _, mod := range []string{"SECONDARY", "LOOKUP_ONLY", "NEW_ONLY"} {
						if has(mod) && !has("PROFILE") {
							t.Errorf("key %s: %s without PROFILE", name, mod)
						}
					}
				}
			}
			if unique != 1 {
				t.Errorf("%d UNIQUE keys, want 1", unique)
			}
			if ties == 0 {
				t.Error("no key ties the object to a profile")
			}
			if lookupOnly && persistedProfile == 0 {
				t.Error("PROFILE+LOOKUP_ONLY without a persisted PROFILE key")
			}
		})
	}
	for name, want := range map[string]string{"_phone": profiles.ContentPhone, "_email": profiles.ContentEmail} {
		if got, ok := keyContent[name]; ok && got != want {
			t.Errorf("key %s is fed %s, want %s", name, got, want)
		}
	}
}

// TestSamples reads each template's realistic sample record and checks that
// every path the template reads is there, so the field names are the
// source's real ones, and that the last-updated timestamp parses with the
// template's format.
func TestSamples(t *testing.T) {
	for _, tpl := range templates.All() {
		t.Run(tpl.ID, func(t *testing.T) {
			sample := mustSample(t, tpl.ID)
			ot := tpl.ObjectType
			for name, f := range ot.Fields {
				paths, err := sourcePaths(f.Source)
				if err != nil {
					t.Fatalf("field %s: %v", name, err)
				}
				for _, p := range paths {
					v, ok := lookup(sample, p)
					if !ok || v == nil {
						t.Errorf("field %s: %s not in the sample", name, p)
						continue
					}
					switch v.(type) {
					case string, json.Number, bool:
					default:
						t.Errorf("field %s: %s is not a scalar: %v", name, p, v)
					}
				}
			}

			ts := ot.Fields["_sourceLastUpdatedTimestamp"].Source
			v, _ := lookup(sample, strings.TrimPrefix(ts, "_source."))
			s, _ := v.(string)
			if _, err := parseTime(ot.SourceLastUpdatedTimestampFormat, s); err != nil {
				t.Errorf("timestamp %q does not parse with %q: %v", s, ot.SourceLastUpdatedTimestampFormat, err)
			}

			// Values of typed fields look like what they claim to be,
			// except where a contact record reads one endpoint twice.
			sources := map[string]int{}
			for _, f := range ot.Fields {
				sources[f.Source]++
			}
			for name, f := range ot.Fields {
				if sources[f.Source] > 1 {
					continue
				}
				v, _ := lookup(sample, strings.TrimPrefix(f.Source, "_source."))
				s := scalar(v)
				switch f.ContentType {
				case profiles.ContentEmail:
					if !strings.Contains(s, "@") {
						t.Errorf("field %s: %q is not an email address", name, s)
					}
				case profiles.ContentPhone:
					if digits(s) < 7 || strings.Contains(s, "@") {
						t.Errorf("field %s: %q is not a phone number", name, s)
					}
				}
			}
		})
	}
}

func TestGet(t *testing.T) {
	all := templates.All()
	for _, want := range all {
		got, ok := templates.Get(want.ID)
		if !ok {
			t.Errorf("Get(%q) not found", want.ID)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Get(%q) = %+v, want %+v", want.ID, got, want)
		}
	}
	for _, id := range []string{"", "ctr", "Nope", "Salesforce-Lead", "CTR "} {
		if got, ok := templates.Get(id); ok || got != nil {
			t.Errorf("Get(%q) = %v, %v, want nil, false", id, got, ok)
		}
	}
}

// TestCopies mutates what All and Get return and checks the next calls do
// not see it.
func TestCopies(t *testing.T) {
	before := templates.All()
	for _, tpl := range templates.All() {
		tpl.ID = "x"
		tpl.ObjectType.Name = "x"
		tpl.ObjectType.AllowProfileCreation = !tpl.ObjectType.AllowProfileCreation
		for name, f := range tpl.ObjectType.Fields {
			f.Source = "_source.x"
			tpl.ObjectType.Fields[name] = f
		}
		tpl.ObjectType.Fields["extra"] = profiles.ObjectTypeField{Source: "_source.extra"}
		for name, defs := range tpl.ObjectType.Keys {
			for i := range defs {
				if len(defs[i].StandardIdentifiers) > 0 {
					defs[i].StandardIdentifiers[0] = "x"
				}
				defs[i].FieldNames[0] = "x"
				defs[i].StandardIdentifiers = append(defs[i].StandardIdentifiers, "y")
			}
			delete(tpl.ObjectType.Keys, name)
		}
	}
	got, _ := templates.Get("CTR")
	got.ObjectType.Keys["_phone"][0].StandardIdentifiers[0] = "x"
	delete(got.ObjectType.Fields, "contactId")

	if after := templates.All(); !reflect.DeepEqual(after, before) {
		t.Error("All() changed after its results were mutated")
	}
	again, _ := templates.Get("CTR")
	if again.ObjectType.Keys["_phone"][0].StandardIdentifiers[0] != "PROFILE" {
		t.Error("Get() changed after its result was mutated")
	}
	if _, ok := again.ObjectType.Fields["contactId"]; !ok {
		t.Error("Get() lost a field after its result was mutated")
	}
}

// TestJSON checks templates serialise with lists, never null, for keys.
func TestJSON(t *testing.T) {
	for _, tpl := range templates.All() {
		b, err := json.Marshal(tpl.ObjectType.Keys)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("null")) {
			t.Errorf("%s: keys serialise with null: %s", tpl.ID, b)
		}
	}
}

// sourcePaths returns the dot paths (without "_source.") that a Source
// reads: one for a path, one per placeholder for a template.
func sourcePaths(src string) ([]string, error) {
	if !strings.Contains(src, "{{") {
		if !pathRE.MatchString(src) {
			return nil, fmt.Errorf("Source %q is not a _source path", src)
		}
		return []string{strings.TrimPrefix(src, "_source.")}, nil
	}
	var paths []string
	for _, m := range placeRE.FindAllStringSubmatch(src, -1) {
		if !pathRE.MatchString(m[1]) {
			return nil, fmt.Errorf("Source %q: placeholder %q is not a _source path", src, m[1])
		}
		paths = append(paths, strings.TrimPrefix(m[1], "_source."))
	}
	if len(paths) == 0 || strings.Count(src, "{{") != len(paths) || strings.Count(src, "}}") != len(paths) {
		return nil, fmt.Errorf("Source %q is not a valid template", src)
	}
	return paths, nil
}

// checkTarget reports whether target is empty or a valid profile path.
func checkTarget(target string) error {
	if target == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(target, "_profile.")
	if !ok {
		return fmt.Errorf("Target %q is not under _profile", target)
	}
	if slices.Contains(profiles.StandardFields, rest) {
		return nil
	}
	kind, field, ok := strings.Cut(rest, ".")
	switch {
	case ok && kind == "Attributes" && attrNameRE.MatchString(field):
		return nil
	case ok && slices.Contains(profiles.AddressKinds, kind) && slices.Contains(profiles.AddressFields, field):
		return nil
	}
	return fmt.Errorf("Target %q is not a profile field", target)
}

// lookup walks a dot path through decoded JSON; numeric segments index arrays.
func lookup(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// parseTime parses s with a Java DateTimeFormatter pattern, or as RFC 3339
// when the pattern is empty. It knows the letters the templates use.
func parseTime(pattern, s string) (time.Time, error) {
	if pattern == "" {
		return time.Parse(time.RFC3339Nano, s)
	}
	var layout strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			end := strings.IndexByte(pattern[i+1:], '\'')
			if end < 0 {
				return time.Time{}, fmt.Errorf("unterminated quote in %q", pattern)
			}
			layout.WriteString(pattern[i+1 : i+1+end])
			i += end + 2
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		tok := pattern[i : i+n]
		i += n
		switch tok {
		case "yyyy", "uuuu":
			layout.WriteString("2006")
		case "MM":
			layout.WriteString("01")
		case "dd":
			layout.WriteString("02")
		case "HH":
			layout.WriteString("15")
		case "mm":
			layout.WriteString("04")
		case "ss":
			layout.WriteString("05")
		case "SSS":
			layout.WriteString("000")
		case "Z":
			layout.WriteString("-0700")
		case "XXX":
			layout.WriteString("Z07:00")
		default:
			if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
				return time.Time{}, fmt.Errorf("pattern letters %q not supported", tok)
			}
			layout.WriteString(tok)
		}
	}
	return time.Parse(layout.String(), s)
}

// mustSample decodes testdata/<id>.json, numbers as json.Number.
func mustSample(tb testing.TB, id string) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", id+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("%s: %v", id, err)
	}
	return v
}
