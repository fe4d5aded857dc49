package templates_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openprofiles/profiles/mapping"
	"github.com/openprofiles/profiles/templates"
)

// TestMappingValidate runs the mapping engine's checks on every template.
func TestMappingValidate(t *testing.T) {
	for _, tpl := range templates.All() {
		if err := mapping.Validate(&tpl.ObjectType); err != nil {
			t.Errorf("%s: Validate() = %v", tpl.ID, err)
		}
	}
}

// TestMappingSamples maps every template's sample with the mapping engine
// and checks the keys it yields, the profile fields and the timestamp.
func TestMappingSamples(t *testing.T) {
	type key struct {
		Value string
		IDs   string // identifiers joined with " "
	}
	const (
		ctrVoice = "6a2f0c1e-5b7d-4e93-8c4a-1f2d3e4b5c6d"
		ctrEmail = "0f1e2d3c-4b5a-4697-8877-665544332211"
		ctrIVR   = "c3b2a190-8f7e-4d6c-b5a4-938271605f4e"
	)
	tests := map[string]struct {
		keys                   map[string]key
		firstPhone, firstEmail string // Result.FirstPhone, FirstEmail
	}{
		// Voice: the caller's number is _phone; no _email from a phone number.
		"CTR": {keys: map[string]key{
			"_ctrContactId": {ctrVoice, "PROFILE UNIQUE"},
			"_phone":        {"+447700900123", "PROFILE SECONDARY"},
		}, firstPhone: "+447700900123"},
		// Email contact: the address is _email; no _phone from its digits.
		"CTR-NoInferred": {keys: map[string]key{
			"_ctrContactId": {ctrEmail, "PROFILE UNIQUE"},
			"_email":        {"dana.whitfield42@example.com", "PROFILE SECONDARY"},
		}, firstEmail: "dana.whitfield42@example.com"},
		"CTR-AutoAssociateOnly": {keys: map[string]key{
			"_ctrContactId": {ctrIVR, "PROFILE UNIQUE"},
			"_phone":        {"+14155550187", "PROFILE SECONDARY LOOKUP_ONLY"},
		}, firstPhone: "+14155550187"},
		"Salesforce-Account": {keys: map[string]key{
			"_salesforceAccountId": {"0015g00000XyZ12AAB", "PROFILE UNIQUE"},
		}, firstPhone: "+64 4 555 0177", firstEmail: "priya.raman@example.net"},
		"Salesforce-Contact": {keys: map[string]key{
			"_salesforceContactId": {"0035g00000Kj8mQAAR", "PROFILE UNIQUE"},
			"_salesforceAccountId": {"0015g00000Lm3nPAAR", ""},
		}, firstPhone: "+48 58 555 09 87", firstEmail: "t.kowalczyk@example.pl"},
		"Salesforce-Asset": {keys: map[string]key{
			"_salesforceAssetId":   {"02i5g00000Q7wXyAAF", "UNIQUE ASSET"},
			"_salesforceContactId": {"0035g00000Kj8mQAAR", "PROFILE"},
			"_salesforceAccountId": {"0015g00000Lm3nPAAR", "PROFILE SECONDARY"},
		}},
		"Zendesk-users": {keys: map[string]key{
			"_zendeskUserId":     {"9876543210123", "PROFILE UNIQUE"},
			"_zendeskExternalId": {"cust-004417", "PROFILE SECONDARY"},
		}, firstPhone: "+44 20 7946 0321", firstEmail: "amara.okafor@example.com"},
		"Zendesk-tickets": {keys: map[string]key{
			"_zendeskTicketId": {"48213", "UNIQUE CASE"},
			"_zendeskUserId":   {"9876543210123", "PROFILE"},
		}},
		"ServiceNow-sys_user": {keys: map[string]key{
			"_serviceNowSystemId": {"62826bf03710200044e0bfc8bcbe5df1", "PROFILE UNIQUE"},
		}, firstPhone: "+1 858 555 0102", firstEmail: "luis.ortega@example.com"},
		// The caller's and the opener's sys_id, not the link to their record.
		"ServiceNow-incident": {keys: map[string]key{
			"_serviceNowIncidentId": {"9d385017c611228701d22104cc95c371", "UNIQUE CASE"},
			"_serviceNowSystemId":   {"62826bf03710200044e0bfc8bcbe5df1", "PROFILE"},
		}},
		"ServiceNow-task": {keys: map[string]key{
			"_serviceNowTaskId":   {"1c741bd70b2322007518478d83673af3", "UNIQUE CASE"},
			"_serviceNowSystemId": {"62826bf03710200044e0bfc8bcbe5df1", "PROFILE"},
		}},
		"Marketo-leads": {keys: map[string]key{
			"_marketoLeadId":       {"318581", "PROFILE UNIQUE"},
			"_salesforceContactId": {"0035g00000Gh8IjKAL", "PROFILE SECONDARY"},
			"_salesforceAccountId": {"0015g00000Ab7CdEAF", ""},
		}, firstPhone: "+49 151 5550 9876", firstEmail: "hannah.becker@example.de"},
		"Segment-Identify": {keys: map[string]key{
			"_segmentUserId": {"usr_7Qm2Lx90Ze", "PROFILE UNIQUE"},
		}, firstPhone: "+61 3 5550 4412", firstEmail: "oliver.tan@example.com.au"},
		"Shopify-Customer": {keys: map[string]key{
			"_shopifyCustomerId": {"7290485112863", "PROFILE UNIQUE"},
		}, firstPhone: "+16135550147", firstEmail: "sofia.marquez@example.com"},
		"Shopify-Order": {keys: map[string]key{
			"_shopifyOrderId":    {"5820193743135", "UNIQUE ORDER"},
			"_shopifyCustomerId": {"7290485112863", "PROFILE"},
		}},
		"Shopify-DraftOrder": {keys: map[string]key{
			"_shopifyOrderId":    {"1094867025951", "UNIQUE ORDER"},
			"_shopifyCustomerId": {"7290485112863", "PROFILE"},
			"_email":             {"sofia.marquez@example.com", "PROFILE SECONDARY LOOKUP_ONLY"},
		}, firstEmail: "sofia.marquez@example.com"},
	}
	for _, tpl := range templates.All() {
		t.Run(tpl.ID, func(t *testing.T) {
			want, ok := tests[tpl.ID]
			if !ok {
				t.Fatal("no expectation")
			}
			raw, err := os.ReadFile(filepath.Join("testdata", tpl.ID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := mapping.Map(&tpl.ObjectType, raw)
			if err != nil {
				t.Fatalf("Map() = %v", err)
			}
			got := map[string]key{}
			for _, k := range res.Keys {
				if _, dup := got[k.Name]; dup {
					t.Errorf("key %s has several values", k.Name)
				}
				got[k.Name] = key{k.Value, strings.Join(k.Identifiers, " ")}
			}
			if !reflect.DeepEqual(got, want.keys) {
				t.Errorf("keys = %v, want %v", got, want.keys)
			}
			if res.FirstPhone != want.firstPhone || res.FirstEmail != want.firstEmail {
				t.Errorf("FirstPhone, FirstEmail = %q, %q, want %q, %q", res.FirstPhone, res.FirstEmail, want.firstPhone, want.firstEmail)
			}

			// Every targeted field present in the sample reaches the profile.
			sample := mustSample(t, tpl.ID)
			for name, f := range tpl.ObjectType.Fields {
				if f.Target == "" {
					continue
				}
				v, _ := lookup(sample, strings.TrimPrefix(f.Source, "_source."))
				path := strings.TrimPrefix(f.Target, "_profile.")
				if got := res.Fields[path]; got != scalar(v) {
					t.Errorf("field %s: Fields[%s] = %q, want %q", name, path, got, scalar(v))
				}
			}

			ts := tpl.ObjectType.Fields["_sourceLastUpdatedTimestamp"].Source
			v, _ := lookup(sample, strings.TrimPrefix(ts, "_source."))
			wantTS, err := parseTime(tpl.ObjectType.SourceLastUpdatedTimestampFormat, scalar(v))
			if err != nil {
				t.Fatal(err)
			}
			if !res.SourceLastUpdated.Equal(wantTS) || res.SourceLastUpdated.IsZero() {
				t.Errorf("SourceLastUpdated = %v, want %v", res.SourceLastUpdated, wantTS)
			}
		})
	}
}
