-- Seeds a realistic spread of merchants, beneficiaries, cards and :count redemptions over
-- the last 24 months, for the figures (stats) and export benchmarks.
--   psql -d "$DATABASE_URL" -v count=1000000 -f scripts/seed_redemptions.sql
-- The database must be migrated (`yongjun migrate`) on PostgreSQL 13 or later
-- (gen_random_uuid). Everything seeded is recognisable and is removed again by the first
-- statements below, so the script can be re-run: merchant names start with 种子商户,
-- beneficiary names with 种子持卡人, card numbers with 99, token ids with seed-.
--
-- The shape (what the figures group by):
--   * 300 active merchants: four in five in the nine districts of Shenzhen (4403xx), one
--     in five in Qinshui county (140521); every merchant category and kind; one active
--     offer each, of a kind that suits the category (percent_off, amount_off, fixed_price,
--     free, priority_service, gift); one terminal each.
--   * 6,000 beneficiaries, weighted by category like a real roll (veterans and families
--     first), a few with honours; most live in the region of the merchants they visit,
--     some elsewhere (neighbouring counties, Beijing). Each has a general card; some also
--     a medical, grain or book card.
--   * :count redemptions (default 1,000,000) over 730 days, in shop hours China time, 90%
--     by a holder of the merchant's own city or county, 10% by anybody; about 3% voided.
--     The card used is the product card that fits the merchant's category when the holder
--     has one (medical, grain_oil, books_culture), the general card otherwise.
--     The denormalised holder_category, card_product, offer_kind and merchant_category
--     are filled as the point of sale fills them.
-- ID numbers and phones are placeholders, not encrypted values: nothing may decrypt them.
-- Card numbers carry no valid Luhn check digit. It is benchmark data, never real data.
\set ON_ERROR_STOP on
\if :{?count}
\else
\set count 1000000
\endif
\timing on

BEGIN;
SELECT setseed(0.2026);
-- Speed: the rows are consistent by construction, so a superuser skips the per-row
-- foreign-key triggers (five per redemption); everybody else just waits longer.
SELECT rolsuper AS seed_superuser FROM pg_roles WHERE rolname = current_user \gset
\if :seed_superuser
SET LOCAL session_replication_role = replica;
\endif
SET LOCAL maintenance_work_mem = '256MB';

-- Earlier seeded rows, children first.
CREATE TEMP TABLE seed_old_merchants ON COMMIT DROP AS
    SELECT id FROM merchants WHERE name LIKE '种子商户%';
DELETE FROM redemptions WHERE merchant_id IN (SELECT id FROM seed_old_merchants);
DELETE FROM complaints WHERE merchant_id IN (SELECT id FROM seed_old_merchants);
DELETE FROM inspection_items WHERE merchant_id IN (SELECT id FROM seed_old_merchants);
DELETE FROM holder_usage WHERE offer_id IN
    (SELECT id FROM offers WHERE merchant_id IN (SELECT id FROM seed_old_merchants));
DELETE FROM idempotency_keys WHERE terminal_id IN
    (SELECT id FROM terminals WHERE merchant_id IN (SELECT id FROM seed_old_merchants));
DELETE FROM terminals WHERE merchant_id IN (SELECT id FROM seed_old_merchants);
DELETE FROM offers WHERE merchant_id IN (SELECT id FROM seed_old_merchants);
DELETE FROM merchants WHERE id IN (SELECT id FROM seed_old_merchants);
DELETE FROM cards WHERE beneficiary_id IN (SELECT id FROM beneficiaries WHERE name LIKE '种子持卡人%');
DELETE FROM beneficiaries WHERE name LIKE '种子持卡人%';

-- ---------------------------------------------------------------- merchants
-- n % 5 = 0: Qinshui (group 1), otherwise Shenzhen (group 0).
CREATE TEMP TABLE seed_m ON COMMIT DROP AS
SELECT
    n,
    CASE WHEN n % 5 = 0 THEN 1 ELSE 0 END AS grp,
    gen_random_uuid() AS merchant_id,
    gen_random_uuid() AS offer_id,
    gen_random_uuid() AS terminal_id,
    CASE WHEN n % 5 = 0 THEN '140521'
         ELSE (ARRAY['440303','440304','440305','440306','440307','440308','440309','440310','440311'])[1 + n % 9]
    END AS region_code,
    (ARRAY['medical','pharmacy','finance','insurance','grain_oil','telecom','aviation','transport',
           'fuel','books_culture','tourism','dining','lodging','retail','elderly_care','education',
           'legal','housing','other'])[1 + n % 19] AS category,
    (ARRAY['enterprise','enterprise','enterprise','individual_business','individual_business',
           'social_org','volunteer_team'])[1 + n % 7] AS kind
FROM generate_series(1, 300) AS n;

