//! Redis partitions (issue 13): a TCP proxy between the service and a Redis of the
//! test's own resets, refuses or swallows traffic while Redis keeps its data. A change
//! made during the fault must never be answered from the entry it made stale, in this
//! process or another, and the cache must come back by itself, without a restart, once
//! the network heals.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

use crate::helpers::*;
use crate::outages::{free_port, OwnRedis};
use crate::pos::{new_holder, offer, open_shop, qr, ten_percent, verify};

/// What the proxy does to the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards both ways.
    Pass,
    /// Resets every connection, and every new one as soon as it is accepted.
    Reset,
    /// Resets every connection and stops listening: a connect is refused.
    Refuse,
    /// Keeps every connection, accepts new ones, and swallows every byte both ways. A
    /// connection swallowed once stays lost when the fault ends (as behind a middlebox
    /// that forgot it); only new connections pass again.
    Blackhole,
}

/// A TCP proxy in front of a Redis, on a free port.
pub struct Proxy {
    pub port: u16,
    fault: watch::Sender<Fault>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let port = free_port();
        let (fault, watching) = watch::channel(Fault::Pass);
        let listener = bind(port);
        let task = tokio::spawn(serve(listener, port, upstream, watching));
        Proxy { port, fault, task }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The connections' tasks end when the sender goes.
        self.task.abort();
    }
}

fn bind(port: u16) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap_or_else(|e| panic!("the proxy binds port {port}: {e}"));
    socket.listen(1024).unwrap()
}

async fn serve(first: TcpListener, port: u16, upstream: u16, mut fault: watch::Receiver<Fault>) {
    let mut listener = Some(first);
    loop {
        let Some(bound) = listener.take() else {
            // Refusing: nothing listens until the fault changes.
            if *fault.borrow_and_update() != Fault::Refuse {
                listener = Some(bind(port));
            } else if fault.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = bound.accept() => {
                if let Ok((stream, _)) = accepted {
                    // Closed with SO_LINGER 0: every close is a reset.
                    let _ = stream.set_zero_linger();
                    let now = *fault.borrow();
                    match now {
                        Fault::Pass => drop(tokio::spawn(pump(stream, upstream, fault.clone()))),
                        Fault::Blackhole => drop(tokio::spawn(swallow(stream, fault.clone()))),
                        Fault::Reset | Fault::Refuse => drop(stream),
                    }
                }
                listener = Some(bound);
            }
            changed = fault.changed() => {
                if changed.is_err() {
                    return;
                }
                if *fault.borrow_and_update() != Fault::Refuse {
                    listener = Some(bound);
                }
            }
        }
    }
}

/// Forwards one connection until a fault: a reset ends it, a blackhole swallows it for
/// good.
async fn pump(client: TcpStream, upstream: u16, mut fault: watch::Receiver<Fault>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let _ = server.set_zero_linger();
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    let mut swallowing = false;
    loop {
        tokio::select! {
            read = client_in.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if !swallowing && server_out.write_all(&up[..n]).await.is_err() {
                        return;
                    }
                }
            },
            read = server_in.read(&mut down) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if !swallowing && client_out.write_all(&down[..n]).await.is_err() {
                        return;
                    }
                }
            },
            changed = fault.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *fault.borrow_and_update();
                match now {
                    Fault::Pass => {}
                    Fault::Blackhole => swallowing = true,
                    Fault::Reset | Fault::Refuse => return,
                }
            }
        }
    }
}

/// A connection accepted during a blackhole: read and thrown away, never answered.
async fn swallow(client: TcpStream, mut fault: watch::Receiver<Fault>) {
    let (mut client_in, _client_out) = client.into_split();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            read = client_in.read(&mut buffer) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return;
                }
            }
            changed = fault.changed() => {
                if changed.is_err() {
                    return;
                }
                if matches!(*fault.borrow_and_update(), Fault::Reset | Fault::Refuse) {
                    return;
                }
            }
        }
    }
}

