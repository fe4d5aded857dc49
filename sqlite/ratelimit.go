package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
)

// FindIngestBucket returns the ingestion token bucket of a profile.
// Returns ENOTFOUND, naming the domain if it is missing and the bucket
// otherwise.
func (t *tx) FindIngestBucket(ctx context.Context, domain, profileID string) (*profiles.IngestBucket, error) {
	b := profiles.IngestBucket{DomainName: domain, ProfileID: profileID}
	var updated int64
	err := t.stx.QueryRowContext(ctx, `SELECT tokens, updated_at FROM ingest_buckets WHERE domain = ? AND profile_id = ?`,
		domain, profileID).Scan(&b.Tokens, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "profile %q of domain %q has no ingest bucket", profileID, domain)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find ingest bucket: %w", err)
	}
	b.UpdatedAt = fromMillis(updated)
	return &b, nil
}

// PutIngestBucket inserts or replaces the ingestion token bucket of a
// profile; a zero UpdatedAt is the transaction's time. The row goes with
// its profile (ON DELETE CASCADE). Returns ENOTFOUND naming the missing
// domain or profile.
func (t *tx) PutIngestBucket(ctx context.Context, b *profiles.IngestBucket) error {
	if err := t.writable("put ingest bucket"); err != nil {
		return err
	}
	_, err := t.stx.ExecContext(ctx, `INSERT INTO ingest_buckets (domain, profile_id, tokens, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (domain, profile_id) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
		b.DomainName, b.ProfileID, b.Tokens, stamp(b.UpdatedAt, t.now))
	if isForeignKeyViolation(err) {
		return t.notFound(ctx, b.DomainName, "profile %q not found in domain %q", b.ProfileID, b.DomainName)
	} else if err != nil {
		return fmt.Errorf("sqlite: put ingest bucket: %w", err)
	}
	return nil
}

// TakeIngestToken takes one token from the ingestion token bucket of a
// profile by the rule of profiles.IngestBucket.Take, in one statement: an
// upsert that inserts a full bucket less one token, or fills the bucket it
// finds and takes a token, only if it then holds one (the elapsed seconds
// as time.Duration.Seconds computes them, so that the result is Take's to
// the bit). No row changed is an empty bucket, or a missing profile when
// burst < 1. Returns ENOTFOUND naming the missing domain or profile.
func (t *tx) TakeIngestToken(ctx context.Context, domain, profileID string, rate, burst float64, now time.Time) (bool, error) {
	if err := t.writable("take ingest token"); err != nil {
		return false, err
	}
	res, err := t.stx.ExecContext(ctx, takeIngestTokenSQL, domain, profileID, rate, burst, now.UnixNano(), now.UnixMilli())
	if isForeignKeyViolation(err) {
		return false, t.notFound(ctx, domain, "profile %q not found in domain %q", profileID, domain)
	} else if err != nil {
		return false, fmt.Errorf("sqlite: take ingest token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("sqlite: take ingest token: %w", err)
	} else if n == 1 {
		return true, nil
	}
	var n int
	if err := t.stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM profiles WHERE domain = ? AND id = ?`, domain, profileID).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: take ingest token: %w", err)
	} else if n == 0 {
		return false, t.notFound(ctx, domain, "profile %q not found in domain %q", profileID, domain)
	}
	return false, nil
}

// takeIngestTokenSQL is the statement of TakeIngestToken; its parameters
// are the domain, the profile id, the rate, the burst, and now in
// nanoseconds and in milliseconds. elapsedNanos is now less the bucket's
// time; filled is the bucket's tokens once filled.
var takeIngestTokenSQL = func() string {
	const elapsedNanos = `(?5 - ingest_buckets.updated_at * 1000000)`
	const filled = `(CASE WHEN ` + elapsedNanos + ` > 0
		THEN min(?4, ingest_buckets.tokens + ((` + elapsedNanos + ` / 1000000000) + (` + elapsedNanos + ` % 1000000000) / 1e9) * ?3)
		ELSE ingest_buckets.tokens END)`
	return `INSERT INTO ingest_buckets (domain, profile_id, tokens, updated_at)
		SELECT ?1, ?2, ?4 - 1, ?6 WHERE ?4 >= 1
		ON CONFLICT (domain, profile_id) DO UPDATE SET
			tokens = ` + filled + ` - 1,
			updated_at = CASE WHEN ` + elapsedNanos + ` > 0 THEN ?6 ELSE ingest_buckets.updated_at END
		WHERE ` + filled + ` >= 1`
}()
