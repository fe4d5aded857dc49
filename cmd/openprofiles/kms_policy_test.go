package main_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// userKMSClient returns a KMS client of the server's built-in KMS signing
// with the access key id/secret.
func userKMSClient(tb testing.TB, m *main.Main, id, secret string) *kms.Client {
	tb.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(transport.CloseIdleConnections)
	return kms.New(kms.Options{BaseEndpoint: aws.String(m.URL()), Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:  sdkhttp.New(&http.Client{Transport: transport})})
}

// userARN is the ARN of the test account's user name.
func userARN(name string) string { return "arn:aws:iam::000000000000:user/" + name }

// domainKeyPolicy returns a key policy that lets the service use the key
// for the account's domains, with the statements given (Go values, to be
// marshalled) before that one.
func domainKeyPolicy(statements ...map[string]any) string {
	statements = append(statements, map[string]any{
		"Sid": "CustomerProfiles", "Effect": "Allow", "Principal": map[string]any{"Service": "profile.amazonaws.com"},
		"Action": serviceActions, "Resource": "*",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": "000000000000"},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:profile:us-east-1:000000000000:domains/*"},
		},
	})
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b)
}

// accountStatement is the key policy statement that lets the account's
// identity policies grant access to the key ("Enable IAM User
// Permissions" of AWS's default key policy).
var accountStatement = map[string]any{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
	"Principal": map[string]any{"AWS": "arn:aws:iam::000000000000:root"}, "Action": "kms:*", "Resource": "*"}

