// Package localsqs is the built-in queue service of OpenProfiles: a
// profiles.DeadLetters over a profiles.QueueStore that also serves a subset
// of the Amazon SQS JSON API (Handler), so that the AWS CLI and SDKs create
// and read its queues as they would SQS queues.
//
// # Queues
//
// Queues are standard queues (at-least-once delivery, no FIFO). A queue is
// named by its URL, BaseURL()+"/"+account+"/"+name as SQS's
// (https://sqs.us-east-1.amazonaws.com/123456789012/q); any host is
// accepted in a URL, only /{account}/{name} is read. Its ARN is
// arn:aws:sqs:{region}:{account}:{name}. Names have 1 to 80 letters,
// digits, hyphens and underscores.
//
// Queue attributes and their ranges follow SQS: VisibilityTimeout (0–43200
// s, default 30), MessageRetentionPeriod (60–1209600 s, default 345600),
// DelaySeconds (0–900, default 0), ReceiveMessageWaitTimeSeconds (0–20,
// default 0), MaximumMessageSize (1024–262144 bytes, default 262144: this
// service keeps SQS's former limit of 256 KiB) and Policy (an access
// policy). Redrive, FIFO and server-side-encryption attributes are not
// supported and are refused.
//
// Messages are kept in the store until deleted, purged or older than the
// retention period; a received message is hidden for its visibility
// timeout, and then received again (with a new receipt handle) unless it
// was deleted. Receipt handles are opaque; a handle of a message received
// since is stale: deleting with it succeeds and deletes nothing, as in SQS.
// Long polling asks the store every 100 ms, so that receivers on other
// nodes sharing the store see messages sent anywhere.
//
// # Policies
//
// A queue's Policy attribute is an access policy as in SQS. The service
// principal profile.amazonaws.com may send to a queue only when the policy
// allows it sqs:SendMessage for the source account and domain ARN
// (ServicePolicyStatement gives the statement to add): CheckQueue and
// Send, the methods of profiles.DeadLetters, evaluate it. The other methods
// of profiles.DeadLetters are the service reading its own queues and check
// nothing. Calls through the SQS API are authorised by the caller's
// identity policies (the authorize callback of Handler) or by the queue's
// policy, an explicit Deny of either winning; see allow.
package localsqs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

var _ profiles.DeadLetters = (*SQS)(nil)

// Limits of the SQS API that this package applies.
const (
	MaxMessageBytes    = 262144 // body and message attributes, as SQS counts them
	MaxReceive         = 10     // messages a receive returns
	MaxWait            = 20 * time.Second
	MaxVisibility      = 12 * time.Hour
	MaxDelay           = 15 * time.Minute
	MaxQueueNameLength = 80
	MaxMessageAttrs    = 10
)

// pollInterval is how often a long poll asks the store for messages.
const pollInterval = 100 * time.Millisecond

// Queue attribute names.
const (
	AttrVisibilityTimeout             = "VisibilityTimeout"
	AttrMessageRetentionPeriod        = "MessageRetentionPeriod"
	AttrDelaySeconds                  = "DelaySeconds"
	AttrReceiveMessageWaitTimeSeconds = "ReceiveMessageWaitTimeSeconds"
	AttrMaximumMessageSize            = "MaximumMessageSize"
	AttrPolicy                        = "Policy"
)

// settable are the attributes a queue may be given, with their range and
// default (Policy: none).
var settable = map[string]struct{ min, max, def int }{
	AttrVisibilityTimeout:             {0, 43200, 30},
	AttrMessageRetentionPeriod:        {60, 1209600, 345600},
	AttrDelaySeconds:                  {0, 900, 0},
	AttrReceiveMessageWaitTimeSeconds: {0, 20, 0},
	AttrMaximumMessageSize:            {1024, MaxMessageBytes, MaxMessageBytes},
}

// SQS is the built-in queue service. Set the fields before use; they are
// read-only once in use, and an SQS is safe for concurrent use.
type SQS struct {
	Store     profiles.QueueStore
	Region    string // of the queue ARNs
	AccountID string // of the queue URLs and ARNs, 12 digits
	// BaseURL returns the scheme and host of queue URLs, e.g.
	// "http://127.0.0.1:8720". Nil: the host the API request came to.
	BaseURL func() string
	Now     func() time.Time
}

func (s *SQS) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// QueueARN returns the ARN of the queue name.
func (s *SQS) QueueARN(name string) string {
	return "arn:aws:sqs:" + s.Region + ":" + s.AccountID + ":" + name
}

// queueURL returns the URL of the queue name under BaseURL (base when
// BaseURL is nil).
func (s *SQS) queueURL(base, name string) string {
	if s.BaseURL != nil {
		base = s.BaseURL()
	}
	return strings.TrimRight(base, "/") + "/" + s.AccountID + "/" + name
}

