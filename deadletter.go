package profiles

import (
	"context"
	"time"
)

// DeadLetter is the message OpenProfiles writes to a domain's dead-letter
// queue when an object that arrived asynchronously cannot be ingested. Its
// JSON form is documented in the README; Object is the original object,
// unchanged.
type DeadLetter struct {
	Version        int       `json:"Version"`
	DomainName     string    `json:"DomainName"`
	ObjectTypeName string    `json:"ObjectTypeName"`
	Source         string    `json:"Source"`    // "import", "contact", "workflow:<id>"
	ErrorCode      string    `json:"ErrorCode"` // a Reason* value, or INTERNAL
	ErrorMessage   string    `json:"ErrorMessage"`
	Object         string    `json:"Object"`
	FirstFailureAt time.Time `json:"FirstFailureAt"`
	Attempts       int       `json:"Attempts"`
	// An object too large for a queue message (256 KiB) is cut: the
	// message holds its first part, and the store keeps it whole, for
	// this letter alone, as the DeadLetterCopy of the letter's domain that
	// ObjectCopy names (sealed with the domain's KMS key and bound to the
	// domain, the object type and that name), until a replay ingests it or
	// the letter is deleted. Any node of the store reads it.
	ObjectTruncated bool   `json:"ObjectTruncated,omitempty"`
	ObjectSize      int    `json:"ObjectSize,omitempty"`
	ObjectCopy      string `json:"ObjectCopy,omitempty"`
	// ObjectFile names the whole copy of a letter cut by an earlier
	// version: a file of dlq-objects/<domain>/ in the data dir of the
	// node that wrote the letter, which only that node reads.
	ObjectFile string `json:"ObjectFile,omitempty"`
}

// DeadLetterCopy is the whole object of a dead letter cut to fit a queue
// message (DeadLetter.ObjectCopy), as the service sealed it.
type DeadLetterCopy struct {
	DomainName string
	Name       string // the letter's ObjectCopy
	Data       []byte // sealed: the store keeps it as it is
	CreatedAt  time.Time
}

// DeadLetterCopyStore keeps the whole copies of dead letters cut to fit a
// queue message, so that every node of a store can replay them. Deleting a
// domain deletes its copies.
type DeadLetterCopyStore interface {
	// PutDeadLetterCopy stores c, replacing the domain's copy of that
	// name if there is one. A zero CreatedAt becomes the store's current
	// time; on success c holds the time as stored. Returns ENOTFOUND for
	// a missing domain.
	PutDeadLetterCopy(ctx context.Context, c *DeadLetterCopy) error
	// FindDeadLetterCopy returns a domain's copy. Returns ENOTFOUND.
	FindDeadLetterCopy(ctx context.Context, domain, name string) (*DeadLetterCopy, error)
	// DeleteDeadLetterCopy deletes a domain's copy. Returns ENOTFOUND.
	DeleteDeadLetterCopy(ctx context.Context, domain, name string) error
	// DeleteDeadLetterCopiesBefore deletes up to limit copies (<= 0: all),
	// of any domain, whose CreatedAt is before before, the oldest first,
	// and returns how many it deleted.
	DeleteDeadLetterCopiesBefore(ctx context.Context, before time.Time, limit int) (int, error)
}

// DeadLetterEntry is a message of a domain's dead-letter queue as read
// back: Letter is nil when the body is not a dead letter (a message someone
// else sent to the queue); Body is the message as it is.
type DeadLetterEntry struct {
	ID           string
	SentAt       time.Time
	ReceiveCount int
	Letter       *DeadLetter
	Body         string
}

// DeadLetterService reads and replays the dead letters of a domain's
// queue (its DeadLetterQueueUrl). Returns ENOTFOUND for a missing domain and
// EINVALID for a domain without a dead-letter queue.
type DeadLetterService interface {
	// ListDeadLetters returns up to max messages of the queue, oldest
	// first as the queue gives them, and leaves them in it.
	ListDeadLetters(ctx context.Context, domain string, max int) ([]*DeadLetterEntry, error)
	// ReplayDeadLetters ingests the domain's dead letters with the given
	// message IDs (all of them when ids is nil) again, those of the object
	// types allow lets through (nil: all; the others are kept and counted
	// in refused): each one ingested is deleted; each one that fails again
	// is sent back with one more attempt and the new error. A message that
	// names another domain is not one of its dead letters.
	ReplayDeadLetters(ctx context.Context, domain string, ids []string, allow func(objectType string) error) (replayed, failed, refused int, err error)
	// DeleteDeadLetters deletes the messages with the given IDs and returns
	// how many it found.
	DeleteDeadLetters(ctx context.Context, domain string, ids []string) (int, error)
	// DeadLetterDepth returns the approximate number of messages in the
	// domain's queue.
	DeadLetterDepth(ctx context.Context, domain string) (int, error)
}

// IngestCount counts the ingestion outcomes of a domain in one interval.
type IngestCount struct {
	Start    time.Time
	Ingested int
	Failed   int
}

// IngestStats reports recent ingestion activity.
type IngestStats interface {
	// IngestHistory returns the outcomes of the domain's ingestion in
	// buckets of width d, oldest first, ending with the current one.
	IngestHistory(domain string, n int, d time.Duration) []IngestCount
}
