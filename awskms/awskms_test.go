package awskms_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awskms"
	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/keytest"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/sigv4"
	"github.com/openprofiles/profiles/sqlite"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	testKeyID   = "AKTEST"
	testSecret  = "test-secret"
)

var testCreds = credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")

// TestManager_LocalKMS runs the suite on a Manager that calls the built-in
// localkms through its KMS API.
func TestManager_LocalKMS(t *testing.T) {
	keytest.Run(t, func(tb testing.TB) *keytest.Harness {
		return harness(tb, mustServeLocalKMS(tb))
	})
}

// TestManager_LocalKMSProcess runs the suite on a Manager that calls a real
// local-kms server (github.com/nsmithuk/local-kms), started for the test on
// a loopback port with a temporary data path. scripts/test installs it; the
// test fails without it.
func TestManager_LocalKMSProcess(t *testing.T) {
	url := mustStartLocalKMSProcess(t)
	keytest.Run(t, func(tb testing.TB) *keytest.Harness { return harness(tb, url) })
}

// TestManager_Errors checks the mapping of KMS errors to root codes and the
// message of CheckServiceAccess when the credentials may not use the key.
func TestManager_Errors(t *testing.T) {
	url := mustServeLocalKMS(t)
	ctx := t.Context()
	c := newClient(url)
	deny := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:GenerateDataKey","Resource":"*"}]}`
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(deny)})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	m := awskms.New(url, testRegion, testCreds)
	err = m.CheckServiceAccess(ctx, aws.ToString(out.KeyMetadata.KeyId), testAccount, "arn:aws:profile:us-east-1:000000000000:domains/d1")
	if profiles.ErrorCode(err) != profiles.EFORBIDDEN {
		t.Fatalf("CheckServiceAccess(GenerateDataKey denied): err=%v, want EFORBIDDEN", err)
	}
	t.Logf("CheckServiceAccess: %v", err)
	for _, want := range []string{"key policy", "kms:GenerateDataKey", aws.ToString(out.KeyMetadata.Arn)} {
		if msg := profiles.ErrorMessage(err); !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(msg) {
			t.Errorf("CheckServiceAccess: message %q does not name %q", msg, want)
		}
	}
	// The service's message names the principal of the credentials: it
	// is logged, not in the error, which reaches the API's callers.
	var log bytes.Buffer
	m.Logger = slog.New(slog.NewTextHandler(&log, nil))
	_, _, err = m.GenerateDataKey(ctx, aws.ToString(out.KeyMetadata.KeyId), nil)
	if msg := profiles.ErrorMessage(err); profiles.ErrorCode(err) != profiles.EFORBIDDEN || strings.Contains(msg, "arn:aws:iam::") || !strings.Contains(msg, "policy") {
		t.Errorf("GenerateDataKey denied: %v; want EFORBIDDEN naming the policy, not the credentials' principal", err)
	}
	if !strings.Contains(log.String(), "arn:aws:iam::000000000000:root") {
		t.Errorf("the service's message was not logged: %q", log.String())
	}

	// An unreachable service is an internal error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	m = &awskms.Manager{Client: kms.New(kms.Options{Region: testRegion, Credentials: testCreds,
		BaseEndpoint: aws.String(dead), RetryMaxAttempts: 1})}
	_, err = m.DescribeKey(ctx, "alias/x")
	if code := profiles.ErrorCode(err); code != profiles.EINTERNAL {
		t.Errorf("DescribeKey(unreachable): code %q (%v), want %q", code, err, profiles.EINTERNAL)
	}
}

// harness returns a keytest harness on the KMS API at url: the Manager
// under test, and a client to make, name and disable keys.
func harness(tb testing.TB, url string) *keytest.Harness {
	c := newClient(url)
	return &keytest.Harness{
		Manager:   awskms.New(url, testRegion, testCreds),
		AccountID: testAccount,
		Region:    testRegion,
		NewKey: func(tb testing.TB, policy string) string {
			tb.Helper()
			out, err := c.CreateKey(tb.Context(), &kms.CreateKeyInput{Policy: aws.String(policy), BypassPolicyLockoutSafetyCheck: true})
			if err != nil {
				tb.Fatalf("CreateKey: %v", err)
			}
			return aws.ToString(out.KeyMetadata.KeyId)
		},
		NewAlias: func(tb testing.TB, name, keyID string) {
			tb.Helper()
			if _, err := c.CreateAlias(tb.Context(), &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(keyID)}); err != nil {
				tb.Fatalf("CreateAlias: %v", err)
			}
		},
		Disable: func(tb testing.TB, keyID string) {
			tb.Helper()
			if _, err := c.DisableKey(tb.Context(), &kms.DisableKeyInput{KeyId: aws.String(keyID)}); err != nil {
				tb.Fatalf("DisableKey: %v", err)
			}
		},
		ChecksPolicy: false,
	}
}

func newClient(url string) *kms.Client {
	return kms.New(kms.Options{Region: testRegion, Credentials: testCreds, BaseEndpoint: aws.String(url), HTTPClient: sdkhttp.New(nil)})
}

// mustServeLocalKMS serves a new localkms on a SQLite store, with the test
// credentials as the account root, and returns its URL.
func mustServeLocalKMS(tb testing.TB) string {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "kms.db"))
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	root, err := localkms.LoadOrCreateRootKey(tb.TempDir(), "")
	if err != nil {
		tb.Fatalf("LoadOrCreateRootKey: %v", err)
	}
	k := &localkms.KMS{Store: db, Region: testRegion, AccountID: testAccount, RootKey: root}
	v := &sigv4.Verifier{
		Region:   testRegion,
		Services: []string{"kms"},
		Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
			return sigv4.Credential{Secret: testSecret, Principal: "arn:aws:iam::" + testAccount + ":root"}, id == testKeyID, nil
		},
	}
	srv := httptest.NewServer(k.Handler(v, nil, nil))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// localKMSBinary returns the path of the local-kms binary that go install
// put in GOBIN or GOPATH/bin, or finds on PATH.
// mustStartLocalKMSProcess starts a real local-kms server on loopback for
// the test (see keytest.StartLocalKMS).
func mustStartLocalKMSProcess(tb testing.TB) string {
	tb.Helper()
	return keytest.StartLocalKMS(tb, testAccount, testRegion)
}