// QueueURLName returns the queue name of a queue URL
// (scheme://host/{account}/{name}, of any host, or the path alone) and
// whether the URL has that form with a 12-digit account and a valid name.
func QueueURLName(queueURL string) (name string, ok bool) {
	_, name, ok = parseQueueURL(queueURL)
	return name, ok
}

func parseQueueURL(queueURL string) (account, name string, ok bool) {
	u, err := url.Parse(queueURL)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", false
	}
	account, name, ok = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if !ok || !isAccountID(account) || validQueueName(name) != nil {
		return "", "", false
	}
	return account, name, true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validQueueName returns InvalidParameterValue for a name SQS refuses, and
// for FIFO queue names, which this service does not support.
func validQueueName(name string) error {
	if strings.HasSuffix(name, ".fifo") {
		return invalidParameterf("FIFO queues are not supported by the built-in queue service: %q.", name)
	}
	if name == "" || len(name) > MaxQueueNameLength {
		return invalidParameterf("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	for i := range len(name) {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return invalidParameterf("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
		}
	}
	return nil
}

// queue returns the queue of a URL. Returns ENOTFOUND (QueueDoesNotExist)
// for a URL of another account, of no queue, or not a queue URL.
func (s *SQS) queue(ctx context.Context, queueURL string) (*profiles.Queue, error) {
	if queueURL == "" {
		return nil, missingParameter("QueueUrl")
	}
	account, name, ok := parseQueueURL(queueURL)
	if !ok || account != s.AccountID {
		return nil, errNoQueue()
	}
	q, err := s.Store.FindQueue(ctx, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, errNoQueue()
	} else if err != nil {
		return nil, storeError("find queue", err)
	}
	return q, nil
}

// intAttr returns a numeric attribute of a queue, or its default.
func intAttr(q *profiles.Queue, name string) int {
	if v, err := strconv.Atoi(q.Attributes[name]); err == nil {
		return v
	}
	return settable[name].def
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// CheckQueue returns nil when the queue exists and its policy lets
// profile.amazonaws.com SQS:SendMessage to it for sourceARN of
// sourceAccount. Returns ENOTFOUND, and EFORBIDDEN (AccessDenied) whose
// message gives the statement to add to the queue's policy.
func (s *SQS) CheckQueue(ctx context.Context, queueURL, sourceAccount, sourceARN string) error {
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return err
	}
	return s.checkService(q, sourceAccount, sourceARN)
}

// Send checks the queue's policy as CheckQueue does, then sends body as a
// message of profile.amazonaws.com, delayed by the queue's DelaySeconds.
// Returns ENOTFOUND, EFORBIDDEN, and EINVALID for a body that is empty,
// larger than the queue's MaximumMessageSize or with characters SQS
// refuses.
func (s *SQS) Send(ctx context.Context, queueURL, body, sourceAccount, sourceARN string) error {
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return err
	}
	if err := s.checkService(q, sourceAccount, sourceARN); err != nil {
		return err
	}
	_, err = s.send(ctx, q, body, nil, -1, profiles.ServicePrincipal)
	return err
}

// send validates and stores one message. delay < 0 is the queue's.
func (s *SQS) send(ctx context.Context, q *profiles.Queue, body string, attrs map[string]messageAttribute, delay int, sender string) (*profiles.StoredMessage, error) {
	if err := validBody(body); err != nil {
		return nil, err
	}
	size := len(body)
	for name, a := range attrs {
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if limit := intAttr(q, AttrMaximumMessageSize); size > limit {
		return nil, invalidParameterf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", limit)
	}
	if delay < 0 {
		delay = intAttr(q, AttrDelaySeconds)
	}
	stored, err := encodeAttributes(attrs, sender)
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := &profiles.StoredMessage{QueueName: q.Name, ID: newUUID(), Body: body, Attributes: stored,
		SentAt: now, VisibleAt: now.Add(seconds(delay))}
	if err := s.Store.PutMessage(ctx, m); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, errNoQueue()
	} else if err != nil {
		return nil, storeError("put message", err)
	}
	return m, nil
}

// validBody returns an error for an empty body or one with characters
// outside those SQS allows: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
// #xFFFD | #x10000 to #x10FFFF.
func validBody(body string) error {
	if body == "" {
		return missingParameter("MessageBody")
	}
	if !utf8.ValidString(body) {
		return sqsErrorf(ExInvalidMessageContents, profiles.EINVALID, "The message body is not valid UTF-8.")
	}
	for _, r := range body {
		if !(r == 0x9 || r == 0xA || r == 0xD || 0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF) {
			return sqsErrorf(ExInvalidMessageContents, profiles.EINVALID,
				"Invalid binary character '#x%X' was found in the message body, the set of allowed characters is "+
					"#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", r)
		}
	}
	return nil
}

