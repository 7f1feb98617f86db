//! The Redis backend's calls: each bounded by the timeout, each refused at once (no round
//! trip) while the cache is not trusted. How trust is lost and regained is `link`; the
//! listener of other processes' invalidations is `listener`.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use tokio::sync::broadcast;

use super::link::{spawn_supervisor, CacheError, Shared};
use super::listener::spawn_listener;
use super::CacheHealth;
use crate::db::Db;

#[derive(Clone)]
pub(super) struct RedisCache {
    shared: Arc<Shared>,
}

impl RedisCache {
    pub(super) fn connect(
        url: &str,
        prefix: &str,
        invalidations: broadcast::Sender<Vec<String>>,
    ) -> anyhow::Result<RedisCache> {
        let shared = Shared::new(url, prefix, invalidations)?;
        spawn_listener(&shared);
        spawn_supervisor(&shared);
        Ok(RedisCache { shared })
    }

    pub(super) fn keep_undelivered_in(&self, db: Db) {
        self.shared.attach_outbox(db);
    }

    pub(super) async fn settle(&self, within: Duration) -> bool {
        self.shared.settle(within).await
    }

    pub(super) fn is_trusted(&self) -> bool {
        self.shared.is_trusted()
    }

    pub(super) fn health(&self) -> CacheHealth {
        self.shared.health()
    }

    pub(super) async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        let shared = &self.shared;
        let mut conn = shared.connection()?;
        shared.call(conn.get(shared.key(key))).await
    }

    pub(super) async fn get_many(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<String>>, CacheError> {
        let shared = &self.shared;
        let mut conn = shared.connection()?;
        let mut cmd = redis::cmd("MGET");
        for key in keys {
            cmd.arg(shared.key(key));
        }
        shared
            .call(cmd.query_async::<Vec<Option<String>>>(&mut conn))
            .await
    }

    pub(super) async fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let shared = &self.shared;
        let mut conn = shared.connection()?;
        let secs = ttl.as_secs().max(1);
        shared.call(conn.set_ex(shared.key(key), value, secs)).await
    }

    pub(super) async fn set_many(
        &self,
        entries: &[(String, String)],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let shared = &self.shared;
        let mut conn = shared.connection()?;
        let secs = ttl.as_secs().max(1);
        let mut pipe = redis::pipe();
        for (key, value) in entries {
            pipe.set_ex(shared.key(key), value, secs).ignore();
        }
        shared.call(pipe.query_async::<()>(&mut conn)).await
    }

    pub(super) async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let shared = &self.shared;
        let mut conn = shared.connection()?;
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ttl.as_millis().max(1) as u64));
        let reply: Option<String> = shared
            .call(conn.set_options(shared.key(key), value, options))
            .await?;
        Ok(reply.is_some())
    }

    pub(super) async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        let shared = &self.shared;
        let mut conn = shared.connection()?;
        let full: Vec<String> = keys.iter().map(|k| shared.key(k)).collect();
        shared.call(conn.del::<_, ()>(full)).await
    }

    pub(super) async fn invalidate(&self, keys: Vec<String>) -> Result<(), CacheError> {
        let shared = &self.shared;
        // The delete and the announcement in one round trip.
        let delivered = match shared.connection() {
            Ok(mut conn) => {
                shared
                    .call(shared.invalidation(&keys).query_async::<()>(&mut conn))
                    .await
            }
            Err(error) => Err(error),
        };
        if let Err(error) = delivered {
            shared.undelivered(keys).await;
            return Err(error);
        }
        Ok(())
    }

    pub(super) async fn ping(&self) -> Result<(), CacheError> {
        let shared = &self.shared;
        let mut conn = shared
            .connection()
            .map_err(|_| CacheError::Untrusted(shared.why_not_trusted()))?;
        shared
            .call(redis::cmd("PING").query_async::<String>(&mut conn))
            .await
            .map(|_| ())
    }
}
