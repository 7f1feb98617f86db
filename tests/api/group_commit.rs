//! Redemptions written together (group commit): each answered on its own, whatever
//! shares its transaction, and the quota never exceeded nor left short when the
//! process is killed in the middle of the rush.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use yongjun::db::{offers, OfferId};

use crate::helpers::*;
use crate::outages::free_port;
use crate::pos::{offer, open_shop, qr, redeem, ten_percent, Shop};

async fn offer_row(app: &TestApp, id: &Value) -> offers::OfferRow {
    let id = OfferId(id.as_str().unwrap().parse().unwrap());
    let mut pooled = app.state.db.get().await.unwrap();
    offers::find_offer(&mut pooled.conn(), id)
        .await
        .unwrap()
        .unwrap()
}

async fn ledger_total(app: &TestApp, shop: &Shop) -> i64 {
    let listed = app
        .get("/api/v1/merchant/redemptions?per_page=1", Some(&shop.staff))
        .await
        .expect(200);
    listed["total"].as_i64().unwrap()
}

crate::instant_backends! {
    async fn concurrent_redemptions_sharing_batches_are_each_answered_on_their_own(app) {
        let shop = open_shop(&app).await;
        let unlimited = offer(&app, &shop, ten_percent()).await;
        let mut limited = ten_percent();
        limited["total_quota"] = json!(5);
        let limited = offer(&app, &shop, limited).await;
        // One token spent before, and one key used before for another request.
        let spent = qr(&app, &shop.holder).await;
        redeem(&app, &shop.terminal, "before", json!({"token": spent, "offer_id": unlimited["id"], "bill_fen": 100})).await.expect(201);
        let mut requests = vec![
            ("spent-again".to_owned(), json!({"token": spent, "offer_id": unlimited["id"], "bill_fen": 100})),
            ("before".to_owned(), json!({"token": qr(&app, &shop.holder).await, "offer_id": unlimited["id"], "bill_fen": 100})),
        ];
        for i in 0..12 {
            requests.push((format!("limited-{i}"), json!({"token": qr(&app, &shop.holder).await, "offer_id": limited["id"], "bill_fen": 1000})));
        }
        for i in 0..12 {
            requests.push((format!("unlimited-{i}"), json!({"token": qr(&app, &shop.holder).await, "offer_id": unlimited["id"], "bill_fen": 1000})));
        }
        let send_all = || futures_util::future::join_all(requests.iter().map(|(key, body)| redeem(&app, &shop.terminal, key, body.clone())));
        let first = send_all().await;

        assert_eq!((first[0].status, first[0].code()), (409, "token_used"));
        assert_eq!((first[1].status, first[1].code()), (422, "idempotency_key_reused"));
        let limited_answers = &first[2..14];
        let granted = limited_answers.iter().filter(|a| a.status == 201).count();
        let exhausted = limited_answers.iter().filter(|a| a.code() == "quota_exhausted").count();
        assert_eq!((granted, exhausted), (5, 7));
        assert!(first[14..].iter().all(|a| a.status == 201), "{:?}", first[14..].iter().find(|a| a.status != 201));
        // Every receipt is its own.
        let ids: std::collections::HashSet<_> = first.iter().filter(|a| a.status == 201).map(|a| a.body["id"].to_string()).collect();
        assert_eq!(ids.len(), 5 + 12);

        // The same requests again: every answer, refusals included, is the first one.
        let again = send_all().await;
        for ((key, _), (one, two)) in requests.iter().zip(first.iter().zip(&again)) {
            assert_eq!((one.status, &one.body), (two.status, &two.body), "{key}");
        }
        assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 5);
        assert_eq!(ledger_total(&app, &shop).await, 1 + 5 + 12);
    }
}

/// The binary as a second process of the test's deployment (same database, Redis,
/// secrets), on its own port; killed when dropped.
struct Child(std::process::Child, String);

