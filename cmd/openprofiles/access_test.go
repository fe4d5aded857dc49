package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// mustUser creates a user with the given inline policies (name → document)
// and returns a Customer Profiles client signing with a new key of theirs.
func mustUser(t *testing.T, m *main.Main, name string, policies map[string]string) *customerprofiles.Client {
	t.Helper()
	id, secret := mustUserKey(t, m, name, policies)
	return newClient(t, m, id, secret, testRegion)
}

// mustUserKey creates a user with the given inline policies and returns a
// new access key of theirs, for requests the SDK cannot send.
func mustUserKey(t *testing.T, m *main.Main, name string, policies map[string]string) (id, secret string) {
	t.Helper()
	ctx := t.Context()
	if _, err := m.Service.CreatePrincipal(ctx, profiles.PrincipalUser, name); err != nil {
		t.Fatal(err)
	}
	for pn, doc := range policies {
		if err := m.Service.PutPolicy(ctx, name, pn, doc); err != nil {
			t.Fatalf("PutPolicy %s: %v", pn, err)
		}
	}
	k, secret, err := m.Service.CreateAccessKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, secret
}

// TestDestinations_StrayMembers: the checks of where an operation reads or
// sends data (kinesis:PutRecords, s3:…, iam:PassRole) read the body as the
// operation does: a member the operation does not have, whatever its
// type, neither hides the destination nor gets past the check.
func TestDestinations_StrayMembers(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	if _, err := root.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("acme"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	id, secret := mustUserKey(t, m, "profilesonly", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`)})
	flow := `{"FlowName":"f","KmsArn":"arn:aws:kms:us-east-1:000000000000:key/k","SourceFlowConfig":{"ConnectorType":"S3",
		"SourceConnectorProperties":{"S3":{"BucketName":"secret","BucketPrefix":"p/"}}},"Tasks":[],"TriggerConfig":{"TriggerType":"OnDemand"}}`
	for _, c := range []struct {
		name, method, path, body, want string
	}{
		{"PutIntegration", "PUT", "/domains/acme/integrations", `{"ObjectTypeName":"crm","FlowDefinition":` + flow + `,"IntegrationConfig":1}`, "s3:ListBucket"},
		{"CreateIntegrationWorkflow", "POST", "/domains/acme/workflows/integrations",
			`{"WorkflowType":"APPFLOW_INTEGRATION","ObjectTypeName":"crm","IntegrationConfig":{"AppflowIntegration":{"FlowDefinition":` + flow + `}},"FlowDefinition":1}`, "s3:ListBucket"},
		{"CreateEventStream", "POST", "/domains/acme/event-streams/s", `{"Uri":"arn:aws:kinesis:us-east-1:000000000000:stream/x","DestinationUri":5}`, "kinesis:PutRecords"},
		{"CreateSegmentSnapshot", "POST", "/domains/acme/segments/seg/snapshots", `{"DataFormat":"CSV","DestinationUri":"s3://secret/out","Uri":5}`, "s3:PutObject"},
		{"UpdateDomain", "PUT", "/domains/acme", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"secret"}},"Uri":5},"DestinationUri":5}`, "s3:PutObject"},
		{"CreateDomain", "POST", "/domains/acme2", `{"DefaultExpirationDays":1,"RuleBasedMatching":{"Enabled":true,"MatchingRules":[{"Rule":["EmailAddress"]}],
			"ExportingConfig":{"S3Exporting":{"S3BucketName":"secret","S3KeyName":"x"}}},"Uri":5}`, "arn:aws:s3:::secret/x/acme2/*"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustDo(t, mustSignedRequest(t, m, c.method, c.path, []byte(c.body), signOpts{keyID: id, secret: secret}))
			checkError(t, r, http.StatusForbidden, "AccessDeniedException", c.want)
		})
	}
	// A snapshot writes PREFIX/DOMAIN/SEGMENT/ID.ext: a Deny on the
	// objects under a prefix holds for a destination of that prefix.
	id, secret = mustUserKey(t, m, "exporter", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:*","kms:Decrypt","s3:PutObject"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::exports/secret/*"}`)})
	for _, c := range []struct {
		name, method, path, body, want string
	}{
		{"snapshot under a denied prefix", "POST", "/domains/acme/segments/seg/snapshots", `{"DataFormat":"CSV","DestinationUri":"s3://exports/secret"}`,
			"arn:aws:s3:::exports/secret/acme/seg/*"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustDo(t, mustSignedRequest(t, m, c.method, c.path, []byte(c.body), signOpts{keyID: id, secret: secret}))
			checkError(t, r, http.StatusForbidden, "AccessDeniedException", c.want)
		})
	}
}

func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func TestAccess(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	e := &ingestEnv{t: t, m: m, client: root, domain: "acme"}
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("acme"), DefaultExpirationDays: aws.Int32(30), Tags: map[string]string{"team": "support"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("other"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "reader@example.com"})
	key, err := m.Service.EncryptionKeyARN(ctx, "acme")
	if err != nil || key == "" {
		t.Fatalf("domain key: %q %v", key, err)
	}
	decrypt := `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key + `"}`
	search := func(c *customerprofiles.Client) error {
		_, err := c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("acme"), KeyName: aws.String("_email"), Values: []string{"reader@example.com"}})
		return err
	}
	put := func(c *customerprofiles.Client, id string) error {
		_, err := c.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{DomainName: aws.String("acme"), ObjectTypeName: aws.String("contact"),
			Object: aws.String(`{"id":"` + id + `","email":"reader@example.com"}`)})
		return err
	}

	t.Run("NoPolicy", func(t *testing.T) {
		c := mustUser(t, m, "nobody", nil)
		_, err := c.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		wantAPIError(t, err, "AccessDeniedException", "profile:ListDomains", "arn:aws:iam::000000000000:user/nobody")
	})
	t.Run("AgentReadsAndWrites", func(t *testing.T) {
		c := mustUser(t, m, "agent", map[string]string{"agent": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"arn:aws:profile:us-east-1:000000000000:domains/acme*"}`, decrypt)})
		if err := search(c); err != nil {
			t.Fatalf("agent search: %v", err)
		}
		if err := put(c, "a1"); err != nil {
			t.Fatalf("agent put: %v", err)
		}
		_, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("other")})
		wantAPIError(t, err, "AccessDeniedException", "domains/other")
	})
	t.Run("ReaderWithoutDecrypt", func(t *testing.T) {
		// profile:* but no kms:Decrypt: writes work, reads are refused
		// naming kms:Decrypt and the key.
		c := mustUser(t, m, "writer", map[string]string{"all": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`)})
		if err := put(c, "w1"); err != nil {
			t.Fatalf("writer put: %v", err)
		}
		wantAPIError(t, search(c), "AccessDeniedException", "kms:Decrypt", key)
	})
	t.Run("IntegrationMayOnlyWrite", func(t *testing.T) {
		c := mustUser(t, m, "integration", map[string]string{"write": policy(`{"Effect":"Allow","Action":["profile:PutProfileObject"],"Resource":"*"}`)})
		if err := put(c, "i1"); err != nil {
			t.Fatalf("integration put: %v", err)
		}
		wantAPIError(t, search(c), "AccessDeniedException", "profile:SearchProfiles")
	})
	t.Run("AuditorMayOnlyList", func(t *testing.T) {
		c := mustUser(t, m, "auditor", map[string]string{"list": policy(`{"Effect":"Allow","Action":["profile:List*","profile:GetDomain"],"Resource":"*"}`)})
		if _, err := c.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err != nil {
			t.Fatalf("auditor list: %v", err)
		}
		_, err := c.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("other")})
		wantAPIError(t, err, "AccessDeniedException", "profile:DeleteDomain")
	})
	t.Run("DenyOverridesAllow", func(t *testing.T) {
		c := mustUser(t, m, "careful", map[string]string{
			"allow": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`, decrypt),
			"deny":  policy(`{"Effect":"Deny","Action":"profile:DeleteDomain","Resource":"*"}`),
		})
		if err := search(c); err != nil {
			t.Fatalf("search: %v", err)
		}
		_, err := c.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("other")})
		wantAPIError(t, err, "AccessDeniedException", "profile:DeleteDomain")
	})
	t.Run("ConditionOnSourceIP", func(t *testing.T) {
		inside := mustUser(t, m, "inside", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:ListDomains","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`)})
		outside := mustUser(t, m, "outside", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:ListDomains","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)})
		if _, err := inside.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err != nil {
			t.Fatalf("from 127.0.0.1 with a loopback condition: %v", err)
		}
		_, err := outside.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		wantAPIError(t, err, "AccessDeniedException")
	})
	t.Run("ConditionOnTags", func(t *testing.T) {
		c := mustUser(t, m, "support", map[string]string{"p": policy(
			`{"Effect":"Allow","Action":"profile:GetDomain","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"support"}}}`,
			`{"Effect":"Allow","Action":"profile:CreateDomain","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"support"}}}`)})
		if _, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("acme")}); err != nil {
			t.Fatalf("GetDomain of a domain tagged team=support: %v", err)
		}
		_, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("other")})
		wantAPIError(t, err, "AccessDeniedException")
		if _, err := c.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("tagged"), DefaultExpirationDays: aws.Int32(1), Tags: map[string]string{"team": "support"}}); err != nil {
			t.Fatalf("CreateDomain with the required tag: %v", err)
		}
		_, err = c.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("untagged"), DefaultExpirationDays: aws.Int32(1)})
		wantAPIError(t, err, "AccessDeniedException")
		// "tags" is not CreateDomain's Tags: the domain would be created
		// untagged, so the condition on the request's tags does not see it.
		id, secret := mustUserKey(t, m, "support-raw", map[string]string{"p": policy(
			`{"Effect":"Allow","Action":"profile:CreateDomain","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"support"}}}`)})
		r := mustDo(t, mustSignedRequest(t, m, "POST", "/domains/sneaky", []byte(`{"DefaultExpirationDays":1,"tags":{"team":"support"}}`), signOpts{keyID: id, secret: secret}))
		checkError(t, r, 403, "AccessDeniedException")
	})
	t.Run("KeyRotation", func(t *testing.T) {
		c1 := mustUser(t, m, "rotator", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:ListDomains","Resource":"*"}`)})
		k2, secret2, err := m.Service.CreateAccessKey(ctx, "rotator")
		if err != nil {
			t.Fatal(err)
		}
		c2 := newClient(t, m, k2.ID, secret2, testRegion)
		keys, _ := m.Service.ListAccessKeys(ctx, "rotator")
		if _, err := c1.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err != nil {
			t.Fatalf("old key before deactivation: %v", err)
		}
		old := keys[0].ID
		if old == k2.ID {
			old = keys[1].ID
		}
		if err := m.Service.UpdateAccessKey(ctx, "rotator", old, profiles.AccessKeyInactive); err != nil {
			t.Fatal(err)
		}
		_, err = c1.ListDomains(ctx, &customerprofiles.ListDomainsInput{})
		wantAPIError(t, err, "UnrecognizedClientException")
		if _, err := c2.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err != nil {
			t.Fatalf("new key: %v", err)
		}
	})
	t.Run("KeyPolicyMustAllowTheReader", func(t *testing.T) {
		// A key whose policy lets only the account root and the service use
		// it: even with kms:Decrypt in their identity policy, users cannot
		// read the domain.
		only := `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::000000000000:root"}}},` +
			`{"Sid":"Service","Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},"Action":["kms:GenerateDataKey","kms:Decrypt","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"000000000000"}}}]}`
		strict := mustCreateKey(t, MustKMSClient(t, m), only)
		if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("strict"), DefaultExpirationDays: aws.Int32(1), DefaultEncryptionKey: aws.String(strict)}); err != nil {
			t.Fatal(err)
		}
		c := mustUser(t, m, "keyless", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:*","kms:Decrypt"],"Resource":"*"}`)})
		_, err := c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("strict"), KeyName: aws.String("_email"), Values: []string{"x@example.com"}})
		wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", strict)
		// The same user reads a domain whose key policy hands kms:Decrypt to
		// the account's identity policies.
		if _, err := c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("acme"), KeyName: aws.String("_email"), Values: []string{"x@example.com"}}); err != nil {
			t.Fatalf("search acme: %v", err)
		}
	})

	t.Run("AuditLog", func(t *testing.T) {
		f, err := os.Open(filepath.Join(m.Config.DataDir, "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var allow, deny int
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("audit line %q: %v", sc.Text(), err)
			}
			for _, k := range []string{"time", "principal", "action", "resource", "outcome", "request_id", "source_ip"} {
				if _, ok := rec[k]; !ok {
					t.Fatalf("audit record without %s: %s", k, sc.Text())
				}
			}
			if strings.Contains(sc.Text(), testSecret) || strings.Contains(sc.Text(), "reader@example.com") {
				t.Fatalf("audit record holds a secret or profile data: %s", sc.Text())
			}
			switch rec["outcome"] {
			case "allow":
				allow++
			case "deny":
				deny++
			}
			if rec["principal"] == "arn:aws:iam::000000000000:user/nobody" && rec["outcome"] != "deny" {
				t.Errorf("nobody was allowed: %s", sc.Text())
			}
		}
		if allow == 0 || deny == 0 {
			t.Fatalf("audit log: %d allows, %d denials", allow, deny)
		}
	})
}

