DROP INDEX offers_pending_idx;
CREATE INDEX offers_status_idx ON offers (status);
CREATE INDEX redemptions_offer_idx ON redemptions (offer_id, redeemed_at);
ALTER TABLE idempotency_keys
    ADD CONSTRAINT idempotency_keys_terminal_id_fkey FOREIGN KEY (terminal_id) REFERENCES terminals(id);
ALTER TABLE holder_usage
    ADD CONSTRAINT holder_usage_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES offers(id),
    ADD CONSTRAINT holder_usage_beneficiary_id_fkey FOREIGN KEY (beneficiary_id) REFERENCES beneficiaries(id);
ALTER TABLE redemptions
    ADD CONSTRAINT redemptions_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES offers(id),
    ADD CONSTRAINT redemptions_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES merchants(id),
    ADD CONSTRAINT redemptions_terminal_id_fkey FOREIGN KEY (terminal_id) REFERENCES terminals(id),
    ADD CONSTRAINT redemptions_card_id_fkey FOREIGN KEY (card_id) REFERENCES cards(id),
    ADD CONSTRAINT redemptions_beneficiary_id_fkey FOREIGN KEY (beneficiary_id) REFERENCES beneficiaries(id);
