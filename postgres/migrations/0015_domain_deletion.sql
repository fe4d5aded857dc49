-- A domain being deleted (Store.MarkDomainDeleting). It mirrors
-- sqlite/migrations/0015: deleting_at (unix milliseconds; 0: not being
-- deleted) marks it, in one short transaction; from then on the store
-- treats it as missing, and PurgeDomain removes what it holds in pages of
-- bounded transactions, the domain's row last. The one DELETE whose
-- cascade removed a whole domain was bounded by the statement timeout: a
-- large domain could not be deleted at all. purge_until (unix
-- milliseconds) is the lease of the node doing the purge
-- (LeaseDomainPurge): once it has run out, the sweep of any node takes
-- the purge over. Adding a column with a constant default rewrites no row.
ALTER TABLE domains ADD COLUMN deleting_at bigint NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN purge_until bigint NOT NULL DEFAULT 0;