// TestAccess_TagConditionsNotSpoofed: the tag condition keys are those of
// what the operation does: a tagKeys query parameter counts for
// UntagResource only, "Tags" and "tags" in one body are read as the
// operation reads them, and the tag operations carry the domain's tags
// (aws:ResourceTag) from their resource ARN.
func TestAccess_TagConditionsNotSpoofed(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("kept"), DefaultExpirationDays: aws.Int32(30),
		Tags: map[string]string{"protected": "true"}}); err != nil {
		t.Fatal(err)
	}
	id, secret := mustUserKey(t, m, "tagger", map[string]string{"p": policy(
		`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
		`{"Effect":"Deny","Action":"profile:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["owner"]}}}`,
		`{"Effect":"Deny","Action":"profile:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/env":"prod"}}}`,
		`{"Effect":"Deny","Action":["profile:UntagResource","profile:TagResource"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/protected":"true"}}}`)})
	kept := url.PathEscape("arn:aws:profile:us-east-1:000000000000:domains/kept")
	for _, c := range []struct {
		name, method, path, body, want string
	}{
		{"tagKeys query", "POST", "/domains/spoof?tagKeys=harmless", `{"DefaultExpirationDays":30,"Tags":{"owner":"mallory"}}`, "profile:CreateDomain"},
		{"Tags and tags", "POST", "/domains/spoof", `{"DefaultExpirationDays":30,"tags":{"env":"dev"},"Tags":{"env":"prod"}}`, "profile:CreateDomain"},
		{"tags and Tags", "POST", "/tags/" + kept, `{"Tags":{"env":"dev"},"tags":{"env":"prod"}}`, "profile:TagResource"},
		{"untag a protected domain", "DELETE", "/tags/" + kept + "?tagKeys=protected", "", "profile:UntagResource"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			r := mustDo(t, mustSignedRequest(t, m, c.method, c.path, body, signOpts{keyID: id, secret: secret}))
			checkError(t, r, http.StatusForbidden, "AccessDeniedException", c.want)
		})
	}
	if _, err := root.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("spoof")}); err == nil {
		t.Error("domain spoof was created")
	}
	tags, err := root.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:profile:us-east-1:000000000000:domains/kept")})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["protected"] != "true" {
		t.Errorf("tags of kept: %v, %v; want protected only", tags, err)
	}
}

