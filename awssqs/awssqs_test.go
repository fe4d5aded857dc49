package awssqs_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/openprofiles/profiles/internal/fauxqs"
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
	endpoint := fauxqs.Start(t)
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
	// A denial's message names the principal of the credentials: it is
	// logged, not in the error, which reaches the API's callers.
	var log bytes.Buffer
	q.Logger = slog.New(slog.NewTextHandler(&log, nil))
	denied := harness(q, true).NewQueue(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sqs:GetQueueAttributes","Resource":"*"}]}`)
	err = q.CheckQueue(ctx, denied, testAccount, "arn:aws:profile:us-east-1:000000000000:domains/acme")
	if profiles.ErrorCode(err) != profiles.EFORBIDDEN || strings.Contains(err.Error(), "arn:aws:iam::") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("CheckQueue(GetQueueAttributes denied): %v; want EFORBIDDEN naming AccessDenied, not the credentials' principal", err)
	}
	if !strings.Contains(log.String(), "arn:aws:iam::000000000000:root") {
		t.Errorf("the service's message was not logged: %q", log.String())
	}
	unreachable := &awssqs.Queues{Region: testRegion, Client: sqs.New(sqs.Options{Region: testRegion, BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKROOT", "secret", "")})}
	if err := unreachable.Purge(ctx, url); profiles.ErrorCode(err) != profiles.EINTERNAL {
		t.Errorf("Purge(unreachable): %v, want an internal error", err)
	}
}
