package localkms_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openprofiles/profiles/localkms"
)

func TestAPI_KeyLifecycle(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")

	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("profiles key"),
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		KeySpec:     types.KeySpecSymmetricDefault,
		Tags:        []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("support")}},
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	md := out.KeyMetadata
	id := aws.ToString(md.KeyId)
	arn := "arn:aws:kms:us-east-1:000000000000:key/" + id
	if got := aws.ToString(md.Arn); got != arn {
		t.Errorf("CreateKey: Arn=%q, want %q", got, arn)
	}
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("CreateKey: KeyId=%q, want a UUID", id)
	}
	if md.KeyState != types.KeyStateEnabled || !md.Enabled || md.KeySpec != types.KeySpecSymmetricDefault ||
		md.KeyUsage != types.KeyUsageTypeEncryptDecrypt || aws.ToString(md.AWSAccountId) != testAccount ||
		aws.ToString(md.Description) != "profiles key" || md.Origin != types.OriginTypeAwsKms {
		t.Errorf("CreateKey: metadata %+v", md)
	}
	if got, want := aws.ToTime(md.CreationDate), s.Clock.Now(); !got.Equal(want) {
		t.Errorf("CreateKey: CreationDate=%v, want %v", got, want)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/profiles"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	for _, name := range []string{id, arn, "alias/profiles", "arn:aws:kms:us-east-1:000000000000:alias/profiles"} {
		got, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeKey(%s): %v", name, err)
		}
		if aws.ToString(got.KeyMetadata.KeyId) != id {
			t.Errorf("DescribeKey(%s).KeyId=%q, want %q", name, aws.ToString(got.KeyMetadata.KeyId), id)
		}
	}
	for _, name := range []string{"alias/missing", "2f6b2a1e-0000-4000-8000-000000000000",
		"arn:aws:kms:eu-west-1:000000000000:key/" + id, "not-a-key",
		// Another partition: authorised as a resource other than the
		// key's ARN, it would escape a Deny on that ARN.
		"arn:aws-cn:kms:us-east-1:000000000000:key/" + id, "arn:x:kms:us-east-1:000000000000:alias/profiles"} {
		_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(name)})
		checkAPIError(t, "DescribeKey("+name+")", err, localkms.ExNotFound)
	}

	// Disable: no new data keys; enable again.
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	got, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	if got.KeyMetadata.KeyState != types.KeyStateDisabled || got.KeyMetadata.Enabled {
		t.Errorf("DescribeKey after DisableKey: KeyState=%s Enabled=%v", got.KeyMetadata.KeyState, got.KeyMetadata.Enabled)
	}
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
	var disabled *types.DisabledException
	if !errors.As(err, &disabled) {
		t.Fatalf("GenerateDataKey(disabled key): err=%v, want *types.DisabledException", err)
	}
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	if _, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256}); err != nil {
		t.Fatalf("GenerateDataKey after EnableKey: %v", err)
	}

	// Schedule deletion, cancel, schedule again and let it happen.
	_, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(6)})
	checkAPIError(t, "ScheduleKeyDeletion(6 days)", err, localkms.ExValidation)
	sched, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	if want := s.Clock.Now().Add(7 * 24 * time.Hour); !aws.ToTime(sched.DeletionDate).Equal(want) || sched.KeyState != types.KeyStatePendingDeletion ||
		aws.ToInt32(sched.PendingWindowInDays) != 7 || aws.ToString(sched.KeyId) != arn {
		t.Errorf("ScheduleKeyDeletion: %+v, want deletion on %v", sched, want)
	}
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
	checkAPIError(t, "GenerateDataKey(pending deletion)", err, localkms.ExInvalidState)
	_, err = c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(id)})
	checkAPIError(t, "EnableKey(pending deletion)", err, localkms.ExInvalidState)
	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(id)}); err != nil {
		t.Fatalf("CancelKeyDeletion: %v", err)
	}
	got, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	if got.KeyMetadata.KeyState != types.KeyStateDisabled || got.KeyMetadata.DeletionDate != nil {
		t.Errorf("DescribeKey after CancelKeyDeletion: KeyState=%s DeletionDate=%v, want Disabled and none",
			got.KeyMetadata.KeyState, got.KeyMetadata.DeletionDate)
	}
	_, err = c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(id)})
	checkAPIError(t, "CancelKeyDeletion(not pending)", err, localkms.ExInvalidState)

	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	s.Clock.Add(7*24*time.Hour - time.Second)
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatalf("DescribeKey a second before deletion: %v", err)
	}
	s.Clock.Add(time.Second)
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	checkAPIError(t, "DescribeKey(deleted)", err, localkms.ExNotFound)
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/profiles")})
	checkAPIError(t, "DescribeKey(alias of a deleted key)", err, localkms.ExNotFound)
}

