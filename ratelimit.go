package profiles

import "time"

// IngestBucket is the token bucket that bounds how fast objects are
// ingested into one profile. It is kept in the store, in the transaction
// of each ingestion, so that every server node of one store takes from the
// same bucket; the rule that fills and empties it is the service's.
type IngestBucket struct {
	DomainName string
	ProfileID  string
	// Tokens is what the bucket held at UpdatedAt, which the store keeps
	// to the millisecond.
	Tokens    float64
	UpdatedAt time.Time
}
