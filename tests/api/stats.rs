//! The figures (`GET /api/v1/admin/stats`) against data the test creates itself.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::merchants::{application, apply};
use crate::pos::{new_holder, offer, open_shop, ten_percent, visit};

fn entry<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {list}"))
}

fn china_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A shop in 罗湖区 (440303) with a 10 %-off offer, a holder of 沁水县 (140521, from
/// open_shop) and one of 罗湖区; three redemptions, one of them voided; and a pending
/// applicant in 沁水县.
async fn figures(app: TestApp) {
    let shop = open_shop(&app).await;
    let deal = offer(&app, &shop, ten_percent()).await;
    let (local_holder, _) = new_holder(&app, &shop.root, 2, "440303").await;
    apply(&app, application(7, "140521")).await;

    let mut ids = Vec::new();
    for (holder, bill) in [
        (&shop.holder, 10_000),
        (&local_holder, 20_000),
        (&shop.holder, 5_000),
    ] {
        let body = visit(&app, &shop, &deal, holder, bill).await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    app.post(
        &format!("/api/v1/merchant/redemptions/{}/void", ids[2]),
        Some(&shop.staff),
        json!({"reason": "误扫"}),
    )
    .await
    .expect(200);

    // Shenzhen: the merchant, the local holder, every (unvoided) redemption.
    let sz = app
        .get("/api/v1/admin/stats?region=440300", Some(&shop.root))
        .await
        .expect(200);
    assert_eq!(sz["region"], "440300");
    assert_eq!(sz["region_name"], "深圳市");
    assert_eq!(sz["merchants"]["total"], 1);
    assert_eq!(entry(&sz["merchants"]["by_status"], "active")["count"], 1);
    assert_eq!(
        entry(&sz["merchants"]["by_category"], "pharmacy")["count"],
        1
    );
    assert_eq!(entry(&sz["merchants"]["by_kind"], "enterprise")["count"], 1);
    let year = sz["admissions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(year["admitted"], 1, "{year}");
    assert_eq!(year["target"], 100);
    assert_eq!(year["attainment_percent"], 1.0);
    assert_eq!(year["by_region"][0]["region_code"], "440303");
    assert_eq!(year["by_region"][0]["region_name"], "罗湖区");
    assert_eq!(sz["beneficiaries"]["total"], 1);
    assert_eq!(
        entry(&sz["beneficiaries"]["by_category"], "veteran")["count"],
        1
    );
    assert_eq!(sz["cards"]["total"], 1);
    assert_eq!(entry(&sz["cards"]["by_product"], "general")["count"], 1);
    assert_eq!(entry(&sz["cards"]["by_status"], "active")["count"], 1);

    let r = &sz["redemptions"];
    assert_eq!(r["count"], 2, "the voided one is not counted: {r}");
    assert_eq!(r["discount_fen"], 3_000);
    let month = china_today().format("%Y-%m").to_string();
    assert_eq!(
        r["by_month"],
        json!([{"key": month, "count": 2, "discount_fen": 3000}])
    );
    assert_eq!(
        entry(&r["by_holder_category"], "veteran")["discount_fen"],
        3000
    );
    assert_eq!(entry(&r["by_merchant_category"], "pharmacy")["count"], 2);
    assert_eq!(entry(&r["by_card_product"], "general")["count"], 2);
    assert_eq!(entry(&r["by_offer_kind"], "percent_off")["count"], 2);
    let lh = entry(&r["by_region"], "440303");
    assert_eq!(
        (lh["count"].as_i64(), lh["name"].as_str()),
        (Some(2), Some("罗湖区"))
    );
    assert_eq!(r["cross_region"]["count"], 1);
    assert_eq!(r["cross_region"]["discount_fen"], 1_000);
    assert_eq!(
        r["cross_region"]["pairs"],
        json!([{"holder_region_code": "140521", "holder_region_name": "沁水县",
                "bearing_region_code": "440303", "bearing_region_name": "罗湖区",
                "count": 1, "discount_fen": 1000}])
    );
    assert_eq!(
        r["top_merchants"][0]["merchant_id"],
        shop.merchant_id.as_str()
    );
    assert_eq!(r["top_merchants"][0]["count"], 2);
    assert_eq!(r["top_merchants"][0]["discount_fen"], 3000);

    // Qinshui: its own target, the pending applicant, the travelling holder's card.
    let qs = app
        .get("/api/v1/admin/stats?region=140521", Some(&shop.root))
        .await
        .expect(200);
    assert_eq!(qs["merchants"]["total"], 1);
    assert_eq!(entry(&qs["merchants"]["by_status"], "pending")["count"], 1);
    let year = qs["admissions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (year["admitted"].as_i64(), year["target"].as_i64()),
        (Some(0), Some(50))
    );
    assert_eq!(qs["beneficiaries"]["total"], 1);
    assert_eq!(
        qs["redemptions"]["count"], 0,
        "its holder redeemed in Shenzhen"
    );

    // Everywhere (a super administrator without region): both.
    let all = app
        .get("/api/v1/admin/stats", Some(&shop.root))
        .await
        .expect(200);
    assert_eq!(all["region"], Value::Null);
    assert_eq!(all["merchants"]["total"], 2);
    assert_eq!(all["beneficiaries"]["total"], 2);
    assert_eq!(all["redemptions"]["count"], 2);

    // A range without today counts no redemption.
    let earlier = app
        .get(
            "/api/v1/admin/stats?region=440300&from=2020-01-01&to=2020-12-31",
            Some(&shop.root),
        )
        .await
        .expect(200);
    assert_eq!(earlier["redemptions"]["count"], 0);
    assert_eq!(earlier["redemptions"]["by_month"], json!([]));
    assert_eq!(earlier["admissions"][0]["year"], 2020);
    assert_eq!(earlier["admissions"][0]["admitted"], 0);

    // Scope: a region administrator sees its own subtree by default, nothing outside.
    let luohu = app
        .staff(
            &shop.root,
            "luohu.admin",
            "region_admin",
            Some("440303"),
            None,
        )
        .await;
    let own = app
        .get("/api/v1/admin/stats", Some(&luohu))
        .await
        .expect(200);
    assert_eq!(own["region"], "440303");
    assert_eq!(own["redemptions"]["count"], 2);
    app.get("/api/v1/admin/stats?region=140521", Some(&luohu))
        .await
        .expect_problem(403, "region_out_of_scope");
    app.get("/api/v1/admin/stats?region=440300", Some(&luohu))
        .await
        .expect_problem(403, "region_out_of_scope");
    let auditor = app
        .staff(&shop.root, "sz.auditor", "auditor", Some("440300"), None)
        .await;
    let seen = app
        .get("/api/v1/admin/stats", Some(&auditor))
        .await
        .expect(200);
    assert_eq!(seen["redemptions"]["discount_fen"], 3000);
    app.get("/api/v1/admin/stats", Some(&shop.staff))
        .await
        .expect_problem(403, "forbidden");
    app.get("/api/v1/admin/stats", None)
        .await
        .expect_problem(401, "unauthenticated");

    // Bad input lists each bad field.
    let bad = app
        .get(
            "/api/v1/admin/stats?from=2026-13-01&to=yesterday&region=12",
            Some(&shop.root),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["from", "to", "region"]);
    app.get(
        "/api/v1/admin/stats?from=2026-02-01&to=2026-01-01",
        Some(&shop.root),
    )
    .await
    .expect_problem(422, "validation_failed");
}

/// Moves a redemption to `china` (China time) in the ledger, as if it had been made then.
async fn backdate(app: &TestApp, id: &str, china: &str) {
    use diesel::sql_types::{Text, Timestamp};
    use diesel_async::RunQueryDsl;
    let at = china.parse::<chrono::NaiveDateTime>().unwrap() - chrono::Duration::hours(8);
    let sql = match app.backend {
        Backend::Postgres => "UPDATE redemptions SET redeemed_at = $1 WHERE CAST(id AS TEXT) = $2",
        Backend::Sqlite => "UPDATE redemptions SET redeemed_at = ? WHERE CAST(id AS TEXT) = ?",
    };
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    let n = yongjun::with_conn!(&mut conn, |c| diesel::sql_query(sql)
        .bind::<Timestamp, _>(at)
        .bind::<Text, _>(id)
        .execute(c)
        .await
        .unwrap());
    assert_eq!(n, 1);
}

/// Months of the rollup that are fresh.
async fn fresh_months(app: &TestApp) -> Vec<String> {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Month {
        #[diesel(sql_type = Text)]
        month: String,
    }
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    yongjun::with_conn!(&mut conn, |c| diesel::sql_query(
        "SELECT month FROM redemption_rollup_months WHERE fresh ORDER BY month"
    )
    .load::<Month>(c)
    .await
    .unwrap())
    .into_iter()
    .map(|m| m.month)
    .collect()
}

/// Closed months are counted from the monthly rollup, the days around them from the
/// ledger; both agree with the rows, across China-time month ends, and a void in a
/// closed month is counted at once.
async fn closed_months(app: TestApp) {
    let shop = open_shop(&app).await;
    let deal = offer(&app, &shop, ten_percent()).await;
    let (local_holder, _) = new_holder(&app, &shop.root, 2, "440303").await;
    // (holder, bill, when in China time): the second is in April in China, still
    // March in UTC; the third is the last half hour of April.
    let made = [
        (&shop.holder, 10_000, "2025-03-20T12:00:00"),
        (&local_holder, 20_000, "2025-04-01T00:30:00"),
        (&local_holder, 30_000, "2025-04-30T23:30:00"),
        (&shop.holder, 40_000, "2025-05-05T10:00:00"),
    ];
    let mut ids = Vec::new();
    for (holder, bill, when) in made {
        let body = visit(&app, &shop, &deal, holder, bill).await;
        let id = body["id"].as_str().unwrap().to_owned();
        backdate(&app, &id, when).await;
        ids.push(id);
    }
    let stats = |query: &'static str| {
        let (app, root) = (&app, &shop.root);
        async move {
            app.get(&format!("/api/v1/admin/stats?{query}"), Some(root))
                .await
                .expect(200)["redemptions"]
                .clone()
        }
    };

    // The whole year: twelve closed months, all from the rollup. Four requests at once
    // sum each month once between them (a month summed twice would count double).
    let years =
        futures_util::future::join_all((0..4).map(|_| stats("from=2025-01-01&to=2025-12-31")))
            .await;
    assert!(years.iter().all(|y| *y == years[0]), "{years:?}");
    let year = years[0].clone();
    let months: Vec<String> = (1..=12).map(|m| format!("2025-{m:02}")).collect();
    assert_eq!(fresh_months(&app).await, months);
    assert_eq!(
        (year["count"].as_i64(), year["discount_fen"].as_i64()),
        (Some(4), Some(10_000))
    );
    assert_eq!(
        year["by_month"],
        json!([{"key": "2025-03", "count": 1, "discount_fen": 1000},
               {"key": "2025-04", "count": 2, "discount_fen": 5000},
               {"key": "2025-05", "count": 1, "discount_fen": 4000}])
    );
    assert_eq!(entry(&year["by_offer_kind"], "percent_off")["count"], 4);
    assert_eq!(
        entry(&year["by_merchant_category"], "pharmacy")["discount_fen"],
        10_000
    );
    assert_eq!(entry(&year["by_card_product"], "general")["count"], 4);
    assert_eq!(entry(&year["by_region"], "440303")["name"], "罗湖区");
    assert_eq!(
        year["cross_region"]["pairs"],
        json!([{"holder_region_code": "140521", "holder_region_name": "沁水县",
                "bearing_region_code": "440303", "bearing_region_name": "罗湖区",
                "count": 2, "discount_fen": 5000}])
    );
    assert_eq!(
        year["top_merchants"][0]["merchant_id"],
        shop.merchant_id.as_str()
    );
    assert_eq!(year["top_merchants"][0]["count"], 4);
    let categories: i64 = year["by_holder_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(categories, 4);

    // April from the rollup, the days of March and May around it from the ledger.
    let around = stats("from=2025-03-21&to=2025-05-04").await;
    assert_eq!(
        (around["count"].as_i64(), around["discount_fen"].as_i64()),
        (Some(2), Some(5000))
    );
    let wider = stats("from=2025-03-20&to=2025-05-05").await;
    assert_eq!(wider["count"], 4);
    assert_eq!(
        wider["by_month"][0],
        json!({"key": "2025-03", "count": 1, "discount_fen": 1000})
    );
    // Single days, from the ledger, in China time.
    assert_eq!(stats("from=2025-04-01&to=2025-04-01").await["count"], 1);
    assert_eq!(stats("from=2025-03-31&to=2025-03-31").await["count"], 0);
    assert_eq!(
        stats("from=2025-04-30&to=2025-04-30").await["discount_fen"],
        3000
    );
    // The region filter applies to the rollup's rows too.
    let qinshui = app
        .get(
            "/api/v1/admin/stats?region=140521&from=2025-01-01&to=2025-12-31",
            Some(&shop.root),
        )
        .await
        .expect(200);
    assert_eq!(qinshui["redemptions"]["count"], 0);
    let luohu = app
        .get(
            "/api/v1/admin/stats?region=440303&from=2025-01-01&to=2025-12-31",
            Some(&shop.root),
        )
        .await
        .expect(200);
    assert_eq!(luohu["redemptions"]["discount_fen"], 10_000);

    // A void in a closed month (the API allows it within a day, so late on the first
    // of a month for the month before) marks that month stale; the next figures sum it
    // again.
    let mut pooled = app.state.db.get().await.unwrap();
    let id: yongjun::db::ids::RedemptionId = ids[2].parse().unwrap();
    pooled
        .conn()
        .transaction(async |tx| {
            yongjun::db::offers::void_redemption(tx, id, "测试", yongjun::db::now()).await
        })
        .await
        .unwrap()
        .expect("it was completed");
    drop(pooled);
    assert!(!fresh_months(&app).await.contains(&"2025-04".to_owned()));
    let after = stats("from=2025-01-01&to=2025-12-31").await;
    assert_eq!(
        (after["count"].as_i64(), after["discount_fen"].as_i64()),
        (Some(3), Some(7000))
    );
    assert_eq!(
        after["by_month"][1],
        json!({"key": "2025-04", "count": 1, "discount_fen": 2000})
    );
    assert_eq!(fresh_months(&app).await, months);
}

mod closed_months_come_from_the_rollup {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        closed_months(spawn_instant_app(Backend::Postgres).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        closed_months(spawn_instant_app(Backend::Sqlite).await).await
    }
}

mod stats_agree_with_the_rows {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        figures(spawn_instant_app(Backend::Postgres).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        figures(spawn_instant_app(Backend::Sqlite).await).await
    }
}
