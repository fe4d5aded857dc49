package localsqs_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles/localsqs"
)

func TestAPI_QueueLifecycle(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")

	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("dlq"),
		Attributes: map[string]string{"VisibilityTimeout": "45", "MessageRetentionPeriod": "86400"},
		Tags:       map[string]string{"team": "support"},
	})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	url := aws.ToString(out.QueueUrl)
	if want := s.URL + "/000000000000/dlq"; url != want {
		t.Fatalf("CreateQueue: QueueUrl=%q, want %q", url, want)
	}

	// Same name and attributes: the same queue; another value: QueueNameExists.
	again, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq"),
		Attributes: map[string]string{"VisibilityTimeout": "45"}})
	if err != nil || aws.ToString(again.QueueUrl) != url {
		t.Fatalf("CreateQueue(same): %v, %v", again, err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq"),
		Attributes: map[string]string{"VisibilityTimeout": "46"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Fatalf("CreateQueue(other attributes): err=%v, want *types.QueueNameExists", err)
	}
	checkAPIError(t, "CreateQueue(other attributes)", err, "QueueAlreadyExists")

	for _, tc := range []struct {
		name  string
		attrs map[string]string
		code  string
	}{
		{"bad name!", nil, "InvalidParameterValue"},
		{"q.fifo", map[string]string{"FifoQueue": "true"}, "InvalidParameterValue"},
		{"q", map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue"},
		{"q", map[string]string{"DelaySeconds": "x"}, "InvalidAttributeValue"},
		{"q", map[string]string{"Policy": `{"Statement": []}`}, "InvalidAttributeValue"},
		{"q", map[string]string{"Colour": "blue"}, "InvalidAttributeName"},
		{"q", map[string]string{"RedrivePolicy": "{}"}, "InvalidAttributeName"},
	} {
		_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(tc.name), Attributes: tc.attrs})
		checkAPIError(t, fmt.Sprintf("CreateQueue(%q, %v)", tc.name, tc.attrs), err, tc.code)
	}

	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("dlq")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl: %v, %v", got, err)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var noQueue *types.QueueDoesNotExist
	if !errors.As(err, &noQueue) {
		t.Fatalf("GetQueueUrl(missing): err=%v, want *types.QueueDoesNotExist", err)
	}
	checkAPIError(t, "GetQueueUrl(missing)", err, "AWS.SimpleQueueService.NonExistentQueue")

	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	created := strconv.FormatInt(s.Clock.Now().Unix(), 10)
	want := map[string]string{
		"QueueArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "VisibilityTimeout": "45", "MessageRetentionPeriod": "86400",
		"DelaySeconds": "0", "ReceiveMessageWaitTimeSeconds": "0", "MaximumMessageSize": "262144",
		"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0",
		"CreatedTimestamp": created, "LastModifiedTimestamp": created,
	}
	if diff := cmp.Diff(want, attrs.Attributes); diff != "" {
		t.Errorf("GetQueueAttributes(All) (-want +got):\n%s", diff)
	}
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{"Colour"}})
	var badName *types.InvalidAttributeName
	if !errors.As(err, &badName) {
		t.Errorf("GetQueueAttributes(Colour): err=%v, want *types.InvalidAttributeName", err)
	}

	// Policy: set, read, remove; a malformed one is refused.
	policy := localsqs.ServicePolicy(testRegion, testAccount, "dlq")
	s.Clock.Add(1e9 * 60)
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"Policy": policy, "DelaySeconds": "5"}}); err != nil {
		t.Fatalf("SetQueueAttributes: %v", err)
	}
	attrs, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{"Policy", "DelaySeconds", "LastModifiedTimestamp"}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	want = map[string]string{"Policy": policy, "DelaySeconds": "5", "LastModifiedTimestamp": strconv.FormatInt(s.Clock.Now().Unix(), 10)}
	if diff := cmp.Diff(want, attrs.Attributes); diff != "" {
		t.Errorf("GetQueueAttributes after SetQueueAttributes (-want +got):\n%s", diff)
	}
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"Policy": `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*"}]}`}})
	var badValue *types.InvalidAttributeValue
	if !errors.As(err, &badValue) || !strings.Contains(err.Error(), "Policy") {
		t.Errorf("SetQueueAttributes(policy without Principal): err=%v, want *types.InvalidAttributeValue naming Policy", err)
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"Policy": ""}}); err != nil {
		t.Fatalf("SetQueueAttributes(Policy \"\"): %v", err)
	}
	attrs, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{"Policy"}})
	if err != nil || len(attrs.Attributes) != 0 {
		t.Errorf("GetQueueAttributes(Policy) after removal: %v, %v", attrs.Attributes, err)
	}

	// Tags.
	if _, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(url), Tags: map[string]string{"env": "test"}}); err != nil {
		t.Fatalf("TagQueue: %v", err)
	}
	if _, err := c.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(url), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagQueue: %v", err)
	}
	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
	if err != nil || !cmp.Equal(tags.Tags, map[string]string{"env": "test"}) {
		t.Errorf("ListQueueTags: %v, %v", tags, err)
	}

	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url)})
	if !errors.As(err, &noQueue) {
		t.Fatalf("GetQueueAttributes after DeleteQueue: err=%v, want *types.QueueDoesNotExist", err)
	}
	// A URL of another account, or not a queue URL, names no queue.
	for _, u := range []string{"http://x/111111111111/dlq", "http://x/dlq", s.URL + "/000000000000/a/b"} {
		_, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)})
		if !errors.As(err, &noQueue) {
			t.Errorf("PurgeQueue(%s): err=%v, want *types.QueueDoesNotExist", u, err)
		}
	}
}

