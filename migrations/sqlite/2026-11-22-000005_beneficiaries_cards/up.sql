-- Beneficiaries (优抚对象), card products (卡种) and their cards (优待卡).
-- National ID numbers and phones are stored encrypted (AES-256-GCM) with a keyed hash
-- of the ID number beside them for exact look-up and de-duplication.

CREATE TABLE card_products (
    code VARCHAR(32) PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    default_valid_years INTEGER NOT NULL CHECK (default_valid_years BETWEEN 1 AND 50),
    created_at TIMESTAMP NOT NULL
);
INSERT INTO card_products (code, name, description, default_valid_years, created_at) VALUES
    ('general', '拥军优待卡', '通用优待卡，适用于所有拥军商户的优待项目', 5, CURRENT_TIMESTAMP),
    ('medical', '专属医疗卡', '医疗机构就医优先、费用减免', 5, CURRENT_TIMESTAMP),
    ('grain', '深拥粮卡', '粮油商户优待', 5, CURRENT_TIMESTAMP),
    ('book', '书香优待卡', '书店、文化场馆优待', 5, CURRENT_TIMESTAMP);

CREATE TABLE beneficiaries (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    id_number_enc TEXT NOT NULL,
    id_number_hash VARCHAR(64) NOT NULL UNIQUE,
    id_number_masked VARCHAR(18) NOT NULL,
    phone_enc TEXT,
    phone_masked VARCHAR(20),
    category VARCHAR(32) NOT NULL,
    -- Comma-delimited with leading and trailing commas, like merchants' capabilities.
    honors TEXT NOT NULL,
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    primary_beneficiary_id TEXT REFERENCES beneficiaries(id),
    relation TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX beneficiaries_region_category_idx ON beneficiaries (region_code, category);
CREATE INDEX beneficiaries_primary_idx ON beneficiaries (primary_beneficiary_id);

CREATE TABLE cards (
    id TEXT PRIMARY KEY NOT NULL,
    card_no VARCHAR(16) NOT NULL UNIQUE,
    beneficiary_id TEXT NOT NULL REFERENCES beneficiaries(id),
    product VARCHAR(32) NOT NULL REFERENCES card_products(code),
    status VARCHAR(16) NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'expired')),
    status_reason TEXT,
    version INTEGER NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    -- Keyed hash of the one-time activation code; NULL once used.
    activation_code_hash VARCHAR(64),
    activated_at TIMESTAMP,
    replaced_by TEXT REFERENCES cards(id),
    -- When status last changed: the feed of revocations for offline terminals.
    status_changed_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One live card per beneficiary and product.
CREATE UNIQUE INDEX cards_live_per_product_idx ON cards (beneficiary_id, product)
    WHERE status IN ('active', 'suspended');
CREATE INDEX cards_status_changed_idx ON cards (status_changed_at);
