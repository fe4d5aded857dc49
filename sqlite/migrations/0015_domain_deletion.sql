-- A domain being deleted (Store.MarkDomainDeleting): deleting_at (unix
-- milliseconds; 0: not being deleted) marks it, in one short transaction;
-- from then on the store treats it as missing, and PurgeDomain removes
-- what it holds in pages of bounded transactions, the domain's row last.
-- One transaction for the whole cascade held SQLite's one writer for as
-- long as it took (minutes for a large domain). purge_until (unix
-- milliseconds) is the lease of the node doing the purge
-- (LeaseDomainPurge): once it has run out, the sweep of any node takes
-- the purge over.
ALTER TABLE domains ADD COLUMN deleting_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN purge_until INTEGER NOT NULL DEFAULT 0;
