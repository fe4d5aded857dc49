// Package awssqs is a profiles.DeadLetters over an external service that
// speaks the Amazon SQS API: Amazon SQS itself, the built-in localsqs of
// another OpenProfiles server, or an SQS emulator such as fauxqs. It calls
// the service through aws-sdk-go-v2/service/sqs (the SQS JSON protocol)
// with the credentials it is given.
//
// # Policies
//
// On AWS, SQS enforces a queue's access policy when Customer Profiles (the
// service principal profile.amazonaws.com) sends to it. OpenProfiles sends
// with its own credentials instead, which the policy does not concern. So
// that a queue works here only if it would work with Customer Profiles,
// and to tell operators early what is missing, CheckQueue reads the
// queue's Policy attribute (GetQueueAttributes) and evaluates it with
// package iam for profile.amazonaws.com, sqs:SendMessage, the queue's ARN
// and the aws:SourceAccount and aws:SourceArn of the domain; Send checks
// the same before each message (dead letters are rare: one more call each
// is cheap). The credentials need sqs:GetQueueAttributes, sqs:SendMessage,
// sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and
// sqs:PurgeQueue on the queues.
//
// # Durations
//
// The SQS API has whole seconds: Receive rounds wait and visibility up to
// seconds. The SDK does not send a visibility of 0, so a visibility of 0
// means the queue's VisibilityTimeout here.
//
// # Errors
//
// Errors of the service become root error codes (SQS error codes as the
// SDK reports them, which are the query-compatible ones, or the shape
// names):
//
//	QueueDoesNotExist, AWS.SimpleQueueService.NonExistentQueue,
//	InvalidAddress                                              ENOTFOUND
//	AccessDenied, AccessDeniedException, InvalidSecurity,
//	KMS.* and Kms* (the queue's KMS key)                        EFORBIDDEN
//	ReceiptHandleIsInvalid, InvalidParameterValue,
//	MissingParameter, InvalidMessageContents, MessageNotInflight,
//	InvalidAttributeName, InvalidAttributeValue, …              EINVALID
//	RequestThrottled, ThrottlingException, OverLimit,
//	PurgeQueueInProgress                                        ETHROTTLED
//
// Anything else (the service unreachable, 5xx, credentials it refuses) is
// returned wrapped, an internal error: the caller keeps the message and
// tries again later.
package awssqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

var _ profiles.SampledReceiver = (*Queues)(nil)

// SampledShortPolls says that a Receive without a wait may answer no
// message while the queue holds some: Amazon SQS answers a short poll from
// a sample of its servers (profiles.SampledReceiver).
func (q *Queues) SampledShortPolls() {}

// Queues is the dead-letter queues of an SQS-compatible service.
type Queues struct {
	Client *sqs.Client
	Region string // of the queue ARNs, when the service does not say (QueueArn)
	// Logger gets the service's messages of access denials, which name
	// the principal of the credentials (User: arn:aws:iam::…): the errors
	// Queues returns, which reach callers, leave them out. Nil: not
	// logged.
	Logger *slog.Logger
}

// New returns Queues that call the SQS API at endpoint (e.g.
// http://127.0.0.1:4566; "" for Amazon SQS of the region) in region,
// signing with creds. For other settings (retries, HTTP client), build the
// client with sqs.New or sqs.NewFromConfig (with an sdkhttp.Client as its HTTP
// client) and set Queues.Client.
func New(endpoint, region string, creds aws.CredentialsProvider) *Queues {
	o := sqs.Options{Region: region, Credentials: creds, HTTPClient: sdkhttp.New(nil)}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	return &Queues{Client: sqs.New(o), Region: region}
}

