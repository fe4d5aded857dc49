package profiles

import "time"

// IngestBucket is the token bucket that bounds how fast objects are
// ingested into one profile. It is kept in the store, in the transaction
// of each ingestion, so that every server node of one store takes from the
// same bucket. Take is the rule that fills and empties it; stores apply it
// in one statement (Tx.TakeIngestToken).
type IngestBucket struct {
	DomainName string
	ProfileID  string
	// Tokens is what the bucket held at UpdatedAt, which the store keeps
	// to the millisecond.
	Tokens    float64
	UpdatedAt time.Time
}

// Take takes one token from b at now, for a bucket that holds up to burst
// tokens and gains rate tokens a second. It returns the bucket to store and
// true, or false when b holds less than one token once filled. A bucket
// counted at a later time than now (by a node whose clock is ahead) does
// not fill until now catches up, and keeps its time. A missing bucket is a
// full one: IngestBucket{Tokens: burst, UpdatedAt: now}.
//
// Stores that compute it in SQL do so with the same float64 operations in
// the same order (elapsed seconds as time.Duration.Seconds computes them),
// so that both give the same bits.
func (b IngestBucket) Take(rate, burst float64, now time.Time) (IngestBucket, bool) {
	if elapsed := now.Sub(b.UpdatedAt).Seconds(); elapsed > 0 {
		b.Tokens = min(burst, b.Tokens+elapsed*rate)
		b.UpdatedAt = now
	}
	if b.Tokens < 1 {
		return b, false
	}
	b.Tokens--
	return b, true
}