func TestAPI_ListQueues(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	names := []string{"dlq-a", "dlq-b", "dlq-c", "other"}
	for _, n := range names {
		s.MustCreateQueue(t, n, nil)
	}
	all, err := c.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(all.QueueUrls) != 4 || all.NextToken != nil {
		t.Fatalf("ListQueues: %v, %v", all, err)
	}
	var got []string
	var token *string
	for range 5 {
		out, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("dlq-"), MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatalf("ListQueues: %v", err)
		}
		got = append(got, out.QueueUrls...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	want := []string{s.URL + "/000000000000/dlq-a", s.URL + "/000000000000/dlq-b", s.URL + "/000000000000/dlq-c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListQueues(dlq-, pages of 2) (-want +got):\n%s", diff)
	}
	_, err = c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1001)})
	checkAPIError(t, "ListQueues(MaxResults 1001)", err, "InvalidParameterValue")
}

func TestAPI_Messages(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	url := s.MustCreateQueue(t, "q", nil)

	attrs := map[string]types.MessageAttributeValue{
		"domain": {DataType: aws.String("String"), StringValue: aws.String("acme")},
		"count":  {DataType: aws.String("Number"), StringValue: aws.String("42")},
		"blob":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"kind.x": {DataType: aws.String("String.custom"), StringValue: aws.String("é")},
	}
	// The MD5 of these attributes, computed by another implementation of
	// the SQS algorithm (fauxqs's md5OfMessageAttributes).
	const attrsMD5 = "64405833fdbc1e9fe1d913ec593d9156"
	body := `{"error": "KEY_MISSING", "object": "<é & ü>"}`
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageAttributes: attrs})
	if err != nil {
		t.Fatalf("SendMessage: %v", err) // the SDK checks MD5OfMessageBody
	}
	if got := aws.ToString(sent.MD5OfMessageAttributes); got != attrsMD5 {
		t.Errorf("SendMessage: MD5OfMessageAttributes=%q, want %q", got, attrsMD5)
	}
	s.Clock.Add(1e9)
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount", "SentTimestamp", "SenderId"}})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage: %d messages, want 1", len(out.Messages))
	}
	m := out.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != body {
		t.Errorf("ReceiveMessage: %+v", m)
	}
	if got := aws.ToString(m.MD5OfMessageAttributes); got != attrsMD5 {
		t.Errorf("ReceiveMessage: MD5OfMessageAttributes=%q, want %q", got, attrsMD5)
	}
	if diff := cmp.Diff(attrs, m.MessageAttributes, cmp.Comparer(func(a, b types.MessageAttributeValue) bool {
		return aws.ToString(a.DataType) == aws.ToString(b.DataType) && aws.ToString(a.StringValue) == aws.ToString(b.StringValue) &&
			string(a.BinaryValue) == string(b.BinaryValue)
	})); diff != "" {
		t.Errorf("ReceiveMessage: MessageAttributes (-want +got):\n%s", diff)
	}
	wantAttrs := map[string]string{"ApproximateReceiveCount": "1", "SenderId": rootARN,
		"SentTimestamp": strconv.FormatInt(s.Clock.Now().Add(-1e9).UnixMilli(), 10)}
	if diff := cmp.Diff(wantAttrs, m.Attributes); diff != "" {
		t.Errorf("ReceiveMessage: Attributes (-want +got):\n%s", diff)
	}

	// Only the named attributes, and their MD5.
	s.Clock.Add(31e9)
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MessageAttributeNames: []string{"dom.*", "count"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage(dom.*, count): %v, %v", out, err)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range out.Messages[0].MessageAttributes {
			yield(k)
		}
	}); !cmp.Equal(got, []string{"count"}) || out.Messages[0].Attributes != nil {
		t.Errorf("ReceiveMessage(dom.*, count): attributes %v, system %v", got, out.Messages[0].Attributes)
	}

	// Bad input.
	for _, tc := range []struct {
		in   *sqs.SendMessageInput
		code string
	}{
		{&sqs.SendMessageInput{MessageBody: aws.String("")}, "MissingParameter"},
		{&sqs.SendMessageInput{MessageBody: aws.String("a\x01b")}, "InvalidMessageContents"},
		{&sqs.SendMessageInput{MessageBody: aws.String(strings.Repeat("x", 262145))}, "InvalidParameterValue"},
		{&sqs.SendMessageInput{MessageBody: aws.String("x"), DelaySeconds: 901}, "InvalidParameterValue"},
		{&sqs.SendMessageInput{MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
			"AWS.x": {DataType: aws.String("String"), StringValue: aws.String("v")}}}, "InvalidParameterValue"},
		{&sqs.SendMessageInput{MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
			"n": {DataType: aws.String("Number"), StringValue: aws.String("forty")}}}, "InvalidParameterValue"},
		{&sqs.SendMessageInput{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}, "InvalidParameterValue"},
	} {
		tc.in.QueueUrl = aws.String(url)
		_, err := c.SendMessage(ctx, tc.in)
		checkAPIError(t, fmt.Sprintf("SendMessage(%.40q)", aws.ToString(tc.in.MessageBody)), err, tc.code)
	}
	for _, in := range []*sqs.ReceiveMessageInput{{MaxNumberOfMessages: 11}, {WaitTimeSeconds: 21}, {VisibilityTimeout: 43201}} {
		in.QueueUrl = aws.String(url)
		_, err := c.ReceiveMessage(ctx, in)
		checkAPIError(t, fmt.Sprintf("ReceiveMessage(%d, %d, %d)", in.MaxNumberOfMessages, in.WaitTimeSeconds, in.VisibilityTimeout), err, "InvalidParameterValue")
	}
}

