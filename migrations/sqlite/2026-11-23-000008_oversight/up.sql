-- Oversight (issue 6); see the PostgreSQL migration for what each part is for.
ALTER TABLE merchants ADD COLUMN admitted_at TIMESTAMP;
ALTER TABLE merchants ADD COLUMN exit_review_reason TEXT;
ALTER TABLE merchants ADD COLUMN exit_review_flagged_at TIMESTAMP;
ALTER TABLE merchants ADD COLUMN exit_review_cleared_at TIMESTAMP;
UPDATE merchants SET admitted_at = (
    SELECT min(a.created_at) FROM audit_log a
    WHERE a.entity_type = 'merchant' AND a.entity_id = merchants.id AND a.after_status = 'active')
WHERE badge_no IS NOT NULL;
UPDATE merchants SET admitted_at = updated_at WHERE badge_no IS NOT NULL AND admitted_at IS NULL;
CREATE INDEX merchants_admitted_idx ON merchants (admitted_at, region_code) WHERE admitted_at IS NOT NULL;
CREATE INDEX merchants_flagged_idx ON merchants (region_code) WHERE exit_review_flagged_at IS NOT NULL;

ALTER TABLE redemptions ADD COLUMN holder_category TEXT NOT NULL DEFAULT '';
ALTER TABLE redemptions ADD COLUMN card_product TEXT NOT NULL DEFAULT '';
ALTER TABLE redemptions ADD COLUMN offer_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE redemptions ADD COLUMN merchant_category TEXT NOT NULL DEFAULT '';
UPDATE redemptions SET
    holder_category = coalesce((SELECT b.category FROM beneficiaries b WHERE b.id = redemptions.beneficiary_id), ''),
    card_product = coalesce((SELECT c.product FROM cards c WHERE c.id = redemptions.card_id), ''),
    offer_kind = coalesce((SELECT o.kind FROM offers o WHERE o.id = redemptions.offer_id), ''),
    merchant_category = coalesce((SELECT m.category FROM merchants m WHERE m.id = redemptions.merchant_id), '');
CREATE INDEX redemptions_region_time_idx ON redemptions (merchant_region_code, redeemed_at);
CREATE INDEX redemptions_time_idx ON redemptions (redeemed_at);

CREATE TABLE complaints (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    beneficiary_id TEXT NOT NULL REFERENCES beneficiaries(id),
    redemption_id TEXT REFERENCES redemptions(id),
    region_code TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    content TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    outcome TEXT,
    resolution_comment TEXT,
    resolved_by TEXT,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX complaints_merchant_idx ON complaints (merchant_id, created_at);
CREATE INDEX complaints_status_region_idx ON complaints (status, region_code);

CREATE TABLE inspections (
    id TEXT PRIMARY KEY NOT NULL,
    region_code TEXT NOT NULL,
    sample_size INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    population INTEGER NOT NULL,
    created_by TEXT,
    created_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX inspections_region_idx ON inspections (region_code, created_at);
CREATE TABLE inspection_items (
    inspection_id TEXT NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    position INTEGER NOT NULL,
    outcome TEXT CHECK (outcome IN ('compliant', 'non_compliant')),
    notes TEXT,
    recorded_by TEXT,
    recorded_at TIMESTAMP,
    PRIMARY KEY (inspection_id, merchant_id)
);
CREATE INDEX inspection_items_merchant_idx ON inspection_items (merchant_id, recorded_at);
