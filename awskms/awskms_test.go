package awskms_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awskms"
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

// LocalKMSModule is the local-kms version scripts/test installs.
const LocalKMSModule = "github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6"

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
	return kms.New(kms.Options{Region: testRegion, Credentials: testCreds, BaseEndpoint: aws.String(url)})
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
func localKMSBinary() (string, error) {
	var dirs []string
	if bin := os.Getenv("GOBIN"); bin != "" {
		dirs = append(dirs, bin)
	} else if out, err := exec.Command("go", "env", "GOBIN").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		dirs = append(dirs, string(bytes.TrimSpace(out))) // set with go env -w
	}
	for _, p := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, d := range dirs {
		path := filepath.Join(d, "local-kms")
		if info, err := os.Stat(path); err == nil && !info.IsDir() {
			return path, nil
		}
	}
	if path, err := exec.LookPath("local-kms"); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("local-kms is not installed in %v nor on PATH: run scripts/test, or go install %s", dirs, LocalKMSModule)
}

// startedRE finds the port in local-kms's start-up log line "Local KMS
// started on 0.0.0.0:<port>".
var startedRE = regexp.MustCompile(`Local KMS started on [^ ]*:([0-9]+)`)

// mustStartLocalKMSProcess starts local-kms on a free port (PORT=0: it
// binds one and logs it) with a temporary data path and no seed, waits
// until it answers, and kills it when tb ends. It returns its loopback URL.
func mustStartLocalKMSProcess(tb testing.TB) string {
	tb.Helper()
	bin, err := localKMSBinary()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT=0",
		"KMS_ACCOUNT_ID="+testAccount,
		"KMS_REGION="+testRegion,
		"KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_SEED_PATH="+filepath.Join(dir, "no-seed.yaml"),
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if m := startedRE.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				port <- m[1]
			}
		}
		if !found {
			close(port)
		}
	}()
	var url string
	select {
	case p, ok := <-port:
		if !ok {
			tb.Fatalf("local-kms exited without saying which port it listens on")
		}
		url = "http://127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		tb.Fatalf("local-kms did not start within 30s")
	}

	// Wait until it answers the KMS API.
	c := kms.New(kms.Options{Region: testRegion, Credentials: testCreds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Second)
		_, err := c.ListKeys(ctx, &kms.ListKeysInput{})
		cancel()
		if err == nil {
			return url
		}
		if time.Now().After(deadline) {
			tb.Fatalf("local-kms at %s does not answer: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