impl Child {
    async fn start(app: &TestApp) -> Child {
        let yongjun::db::DatabaseTarget::Postgres(url) = &app.database else {
            panic!("PostgreSQL only");
        };
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_yongjun"))
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("REDIS_URL", redis_url())
            .env("YONGJUN_CACHE_PREFIX", &app.cache_prefix)
            .env("YONGJUN_BIND", format!("127.0.0.1:{port}"))
            .env("YONGJUN_DATA_DIR", tempfile::tempdir().unwrap().keep())
            .env("YONGJUN_LOG", "error")
            .env(
                "YONGJUN_JWT_SECRET",
                "test-jwt-secret-that-is-long-enough-0123456789",
            )
            // base64 of the 32 bytes 7, 7, …: the suite's data key.
            .env(
                "YONGJUN_DATA_KEY",
                "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
            )
            .env("YONGJUN_SIGNING_KEY", test_signing_key())
            .env("YONGJUN_SWEEP_INTERVAL_SECS", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the yongjun binary");
        // Killed by `Drop` if it does not come up.
        let started = Child(child, format!("http://127.0.0.1:{port}"));
        for _ in 0..200 {
            let health = format!("{}/healthz", started.1);
            if app.client.get(health).send().await.is_ok() {
                return started;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the second process did not start");
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_process_killed_in_the_rush_lets_no_more_than_the_quota_through() {
    let app = spawn_app_with(
        Backend::Postgres,
        Options {
            public_notice_days: Some(0),
            ..Default::default()
        },
    )
    .await;
    let shop = open_shop(&app).await;
    let mut limited = ten_percent();
    limited["total_quota"] = json!(60);
    let limited = offer(&app, &shop, limited).await;
    let mut requests = Vec::new();
    for i in 0..200 {
        let body = json!({"token": qr(&app, &shop.holder).await, "offer_id": limited["id"], "bill_fen": 1000});
        requests.push((format!("rush-{i}"), body));
    }

    // The rush goes to a second process, killed (SIGKILL) once it has answered a few.
    let mut child = Child::start(&app).await;
    let (answered, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let client = reqwest::Client::new();
    let sent: Vec<_> = requests
        .iter()
        .map(|(key, body)| {
            let (client, answered) = (client.clone(), answered.clone());
            let request = client
                .post(format!("{}/api/v1/pos/redemptions", child.1))
                .bearer_auth(&shop.terminal)
                .header("Idempotency-Key", key)
                .json(body);
            tokio::spawn(async move {
                let response = request.send().await.ok()?;
                let status = response.status().as_u16();
                let body: Value = response.json().await.ok()?;
                let _ = answered.send(());
                Some((status, body))
            })
        })
        .collect();
    for _ in 0..10 {
        tokio::time::timeout(Duration::from_secs(30), heard.recv())
            .await
            .expect("the second process answers");
    }
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let mut before_kill = Vec::new();
    for task in sent {
        before_kill.push(task.await.unwrap());
    }

    // Whatever was under way rolled back: the quota's shards count exactly the ledger.
    // What the offer shows may lag by the batches the kill caught between their commit
    // and their showing; the next batch (below) shows the count again, be it only a
    // refusal by the quota.
    let used = shards_used(&app, &limited["id"]).await;
    assert_eq!(used, ledger_total(&app, &shop).await);
    assert!((1..=60).contains(&used), "{used} used");
    assert!(offer_row(&app, &limited["id"]).await.used_total <= used);

    // The tills retry every request with its key: those that were written answer as
    // before, and the quota is reached exactly, never passed.
    let retried = futures_util::future::join_all(
        requests
            .iter()
            .map(|(key, body)| redeem(&app, &shop.terminal, key, body.clone())),
    )
    .await;
    for (before, after) in before_kill.iter().zip(&retried) {
        if let Some((201, body)) = before {
            assert_eq!((after.status, &after.body), (201, body));
        }
    }
    let granted = retried.iter().filter(|a| a.status == 201).count();
    let exhausted = retried
        .iter()
        .filter(|a| a.code() == "quota_exhausted")
        .count();
    assert_eq!((granted, exhausted), (60, 140));
    assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 60);
    assert_eq!(shards_used(&app, &limited["id"]).await, 60);
    assert_eq!(ledger_total(&app, &shop).await, 60);
}

/// What the offer's quota shards have handed out, and each shard's grant and use.
async fn shards(app: &TestApp, id: &Value) -> Vec<(i64, i64)> {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Shard {
        #[diesel(sql_type = BigInt)]
        granted: i64,
        #[diesel(sql_type = BigInt)]
        used: i64,
    }
    let sql = match app.backend {
        Backend::Postgres => "SELECT granted, used FROM offer_quota_shards WHERE CAST(offer_id AS TEXT) = $1 ORDER BY shard",
        Backend::Sqlite => "SELECT granted, used FROM offer_quota_shards WHERE CAST(offer_id AS TEXT) = ? ORDER BY shard",
    };
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    yongjun::with_conn!(&mut conn, |c| diesel::sql_query(sql)
        .bind::<Text, _>(id.as_str().unwrap())
        .load::<Shard>(c)
        .await
        .unwrap())
    .into_iter()
    .map(|s| (s.granted, s.used))
    .collect()
}

async fn shards_used(app: &TestApp, id: &Value) -> i64 {
    shards(app, id).await.iter().map(|(_, used)| used).sum()
}

crate::instant_backends! {
    async fn a_quota_on_shards_adds_up_follows_changes_and_voids_and_is_recounted(app) {
        let shop = open_shop(&app).await;
        let mut limited = ten_percent();
        limited["total_quota"] = json!(40);
        let limited = offer(&app, &shop, limited).await;
        let grants = shards(&app, &limited["id"]).await;
        assert_eq!(grants.len(), 16);
        assert_eq!(grants.iter().map(|(g, _)| g).sum::<i64>(), 40, "{grants:?}");
        assert!(grants.iter().all(|(g, u)| (2..=3).contains(g) && *u == 0), "{grants:?}");

        // Thirty at once, from one till: every shard is counted on, none beyond its grant.
        let mut bodies = Vec::new();
        for i in 0..30 {
            bodies.push((format!("s-{i}"), json!({"token": qr(&app, &shop.holder).await, "offer_id": limited["id"], "bill_fen": 1000})));
        }
        let answers = futures_util::future::join_all(bodies.iter()
            .map(|(key, body)| redeem(&app, &shop.terminal, key, body.clone()))).await;
        assert!(answers.iter().all(|a| a.status == 201), "{:?}", answers.iter().find(|a| a.status != 201));
        let counted = shards(&app, &limited["id"]).await;
        assert!(counted.iter().all(|(g, u)| u <= g), "{counted:?}");
        assert_eq!(shards_used(&app, &limited["id"]).await, 30);
        assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 30);

        // A smaller quota keeps what each shard used; below what is used it is refused
        // and nothing changes.
        let path = format!("/api/v1/merchant/offers/{}", limited["id"].as_str().unwrap());
        let patch = |body: Value| app.send(app.client.patch(app.url(&path)).bearer_auth(&shop.staff).json(&body));
        patch(json!({"total_quota": 29})).await.expect_problem(422, "validation_failed");
        patch(json!({"total_quota": 32})).await.expect(200);
        let resized = shards(&app, &limited["id"]).await;
        assert_eq!(resized.iter().map(|(g, _)| g).sum::<i64>(), 32, "{resized:?}");
        assert!(resized.iter().zip(&counted).all(|((g, u), (_, before))| u == before && u <= g), "{resized:?}");
        // (A material change sends the offer back to review: approve it again.)
        app.post(&format!("/api/v1/admin/offers/{}/approve", limited["id"].as_str().unwrap()), Some(&shop.root), json!({})).await.expect(200);

        // The last two, then none: the batch that finds its shard empty takes from the others.
        for i in 0..3 {
            let body = json!({"token": qr(&app, &shop.holder).await, "offer_id": limited["id"], "bill_fen": 1000});
            let answer = redeem(&app, &shop.terminal, &format!("last-{i}"), body).await;
            if i < 2 { answer.expect(201); } else { answer.expect_problem(409, "quota_exhausted"); }
        }
        assert_eq!(shards_used(&app, &limited["id"]).await, 32);

        // A void gives one back, on a shard and on the offer.
        let receipt = &answers[0].body;
        app.post(&format!("/api/v1/merchant/redemptions/{}/void", receipt["id"].as_str().unwrap()), Some(&shop.staff),
            json!({"reason": "收银员误操作"})).await.expect(200);
        assert_eq!(shards_used(&app, &limited["id"]).await, 31);
        assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 31);

        // A count lost between a commit and its display comes back at start-up.
        lose_shown_count(&app, &shop, &limited["id"], 3).await;
        assert_eq!(yongjun::app::offers::recount_quotas(&app.state.db).await.unwrap(), 1);
        assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 31);

        // And at the first refusal by the quota, when a crash lost the count of units
        // that used it up: the till hears the quota is used up, the offer shows it.
        let body = json!({"token": qr(&app, &shop.holder).await, "offer_id": limited["id"], "bill_fen": 1000});
        redeem(&app, &shop.terminal, "last-3", body).await.expect(201);
        assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 32);
        lose_shown_count(&app, &shop, &limited["id"], 30).await;
        let body = json!({"token": qr(&app, &shop.holder).await, "offer_id": limited["id"], "bill_fen": 1000});
        redeem(&app, &shop.terminal, "last-4", body).await.expect_problem(409, "quota_exhausted");
        assert_eq!(offer_row(&app, &limited["id"]).await.used_total, 32);
        assert_eq!(shards_used(&app, &limited["id"]).await, 32);
    }
}

/// What a crash between a batch's commit and its showing leaves: the offer shows
/// `shown` used, and the merchant's snapshot (dropped only by the showing) says so too.
async fn lose_shown_count(app: &TestApp, shop: &Shop, offer: &Value, shown: i64) {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    use yongjun::db::schema::offers;
    let id = OfferId(offer.as_str().unwrap().parse().unwrap());
    let mut pooled = app.state.db.get().await.unwrap();
    let mut conn = pooled.conn();
    yongjun::with_conn!(&mut conn, |c| diesel::update(
        offers::table.filter(offers::id.eq(id))
    )
    .set(offers::used_total.eq(shown))
    .execute(c)
    .await
    .unwrap());
    let merchant = yongjun::db::MerchantId(shop.merchant_id.parse().unwrap());
    yongjun::app::merchants::invalidate_merchant(&app.state.cache, merchant).await;
}
