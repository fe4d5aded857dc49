-- Rows of storetest.UpgradeData as the store of schema version 7 wrote them
-- (commit f5c95b8, no Sealer), for TestMigrate_FromPreviousVersion. Made by
-- running that version's store on UpgradeData and dumping its rows without
-- schema_migrations:
--   sqlite3 FILE .dump | grep '^INSERT INTO' | grep -v schema_migrations
INSERT INTO domains VALUES('upgrade',30,'','http://127.0.0.1:8720/000000000000/dlq','{"ruleBasedMatching":{"enabled":true,"matchingRules":[["EmailAddress"]]}}','{"team":"ops"}',1777629600123,1777629600123);
INSERT INTO object_types VALUES('upgrade','contact','{"description":"CRM contacts","allowProfileCreation":true,"fields":{"email":{"source":"_source.email","target":"_profile.EmailAddress","contentType":"EMAIL_ADDRESS"},"id":{"source":"_source.id","contentType":"STRING"}},"keys":{"_email":[{"standardIdentifiers":["PROFILE"],"fieldNames":["email"]}],"contactId":[{"standardIdentifiers":["UNIQUE"],"fieldNames":["id"]}]},"tags":{"k":"v"}}',1777629600123,1777629600123);
INSERT INTO profiles VALUES('upgrade','0123456789abcdef0123456789abcdef',X'7b226669656c6473223a7b22456d61696c41646472657373223a227a6f65406578616d706c652e636f6d222c2246697273744e616d65223a225a6fc3ab227d2c22736f7572636573223a7b22456d61696c41646472657373223a7b226f626a65637454797065223a22636f6e74616374222c22757064617465644174223a313737373632393630303132337d7d7d',40,1777629600123,1777629600123);
INSERT INTO objects VALUES('upgrade','contact','contact_contactId_c1','0123456789abcdef0123456789abcdef',X'7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d',37,1777629600123,1777629600123,1777629600123,1809165600123);
INSERT INTO keys VALUES('upgrade','_email','zoe@example.com','0123456789abcdef0123456789abcdef','contact','contact_contactId_c1');
INSERT INTO history VALUES('upgrade','0123456789abcdef0123456789abcdef','a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1','INGESTED','contact','contact_contactId_c1','contact',X'7b226964223a226331222c22656d61696c223a227a6f65406578616d706c652e636f6d227d',1777629600123,1777629600123);
