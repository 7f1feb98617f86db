//! The offer listings (`GET /offers`, `GET /holder/offers`): every matching offer of
//! every matching merchant, each filter, the keyword, eligibility, and paging by page and
//! by cursor with nothing lost or repeated.

use std::collections::BTreeSet;

use chrono::Duration;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use yongjun::db::merchants::NewMerchant;
use yongjun::db::offers::OfferRow;
use yongjun::db::schema::{merchants, offers};
use yongjun::db::{self, MerchantId, OfferId};

use crate::helpers::*;
use crate::pos::{offer, open_shop, ten_percent, visit};

/// Where the seeded merchants stand: 深圳市罗湖区.
const CENTER: (f64, f64) = (22.5431, 114.1182);

/// A seeded merchant.
struct Shop<'a> {
    name: &'a str,
    category: &'a str,
    region: &'a str,
    /// Kilometres north of [`CENTER`].
    north_km: f64,
}

impl Default for Shop<'_> {
    fn default() -> Self {
        Shop {
            name: "拥军便民店",
            category: "retail",
            region: "440303",
            north_km: 1.0,
        }
    }
}

async fn add_merchant(app: &TestApp, shop: Shop<'_>) -> MerchantId {
    let now = db::now();
    let id = MerchantId::new();
    let new = NewMerchant {
        id,
        name: shop.name,
        kind: "enterprise",
        credit_code: None,
        legal_representative: None,
        contact_name: "李明",
        contact_phone: "13812345678",
        address: "深圳市罗湖区人民南路1号",
        region_code: shop.region,
        category: shop.category,
        latitude: CENTER.0 + shop.north_km / 111.195,
        longitude: CENTER.1,
        services: "凭卡优惠",
        measures: "设拥军优先窗口",
        commitments: "明码标价",
        emergency_capabilities: ",",
        emergency_commitment: "",
        status: "active",
        created_at: now,
        updated_at: now,
    };
    let mut pooled = app.state.db.get().await.unwrap();
    db::merchants::insert(&mut pooled.conn(), &new)
        .await
        .unwrap();
    id
}

/// An active offer open to everybody since yesterday; `change` adjusts it.
async fn add_offer(
    app: &TestApp,
    merchant: MerchantId,
    change: impl FnOnce(&mut OfferRow),
) -> String {
    let now = db::now();
    let mut row = OfferRow {
        id: OfferId::new(),
        merchant_id: merchant,
        title: "凭卡九折".into(),
        description: "凭优待卡消费九折".into(),
        kind: "percent_off".into(),
        percent_off: Some(10),
        amount_off_fen: None,
        price_fen: None,
        gift: None,
        eligible_categories: ",".into(),
        min_honor: None,
        companions_allowed: 0,
        valid_from: now - Duration::days(1),
        valid_until: None,
        recurring_dates: ",".into(),
        total_quota: None,
        used_total: 0,
        per_holder_limit: None,
        per_holder_period: None,
        channel: "in_store".into(),
        card_products: ",".into(),
        status: "active".into(),
        status_reason: None,
        created_at: now,
        updated_at: now,
    };
    change(&mut row);
    let mut pooled = app.state.db.get().await.unwrap();
    db::offers::insert_offer(&mut pooled.conn(), &row)
        .await
        .unwrap();
    row.id.to_string()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every offer of a listing, page by cursor from the empty one; asserts each page's
/// shape and that no offer comes twice.
async fn walk(app: &TestApp, query: &str, token: Option<&str>) -> Vec<Value> {
    let mut cursor = String::new();
    let mut all: Vec<Value> = Vec::new();
    loop {
        let page = app
            .get(&format!("{query}&cursor={cursor}"), token)
            .await
            .expect(200);
        assert!(page["total"].is_null() && page["page"].is_null(), "{page}");
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(page["has_more"], true, "{page}");
                cursor = next.to_owned();
            }
            None => {
                assert_eq!(page["has_more"], false, "{page}");
                break;
            }
        }
    }
    let unique: BTreeSet<&str> = all.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), all.len(), "an offer came twice");
    all
}

fn set<S: AsRef<str>>(ids: &[S]) -> BTreeSet<String> {
    ids.iter().map(|id| id.as_ref().to_owned()).collect()
}

/// Asserts two sets of ids are equal, naming what one has and the other lacks.
#[track_caller]
fn same(listed: &BTreeSet<String>, expected: &BTreeSet<String>) {
    let missing: Vec<&String> = expected.difference(listed).take(5).collect();
    let extra: Vec<&String> = listed.difference(expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} listed, {} expected; missing {missing:?}, extra {extra:?}",
        listed.len(),
        expected.len()
    );
}

