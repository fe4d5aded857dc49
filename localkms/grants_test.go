package localkms_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
)

// adminOnly is a key policy that names user/admin only: it does not
// delegate to the account, so other users need a grant.
const adminOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"},"Action":"kms:*","Resource":"*"}]}`

func TestAPI_Grants(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	admin, alice := s.Client("AKADMIN"), s.Client("AKALICE")
	id := s.MustCreateKey(t, adminOnly)
	ec := map[string]string{"aws:profile:domain": "d1"}
	dk, err := admin.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("GenerateDataKey(admin): %v", err)
	}

	// Without a grant, alice may not decrypt.
	_, err = alice.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec})
	checkAPIError(t, "Decrypt(alice, no grant)", err, localkms.ExAccessDenied)

	g, err := admin.CreateGrant(ctx, &kms.CreateGrantInput{
		KeyId:             aws.String(id),
		GranteePrincipal:  aws.String("arn:aws:iam::000000000000:user/alice"),
		RetiringPrincipal: aws.String("arn:aws:iam::000000000000:user/admin"),
		Operations:        []types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationRetireGrant},
		Constraints:       &types.GrantConstraints{EncryptionContextSubset: ec},
		Name:              aws.String("alice-decrypt"),
	})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	again, err := admin.CreateGrant(ctx, &kms.CreateGrantInput{
		KeyId:             aws.String(id),
		GranteePrincipal:  aws.String("arn:aws:iam::000000000000:user/alice"),
		RetiringPrincipal: aws.String("arn:aws:iam::000000000000:user/admin"),
		Operations:        []types.GrantOperation{types.GrantOperationRetireGrant, types.GrantOperationDecrypt},
		Constraints:       &types.GrantConstraints{EncryptionContextSubset: ec},
		Name:              aws.String("alice-decrypt"),
	})
	if err != nil {
		t.Fatalf("CreateGrant(same again): %v", err)
	}
	if aws.ToString(again.GrantId) != aws.ToString(g.GrantId) {
		t.Errorf("CreateGrant of the same name and parameters: grant %s, want %s", aws.ToString(again.GrantId), aws.ToString(g.GrantId))
	}

	dec, err := alice.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Decrypt(alice, grant): %v", err)
	}
	if !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Errorf("Decrypt(alice) differs")
	}
	// The grant allows Decrypt only, and only within its constraints.
	_, err = alice.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	checkAPIError(t, "GenerateDataKey(alice, grant for Decrypt)", err, localkms.ExAccessDenied)
	other, err := admin.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionContext: map[string]string{"aws:profile:domain": "d2"}})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	_, err = alice.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: other.CiphertextBlob, EncryptionContext: map[string]string{"aws:profile:domain": "d2"}})
	checkAPIError(t, "Decrypt(alice, context outside the grant's constraints)", err, localkms.ExAccessDenied)

	list, err := admin.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("ListGrants: %v", err)
	}
	if len(list.Grants) != 1 {
		t.Fatalf("ListGrants: %d grants, want 1", len(list.Grants))
	}
	lg := list.Grants[0]
	if aws.ToString(lg.GrantId) != aws.ToString(g.GrantId) || aws.ToString(lg.Name) != "alice-decrypt" ||
		aws.ToString(lg.GranteePrincipal) != "arn:aws:iam::000000000000:user/alice" ||
		aws.ToString(lg.KeyId) != "arn:aws:kms:us-east-1:000000000000:key/"+id ||
		lg.Constraints == nil || lg.Constraints.EncryptionContextSubset["aws:profile:domain"] != "d1" ||
		len(lg.Operations) != 2 || aws.ToString(lg.IssuingAccount) != rootARN {
		t.Errorf("ListGrants: %+v", lg)
	}

	// Alice retires her grant (it allows RetireGrant); then she is denied.
	if _, err := alice.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken}); err != nil {
		t.Fatalf("RetireGrant: %v", err)
	}
	_, err = alice.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec})
	checkAPIError(t, "Decrypt(alice, retired grant)", err, localkms.ExAccessDenied)
	_, err = alice.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken})
	checkAPIError(t, "RetireGrant(retired)", err, localkms.ExInvalidGrantToken)

	// Revoke.
	g2, err := admin.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id),
		GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/alice"), Operations: []types.GrantOperation{types.GrantOperationEncrypt}})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	if _, err := alice.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")}); err != nil {
		t.Fatalf("Encrypt(alice, grant): %v", err)
	}
	_, err = alice.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: g2.GrantId})
	checkAPIError(t, "RevokeGrant(alice)", err, localkms.ExAccessDenied)
	if _, err := admin.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: g2.GrantId}); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	_, err = alice.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	checkAPIError(t, "Encrypt(alice, revoked grant)", err, localkms.ExAccessDenied)
	_, err = admin.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(id), GrantId: g2.GrantId})
	checkAPIError(t, "RevokeGrant(revoked)", err, localkms.ExNotFound)

	_, err = admin.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id),
		GranteePrincipal: aws.String("x"), Operations: []types.GrantOperation{types.GrantOperationSign}})
	checkAPIError(t, "CreateGrant(Sign)", err, localkms.ExValidation)
}

