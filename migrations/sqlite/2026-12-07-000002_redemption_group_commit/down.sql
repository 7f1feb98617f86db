DROP INDEX offers_pending_idx;
CREATE INDEX offers_status_idx ON offers (status);
CREATE INDEX redemptions_offer_idx ON redemptions (offer_id, redeemed_at);
