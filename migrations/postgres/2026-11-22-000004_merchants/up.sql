-- Partner merchants (拥军商户), their departmental reviews (联审), public objections (异议)
-- and the per-region, per-year badge number sequence (荣誉标识).

CREATE TABLE merchants (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    credit_code VARCHAR(18),
    legal_representative TEXT,
    contact_name TEXT NOT NULL,
    contact_phone VARCHAR(20) NOT NULL,
    address TEXT NOT NULL,
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    category VARCHAR(32) NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    services TEXT NOT NULL,
    measures TEXT NOT NULL,
    commitments TEXT NOT NULL,
    -- Comma-delimited with leading and trailing commas (",medical,transport,") so that
    -- one LIKE '%,medical,%' finds a capability on both backends.
    emergency_capabilities TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    status_reason TEXT,
    notice_ends_at TIMESTAMP,
    agreement_no TEXT,
    agreement_start DATE,
    agreement_end DATE,
    badge_no VARCHAR(32) UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One live holder per credit code; rejected and revoked applicants may apply again.
CREATE UNIQUE INDEX merchants_live_credit_code_idx ON merchants (credit_code)
    WHERE credit_code IS NOT NULL AND status NOT IN ('rejected', 'revoked');
CREATE INDEX merchants_status_region_idx ON merchants (status, region_code);
CREATE INDEX merchants_status_category_region_idx ON merchants (status, category, region_code);
-- The directory's "near" search: a bounding box over active merchants.
CREATE INDEX merchants_active_geo_idx ON merchants (latitude, longitude) WHERE status = 'active';

ALTER TABLE staff_users
    ADD CONSTRAINT staff_users_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES merchants(id);

CREATE TABLE merchant_reviews (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    department VARCHAR(64) NOT NULL,
    verdict VARCHAR(8) NOT NULL CHECK (verdict IN ('pass', 'fail')),
    comment TEXT NOT NULL,
    reviewer_id UUID REFERENCES staff_users(id),
    reviewer_label VARCHAR(128) NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX merchant_reviews_merchant_idx ON merchant_reviews (merchant_id, department, created_at);

CREATE TABLE merchant_objections (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    content TEXT NOT NULL,
    contact_phone VARCHAR(20),
    status VARCHAR(16) NOT NULL CHECK (status IN ('open', 'upheld', 'dismissed')),
    resolution_comment TEXT,
    resolved_by UUID REFERENCES staff_users(id),
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX merchant_objections_merchant_idx ON merchant_objections (merchant_id, status);

CREATE TABLE badge_sequences (
    region_code VARCHAR(6) NOT NULL,
    year INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (region_code, year)
);