// TestAccess_DomainKeyAndQueue: UpdateDomain's caller may not move a
// domain to a key of theirs without kms:Decrypt on its key (the records
// sealed before stay readable to the new key's decrypters), nor point its
// dead-letter queue (failed objects, in the clear) at a queue without
// sqs:SendMessage on it and kms:Decrypt on the domain's key.
func TestAccess_DomainKeyAndQueue(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	k1, k2 := mustServiceKey(t, m), mustServiceKey(t, m)
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("sealed"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(k1)}); err != nil {
		t.Fatal(err)
	}
	e := &ingestEnv{t: t, m: m, client: root, domain: "sealed"}
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "sealed@example.com"})
	base := `{"Effect":"Allow","Action":"profile:*","Resource":"*"}`
	ownKey := `{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"` + k2 + `"}`
	rotator := mustUser(t, m, "rotator", map[string]string{"p": policy(base, ownKey, `{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}`)})
	search := &customerprofiles.SearchProfilesInput{DomainName: aws.String("sealed"), KeyName: aws.String("_email"), Values: []string{"sealed@example.com"}}
	_, err := rotator.SearchProfiles(ctx, search)
	wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt")
	_, err = rotator.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("sealed"), DefaultEncryptionKey: aws.String(k2)})
	wantAPIError(t, err, "AccessDeniedException", k1)
	_, err = rotator.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("sealed"), DeadLetterQueueUrl: aws.String("http://127.0.0.1:1/000000000000/mine")})
	wantAPIError(t, err, "AccessDeniedException", k1)
	noQueue := mustUser(t, m, "noqueue", map[string]string{"p": policy(base, ownKey)})
	_, err = noQueue.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("leaky"), DefaultExpirationDays: aws.Int32(30),
		DeadLetterQueueUrl: aws.String("http://127.0.0.1:1/000000000000/mine")})
	wantAPIError(t, err, "AccessDeniedException", "sqs:SendMessage")
	if d, err := root.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("sealed")}); err != nil || aws.ToString(d.DefaultEncryptionKey) != k1 || d.DeadLetterQueueUrl != nil {
		t.Fatalf("domain after the refusals: %+v, %v; want key %s, no queue", d, err, k1)
	}

	// A key named by its id is the key of its ARN.
	_, err = rotator.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("sealed"), DefaultEncryptionKey: aws.String(k2[strings.LastIndex(k2, "/")+1:])})
	wantAPIError(t, err, "AccessDeniedException", k1)
	_, err = noQueue.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("theirs"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(k1[strings.LastIndex(k1, "/")+1:])})
	wantAPIError(t, err, "AccessDeniedException", "kms:GenerateDataKey") // a domain sealed under a key it may not use
	if _, err := noQueue.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("theirs"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(k2)}); err != nil {
		t.Fatalf("CreateDomain with a key the caller may use: %v", err)
	}

	// With kms:Decrypt on the old key, the move is allowed.
	mover := mustUser(t, m, "mover", map[string]string{"p": policy(base, ownKey, `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+k1+`"}`)})
	if _, err := mover.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("sealed"), DefaultEncryptionKey: aws.String(k2)}); err != nil {
		t.Fatalf("UpdateDomain by a caller who may decrypt with both keys: %v", err)
	}
	if _, err := mover.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("sealed"), DefaultEncryptionKey: aws.String(k2), DefaultExpirationDays: aws.Int32(20)}); err != nil {
		t.Fatalf("UpdateDomain sending the same key again: %v", err)
	}
	onlyNew := mustUser(t, m, "onlynew", map[string]string{"p": policy(base, ownKey)})
	if _, err := onlyNew.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("sealed"), DefaultEncryptionKey: aws.String(k2[strings.LastIndex(k2, "/")+1:])}); err != nil {
		t.Fatalf("UpdateDomain sending the same key again, by its id: %v", err)
	}
}