func TestAPI_Authorization(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	id := s.MustCreateKey(t, "")
	alice := s.Client("AKALICE")

	// The default policy delegates to the account: the authorize callback
	// decides for alice.
	if _, err := alice.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatalf("DescribeKey(alice, default policy): %v", err)
	}
	s.Deny("arn:aws:iam::000000000000:user/alice", "kms:DescribeKey")
	_, err := alice.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	checkAPIError(t, "DescribeKey(alice, denied by the callback)", err, localkms.ExAccessDenied)
	s.Deny("arn:aws:iam::000000000000:user/alice", "kms:CreateKey")
	_, err = alice.CreateKey(ctx, &kms.CreateKeyInput{})
	checkAPIError(t, "CreateKey(alice, denied by the callback)", err, localkms.ExAccessDenied)

	// An explicit Deny of the key policy wins over the callback.
	deny := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"kms:Encrypt","Resource":"*"}]}`
	id2 := s.MustCreateKey(t, deny)
	_, err = alice.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id2), Plaintext: []byte("x")})
	checkAPIError(t, "Encrypt(alice, explicit deny)", err, localkms.ExAccessDenied)
	if _, err := s.Client("AKROOT").Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id2), Plaintext: []byte("x")}); err != nil {
		t.Fatalf("Encrypt(root): %v", err)
	}
}

// signedPost sends a KMS API request signed by accessKeyID for service.
func signedPost(t *testing.T, url, target, body, accessKeyID, service string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sum := sha256Hex(body)
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretOf(accessKeyID)}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sum, service, testRegion, time.Now()); err != nil {
		t.Fatalf("sign: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAPI_Protocol(t *testing.T) {
	s := MustServer(t)
	for _, tt := range []struct {
		name, target, body, key, service string
		status                           int
		exception                        string
	}{
		{"UnknownOperation", "TrentService.Frobnicate", "{}", "AKROOT", "kms", 400, localkms.ExUnknownOperation},
		{"NoTarget", "", "{}", "AKROOT", "kms", 400, localkms.ExUnknownOperation},
		{"OtherService", "TrentService.ListKeys", "{}", "AKROOT", "profile", 403, "InvalidSignatureException"},
		{"UnknownAccessKey", "TrentService.ListKeys", "{}", "AKNOBODY", "kms", 403, "UnrecognizedClientException"},
		{"BadJSON", "TrentService.ListKeys", "{", "AKROOT", "kms", 400, localkms.ExSerialization},
		{"OK", "TrentService.ListKeys", "", "AKROOT", "kms", 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := signedPost(t, s.URL, tt.target, tt.body, tt.key, tt.service)
			if resp.Header.Get("x-amzn-RequestId") == "" {
				t.Errorf("no x-amzn-RequestId")
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if tt.exception != "" && !strings.Contains(body, `"__type":"`+tt.exception+`"`) {
				t.Errorf("body %s, want __type %s", body, tt.exception)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestAPI_ConditionKeys: the key policy sees the request's global
// condition keys (a Deny on aws:SourceIp holds), and the identity check
// sees the encryption context (kms:EncryptionContext:…), as on AWS.
func TestAPI_ConditionKeys(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	deny := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}`
	id := s.MustCreateKey(t, deny)
	alice := s.Client("AKALICE")
	_, err := alice.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	checkAPIError(t, "Encrypt from 127.0.0.1 under a key policy denying 127.0.0.0/8", err, localkms.ExAccessDenied)

	open := s.MustCreateKey(t, "")
	if _, err := alice.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(open), Plaintext: []byte("x"), EncryptionContext: map[string]string{"tenant": "secret"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Cond("kms:Encrypt")["kms:EncryptionContext:tenant"]; len(got) != 1 || got[0] != "secret" {
		t.Errorf("the identity check saw kms:EncryptionContext:tenant = %v, want [secret]", got)
	}
}

