package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/keytest"
)

// MustKMSClient returns the real AWS KMS client for the server's built-in KMS.
func MustKMSClient(tb testing.TB, m *main.Main) *kms.Client {
	tb.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(transport.CloseIdleConnections)
	return kms.New(kms.Options{
		BaseEndpoint: aws.String(m.URL()), Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPClient:  sdkhttp.New(&http.Client{Transport: transport}),
	})
}

// keyPolicy returns a key policy: the account root may do everything, and,
// when sourceARN is set, profile.amazonaws.com may use the key for it.
func keyPolicy(sourceARN string, actions ...string) string {
	stmts := []map[string]any{{
		"Sid": "Root", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::000000000000:root"},
		"Action": "kms:*", "Resource": "*",
	}}
	if sourceARN != "" {
		stmts = append(stmts, map[string]any{
			"Sid": "CustomerProfiles", "Effect": "Allow", "Principal": map[string]any{"Service": "profile.amazonaws.com"},
			"Action": actions, "Resource": "*",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": "000000000000"},
				"ArnLike":      map[string]any{"aws:SourceArn": sourceARN},
			},
		})
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return string(b)
}

var serviceActions = []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"}

// mustServiceKey creates a key of the built-in KMS whose policy lets the
// service use it for every domain of the account.
func mustServiceKey(tb testing.TB, m *main.Main) string {
	tb.Helper()
	return mustCreateKey(tb, MustKMSClient(tb, m), keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))
}

func mustCreateKey(t testing.TB, k *kms.Client, policy string) string {
	t.Helper()
	out, err := k.CreateKey(t.Context(), &kms.CreateKeyInput{Description: aws.String("profiles"), Policy: aws.String(policy)})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func TestKMS_DomainKeys(t *testing.T) {
	m := MustRunMain(t)
	client, k := MustClient(t, m), MustKMSClient(t, m)
	ctx := t.Context()
	good := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/profiles"), TargetKeyId: aws.String(good)}); err != nil {
		t.Fatal(err)
	}
	noGrant := mustCreateKey(t, k, keyPolicy(""))
	partial := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", "kms:Decrypt"))
	otherDomain := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/other", serviceActions...))

	create := func(name, key string) error {
		_, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(key)})
		return err
	}
	if err := create("withkey", good); err != nil {
		t.Fatalf("domain with a good key: %v", err)
	}
	if err := create("withalias", "alias/profiles"); err != nil {
		t.Fatalf("domain with a key alias: %v", err)
	}
	for _, tt := range []struct {
		name, key string
		words     []string
	}{
		{"MissingKey", "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000", []string{"no such KMS key"}},
		{"NoServiceGrant", noGrant, []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant", "profile.amazonaws.com"}},
		{"PartialGrant", partial, []string{"kms:GenerateDataKey", "kms:CreateGrant"}},
		{"ConfusedDeputy", otherDomain, []string{"kms:GenerateDataKey"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := create("d-"+strings.ToLower(tt.name), tt.key)
			wantAPIError(t, err, "BadRequestException", tt.words...)
		})
	}
	t.Run("UpdateDomainChecksTheKey", func(t *testing.T) {
		_, err := client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("withkey"), DefaultEncryptionKey: aws.String(noGrant)})
		wantAPIError(t, err, "BadRequestException", "kms:GenerateDataKey")
	})
}

func TestKMS_DisableAndEnable(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.KMSKeyCheckInterval = 0 })
	client, k := MustClient(t, m), MustKMSClient(t, m)
	ctx := t.Context()
	key := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))
	e := &ingestEnv{t: t, m: m, client: client, domain: "secret"}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "kms@example.com", "name": map[string]any{"first": "Kim"}})
	pid := aws.ToString(e.mustOne("_email", "kms@example.com").ProfileId)

	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.put("contact", map[string]any{"id": "c2", "email": "kms@example.com"})
	wantAPIError(t, err, "AccessDeniedException", "Customer Profiles cannot ingest the object because of an invalid KMS key")
	_, err = client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain), KeyName: aws.String("_email"), Values: []string{"kms@example.com"}})
	wantAPIError(t, err, "AccessDeniedException", key)
	_, err = client.ListProfileObjects(ctx, &customerprofiles.ListProfileObjectsInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), ProfileId: aws.String(pid)})
	wantAPIError(t, err, "AccessDeniedException", key)

	if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e.mustPut("contact", map[string]any{"id": "c2", "email": "kms@example.com"})
	if got := len(e.objects("contact", pid)); got != 2 {
		t.Fatalf("%d objects after enabling the key again, want 2", got)
	}
	if got := aws.ToString(e.mustOne("_email", "kms@example.com").FirstName); got != "Kim" {
		t.Fatalf("FirstName=%q after the outage", got)
	}

	t.Run("ScheduledForDeletion", func(t *testing.T) {
		if _, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(key), PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.put("contact", map[string]any{"id": "c3", "email": "kms@example.com"})
		wantAPIError(t, err, "AccessDeniedException", "Customer Profiles cannot ingest the object because of an invalid KMS key")
		if _, err := k.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		// A cancelled deletion leaves the key disabled, as AWS does.
		out, _ := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key)})
		if out.KeyMetadata.KeyState != kmstypes.KeyStateDisabled {
			t.Errorf("key state after CancelKeyDeletion: %s", out.KeyMetadata.KeyState)
		}
	})
	t.Run("PolicyWithdrawn", func(t *testing.T) {
		if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("default"), Policy: aws.String(keyPolicy(""))}); err != nil {
			t.Fatal(err)
		}
		_, err := e.put("contact", map[string]any{"id": "c4", "email": "new-customer@example.com"})
		var ad *types.AccessDeniedException
		if !errors.As(err, &ad) {
			t.Fatalf("ingestion with a key the service may no longer use: %v", err)
		}
		// Reading what the key sealed is refused too, as AWS KMS would
		// refuse the service's Decrypt.
		_, err = e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain),
			KeyName: aws.String("_email"), Values: []string{"kms@example.com"}})
		if !errors.As(err, &ad) {
			t.Fatalf("a read of profiles sealed under a key the service may no longer use: %v, want AccessDeniedException", err)
		}
	})
}