// CheckQueue returns nil when the queue exists and its policy lets
// profile.amazonaws.com SQS:SendMessage to it for sourceARN of
// sourceAccount. Returns ENOTFOUND, and EFORBIDDEN whose message gives the
// statement to add to the queue's policy.
func (q *Queues) CheckQueue(ctx context.Context, queueURL, sourceAccount, sourceARN string) error {
	out, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNamePolicy, types.QueueAttributeNameQueueArn}})
	if err != nil {
		return q.sqsError(ctx, "GetQueueAttributes", queueURL, err)
	}
	arn := out.Attributes["QueueArn"]
	if arn == "" {
		arn = q.arnOf(queueURL)
	}
	add := "Add this statement to the queue's access policy: " + ServicePolicyStatement(arn)
	doc := out.Attributes["Policy"]
	if doc == "" {
		return profiles.Errorf(profiles.EFORBIDDEN, "The queue %s has no access policy, so %s may not SQS:SendMessage to it for %s. %s",
			arn, profiles.ServicePrincipal, sourceARN, add)
	}
	pol, err := iam.Parse([]byte(doc))
	if err != nil {
		return profiles.Errorf(profiles.EFORBIDDEN, "The access policy of queue %s cannot be read (%v). %s", arn, err, add)
	}
	r := &iam.Request{Principal: profiles.ServicePrincipal, Action: "sqs:SendMessage", Resource: arn,
		Context: map[string][]string{"aws:SourceAccount": {sourceAccount}, "aws:SourceArn": {sourceARN}}}
	if ok, _ := iam.Authorize(r, nil, []*iam.Policy{pol}); !ok {
		return profiles.Errorf(profiles.EFORBIDDEN, "The access policy of queue %s does not allow %s SQS:SendMessage for %s (account %s). %s",
			arn, profiles.ServicePrincipal, sourceARN, sourceAccount, add)
	}
	return nil
}

// arnOf returns the ARN of a queue URL .../{account}/{name} in q's region.
func (q *Queues) arnOf(queueURL string) string {
	account, name := "", queueURL
	if u, err := url.Parse(queueURL); err == nil {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) == 2 {
			account, name = parts[0], parts[1]
		}
	}
	return "arn:aws:sqs:" + q.Region + ":" + account + ":" + name
}