// TestKMS_KeyPolicyAndIdentityPolicies: who may use a key of the built-in
// KMS is decided as AWS KMS decides it, alike for the reads of profile data
// (kms:Decrypt on the domain's key) and for the KMS API itself (Decrypt):
// a key policy statement naming the principal allows with no identity
// policy; a statement naming the account (arn:aws:iam::ACCOUNT:root) lets
// the identity policies decide; without that statement an identity policy
// allows nothing; a grant allows; an explicit Deny in the key policy or in
// the identity policies wins; the account root may do everything.
func TestKMS_KeyPolicyAndIdentityPolicies(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	root, rootKMS := MustClient(t, m), MustKMSClient(t, m)
	allowNamed := func(users ...string) map[string]any {
		var arns []string
		for _, u := range users {
			arns = append(arns, userARN(u))
		}
		return map[string]any{"Sid": "Named", "Effect": "Allow", "Principal": map[string]any{"AWS": arns},
			"Action": []string{"kms:Decrypt", "kms:DescribeKey"}, "Resource": "*"}
	}
	keys := map[string]string{}
	for name, pol := range map[string]string{
		// Names alice and dave, and keyadmin, and not the account.
		"named": domainKeyPolicy(allowNamed("alice", "dave"), map[string]any{"Sid": "Admin", "Effect": "Allow",
			"Principal": map[string]any{"AWS": userARN("keyadmin")}, "Action": "kms:*", "Resource": "*"}),
		// AWS's default: the account's identity policies decide.
		"account": domainKeyPolicy(accountStatement),
		// The account, alice by name, and a Deny for bob.
		"deny": domainKeyPolicy(accountStatement, allowNamed("alice"),
			map[string]any{"Sid": "NotBob", "Effect": "Deny", "Principal": map[string]any{"AWS": userARN("bob")}, "Action": "kms:Decrypt", "Resource": "*"}),
	} {
		out, err := rootKMS.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(pol), BypassPolicyLockoutSafetyCheck: true})
		if err != nil {
			t.Fatalf("CreateKey %s: %v", name, err)
		}
		keys[name] = aws.ToString(out.KeyMetadata.Arn)
		if _, err := root.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(30),
			DefaultEncryptionKey: out.KeyMetadata.Arn}); err != nil {
			t.Fatalf("CreateDomain %s: %v", name, err)
		}
		e := &ingestEnv{t: t, m: m, client: root, domain: name}
		e.putType(contactType("contact"))
		e.mustPut("contact", map[string]any{"id": "c1", "email": "policy@example.com"})
	}
	// Data keys sealed under each key, made by the server's key manager
	// (which checks no policy), for the users to decrypt.
	plaintexts, ciphertexts := map[string][]byte{}, map[string][]byte{}
	for name, key := range keys {
		pt, ct, err := m.KMS.GenerateDataKey(ctx, key, nil)
		if err != nil {
			t.Fatalf("GenerateDataKey under %s: %v", name, err)
		}
		plaintexts[name], ciphertexts[name] = pt, ct
	}

	profilesOnly := `{"Effect":"Allow","Action":"profile:*","Resource":"*"}`
	type user struct {
		cp  *customerprofiles.Client
		kms *kms.Client
	}
	users := map[string]user{}
	for name, statements := range map[string][]string{
		"alice": {profilesOnly},
		"bob":   {profilesOnly, `{"Effect":"Allow","Action":"kms:*","Resource":"*"}`},
		"dave":  {profilesOnly, `{"Effect":"Deny","Action":"kms:*","Resource":"*"}`},
		"erin":  {profilesOnly},
		// keyadmin's identity policy allows what the key policy of the
		// key "named" lets it do: grant.
		"keyadmin": {`{"Effect":"Allow","Action":"kms:*","Resource":"*"}`},
	} {
		id, secret := mustUserKey(t, m, name, map[string]string{"p": policy(statements...)})
		users[name] = user{newClient(t, m, id, secret, testRegion), userKMSClient(t, m, id, secret)}
	}
	users["root"] = user{root, rootKMS}
	// Grants of Decrypt to erin on the key that names no one but alice,
	// dave and keyadmin (who grants on it), and on the account's key; and
	// to dave, whom his identity policy denies.
	for _, g := range []struct{ key, user string }{{"named", "erin"}, {"account", "erin"}, {"named", "dave"}} {
		granter := rootKMS
		if g.key == "named" {
			granter = users["keyadmin"].kms
		}
		if _, err := granter.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keys[g.key]), GranteePrincipal: aws.String(userARN(g.user)),
			Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}}); err != nil {
			t.Fatalf("CreateGrant on %s to %s: %v", g.key, g.user, err)
		}
	}

	for _, tc := range []struct {
		name, user, key string
		allowed         bool
		api             string // the KMS API's answer when it differs: "denied"
	}{
		{"(a) key policy names the principal, no identity policy", "alice", "named", true, ""},
		{"(b) key policy allows the account, identity policy allows", "bob", "account", true, ""},
		{"(c) key policy allows the account, no identity policy", "alice", "account", false, ""},
		{"(d) key policy without the account, identity policy allows", "bob", "named", false, ""},
		{"(e) explicit Deny in the key policy, over the account and an identity Allow", "bob", "deny", false, ""},
		{"(e) the same key policy names another principal", "alice", "deny", true, ""},
		{"(f) explicit Deny in the identity policy, over the key policy and a grant", "dave", "named", false, ""},
		{"grant on a key that names other principals, no identity policy", "erin", "named", true, ""},
		{"grant on a key that allows the account, no identity policy", "erin", "account", true, ""},
		// The account root reads every domain's profile data; the key's
		// policy binds it on the KMS API, as on AWS.
		{"account root, not named", "root", "named", true, "denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := users[tc.user]
			_, err := u.cp.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(tc.key),
				KeyName: aws.String("_email"), Values: []string{"policy@example.com"}})
			checkAllowed(t, "SearchProfiles", err, tc.allowed, "kms:Decrypt")
			out, err := u.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ciphertexts[tc.key]})
			checkAllowed(t, "kms Decrypt", err, tc.allowed && tc.api != "denied", "kms:Decrypt")
			if err == nil && !bytes.Equal(out.Plaintext, plaintexts[tc.key]) {
				t.Errorf("kms Decrypt: %q", out.Plaintext)
			}
		})
	}

	// A grant that allows CreateGrant gives no more than itself, also on a
	// key whose policy lets the account's identity policies decide (erin
	// has none): erin may not give herself Encrypt through a grant of
	// Decrypt and CreateGrant.
	if _, err := rootKMS.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keys["account"]), GranteePrincipal: aws.String(userARN("erin")),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationCreateGrant}}); err != nil {
		t.Fatal(err)
	}
	erin := users["erin"].kms
	_, err := erin.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keys["account"]), GranteePrincipal: aws.String(userARN("erin")),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationEncrypt}})
	checkAllowed(t, "CreateGrant of Encrypt through a grant of Decrypt and CreateGrant", err, false, "")
	if _, err := erin.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keys["account"]), GranteePrincipal: aws.String(userARN("alice")),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}}); err != nil {
		t.Errorf("CreateGrant of Decrypt through a grant of Decrypt and CreateGrant: %v", err)
	}
	// bob, whose identity policy allows kms:*, creates grants on the
	// account's key by that policy, not through a grant.
	if _, err := users["bob"].kms.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keys["account"]), GranteePrincipal: aws.String(userARN("bob")),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationCreateGrant}}); err != nil {
		t.Fatal(err)
	}
	if _, err := users["bob"].kms.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keys["account"]), GranteePrincipal: aws.String(userARN("bob")),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationEncrypt}}); err != nil {
		t.Errorf("CreateGrant by a principal whose identity policy allows it, holding a grant of CreateGrant only: %v", err)
	}
}

