package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openprofiles/profiles"
)

// FindIngestBucket returns the ingestion token bucket of a profile.
// Returns ENOTFOUND, naming the domain if it is missing and the bucket
// otherwise.
func (t *tx) FindIngestBucket(ctx context.Context, domain, profileID string) (*profiles.IngestBucket, error) {
	b := profiles.IngestBucket{DomainName: domain, ProfileID: profileID}
	var updated int64
	err := t.ptx.QueryRow(ctx, `SELECT tokens, updated_at FROM ingest_buckets WHERE domain = $1 AND profile_id = $2`,
		domain, profileID).Scan(&b.Tokens, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, t.notFound(ctx, domain, "profile %q of domain %q has no ingest bucket", profileID, domain)
	} else if err != nil {
		return nil, t.wrap("find ingest bucket", err)
	}
	b.UpdatedAt = fromMillis(updated)
	return &b, nil
}

// PutIngestBucket inserts or replaces the ingestion token bucket of a
// profile; a zero UpdatedAt is the transaction's time. The row goes with
// its profile (ON DELETE CASCADE). The statement checks that the profile
// exists, so a missing one is an ENOTFOUND (naming the domain or the
// profile) that leaves the transaction usable.
func (t *tx) PutIngestBucket(ctx context.Context, b *profiles.IngestBucket) error {
	if err := t.writable("put ingest bucket"); err != nil {
		return err
	}
	tag, err := t.ptx.Exec(ctx, `INSERT INTO ingest_buckets (domain, profile_id, tokens, updated_at)
		SELECT $1, $2, $3::double precision, $4::bigint WHERE EXISTS (SELECT 1 FROM profiles WHERE domain = $1 AND id = $2)
		ON CONFLICT (domain, profile_id) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
		b.DomainName, b.ProfileID, b.Tokens, stamp(b.UpdatedAt, t.now))
	if err != nil {
		return t.wrap("put ingest bucket", err)
	} else if tag.RowsAffected() == 0 {
		return t.notFound(ctx, b.DomainName, "profile %q not found in domain %q", b.ProfileID, b.DomainName)
	}
	return nil
}

// TakeIngestToken takes one token from the ingestion token bucket of a
// profile by the rule of profiles.IngestBucket.Take, in one statement: an
// upsert that inserts a full bucket less one token, or fills the bucket it
// finds and takes a token, only if it then holds one (the elapsed seconds
// as time.Duration.Seconds computes them, in float8, so that the result is
// Take's to the bit). The statement checks that the profile exists; no row
// changed is an empty bucket or a missing profile, told apart by a second
// query. Returns ENOTFOUND naming the missing domain or profile.
func (t *tx) TakeIngestToken(ctx context.Context, domain, profileID string, rate, burst float64, now time.Time) (bool, error) {
	if err := t.writable("take ingest token"); err != nil {
		return false, err
	}
	t.wroteProfile(domain, profileID)
	tag, err := t.ptx.Exec(ctx, takeIngestTokenSQL, domain, profileID, rate, burst, now.UnixNano(), now.UnixMilli())
	if err != nil {
		return false, t.wrap("take ingest token", err)
	} else if tag.RowsAffected() == 1 {
		return true, nil
	}
	var exists bool
	if err := t.ptx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM profiles WHERE domain = $1 AND id = $2)`, domain, profileID).Scan(&exists); err != nil {
		return false, t.wrap("take ingest token", err)
	} else if !exists {
		return false, t.notFound(ctx, domain, "profile %q not found in domain %q", profileID, domain)
	}
	return false, nil
}

// takeIngestTokenSQL is the statement of TakeIngestToken; its parameters
// are the domain, the profile id, the rate, the burst, and now in
// nanoseconds and in milliseconds. elapsedNanos is now less the bucket's
// time; filled is the bucket's tokens once filled.
var takeIngestTokenSQL = func() string {
	const elapsedNanos = `($5::bigint - b.updated_at * 1000000)`
	const filled = `(CASE WHEN ` + elapsedNanos + ` > 0
		THEN least($4::float8, b.tokens + ((` + elapsedNanos + ` / 1000000000)::float8 + (` + elapsedNanos + ` % 1000000000)::float8 / 1e9::float8) * $3::float8)
		ELSE b.tokens END)`
	return `INSERT INTO ingest_buckets AS b (domain, profile_id, tokens, updated_at)
		SELECT $1, $2, $4::float8 - 1, $6::bigint
		WHERE $4::float8 >= 1 AND EXISTS (SELECT 1 FROM profiles WHERE domain = $1 AND id = $2)
		ON CONFLICT (domain, profile_id) DO UPDATE SET
			tokens = ` + filled + ` - 1,
			updated_at = CASE WHEN ` + elapsedNanos + ` > 0 THEN $6::bigint ELSE b.updated_at END
		WHERE ` + filled + ` >= 1`
}()