/// The status of a verification through `terminal`.
async fn status_of(app: &TestApp, terminal: &str, token: &str) -> u16 {
    let request = app
        .client
        .post(app.url("/api/v1/pos/verify"))
        .bearer_auth(terminal)
        .json(&json!({"token": token}));
    app.send(request).await.status
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

fn listed_offers(verification: &Value) -> Vec<String> {
    verification["offers"]
        .as_array()
        .map(|offers| offers.iter().map(|o| id(o).to_owned()).collect())
        .unwrap_or_default()
}

async fn timed_verify(app: &TestApp, terminal: &str, token: &str) -> (Value, Duration) {
    let started = Instant::now();
    let answer = verify(app, terminal, token).await;
    (answer, started.elapsed())
}

async fn wait_ready(app: &TestApp, name: &str, within: Duration) {
    let started = Instant::now();
    loop {
        let ready = app.get("/readyz", None).await;
        if ready.status == 200 {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{name}: /readyz still {} {} {:?} after the network healed",
            ready.status,
            ready.body,
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
}

/// Verifications that do not wait for a dead cache (each wait is the 300 ms timeout):
/// most of them well under it, hardly any near it. A median and a share rather than every
/// one, so that a busy machine does not fail the test; without the circuit, every one of
/// them takes 300 ms or more.
fn recovered(took: &[Duration]) -> bool {
    let mut sorted = took.to_vec();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let near_timeout = took
        .iter()
        .filter(|t| **t >= Duration::from_millis(250))
        .count();
    !took.is_empty() && median < Duration::from_millis(100) && near_timeout * 10 <= took.len()
}

/// One process changes a card and an offer during the fault; both processes (sharing
/// the Redis through the same proxy) answer from the database while it lasts, never
/// answer from the stale entries once it heals, and use the cache again on their own.
async fn a_partition_heals_without_stale_answers(fault: Fault) {
    let mut redis = OwnRedis::start(free_port());
    redis.wait_until_up().await;
    let proxy = Proxy::start(redis.port).await;
    let one = spawn_app_with(
        Backend::Postgres,
        Options {
            redis_url: Some(proxy.url()),
            public_notice_days: Some(0),
            ..Default::default()
        },
    )
    .await;
    let two = spawn_second_process_via(&one, proxy.url()).await;
    let shop = open_shop(&one).await;
    let kept = offer(&one, &shop, ten_percent()).await;
    let paused = offer(
        &one,
        &shop,
        json!({"title": "拥军绿色通道", "kind": "priority_service"}),
    )
    .await;
    let (other_holder, _) = new_holder(&one, &shop.root, 2, "140521").await;
    let token = qr(&one, &shop.holder).await;
    let other = qr(&one, &other_holder).await;
    let processes = [("one", &one), ("two", &two)];

    // Warm: both processes hold the card and the merchant, in Redis and in process.
    for (name, app) in processes {
        assert_eq!(
            verify(app, &shop.terminal, &token).await["valid"],
            true,
            "{name}"
        );
        let listed = listed_offers(&verify(app, &shop.terminal, &other).await);
        assert!(
            listed.contains(&id(&kept).to_owned()) && listed.contains(&id(&paused).to_owned()),
            "{name}: {listed:?}"
        );
    }
    let card_id = id(&shop.card).to_owned();
    let card_key = format!("{}card:{card_id}", one.cache_prefix);
    assert_eq!(redis.keys(&card_key).await.len(), 1, "the card is cached");

    proxy.set(fault);
    // The card is reported lost and the offer paused while the cache is out of reach:
    // both succeed (the database is the truth), their invalidations cannot be delivered.
    let suspended = one
        .post(
            &format!("/api/v1/admin/cards/{card_id}/suspend"),
            Some(&shop.root),
            json!({"reason": "挂失"}),
        )
        .await
        .expect(200);
    assert_eq!(suspended["status"], "suspended");
    one.post(
        &format!("/api/v1/merchant/offers/{}/pause", id(&paused)),
        Some(&shop.staff),
        json!({}),
    )
    .await
    .expect(200);

    // During the fault: every answer comes from the database, and after the first
    // failure a verification does not wait for the cache again.
    let started = Instant::now();
    let mut during = Vec::new();
    while started.elapsed() < Duration::from_millis(1500) {
        for (name, app) in processes {
            let (answer, took) = timed_verify(app, &shop.terminal, &token).await;
            assert_eq!(
                answer["reason"], "card_suspended",
                "{name} during the fault: {answer}"
            );
            during.push((name, took));
        }
    }
    for name in ["one", "two"] {
        // After its first failure, the process does not wait for the cache again.
        let took: Vec<Duration> = during
            .iter()
            .filter(|(n, _)| *n == name)
            .skip(2)
            .map(|(_, took)| *took)
            .collect();
        assert!(
            recovered(&took),
            "{name} ({fault:?}): verifications waited for the dead cache: {took:?}"
        );
    }

    proxy.set(Fault::Pass);
    let healed = Instant::now();
    // After the fault: not one answer from the stale entries, in either process.
    let mut stale = Vec::new();
    let mut answers = 0;
    while healed.elapsed() < Duration::from_secs(3) {
        for (name, app) in processes {
            let (answer, _) = timed_verify(app, &shop.terminal, &token).await;
            if answer["reason"] != "card_suspended" {
                stale.push(format!("{name} +{:?}: {answer}", healed.elapsed()));
            }
            let listed = listed_offers(&verify(app, &shop.terminal, &other).await);
            if listed.contains(&id(&paused).to_owned()) || !listed.contains(&id(&kept).to_owned()) {
                stale.push(format!("{name} +{:?}: offers {listed:?}", healed.elapsed()));
            }
            answers += 2;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        stale.is_empty(),
        "{fault:?}: {} of {answers} answers after the network healed were stale: {stale:#?}",
        stale.len()
    );

    // The cache comes back by itself: ready again, and a verification no longer pays the
    // timeout.
    for (name, app) in processes {
        wait_ready(app, name, Duration::from_secs(5)).await;
        let mut took = Vec::new();
        for _ in 0..10 {
            let (answer, t) = timed_verify(app, &shop.terminal, &token).await;
            assert_eq!(answer["reason"], "card_suspended", "{name}: {answer}");
            took.push(t);
        }
        assert!(
            recovered(&took),
            "{name} ({fault:?}): verifications after recovery still slow: {took:?}"
        );
    }
    assert_eq!(
        redis.keys(&card_key).await.len(),
        1,
        "the card is cached again (the suspended one)"
    );

    let text = metrics(&one).await;
    assert_eq!(
        metric(&text, "yongjun_dependency_state{name=\"cache_trusted\"}"),
        Some(1.0),
        "{text}"
    );
    let failed = metric(&text, "yongjun_cache_invalidations_failed_total").unwrap_or(0.0);
    assert!(failed >= 2.0, "two invalidations failed: {text}");
    redis.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_reset_during_a_partition() {
    a_partition_heals_without_stale_answers(Fault::Reset).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_refused_during_a_partition() {
    a_partition_heals_without_stale_answers(Fault::Refuse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traffic_swallowed_during_a_partition() {
    a_partition_heals_without_stale_answers(Fault::Blackhole).await;
}

/// Only one process is cut off. The other, which reaches Redis, delivers the cut-off
/// process's invalidation itself (it is kept in the database), and the cut-off process,
/// which could not hear the other's invalidations meanwhile, drops its own copies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_process_that_reaches_redis_delivers_what_a_cut_off_one_could_not() {
    let mut redis = OwnRedis::start(free_port());
    redis.wait_until_up().await;
    let proxy = Proxy::start(redis.port).await;
    let cut_off = spawn_app_with(
        Backend::Postgres,
        Options {
            redis_url: Some(proxy.url()),
            public_notice_days: Some(0),
            ..Default::default()
        },
    )
    .await;
    let connected = spawn_second_process_via(&cut_off, redis.url()).await;
    let shop = open_shop(&cut_off).await;
    offer(&cut_off, &shop, ten_percent()).await;
    let second = cut_off
        .post(
            "/api/v1/merchant/terminals",
            Some(&shop.staff),
            json!({"name": "二号收银台"}),
        )
        .await
        .expect(201);
    let second_key = second["api_key"].as_str().unwrap().to_owned();
    let token = qr(&cut_off, &shop.holder).await;
    for app in [&cut_off, &connected] {
        for terminal in [&shop.terminal, &second_key] {
            assert_eq!(verify(app, terminal, &token).await["valid"], true);
        }
    }

    proxy.set(Fault::Reset);
    let card_id = id(&shop.card).to_owned();
    cut_off
        .post(
            &format!("/api/v1/admin/cards/{card_id}/suspend"),
            Some(&shop.root),
            json!({"reason": "挂失"}),
        )
        .await
        .expect(200);
    // The connected process learns of it from the database, within about a second.
    let started = Instant::now();
    loop {
        let answer = verify(&connected, &shop.terminal, &token).await;
        if answer["reason"] == "card_suspended" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "the connected process still answers from the stale entry: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The connected process deletes the second terminal: its invalidation is delivered,
    // but the cut-off process cannot hear it.
    let terminals = connected
        .get("/api/v1/merchant/terminals", Some(&shop.staff))
        .await
        .expect(200);
    let second_id = terminals["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "二号收银台")
        .map(|t| id(t).to_owned())
        .unwrap();
    connected
        .send(
            connected
                .client
                .delete(connected.url(&format!("/api/v1/merchant/terminals/{second_id}")))
                .bearer_auth(&shop.staff),
        )
        .await
        .expect(204);
    assert_eq!(
        status_of(&cut_off, &second_key, &token).await,
        401,
        "during the fault"
    );

    proxy.set(Fault::Pass);
    let healed = Instant::now();
    while healed.elapsed() < Duration::from_secs(2) {
        assert_eq!(
            status_of(&cut_off, &second_key, &token).await,
            401,
            "the deleted terminal after +{:?}",
            healed.elapsed()
        );
        assert_eq!(
            verify(&cut_off, &shop.terminal, &token).await["reason"],
            "card_suspended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_ready(&cut_off, "cut off", Duration::from_secs(5)).await;
    assert_eq!(
        status_of(&cut_off, &second_key, &token).await,
        401,
        "once the cache is trusted again"
    );
    redis.stop();
}

/// The cache itself: an invalidation swallowed by the network is heard in this process at
/// once, every call then answers "no cache" without waiting, and once the network heals
/// the connections are rebuilt (the swallowed ones never recover), the invalidation is
/// delivered and only then is the cache used again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undelivered_invalidation_is_heard_here_at_once_and_delivered_later() {
    use yongjun::cache::{Cache, CacheError};

    let mut redis = OwnRedis::start(free_port());
    redis.wait_until_up().await;
    let proxy = Proxy::start(redis.port).await;
    let prefix = format!("yjtest:{}:", uuid::Uuid::new_v4().simple());
    let cache = Cache::redis(&proxy.url(), &prefix).unwrap();
    assert!(
        cache.settle(Duration::from_secs(2)).await,
        "trusted at start"
    );
    let mut heard = cache.subscribe_invalidations();
    cache
        .set("card:1", "snapshot", Duration::from_secs(60))
        .await
        .unwrap();

    proxy.set(Fault::Blackhole);
    // The proxy's pumps notice the fault on their next turn; on a busy machine a write
    // sent at once could still pass (seen once in a full run).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(cache.invalidate(vec!["card:1".into()]).await.is_err());
    let first = tokio::time::timeout(Duration::from_millis(100), heard.recv()).await;
    assert_eq!(first.expect("heard at once").unwrap(), vec!["card:1"]);
    let started = Instant::now();
    assert!(matches!(
        cache.get("card:1").await,
        Err(CacheError::Untrusted(_))
    ));
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "no round trip"
    );
    let health = cache.health();
    assert!(!health.trusted);
    assert_eq!(
        (health.pending_invalidations, health.failed_invalidations),
        (1, 1)
    );
    let key = format!("{prefix}card:1");
    assert_eq!(
        redis.keys(&key).await.len(),
        1,
        "the stale entry is still there"
    );

    proxy.set(Fault::Pass);
    let healed = Instant::now();
    while !cache.is_trusted() {
        assert!(
            healed.elapsed() < Duration::from_secs(5),
            "not trusted again: {:?}",
            cache.health()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(redis.keys(&key).await.is_empty(), "delivered");
    let health = cache.health();
    assert_eq!(health.pending_invalidations, 0);
    assert!(health.reconnects >= 1, "{health:?}");
    assert_eq!(cache.get("card:1").await.unwrap(), None);
    // The listener's connection was swallowed too: it was rebuilt, and this process told
    // to drop every copy, since what was published meanwhile was not heard.
    let mut messages = Vec::new();
    while let Ok(message) = heard.try_recv() {
        messages.push(message);
    }
    assert!(
        messages.contains(&vec![yongjun::cache::keys::EVERYTHING.to_owned()]),
        "{messages:?}"
    );
    redis.stop();
}
