//! The cache interface behaves the same on Redis and in process.

use std::time::Duration;

use yongjun::cache::Cache;

use crate::helpers::*;

async fn exercise(cache: &Cache) {
    assert_eq!(cache.get("k1").await.unwrap(), None);
    cache
        .set("k1", "v1", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get("k1").await.unwrap().as_deref(), Some("v1"));

    assert!(cache
        .set_if_absent("once", "first", Duration::from_secs(60))
        .await
        .unwrap());
    assert!(!cache
        .set_if_absent("once", "second", Duration::from_secs(60))
        .await
        .unwrap());
    assert_eq!(cache.get("once").await.unwrap().as_deref(), Some("first"));

    cache.delete(&["k1".into(), "once".into()]).await.unwrap();
    assert_eq!(cache.get("k1").await.unwrap(), None);
    assert!(cache
        .set_if_absent("once", "third", Duration::from_secs(60))
        .await
        .unwrap());

    cache
        .set("short", "v", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(cache
        .set_if_absent("short-nx", "v", Duration::from_millis(300))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(cache.get("short").await.unwrap(), None, "TTL honoured");
    assert_eq!(
        cache.get("short-nx").await.unwrap(),
        None,
        "set_if_absent TTL honoured"
    );

    let mut invalidations = cache.subscribe_invalidations();
    cache
        .set("card:1", "snapshot", Duration::from_secs(60))
        .await
        .unwrap();
    cache.invalidate(vec!["card:1".into()]).await.unwrap();
    assert_eq!(cache.get("card:1").await.unwrap(), None);
    let seen = tokio::time::timeout(Duration::from_secs(5), invalidations.recv()).await;
    assert_eq!(
        seen.expect("invalidation delivered").unwrap(),
        vec!["card:1".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_cache() {
    exercise(&Cache::memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cache() {
    let app = spawn_app(Backend::Postgres).await; // checks Redis is reachable
    let cache = Cache::redis(&redis_url(), &format!("{}c:", app.cache_prefix)).unwrap();
    // Let the invalidation listener subscribe before publishing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    exercise(&cache).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_invalidation_reaches_another_process() {
    let prefix = format!("yjtest:{}:", uuid::Uuid::new_v4().simple());
    let _ = spawn_app(Backend::Postgres).await;
    let one = Cache::redis(&redis_url(), &prefix).unwrap();
    let two = Cache::redis(&redis_url(), &prefix).unwrap();
    let other_prefix = Cache::redis(&redis_url(), "yjtest:unrelated:").unwrap();
    let mut heard = two.subscribe_invalidations();
    let mut unrelated = other_prefix.subscribe_invalidations();
    tokio::time::sleep(Duration::from_millis(300)).await;

    two.set("merchant:9", "snapshot", Duration::from_secs(60))
        .await
        .unwrap();
    one.invalidate(vec!["merchant:9".into()]).await.unwrap();
    let keys = tokio::time::timeout(Duration::from_secs(5), heard.recv())
        .await
        .expect("heard")
        .unwrap();
    assert_eq!(keys, vec!["merchant:9".to_string()]);
    assert_eq!(
        two.get("merchant:9").await.unwrap(),
        None,
        "the shared key is gone"
    );
    assert!(
        unrelated.try_recv().is_err(),
        "another prefix hears nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_errors_quickly_instead_of_hanging() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cache = Cache::redis(&format!("redis://127.0.0.1:{port}"), "yj:").unwrap();
    // A bound far above the 300 ms operation timeout: this fails only on a hang.
    tokio::time::timeout(Duration::from_secs(10), async {
        assert!(cache.get("anything").await.is_err());
        assert!(cache.set("k", "v", Duration::from_secs(1)).await.is_err());
        assert!(cache.ping().await.is_err());
    })
    .await
    .expect("cache calls against a dead Redis must return an error, not hang");
}
