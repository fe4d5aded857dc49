-- Rows of storetest.UpgradeData and storetest.UpgradeStreamEvents as the
-- store of schema version 16 holds them (no Sealer; profile rows in the
-- binary form of internal/rowcodec; two events of one stream waiting, the
-- first taken by a claim of the stream that lapsed before UpgradeClock; no
-- dead-letter copy), for TestMigrate_FromPreviousVersion. Made from
-- testdata/schema15.sql: migrations 0001 to 0015 applied to an empty
-- database, schema15.sql's rows loaded, migration 0016 applied (an index:
-- no row changes), and its rows dumped without schema_migrations:
--   pg_dump --data-only --column-inserts -T schema_migrations DB (tables in the
--   order of their references, without the schema name)
INSERT INTO domains (name, default_expiration_days, default_encryption_key, dead_letter_queue_url, settings, tags, created_at, updated_at, deleting_at, purge_until) VALUES ('upgrade', 30, '', 'http://127.0.0.1:8720/000000000000/dlq', '{"ruleBasedMatching":{"enabled":true,"matchingRules":[["EmailAddress"]]}}', '{"team":"ops"}', 1777629600123, 1777629600123, 0, 0);
INSERT INTO object_types (domain, name, data, created_at, updated_at) VALUES ('upgrade', 'contact', '{"description":"CRM contacts","allowProfileCreation":true,"fields":{"email":{"source":"_source.email","target":"_profile.EmailAddress","contentType":"EMAIL_ADDRESS"},"id":{"source":"_source.id","contentType":"STRING"}},"keys":{"_email":[{"standardIdentifiers":["PROFILE"],"fieldNames":["email"]}],"contactId":[{"standardIdentifiers":["UNIQUE"],"fieldNames":["id"]}]},"tags":{"k":"v"}}', 1777629600123, 1777629600123);
INSERT INTO profiles (domain, id, data, size, created_at, updated_at) VALUES ('upgrade', '0123456789abcdef0123456789abcdef', '\x01020946697273744e616d65045a6fc3ab0c456d61696c416464726573730f7a6f65406578616d706c652e636f6d010c456d61696c4164647265737307636f6e7461637400f6e5d8afbc67', 40, 1777629600123, 1777629600123);
INSERT INTO objects (domain, object_type, unique_key, profile_id, data, size, source_last_updated, created_at, updated_at, expires_at) VALUES ('upgrade', 'contact', 'contact_contactId_c1', '0123456789abcdef0123456789abcdef', '\x7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d', 37, 1777629600123, 1777629600123, 1777629600123, 1809165600123);
INSERT INTO keys (domain, name, value, profile_id, origin, object_key) VALUES ('upgrade', '_email', 'zoe@example.com', '0123456789abcdef0123456789abcdef', 'contact', 'contact_contactId_c1');
INSERT INTO history (domain, profile_id, id, action_type, object_type, object_key, performed_by, content, created_at, updated_at) VALUES ('upgrade', '0123456789abcdef0123456789abcdef', 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 'INGESTED', 'contact', 'contact_contactId_c1', 'contact', '\x7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d', 1777629600123, 1777629600123);
INSERT INTO stream_events (seq, domain, stream, id, partition_key, data, created_at, attempts) OVERRIDING SYSTEM VALUE VALUES (1, 'upgrade', 'orders#01', 'e1e1e1e1-0000-4000-8000-000000000001', '0123456789abcdef0123456789abcdef', '\x7b224576656e744964223a226531227d', 1777629600123, 1);
INSERT INTO stream_events (seq, domain, stream, id, partition_key, data, created_at, attempts) OVERRIDING SYSTEM VALUE VALUES (2, 'upgrade', 'orders#01', 'e2e2e2e2-0000-4000-8000-000000000002', '0123456789abcdef0123456789abcdef', '\x7b224576656e744964223a226532227d', 1777629600124, 0);
INSERT INTO stream_claims (domain, stream, claimed_until) VALUES ('upgrade', 'orders#01', 1777631400123);
SELECT pg_catalog.setval('stream_events_seq_seq', 2, true);
