-- Rows of storetest.UpgradeData as the store of schema version 11 wrote them
-- (commit 1e00e51, no Sealer; profile rows in the binary form of
-- internal/rowcodec), for TestMigrate_FromPreviousVersion. Made by running
-- that version's store on UpgradeData and dumping its rows without
-- schema_migrations:
--   sqlite3 FILE .dump | grep '^INSERT INTO' | grep -v schema_migrations
INSERT INTO domains VALUES('upgrade',30,'','http://127.0.0.1:8720/000000000000/dlq','{"ruleBasedMatching":{"enabled":true,"matchingRules":[["EmailAddress"]]}}','{"team":"ops"}',1777629600123,1777629600123);
INSERT INTO object_types VALUES('upgrade','contact','{"description":"CRM contacts","allowProfileCreation":true,"fields":{"email":{"source":"_source.email","target":"_profile.EmailAddress","contentType":"EMAIL_ADDRESS"},"id":{"source":"_source.id","contentType":"STRING"}},"keys":{"_email":[{"standardIdentifiers":["PROFILE"],"fieldNames":["email"]}],"contactId":[{"standardIdentifiers":["UNIQUE"],"fieldNames":["id"]}]},"tags":{"k":"v"}}',1777629600123,1777629600123);
INSERT INTO profiles VALUES('upgrade','0123456789abcdef0123456789abcdef',X'01020c456d61696c416464726573730f7a6f65406578616d706c652e636f6d0946697273744e616d65045a6fc3ab010c456d61696c4164647265737307636f6e7461637400f6e5d8afbc67',40,1777629600123,1777629600123);
INSERT INTO objects VALUES('upgrade','contact','contact_contactId_c1','0123456789abcdef0123456789abcdef',X'7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d',37,1777629600123,1777629600123,1777629600123,1809165600123);
INSERT INTO keys VALUES('upgrade','_email','zoe@example.com','0123456789abcdef0123456789abcdef','contact','contact_contactId_c1');
INSERT INTO history VALUES('upgrade','0123456789abcdef0123456789abcdef','a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1','INGESTED','contact','contact_contactId_c1','contact',X'7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d',1777629600123,1777629600123);
