-- Ingestion token buckets (profiles.IngestBucket): one row per profile that
-- ingested objects under a rate limit. tokens is what the bucket held at
-- updated_at (unix milliseconds). A row goes with its profile. Every node
-- of the database takes from the same row, in the transaction of the
-- ingestion: two that take from one bucket at once conflict, and one of
-- them runs again and sees what the other took.
CREATE TABLE ingest_buckets (
	domain     text COLLATE "C" NOT NULL,
	profile_id text COLLATE "C" NOT NULL,
	tokens     double precision NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (domain, profile_id),
	FOREIGN KEY (domain, profile_id) REFERENCES profiles (domain, id) ON DELETE CASCADE
);