// TestEncryptionAtRest ingests known names, emails and phones and looks for
// them in the raw database files of SQLite (TestPostgres_EncryptionAtRest
// looks in the rows of PostgreSQL).
func TestEncryptionAtRest(t *testing.T) {
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	c.Store = "sqlite" // the test reads SQLite's files
	m := MustOpenMain(t, c)
	secrets := mustIngestSecrets(t, m)
	// Read every file of the data dir, main database and WAL alike, while the
	// server runs and after it stopped.
	scan := func(when string) {
		files, _ := filepath.Glob(filepath.Join(c.DataDir, "*"))
		scanned := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			scanned++
			for _, s := range secrets {
				if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
					t.Errorf("%s: %s holds %q in plaintext", when, filepath.Base(f), s)
				}
			}
		}
		if scanned < 2 {
			t.Fatalf("%s: scanned %d files", when, scanned)
		}
	}
	scan("running")
	if _, err := os.Stat(filepath.Join(c.DataDir, "openprofiles.db-wal")); err != nil {
		t.Errorf("no WAL file to scan while running: %v", err)
	}
	m.Close()
	scan("stopped")
}

// mustIngestSecrets ingests known names, emails, phones and attributes into
// a new domain of m, and returns them as they might be stored in plaintext.
func mustIngestSecrets(t *testing.T, m *main.Main) []string {
	t.Helper()
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "atrest"}
	if _, err := e.client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	secrets := []string{}
	for i := range 20 {
		first, last := fmt.Sprintf("Zebulon%02d", i), fmt.Sprintf("Quixotic%02d", i)
		email := fmt.Sprintf("zq%02d@secret-mail.example", i)
		phone := fmt.Sprintf("+1 555 31%02d 999", i)
		e.mustPut("contact", map[string]any{"id": fmt.Sprintf("c%d", i), "email": email, "phone": phone, "name": map[string]any{"first": first, "last": last}, "tier": "Platinum-Tier-" + last})
		secrets = append(secrets, first, last, email, fmt.Sprintf("+155531%02d999", i), fmt.Sprintf("zebulon%02d", i), "Platinum-Tier-"+last)
	}
	id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ottoline"), EmailAddress: aws.String("ottoline@secret-mail.example"), PhoneNumber: aws.String("+44 20 7946 0999")})
	secrets = append(secrets, "Ottoline", "ottoline@secret-mail.example", "+442079460999", "ottoline")
	if got := aws.ToString(e.getProfile(id).FirstName); got != "Ottoline" {
		t.Fatalf("profile reads back %q", got)
	}
	return secrets
}

