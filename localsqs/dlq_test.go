package localsqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/dlqtest"
	"github.com/openprofiles/profiles/localsqs"
)

// TestDeadLetters runs the conformance suite on SQS as a
// profiles.DeadLetters; its queues are made through its SQS API.
func TestDeadLetters(t *testing.T) {
	dlqtest.Run(t, func(tb testing.TB) *dlqtest.Harness { return harness(MustRealServer(tb)) })
}

// TestDeadLetters_PostgreSQL runs it with the queues in PostgreSQL.
func TestDeadLetters_PostgreSQL(t *testing.T) {
	dlqtest.Run(t, func(tb testing.TB) *dlqtest.Harness { return harness(MustPostgresServer(tb)) })
}

func harness(s *server) *dlqtest.Harness {
	var n atomic.Int64
	return &dlqtest.Harness{
		DL: s.SQS,
		NewQueue: func(tb testing.TB, policy string) string {
			attrs := map[string]string{}
			if policy != "" {
				attrs["Policy"] = policy
			}
			return s.MustCreateQueue(tb, "dlqtest-"+strconv.FormatInt(n.Add(1), 10), attrs)
		},
		Account: testAccount, Region: testRegion,
		ChecksPolicy: true, ChecksHandles: true,
	}
}

func TestServicePolicyStatement(t *testing.T) {
	got := localsqs.ServicePolicyStatement("eu-west-2", "123456789012", "profiles-dlq")
	want := `{ "Sid": "Customer Profiles SQS policy", "Effect": "Allow", "Principal": { "Service": "profile.amazonaws.com" }, ` +
		`"Action": "SQS:SendMessage", "Resource": "arn:aws:sqs:eu-west-2:123456789012:profiles-dlq", ` +
		`"Condition": { "StringEquals": { "aws:SourceAccount": "123456789012" }, ` +
		`"ArnLike": { "aws:SourceArn": "arn:aws:profile:eu-west-2:123456789012:domains/*" } } }`
	if got != want {
		t.Errorf("ServicePolicyStatement:\n got %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(localsqs.ServicePolicy("eu-west-2", "123456789012", "q"))) {
		t.Errorf("ServicePolicy is not JSON")
	}
}

func TestQueueURLName(t *testing.T) {
	for _, tc := range []struct {
		url, name string
		ok        bool
	}{
		{"https://sqs.us-east-1.amazonaws.com/123456789012/dlq", "dlq", true},
		{"http://127.0.0.1:8720/000000000000/my_queue-1", "my_queue-1", true},
		{"/000000000000/q", "q", true},
		{"http://h/000000000000/", "", false},
		{"http://h/00000000000/q", "", false},
		{"http://h/000000000000/q/x", "", false},
		{"http://h/000000000000/q.fifo", "", false},
		{"http://h/000000000000/q?x=1", "", false},
		{"http://h/q", "", false},
		{"", "", false},
	} {
		name, ok := localsqs.QueueURLName(tc.url)
		if name != tc.name || ok != tc.ok {
			t.Errorf("QueueURLName(%q) = %q, %v; want %q, %v", tc.url, name, ok, tc.name, tc.ok)
		}
	}
}

// TestCheckQueue checks CheckQueue and Send of the product brief's cases:
// the brief's statement with the confused-deputy conditions, no policy, a
// policy for another domain, a missing queue.
func TestCheckQueue(t *testing.T) {
	s := MustServer(t)
	ctx := t.Context()
	statement := localsqs.ServicePolicyStatement(testRegion, testAccount, "dlq")

	url := s.MustCreateQueue(t, "dlq", map[string]string{"Policy": `{"Version": "2012-10-17", "Statement": [` + statement + `]}`})
	if err := s.SQS.CheckQueue(ctx, url, testAccount, domainARN); err != nil {
		t.Fatalf("CheckQueue(brief statement and conditions): %v", err)
	}
	if err := s.SQS.Send(ctx, url, "an object", testAccount, domainARN); err != nil {
		t.Fatalf("Send: %v", err)
	}

	bare := s.MustCreateQueue(t, "bare", nil)
	err := s.SQS.CheckQueue(ctx, bare, testAccount, domainARN)
	checkCode(t, "CheckQueue(no policy)", err, profiles.EFORBIDDEN)
	wantStatement := localsqs.ServicePolicyStatement(testRegion, testAccount, "bare")
	if msg := profiles.ErrorMessage(err); !strings.Contains(msg, wantStatement) {
		t.Errorf("CheckQueue(no policy): message %q does not give the statement %s", msg, wantStatement)
	}
	checkCode(t, "Send(no policy)", s.SQS.Send(ctx, bare, "x", testAccount, domainARN), profiles.EFORBIDDEN)

	other := "arn:aws:profile:us-east-1:000000000000:domains/other"
	scoped := strings.Replace(statement, `domains/*`, `domains/acme`, 1)
	url2 := s.MustCreateQueue(t, "scoped", map[string]string{"Policy": `{"Version": "2012-10-17", "Statement": [` +
		strings.Replace(scoped, ":dlq", ":scoped", 1) + `]}`})
	if err := s.SQS.CheckQueue(ctx, url2, testAccount, domainARN); err != nil {
		t.Errorf("CheckQueue(policy for acme, source acme): %v", err)
	}
	err = s.SQS.CheckQueue(ctx, url2, testAccount, other)
	checkCode(t, "CheckQueue(policy for acme, source other)", err, profiles.EFORBIDDEN)
	if !strings.Contains(profiles.ErrorMessage(err), other) {
		t.Errorf("CheckQueue: message %q does not name the source %s", profiles.ErrorMessage(err), other)
	}
	checkCode(t, "Send(wrong source ARN)", s.SQS.Send(ctx, url2, "x", testAccount, other), profiles.EFORBIDDEN)

	missing := s.URL + "/000000000000/missing"
	checkCode(t, "CheckQueue(missing)", s.SQS.CheckQueue(ctx, missing, testAccount, domainARN), profiles.ENOTFOUND)
	checkCode(t, "Send(missing)", s.SQS.Send(ctx, missing, "x", testAccount, domainARN), profiles.ENOTFOUND)

	// The message the service sent is there, from the service.
	out, err := s.Client("AKROOT").ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"SenderId"}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "an object" ||
		out.Messages[0].Attributes["SenderId"] != profiles.ServicePrincipal {
		t.Fatalf("ReceiveMessage: %+v, %v", out, err)
	}
	checkCode(t, "Send(too large)", s.SQS.Send(ctx, url, strings.Repeat("x", localsqs.MaxMessageBytes+1), testAccount, domainARN), profiles.EINVALID)
}

