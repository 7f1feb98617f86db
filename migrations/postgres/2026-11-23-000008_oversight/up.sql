-- Oversight (issue 6): admission dates for the yearly targets, exit-review flags,
-- denormalised redemption dimensions for the figures, complaints and spot checks.

-- First admission (准入) of a merchant: set on its first activation, kept through
-- suspensions and renewals. Backfilled from the audit log for merchants admitted before.
ALTER TABLE merchants ADD COLUMN admitted_at TIMESTAMP;
-- Flag for exit review (退出复核): set by complaint figures or a failed spot check,
-- cleared when an administrator records a decision. Never changes the status itself.
ALTER TABLE merchants ADD COLUMN exit_review_reason TEXT;
ALTER TABLE merchants ADD COLUMN exit_review_flagged_at TIMESTAMP;
ALTER TABLE merchants ADD COLUMN exit_review_cleared_at TIMESTAMP;
UPDATE merchants m SET admitted_at = (
    SELECT min(a.created_at) FROM audit_log a
    WHERE a.entity_type = 'merchant' AND a.entity_id = m.id::text AND a.after_status = 'active')
WHERE m.badge_no IS NOT NULL;
UPDATE merchants SET admitted_at = updated_at WHERE badge_no IS NOT NULL AND admitted_at IS NULL;
CREATE INDEX merchants_admitted_idx ON merchants (admitted_at, region_code) WHERE admitted_at IS NOT NULL;
CREATE INDEX merchants_flagged_idx ON merchants (region_code varchar_pattern_ops)
    WHERE exit_review_flagged_at IS NOT NULL;

-- What the figures group redemptions by, copied at redemption time (it never changes
-- afterwards), so every figure is one scan of one table.
ALTER TABLE redemptions ADD COLUMN holder_category TEXT NOT NULL DEFAULT '';
ALTER TABLE redemptions ADD COLUMN card_product TEXT NOT NULL DEFAULT '';
ALTER TABLE redemptions ADD COLUMN offer_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE redemptions ADD COLUMN merchant_category TEXT NOT NULL DEFAULT '';
UPDATE redemptions r SET holder_category = b.category FROM beneficiaries b WHERE b.id = r.beneficiary_id;
UPDATE redemptions r SET card_product = c.product FROM cards c WHERE c.id = r.card_id;
UPDATE redemptions r SET offer_kind = o.kind FROM offers o WHERE o.id = r.offer_id;
UPDATE redemptions r SET merchant_category = m.category FROM merchants m WHERE m.id = r.merchant_id;
CREATE INDEX redemptions_region_time_idx ON redemptions (merchant_region_code varchar_pattern_ops, redeemed_at);
CREATE INDEX redemptions_time_idx ON redemptions (redeemed_at);

-- 投诉 and ratings: a holder about a merchant where they redeemed in the last 90 days.
CREATE TABLE complaints (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    beneficiary_id UUID NOT NULL REFERENCES beneficiaries(id),
    redemption_id UUID REFERENCES redemptions(id),
    -- the merchant's region, for scoping
    region_code TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    content TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    outcome TEXT,
    resolution_comment TEXT,
    resolved_by UUID,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX complaints_merchant_idx ON complaints (merchant_id, created_at);
CREATE INDEX complaints_status_region_idx ON complaints (status, region_code varchar_pattern_ops);

-- 抽查: a reproducible random sample of the active merchants of a region.
CREATE TABLE inspections (
    id UUID PRIMARY KEY,
    region_code TEXT NOT NULL,
    sample_size INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    -- how many active merchants the sample was drawn from
    population INTEGER NOT NULL,
    created_by UUID,
    created_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX inspections_region_idx ON inspections (region_code varchar_pattern_ops, created_at);
CREATE TABLE inspection_items (
    inspection_id UUID NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
    position INTEGER NOT NULL,
    outcome TEXT CHECK (outcome IN ('compliant', 'non_compliant')),
    notes TEXT,
    recorded_by UUID,
    recorded_at TIMESTAMP,
    PRIMARY KEY (inspection_id, merchant_id)
);
CREATE INDEX inspection_items_merchant_idx ON inspection_items (merchant_id, recorded_at);
