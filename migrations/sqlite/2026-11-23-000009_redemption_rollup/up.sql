-- Monthly sums of completed redemptions (China-time months 'YYYY-MM'), the figures'
-- answer for closed months. Four groupings per month, each keyed by the merchant's
-- region so a region subtree can be summed: holder_category (k1), card_product (k1),
-- merchant (k1 merchant id, k2 merchant category, k3 offer kind), pair (k1 holder region).
CREATE TABLE redemption_rollup (
    month TEXT NOT NULL,
    set_name TEXT NOT NULL,
    merchant_region_code TEXT NOT NULL,
    k1 TEXT NOT NULL,
    k2 TEXT,
    k3 TEXT,
    n BIGINT NOT NULL,
    fen BIGINT NOT NULL
);
CREATE INDEX redemption_rollup_month_idx ON redemption_rollup (month);

-- Which months the rollup holds; a void in a month marks it stale (fresh = false) in
-- the void's own transaction, and the next figures over that month rebuild it.
CREATE TABLE redemption_rollup_months (
    month TEXT PRIMARY KEY,
    fresh BOOLEAN NOT NULL,
    built_at TIMESTAMP
);
