package localsqs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

func TestAPI_Authorization(t *testing.T) {
	s := MustServer(t)
	ctx, root, alice := t.Context(), s.Client("AKROOT"), s.Client("AKALICE")

	_, err := alice.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
	checkAPIError(t, "CreateQueue(alice)", err, "AccessDenied")
	checkStatus(t, "CreateQueue(alice)", err, http.StatusForbidden)

	// The queue's policy lets alice send and receive, and denies root
	// DeleteQueue; a statement naming the account only delegates to the
	// identity policies, which give alice nothing.
	policy := `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "` + aliceARN + `"}, "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": "*"},
  {"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "sqs:*", "Resource": "*"},
  {"Effect": "Deny", "Principal": {"AWS": "` + rootARN + `"}, "Action": "sqs:DeleteQueue", "Resource": "*"}]}`
	url := s.MustCreateQueue(t, "q", map[string]string{"Policy": policy})
	if _, err := alice.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("from alice")}); err != nil {
		t.Fatalf("SendMessage(alice, allowed by the queue policy): %v", err)
	}
	out, err := alice.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage(alice): %+v, %v", out, err)
	}
	_, err = alice.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: out.Messages[0].ReceiptHandle})
	checkAPIError(t, "DeleteMessage(alice)", err, "AccessDenied")
	_, err = alice.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	checkAPIError(t, "PurgeQueue(alice)", err, "AccessDenied")
	_, err = root.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	checkAPIError(t, "DeleteQueue(root, denied by the queue policy)", err, "AccessDenied")
	if _, err := root.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Errorf("PurgeQueue(root): %v", err)
	}
}

func checkStatus(tb testing.TB, op string, err error, status int) {
	tb.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		tb.Errorf("%s: err=%v, want HTTP status %d", op, err, status)
	}
}

func TestAPI_Signature(t *testing.T) {
	s := MustServer(t)
	for _, tc := range []struct {
		name, key, secret, code string
	}{
		{"unknown key", "AKNOBODY", "x", "InvalidClientTokenId"},
		{"wrong secret", "AKROOT", "wrong", "SignatureDoesNotMatch"},
	} {
		c := sqs.New(sqs.Options{Region: testRegion, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(tc.key, tc.secret, ""), HTTPClient: sdkhttp.New(nil)})
		_, err := c.ListQueues(t.Context(), &sqs.ListQueuesInput{})
		checkAPIError(t, "ListQueues("+tc.name+")", err, tc.code)
		checkStatus(t, "ListQueues("+tc.name+")", err, http.StatusForbidden)
	}
}

// raw sends a request signed for service with target and body, and
// returns the response.
func raw(t *testing.T, url, service, target, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKROOT", SecretAccessKey: secretOf("AKROOT")}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), service, testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestAPI_WireErrors checks error responses as they go on the wire.
func TestAPI_WireErrors(t *testing.T) {
	s := MustServer(t)
	for _, tc := range []struct {
		name, service, target, body string
		status                      int
		typ, query                  string
	}{
		{"missing queue", "sqs", "AmazonSQS.PurgeQueue", `{"QueueUrl": "http://x/000000000000/nope"}`, 400,
			"com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
		{"unknown operation", "sqs", "AmazonSQS.Frobnicate", `{}`, 400,
			"com.amazon.coral.service#UnknownOperationException", "InvalidAction;Sender"},
		{"unsupported operation", "sqs", "AmazonSQS.AddPermission", `{}`, 400,
			"com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation;Sender"},
		{"not JSON", "sqs", "AmazonSQS.ListQueues", `{`, 400,
			"com.amazon.coral.service#SerializationException", "MalformedInput;Sender"},
		{"signed for kms", "kms", "AmazonSQS.ListQueues", `{}`, 403,
			"com.amazon.coral.service#InvalidSignatureException", "SignatureDoesNotMatch;Sender"},
	} {
		resp, body := raw(t, s.URL, tc.service, tc.target, tc.body)
		var got struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: body %s: %v", tc.name, body, err)
		}
		if resp.StatusCode != tc.status || got.Type != tc.typ || got.Message == "" ||
			resp.Header.Get("x-amzn-query-error") != tc.query || resp.Header.Get("x-amzn-RequestId") == "" ||
			resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
			t.Errorf("%s: %d %v %s, want %d %s %s", tc.name, resp.StatusCode, resp.Header, body, tc.status, tc.typ, tc.query)
		}
	}
}