func TestAPI_ListKeys(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	var want []string
	for range 5 {
		want = append(want, s.MustCreateKey(t, ""))
	}
	slices.Sort(want)

	var got []string
	pages := 0
	p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListKeys: %v", err)
		}
		pages++
		if len(out.Keys) > 2 {
			t.Errorf("ListKeys(Limit 2): %d keys", len(out.Keys))
		}
		for _, k := range out.Keys {
			got = append(got, aws.ToString(k.KeyId))
			if want := "arn:aws:kms:us-east-1:000000000000:key/" + aws.ToString(k.KeyId); aws.ToString(k.KeyArn) != want {
				t.Errorf("ListKeys: KeyArn=%q, want %q", aws.ToString(k.KeyArn), want)
			}
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("ListKeys by 2: %d pages of %v, want 3 pages of %v", pages, got, want)
	}
	_, err := c.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("not base64!")})
	checkAPIError(t, "ListKeys(bad marker)", err, localkms.ExInvalidMarker)
}

func TestAPI_Aliases(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	k1, k2 := s.MustCreateKey(t, ""), s.MustCreateKey(t, "")
	for _, a := range []struct{ name, key string }{{"alias/a", k1}, {"alias/b", k1}, {"alias/c", k2}} {
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(a.name), TargetKeyId: aws.String(a.key)}); err != nil {
			t.Fatalf("CreateAlias(%s): %v", a.name, err)
		}
	}
	_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: aws.String(k2)})
	checkAPIError(t, "CreateAlias(taken)", err, localkms.ExAlreadyExists)
	for _, name := range []string{"a", "alias/", "alias/has space", "alias/aws/reserved"} {
		_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(k2)})
		checkAPIError(t, "CreateAlias("+name+")", err, localkms.ExInvalidAliasName)
	}
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/d"), TargetKeyId: aws.String("alias/a")})
	checkAPIError(t, "CreateAlias(to an alias)", err, localkms.ExValidation)

	list := func(keyID string, limit int32) []string {
		t.Helper()
		in := &kms.ListAliasesInput{Limit: aws.Int32(limit)}
		if keyID != "" {
			in.KeyId = aws.String(keyID)
		}
		var names []string
		p := kms.NewListAliasesPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListAliases: %v", err)
			}
			for _, a := range out.Aliases {
				if want := "arn:aws:kms:us-east-1:000000000000:" + aws.ToString(a.AliasName); aws.ToString(a.AliasArn) != want {
					t.Errorf("ListAliases: AliasArn=%q, want %q", aws.ToString(a.AliasArn), want)
				}
				names = append(names, aws.ToString(a.AliasName)+"="+aws.ToString(a.TargetKeyId))
			}
		}
		return names
	}
	if got, want := list("", 2), []string{"alias/a=" + k1, "alias/b=" + k1, "alias/c=" + k2}; !slices.Equal(got, want) {
		t.Errorf("ListAliases = %v, want %v", got, want)
	}
	if got, want := list(k1, 1), []string{"alias/a=" + k1, "alias/b=" + k1}; !slices.Equal(got, want) {
		t.Errorf("ListAliases(k1) = %v, want %v", got, want)
	}

	if _, err := c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: aws.String(k2)}); err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	got, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/a")})
	if err != nil {
		t.Fatalf("DescribeKey(alias/a): %v", err)
	}
	if aws.ToString(got.KeyMetadata.KeyId) != k2 {
		t.Errorf("DescribeKey(alias/a) after UpdateAlias: %s, want %s", aws.ToString(got.KeyMetadata.KeyId), k2)
	}
	if _, err := c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/a")}); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
	_, err = c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/a")})
	checkAPIError(t, "DeleteAlias(deleted)", err, localkms.ExNotFound)
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/a")})
	checkAPIError(t, "DescribeKey(deleted alias)", err, localkms.ExNotFound)
	if got, want := list("", 50), []string{"alias/b=" + k1, "alias/c=" + k2}; !slices.Equal(got, want) {
		t.Errorf("ListAliases after DeleteAlias = %v, want %v", got, want)
	}
}

