-- Offline redemptions: the time a terminal verified the token without the network.
ALTER TABLE redemptions ADD COLUMN offline BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE redemptions ADD COLUMN verified_offline_at TIMESTAMP;
CREATE INDEX redemptions_offline_idx ON redemptions (redeemed_at) WHERE offline;
-- The figures of a holder's home office (异地互认), and the insurance gifts (赠险).
CREATE INDEX redemptions_holder_region_idx
    ON redemptions (holder_region_code varchar_pattern_ops, redeemed_at);
CREATE INDEX redemptions_insurance_idx ON redemptions (redeemed_at)
    WHERE merchant_category = 'insurance';

-- When each version of a card began, and the status it began with: an offline
-- redemption is judged by the card as it was when it was verified.
CREATE TABLE card_changes (
    card_id UUID NOT NULL REFERENCES cards(id),
    version INTEGER NOT NULL,
    status VARCHAR(16) NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (card_id, version)
);

-- What a partner commits in an emergency (急时战时), beside its capabilities.
ALTER TABLE merchants ADD COLUMN emergency_commitment TEXT NOT NULL DEFAULT '';

-- An office's yearly targets; a missing row or value falls back to the defaults.
CREATE TABLE targets (
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    year INTEGER NOT NULL,
    new_partners BIGINT,
    insurance_gifts BIGINT,
    activities BIGINT,
    people_served BIGINT,
    updated_by VARCHAR(64) NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (region_code, year)
);

-- The sweep that marks lapsed agreements and cards expired finds them by these.
CREATE INDEX merchants_lapsing_idx ON merchants (agreement_end) WHERE status = 'active';
CREATE INDEX cards_lapsing_idx ON cards (expires_at) WHERE status = 'active';