// checkAllowed fails t unless err is nil (allowed) or an access-denied
// error whose message holds words (not allowed).
func checkAllowed(t *testing.T, op string, err error, allowed bool, words ...string) {
	t.Helper()
	switch {
	case allowed && err != nil:
		t.Errorf("%s: %v, want it allowed", op, err)
	case !allowed && err == nil:
		t.Errorf("%s: allowed, want AccessDeniedException", op)
	case !allowed && !strings.Contains(err.Error(), "AccessDenied"):
		t.Errorf("%s: %v, want AccessDeniedException", op, err)
	case !allowed:
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to name %q", op, err, w)
			}
		}
	}
}

// TestKMS_ExternalIdentityPolicies: with an external KMS, whose key
// policies this server cannot read, the identity policies alone decide
// kms:Decrypt on a domain's key for reads of profile data.
func TestKMS_ExternalIdentityPolicies(t *testing.T) {
	url, _, key := mustExternalKMSKey(t)
	ctx := t.Context()
	m := MustRunMain(t, func(c *main.Config) { c.KMSEndpoint = url })
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "external"}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ext@example.com"})
	profilesOnly := `{"Effect":"Allow","Action":"profile:*","Resource":"*"}`
	for _, tc := range []struct {
		user       string
		statements []string
		allowed    bool
	}{
		{"reader", []string{profilesOnly, `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key + `"}`}, true},
		{"writer", []string{profilesOnly}, false},
		{"denied", []string{profilesOnly, `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`, `{"Effect":"Deny","Action":"kms:Decrypt","Resource":"` + key + `"}`}, false},
	} {
		c := mustUser(t, m, tc.user, map[string]string{"p": policy(tc.statements...)})
		_, err := c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain),
			KeyName: aws.String("_email"), Values: []string{"ext@example.com"}})
		checkAllowed(t, "SearchProfiles by "+tc.user, err, tc.allowed, "kms:Decrypt")
	}
}

// TestKMS_RetireGrantThroughAGrant: a grant that allows RetireGrant lets
// its grantee retire that grant, not the other grants of the key: the
// grantee with no identity policy (on a key whose policy names only the
// account) may not retire another principal's grant by its id.
func TestKMS_RetireGrantThroughAGrant(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	rootKMS := MustKMSClient(t, m)
	created, err := rootKMS.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	key := created.KeyMetadata.Arn
	grant := func(user string, ops ...kmstypes.GrantOperation) string {
		t.Helper()
		out, err := rootKMS.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key, GranteePrincipal: aws.String(userARN(user)), Operations: ops})
		if err != nil {
			t.Fatalf("CreateGrant to %s: %v", user, err)
		}
		return aws.ToString(out.GrantId)
	}
	erinGrant := grant("erin", kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationRetireGrant)
	aliceGrant := grant("alice", kmstypes.GrantOperationDecrypt)
	id, secret := mustUserKey(t, m, "erin", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`)})
	erin := userKMSClient(t, m, id, secret)

	_, err = erin.RetireGrant(ctx, &kms.RetireGrantInput{KeyId: key, GrantId: aws.String(aliceGrant)})
	checkAllowed(t, "RetireGrant of another principal's grant, through a grant of RetireGrant", err, false, "kms:RetireGrant")
	list, err := rootKMS.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Grants) != 2 {
		t.Errorf("grants after the refused RetireGrant: %d, want 2", len(list.Grants))
	}
	if _, err := erin.RetireGrant(ctx, &kms.RetireGrantInput{KeyId: key, GrantId: aws.String(erinGrant)}); err != nil {
		t.Errorf("RetireGrant of the grantee's own grant, which allows RetireGrant: %v", err)
	}
}
