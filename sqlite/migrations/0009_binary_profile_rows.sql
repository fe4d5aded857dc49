-- Profile rows (profiles.data) in the binary form of internal/rowcodec,
-- which a store of schema version 8 or earlier wrote as JSON and cannot
-- read. The tables do not change: this version makes an earlier program
-- refuse the database (ErrSchemaTooNew) rather than fail on each profile
-- it reads. Rows written as JSON stay readable.
SELECT 1;
