-- Ingestion token buckets (profiles.IngestBucket): one row per profile that
-- ingested objects under a rate limit. tokens is what the bucket held at
-- updated_at (unix milliseconds). A row goes with its profile.
CREATE TABLE ingest_buckets (
	domain     TEXT    NOT NULL,
	profile_id TEXT    NOT NULL,
	tokens     REAL    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (domain, profile_id),
	FOREIGN KEY (domain, profile_id) REFERENCES profiles (domain, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
