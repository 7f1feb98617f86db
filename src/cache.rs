//! The cache: every Redis key and command of the service lives here.
//!
//! One interface over Redis (shared by every API process) and an in-process cache
//! (the zero-setup default). Callers treat a [`CacheError`] as "no cache": they read the
//! database instead. Every Redis call is bounded by a short timeout, so an unreachable
//! Redis costs milliseconds, never a hang.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use moka::Expiry;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use tokio::sync::broadcast;

/// Longest a single cache operation may take before callers fall back.
const OP_TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache unreachable: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cache operation timed out after {0:?}")]
    Timeout(Duration),
}

/// Keys of every cached thing, all relative to the configured prefix.
pub mod keys {
    pub fn region(code: &str) -> String {
        format!("region:{code}")
    }

    /// Snapshot of a card: status, version, holder category and honours, masked name.
    pub fn card(id: &crate::db::CardId) -> String {
        format!("card:{id}")
    }

    /// A spent QR token id: refused at once, before the database is asked.
    pub fn jti(jti: &str) -> String {
        format!("jti:{jti}")
    }

    /// A terminal look-up by the keyed hash of its API key.
    pub fn terminal(key_hash: &str) -> String {
        format!("terminal:{key_hash}")
    }

    /// Snapshot of a merchant: status, agreement end and its public face.
    pub fn merchant(id: &crate::db::MerchantId) -> String {
        format!("merchant:{id}")
    }

    /// The point of sale's merchant snapshot (with the active offers; the directory's
    /// `merchant:` entry has none). Invalidated with `merchant:` (see
    /// [`super::Cache::invalidate`]).
    pub fn pos_merchant(id: &crate::db::MerchantId) -> String {
        format!("pos_merchant:{id}")
    }

    /// The version token of the point of sale's merchant snapshot: a few bytes that tell
    /// a process whether its own copy is still the one cached. Invalidated with
    /// `merchant:`.
    pub fn pos_merchant_version(id: &crate::db::MerchantId) -> String {
        format!("pos_merchant_ver:{id}")
    }

    /// `keys` and every key that goes stale with one of them.
    pub(super) fn with_companions(keys: Vec<String>) -> Vec<String> {
        let mut all = Vec::with_capacity(keys.len() * 3);
        for key in keys {
            if let Some(id) = key.strip_prefix("merchant:") {
                all.push(format!("pos_merchant:{id}"));
                all.push(format!("pos_merchant_ver:{id}"));
            }
            all.push(key);
        }
        all
    }
}

/// The channel (under the prefix) on which invalidations are published.
const INVALIDATION_CHANNEL: &str = "invalidate";

#[derive(Clone)]
pub struct Cache {
    backend: Backend,
    /// Keys invalidated by this or (through Redis) any other process; local
    /// in-memory layers subscribe to drop their copies.
    invalidations: broadcast::Sender<Vec<String>>,
}

#[derive(Clone)]
enum Backend {
    Redis(RedisCache),
    Memory(MemoryCache),
}

#[derive(Clone)]
struct RedisCache {
    manager: ConnectionManager,
    prefix: Arc<str>,
}

#[derive(Clone)]
struct MemoryCache {
    entries: moka::future::Cache<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    value: Arc<str>,
    ttl: Duration,
}

struct EntryTtl;