func TestAPI_KeyPolicy(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	id := s.MustCreateKey(t, "")
	got, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetKeyPolicy: %v", err)
	}
	if aws.ToString(got.Policy) != localkms.DefaultPolicy(testAccount) || aws.ToString(got.PolicyName) != "default" {
		t.Errorf("GetKeyPolicy = %q (%s), want the default policy", aws.ToString(got.Policy), aws.ToString(got.PolicyName))
	}

	arn := "arn:aws:kms:us-east-1:000000000000:key/" + id
	policy := localkms.ServicePolicy(testAccount, testRegion, arn)
	if _, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutKeyPolicy: %v", err)
	}
	got, err = c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	if err != nil {
		t.Fatalf("GetKeyPolicy: %v", err)
	}
	if aws.ToString(got.Policy) != policy {
		t.Errorf("GetKeyPolicy = %q, want %q", aws.ToString(got.Policy), policy)
	}
	if err := s.KMS.CheckServiceAccess(ctx, id, testAccount, "arn:aws:profile:us-east-1:000000000000:domains/d1"); err != nil {
		t.Errorf("CheckServiceAccess after PutKeyPolicy(ServicePolicy): %v", err)
	}

	lockout := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"},"Action":"kms:*","Resource":"*"}]}`
	for _, tt := range []struct {
		name, policy string
		bypass       bool
		code         string
	}{
		{"Malformed", `{"Version":"2012-10-17","Statement":[`, false, localkms.ExMalformedPolicyDocument},
		{"UnknownElement", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Bogus":1}]}`, false, localkms.ExMalformedPolicyDocument},
		{"NoPrincipal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`, false, localkms.ExMalformedPolicyDocument},
		{"Lockout", lockout, false, localkms.ExMalformedPolicyDocument},
		{"LockoutBypassed", lockout, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), Policy: aws.String(tt.policy),
				BypassPolicyLockoutSafetyCheck: tt.bypass})
			if tt.code == "" {
				if err != nil {
					t.Fatalf("PutKeyPolicy: %v", err)
				}
				return
			}
			checkAPIError(t, "PutKeyPolicy", err, tt.code)
		})
	}
	// Locked out: root may not read the policy any more.
	_, err = c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id)})
	checkAPIError(t, "GetKeyPolicy(locked out)", err, localkms.ExAccessDenied)
	_, err = s.Client("AKADMIN").GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("other")})
	checkAPIError(t, "GetKeyPolicy(PolicyName other)", err, localkms.ExNotFound)
}

func TestAPI_DataKeys(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	id, other := s.MustCreateKey(t, ""), s.MustCreateKey(t, "")
	ec := map[string]string{"aws:profile:domain": "d1"}

	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if len(dk.Plaintext) != 32 || aws.ToString(dk.KeyId) != "arn:aws:kms:us-east-1:000000000000:key/"+id {
		t.Errorf("GenerateDataKey: %d bytes, KeyId %s", len(dk.Plaintext), aws.ToString(dk.KeyId))
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Decrypt (key from the blob): %v", err)
	}
	if !bytes.Equal(dec.Plaintext, dk.Plaintext) || aws.ToString(dec.KeyId) != aws.ToString(dk.KeyId) {
		t.Errorf("Decrypt = %x (%s), want %x", dec.Plaintext, aws.ToString(dec.KeyId), dk.Plaintext)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: map[string]string{"aws:profile:domain": "d2"}})
	var invalid *types.InvalidCiphertextException
	if !errors.As(err, &invalid) {
		t.Fatalf("Decrypt(other context): err=%v, want *types.InvalidCiphertextException", err)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String(other)})
	checkAPIError(t, "Decrypt(KeyId of another key)", err, localkms.ExIncorrectKey)

	wp, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(64)})
	if err != nil {
		t.Fatalf("GenerateDataKeyWithoutPlaintext: %v", err)
	}
	dec, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wp.CiphertextBlob, KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if len(dec.Plaintext) != 64 {
		t.Errorf("Decrypt of a 64-byte data key: %d bytes", len(dec.Plaintext))
	}
	for _, in := range []*kms.GenerateDataKeyInput{
		{KeyId: aws.String(id)},
		{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes128, NumberOfBytes: aws.Int32(16)},
		{KeyId: aws.String(id), NumberOfBytes: aws.Int32(1025)},
	} {
		_, err := c.GenerateDataKey(ctx, in)
		checkAPIError(t, "GenerateDataKey(bad size)", err, localkms.ExValidation)
	}

	plaintext := bytes.Repeat([]byte("x"), localkms.MaxPlaintextBytes)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/" + id), Plaintext: plaintext, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	dec, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, plaintext) {
		t.Errorf("Decrypt(Encrypt(4096 bytes)) differs")
	}
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: append(plaintext, 'x')})
	checkAPIError(t, "Encrypt(4097 bytes)", err, localkms.ExValidation)

	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec,
		DestinationKeyId: aws.String(other), DestinationEncryptionContext: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("ReEncrypt: %v", err)
	}
	dec, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("Decrypt(ReEncrypt): %v", err)
	}
	if !bytes.Equal(dec.Plaintext, plaintext) || !strings.HasSuffix(aws.ToString(dec.KeyId), other) {
		t.Errorf("Decrypt(ReEncrypt): key %s, plaintext differs: %v", aws.ToString(dec.KeyId), !bytes.Equal(dec.Plaintext, plaintext))
	}

	tampered := bytes.Clone(enc.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: tampered, EncryptionContext: ec})
	checkAPIError(t, "Decrypt(tampered)", err, localkms.ExInvalidCiphertext)
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("garbage"), EncryptionContext: ec})
	checkAPIError(t, "Decrypt(garbage)", err, localkms.ExInvalidCiphertext)
}
