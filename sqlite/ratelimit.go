package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