// TestAccess_ExportNeedsDomainKey: an ExportingConfig sends the match
// groups that GetMatches and ListRuleBasedMatches give only to callers
// with kms:Decrypt on the domain's key to an S3 bucket, in the clear:
// UpdateDomain that sets one needs kms:Decrypt on that key too, else a
// caller refused GetMatches read the groups from a bucket of theirs.
func TestAccess_ExportNeedsDomainKey(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("matched"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	key, err := m.Service.EncryptionKeyARN(ctx, "matched")
	if err != nil || key == "" {
		t.Fatalf("domain key: %q, %v", key, err)
	}
	base := []string{`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`, `{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::mine/*"}`}
	noKey := mustUser(t, m, "nokey", map[string]string{"p": policy(base...)})
	_, err = noKey.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: aws.String("matched")})
	wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt")
	_, err = noKey.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("matched"), Matching: exportTo("mine", "ir")})
	wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", key)
	rules := &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
		ExportingConfig: &types.ExportingConfig{S3Exporting: &types.S3ExportingConfig{S3BucketName: aws.String("mine")}}}
	_, err = noKey.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("matched"), RuleBasedMatching: rules})
	wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", key)
	if d, err := root.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("matched")}); err != nil || d.Matching != nil || d.RuleBasedMatching != nil {
		t.Fatalf("domain after the refusals: %+v, %v; want no matching settings", d, err)
	}
	// Settings without an export need no key.
	if _, err := noKey.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("matched"), Matching: &types.MatchingRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Errorf("UpdateDomain without ExportingConfig: %v", err)
	}
	reader := mustUser(t, m, "reader", map[string]string{"p": policy(append(base, `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+key+`"}`)...)})
	if _, err := reader.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("matched"), Matching: exportTo("mine", "ir"), RuleBasedMatching: rules}); err != nil {
		t.Fatalf("UpdateDomain by a caller who may read the groups: %v", err)
	}
}

// TestAccess_ObjectTypeKey: the objects of a type with an EncryptionKey of
// its own are sealed under it: reading them needs kms:Decrypt on it as
// well as on the domain's key, and moving the type to another key needs
// kms:Decrypt on the one it had.
func TestAccess_ObjectTypeKey(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("typed"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	domainKey, err := m.Service.EncryptionKeyARN(ctx, "typed")
	if err != nil || domainKey == "" {
		t.Fatalf("domain key: %q, %v", domainKey, err)
	}
	typeKey, ownKey := mustServiceKey(t, m), mustServiceKey(t, m)
	e := &ingestEnv{t: t, m: m, client: root, domain: "typed"}
	secret := contactType("secret")
	secret.EncryptionKey = aws.String(typeKey)
	e.putType(secret)
	e.putType(contactType("plain"))
	e.mustPut("secret", map[string]any{"id": "s1", "email": "s@example.com"})
	e.mustPut("plain", map[string]any{"id": "p1", "email": "s@example.com"})
	found, err := root.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("typed"), KeyName: aws.String("_email"), Values: []string{"s@example.com"}})
	if err != nil || len(found.Items) != 1 {
		t.Fatalf("SearchProfiles: %+v, %v", found, err)
	}
	pid := found.Items[0].ProfileId
	agent := mustUser(t, m, "agent", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:*","kinesis:PutRecords"],"Resource":"*"}`,
		`{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":["`+domainKey+`","`+ownKey+`"]}`)})
	list := func(typ string) error {
		_, err := agent.ListProfileObjects(ctx, &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("typed"), ObjectTypeName: aws.String(typ), ProfileId: pid})
		return err
	}
	if err := list("plain"); err != nil {
		t.Fatalf("ListProfileObjects of a type under the domain's key: %v", err)
	}
	wantAPIError(t, list("secret"), "AccessDeniedException", typeKey)
	// The type's values, and the history record of its object, hold it too.
	_, err = agent.ListObjectTypeAttributeValues(ctx, &customerprofiles.ListObjectTypeAttributeValuesInput{DomainName: aws.String("typed"),
		ObjectTypeName: aws.String("secret"), AttributeName: aws.String("email")})
	wantAPIError(t, err, "AccessDeniedException", typeKey)
	history, err := root.ListProfileHistoryRecords(ctx, &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String("typed"), ProfileId: pid})
	if err != nil {
		t.Fatal(err)
	}
	var secretRecord, plainRecord *string
	for _, h := range history.ProfileHistoryRecords {
		switch aws.ToString(h.ObjectTypeName) {
		case "secret":
			secretRecord = h.Id
		case "plain":
			plainRecord = h.Id
		}
	}
	if secretRecord == nil || plainRecord == nil {
		t.Fatalf("history: %+v; want a record of each type's object", history.ProfileHistoryRecords)
	}
	_, err = agent.GetProfileHistoryRecord(ctx, &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String("typed"), ProfileId: pid, Id: secretRecord})
	wantAPIError(t, err, "AccessDeniedException", typeKey)
	if _, err := agent.GetProfileHistoryRecord(ctx, &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String("typed"), ProfileId: pid, Id: plainRecord}); err != nil {
		t.Fatalf("GetProfileHistoryRecord of a type under the domain's key: %v", err)
	}
	_, err = agent.CreateEventStream(ctx, &customerprofiles.CreateEventStreamInput{DomainName: aws.String("typed"), EventStreamName: aws.String("out"),
		Uri: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/out")})
	wantAPIError(t, err, "AccessDeniedException", typeKey) // the stream would send the type's objects
	moved := contactType("secret")
	moved.DomainName, moved.EncryptionKey = aws.String("typed"), aws.String(ownKey)
	_, err = agent.PutProfileObjectType(ctx, moved)
	wantAPIError(t, err, "AccessDeniedException", typeKey)
}

// TestAccess_ExpiredRecordsOfATypeKey: the history records of an expired
// object of a type with a key of its own hold nothing sealed under that
// key (the EXPIRED record, and the INGESTED record the sweep emptied):
// GetProfileHistoryRecord returns them to a caller without kms:Decrypt on
// it, who is still refused a record of the type that holds an object.
func TestAccess_ExpiredRecordsOfATypeKey(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newIngestEnvClock(t, clock)
	ctx := t.Context()
	domainKey, err := e.m.Service.EncryptionKeyARN(ctx, e.domain)
	if err != nil || domainKey == "" {
		t.Fatalf("domain key: %q, %v", domainKey, err)
	}
	typeKey := mustServiceKey(t, e.m)
	secret := contactType("secret")
	secret.EncryptionKey, secret.ExpirationDays = aws.String(typeKey), aws.Int32(2)
	e.putType(secret)
	e.mustPut("secret", map[string]any{"id": "s1", "email": "s@example.com", "note": "sealed"})
	pid := e.mustOne("_email", "s@example.com").ProfileId
	clock.add(3 * 24 * time.Hour)
	if n, err := e.m.Service.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d (%v), want 1", n, err)
	}
	e.mustPut("secret", map[string]any{"id": "s2", "email": "s@example.com", "note": "sealed too"}) // a live object
	agent := mustUser(t, e.m, "agent", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+domainKey+`"}`)})
	var empty, full int
	for _, h := range e.history(aws.ToString(pid)) {
		if aws.ToString(h.ObjectTypeName) != "secret" {
			continue
		}
		in := &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String(e.domain), ProfileId: pid, Id: h.Id}
		stored, err := e.client.GetProfileHistoryRecord(ctx, in)
		if err != nil {
			t.Fatalf("GetProfileHistoryRecord by root: %v", err)
		}
		got, err := agent.GetProfileHistoryRecord(ctx, in)
		if stored.Content != nil {
			full++
			wantAPIError(t, err, "AccessDeniedException", typeKey)
			continue
		}
		empty++
		if err != nil {
			t.Errorf("GetProfileHistoryRecord of an %s record without content, without kms:Decrypt on the type's key: %v", h.ActionType, err)
		} else if got.Content != nil || got.ActionType != h.ActionType {
			t.Errorf("GetProfileHistoryRecord: %s with Content %q; want %s without", got.ActionType, aws.ToString(got.Content), h.ActionType)
		}
	}
	if empty != 2 || full != 1 {
		t.Errorf("records of the type: %d without content, %d with; want 2 (EXPIRED, the expired object's INGESTED) and 1", empty, full)
	}
}

