-- Offers (优待项目), point-of-sale terminals, redemptions (核销) with their quotas, and
-- idempotency keys.

CREATE TABLE offers (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    kind VARCHAR(24) NOT NULL,
    percent_off INTEGER,
    amount_off_fen BIGINT,
    price_fen BIGINT,
    gift TEXT,
    -- Comma-delimited with leading and trailing commas; "," means every category.
    eligible_categories TEXT NOT NULL,
    min_honor VARCHAR(32),
    companions_allowed INTEGER NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP,
    recurring_dates TEXT NOT NULL,
    total_quota BIGINT,
    used_total BIGINT NOT NULL DEFAULT 0,
    per_holder_limit INTEGER,
    per_holder_period VARCHAR(16),
    channel VARCHAR(16) NOT NULL,
    card_products TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    status_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (total_quota IS NULL OR used_total <= total_quota),
    CHECK (used_total >= 0)
);
CREATE INDEX offers_merchant_status_idx ON offers (merchant_id, status);
CREATE INDEX offers_status_idx ON offers (status);

CREATE TABLE terminals (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    name TEXT NOT NULL,
    api_key_hash VARCHAR(64) NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX terminals_merchant_idx ON terminals (merchant_id);

CREATE TABLE redemptions (
    id UUID PRIMARY KEY,
    offer_id UUID NOT NULL REFERENCES offers(id),
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    terminal_id UUID NOT NULL REFERENCES terminals(id),
    card_id UUID NOT NULL REFERENCES cards(id),
    beneficiary_id UUID NOT NULL REFERENCES beneficiaries(id),
    -- The QR token's id: a token redeems once.
    jti VARCHAR(64) NOT NULL UNIQUE,
    period_key VARCHAR(16) NOT NULL,
    bill_fen BIGINT,
    discount_fen BIGINT NOT NULL,
    companions INTEGER NOT NULL,
    merchant_region_code VARCHAR(6) NOT NULL,
    holder_region_code VARCHAR(6) NOT NULL,
    status VARCHAR(16) NOT NULL,
    void_reason TEXT,
    voided_at TIMESTAMP,
    redeemed_at TIMESTAMP NOT NULL
);
CREATE INDEX redemptions_merchant_idx ON redemptions (merchant_id, redeemed_at);
CREATE INDEX redemptions_beneficiary_idx ON redemptions (beneficiary_id, redeemed_at);
CREATE INDEX redemptions_offer_idx ON redemptions (offer_id, redeemed_at);

-- Per-holder use of an offer in a period (day, week, … or "all"), enforced by one
-- conditional upsert.
CREATE TABLE holder_usage (
    offer_id UUID NOT NULL REFERENCES offers(id),
    beneficiary_id UUID NOT NULL REFERENCES beneficiaries(id),
    period_key VARCHAR(16) NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (offer_id, beneficiary_id, period_key)
);

CREATE TABLE idempotency_keys (
    terminal_id UUID NOT NULL REFERENCES terminals(id),
    key VARCHAR(128) NOT NULL,
    request_hash VARCHAR(64) NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (terminal_id, key)
);
