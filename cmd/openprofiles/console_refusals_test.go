package main_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestConsole_ActivationRefusals walks the wizard's refusals against the
// built-in KMS and queue service: a domain name taken, a new queue whose
// name is taken, an existing queue whose policy lacks the service's
// statement (found at Submit, after the new key was made), a new key
// whose alias is taken. Each is shown beside its field; what was made
// before a refusal is kept as the choice (no second key or queue), and
// the activation then makes one domain with them.
func TestConsole_ActivationRefusals(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	client, k := MustClient(t, m), MustKMSClient(t, m)
	inst, err := m.Service.CreateInstance(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("Taken"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	mustServiceQueue(t, m, "TakenQueue")
	bare := mustQueue(t, MustSQSClient(t, m.URL()), "bare-dlq", "") // no statement for the service
	taken := mustCreateKey(t, k, keyPolicy(""))
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/taken"), TargetKeyId: aws.String(taken)}); err != nil {
		t.Fatal(err)
	}
	keys := func() int {
		t.Helper()
		out, err := k.ListKeys(ctx, &kms.ListKeysInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Keys)
	}
	keysBefore := keys()

	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Taken")
	if r := b.click(`button[value="next"]`); r.Status != http.StatusBadRequest {
		t.Errorf("a domain name taken: status %d, want 400", r.Status)
	}
	b.mustContain("#domain_name_error", "exists already")
	b.fill("#domain_name", "Acme")
	b.click(`button[value="next"]`)

	// A new queue whose name is taken: refused at Submit, before the key
	// is made.
	b.check("#queue_new")
	b.fill("#queue_name", "TakenQueue")
	b.click(`button[value="next"]`)
	b.check("#key_new")
	b.fill("#key_alias", "alias/acme")
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Errorf("a new queue whose name is taken: status %d, want 400", r.Status)
	}
	b.mustContain("#queue_name_error", "TakenQueue", "already exists")
	if n := keys(); n != keysBefore {
		t.Errorf("%d keys made before the queue was refused", n-keysBefore)
	}

	// An existing queue without the service's statement: the new key is
	// made, the domain is not; the key stays chosen.
	b.check("#queue_existing")
	b.fill("#queue_url", bare)
	b.click(`button[value="next"]`)
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Errorf("a queue without the service's statement: status %d, want 400", r.Status)
	}
	b.mustContain("#queue_url_error", "DeadLetterQueueUrl")
	if _, _, err := m.Service.GetDomain(ctx, "Acme"); err == nil {
		t.Fatal("the domain was made with a queue the service may not send to")
	}
	if n := keys(); n != keysBefore+1 {
		t.Errorf("%d keys made, want 1", n-keysBefore)
	}

	// A new queue then: Submit makes it and the domain, with the key made
	// before, and no other key.
	b.check("#queue_new")
	b.fill("#queue_name", "Acme-DLQ")
	b.click(`button[value="next"]`)
	if got := b.value("#key_arn"); !strings.Contains(got, ":key/") {
		t.Errorf("the key made before is not the choice: %q", got)
	}
	if r := b.click("#submit"); r.Status != http.StatusOK {
		t.Fatalf("Submit: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain("#summary-domain", "Acme")
	b.mustContain("#summary-dlq", "/Acme-DLQ")
	b.mustContain("#summary-key", "alias/acme")
	if n := keys(); n != keysBefore+1 {
		t.Errorf("%d keys made in all, want 1", n-keysBefore)
	}

	// A new key whose alias is taken: refused beside the alias, no key
	// made, no domain.
	west, err := m.Service.CreateInstance(ctx, "Acme-West")
	if err != nil {
		t.Fatal(err)
	}
	b.open("/console/instances/" + west.ID + "/enable")
	b.fill("#domain_name", "AcmeWest")
	b.click(`button[value="next"]`)
	b.check("#queue_none")
	b.click(`button[value="next"]`)
	b.check("#key_new")
	b.fill("#key_alias", "alias/taken")
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Errorf("a key alias taken: status %d, want 400", r.Status)
	}
	b.mustContain("#key_alias_error", "alias/taken", "already exists")
	if n := keys(); n != keysBefore+1 {
		t.Errorf("a refused alias made %d keys", n-keysBefore-1)
	}
	if _, _, err := m.Service.GetDomain(ctx, "AcmeWest"); err == nil {
		t.Error("the domain was made although its key was refused")
	}
}
