package postgres

import (
	"context"
	"errors"

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
