package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
)

// templateSample decodes the template package's sample record of a
// template, numbers kept as written (Shopify's ids are past 2^53 in
// places, and a float would round them).
func templateSample(t *testing.T, id string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "templates", "testdata", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTemplates_CasesAndOrders puts the records of the case and order
// templates (ServiceNow-incident, ServiceNow-task, Shopify-DraftOrder)
// through the API to the templates' names, with no PutProfileObjectType,
// and checks that each one lands on the profile its source's user or
// customer record made, found by its keys, and never makes a profile.
func TestTemplates_CasesAndOrders(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	// onlyOn checks that the profile found by key=value is want and that
	// it holds n objects of the type.
	onlyOn := func(t *testing.T, key, value, want, objectType string, n int) {
		t.Helper()
		if got := aws.ToString(e.mustOne(key, value).ProfileId); got != want {
			t.Fatalf("%s=%s found profile %s, want %s", key, value, got, want)
		}
		if got := len(e.objects(objectType, want)); got != n {
			t.Fatalf("profile %s holds %d %s objects, want %d", want, got, objectType, n)
		}
	}

	t.Run("ServiceNow", func(t *testing.T) {
		// The caller (the sample's sys_user) and the agent who opened the
		// incident for them both have profiles.
		e.mustPut("ServiceNow-sys_user", templateSample(t, "ServiceNow-sys_user"))
		caller := aws.ToString(e.mustOne("_serviceNowSystemId", "62826bf03710200044e0bfc8bcbe5df1").ProfileId)
		agent := templateSample(t, "ServiceNow-sys_user")
		agent["sys_id"], agent["first_name"], agent["last_name"], agent["email"] = "46d44a23a9fe19810012d100cca80666", "Beth", "Anglin", "beth.anglin@example.com"
		e.mustPut("ServiceNow-sys_user", agent)
		opener := aws.ToString(e.mustOne("_serviceNowSystemId", "46d44a23a9fe19810012d100cca80666").ProfileId)
		if caller == opener {
			t.Fatal("two users share a profile")
		}

		// An incident belongs to its caller (caller_id.value), not to
		// whoever opened it; a later version replaces it there.
		incident := templateSample(t, "ServiceNow-incident")
		e.mustPut("ServiceNow-incident", incident)
		onlyOn(t, "_serviceNowIncidentId", "9d385017c611228701d22104cc95c371", caller, "ServiceNow-incident", 1)
		if got := e.objects("ServiceNow-incident", opener); len(got) != 0 {
			t.Fatalf("the opener's profile holds %d incidents", len(got))
		}
		incident["state"], incident["resolved_at"], incident["sys_updated_on"] = "6", "2025-03-12 15:30:00", "2025-03-12 15:30:00"
		e.mustPut("ServiceNow-incident", incident)
		onlyOn(t, "_serviceNowIncidentId", "9d385017c611228701d22104cc95c371", caller, "ServiceNow-incident", 1)

		// A task belongs to whoever opened it (opened_by.value).
		e.mustPut("ServiceNow-task", templateSample(t, "ServiceNow-task"))
		onlyOn(t, "_serviceNowTaskId", "1c741bd70b2322007518478d83673af3", caller, "ServiceNow-task", 1)

		// A caller with no profile, or none at all (ServiceNow sends "" for
		// an empty reference): refused, no profile made for it.
		stranger := templateSample(t, "ServiceNow-incident")
		stranger["sys_id"] = "aa0cd3a2c0a8016500bb5d5e0c3a9cd1"
		stranger["caller_id"] = map[string]any{"link": "https://example.service-now.com/api/now/table/sys_user/0a826bf03710200044e0bfc8bcbe5d7a", "value": "0a826bf03710200044e0bfc8bcbe5d7a"}
		_, err := e.put("ServiceNow-incident", stranger)
		wantAPIError(t, err, "BadRequestException", "does not allow profile creation")
		stranger["caller_id"] = ""
		_, err = e.put("ServiceNow-incident", stranger)
		wantAPIError(t, err, "BadRequestException", "does not allow profile creation")
		if got := e.search("_serviceNowIncidentId", "aa0cd3a2c0a8016500bb5d5e0c3a9cd1"); len(got) != 0 {
			t.Fatalf("a refused incident is on %d profiles", len(got))
		}
	})

	t.Run("Shopify", func(t *testing.T) {
		// The event types of draft orders ingest into the template.
		uri := "arn:aws:app-integrations:us-east-1:000000000000:event-integration/shopify-drafts"
		if _, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(uri),
			ObjectTypeNames: map[string]string{"ShopifyCreateDraftOrders": "Shopify-DraftOrder", "ShopifyUpdateDraftOrders": "Shopify-DraftOrder"}}); err != nil {
			t.Fatalf("PutIntegration with the draft order event types: %v", err)
		}

		e.mustPut("Shopify-Customer", templateSample(t, "Shopify-Customer"))
		sofia := aws.ToString(e.mustOne("_shopifyCustomerId", "7290485112863").ProfileId)
		other := templateSample(t, "Shopify-Customer")
		other["id"], other["email"], other["first_name"], other["last_name"], other["phone"] = json.Number("7290485177001"), "noah.lefebvre@example.com", "Noah", "Lefebvre", "+16135550199"
		e.mustPut("Shopify-Customer", other)
		noah := aws.ToString(e.mustOne("_shopifyCustomerId", "7290485177001").ProfileId)

		// Created open, then completed (the sample): one order, on the
		// customer's profile, found by customer.id.
		draft := templateSample(t, "Shopify-DraftOrder")
		open := templateSample(t, "Shopify-DraftOrder")
		open["status"], open["completed_at"], open["order_id"], open["updated_at"] = "open", nil, nil, open["created_at"]
		e.mustPut("Shopify-DraftOrder", open)
		onlyOn(t, "_shopifyOrderId", "1094867025951", sofia, "Shopify-DraftOrder", 1)
		e.mustPut("Shopify-DraftOrder", draft)
		onlyOn(t, "_shopifyOrderId", "1094867025951", sofia, "Shopify-DraftOrder", 1)

		// The customer id wins over an email address another profile
		// holds, and the draft's email is not added to the profile.
		mixed := templateSample(t, "Shopify-DraftOrder")
		mixed["id"], mixed["email"] = json.Number("1094867058719"), "noah.lefebvre@example.com"
		e.mustPut("Shopify-DraftOrder", mixed)
		onlyOn(t, "_shopifyOrderId", "1094867058719", sofia, "Shopify-DraftOrder", 2)
		if got := aws.ToString(e.mustOne("_email", "noah.lefebvre@example.com").ProfileId); got != noah {
			t.Fatalf("_email of the draft found profile %s, want only Noah's %s", got, noah)
		}

		// A draft with no customer finds its profile by email (any case),
		// without storing it; one whose email no profile holds is refused.
		emailOnly := templateSample(t, "Shopify-DraftOrder")
		emailOnly["id"], emailOnly["customer"], emailOnly["email"] = json.Number("1094867091487"), nil, "Noah.Lefebvre@Example.com"
		e.mustPut("Shopify-DraftOrder", emailOnly)
		onlyOn(t, "_shopifyOrderId", "1094867091487", noah, "Shopify-DraftOrder", 1)
		emailOnly["id"], emailOnly["email"] = json.Number("1094867124255"), "walk-in@example.com"
		_, err := e.put("Shopify-DraftOrder", emailOnly)
		wantAPIError(t, err, "BadRequestException", "does not allow profile creation")
		if got := e.search("_email", "walk-in@example.com"); len(got) != 0 {
			t.Fatalf("a refused draft order made %d profiles", len(got))
		}
	})
}
