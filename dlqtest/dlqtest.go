// Package dlqtest is the conformance suite of profiles.DeadLetters: every
// implementation runs the same cases from its own tests.
//
//	func TestDeadLetters(t *testing.T) {
//		dlqtest.Run(t, func(tb testing.TB) *dlqtest.Harness {
//			return &dlqtest.Harness{DL: d, NewQueue: …, Account: …, Region: …, ChecksPolicy: true}
//		})
//	}
//
// The suite holds every implementation to the contract written on
// profiles.DeadLetters and to these rules:
//
//   - A message sent is received with its body, an id, a receipt handle,
//     ReceiveCount 1 and its SentAt; once deleted it is never received
//     again.
//   - A received message is hidden for the visibility asked, then received
//     again with ReceiveCount 2 and a new receipt handle.
//   - Receive waits up to wait for a message sent meanwhile (long
//     polling), and returns no more than max messages.
//   - Purge deletes every message.
//   - A queue that does not exist is ENOTFOUND for every method; max
//     outside 1–10 is EINVALID.
//   - A receipt handle the queue never made is EINVALID for Delete where
//     the implementation can tell (Harness.ChecksHandles; SQS can, some
//     emulators accept any handle), and deletes nothing either way.
//   - ChangeVisibility and ChangeVisibilities refuse with EINVALID the
//     handle of a message received again since (a stale handle): a
//     holder of messages tells by it that another receiver has one.
//     ChangeVisibilities answers for each handle.
//
// Visibility and wait are whole seconds here, as the SQS API has them; a
// visibility of 0 is not used (the SQS clients cannot send it, and take
// the queue's default).
//
// Where the implementation reads queue policies (Harness.ChecksPolicy),
// CheckQueue and Send are nil for a queue whose policy lets
// profile.amazonaws.com SQS:SendMessage for the source (the statement of
// the product brief, with or without the confused-deputy conditions), and
// EFORBIDDEN for one without a policy, one whose conditions name another
// domain or account, one that allows only someone else, or one that denies
// the service; the message of a policy failure gives the statement to add
// (its Sid "Customer Profiles SQS policy" and the queue's ARN).
package dlqtest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
)

// Harness is a dead-letter queue implementation under test and the means
// to set up its queues.
type Harness struct {
	// DL is the implementation under test.
	DL profiles.DeadLetters

	// NewQueue creates an empty standard queue whose access policy is
	// policy (a JSON document; "" for none), with the default attributes
	// of SQS (VisibilityTimeout 30 s, no delay), and returns its URL.
	NewQueue func(tb testing.TB, policy string) (url string)

	// Account and Region are those of the queues' ARNs. CheckQueue and
	// Send are asked for the domains of this account and region.
	Account, Region string

	// ChecksPolicy says that CheckQueue and Send evaluate queue policies
	// for profile.amazonaws.com.
	ChecksPolicy bool

	// ChecksHandles says that Delete refuses a receipt handle the queue
	// did not make with EINVALID, rather than ignoring it.
	ChecksHandles bool
}

// Run runs the suite. It calls h once per case; the queues a case makes
// are its own (a harness may share one implementation between cases).
func Run(t *testing.T, h func(tb testing.TB) *Harness) {
	t.Run("SendReceiveDelete", func(t *testing.T) { testSendReceiveDelete(t, mustOpen(t, h)) })
	t.Run("ReceiveMax", func(t *testing.T) { testReceiveMax(t, mustOpen(t, h)) })
	t.Run("Visibility", func(t *testing.T) { testVisibility(t, mustOpen(t, h)) })
	t.Run("LongPolling", func(t *testing.T) { testLongPolling(t, mustOpen(t, h)) })
	t.Run("Purge", func(t *testing.T) { testPurge(t, mustOpen(t, h)) })
	t.Run("BadReceiptHandle", func(t *testing.T) { testBadReceiptHandle(t, mustOpen(t, h)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, mustOpen(t, h)) })
	t.Run("CheckQueue", func(t *testing.T) { testCheckQueue(t, mustOpen(t, h)) })
	t.Run("ChangeVisibilityAndDepth", func(t *testing.T) { testChangeVisibilityAndDepth(t, mustOpen(t, h)) })
	t.Run("StaleHandle", func(t *testing.T) { testStaleHandle(t, mustOpen(t, h)) })
	t.Run("ChangeVisibilities", func(t *testing.T) { testChangeVisibilities(t, mustOpen(t, h)) })
}

func mustOpen(tb testing.TB, open func(tb testing.TB) *Harness) *Harness {
	tb.Helper()
	h := open(tb)
	if h == nil || h.DL == nil || h.NewQueue == nil || h.Account == "" || h.Region == "" {
		tb.Fatal("the harness has no DL, NewQueue, Account or Region")
	}
	return h
}

// QueueARN returns the ARN of a queue of the account and region.
func QueueARN(region, account, name string) string {
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// DomainARN returns the ARN of a Customer Profiles domain.
func DomainARN(region, account, domain string) string {
	return "arn:aws:profile:" + region + ":" + account + ":domains/" + domain
}

// ServiceStatement returns the statement of the product brief that lets
// profile.amazonaws.com SQS:SendMessage to the queue ("*": any queue), with
// the confused-deputy conditions when sourceAccount or sourceARN (an ARN
// pattern) is set.
func ServiceStatement(queueARN, sourceAccount, sourceARN string) string {
	s := `{ "Sid": "Customer Profiles SQS policy", "Effect": "Allow", "Principal": { "Service": "profile.amazonaws.com" }, ` +
		`"Action": "SQS:SendMessage", "Resource": "` + queueARN + `"`
	var conds []string
	if sourceAccount != "" {
		conds = append(conds, `"StringEquals": { "aws:SourceAccount": "`+sourceAccount+`" }`)
	}
	if sourceARN != "" {
		conds = append(conds, `"ArnLike": { "aws:SourceArn": "`+sourceARN+`" }`)
	}
	if len(conds) > 0 {
		s += `, "Condition": { ` + strings.Join(conds, ", ") + ` }`
	}
	return s + ` }`
}

// Policy returns a queue policy of the statements.
func Policy(statements ...string) string {
	return `{ "Version": "2012-10-17", "Statement": [ ` + strings.Join(statements, ", ") + ` ] }`
}

// ServicePolicy returns the policy of the product brief for the account's
// domains in the region, with the confused-deputy conditions.
func (h *Harness) ServicePolicy() string {
	return Policy(ServiceStatement("*", h.Account, DomainARN(h.Region, h.Account, "*")))
}

// newQueue makes a queue with the service policy.
func (h *Harness) newQueue(tb testing.TB) string {
	tb.Helper()
	return h.NewQueue(tb, h.ServicePolicy())
}

// source returns the account and the ARN of a domain of the harness.
func (h *Harness) source(domain string) (string, string) {
	return h.Account, DomainARN(h.Region, h.Account, domain)
}

// queueName returns the last segment of a queue URL.
func queueName(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkCode fails tb unless err has the root error code (nil for "").
func checkCode(tb testing.TB, op string, err error, code string) {
	tb.Helper()
	if got := profiles.ErrorCode(err); got != code {
		tb.Fatalf("%s: err=%v (code %q), want code %q", op, err, got, code)
	}
}
