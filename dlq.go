package profiles

import (
	"context"
	"time"
)

// QueueMessage is a message received from a queue.
type QueueMessage struct {
	ID            string
	ReceiptHandle string // deletes the message or changes its visibility, until it is received again
	Body          string
	ReceiveCount  int
	SentAt        time.Time
}

// DeadLetters is the SPI of dead-letter queues: the built-in localsqs or an
// external SQS-compatible service (awssqs). A queue is named by its URL.
// Every implementation passes the conformance suite in package dlqtest.
//
// Errors: ENOTFOUND for a queue that does not exist; EFORBIDDEN when its
// policy does not let ServicePrincipal send for the source; EINVALID for a
// bad receipt handle; any other error means the queue could not be reached
// (the caller keeps the message and tries again later).
type DeadLetters interface {
	// CheckQueue returns nil when the queue exists and its policy lets
	// ServicePrincipal SQS:SendMessage to it for the resource sourceARN of
	// account sourceAccount; otherwise an ENOTFOUND or EFORBIDDEN error
	// saying what is missing.
	CheckQueue(ctx context.Context, url, sourceAccount, sourceARN string) error

	// Send sends one message as ServicePrincipal for the source.
	Send(ctx context.Context, url, body, sourceAccount, sourceARN string) error

	// Receive returns up to max messages (1–10), waiting up to wait for
	// one, and hides them from other receivers for visibility.
	Receive(ctx context.Context, url string, max int, wait, visibility time.Duration) ([]QueueMessage, error)

	// Delete deletes a received message.
	Delete(ctx context.Context, url, receiptHandle string) error

	// Purge deletes every message of the queue.
	Purge(ctx context.Context, url string) error

	// ChangeVisibility makes a received message visible to receivers again
	// after d (0: at once). Returns EINVALID for a handle that is not, or
	// no longer, the message's.
	ChangeVisibility(ctx context.Context, url, receiptHandle string, d time.Duration) error

	// ChangeVisibilities does what ChangeVisibility does for up to 10
	// received messages in one call: errs[i] is the error of
	// receiptHandles[i] (EINVALID for a handle that is not, or no longer,
	// its message's). err is the call's (ENOTFOUND; EINVALID for no
	// handle or more than 10; the queue unreachable), with errs nil.
	ChangeVisibilities(ctx context.Context, url string, receiptHandles []string, d time.Duration) (errs []error, err error)

	// Depth returns the approximate number of messages in the queue,
	// visible or not.
	Depth(ctx context.Context, url string) (int, error)
}

// SampledReceiver is implemented by a DeadLetters whose Receive without a
// wait may return no message while the queue holds visible ones: Amazon
// SQS answers a short poll (WaitTimeSeconds 0) from a sample of its
// servers. A caller that reads a queue to its end takes an empty answer of
// such a queue for the end only from a Receive that waited EndOfQueueWait
// (a long poll, which SQS answers from all its servers, as soon as a
// message is there). The built-in queues read their store whole and do
// not implement it: an empty short poll is their end, at once.
type SampledReceiver interface {
	DeadLetters
	// SampledShortPolls marks the implementation; it does nothing.
	SampledShortPolls()
}

// EndOfQueueWait is how long a reader of a whole queue of a
// SampledReceiver waits for a message before it takes the queue for read.
const EndOfQueueWait = time.Second

// Queue is a queue of the built-in queue service.
type Queue struct {
	Name       string
	URL        string
	ARN        string
	Attributes map[string]string // VisibilityTimeout, MessageRetentionPeriod, DelaySeconds, ReceiveMessageWaitTimeSeconds, MaximumMessageSize, Policy, …
	Tags       map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// StoredMessage is a message of the built-in queue service as stored.
type StoredMessage struct {
	QueueName     string
	ID            string
	Body          string
	Attributes    map[string]string // message attributes, as JSON-able strings
	SentAt        time.Time
	VisibleAt     time.Time // hidden until then (delay or visibility timeout)
	ReceiveCount  int
	ReceiptHandle string // of the last receive
	FirstReceive  time.Time
}

// QueueStore persists the built-in queue service's queues and messages.
// Every store implements it and passes its cases in storetest.
type QueueStore interface {
	// CreateQueue inserts a queue. Returns ECONFLICT when the name exists.
	CreateQueue(ctx context.Context, q *Queue) error
	// FindQueue returns a queue by name. Returns ENOTFOUND.
	FindQueue(ctx context.Context, name string) (*Queue, error)
	// ListQueues returns the queues whose names start with prefix, after
	// after, in byte order, up to limit (<= 0: all).
	ListQueues(ctx context.Context, prefix, after string, limit int) ([]*Queue, error)
	// UpdateQueue calls fn on the queue and stores the result, in one
	// transaction. Returns ENOTFOUND, or fn's error as is.
	UpdateQueue(ctx context.Context, name string, fn func(*Queue) error) (*Queue, error)
	// DeleteQueue deletes a queue and its messages. Returns ENOTFOUND.
	DeleteQueue(ctx context.Context, name string) error

	// PutMessage inserts a message. Returns ENOTFOUND for a missing queue.
	PutMessage(ctx context.Context, m *StoredMessage) error
	// ReceiveMessages takes up to max messages of the queue visible at now
	// (oldest first), sets each one's VisibleAt to now+visibility, a new
	// ReceiptHandle (made by handle) and ReceiveCount+1, and returns them;
	// atomically, so that concurrent receivers (also on other nodes) never
	// get the same message while it is hidden. Messages sent before
	// now-retention are deleted instead. Returns ENOTFOUND.
	ReceiveMessages(ctx context.Context, queue string, max int, now time.Time, visibility, retention time.Duration, handle func() string) ([]*StoredMessage, error)
	// DeleteMessage deletes the message whose last ReceiptHandle is handle.
	// Returns ENOTFOUND (unknown queue or handle).
	DeleteMessage(ctx context.Context, queue, handle string) error
	// ChangeVisibility sets VisibleAt of the message whose last
	// ReceiptHandle is handle. Returns ENOTFOUND.
	ChangeVisibility(ctx context.Context, queue, handle string, visibleAt time.Time) error
	// PurgeQueue deletes every message of the queue. Returns ENOTFOUND.
	PurgeQueue(ctx context.Context, queue string) error
	// CountMessages returns how many messages are visible at now and how
	// many are hidden. Returns ENOTFOUND.
	CountMessages(ctx context.Context, queue string, now time.Time) (visible, hidden int, err error)
}