fn set_of(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

crate::both_backends! {
    async fn every_offer_of_600_merchants_is_listed_once_by_cursor_and_by_page(app) {
        // Beyond the 500 merchants the listing used to read: 600 merchants 0.1 to 6 km
        // north, two offers each (one the merchant's only offer of its kind), and what
        // must not be listed beside them.
        let mut expected = Vec::new();
        let mut near_3km = Vec::new();
        for n in 0..600u32 {
            let north_km = 0.105 + f64::from(n) * 0.01;
            let merchant = add_merchant(&app, Shop { north_km, ..Default::default() }).await;
            for _ in 0..2 {
                let id = add_offer(&app, merchant, |_| {}).await;
                if north_km <= 3.0 {
                    near_3km.push(id.clone());
                }
                expected.push(id);
            }
            if n % 100 == 0 {
                add_offer(&app, merchant, |o| o.status = "paused".into()).await;
            }
        }
        let total = expected.len() as i64;

        let listed = walk(&app, "/api/v1/offers?per_page=100", None).await;
        same(&set_of(&listed), &set(&expected));
        // Newest first.
        let order: Vec<&str> = listed.iter().map(|o| o["id"].as_str().unwrap()).collect();
        let mut newest_first = order.clone();
        newest_first.sort_by(|a, b| b.cmp(a));
        assert_eq!(order, newest_first);

        // Counted pages: the same offers, the total of all of them.
        let mut paged = Vec::new();
        for page in 1..=12 {
            let answer = app.get(&format!("/api/v1/offers?per_page=100&page={page}"), None).await.expect(200);
            assert_eq!((answer["total"].as_i64(), answer["page"].as_i64()), (Some(total), Some(page)), "{answer}");
            assert_eq!(answer["has_more"], page < 12, "{answer}");
            paged.extend(ids(&answer));
        }
        assert_eq!(paged, order, "pages and cursors list in one order");
        let past = app.get("/api/v1/offers?per_page=100&page=13", None).await.expect(200);
        assert_eq!((past["total"].as_i64(), past["items"].as_array().map(Vec::len)), (Some(total), Some(0)));
        // A counted page's next_cursor continues where it ends.
        let first = app.get("/api/v1/offers?per_page=100", None).await.expect(200);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("/api/v1/offers?per_page=100&cursor={cursor}"), None).await.expect(200);
        assert_eq!(ids(&second), order[100..200].to_vec());

        // Near: nearest first, every offer within 3 km, none beyond.
        let near = format!("/api/v1/offers?per_page=50&near={},{}&radius_km=3", CENTER.0, CENTER.1);
        let listed = walk(&app, &near, None).await;
        same(&set_of(&listed), &set(&near_3km));
        let distances: Vec<f64> = listed.iter().map(|o| o["distance_km"].as_f64().unwrap()).collect();
        assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first: {distances:?}");
        assert!(distances[0] >= 0.09 && *distances.last().unwrap() <= 3.0, "{distances:?}");
        let counted = app.get(&format!("{near}&page=2"), None).await.expect(200);
        assert_eq!(counted["total"].as_i64(), Some(near_3km.len() as i64), "{counted}");
        assert_eq!(ids(&counted), listed[50..100].iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>());
    }

    async fn each_filter_and_the_keyword_narrow_the_listing(app) {
        let fuel = add_merchant(&app, Shop { name: "中国石化福田加油站", category: "fuel", region: "440304", north_km: 2.0 }).await;
        let inn = add_merchant(&app, Shop { name: "拥军宾馆", category: "lodging", region: "140521", north_km: 30.0 }).await;
        let fuel_deal = add_offer(&app, fuel, |o| o.title = "八一专享加油立减".into()).await;
        let online = add_offer(&app, fuel, |o| {
            o.channel = "online".into();
            o.kind = "amount_off".into();
            o.percent_off = None;
            o.amount_off_fen = Some(2000);
            o.description = "线上充值加油卡立减20元".into();
        })
        .await;
        let veterans = add_offer(&app, inn, |o| {
            o.title = "退役军人住宿八折".into();
            o.eligible_categories = ",veteran,disabled_veteran,".into();
        })
        .await;
        let families = add_offer(&app, inn, |o| {
            o.title = "军属住宿优惠".into();
            o.eligible_categories = ",military_family,".into();
        })
        .await;
        // Not listed: not yet, no longer, not today, paused, pending.
        let now = db::now();
        add_offer(&app, inn, |o| o.valid_from = now + Duration::days(1)).await;
        add_offer(&app, inn, |o| o.valid_until = Some(now - Duration::seconds(1))).await;
        let china_today = (now + Duration::hours(8)).date();
        let other_day = china_today + Duration::days(1);
        add_offer(&app, inn, |o| o.recurring_dates = other_day.format(",%m-%d,").to_string()).await;
        let today_only = add_offer(&app, inn, |o| o.recurring_dates = china_today.format(",%m-%d,").to_string()).await;
        add_offer(&app, inn, |o| o.status = "paused".into()).await;
        add_offer(&app, inn, |o| o.status = "pending_review".into()).await;
        // Nor the offers of a merchant whose agreement ended, or that is suspended.
        let lapsed = add_merchant(&app, Shop { name: "过期加油站", category: "fuel", ..Default::default() }).await;
        let suspended = add_merchant(&app, Shop { name: "暂停加油站", category: "fuel", ..Default::default() }).await;
        add_offer(&app, lapsed, |_| {}).await;
        add_offer(&app, suspended, |_| {}).await;
        {
            let yesterday = (now + Duration::hours(8)).date() - Duration::days(1);
            let mut pooled = app.state.db.get().await.unwrap();
            let mut conn = pooled.conn();
            yongjun::with_conn!(&mut conn, |c| {
                diesel::update(merchants::table.find(lapsed)).set(merchants::agreement_end.eq(Some(yesterday))).execute(c).await.unwrap();
                diesel::update(merchants::table.find(suspended)).set(merchants::status.eq("suspended")).execute(c).await.unwrap();
            });
        }

        let listed = |query: &str| {
            let (app, url) = (&app, format!("/api/v1/offers?{query}"));
            async move { set(&ids(&app.get(&url, None).await.expect(200))) }
        };
        let all = set(&[&fuel_deal, &online, &veterans, &families, &today_only]);
        assert_eq!(listed("").await, all);
        assert_eq!(listed("category=fuel").await, set(&[&fuel_deal, &online]));
        assert_eq!(listed("region=440000").await, set(&[&fuel_deal, &online]));
        assert_eq!(listed("region=140500").await, set(&[&veterans, &families, &today_only]));
        assert_eq!(listed("region=440303").await, BTreeSet::new());
        assert_eq!(listed("kind=amount_off").await, set(&[&online]));
        assert_eq!(listed("channel=online").await, set(&[&online]));
        assert_eq!(listed("channel=in_store&category=fuel").await, set(&[&fuel_deal]));
        assert_eq!(listed("near=22.5431,114.1182&radius_km=5").await, set(&[&fuel_deal, &online]));
        assert_eq!(listed("near=22.5431,114.1182&radius_km=40").await, all);
        assert_eq!(
            listed("eligible_for=veteran").await,
            set(&[&fuel_deal, &online, &veterans, &today_only])
        );
        assert_eq!(listed("eligible_for=%E5%86%9B%E5%B1%9E").await, set(&[&fuel_deal, &online, &families, &today_only]), "军属");
        assert_eq!(listed(&format!("merchant_id={inn}")).await, set(&[&veterans, &families, &today_only]));
        // The keyword: in the title, the description, the merchant's name; two
        // characters or more; % and _ are plain characters.
        assert_eq!(listed("q=%E5%85%AB%E4%B8%80%E4%B8%93%E4%BA%AB").await, set(&[&fuel_deal]), "八一专享");
        assert_eq!(listed("q=%E5%85%85%E5%80%BC").await, set(&[&online]), "充值");
        assert_eq!(listed("q=%E7%9F%B3%E5%8C%96").await, set(&[&fuel_deal, &online]), "石化");
        assert_eq!(listed("q=%E4%BD%8F%E5%AE%BF").await, set(&[&veterans, &families]), "住宿");
        assert_eq!(listed("q=%E5%AE%BE%E9%A6%86&eligible_for=veteran").await, set(&[&veterans, &today_only]), "宾馆");
        assert_eq!(listed("q=%25").await, BTreeSet::new());
        assert_eq!(listed("q=%E4%B9%9D_").await, BTreeSet::new(), "九_");

        // A renamed merchant and a retitled offer are found by their new words.
        {
            let mut pooled = app.state.db.get().await.unwrap();
            let mut conn = pooled.conn();
            let fuel_uuid: OfferId = fuel_deal.parse().unwrap();
            yongjun::with_conn!(&mut conn, |c| {
                diesel::update(merchants::table.find(inn)).set(merchants::name.eq("鹏城拥军酒店")).execute(c).await.unwrap();
                diesel::update(offers::table.find(fuel_uuid)).set(offers::title.eq("国庆加油优惠")).execute(c).await.unwrap();
            });
        }
        assert_eq!(listed("q=%E5%AE%BE%E9%A6%86").await, BTreeSet::new(), "宾馆 no more");
        assert_eq!(listed("q=%E9%B9%8F%E5%9F%8E%E6%8B%A5%E5%86%9B").await, set(&[&veterans, &families, &today_only]), "鹏城拥军");
        assert_eq!(listed("q=%E5%9B%BD%E5%BA%86").await, set(&[&fuel_deal]), "国庆");
        assert_eq!(listed("q=%E5%85%AB%E4%B8%80%E4%B8%93%E4%BA%AB").await, BTreeSet::new(), "八一专享 no more");
    }

    async fn bad_parameters_are_refused_each_by_name(app) {
        let refused = |query: &'static str, fields: &'static [&'static str]| {
            let app = &app;
            async move {
                let answer = app.get(&format!("/api/v1/offers?{query}"), None).await;
                let answer = answer.expect_problem(422, "validation_failed");
                let named: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
                assert_eq!(named, fields, "{query}: {answer}");
            }
        };
        refused("kind=coupon&channel=mail&category=spaceships", &["category", "kind", "channel"]).await;
        refused("cursor=bm90LWEtY3Vyc29y", &["cursor"]).await;
        refused("cursor=&page=2", &["page"]).await;
        refused("near=north&radius_km=500", &["radius_km", "near"]).await;
        refused("eligible_for=pirates&region=44", &["region", "eligible_for"]).await;
        refused("per_page=0", &["per_page"]).await;
        // A cursor of the nearest-first order does not continue the newest-first one.
        let merchant = add_merchant(&app, Shop::default()).await;
        add_offer(&app, merchant, |_| {}).await;
        add_offer(&app, merchant, |_| {}).await;
        let near = app.get("/api/v1/offers?per_page=1&near=22.5431,114.1182&cursor=", None).await.expect(200);
        let cursor = near["next_cursor"].as_str().unwrap();
        app.get(&format!("/api/v1/offers?per_page=1&cursor={cursor}"), None).await.expect_problem(422, "validation_failed");
    }
}

