package keytest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/build"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// LocalKMSModule is the version of the open-source local-kms server the
// tests run (scripts/test installs it).
const LocalKMSModule = "github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6"

// localKMSBinary finds the local-kms binary: in GOBIN, GOPATH/bin or PATH.
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

// StartLocalKMS starts local-kms on a free port (PORT=0: it
// binds one and logs it) with a temporary data path and no seed, waits
// until it answers, and kills it when tb ends. It returns its loopback URL.
func StartLocalKMS(tb testing.TB, accountID, region string) string {
	tb.Helper()
	bin, err := localKMSBinary()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT=0",
		"KMS_ACCOUNT_ID="+accountID,
		"KMS_REGION="+region,
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
	c := kms.New(kms.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCALKMS", "local-kms-secret", ""), BaseEndpoint: aws.String(url), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(nil)})
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