// Receive returns up to max (1–10) messages of the queue, waiting up to
// wait (at most 20 s) for one, and hides them for visibility (at most 12
// h; 0: the queue's VisibilityTimeout). It returns early when ctx ends,
// with ctx's error. Returns ENOTFOUND and EINVALID.
func (s *SQS) Receive(ctx context.Context, queueURL string, max int, wait, visibility time.Duration) ([]profiles.QueueMessage, error) {
	if max < 1 || max > MaxReceive {
		return nil, invalidParameter("MaxNumberOfMessages", max, "Must be between 1 and 10, if provided.")
	}
	if wait < 0 || wait > MaxWait {
		return nil, invalidParameter("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
	}
	if visibility < 0 || visibility > MaxVisibility {
		return nil, invalidParameter("VisibilityTimeout", visibility, "Must be >= 0 and <= 43200, if provided.")
	}
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return nil, err
	}
	if visibility == 0 {
		visibility = seconds(intAttr(q, AttrVisibilityTimeout))
	}
	msgs, err := s.receive(ctx, q, max, wait, visibility)
	if err != nil {
		return nil, err
	}
	out := make([]profiles.QueueMessage, len(msgs))
	for i, m := range msgs {
		out[i] = profiles.QueueMessage{ID: m.ID, ReceiptHandle: m.ReceiptHandle, Body: m.Body, ReceiveCount: m.ReceiveCount, SentAt: m.SentAt}
	}
	return out, nil
}

// receive takes up to max messages, polling the store until one is there
// or wait has passed. Polls after the first count the visible messages
// (a read) before taking them (a write), so that waiting receivers do not
// hold the store's write lock.
func (s *SQS) receive(ctx context.Context, q *profiles.Queue, max int, wait, visibility time.Duration) ([]*profiles.StoredMessage, error) {
	deadline := time.Now().Add(wait)
	retention := seconds(intAttr(q, AttrMessageRetentionPeriod))
	var timer *time.Timer
	for first := true; ; first = false {
		var msgs []*profiles.StoredMessage
		var err error
		visible := 1
		if !first {
			visible, _, err = s.Store.CountMessages(ctx, q.Name, s.now())
		}
		if err == nil && visible > 0 {
			msgs, err = s.Store.ReceiveMessages(ctx, q.Name, max, s.now(), visibility, retention, newReceiptHandle)
		}
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, errNoQueue()
		} else if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, storeError("receive messages", err)
		}
		left := time.Until(deadline)
		if len(msgs) > 0 || left <= 0 {
			return msgs, nil
		}
		d := min(left, pollInterval)
		if timer == nil {
			timer = time.NewTimer(d)
			defer timer.Stop()
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// Delete deletes a received message. A stale handle (of a message deleted
// or received again since) deletes nothing and is no error, as in SQS.
// Returns ENOTFOUND, and EINVALID (ReceiptHandleIsInvalid) for a handle
// this service did not make.
func (s *SQS) Delete(ctx context.Context, queueURL, receiptHandle string) error {
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return err
	}
	return s.deleteMessage(ctx, q, receiptHandle)
}

func (s *SQS) deleteMessage(ctx context.Context, q *profiles.Queue, handle string) error {
	if err := validHandle(handle); err != nil {
		return err
	}
	err := s.Store.DeleteMessage(ctx, q.Name, handle)
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return storeError("delete message", err)
	}
	return nil
}

// Purge deletes every message of the queue. Returns ENOTFOUND.
func (s *SQS) Purge(ctx context.Context, queueURL string) error {
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return err
	}
	if err := s.Store.PurgeQueue(ctx, q.Name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return errNoQueue()
	} else if err != nil {
		return storeError("purge queue", err)
	}
	return nil
}

// Receipt handles: base64url (no padding) of a version byte and 32 random
// bytes.
const (
	handleVersion = 0x01
	handleBytes   = 33
)

func newReceiptHandle() string {
	b := make([]byte, handleBytes)
	rand.Read(b[1:])
	b[0] = handleVersion
	return base64.RawURLEncoding.EncodeToString(b)
}

// validHandle returns ReceiptHandleIsInvalid (EINVALID) for a handle
// newReceiptHandle did not make.
func validHandle(h string) error {
	if h == "" {
		return missingParameter("ReceiptHandle")
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || len(b) != handleBytes || b[0] != handleVersion {
		return sqsErrorf(ExReceiptHandleIsInvalid, profiles.EINVALID,
			"The input receipt handle %q is not a valid receipt handle.", clip(h))
	}
	return nil
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// newUUID returns a random UUID (version 4).
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
