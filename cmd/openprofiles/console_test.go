package main_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
)

// TestConsole_Activation walks the product brief's activation in the
// browser: the instance list, the instance's Customer Profiles page with no
// domain, Enable customer profiles, the domain name, a new dead-letter
// queue with its policy statement, a new KMS key, Submit, and the summary;
// then renaming the domain and changing the instance's domain.
func TestConsole_Activation(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	if !strings.HasSuffix(b.location(), "/console/instances") {
		t.Fatalf("after sign-in: %s, want the instance list", b.location())
	}
	b.mustContain("main", "ExampleCorp", "Not enabled")
	b.shot("instances")

	b.click(`a[href="/console/instances/` + inst.ID + `"]`)
	b.mustContain("main", "Customer Profiles", "No domain is enabled", "Enable customer profiles")
	b.shot("instance-not-enabled")

	// Step 1: the domain's friendly name, checked in place.
	b.click("a.button")
	if got := b.value("#domain_name"); got != "CustomerProfiles-ExampleCorp" {
		t.Errorf("proposed domain name %q, want CustomerProfiles-ExampleCorp", got)
	}
	b.fill("#domain_name", "bad name!")
	if r := b.click(`button[value="next"]`); r.Status != http.StatusBadRequest {
		t.Errorf("a bad domain name: status %d, want 400", r.Status)
	}
	b.mustContain("#domain_name_error", "1 to 64 letters")
	b.fill("#domain_name", "CustomerProfiles-ExampleCorp")
	b.click(`button[value="next"]`)

	// Step 2: a new queue, its policy statement filled in and shown.
	b.mustContain("main", "Dead-letter queue", "CustomerProfiles-ExampleCorp")
	if !strings.Contains(b.value("#queue_policy"), `"SQS:SendMessage"`) ||
		!strings.Contains(b.value("#queue_policy"), "arn:aws:sqs:us-east-1:000000000000:CustomerProfiles-ExampleCorp-DLQ") {
		t.Errorf("queue policy statement: %s", b.value("#queue_policy"))
	}
	b.shot("enable-queue")
	b.click(`button[value="next"]`)

	// Step 3: a new symmetric key with an alias and a description.
	b.mustContain("main", "Encryption key", "Review")
	if !strings.Contains(b.value("#key_policy"), "profile.amazonaws.com") {
		t.Errorf("key policy statement: %s", b.value("#key_policy"))
	}
	b.fill("#key_alias", "alias/example-corp")
	b.fill("#key_description", "Profiles of ExampleCorp")
	b.shot("enable-key")
	if r := b.click("#submit"); r.Status != http.StatusOK {
		t.Fatalf("Submit: status %d\n%s", r.Status, b.text("main"))
	}

	// The summary: domain, queue and key.
	b.mustContain(".flash", "Customer Profiles is enabled")
	b.mustContain("#summary-domain", "CustomerProfiles-ExampleCorp")
	b.mustContain("#summary-dlq", "/000000000000/CustomerProfiles-ExampleCorp-DLQ")
	b.mustContain("#summary-key", "arn:aws:kms:us-east-1:000000000000:key/", "alias/example-corp")
	b.shot("instance-summary")

	// The API sees the same: the domain with its queue and key, the
	// instance associated with it.
	client := MustClient(t, m)
	d, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("CustomerProfiles-ExampleCorp")})
	if err != nil {
		t.Fatalf("GetDomain: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(d.DeadLetterQueueUrl), "/CustomerProfiles-ExampleCorp-DLQ") || !strings.Contains(aws.ToString(d.DefaultEncryptionKey), ":key/") {
		t.Errorf("domain: DLQ %q key %q", aws.ToString(d.DeadLetterQueueUrl), aws.ToString(d.DefaultEncryptionKey))
	}
	views, _ := m.Service.ListInstances(ctx)
	if len(views) != 1 || views[0].DomainName != "CustomerProfiles-ExampleCorp" {
		t.Errorf("instance association: %+v", views)
	}

	// Rename: the display name shows; the domain name stays (it is in ARNs).
	b.fill("#display_name", "Example Corp customers")
	b.click(`form[action$="/rename"] button`)
	b.mustContain(".flash", "now shown as Example Corp customers")
	b.mustContain("#summary-domain", "Example Corp customers", "CustomerProfiles-ExampleCorp")

	// Changing the instance's domain warns that profiles stay, and moves
	// only the association.
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("ExampleCorp-2027"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	b.open("/console/instances/" + inst.ID)
	b.mustContain(".warning", "Profiles are not moved")
	b.click(`form[action$="/domain"] button`)
	b.mustContain(".flash", "now uses domain ExampleCorp-2027", "stayed in CustomerProfiles-ExampleCorp")
	views, _ = m.Service.ListInstances(ctx)
	if views[0].DomainName != "ExampleCorp-2027" {
		t.Errorf("after the change the instance is in %q", views[0].DomainName)
	}
}

// TestConsole_ActivationErrors: an existing key whose policy lacks the
// service's grant is refused in place, with the statement to add, and
// nothing is created; after choosing a good key the domain is created.
func TestConsole_ActivationErrors(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	k := MustKMSClient(t, m)
	bare := mustCreateKey(t, k, keyPolicy("")) // the root only: no grant for the service
	good := mustServiceKey(t, m)
	queue := mustServiceQueue(t, m, "acme-dlq")

	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Acme")
	b.click(`button[value="next"]`)
	b.check("#queue_existing")
	b.fill("#queue_url", queue)
	b.click(`button[value="next"]`)
	b.check("#key_existing")
	b.fill("#key_arn", bare)
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Errorf("a key without the service grant: status %d, want 400", r.Status)
	}
	b.mustContain("#key_arn_error", "does not allow profile.amazonaws.com", "kms:GenerateDataKey")
	if b.value("#key_arn") != bare {
		t.Errorf("the chosen key was not kept: %q", b.value("#key_arn"))
	}
	b.shot("enable-key-error")
	if _, _, err := m.Service.GetDomain(ctx, "Acme"); err == nil {
		t.Fatal("the domain was created with a key the service may not use")
	}
	b.fill("#key_arn", good)
	b.click("#submit")
	b.mustContain("#summary-domain", "Acme")
	b.mustContain("#summary-dlq", queue)
	b.mustContain("#summary-key", good)
}
