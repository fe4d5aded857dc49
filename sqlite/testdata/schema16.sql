-- Rows of storetest.UpgradeData and storetest.UpgradeStreamEvents as the
-- store of schema version 16 holds them (no Sealer; profile rows in the
-- binary form of internal/rowcodec; two events of one stream waiting, the
-- first taken by a claim of the stream that lapsed before UpgradeClock; no
-- dead-letter copy), for TestMigrate_FromPreviousVersion. Made from
-- testdata/schema15.sql: migrations 0001 to 0015 applied to an empty
-- database, schema15.sql's rows loaded, migration 0016 applied (an index:
-- no row changes), and its rows dumped without schema_migrations (the
-- sqlite_sequence row once: loading schema15.sql's added a second):
--   sqlite3 FILE .dump | grep '^INSERT INTO' | grep -v schema_migrations
INSERT INTO domains VALUES('upgrade',30,'','http://127.0.0.1:8720/000000000000/dlq','{"ruleBasedMatching":{"enabled":true,"matchingRules":[["EmailAddress"]]}}','{"team":"ops"}',1777629600123,1777629600123,0,0);
INSERT INTO object_types VALUES('upgrade','contact','{"description":"CRM contacts","allowProfileCreation":true,"fields":{"email":{"source":"_source.email","target":"_profile.EmailAddress","contentType":"EMAIL_ADDRESS"},"id":{"source":"_source.id","contentType":"STRING"}},"keys":{"_email":[{"standardIdentifiers":["PROFILE"],"fieldNames":["email"]}],"contactId":[{"standardIdentifiers":["UNIQUE"],"fieldNames":["id"]}]},"tags":{"k":"v"}}',1777629600123,1777629600123);
INSERT INTO profiles VALUES('upgrade','0123456789abcdef0123456789abcdef',X'01020c456d61696c416464726573730f7a6f65406578616d706c652e636f6d0946697273744e616d65045a6fc3ab010c456d61696c4164647265737307636f6e7461637400f6e5d8afbc67',40,1777629600123,1777629600123);
INSERT INTO objects VALUES('upgrade','contact','contact_contactId_c1','0123456789abcdef0123456789abcdef',X'7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d',37,1777629600123,1777629600123,1777629600123,1809165600123);
INSERT INTO keys VALUES('upgrade','_email','zoe@example.com','0123456789abcdef0123456789abcdef','contact','contact_contactId_c1');
INSERT INTO history VALUES('upgrade','0123456789abcdef0123456789abcdef','a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1','INGESTED','contact','contact_contactId_c1','contact',X'7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d',1777629600123,1777629600123);
INSERT INTO stream_events VALUES(1,'upgrade','orders#01','e1e1e1e1-0000-4000-8000-000000000001','0123456789abcdef0123456789abcdef',1777629600123,1);
INSERT INTO stream_events VALUES(2,'upgrade','orders#01','e2e2e2e2-0000-4000-8000-000000000002','0123456789abcdef0123456789abcdef',1777629600124,0);
INSERT INTO stream_event_data VALUES(1,X'7b224576656e744964223a226531227d');
INSERT INTO stream_event_data VALUES(2,X'7b224576656e744964223a226532227d');
INSERT INTO stream_claims VALUES('upgrade','orders#01',1777631400123);
INSERT INTO sqlite_sequence VALUES('stream_events',2);