ALTER TABLE seed_m ADD COLUMN offer_kind TEXT;
-- Money-off kinds dominate; medical and legal lean to priority service, books to gifts.
UPDATE seed_m SET offer_kind = CASE
    WHEN category IN ('medical', 'legal', 'aviation') AND n % 2 = 0 THEN 'priority_service'
    WHEN category = 'books_culture' AND n % 2 = 0 THEN 'gift'
    WHEN category = 'tourism' AND n % 3 = 0 THEN 'free'
    ELSE (ARRAY['percent_off','percent_off','percent_off','amount_off','amount_off','fixed_price',
                'priority_service','gift','free'])[1 + (n * 7) % 9]
END;

INSERT INTO merchants (
    id, name, kind, credit_code, legal_representative, contact_name, contact_phone, address,
    region_code, category, latitude, longitude, services, measures, commitments,
    emergency_capabilities, status, status_reason, notice_ends_at, agreement_no,
    agreement_start, agreement_end, badge_no, created_at, updated_at, admitted_at)
SELECT
    m.merchant_id,
    '种子商户' || lpad(m.n::text, 4, '0'),
    m.kind,
    NULL,
    '种子法人',
    '联系人' || m.n,
    '139' || lpad((m.n * 7919 % 100000000)::text, 8, '0'),
    CASE WHEN m.grp = 1 THEN '沁水县种子路' ELSE '深圳市种子路' END || m.n || '号',
    m.region_code,
    m.category,
    CASE WHEN m.grp = 1 THEN 35.69 + random() * 0.1 ELSE 22.45 + random() * 0.40 END,
    CASE WHEN m.grp = 1 THEN 112.19 + random() * 0.1 ELSE 113.75 + random() * 0.85 END,
    '优抚对象凭优待卡享受优惠',
    '设拥军优先窗口',
    '明码标价，优先服务',
    CASE WHEN m.n % 10 = 0 THEN ',medical,transport,' ELSE ',' END,
    'active',
    NULL,
    NULL,
    'SEED-' || m.n,
    CURRENT_DATE - 800,
    CURRENT_DATE + 1000,
    'YJ-SEED-' || m.n,
    (now() AT TIME ZONE 'UTC') - interval '800 days' + make_interval(mins => m.n),
    (now() AT TIME ZONE 'UTC'),
    (now() AT TIME ZONE 'UTC') - interval '790 days' + make_interval(mins => m.n)
FROM seed_m m;

INSERT INTO offers (
    id, merchant_id, title, description, kind, percent_off, amount_off_fen, price_fen, gift,
    eligible_categories, min_honor, companions_allowed, valid_from, valid_until,
    recurring_dates, total_quota, used_total, per_holder_limit, per_holder_period, channel,
    card_products, status, status_reason, created_at, updated_at)
SELECT
    m.offer_id,
    m.merchant_id,
    '种子优待' || m.n,
    '基准测试用优待项目',
    m.offer_kind,
    CASE WHEN m.offer_kind = 'percent_off' THEN 5 + (m.n % 4) * 5 END,
    CASE WHEN m.offer_kind = 'amount_off' THEN (1 + m.n % 5) * 1000 END,
    CASE WHEN m.offer_kind = 'fixed_price' THEN (1 + m.n % 3) * 990 END,
    CASE WHEN m.offer_kind = 'gift' THEN '拥军纪念品' END,
    ',',
    NULL,
    m.n % 3,
    (now() AT TIME ZONE 'UTC') - interval '790 days',
    NULL,
    ',',
    NULL,
    0,
    NULL,
    NULL,
    'in_store',
    ',',
    'active',
    NULL,
    (now() AT TIME ZONE 'UTC') - interval '790 days',
    (now() AT TIME ZONE 'UTC')
FROM seed_m m;

INSERT INTO terminals (id, merchant_id, name, api_key_hash, created_at, deleted_at)
SELECT m.terminal_id, m.merchant_id, '种子收银台' || m.n, 'seed-terminal-' || m.n,
       (now() AT TIME ZONE 'UTC') - interval '790 days', NULL
FROM seed_m m;

