-- Whole copies of dead letters cut to fit a queue message
-- (profiles.DeadLetterCopyStore). It mirrors sqlite/migrations/0014: the
-- object as the service sealed it with the domain's KMS key (data, kept
-- byte for byte), named by the letter's ObjectCopy. They lived in files of
-- the data dir of the node that wrote the letter; in the store every node
-- reads them. Deleting a domain deletes its copies (ON DELETE CASCADE).
-- created_at (unix milliseconds; a replay that fails renews it) serves the
-- sweep of copies older than any letter that may name them
-- (dead_letter_copies_by_age). PostgreSQL keeps the large data out of line
-- (TOAST).
CREATE TABLE dead_letter_copies (
	domain     text COLLATE "C" NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
	name       text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL,
	data       bytea  NOT NULL,
	PRIMARY KEY (domain, name)
);

CREATE INDEX dead_letter_copies_by_age ON dead_letter_copies (created_at);