// TestAPI_GrantsThroughGrants: a grantee allowed CreateGrant by a grant
// may give no more than its grant (AWS), and a grant's retiring principal
// retires it with no permission besides.
func TestAPI_GrantsThroughGrants(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	admin, bob, carol := s.Client("AKADMIN"), s.Client("AKBOB"), s.Client("AKCAROL")
	id := s.MustCreateKey(t, adminOnly)
	if _, err := admin.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/bob"),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationCreateGrant}}); err != nil {
		t.Fatal(err)
	}
	_, err := bob.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/bob"),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	checkAPIError(t, "CreateGrant(bob gives himself Decrypt through a grant of Encrypt)", err, localkms.ExAccessDenied)
	if _, err := bob.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/carol"),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt}}); err != nil {
		t.Errorf("CreateGrant(bob gives carol Encrypt, within his grant): %v", err)
	}

	g, err := admin.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/bob"),
		RetiringPrincipal: aws.String("arn:aws:iam::000000000000:user/carol"), Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	if err != nil {
		t.Fatal(err)
	}
	s.Deny("arn:aws:iam::000000000000:user/carol", "kms:RetireGrant")
	if _, err := carol.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken}); err != nil {
		t.Errorf("RetireGrant by the grant's retiring principal: %v", err)
	}
}

// TestDecideKey_EncryptionContext: the service's check of a key's policy
// and grants (DecideKey) reads the encryption context from the request's
// condition keys: a grant constrained to a context allows within it only.
func TestDecideKey_EncryptionContext(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	id := s.MustCreateKey(t, adminOnly)
	if _, err := s.Client("AKADMIN").CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/alice"),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}, Constraints: &types.GrantConstraints{EncryptionContextSubset: map[string]string{"t": "a"}}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		t    string
		want bool
	}{{"a", true}, {"b", false}} {
		d, err := s.KMS.DecideKey(ctx, id, "arn:aws:iam::000000000000:user/alice", "kms:Decrypt", map[string][]string{"kms:EncryptionContext:t": {tt.t}}, true)
		if err != nil || d.Allowed != tt.want || d.ByGrant != tt.want {
			t.Errorf("DecideKey with context t=%s: %+v, %v; want allowed (by a grant) %v", tt.t, d, err, tt.want)
		}
	}
}

