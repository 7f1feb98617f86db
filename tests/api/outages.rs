//! Failure is tested: a database that disappears answers 503, never a 500 or a hang;
//! a Redis outage is survived where a fallback exists, and the cache comes back by itself.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_database_is_503_not_500() {
    let app = spawn_app(Backend::Postgres).await;
    app.get("/api/v1/regions", None).await.expect(200);
    let token = app.admin_token().await;

    // Kill every connection and the database itself.
    let name = match &app.database {
        yongjun::db::DatabaseTarget::Postgres(url) => url.rsplit('/').next().unwrap().to_owned(),
        _ => unreachable!(),
    };
    drop_database(&name).await;

    for path in ["/api/v1/regions", "/api/v1/regions/440303"] {
        app.get(path, None)
            .await
            .expect_problem(503, "service_unavailable");
    }
    let body = app
        .get("/api/v1/admin/users", Some(&token))
        .await
        .expect_problem(503, "service_unavailable");
    assert_eq!(
        body["detail"],
        "服务暂时不可用，请稍后重试 (the service is temporarily unavailable; please retry shortly)"
    );

    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body["status"], "unavailable");
    assert!(ready.body["database"]
        .as_str()
        .unwrap()
        .starts_with("unavailable"));
    assert_eq!(ready.body["cache"], "ok");
    // The process itself is alive.
    app.get("/healthz", None).await.expect(200);
}

/// A Redis server of this test's own, on a free port, so stopping it disturbs no one.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    pub fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test (apt-get install redis-server)");
        OwnRedis {
            port,
            child: Some(child),
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn wait_until_up(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..100 {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("own redis-server did not come up on port {}", self.port);
    }

    pub async fn keys(&self, pattern: &str) -> Vec<String> {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut conn)
            .await
            .unwrap()
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_falls_back_to_the_database_and_recovers() {
    let mut redis = OwnRedis::start(free_port());
    redis.wait_until_up().await;
    let app = spawn_app_with(
        Backend::Postgres,
        Options {
            redis_url: Some(redis.url()),
            ..Default::default()
        },
    )
    .await;

    let expected = app.get("/api/v1/regions/440303", None).await.expect(200);
    let pattern = format!("{}region:*", app.cache_prefix);
    assert_eq!(redis.keys(&pattern).await.len(), 1, "the region was cached");

    redis.stop();
    // Answers still come, from the database.
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/regions/440303", None).await.expect(200),
            expected
        );
    }
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503);
    assert!(
        ready.body["cache"]
            .as_str()
            .unwrap()
            .starts_with("unavailable"),
        "{}",
        ready.body
    );
    assert_eq!(ready.body["database"], "ok");

    // Redis returns on the same port, empty: the cache is used again without a restart.
    let redis = OwnRedis::start(redis.port);
    redis.wait_until_up().await;
    let mut recovered = false;
    for _ in 0..100 {
        if app.get("/readyz", None).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "readyz never recovered after Redis returned");
    assert_eq!(
        app.get("/api/v1/regions/440303", None).await.expect(200),
        expected
    );
    assert_eq!(
        redis.keys(&pattern).await.len(),
        1,
        "the cache is written again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_starts_while_redis_is_down() {
    let port = free_port();
    let app = spawn_app_with(
        Backend::Postgres,
        Options {
            redis_url: Some(format!("redis://127.0.0.1:{port}")),
            ..Default::default()
        },
    )
    .await;
    app.get("/api/v1/regions/440303", None).await.expect(200);
    assert_eq!(app.get("/readyz", None).await.status, 503);
}

/// The decision for a database outage: verification may answer from a warm cache (no
/// change can commit while the database is down, so a cached card is as fresh as the
/// database), a card not in the cache is 503, and a redemption, which must write the
/// ledger, is 503 always.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_database_outage_a_warm_card_verifies_and_nothing_redeems() {
    use crate::pos::{new_holder, offer, open_shop, qr, redeem, ten_percent, verify};
    use serde_json::json;
    let app = spawn_instant_app(Backend::Postgres).await;
    let shop = open_shop(&app).await;
    let offer = offer(&app, &shop, ten_percent()).await;
    let warm = qr(&app, &shop.holder).await;
    assert_eq!(verify(&app, &shop.terminal, &warm).await["valid"], true);
    let (cold_holder, _) = new_holder(&app, &shop.root, 2, "440303").await;
    let cold = qr(&app, &cold_holder).await;

    let name = match &app.database {
        yongjun::db::DatabaseTarget::Postgres(url) => url.rsplit('/').next().unwrap().to_owned(),
        _ => unreachable!(),
    };
    drop_database(&name).await;

    let again = verify_answer(&app, &shop.terminal, &warm).await;
    assert_eq!(
        (again.status, again.body["valid"].as_bool()),
        (200, Some(true)),
        "{:?}",
        again.body
    );
    verify_answer(&app, &shop.terminal, &cold)
        .await
        .expect_problem(503, "service_unavailable");
    redeem(
        &app,
        &shop.terminal,
        "outage-1",
        json!({"token": warm, "offer_id": offer["id"], "bill_fen": 1000}),
    )
    .await
    .expect_problem(503, "service_unavailable");
}

async fn verify_answer(app: &TestApp, terminal: &str, token: &str) -> Answer {
    app.post(
        "/api/v1/pos/verify",
        Some(terminal),
        serde_json::json!({"token": token}),
    )
    .await
}
