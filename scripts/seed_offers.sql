-- Seeds N active merchants spread over Shenzhen with realistic Chinese names, and ten
-- offers each (1,000,000 for N = 100,000), for the offer search benchmark
-- (docs/offer-search-bench.md):
--   psql "$DATABASE_URL" -v count=100000 -f scripts/seed_offers.sql
-- The database must be migrated (start the server once, or `yongjun migrate`), and must
-- not hold seed_merchants.sql's rows (both number their agreements BENCH-n). The rows
-- are found by merchants.agreement_no LIKE 'BENCH-%'.
--
-- The mix (deterministic for a given N): merchants of the 19 categories in the nine
-- districts of 深圳市; per offer 85 % active (5 % each paused, pending review, ended),
-- 40 % open to every category, the rest restricted (active duty, veterans, families,
-- …), 5 % needing an honour, 10 % one card product, 10 % online, 5 % recurring dates,
-- 10 % expired and 5 % not yet started.
\set ON_ERROR_STOP on
SELECT setseed(0.42);

CREATE TEMP TABLE seed_districts (n INT PRIMARY KEY, code TEXT, name TEXT);
INSERT INTO seed_districts VALUES
    (0, '440303', '罗湖'), (1, '440304', '福田'), (2, '440305', '南山'), (3, '440306', '宝安'),
    (4, '440307', '龙岗'), (5, '440308', '盐田'), (6, '440309', '龙华'), (7, '440310', '坪山'),
    (8, '440311', '光明');

-- Per category: the shop's kind of name, what a holder does there, what is handed over.
CREATE TEMP TABLE seed_categories (n INT PRIMARY KEY, code TEXT, shop TEXT, service TEXT, item TEXT);
INSERT INTO seed_categories VALUES
    (0, 'medical', '医院', '就医', '免费体检'),
    (1, 'pharmacy', '大药房', '购药', '常用药品包'),
    (2, 'finance', '银行', '办理业务', '拥军纪念币'),
    (3, 'insurance', '保险服务部', '投保', '意外险一份'),
    (4, 'grain_oil', '粮油店', '购买粮油', '五常大米一袋'),
    (5, 'telecom', '通信营业厅', '办理套餐', '话费50元'),
    (6, 'aviation', '航空售票处', '购买机票', '优先登机'),
    (7, 'transport', '客运站', '乘车', '优先购票'),
    (8, 'fuel', '加油站', '加油', '洗车一次'),
    (9, 'books_culture', '书店', '购书', '拥军书签'),
    (10, 'tourism', '旅行社', '景区游览', '景区门票'),
    (11, 'dining', '饭店', '就餐', '拥军套餐'),
    (12, 'lodging', '酒店', '住宿', '免费早餐'),
    (13, 'retail', '超市', '购物', '购物袋'),
    (14, 'elderly_care', '养老院', '入住护理', '体检一次'),
    (15, 'education', '培训学校', '报名培训', '教材一套'),
    (16, 'legal', '律师事务所', '法律咨询', '免费咨询一次'),
    (17, 'housing', '物业服务中心', '租房', '搬家服务'),
    (18, 'other', '便民服务部', '理发', '免费修鞋');

CREATE TEMP TABLE seed_brands (n INT PRIMARY KEY, name TEXT);
INSERT INTO seed_brands
SELECT i - 1, b FROM unnest(ARRAY['仁爱','康宁','华润','百姓','和平','新民','红星','八一','长城','金盾',
    '永安','东方','南国','鹏城','海滨','兴华','军民','拥军','建设','团结','益民','中信','万家','盛世',
    '阳光','光华','同心','利民','安康','福临']) WITH ORDINALITY AS t(b, i);

INSERT INTO merchants (
    id, name, kind, credit_code, legal_representative, contact_name, contact_phone, address,
    region_code, category, latitude, longitude, services, measures, commitments,
    emergency_capabilities, status, status_reason, notice_ends_at, agreement_no,
    agreement_start, agreement_end, badge_no, created_at, updated_at, emergency_commitment)
SELECT
    gen_random_uuid(),
    '深圳' || b.name || c.shop || '（' || d.name || (g % 97 + 1) || '号店）',
    'enterprise',
    NULL,
    '基准',
    '联系人',
    '13800000000',
    '深圳市' || d.name || '区拥军路' || g || '号',
    d.code,
    c.code,
    22.45 + random() * 0.40,
    113.75 + random() * 0.85,
    '现役军人、退役军人凭优待卡' || c.service || '享受优惠',
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
    (now() AT TIME ZONE 'UTC'),
    '急时战时提供力所能及的支援'
FROM generate_series(1, :count) AS g
JOIN seed_districts d ON d.n = g % 9
JOIN seed_categories c ON c.n = g % 19
JOIN seed_brands b ON b.n = (g / 19) % 30;

-- Ten offers per merchant; k is the offer's number within its merchant, r a per-offer
-- random draw for the mix.
INSERT INTO offers (
    id, merchant_id, title, description, kind, percent_off, amount_off_fen, price_fen, gift,
    eligible_categories, min_honor, companions_allowed, valid_from, valid_until,
    recurring_dates, total_quota, used_total, per_holder_limit, per_holder_period, channel,
    card_products, status, status_reason, created_at, updated_at)
