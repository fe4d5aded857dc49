-- Whole copies of dead letters cut to fit a queue message
-- (profiles.DeadLetterCopyStore): the object as the service sealed it with
-- the domain's KMS key (data, kept byte for byte), named by the letter's
-- ObjectCopy. They lived in files of the data dir of the node that wrote
-- the letter; in the store every node reads them. Deleting a domain
-- deletes its copies (ON DELETE CASCADE). created_at (unix milliseconds;
-- a replay that fails renews it) serves the sweep of copies older than
-- any letter that may name them (dead_letter_copies_by_age). A table with
-- a rowid: its rows are large (a copy is more than 256 KiB), which SQLite
-- keeps out of the primary key's index this way.
CREATE TABLE dead_letter_copies (
	domain     TEXT    NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	data       BLOB    NOT NULL,
	PRIMARY KEY (domain, name)
) STRICT;

CREATE INDEX dead_letter_copies_by_age ON dead_letter_copies (created_at);