impl Expiry<String, Entry> for EntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Entry,
        _now: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _now: std::time::Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl Cache {
    /// The in-process cache, for a single process without Redis.
    pub fn memory() -> Cache {
        let entries = moka::future::Cache::builder()
            .max_capacity(100_000)
            .expire_after(EntryTtl)
            .build();
        let (invalidations, _) = broadcast::channel(1024);
        Cache {
            backend: Backend::Memory(MemoryCache { entries }),
            invalidations,
        }
    }

    /// A Redis cache. The connection manager is created once and connects lazily,
    /// so the process starts (degraded) even while Redis is down, and reconnects by
    /// itself when Redis returns.
    pub fn redis(url: &str, prefix: &str) -> anyhow::Result<Cache> {
        let client =
            redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        let (invalidations, _) = broadcast::channel(1024);
        let cache = Cache {
            backend: Backend::Redis(RedisCache {
                manager,
                prefix: Arc::from(prefix),
            }),
            invalidations,
        };
        cache.spawn_invalidation_listener(client, prefix.to_owned());
        Ok(cache)
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Redis(_) => "redis",
            Backend::Memory(_) => "in-process",
        }
    }

    /// Receives every invalidation seen by this process.
    pub fn subscribe_invalidations(&self) -> broadcast::Receiver<Vec<String>> {
        self.invalidations.subscribe()
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.entries.get(key).await.map(|e| e.value.to_string())),
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                bounded(conn.get(r.key(key))).await
            }
        }
    }

    /// Several keys in one round trip (Redis `MGET`).
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, CacheError> {
        match &self.backend {
            Backend::Memory(m) => {
                let mut values = Vec::with_capacity(keys.len());
                for key in keys {
                    values.push(m.entries.get(key).await.map(|e| e.value.to_string()));
                }
                Ok(values)
            }
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                let full: Vec<String> = keys.iter().map(|k| r.key(k)).collect();
                let mut cmd = redis::cmd("MGET");
                for key in &full {
                    cmd.arg(key);
                }
                bounded(cmd.query_async::<Vec<Option<String>>>(&mut conn)).await
            }
        }
    }

    pub async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memory(m) => {
                m.entries.insert(key.to_owned(), entry(value, ttl)).await;
                Ok(())
            }
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                let secs = ttl.as_secs().max(1);
                bounded(conn.set_ex(r.key(key), value, secs)).await
            }
        }
    }

    /// Sets several keys with one TTL, in one round trip.
    pub async fn set_many(
        &self,
        entries: &[(String, String)],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memory(m) => {
                for (key, value) in entries {
                    m.entries.insert(key.clone(), entry(value, ttl)).await;
                }
                Ok(())
            }
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                let secs = ttl.as_secs().max(1);
                let mut pipe = redis::pipe();
                for (key, value) in entries {
                    pipe.set_ex(r.key(key), value, secs).ignore();
                }
                bounded(pipe.query_async::<()>(&mut conn)).await
            }
        }
    }

    /// Stores `value` only if `key` holds nothing; `true` when it was stored.
    pub async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        match &self.backend {
            Backend::Memory(m) => {
                let inserted = m
                    .entries
                    .entry(key.to_owned())
                    .or_insert(entry(value, ttl))
                    .await;
                Ok(inserted.is_fresh())
            }
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                let options = redis::SetOptions::default()
                    .conditional_set(redis::ExistenceCheck::NX)
                    .with_expiration(redis::SetExpiry::PX(ttl.as_millis().max(1) as u64));
                let reply: Option<String> =
                    bounded(conn.set_options(r.key(key), value, options)).await?;
                Ok(reply.is_some())
            }
        }
    }

    pub async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Memory(m) => {
                for key in keys {
                    m.entries.invalidate(key).await;
                }
                Ok(())
            }
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                let full: Vec<String> = keys.iter().map(|k| r.key(k)).collect();
                bounded(conn.del::<_, ()>(full)).await
            }
        }
    }

    /// Deletes `keys` and tells every process sharing this cache to drop its own copies.
    /// Called after the database commit of the change that made them stale.
    pub async fn invalidate(&self, keys: Vec<String>) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let doomed = keys::with_companions(keys.clone());
        match &self.backend {
            Backend::Memory(_) => {
                self.delete(&doomed).await?;
                // Nobody listening is not an error.
                let _ = self.invalidations.send(keys);
                Ok(())
            }
            Backend::Redis(r) => {
                // The delete and the announcement in one round trip.
                let mut conn = r.manager.clone();
                let payload = serde_json::to_string(&keys).unwrap_or_default();
                let full: Vec<String> = doomed.iter().map(|k| r.key(k)).collect();
                let mut pipe = redis::pipe();
                pipe.del(full)
                    .ignore()
                    .publish(r.key(INVALIDATION_CHANNEL), payload)
                    .ignore();
                bounded(pipe.query_async::<()>(&mut conn)).await
            }
        }
    }

    /// A round trip to the cache, for readiness.
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Redis(r) => {
                let mut conn = r.manager.clone();
                bounded(redis::cmd("PING").query_async::<String>(&mut conn))
                    .await
                    .map(|_| ())
            }
        }
    }

    fn spawn_invalidation_listener(&self, client: redis::Client, prefix: String) {
        let sender = self.invalidations.clone();
        let channel = format!("{prefix}{INVALIDATION_CHANNEL}");
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(200);
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if pubsub.subscribe(&channel).await.is_ok() {
                            delay = Duration::from_millis(200);
                            let mut messages = pubsub.on_message();
                            while let Some(message) = messages.next().await {
                                let keys = message
                                    .get_payload::<String>()
                                    .ok()
                                    .and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok());
                                if let Some(keys) = keys {
                                    let _ = sender.send(keys);
                                }
                            }
                        }
                    }
                    Err(error) => {
                        tracing::debug!(%error, "invalidation listener cannot reach Redis");
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
    }
}

impl RedisCache {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn entry(value: &str, ttl: Duration) -> Entry {
    Entry {
        value: Arc::from(value),
        ttl,
    }
}

async fn bounded<T>(
    op: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, CacheError> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(result) => result.map_err(CacheError::from),
        Err(_) => Err(CacheError::Timeout(OP_TIMEOUT)),
    }
}
