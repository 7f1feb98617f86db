//! Money a till can mean (`YONGJUN_MAX_BILL_FEN`, offer amounts) and figures that
//! survive any amount already stored (issue 13): one terminal must not be able to break
//! every office's figures.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::instant_backends;
use crate::pos::{offer, open_shop, qr, redeem, ten_percent, visit, Shop};

/// The default bound of a bill: 10,000,000.00 yuan.
const MAX_BILL_FEN: i64 = 1_000_000_000;

/// Writes `bill_fen` and `discount_fen` (and, when given, `redeemed_at`) of stored
/// redemptions directly, as rows written before the bound existed would be.
async fn store_amounts(
    app: &TestApp,
    ids: &[String],
    fen: i64,
    redeemed_at: Option<NaiveDateTime>,
) {
    use diesel_async::RunQueryDsl;
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    for id in ids {
        let id: yongjun::db::RedemptionId = id.parse().unwrap();
        yongjun::with_conn!(&mut conn, |c| {
            use diesel::{ExpressionMethods, QueryDsl};
            use yongjun::db::schema::redemptions::dsl;
            diesel::update(dsl::redemptions.filter(dsl::id.eq(id)))
                .set((dsl::bill_fen.eq(Some(fen)), dsl::discount_fen.eq(fen)))
                .execute(c)
                .await
                .unwrap();
            if let Some(at) = redeemed_at {
                diesel::update(dsl::redemptions.filter(dsl::id.eq(id)))
                    .set(dsl::redeemed_at.eq(at))
                    .execute(c)
                    .await
                    .unwrap();
            }
        });
    }
}

