-- The ledger's writes, made lighter for the 1 August rush (issue 15).
--
-- Foreign keys from the redemption path's tables: every check takes a KEY SHARE lock
-- on its parent row (the offer, the merchant, the terminal, the card, the holder), and
-- a row locked by several transactions at once becomes a MultiXact; a redemption of an
-- offer with a quota then updates that same offer row (measured: about 5.7 MultiXacts
-- per redemption, and half the throughput of an unlimited offer). The parents are
-- never deleted (merchants, offers, cards and holders change status; terminals are
-- soft-deleted), and these rows are written by one code path (app::pos::redeem) with
-- the ids it has just read from those parents in the same request.
ALTER TABLE redemptions
    DROP CONSTRAINT redemptions_offer_id_fkey,
    DROP CONSTRAINT redemptions_merchant_id_fkey,
    DROP CONSTRAINT redemptions_terminal_id_fkey,
    DROP CONSTRAINT redemptions_card_id_fkey,
    DROP CONSTRAINT redemptions_beneficiary_id_fkey;
ALTER TABLE holder_usage
    DROP CONSTRAINT holder_usage_offer_id_fkey,
    DROP CONSTRAINT holder_usage_beneficiary_id_fkey;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_terminal_id_fkey;

-- Only "completed redemptions of this offer" (when an unlimited offer is given a
-- quota) read by offer; it goes through the merchant's index instead.
DROP INDEX redemptions_offer_idx;

-- A cold verification reads one merchant's active offers; with an index on status
-- alone the planner could (and on a fresh database did) read every active offer of
-- every merchant, walking the dead versions of other merchants' quota rows. The
-- merchant's index serves it, and the office queues (pending offers of a region) go
-- from the region's merchants to it; pending offers nationwide have their own.
DROP INDEX offers_status_idx;
CREATE INDEX offers_pending_idx ON offers (created_at, id) WHERE status = 'pending_review';