// TestAPI_LongPolling receives, waiting up to 20 s, a message sent 200 ms
// later. The 200 ms are there for the message to arrive while the receive
// waits; the receive returns with it, so the long wait costs nothing and
// leaves a loaded machine time to send it.
func TestAPI_LongPolling(t *testing.T) {
	s := MustRealServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	url := s.MustCreateQueue(t, "q", nil)
	sent := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("late")})
		sent <- err
	}()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "late" {
		t.Fatalf("ReceiveMessage(WaitTimeSeconds 20): %+v, want the message sent after 200 ms", out.Messages)
	}
	// The queue's ReceiveMessageWaitTimeSeconds is the default wait.
	url2 := s.MustCreateQueue(t, "q2", map[string]string{"ReceiveMessageWaitTimeSeconds": "20"})
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url2), MessageBody: aws.String("later")})
		sent <- err
	}()
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url2)})
	if err := <-sent; err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage(queue wait 20 s): %+v, %v", out, err)
	}

	// A long poll ends with its context.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := s.SQS.Receive(short, url, 1, 20*time.Second, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive(wait 20 s, context of 200 ms): err=%v, want context.DeadlineExceeded", err)
	}
}

func TestAPI_PurgeAndBatches(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	url := s.MustCreateQueue(t, "q", nil)
	batch, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("two")},
		{Id: aws.String("bad"), MessageBody: aws.String("x"), DelaySeconds: 1000},
	}})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(batch.Successful) != 2 || len(batch.Failed) != 1 || aws.ToString(batch.Failed[0].Id) != "bad" ||
		aws.ToString(batch.Failed[0].Code) != localsqs.ExInvalidParameterValue || !batch.Failed[0].SenderFault {
		t.Fatalf("SendMessageBatch: %+v", batch)
	}
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")}, {Id: aws.String("a"), MessageBody: aws.String("two")}}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Errorf("SendMessageBatch(same ids): err=%v, want *types.BatchEntryIdsNotDistinct", err)
	}
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{}})
	var emptyBatch *types.EmptyBatchRequest
	if !errors.As(err, &emptyBatch) {
		t.Errorf("DeleteMessageBatch(no entries): err=%v, want *types.EmptyBatchRequest", err)
	}

	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 2 {
		t.Fatalf("ReceiveMessage: %+v, %v", out, err)
	}
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: out.Messages[0].ReceiptHandle},
		{Id: aws.String("2"), ReceiptHandle: aws.String("made-up")},
	}})
	if err != nil || len(del.Successful) != 1 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != localsqs.ExReceiptHandleIsInvalid {
		t.Fatalf("DeleteMessageBatch: %+v, %v", del, err)
	}
	vis, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: out.Messages[1].ReceiptHandle}}})
	if err != nil || len(vis.Successful) != 1 {
		t.Fatalf("ChangeMessageVisibilityBatch: %+v, %v", vis, err)
	}

	for range 3 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("m")}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}
	if got := getAttrs(t, c, url)["ApproximateNumberOfMessages"]; got != "4" {
		t.Errorf("ApproximateNumberOfMessages=%s, want 4", got)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("PurgeQueue: %v", err)
	}
	if got := getAttrs(t, c, url)["ApproximateNumberOfMessages"]; got != "0" {
		t.Errorf("ApproximateNumberOfMessages after PurgeQueue=%s, want 0", got)
	}
}
