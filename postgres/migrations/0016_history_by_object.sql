-- history_by_object: the history records of one object of a profile,
-- newest first. Ingestion looks up the INGESTED record of an object it
-- receives again (a contact record delivered twice) to update it in place
-- (service/ingest.go recordIngested, ListHistory with the object type and
-- key); history_by_profile alone made that a scan of the profile's whole
-- history, thousands of rows for a frequent caller (BENCHMARKS.md).
CREATE INDEX history_by_object ON history (domain, profile_id, object_type, object_key, created_at DESC, id DESC);