crate::instant_backends! {
    async fn a_holder_sees_what_they_may_use_with_the_uses_left(app) {
        // The holder: a veteran with a third-class merit, on a general card.
        let shop = open_shop(&app).await;
        let mut limited = ten_percent();
        limited["title"] = json!("每月两次");
        limited["per_holder_limit"] = json!(2);
        limited["per_holder_period"] = json!("month");
        let limited = offer(&app, &shop, limited).await;
        let mut open = ten_percent();
        open["title"] = json!("不限次");
        let open = offer(&app, &shop, open).await;
        let mut rules = Vec::new();
        for (title, extra, usable) in [
            ("退役军人专享", json!({"eligible_categories": ["veteran"]}), true),
            ("现役军人专享", json!({"eligible_categories": ["active_duty"]}), false),
            ("三等功以上", json!({"min_honor": "third_class_merit"}), true),
            ("二等功以上", json!({"min_honor": "second_class_merit"}), false),
            ("通用卡", json!({"card_products": ["general"]}), true),
            ("医疗卡", json!({"card_products": ["medical"]}), false),
        ] {
            let mut body = ten_percent();
            body["title"] = json!(title);
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            rules.push((offer(&app, &shop, body).await["id"].as_str().unwrap().to_owned(), usable));
        }
        visit(&app, &shop, &limited, &shop.holder, 1000).await;

        let mine = walk(&app, "/api/v1/holder/offers?per_page=2", Some(&shop.holder)).await;
        let mut expected: BTreeSet<String> = rules.iter().filter(|(_, u)| *u).map(|(id, _)| id.clone()).collect();
        expected.insert(limited["id"].as_str().unwrap().to_owned());
        expected.insert(open["id"].as_str().unwrap().to_owned());
        assert_eq!(set_of(&mine), expected);
        let left = |id: &Value| mine.iter().find(|o| o["id"] == *id).map(|o| o["remaining_for_holder"].clone());
        assert_eq!(left(&limited["id"]), Some(json!(1)), "one of two used this month");
        assert_eq!(left(&open["id"]), Some(Value::Null), "no per-holder limit");
        let counted = app.get("/api/v1/holder/offers", Some(&shop.holder)).await.expect(200);
        assert_eq!(counted["total"].as_i64(), Some(expected.len() as i64), "{counted}");

        // The public sees every active offer, and eligible_for applies the category only.
        assert_eq!(app.get("/api/v1/offers", None).await.expect(200)["total"].as_i64(), Some(8));
        let veteran = app.get("/api/v1/offers?eligible_for=veteran", None).await.expect(200);
        assert_eq!(veteran["total"].as_i64(), Some(7), "all but 现役军人专享: {veteran}");
        assert!(veteran["items"].as_array().unwrap().iter().all(|o| o.get("remaining_for_holder").is_none()));
        // The holder's own filters narrow further.
        let active_duty = app.get("/api/v1/holder/offers?eligible_for=active_duty", Some(&shop.holder)).await.expect(200);
        assert_eq!(active_duty["total"].as_i64(), Some(4), "open to every category and usable: {active_duty}");
    }
}