-- ---------------------------------------------------------------- beneficiaries
-- n % 5 = 0: Qinshui's roll (group 1), otherwise Shenzhen's; 1,200 and 4,800 of them.
CREATE TEMP TABLE seed_b ON COMMIT DROP AS
SELECT
    n,
    CASE WHEN n % 5 = 0 THEN 1 ELSE 0 END AS grp,
    gen_random_uuid() AS beneficiary_id,
    CASE
        WHEN n % 5 = 0 THEN (ARRAY['140521','140521','140521','140521','140521','140521','140521',
                                   '140521','140522','140525'])[1 + (n / 5) % 10]
        WHEN n % 41 = 1 THEN '110105'
        WHEN n % 37 = 2 THEN '440106'
        ELSE (ARRAY['440303','440304','440305','440306','440307','440308','440309','440310','440311'])[1 + (n * 13) % 9]
    END AS region_code,
    CASE
        WHEN n % 100 < 40 THEN 'veteran'
        WHEN n % 100 < 62 THEN 'military_family'
        WHEN n % 100 < 77 THEN 'active_duty'
        WHEN n % 100 < 82 THEN 'civilian_personnel'
        WHEN n % 100 < 88 THEN 'disabled_veteran'
        WHEN n % 100 < 91 THEN 'martyr_family'
        WHEN n % 100 < 93 THEN 'duty_death_family'
        WHEN n % 100 < 95 THEN 'illness_death_family'
        ELSE 'other_entitled'
    END AS category
FROM generate_series(1, 6000) AS n;

INSERT INTO beneficiaries (
    id, name, id_number_enc, id_number_hash, id_number_masked, phone_enc, phone_masked,
    category, honors, region_code, primary_beneficiary_id, relation, created_at, updated_at)
SELECT
    b.beneficiary_id,
    '种子持卡人' || lpad(b.n::text, 5, '0'),
    'seed-placeholder-' || b.n,
    'seed-' || b.n,
    left(b.region_code, 4) || '**********' || lpad((b.n % 10000)::text, 4, '0'),
    CASE WHEN b.n % 4 <> 0 THEN 'seed-placeholder-phone-' || b.n END,
    CASE WHEN b.n % 4 <> 0 THEN '138****' || lpad((b.n % 10000)::text, 4, '0') END,
    b.category,
    CASE WHEN b.n % 97 = 0 THEN ',second_class_merit,'
         WHEN b.n % 29 = 0 THEN ',third_class_merit,'
         ELSE ',' END,
    b.region_code,
    NULL,
    NULL,
    (now() AT TIME ZONE 'UTC') - interval '800 days' + make_interval(secs => b.n * 60),
    (now() AT TIME ZONE 'UTC')
FROM seed_b b;

-- Every beneficiary has a general card; one in three a medical card, one in seven a
-- grain card, one in eleven a book card.
CREATE TEMP TABLE seed_c ON COMMIT DROP AS
SELECT b.n AS bn, p.product, gen_random_uuid() AS card_id, row_number() OVER () AS k
FROM seed_b b
JOIN (VALUES ('general', 1), ('medical', 3), ('grain', 7), ('book', 11)) AS p(product, every)
  ON b.n % p.every = 0;
CREATE INDEX ON seed_c (bn, product);

INSERT INTO cards (
    id, card_no, beneficiary_id, product, status, status_reason, version, issued_at, expires_at,
    activation_code_hash, activated_at, replaced_by, status_changed_at, created_at, updated_at)
SELECT
    c.card_id,
    '99' || lpad(c.k::text, 14, '0'),
    b.beneficiary_id,
    c.product,
    CASE WHEN c.k % 50 = 0 THEN 'suspended' ELSE 'active' END,
    CASE WHEN c.k % 50 = 0 THEN '种子：暂停' END,
    1,
    (now() AT TIME ZONE 'UTC') - interval '780 days',
    (now() AT TIME ZONE 'UTC') + interval '1000 days',
    NULL,
    (now() AT TIME ZONE 'UTC') - interval '779 days',
    NULL,
    (now() AT TIME ZONE 'UTC') - interval '780 days',
    (now() AT TIME ZONE 'UTC') - interval '780 days',
    (now() AT TIME ZONE 'UTC')
FROM seed_c c JOIN seed_b b ON b.n = c.bn;

-- ---------------------------------------------------------------- redemptions
-- Draw a merchant and a holder for each row: nine in ten holders from the merchant's own
-- roll (group), the rest from anywhere. Group 1 holds n = 5, 10, …, 6000; group 0 the rest.
CREATE TEMP TABLE seed_r ON COMMIT DROP AS
SELECT
    g,
    1 + floor(random() * 300)::int AS mn,
    random() AS pick,
    random() AS r_holder,
    random() AS r_bill,
    floor(random() * 730)::int AS day_back,
    -- shop hours 08:00–21:59 China time, busier around noon and the evening
    (ARRAY[8,9,10,10,11,11,12,12,12,13,14,15,16,17,18,18,19,19,20,21])[1 + floor(random() * 20)::int] AS china_hour,
    floor(random() * 3600)::int AS second_of_hour
FROM generate_series(1, :count) AS g;

CREATE TEMP TABLE seed_rb ON COMMIT DROP AS
SELECT
    r.*,
    m.grp,
    CASE
        WHEN r.pick >= 0.9 THEN 1 + floor(r.r_holder * 6000)::int
        WHEN m.grp = 1 THEN 5 * (1 + floor(r.r_holder * 1200)::int)
        -- the k-th number in 1..6000 that is not a multiple of 5
        ELSE (floor(r.r_holder * 4800)::int / 4) * 5 + 1 + floor(r.r_holder * 4800)::int % 4
    END AS bn