// ServicePolicyStatement returns the statement of the product brief that
// lets Customer Profiles send to the queue of the ARN, with the
// confused-deputy conditions for the domains of the queue's account and
// region (as localsqs.ServicePolicyStatement).
func ServicePolicyStatement(queueARN string) string {
	region, account := "REGION", "ACCOUNT"
	if parts := strings.SplitN(queueARN, ":", 6); len(parts) == 6 {
		region, account = parts[3], parts[4]
	}
	j := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{ "Sid": "Customer Profiles SQS policy", "Effect": "Allow", "Principal": { "Service": "` + profiles.ServicePrincipal + `" }, ` +
		`"Action": "SQS:SendMessage", "Resource": ` + j(queueARN) + `, ` +
		`"Condition": { "StringEquals": { "aws:SourceAccount": ` + j(account) + ` }, ` +
		`"ArnLike": { "aws:SourceArn": ` + j("arn:aws:profile:"+region+":"+account+":domains/*") + ` } } }`
}

// Send checks the queue's policy as CheckQueue does, then sends body.
func (q *Queues) Send(ctx context.Context, queueURL, body, sourceAccount, sourceARN string) error {
	if err := q.CheckQueue(ctx, queueURL, sourceAccount, sourceARN); err != nil {
		return err
	}
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err != nil {
		return q.sqsError(ctx, "SendMessage", queueURL, err)
	}
	return nil
}

// Receive receives up to max (1–10) messages, waiting up to wait (at most
// 20 s) and hiding them for visibility (0: the queue's default), both
// rounded up to seconds. Returns ENOTFOUND and EINVALID.
func (q *Queues) Receive(ctx context.Context, queueURL string, max int, wait, visibility time.Duration) ([]profiles.QueueMessage, error) {
	if max < 1 || max > 10 {
		return nil, profiles.Errorf(profiles.EINVALID, "SQS ReceiveMessage %s: MaxNumberOfMessages %d: must be from 1 to 10", queueURL, max)
	}
	waitS, visS := ceilSeconds(wait), ceilSeconds(visibility)
	if waitS < 0 || waitS > 20 {
		return nil, profiles.Errorf(profiles.EINVALID, "SQS ReceiveMessage %s: WaitTimeSeconds %v: must be from 0 to 20 s", queueURL, wait)
	}
	if visS < 0 || visS > 43200 {
		return nil, profiles.Errorf(profiles.EINVALID, "SQS ReceiveMessage %s: VisibilityTimeout %v: must be from 0 to 12 h", queueURL, visibility)
	}
	out, err := q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(queueURL),
		MaxNumberOfMessages: int32(max),
		WaitTimeSeconds:     int32(waitS),
		VisibilityTimeout:   int32(visS),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		return nil, q.sqsError(ctx, "ReceiveMessage", queueURL, err)
	}
	msgs := make([]profiles.QueueMessage, 0, len(out.Messages))
	for _, m := range out.Messages {
		qm := profiles.QueueMessage{ID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body)}
		qm.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			qm.SentAt = time.UnixMilli(ms).UTC()
		}
		msgs = append(msgs, qm)
	}
	return msgs, nil
}

func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}

// Delete deletes a received message. Returns ENOTFOUND, and EINVALID for a
// handle the service refuses.
func (q *Queues) Delete(ctx context.Context, queueURL, receiptHandle string) error {
	_, err := q.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String(receiptHandle)})
	if err != nil {
		return q.sqsError(ctx, "DeleteMessage", queueURL, err)
	}
	return nil
}

// Purge deletes every message of the queue. Returns ENOTFOUND, and
// ETHROTTLED when the queue was purged in the last 60 seconds (SQS).
func (q *Queues) Purge(ctx context.Context, queueURL string) error {
	if _, err := q.Client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(queueURL)}); err != nil {
		return q.sqsError(ctx, "PurgeQueue", queueURL, err)
	}
	return nil
}

// codes maps SQS error codes to root error codes.
var codes = map[string]string{
	"QueueDoesNotExist":                       profiles.ENOTFOUND,
	"AWS.SimpleQueueService.NonExistentQueue": profiles.ENOTFOUND,
	"InvalidAddress":                          profiles.ENOTFOUND,

	"AccessDenied":          profiles.EFORBIDDEN,
	"AccessDeniedException": profiles.EFORBIDDEN,
	"InvalidSecurity":       profiles.EFORBIDDEN,

	"ReceiptHandleIsInvalid":                      profiles.EINVALID,
	"InvalidParameterValue":                       profiles.EINVALID,
	"InvalidParameterCombination":                 profiles.EINVALID,
	"MissingParameter":                            profiles.EINVALID,
	"ValidationError":                             profiles.EINVALID,
	"ValidationException":                         profiles.EINVALID,
	"InvalidMessageContents":                      profiles.EINVALID,
	"InvalidAttributeName":                        profiles.EINVALID,
	"InvalidAttributeValue":                       profiles.EINVALID,
	"InvalidIdFormat":                             profiles.EINVALID,
	"MessageNotInflight":                          profiles.EINVALID,
	"AWS.SimpleQueueService.MessageNotInflight":   profiles.EINVALID,
	"UnsupportedOperation":                        profiles.EINVALID,
	"AWS.SimpleQueueService.UnsupportedOperation": profiles.EINVALID,

	"RequestThrottled":     profiles.ETHROTTLED,
	"ThrottlingException":  profiles.ETHROTTLED,
	"OverLimit":            profiles.ETHROTTLED,
	"PurgeQueueInProgress": profiles.ETHROTTLED,
	"AWS.SimpleQueueService.PurgeQueueInProgress": profiles.ETHROTTLED,
}

// sqsError maps an error of the SQS client to a root error code (see the
// package documentation), or wraps it. The message of an access denial,
// which names the principal of the credentials, is logged, not returned.
func (q *Queues) sqsError(ctx context.Context, op, queueURL string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		msg := fmt.Sprintf("SQS %s %s: %s: %s", op, queueURL, code, ae.ErrorMessage())
		c, ok := codes[code]
		if !ok && (strings.HasPrefix(code, "KMS.") || strings.HasPrefix(code, "Kms")) {
			c, ok = profiles.EFORBIDDEN, true
		}
		if ok && c == profiles.EFORBIDDEN {
			if q.Logger != nil {
				q.Logger.WarnContext(ctx, "awssqs: access denied", "op", op, "queue", queueURL, "err", msg)
			}
			return profiles.Errorf(c, "SQS %s %s: %s: the credentials may not do this (the server's log has the service's message)", op, queueURL, code)
		}
		if ok {
			return profiles.Errorf(c, "%s", msg)
		}
	}
	var ipe smithy.InvalidParamsError
	if errors.As(err, &ipe) {
		return profiles.Errorf(profiles.EINVALID, "SQS %s %s: %v", op, queueURL, err)
	}
	return fmt.Errorf("awssqs: %s %s: %w", op, queueURL, err)
}

// ChangeVisibility makes a received message visible again after d (0: at
// once), rounded up to seconds. Returns ENOTFOUND, and EINVALID for a
// handle the service refuses.
func (q *Queues) ChangeVisibility(ctx context.Context, queueURL, receiptHandle string, d time.Duration) error {
	secs := ceilSeconds(d)
	if secs < 0 || secs > 43200 {
		return profiles.Errorf(profiles.EINVALID, "SQS ChangeMessageVisibility %s: VisibilityTimeout %v: must be from 0 to 12 h", queueURL, d)
	}
	_, err := q.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL),
		ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: int32(secs)})
	if err != nil {
		return q.sqsError(ctx, "ChangeMessageVisibility", queueURL, err)
	}
	return nil
}

// ChangeVisibilities changes the visibility of up to 10 received messages
// in one ChangeMessageVisibilityBatch call, as ChangeVisibility each;
// errs[i] is the error of receiptHandles[i], from the entry's code as
// sqsError maps it. Returns ENOTFOUND, and EINVALID for no handle or more
// than 10.
func (q *Queues) ChangeVisibilities(ctx context.Context, queueURL string, receiptHandles []string, d time.Duration) ([]error, error) {
	const op = "ChangeMessageVisibilityBatch"
	if len(receiptHandles) == 0 || len(receiptHandles) > 10 {
		return nil, profiles.Errorf(profiles.EINVALID, "SQS %s %s: %d entries: must be from 1 to 10", op, queueURL, len(receiptHandles))
	}
	secs := ceilSeconds(d)
	if secs < 0 || secs > 43200 {
		return nil, profiles.Errorf(profiles.EINVALID, "SQS %s %s: VisibilityTimeout %v: must be from 0 to 12 h", op, queueURL, d)
	}
	entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(receiptHandles))
	for i, h := range receiptHandles {
		entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
			ReceiptHandle: aws.String(h), VisibilityTimeout: int32(secs)}
	}
	out, err := q.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		return nil, q.sqsError(ctx, op, queueURL, err)
	}
	errs := make([]error, len(receiptHandles))
	answered := make([]bool, len(receiptHandles))
	for _, ok := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i >= 0 && i < len(errs) {
			answered[i] = true
		}
	}
	for _, f := range out.Failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(errs) {
			continue
		}
		answered[i] = true
		code, msg := aws.ToString(f.Code), fmt.Sprintf("SQS %s %s: entry %d: %s: %s", op, queueURL, i, aws.ToString(f.Code), aws.ToString(f.Message))
		if c, ok := codes[code]; ok && c != profiles.EFORBIDDEN {
			errs[i] = profiles.Errorf(c, "%s", msg)
		} else {
			errs[i] = fmt.Errorf("awssqs: %s", msg)
		}
	}
	for i, ok := range answered {
		if !ok { // the service did not say: not known to be changed
			errs[i] = fmt.Errorf("awssqs: %s %s: entry %d: not in the answer", op, queueURL, i)
		}
	}
	return errs, nil
}

// Depth returns the queue's ApproximateNumberOfMessages plus
// ApproximateNumberOfMessagesNotVisible. Returns ENOTFOUND.
func (q *Queues) Depth(ctx context.Context, queueURL string) (int, error) {
	out, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, q.sqsError(ctx, "GetQueueAttributes", queueURL, err)
	}
	visible, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	hidden, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible + hidden, nil
}