// mustExternalKMSKey starts a real local-kms server, points the server's
// AWS credentials (from the environment) at it, and creates a key there:
// it returns the server's URL, a client of it and the key's ARN.
func mustExternalKMSKey(t *testing.T) (url string, ext *kms.Client, key string) {
	t.Helper()
	url = keytest.StartLocalKMS(t, "000000000000", testRegion)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXTERNALKMS")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "external-kms-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ext = kms.New(kms.Options{BaseEndpoint: aws.String(url), Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXTERNALKMS", "external-kms-secret", ""), HTTPClient: sdkhttp.New(nil)})
	created, err := ext.CreateKey(t.Context(), &kms.CreateKeyInput{Description: aws.String("profiles")})
	if err != nil {
		t.Fatal(err)
	}
	return url, ext, aws.ToString(created.KeyMetadata.Arn)
}

// TestKMS_External runs a domain on a key of a real local-kms server, the
// open-source AWS-KMS-compatible service, through --kms-endpoint.
func TestKMS_External(t *testing.T) {
	url, ext, key := mustExternalKMSKey(t)
	ctx := t.Context()

	m := MustRunMain(t, func(c *main.Config) { c.KMSEndpoint, c.KMSKeyCheckInterval = url, 0 })
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "external"}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatalf("CreateDomain with an external key: %v", err)
	}
	_, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("nokey"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String("arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "BadRequestException", "no such KMS key")

	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ext@example.com", "name": map[string]any{"first": "Ext"}})
	if got := aws.ToString(e.mustOne("_email", "ext@example.com").FirstName); got != "Ext" {
		t.Fatalf("FirstName=%q", got)
	}
	if _, err := ext.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.put("contact", map[string]any{"id": "c2", "email": "ext2@example.com"})
	wantAPIError(t, err, "AccessDeniedException", "Customer Profiles cannot ingest the object because of an invalid KMS key")
	if _, err := ext.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e.mustPut("contact", map[string]any{"id": "c2", "email": "ext2@example.com"})
}

// TestKMS_KeyPastDeletionDate: once a domain key's deletion date has
// passed, ingestion and reads fail at once with the brief's KMS error (no
// wait on the store), and the sweeper removes the key.
func TestKMS_KeyPastDeletionDate(t *testing.T) {
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	c.KMSKeyCheckInterval, c.DataKeyMaxAge = 0, 0
	m := &main.Main{Config: withTestStore(t, c), Now: clock.Now}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	client, k := MustClient(t, m), MustKMSClient(t, m)
	ctx := t.Context()
	key := mustServiceKey(t, m)
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("doomed"),
		DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e := &ingestEnv{t: t, m: m, client: client, domain: "doomed"}
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "doomed@example.com"})
	if _, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(key), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clock.add(8 * 24 * time.Hour)

	// Several writers at once, each inside a store transaction that looks
	// the key up: none may hang.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.put("contact", map[string]any{"id": fmt.Sprintf("c%d", i+2), "email": "doomed@example.com"})
		})
	}
	wg.Wait()
	for _, err := range errs {
		wantAPIError(t, err, "AccessDeniedException", "EncryptionKey doesn't exist")
	}
	if _, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key)}); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("DescribeKey after the deletion date: %v, want NotFoundException", err)
	}
	if n, err := m.KMS.DeleteDueKeys(ctx); err != nil || n != 1 {
		t.Errorf("DeleteDueKeys: %d, %v; want the one key", n, err)
	}
}

// TestKMS_DenyHoldsInAnyPartition: a principal denied a key's ARN may not
// name the key by an ARN of another partition (authorised as another
// resource) to have a domain sealed under it.
func TestKMS_DenyHoldsInAnyPartition(t *testing.T) {
	m := MustRunMain(t)
	key := mustServiceKey(t, m)
	id, secret := mustUserKey(t, m, "eve", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:*","kms:*"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"`+key+`"}`)})
	eve := newClient(t, m, id, secret, testRegion)
	for _, name := range []string{key, strings.Replace(key, "arn:aws:", "arn:aws-cn:", 1)} {
		_, err := eve.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("sealed"),
			DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(name)})
		if err == nil {
			t.Fatalf("CreateDomain with key %s by a principal denied %s: made", name, key)
		}
	}
}

// TestKMS_ObjectTypeKeyScopedToItsARN: a key policy may scope the service
// to one object type by the type's ARN
// (arn:aws:profile:REGION:ACCOUNT:domains/D/object-types/T, the ARN IAM
// policies and tags name it by): PutProfileObjectType accepts the key for
// that type, objects of the type are sealed and read under it, and another
// type may not use it.
func TestKMS_ObjectTypeKeyScopedToItsARN(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	key := mustCreateKey(t, MustKMSClient(t, e.m), keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/ingest/object-types/contact", serviceActions...))
	in := contactType("contact")
	in.DomainName, in.EncryptionKey = aws.String(e.domain), aws.String(key)
	if _, err := e.client.PutProfileObjectType(ctx, in); err != nil {
		t.Fatalf("PutProfileObjectType with a key scoped to the type's ARN: %v", err)
	}
	e.mustPut("contact", map[string]any{"id": "c1", "email": "scoped@example.com"})
	p := e.mustOne("_email", "scoped@example.com")
	if got := e.objects("contact", aws.ToString(p.ProfileId)); len(got) != 1 {
		t.Fatalf("objects of the type: %d, want 1", len(got))
	}
	other := contactType("other")
	other.DomainName, other.EncryptionKey = aws.String(e.domain), aws.String(key)
	_, err := e.client.PutProfileObjectType(ctx, other)
	wantAPIError(t, err, "BadRequestException", "EncryptionKey", "kms:GenerateDataKey")
}