// TestAccess_SubResourceARNs: an operation on a resource of a domain that
// its path or body names needs profile:<Op> on the domain's ARN and on
// that resource's, as on AWS: a Deny on either holds, and an Allow on the
// domain's ARN alone does not reach its segments.
func TestAccess_SubResourceARNs(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("acme"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	e := &ingestEnv{t: t, m: m, client: root, domain: "acme"}
	e.putType(contactType("secret"))
	arn := "arn:aws:profile:us-east-1:000000000000:domains/acme"
	u := mustUser(t, m, "scoped", map[string]string{"p": policy(
		`{"Effect":"Allow","Action":"profile:*","Resource":"`+arn+`"}`,
		`{"Effect":"Allow","Action":"profile:GetCalculatedAttributeDefinition","Resource":"`+arn+`/calculated-attributes/*"}`,
		`{"Effect":"Deny","Action":"profile:*","Resource":"`+arn+`/segment-definitions/vip"}`)})
	_, err := u.DeleteSegmentDefinition(ctx, &customerprofiles.DeleteSegmentDefinitionInput{DomainName: aws.String("acme"), SegmentDefinitionName: aws.String("vip")})
	wantAPIError(t, err, "AccessDeniedException", arn+"/segment-definitions/vip")
	_, err = u.GetSegmentDefinition(ctx, &customerprofiles.GetSegmentDefinitionInput{DomainName: aws.String("acme"), SegmentDefinitionName: aws.String("other")})
	wantAPIError(t, err, "AccessDeniedException", arn+"/segment-definitions/other") // the domain's Allow is not the segment's
	_, err = u.GetCalculatedAttributeDefinition(ctx, &customerprofiles.GetCalculatedAttributeDefinitionInput{DomainName: aws.String("acme"), CalculatedAttributeName: aws.String("score")})
	wantAPIError(t, err, "ResourceNotFoundException", "score")
	if _, err := u.ListSegmentDefinitions(ctx, &customerprofiles.ListSegmentDefinitionsInput{DomainName: aws.String("acme")}); err != nil {
		t.Fatalf("ListSegmentDefinitions on the domain: %v", err)
	}

	// A Deny on the domain's ARN holds for its resources; one on an
	// object type holds where the body names it.
	d := mustUser(t, m, "denied", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:*","kms:Decrypt"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"profile:DeleteProfileObjectType","Resource":"`+arn+`"}`,
		`{"Effect":"Deny","Action":"profile:*","Resource":"`+arn+`/object-types/secret"}`)})
	_, err = d.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String("acme"), ObjectTypeName: aws.String("plain")})
	wantAPIError(t, err, "AccessDeniedException", arn)
	_, err = d.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{DomainName: aws.String("acme"), ObjectTypeName: aws.String("secret"), Object: aws.String(`{"id":"x","email":"x@example.com"}`)})
	wantAPIError(t, err, "AccessDeniedException", arn+"/object-types/secret")
	_, err = d.ListProfileObjects(ctx, &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("acme"), ObjectTypeName: aws.String("secret"), ProfileId: aws.String("0123456789abcdef0123456789abcdef")})
	wantAPIError(t, err, "AccessDeniedException", arn+"/object-types/secret")
}

