-- history_by_profile gains object_key as its last column. Ingestion looks
-- up the INGESTED record of a contact it receives again (a contact record
-- delivered twice, or updated after the contact) to update it in place
-- (service/ingest.go recordIngested: ListHistory by object type and key,
-- limit 1). The look-up walks the profile's history newest first; with the
-- key in the index entry, SQLite compares it there (a deferred seek) and
-- reads only the matching row, where before it read every row it passed:
-- 4 ms for the oldest contact of 5,000 records, now 0.6 to 2.8 ms on a
-- loaded machine (the walk still grows with the history, 5 times slower).
--
-- A dedicated index (domain, profile, object type, key, newest first)
-- makes the look-up one index search (40 to 160 us) but adds a b-tree to
-- every ingestion's writes: 24.6 pages an object where this costs 22.9 and
-- none 22.8, one object a transaction (BENCHMARKS.md). object_type is left
-- out: an object's key is a hash of its type's name, key name and value
-- (service/ingest.go objectKey), and only the matching row is read to
-- check it. PostgreSQL keeps the dedicated index (its 0016): there, the
-- longer history_by_profile made the look-up slower, not faster.
DROP INDEX history_by_profile;
CREATE INDEX history_by_profile ON history (domain, profile_id, created_at DESC, id DESC, object_key);
