package service

import (
	"context"
	"time"

	"github.com/openprofiles/profiles"
)

// DefaultIngestRate and DefaultIngestBurst bound how fast objects may be
// ingested into one profile (a token bucket per profile).
const (
	DefaultIngestRate  = 100.0
	DefaultIngestBurst = 100
)

// limiter is the rule of the per-profile ingestion token buckets: a bucket
// holds up to burst tokens, gains rate tokens a second, and each object
// ingested takes one. The buckets live in the store
// (profiles.IngestBucket), read and written in the transaction of the
// ingestion, so that every node of one store takes from the same bucket,
// and concurrent ingestions into one profile take one token each as if
// one after another. A transaction that fails or is refused takes
// nothing; one that the store runs again takes once.
type limiter struct {
	rate  float64 // tokens per second; 0: no limit
	burst float64
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst)}
}

// take takes a token from the bucket of a profile in tx at now (a new
// profile's bucket, which does not exist yet, is full), by the rule of
// profiles.IngestBucket.Take, which the store applies in one statement. It
// returns false when the bucket is empty.
func (l *limiter) take(ctx context.Context, tx profiles.Tx, domain, profileID string, now time.Time) (bool, error) {
	if l.rate <= 0 {
		return true, nil
	}
	return tx.TakeIngestToken(ctx, domain, profileID, l.rate, l.burst, now)
}
