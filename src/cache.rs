//! The cache: every Redis key and command of the service lives here.
//!
//! One interface over Redis (shared by every API process) and an in-process cache
//! (the zero-setup default). Callers treat a [`CacheError`] as "no cache": they read the
//! database instead. Every Redis call is bounded by a short timeout, so an unreachable
//! Redis costs milliseconds, never a hang.
//!
//! Redis is used only while it is trusted ([`Cache::is_trusted`]); a failed call, an
//! invalidation that could not be delivered or a lost subscription stops its use at once,
//! until a background task has reconnected and delivered every pending invalidation. See
//! `link` for how, and `docs/operations.md` ("Cache faults") for what it costs.

pub mod keys;
mod link;
mod listener;
mod remote;

use std::sync::Arc;
use std::time::Duration;

use moka::Expiry;
use tokio::sync::broadcast;

use crate::db::Db;
pub use link::CacheError;
use remote::RedisCache;

#[derive(Clone)]
pub struct Cache {
    backend: Backend,
    /// Keys invalidated by this or (through Redis) any other process; local
    /// in-memory layers subscribe to drop their copies.
    invalidations: broadcast::Sender<Vec<String>>,
}

/// What `/metrics` shows of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHealth {
    /// Calls use the cache (always, in process).
    pub trusted: bool,
    /// Keys whose invalidation waits to be delivered.
    pub pending_invalidations: usize,
    /// Invalidations that could not be delivered at once, since start.
    pub failed_invalidations: u64,
    /// Times the Redis connection was thrown away and built again, since start.
    pub reconnects: u64,
}

#[derive(Clone)]
enum Backend {
    Redis(RedisCache),
    Memory(MemoryCache),
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

    /// A Redis cache. The connection is created lazily, so the process starts (degraded)
    /// even while Redis is down, and is rebuilt in the background until Redis answers.
    /// Not trusted until a first probe answers and the invalidation listener has
    /// subscribed ([`Cache::settle`] waits for that).
    pub fn redis(url: &str, prefix: &str) -> anyhow::Result<Cache> {
        let (invalidations, _) = broadcast::channel(1024);
        let redis = RedisCache::connect(url, prefix, invalidations.clone())?;
        Ok(Cache {
            backend: Backend::Redis(redis),
            invalidations,
        })
    }

    /// Keeps invalidations that cannot be delivered in `db` too (`cache_invalidations`),
    /// where every process sharing the database finds and delivers them: another process
    /// that still reaches Redis, or this one after a restart. Every process with an
    /// outbox also reads it about once a second.
    pub fn with_outbox(self, db: Db) -> Cache {
        if let Backend::Redis(redis) = &self.backend {
            redis.keep_undelivered_in(db);
        }
        self
    }

    /// Waits (at most `within`) until the cache is trusted; `false` when it is not, or as
    /// soon as a probe of Redis has failed.
    pub async fn settle(&self, within: Duration) -> bool {
        match &self.backend {
            Backend::Memory(_) => true,
            Backend::Redis(r) => r.settle(within).await,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Redis(_) => "redis",
            Backend::Memory(_) => "in-process",
        }
    }

    /// Whether calls use the cache now. `false` (every call answers "no cache" at once)
    /// while Redis does not answer, while an invalidation waits to be delivered and while
    /// this process is not subscribed to other processes' invalidations. In-memory copies
    /// kept beside the cache should be used only while it is trusted.
    pub fn is_trusted(&self) -> bool {
        match &self.backend {
            Backend::Memory(_) => true,
            Backend::Redis(r) => r.is_trusted(),
        }
    }

    pub fn health(&self) -> CacheHealth {
        match &self.backend {
            Backend::Memory(_) => CacheHealth {
                trusted: true,
                pending_invalidations: 0,
                failed_invalidations: 0,
                reconnects: 0,
            },
            Backend::Redis(r) => r.health(),
        }
    }

    /// Receives every invalidation seen by this process: the keys, or
    /// `[`[`keys::EVERYTHING`]`]` when every copy must go (invalidations may have been
    /// missed).
    pub fn subscribe_invalidations(&self) -> broadcast::Receiver<Vec<String>> {
        self.invalidations.subscribe()
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        match &self.backend {
            Backend::Memory(m) => Ok(m.entries.get(key).await.map(|e| e.value.to_string())),
            Backend::Redis(r) => r.get(key).await,
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
            Backend::Redis(r) => r.get_many(keys).await,
        }
    }

    pub async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memory(m) => {
                m.entries.insert(key.to_owned(), entry(value, ttl)).await;
                Ok(())
            }
            Backend::Redis(r) => r.set(key, value, ttl).await,
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
            Backend::Redis(r) => r.set_many(entries, ttl).await,
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
            Backend::Redis(r) => r.set_if_absent(key, value, ttl).await,
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
            Backend::Redis(r) => r.delete(keys).await,
        }
    }

    /// Deletes `keys` and tells every process sharing this cache to drop its own copies.
    /// Called after the database commit of the change that made them stale.
    ///
    /// On Redis, when that cannot be done now, this process's own layers drop their
    /// copies at once, the keys are kept pending (and in the outbox, see
    /// [`Cache::with_outbox`]), and the cache is not trusted again until they have been
    /// delivered: the error says only that it was late, not that it was lost.
    pub async fn invalidate(&self, keys: Vec<String>) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Memory(_) => {
                self.delete(&keys::with_companions(keys.clone())).await?;
                // Nobody listening is not an error.
                let _ = self.invalidations.send(keys);
                Ok(())
            }
            Backend::Redis(r) => r.invalidate(keys).await,
        }
    }

    /// A round trip to the cache, for readiness: an error while it is not trusted.
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Redis(r) => r.ping().await,
        }
    }
}

fn entry(value: &str, ttl: Duration) -> Entry {
    Entry {
        value: Arc::from(value),
        ttl,
    }
}
