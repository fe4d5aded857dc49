package service_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awssqs"
	"github.com/openprofiles/profiles/dlqtest"
	"github.com/openprofiles/profiles/internal/fauxqs"
)

// TestDeadLetters_SampledShortPolls: on a queue service that answers a
// short poll with no message while the queue holds some (as Amazon SQS
// may: fauxqs behind a proxy that empties every other short poll), the
// console's list, delete and replay still read the whole queue: an empty
// short poll is followed by a receive that waits (a long poll), and only
// an empty answer of that ends the read. Before, the first empty answer
// ended it: the list showed none of the letters, delete and replay did
// nothing.
func TestDeadLetters_SampledShortPolls(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s, _, _, _ := mustDeadLetterService(t, db, time.Now)
	endpoint, sampling := fauxqs.StartSampling(t)
	q := awssqs.New(endpoint, fauxqs.Region, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
	out, err := q.Client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq-" + strconv.FormatInt(time.Now().UnixNano(), 36)),
		Attributes: map[string]string{"Policy": dlqtest.Policy(dlqtest.ServiceStatement("*", "000000000000", dlqtest.DomainARN("us-east-1", "000000000000", "*")))}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	s.Queues = q
	if _, err := s.UpdateDomain(ctx, "d", &profiles.DomainUpdate{DeadLetterQueueURL: &url}); err != nil {
		t.Fatal(err)
	}

	const n = 25                     // three batches
	ids := mustPlainLetters(t, s, n) // lists them all (ListDeadLetters), or fails
	if short, emptied, long := sampling.Counts(); emptied == 0 || long == 0 {
		t.Fatalf("the proxy saw %d short polls (%d emptied) and %d long polls: the list did not meet an empty short poll", short, emptied, long)
	}

	deleted, err := s.DeleteDeadLetters(ctx, "d", ids[:12])
	if err != nil || deleted != 12 {
		t.Fatalf("DeleteDeadLetters of 12: %d, %v", deleted, err)
	}
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	replayed, failed, refused, err := s.ReplayDeadLetters(ctx, "d", nil, nil)
	if err != nil || replayed != n-12 || failed != 0 || refused != 0 {
		t.Fatalf("ReplayDeadLetters: %d replayed, %d failed, %d refused, %v; want %d replayed", replayed, failed, refused, err, n-12)
	}
	if left, err := s.ListDeadLetters(ctx, "d", 100); err != nil || len(left) != 0 {
		t.Errorf("after the replay the queue holds %d letters (%v), want none", len(left), err)
	}
}

// TestDeadLetters_BuiltInQueueEndsAtOnce: on the built-in queues, whose
// short polls read the whole queue, an empty answer is the end at once:
// a list of a few letters does not wait for a long poll.
func TestDeadLetters_BuiltInQueueEndsAtOnce(t *testing.T) {
	db := MustOpenSQLite(t)
	s, _, queues, _ := mustDeadLetterService(t, db, time.Now)
	s.Queues = queues.DeadLetters // localsqs itself
	mustPlainLetters(t, s, 3)
	start := time.Now()
	entries, err := s.ListDeadLetters(t.Context(), "d", 100)
	if err != nil || len(entries) != 3 {
		t.Fatalf("ListDeadLetters: %d, %v; want 3", len(entries), err)
	}
	if d := time.Since(start); d >= profiles.EndOfQueueWait {
		t.Errorf("ListDeadLetters of 3 letters on the built-in queue took %v: it waited for the end of the queue", d)
	}
}