FROM seed_r r JOIN seed_m m ON m.n = r.mn;

-- Speed: maintaining the secondary indexes row by row over random keys costs far more
-- than building them once afterwards. Their definitions are read from the catalogue, so
-- they come back exactly as the migrations made them (inside this transaction: a failure
-- rolls the drop back too). The primary key and the unique jti stay.
CREATE TEMP TABLE seed_idx ON COMMIT DROP AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i
WHERE i.indrelid = 'redemptions'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT name FROM seed_idx LOOP
        EXECUTE 'DROP INDEX ' || r.name;
    END LOOP;
END $$;

INSERT INTO redemptions (
    id, offer_id, merchant_id, terminal_id, card_id, beneficiary_id, jti, period_key,
    bill_fen, discount_fen, companions, merchant_region_code, holder_region_code, status,
    void_reason, voided_at, redeemed_at, holder_category, card_product, offer_kind,
    merchant_category)
SELECT
    -- a UUIDv7 of the redemption time, like the application's ids (db/ids.rs)
    encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch FROM x.redeemed_at) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
    m.offer_id,
    m.merchant_id,
    m.terminal_id,
    coalesce(pc.card_id, gc.card_id),
    b.beneficiary_id,
    'seed-' || x.g,
    'all',
    x.bill_fen,
    CASE m.offer_kind
        WHEN 'percent_off' THEN x.bill_fen * (5 + (m.n % 4) * 5) / 100
        WHEN 'amount_off' THEN least(x.bill_fen, (1 + m.n % 5) * 1000)
        WHEN 'fixed_price' THEN greatest(x.bill_fen - (1 + m.n % 3) * 990, 0)
        WHEN 'free' THEN x.bill_fen
        ELSE 0
    END,
    CASE WHEN m.n % 3 > 0 AND x.g % 4 = 0 THEN 1 ELSE 0 END,
    m.region_code,
    b.region_code,
    CASE WHEN x.g % 33 = 0 THEN 'voided' ELSE 'completed' END,
    CASE WHEN x.g % 33 = 0 THEN '种子：收银员误操作' END,
    CASE WHEN x.g % 33 = 0 THEN x.redeemed_at + interval '7 minutes' END,
    x.redeemed_at,
    b.category,
    coalesce(pc.product, 'general'),
    m.offer_kind,
    m.category
FROM (
    SELECT
        rb.g, rb.mn, rb.bn,
        -- the bill: 10 to 600 yuan, skewed to small amounts; none for non-money offers
        CASE WHEN o.offer_kind IN ('priority_service', 'gift') THEN NULL
             ELSE (1000 + floor(power(rb.r_bill, 2.5) * 59000))::bigint END AS bill_fen,
        -- today's rows never lie in the future: clamp them into the last hour
        least(
            (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
                - make_interval(days => rb.day_back)
                + make_interval(hours => rb.china_hour, secs => rb.second_of_hour)
                - interval '8 hours')::timestamp,
            (now() AT TIME ZONE 'UTC')::timestamp - make_interval(secs => rb.g % 3600)
        ) AS redeemed_at
    FROM seed_rb rb JOIN seed_m o ON o.n = rb.mn
) AS x
JOIN seed_m m ON m.n = x.mn
JOIN seed_b b ON b.n = x.bn
JOIN seed_c gc ON gc.bn = x.bn AND gc.product = 'general'
LEFT JOIN seed_c pc ON pc.bn = x.bn AND pc.product = CASE m.category
    WHEN 'medical' THEN 'medical' WHEN 'pharmacy' THEN 'medical'
    WHEN 'grain_oil' THEN 'grain' WHEN 'books_culture' THEN 'book' END
-- in time order, as they happen: the heap and the primary key grow at one end
ORDER BY x.redeemed_at;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT def FROM seed_idx LOOP
        EXECUTE r.def;
    END LOOP;
END $$;

UPDATE offers o SET used_total = s.used
FROM (SELECT offer_id, count(*) AS used FROM redemptions
      WHERE status = 'completed' AND jti LIKE 'seed-%' GROUP BY offer_id) AS s
WHERE o.id = s.offer_id;

COMMIT;

ANALYZE merchants;
ANALYZE offers;
ANALYZE beneficiaries;
ANALYZE cards;
ANALYZE redemptions;

SELECT count(*) AS seeded_redemptions,
       count(*) FILTER (WHERE status = 'voided') AS voided,
       min(redeemed_at) AS first, max(redeemed_at) AS last
FROM redemptions WHERE jti LIKE 'seed-%';