func TestAPI_VisibilityAndReceipts(t *testing.T) {
	s := MustServer(t)
	ctx, c := t.Context(), s.Client("AKROOT")
	url := s.MustCreateQueue(t, "q", map[string]string{"VisibilityTimeout": "30"})
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("m1")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	receive := func(want int) []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) != want {
			t.Fatalf("ReceiveMessage: %d messages, want %d", len(out.Messages), want)
		}
		return out.Messages
	}
	first := receive(1)[0]
	receive(0) // hidden for 30 s
	attrs := getAttrs(t, c, url)
	if attrs["ApproximateNumberOfMessages"] != "0" || attrs["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Errorf("counts while hidden: %v", attrs)
	}
	s.Clock.Add(29e9)
	receive(0)
	s.Clock.Add(2e9)
	second := receive(1)[0]
	if aws.ToString(second.ReceiptHandle) == aws.ToString(first.ReceiptHandle) {
		t.Errorf("the second receive has the first receipt handle")
	}
	if got := second.Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount=%q, want 2", got)
	}
	if got, want := second.Attributes["ApproximateFirstReceiveTimestamp"], first.Attributes["ApproximateFirstReceiveTimestamp"]; got != want {
		t.Errorf("ApproximateFirstReceiveTimestamp=%q, want %q", got, want)
	}

	// The stale handle deletes nothing (as in SQS); a made-up one is invalid.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage(stale handle): %v", err)
	}
	_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("not-a-handle")})
	var invalid *types.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) {
		t.Fatalf("DeleteMessage(made-up handle): err=%v, want *types.ReceiptHandleIsInvalid", err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0})
	if !errors.As(err, &invalid) {
		t.Fatalf("ChangeMessageVisibility(stale handle): err=%v, want *types.ReceiptHandleIsInvalid", err)
	}

	// ChangeMessageVisibility 0: visible at once.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url),
		ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	third := receive(1)[0]
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: third.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	s.Clock.Add(1e12)
	receive(0)
}

func getAttrs(t *testing.T, c *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}