/// `n` redemptions of `deal` (bills of 10.00 yuan); their ids.
async fn visits(app: &TestApp, shop: &Shop, deal: &Value, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let receipt = visit(app, shop, deal, &shop.holder, 1_000).await;
        ids.push(receipt["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// The 15th, at noon China time, of the month `back` months before this one (China time).
fn months_ago(back: u32) -> NaiveDateTime {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let first = today.with_day(1).unwrap() - chrono::Months::new(back);
    first.with_day(15).unwrap().and_hms_opt(4, 0, 0).unwrap()
}

fn china_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The `(key, discount_fen)` of a list of sums.
fn sums(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_owned(),
                s["discount_fen"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The CSV export's body (without the BOM) as text.
async fn csv(app: &TestApp, path: &str, token: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.bytes().await.unwrap();
    String::from_utf8(
        body.strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

instant_backends! {
    async fn a_bill_above_the_bound_is_refused_and_nothing_is_stored(app) {
        let shop = open_shop(&app).await;
        let deal = offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        for (n, bill) in [MAX_BILL_FEN + 1, i64::MAX].into_iter().enumerate() {
            let body = redeem(&app, &shop.terminal, &format!("too-big-{n}"), json!({"token": token, "offer_id": deal["id"], "bill_fen": bill}))
                .await
                .expect_problem(422, "validation_failed");
            assert_eq!(body["errors"][0]["field"], "bill_fen", "{body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("1000000000"), "the maximum is named: {message}");
        }
        // Nothing was stored, and the token is still good: at the bound it is accepted.
        let listed = app.get("/api/v1/merchant/redemptions", Some(&shop.staff)).await.expect(200);
        assert_eq!(listed["total"], 0, "{listed}");
        let receipt = redeem(&app, &shop.terminal, "at-the-bound", json!({"token": token, "offer_id": deal["id"], "bill_fen": MAX_BILL_FEN}))
            .await
            .expect(201);
        assert_eq!((receipt["bill_fen"].as_i64(), receipt["discount_fen"].as_i64()), (Some(MAX_BILL_FEN), Some(MAX_BILL_FEN / 10)));
        let stats = app.get("/api/v1/admin/stats", Some(&shop.root)).await.expect(200);
        assert_eq!((stats["redemptions"]["count"].as_i64(), stats["redemptions"]["discount_fen"].as_i64()), (Some(1), Some(MAX_BILL_FEN / 10)));
    }

    async fn offer_amounts_are_bounded_too(app) {
        let shop = open_shop(&app).await;
        let create = |body: Value| app.post("/api/v1/merchant/offers", Some(&shop.staff), body);
        for (body, field) in [
            (json!({"title": "立减", "kind": "amount_off", "amount_off_fen": MAX_BILL_FEN + 1}), "amount_off_fen"),
            (json!({"title": "立减", "kind": "amount_off", "amount_off_fen": i64::MAX}), "amount_off_fen"),
            (json!({"title": "优惠价", "kind": "fixed_price", "price_fen": MAX_BILL_FEN + 1}), "price_fen"),
        ] {
            let problem = create(body).await.expect_problem(422, "validation_failed");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            assert!(problem["errors"][0]["message"].as_str().unwrap().contains("1000000000"), "{problem}");
        }
        let at_bound = create(json!({"title": "立减", "kind": "amount_off", "amount_off_fen": MAX_BILL_FEN})).await.expect(201);
        let id = at_bound["id"].as_str().unwrap();
        let patched = app
            .send(app.client.patch(app.url(&format!("/api/v1/merchant/offers/{id}"))).bearer_auth(&shop.staff).json(&json!({"amount_off_fen": MAX_BILL_FEN + 1})))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(patched["errors"][0]["field"], "amount_off_fen", "{patched}");
        create(json!({"title": "优惠价", "kind": "fixed_price", "price_fen": MAX_BILL_FEN})).await.expect(201);
    }

    async fn huge_stored_amounts_do_not_break_the_figures(app) {
        let shop = open_shop(&app).await;
        let deal = offer(&app, &shop, ten_percent()).await;
        let ids = visits(&app, &shop, &deal, 13).await;
        let huge = i64::MAX / 2;
        // Written before the bound: five in a closed month (summed into the rollup), six
        // this month (from the ledger), and two realistic ones in another closed month;
        // both months before the evaluation's default 90 days.
        store_amounts(&app, &ids[..5], huge, Some(months_ago(4))).await;
        store_amounts(&app, &ids[5..11], huge, None).await;
        store_amounts(&app, &ids[11..], MAX_BILL_FEN, Some(months_ago(5))).await;
        let month = |t: NaiveDateTime| t.format("%Y-%m").to_string();
        let from = NaiveDate::from_ymd_opt(china_today().year() - 1, 1, 1).unwrap();
        let range = format!("from={from}&to={}", china_today());

        let stats = app.get(&format!("/api/v1/admin/stats?{range}"), Some(&shop.root)).await.expect(200);
        let r = &stats["redemptions"];
        assert_eq!((r["count"].as_i64(), r["discount_fen"].as_i64()), (Some(13), Some(i64::MAX)), "{r}");
        let by_month = sums(&r["by_month"]);
        assert!(by_month.contains(&(month(months_ago(4)), i64::MAX)), "{by_month:?}");
        assert!(by_month.contains(&(month(months_ago(5)), 2 * MAX_BILL_FEN)), "exact: {by_month:?}");
        assert!(by_month.contains(&(month(months_ago(0)), i64::MAX)), "{by_month:?}");
        assert_eq!(sums(&r["by_region"]), vec![("440303".to_owned(), i64::MAX)]);
        assert_eq!(sums(&r["by_offer_kind"]), vec![("percent_off".to_owned(), i64::MAX)]);
        assert_eq!(r["cross_region"]["discount_fen"].as_i64(), Some(i64::MAX), "{r}");
        assert_eq!(r["top_merchants"][0]["discount_fen"].as_i64(), Some(i64::MAX), "{r}");
        // Twice: the second answer comes from the rollup just summed.
        let again = app.get(&format!("/api/v1/admin/stats?{range}"), Some(&shop.root)).await.expect(200);
        assert_eq!(again["redemptions"], stats["redemptions"]);
        // The default range (this year) and the home office's figures.
        app.get("/api/v1/admin/stats", Some(&shop.root)).await.expect(200);
        let home = app.get(&format!("/api/v1/admin/stats?by=holder_region&{range}"), Some(&shop.root)).await.expect(200);
        assert_eq!((home["count"].as_i64(), home["discount_fen"].as_i64()), (Some(13), Some(i64::MAX)), "{home}");
        assert!(sums(&home["by_month"]).contains(&(month(months_ago(5)), 2 * MAX_BILL_FEN)), "{home}");

        let text = csv(&app, &format!("/api/v1/admin/exports/stats?format=csv&{range}"), &shop.root).await;
        assert!(text.contains("优惠总额（元）,92233720368547758.07"), "{text}");
        assert!(text.contains(&format!("{},2,20000000.00", month(months_ago(5)))), "{text}");

        let path = format!("/api/v1/admin/merchants/{}/evaluation", shop.merchant_id);
        let evaluation = app.get(&path, Some(&shop.root)).await.expect(200);
        assert_eq!((evaluation["redemptions"].as_i64(), evaluation["discount_total_fen"].as_i64()), (Some(6), Some(i64::MAX)), "{evaluation}");
        let earlier = app.get(&format!("{path}?{range}"), Some(&shop.root)).await.expect(200);
        assert_eq!((earlier["redemptions"].as_i64(), earlier["discount_total_fen"].as_i64()), (Some(13), Some(i64::MAX)), "{earlier}");
        let exact = months_ago(5).date();
        let exact = app.get(&format!("{path}?from={exact}&to={exact}"), Some(&shop.root)).await.expect(200);
        assert_eq!((exact["redemptions"].as_i64(), exact["discount_total_fen"].as_i64()), (Some(2), Some(2 * MAX_BILL_FEN)), "{exact}");
    }
}