SELECT
    gen_random_uuid(),
    o.merchant_id,
    CASE o.kind
        WHEN 'percent_off' THEN o.who || o.service || (ARRAY['九折','八五折','八折','九五折'])[1 + o.k % 4]
        WHEN 'amount_off' THEN o.who || o.service || '立减' || (5 + o.k * 5) || '元'
        WHEN 'fixed_price' THEN o.who || '专享' || o.service || '优惠价' || (9 + o.k * 10) || '元'
        WHEN 'free' THEN o.who || '免费' || o.service
        WHEN 'priority_service' THEN o.who || '优先' || o.service
        ELSE '八一专享：' || o.service || '赠' || o.item
    END,
    o.who_long || '凭优待卡' || o.service || '享受拥军优惠，'
        || (ARRAY['节假日通用','每人每月限用4次','不与其他优惠同享','需提前预约','限本店使用',
                  '家属可同行','全年有效','出示证件即可'])[1 + (o.k + o.m) % 8] || '。',
    o.kind,
    CASE WHEN o.kind = 'percent_off' THEN (ARRAY[10, 15, 20, 5])[1 + o.k % 4] END,
    CASE WHEN o.kind = 'amount_off' THEN (5 + o.k * 5) * 100 END,
    CASE WHEN o.kind = 'fixed_price' THEN (9 + o.k * 10) * 100 END,
    CASE WHEN o.kind = 'gift' THEN o.item END,
    o.categories,
    CASE WHEN o.r2 < 0.03 THEN 'third_class_merit' WHEN o.r2 < 0.05 THEN 'first_class_merit' END,
    o.k % 3,
    CASE WHEN o.r3 < 0.05 THEN o.now + interval '30 days' ELSE o.now - make_interval(days => 1 + (o.r3 * 365)::int) END,
    CASE WHEN o.r4 < 0.10 THEN o.now - interval '1 day'
         WHEN o.r4 < 0.40 THEN o.now + make_interval(days => 30 + (o.r4 * 600)::int) END,
    CASE WHEN o.r5 < 0.03 THEN ',08-01,' WHEN o.r5 < 0.05 THEN ',01-01,05-01,10-01,' ELSE ',' END,
    CASE WHEN o.r5 > 0.80 THEN 500 + (o.r5 * 5000)::int END,
    0,
    CASE WHEN o.r6 < 0.50 THEN NULL ELSE (ARRAY[1, 2, 4])[1 + o.k % 3] END,
    CASE WHEN o.r6 < 0.50 THEN NULL ELSE (ARRAY['month', 'year', 'day'])[1 + o.k % 3] END,
    CASE WHEN o.r7 < 0.10 THEN 'online' ELSE 'in_store' END,
    CASE WHEN o.r7 > 0.95 THEN ',medical,' WHEN o.r7 > 0.90 THEN ',grain,' ELSE ',' END,
    CASE WHEN o.r8 < 0.85 THEN 'active' WHEN o.r8 < 0.90 THEN 'paused'
         WHEN o.r8 < 0.95 THEN 'pending_review' ELSE 'ended' END,
    NULL,
    o.now - make_interval(secs => o.m * 10 + o.k),
    o.now
FROM (
    SELECT m.id AS merchant_id, m.n AS m, k, c.service, c.item,
        (ARRAY['percent_off','amount_off','fixed_price','free','priority_service','gift'])[1 + (k + m.n) % 6] AS kind,
        (ARRAY['军人','拥军','退役军人','军属','现役军人','优抚对象'])[1 + (k * 7 + m.n) % 6] AS who,
        CASE WHEN r1 < 0.40 THEN '优抚对象' WHEN r1 < 0.60 THEN '现役军人' WHEN r1 < 0.75 THEN '退役军人'
             WHEN r1 < 0.85 THEN '现役军人、退役军人及军属' WHEN r1 < 0.95 THEN '残疾军人、烈士及牺牲病故军人遗属'
             ELSE '现役军人、军队文职人员' END AS who_long,
        CASE WHEN r1 < 0.40 THEN ','
             WHEN r1 < 0.60 THEN ',active_duty,'
             WHEN r1 < 0.75 THEN ',veteran,'
             WHEN r1 < 0.85 THEN ',active_duty,veteran,military_family,'
             WHEN r1 < 0.95 THEN ',disabled_veteran,martyr_family,duty_death_family,illness_death_family,'
             ELSE ',active_duty,civilian_personnel,' END AS categories,
        r2, r3, r4, r5, r6, r7, r8,
        (now() AT TIME ZONE 'UTC') AS now
    FROM (SELECT id, category, row_number() OVER (ORDER BY agreement_no) AS n
          FROM merchants WHERE agreement_no LIKE 'BENCH-%') AS m
    JOIN seed_categories c ON c.code = m.category
    CROSS JOIN generate_series(0, 9) AS k
    -- Draws per offer (the outer references keep the planner from computing them once).
    CROSS JOIN LATERAL (SELECT random() + 0 * k + 0 * m.n AS r1, random() + 0 * k + 0 * m.n AS r2,
        random() + 0 * k + 0 * m.n AS r3, random() + 0 * k + 0 * m.n AS r4,
        random() + 0 * k + 0 * m.n AS r5, random() + 0 * k + 0 * m.n AS r6,
        random() + 0 * k + 0 * m.n AS r7, random() + 0 * k + 0 * m.n AS r8) AS draws
) AS o;

ANALYZE merchants;
ANALYZE offers;