// TestDecideKey: the key policy decides as AWS KMS's does. A statement
// naming the principal allows whatever its identity policies say (the
// caller refuses an explicit Deny of those first); one naming the account
// allows when the identity policies do; an explicit Deny refuses; a grant
// allows; nothing else does.
func TestDecideKey(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	const alice, bob = "arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/bob"
	named := s.MustCreateKey(t, `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"AWS":"`+alice+`"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	account := s.MustCreateKey(t, `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Deny","Principal":{"AWS":"`+bob+`"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	byID := s.MustCreateKey(t, `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"kms:*","Resource":"*"}]}`)
	if _, err := s.Client("AKADMIN").CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(named), GranteePrincipal: aws.String(bob),
		Operations: []types.GrantOperation{types.GrantOperationEncrypt}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, key, principal, action string
		identity, want, byGrant      bool
	}{
		{"named, no identity policy", named, alice, "kms:Decrypt", false, true, false},
		{"named, identity policy", named, alice, "kms:Decrypt", true, true, false},
		{"named for another action", named, alice, "kms:Encrypt", true, false, false},
		{"not named, identity policy", named, bob, "kms:Decrypt", true, false, false},
		{"grant, no identity policy", named, bob, "kms:Encrypt", false, true, true},
		{"account, identity policy", account, alice, "kms:Decrypt", true, true, false},
		{"account, no identity policy", account, alice, "kms:Decrypt", false, false, false},
		{"account by id, identity policy", byID, alice, "kms:Decrypt", true, true, false},
		{"account by id, no identity policy", byID, alice, "kms:Decrypt", false, false, false},
		{"explicit Deny over the account and an identity policy", account, bob, "kms:Decrypt", true, false, false},
		{"account root", account, rootARN, "kms:Decrypt", false, true, false},
	} {
		d, err := s.KMS.DecideKey(ctx, tt.key, tt.principal, tt.action, nil, tt.identity)
		if err != nil || d.Allowed != tt.want || d.ByGrant != tt.byGrant || d.Reason == "" {
			t.Errorf("%s: DecideKey = %+v, %v; want allowed %v, by a grant %v, with a reason", tt.name, d, err, tt.want, tt.byGrant)
		}
	}
	if _, err := s.KMS.DecideKey(ctx, "alias/none", alice, "kms:Decrypt", nil, true); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("DecideKey of a missing key: %v, want ENOTFOUND", err)
	}
}

// TestAPI_ServiceOwnedKey: the service's own key (of domains without one)
// is not for the account to manage, as an AWS-owned key is not: disabling,
// scheduling its deletion, changing its policy, granting on it and moving
// or deleting its alias are refused, to the root as to users.
func TestAPI_ServiceOwnedKey(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	arn, err := s.KMS.EnsureDefaultKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := s.MustCreateKey(t, "")
	for _, who := range []string{"AKROOT", "AKALICE"} {
		c := s.Client(who)
		_, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)})
		checkAPIError(t, who+" DisableKey(service key)", err, localkms.ExAccessDenied)
		_, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(localkms.DefaultKeyAlias)})
		checkAPIError(t, who+" ScheduleKeyDeletion(service key)", err, localkms.ExAccessDenied)
		_, err = c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default"), Policy: aws.String(adminOnly)})
		checkAPIError(t, who+" PutKeyPolicy(service key)", err, localkms.ExAccessDenied)
		_, err = c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(arn), GranteePrincipal: aws.String("arn:aws:iam::000000000000:user/alice"),
			Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
		checkAPIError(t, who+" CreateGrant(service key)", err, localkms.ExAccessDenied)
		_, err = c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(localkms.DefaultKeyAlias), TargetKeyId: aws.String(other)})
		checkAPIError(t, who+" UpdateAlias(service key's alias)", err, localkms.ExAccessDenied)
		_, err = c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(localkms.DefaultKeyAlias)})
		checkAPIError(t, who+" DeleteAlias(service key's alias)", err, localkms.ExAccessDenied)
	}
	out, err := s.Client("AKROOT").DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	if err != nil || out.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Errorf("the service key after the attempts: %+v, %v; want it enabled", out, err)
	}
	if _, err := s.Client("AKROOT").DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(other)}); err != nil {
		t.Errorf("DisableKey of an account key: %v", err)
	}
}
