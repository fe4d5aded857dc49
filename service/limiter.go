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

// take takes a token from the bucket of a profile in tx at now. It returns
// the bucket to store (nil when there is no limit), and false when the
// bucket is empty. A new profile (created) has a full bucket. A bucket
// counted at a later time than now (by a node whose clock is ahead of this
// one's) does not fill until now catches up.
func (l *limiter) take(ctx context.Context, tx profiles.Tx, domain, profileID string, created bool, now time.Time) (*profiles.IngestBucket, bool, error) {
	if l.rate <= 0 {
		return nil, true, nil
	}
	b := &profiles.IngestBucket{DomainName: domain, ProfileID: profileID, Tokens: l.burst, UpdatedAt: now}
	if !created {
		old, err := tx.FindIngestBucket(ctx, domain, profileID)
		switch {
		case err == nil:
			b.Tokens = old.Tokens
			if elapsed := now.Sub(old.UpdatedAt).Seconds(); elapsed > 0 {
				b.Tokens = min(l.burst, b.Tokens+elapsed*l.rate)
			} else {
				b.UpdatedAt = old.UpdatedAt
			}
		case profiles.ErrorCode(err) == profiles.ENOTFOUND:
			// No bucket yet: a full one.
		default:
			return nil, false, err
		}
	}
	if b.Tokens < 1 {
		return nil, false, nil
	}
	b.Tokens--
	return b, true, nil
}
