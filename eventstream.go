package profiles

import (
	"context"
	"encoding/json"
	"time"
)

// An EventStream subscribes a Kinesis data stream (Uri, the stream's ARN)
// to a domain's changes: every profile created or updated and every object
// ingested after the stream was created is sent to it as one JSON record
// (StreamEventPayload), at least once.
type EventStream struct {
	DomainName string
	Name       string
	Arn        string
	Uri        string // arn:aws:kinesis:REGION:ACCOUNT:stream/NAME
	State      string // EventStreamRunning or EventStreamStopped
	// StoppedSince is when State became EventStreamStopped.
	StoppedSince time.Time
	// Status is the destination's health: DestinationHealthy, or
	// DestinationUnhealthy since UnhealthySince because of Message.
	Status         string
	UnhealthySince time.Time
	Message        string
	Tags           map[string]string
	CreatedAt      time.Time
}

// States and destination statuses of an event stream.
const (
	EventStreamRunning   = "RUNNING"
	EventStreamStopped   = "STOPPED"
	DestinationHealthy   = "HEALTHY"
	DestinationUnhealthy = "UNHEALTHY"
)

// MaxEventStreamsPerDomain is the quota of event streams of a domain.
const MaxEventStreamsPerDomain = 5

// EventStreamService manages event streams. Every method returns ENOTFOUND
// for a missing domain or stream.
type EventStreamService interface {
	// CreateEventStream checks that the destination exists and can be
	// written (EINVALID naming what is wrong: the ARN, its region, the
	// stream, its account (the credentials' must hold it), no destination
	// service configured, the destination service not answering) and
	// creates the stream. Returns EINVALID when one of that
	// name exists and EQUOTA past MaxEventStreamsPerDomain.
	CreateEventStream(ctx context.Context, es *EventStream) (*EventStream, error)
	GetEventStream(ctx context.Context, domain, name string) (*EventStream, error)
	// DeleteEventStream deletes the stream and the events it has not
	// delivered yet.
	DeleteEventStream(ctx context.Context, domain, name string) error
	// ListEventStreams returns one page of a domain's event streams, by name.
	ListEventStreams(ctx context.Context, domain string, page Page) ([]*EventStream, string, error)
}

// StreamRecord is one record for a Kinesis data stream.
type StreamRecord struct {
	PartitionKey string
	Data         []byte
}

// StreamDestinations writes records to Kinesis data streams, named by their
// ARNs. Package awskinesis implements it over the Kinesis API.
type StreamDestinations interface {
	// CheckStream returns nil when the stream exists and can take records.
	// Returns ENOTFOUND for a missing stream, EFORBIDDEN when the
	// credentials may not use it, EINVALID for an ARN that is not a Kinesis
	// stream's; other errors (the service unreachable) are internal.
	CheckStream(ctx context.Context, streamARN string) error
	// PutRecords writes up to 500 records to the stream in one call and
	// returns the indexes of the records the stream refused (throttled or
	// failed: the caller sends them again). An error means none was written
	// and carries the codes of CheckStream (ETHROTTLED for a stream over its
	// throughput).
	PutRecords(ctx context.Context, streamARN string, records []StreamRecord) (failed []int, err error)
}

// StreamEvent is one event of a domain waiting in the store for delivery to
// one event stream: a change writes one per event stream of its domain, in
// the change's transaction (Tx.PutStreamEvents), so that an acknowledged
// change is delivered even if the process dies right after.
type StreamEvent struct {
	DomainName   string
	StreamName   string // the event stream, as the service names it in the outbox
	ID           string // the payload's EventId, the same for every stream of one change
	Seq          int64  // assigned by the store on insert, increasing
	PartitionKey string // the profile id: a profile's events go to one shard
	// Data is the payload as the service sealed it (the store keeps it byte
	// for byte).
	Data      []byte
	CreatedAt time.Time
	Attempts  int // claims so far, this one included
	// ClaimedUntil is when the claim of the event's stream that returned
	// it lapses (EventOutbox.FinishStreamClaim names the claim by it).
	ClaimedUntil time.Time
}

// EventOutbox delivers the stream events stores keep, one event stream
// (domain and StreamName) at a time: a claimer claims a stream and takes
// its oldest events, and until that claim lapses or is finished no other
// claimer (also on other nodes) gets any event of that stream. So a
// stream's events are sent in order by one claimer at a time, and a stream
// whose destination fails costs one claim (one batch) per lease, not a
// claim of its whole backlog. Deleting a domain deletes its events and
// claims.
type EventOutbox interface {
	// ClaimStreamEvents deletes the events created before now-retention,
	// then claims the streams that have events and that no claim holds at
	// now: first those never claimed (or whose claim was finished), by
	// their oldest event, then those whose claim lapsed, the lapsed first;
	// each until now+lease, taking its oldest events by Seq, up to limit
	// events in all, with Attempts+1. It returns them (ClaimedUntil set),
	// by Seq, with how many it deleted; atomically, so that concurrent
	// claimers never hold one stream at once.
	ClaimStreamEvents(ctx context.Context, now time.Time, lease, retention time.Duration, limit int) ([]*StreamEvent, int, error)
	// FinishStreamClaim deletes the events of a stream delivered (by Seq;
	// unknown ones are ignored) and, with release, ends the stream's claim
	// that lapses at claimedUntil so that the stream can be claimed again
	// at once (without, the claim lapses when due: the stream waits). A
	// claim taken since (after that one lapsed) is left alone. One
	// transaction.
	FinishStreamClaim(ctx context.Context, domain, stream string, claimedUntil time.Time, delivered []int64, release bool) error
	// PurgeStreamEvents deletes the events of one event stream of a domain,
	// and its claim.
	PurgeStreamEvents(ctx context.Context, domain, stream string) error
	// CountStreamEvents counts the events of one event stream of a domain.
	CountStreamEvents(ctx context.Context, domain, stream string) (int, error)
}

// StreamEventPayload is the JSON record an event stream delivers, as
// Customer Profiles' real-time export writes it. ObjectTypeName is
// "_profile" for a profile's event (Object: the profile as the API shows
// it), else the ingested object's type (Object: the object as ingested,
// AssociatedProfileId and ProfileObjectUniqueKey set).
type StreamEventPayload struct {
	SchemaVersion          int             `json:"SchemaVersion"`
	EventID                string          `json:"EventId"`
	EventTimestamp         string          `json:"EventTimestamp"` // RFC 3339, UTC, milliseconds
	EventType              string          `json:"EventType"`      // CREATED or UPDATED
	DomainName             string          `json:"DomainName"`
	ObjectTypeName         string          `json:"ObjectTypeName"`
	AssociatedProfileID    string          `json:"AssociatedProfileId,omitempty"`
	ProfileObjectUniqueKey string          `json:"ProfileObjectUniqueKey,omitempty"`
	Object                 json.RawMessage `json:"Object"`
	IsMessageRealTime      bool            `json:"IsMessageRealTime"`
}