// TestAccess_CalculatedValuesOfATypeKey: a calculated attribute's values
// are computed from the objects of the type its definition reads (its
// FIRST_OCCURRENCE is a field as it is): reading them needs kms:Decrypt on
// that type's own key too, as ListProfileObjects of the type does.
func TestAccess_CalculatedValuesOfATypeKey(t *testing.T) {
	m := MustRunMain(t)
	root := MustClient(t, m)
	ctx := t.Context()
	if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("typed"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	domainKey, err := m.Service.EncryptionKeyARN(ctx, "typed")
	if err != nil || domainKey == "" {
		t.Fatalf("domain key: %q, %v", domainKey, err)
	}
	typeKey := mustServiceKey(t, m)
	e := &ingestEnv{t: t, m: m, client: root, domain: "typed"}
	secret := contactType("secret")
	secret.EncryptionKey = aws.String(typeKey)
	e.putType(secret)
	e.putType(contactType("plain"))
	for _, d := range []calcDef{
		{name: "secretEmail", expr: "{secret.email}", stat: "FIRST_OCCURRENCE", attrs: []string{"email"}, historical: true},
		{name: "plainEmail", expr: "{plain.email}", stat: "FIRST_OCCURRENCE", attrs: []string{"email"}, historical: true},
	} {
		if _, err := e.createCalc(d); err != nil {
			t.Fatalf("CreateCalculatedAttributeDefinition %s: %v", d.name, err)
		}
	}
	e.mustPut("secret", map[string]any{"id": "s1", "email": "hidden@example.com"})
	e.mustPut("plain", map[string]any{"id": "p1", "email": "hidden@example.com"})
	pid := aws.ToString(e.mustOne("_email", "hidden@example.com").ProfileId)

	user := func(name string, keys ...string) *customerprofiles.Client {
		resources, _ := json.Marshal(keys)
		return mustUser(t, m, name, map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":`+string(resources)+`}`)})
	}
	get := func(c *customerprofiles.Client, name string) (string, error) {
		out, err := c.GetCalculatedAttributeForProfile(ctx, &customerprofiles.GetCalculatedAttributeForProfileInput{DomainName: aws.String("typed"),
			ProfileId: aws.String(pid), CalculatedAttributeName: aws.String(name)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Value), nil
	}
	batch := func(c *customerprofiles.Client, name string) (string, error) {
		out, err := c.BatchGetCalculatedAttributeForProfile(ctx, &customerprofiles.BatchGetCalculatedAttributeForProfileInput{DomainName: aws.String("typed"),
			ProfileIds: []string{pid}, CalculatedAttributeName: aws.String(name)})
		if err != nil {
			return "", err
		}
		if len(out.CalculatedAttributeValues) != 1 {
			return "", fmt.Errorf("%d values, errors %+v", len(out.CalculatedAttributeValues), out.Errors)
		}
		return aws.ToString(out.CalculatedAttributeValues[0].Value), nil
	}
	list := func(c *customerprofiles.Client) (map[string]string, error) {
		out, err := c.ListCalculatedAttributesForProfile(ctx, &customerprofiles.ListCalculatedAttributesForProfileInput{DomainName: aws.String("typed"), ProfileId: aws.String(pid)})
		if err != nil {
			return nil, err
		}
		values := map[string]string{}
		for _, it := range out.Items {
			values[aws.ToString(it.CalculatedAttributeName)] = aws.ToString(it.Value)
		}
		return values, nil
	}

	agent := user("agent", domainKey)
	for op, read := range map[string]func(*customerprofiles.Client, string) (string, error){"GetCalculatedAttributeForProfile": get, "BatchGetCalculatedAttributeForProfile": batch} {
		v, err := read(agent, "secretEmail")
		if err == nil {
			t.Errorf("%s of a value of the type with its own key, without kms:Decrypt on it: %q, want AccessDeniedException", op, v)
		} else {
			wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", typeKey)
		}
		if v, err := read(agent, "plainEmail"); err != nil || v != "hidden@example.com" {
			t.Errorf("%s of a value of a type under the domain's key: %q, %v", op, v, err)
		}
	}
	// The list holds every attribute's value: the secret one's too.
	_, err = list(agent)
	wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", typeKey)

	trusted := user("trusted", domainKey, typeKey)
	if v, err := get(trusted, "secretEmail"); err != nil || v != "hidden@example.com" {
		t.Errorf("GetCalculatedAttributeForProfile with kms:Decrypt on both keys: %q, %v", v, err)
	}
	if v, err := batch(trusted, "secretEmail"); err != nil || v != "hidden@example.com" {
		t.Errorf("BatchGetCalculatedAttributeForProfile with kms:Decrypt on both keys: %q, %v", v, err)
	}
	values, err := list(trusted)
	if want := map[string]string{"secretEmail": "hidden@example.com", "plainEmail": "hidden@example.com"}; err != nil || !maps.Equal(values, want) {
		t.Errorf("ListCalculatedAttributesForProfile with kms:Decrypt on both keys: %v, %v; want %v", values, err, want)
	}

	// What a segment on such an attribute holds tells the value, a letter
	// at a time (BEGINS_WITH): its membership, estimate and snapshot need
	// the key too, also through a source segment.
	guess := func(attr string) *types.SegmentGroup {
		return &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{calcDim(attr,
			types.CalculatedAttributeDimension{DimensionType: types.AttributeDimensionTypeBeginsWith, Values: []string{"hid"}})}}}}
	}
	for name, attr := range map[string]string{"onSecret": "secretEmail", "onPlain": "plainEmail"} {
		if err := e.createSegment(name, guess(attr)); err != nil {
			t.Fatalf("CreateSegmentDefinition %s: %v", name, err)
		}
	}
	if err := e.createSegment("nested", &types.SegmentGroup{Groups: []types.Group{{SourceSegments: []types.SourceSegment{{SegmentDefinitionName: aws.String("onSecret")}}}}}); err != nil {
		t.Fatalf("CreateSegmentDefinition nested: %v", err)
	}
	member := func(c *customerprofiles.Client, segment string) (string, error) {
		out, err := c.GetSegmentMembership(ctx, &customerprofiles.GetSegmentMembershipInput{DomainName: aws.String("typed"),
			SegmentDefinitionName: aws.String(segment), ProfileIds: []string{pid}})
		if err != nil {
			return "", err
		}
		if len(out.Profiles) != 1 {
			return "", fmt.Errorf("%d profiles, failures %+v", len(out.Profiles), out.Failures)
		}
		return string(out.Profiles[0].QueryResult), nil
	}
	for _, segment := range []string{"onSecret", "nested"} {
		if got, err := member(agent, segment); err == nil {
			t.Errorf("GetSegmentMembership of %s without kms:Decrypt on the type's key: %q, want AccessDeniedException", segment, got)
		} else {
			wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", typeKey)
		}
		if got, err := member(trusted, segment); err != nil || got != "PRESENT" {
			t.Errorf("GetSegmentMembership of %s with kms:Decrypt on both keys: %q, %v; want PRESENT", segment, got, err)
		}
	}
	if got, err := member(agent, "onPlain"); err != nil || got != "PRESENT" {
		t.Errorf("GetSegmentMembership of a segment on a type under the domain's key: %q, %v; want PRESENT", got, err)
	}
	estimate := func(c *customerprofiles.Client, attr string) error {
		_, err := c.CreateSegmentEstimate(ctx, &customerprofiles.CreateSegmentEstimateInput{DomainName: aws.String("typed"),
			SegmentQuery: &types.SegmentGroupStructure{Groups: guess(attr).Groups}})
		return err
	}
	wantAPIError(t, estimate(agent, "secretEmail"), "AccessDeniedException", "kms:Decrypt", typeKey)
	if err := estimate(agent, "plainEmail"); err != nil {
		t.Errorf("CreateSegmentEstimate on a type under the domain's key: %v", err)
	}
	if err := estimate(trusted, "secretEmail"); err != nil {
		t.Errorf("CreateSegmentEstimate with kms:Decrypt on both keys: %v", err)
	}
	// An estimate made by one who may read it is read by such callers
	// only: its count answers the query as CreateSegmentEstimate did.
	for attr, agentMay := range map[string]bool{"secretEmail": false, "plainEmail": true} {
		made, err := trusted.CreateSegmentEstimate(ctx, &customerprofiles.CreateSegmentEstimateInput{DomainName: aws.String("typed"),
			SegmentQuery: &types.SegmentGroupStructure{Groups: guess(attr).Groups}})
		if err != nil {
			t.Fatalf("CreateSegmentEstimate on %s: %v", attr, err)
		}
		get := func(c *customerprofiles.Client) error {
			_, err := c.GetSegmentEstimate(ctx, &customerprofiles.GetSegmentEstimateInput{DomainName: aws.String("typed"), EstimateId: made.EstimateId})
			return err
		}
		if err := get(trusted); err != nil {
			t.Errorf("GetSegmentEstimate on %s with kms:Decrypt on both keys: %v", attr, err)
		}
		if err := get(agent); agentMay && err != nil {
			t.Errorf("GetSegmentEstimate on %s (a type under the domain's key): %v", attr, err)
		} else if !agentMay {
			wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", typeKey)
		}
	}
	_, err = agent.CreateSegmentSnapshot(ctx, &customerprofiles.CreateSegmentSnapshotInput{DomainName: aws.String("typed"),
		SegmentDefinitionName: aws.String("onSecret"), DataFormat: types.DataFormatJsonl})
	wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", typeKey)
}

