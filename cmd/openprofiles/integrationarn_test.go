package main_test

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/connect"
)

// TestConsole_IntegrationARN: the console's activation and Change domain
// are authorised as the API's PutIntegration and DeleteIntegration, on
// the integration's ARN (…/integrations/INSTANCE-ARN) too, with its own
// tags: a Deny there refuses them, and nothing is made or moved.
func TestConsole_IntegrationARN(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	root := MustClient(t, m)
	const allowAll = `{"Effect":"Allow","Action":["profile:*","connect:*","kms:*","sqs:*"],"Resource":"*"}`

	// Activation: a Deny of PutIntegration on the instances' integrations.
	inst, err := m.Service.CreateInstance(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	id, secret := mustAgent(t, m, "installer", allowAll,
		`{"Effect":"Deny","Action":"profile:PutIntegration","Resource":"arn:aws:profile:us-east-1:000000000000:domains/*/integrations/arn:aws:connect:*"}`)
	b := mustSignedIn(t, m, id, secret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Acme")
	b.click(`button[value="next"]`)
	b.check("#queue_none")
	b.click(`button[value="next"]`)
	b.check("#key_new")
	if r := b.click("#submit"); r.Status != http.StatusForbidden {
		t.Errorf("activation with PutIntegration denied on the integration's ARN: status %d, want 403\n%s", r.Status, b.text("main"))
	}
	b.mustContain("main", "profile:PutIntegration", "integrations/"+inst.ARN)
	if _, _, err := m.Service.GetDomain(ctx, "Acme"); err == nil {
		t.Error("the refused activation created the domain")
	}

	// Change domain: the integration is tagged; a Deny on that tag
	// refuses its deletion from the domain the instance leaves, a Deny on
	// the new integration's ARN its creation.
	for _, d := range []string{"sales", "support"} {
		if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(d), DefaultExpirationDays: aws.Int32(30)}); err != nil {
			t.Fatal(err)
		}
	}
	east, err := m.Service.CreateInstance(ctx, "East")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String("sales"), Uri: aws.String(east.ARN),
		ObjectTypeName: aws.String("CTR"), Tags: map[string]string{"classification": "pinned"}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, deny, want string }{
		{"keeper", `{"Effect":"Deny","Action":"profile:DeleteIntegration","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/classification":"pinned"}}}`,
			"profile:DeleteIntegration"},
		{"gatekeeper", `{"Effect":"Deny","Action":"profile:PutIntegration","Resource":"arn:aws:profile:us-east-1:000000000000:domains/support/integrations/*"}`,
			"profile:PutIntegration"},
	} {
		id, secret := mustAgent(t, m, tt.name, allowAll, tt.deny)
		b := mustSignedIn(t, m, id, secret)
		b.open("/console/instances/" + east.ID)
		b.forge(`form[action$="/domain"] [name="domain"]`, "support")
		if r := b.click(`form[action$="/domain"] button`); r.Status != http.StatusForbidden {
			t.Errorf("%s: Change domain: status %d, want 403\n%s", tt.name, r.Status, b.text("main"))
		}
		b.mustContain("main", tt.want, "/integrations/"+east.ARN)
		views, err := m.Service.ListInstances(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			if v.ID == east.ID && v.DomainName != "sales" {
				t.Errorf("%s: a refused Change domain moved the instance to %q", tt.name, v.DomainName)
			}
		}
	}
}

// TestContacts_SwitchInstanceIntegrationARN: the admin API's
// SwitchInstance (openprofiles instances switch) is authorised as the
// API's PutIntegration on the new domain and DeleteIntegration on the one
// the instance leaves, on the integration's ARN too, with its own tags.
func TestContacts_SwitchInstanceIntegrationARN(t *testing.T) {
	e, east := newSalesEnv(t)
	e.createDomain("support", "")
	ctx := t.Context()
	if _, err := e.client.TagResource(ctx, &customerprofiles.TagResourceInput{
		ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/sales/integrations/" + east.Arn),
		Tags:        map[string]string{"classification": "pinned"}}); err != nil {
		t.Fatal(err)
	}
	const allowAll = `{"Effect":"Allow","Action":["profile:*","connect:*"],"Resource":"*"}`
	switchAs := func(user string) (string, error) {
		id, secret := mustUserKey(t, e.m, user, map[string]string{"p": policy(allowAll, map[string]string{
			"keeper":     `{"Effect":"Deny","Action":"profile:DeleteIntegration","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/classification":"pinned"}}}`,
			"gatekeeper": `{"Effect":"Deny","Action":"profile:PutIntegration","Resource":"arn:aws:profile:us-east-1:000000000000:domains/support/integrations/*"}`,
			"admin":      `{"Effect":"Deny","Action":"profile:DeleteDomain","Resource":"*"}`,
		}[user])})
		// The CLI reads the credentials of the environment (the root's,
		// newContactEnv's): the user's for this command.
		t.Setenv("AWS_ACCESS_KEY_ID", id)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		defer func() {
			t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
		}()
		var out, errb bytes.Buffer
		err := main.Run(ctx, []string{"instances", "switch", "--endpoint", e.m.URL(), "--instance", east.Arn, "--domain", "support"}, nil, &out, &errb, os.Getenv)
		if err != nil {
			return errb.String(), err
		}
		return out.String(), nil
	}
	domainOf := func() string {
		var list connect.ListInstancesOutput
		e.mustCLI(&list, 0, "instances", "list", "--output", "json")
		for _, in := range list.InstanceSummaryList {
			if in.Id == east.Id {
				return in.DomainName
			}
		}
		return ""
	}
	for user, want := range map[string]string{"keeper": "profile:DeleteIntegration", "gatekeeper": "profile:PutIntegration"} {
		stderr, err := switchAs(user)
		if err == nil {
			t.Errorf("%s: instances switch with %s denied on the integration: succeeded, want AccessDeniedException", user, want)
		}
		for _, w := range []string{"AccessDeniedException", want, "/integrations/" + east.Arn} {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: instances switch refused with %q, want %q in it", user, stderr, w)
			}
		}
		if got := domainOf(); got != "sales" {
			t.Errorf("%s: a refused switch moved the instance to %q", user, got)
		}
	}
	if out, err := switchAs("admin"); err != nil {
		t.Fatalf("instances switch by an admin: %v\n%s", err, out)
	}
	if got := domainOf(); got != "support" {
		t.Errorf("after the admin's switch the instance is in %q, want support", got)
	}
}
