-- Only "completed redemptions of this offer" read the ledger by offer; they go through
-- the merchant's index instead (one index fewer to write per redemption). SQLite keeps
-- the ledger's foreign keys: its checks take no row locks.
DROP INDEX redemptions_offer_idx;
-- A verification reads one merchant's active offers through the merchant's index, not
-- every active offer (see the PostgreSQL migration).
DROP INDEX offers_status_idx;
CREATE INDEX offers_pending_idx ON offers (created_at, id) WHERE status = 'pending_review';