// TestAccess_RecommendationsOfATypeKey: recommendations are made of the
// interaction events (objects of _webAnalytics: the items' names,
// categories, prices): with an EncryptionKey of that type's own, reading
// them needs kms:Decrypt on it too.
func TestAccess_RecommendationsOfATypeKey(t *testing.T) {
	e := newDomainEnv(t, "shop")
	ctx := t.Context()
	domainKey, err := e.m.Service.EncryptionKeyARN(ctx, "shop")
	if err != nil || domainKey == "" {
		t.Fatalf("domain key: %q, %v", domainKey, err)
	}
	typeKey := mustServiceKey(t, e.m)
	events := webAnalyticsType()
	events.EncryptionKey = aws.String(typeKey)
	e.putType(events)
	now := time.Now()
	for i := range 4 {
		e.putEvent(i, fmt.Sprintf("buyer%d@example.com", i), "purchase", jacket, now.Add(-time.Duration(i+1)*time.Hour))
	}
	e.putEvent(9, "ann@example.com", "view", shoes, now.Add(-time.Hour))
	ann := e.mustOne("_email", "ann@example.com").ProfileId
	if _, err := e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: aws.String("shop"),
		RecommenderName: aws.String("popular"), RecommenderRecipeName: types.RecommenderRecipeNamePopularItems}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.Service.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining: %d, %v; want 1", n, err)
	}
	recommend := func(c *customerprofiles.Client) ([]string, error) {
		out, err := c.GetProfileRecommendations(ctx, &customerprofiles.GetProfileRecommendationsInput{DomainName: aws.String("shop"),
			ProfileId: ann, RecommenderName: aws.String("popular")})
		if err != nil {
			return nil, err
		}
		var names []string
		for _, r := range out.Recommendations {
			if r.CatalogItem != nil {
				names = append(names, aws.ToString(r.CatalogItem.Name))
			}
		}
		return names, nil
	}
	user := func(name string, keys ...string) *customerprofiles.Client {
		resources, _ := json.Marshal(keys)
		return mustUser(t, e.m, name, map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":`+string(resources)+`}`)})
	}
	if names, err := recommend(user("agent", domainKey)); err == nil {
		t.Errorf("GetProfileRecommendations without kms:Decrypt on the events' key: %v, want AccessDeniedException", names)
	} else {
		wantAPIError(t, err, "AccessDeniedException", "kms:Decrypt", typeKey)
	}
	names, err := recommend(user("trusted", domainKey, typeKey))
	if err != nil || !slices.Contains(names, jacket.name) {
		t.Errorf("GetProfileRecommendations with kms:Decrypt on both keys: %v, %v; want %q among them", names, err, jacket.name)
	}
}
