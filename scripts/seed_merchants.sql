-- Seeds N active merchants spread over Shenzhen, for the directory benchmark.
--   psql "$DATABASE_URL" -v count=100000 -f scripts/seed_merchants.sql
-- The database must be migrated (start the server once, or `yongjun migrate`).
-- Names start with 基准商户 so the rows are easy to find and delete.
SELECT setseed(0.42);
INSERT INTO merchants (
    id, name, kind, credit_code, legal_representative, contact_name, contact_phone, address,
    region_code, category, latitude, longitude, services, measures, commitments,
    emergency_capabilities, status, status_reason, notice_ends_at, agreement_no,
    agreement_start, agreement_end, badge_no, created_at, updated_at)
SELECT
    gen_random_uuid(),
    '基准商户' || g,
    'enterprise',
    NULL,
    '基准',
    '联系人',
    '13800000000',
    '深圳市基准路' || g || '号',
    (ARRAY['440303','440304','440305','440306','440307','440308','440309','440310','440311'])[1 + g % 9],
    (ARRAY['medical','pharmacy','finance','insurance','grain_oil','telecom','aviation','transport',
           'fuel','books_culture','tourism','dining','lodging','retail','elderly_care','education',
           'legal','housing','other'])[1 + g % 19],
    22.45 + random() * 0.40,
    113.75 + random() * 0.85,
    '现役军人、退役军人凭优待卡享受优惠',
    '设拥军优先窗口',
    '明码标价，优先服务',
    CASE WHEN g % 10 = 0 THEN ',medical,transport,' ELSE ',' END,
    'active',
    NULL,
    NULL,
    'BENCH-' || g,
    CURRENT_DATE - 30,
    CURRENT_DATE + 1000,
    'YJ-BENCH-' || g,
    (now() AT TIME ZONE 'UTC') - make_interval(secs => g),
    (now() AT TIME ZONE 'UTC')
FROM generate_series(1, :count) AS g;
ANALYZE merchants;
