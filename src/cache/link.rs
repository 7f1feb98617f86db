//! The Redis backend, and how it survives faults of the network between the process and
//! Redis: connections reset, refused, or kept open while every byte is swallowed.
//!
//! - **A circuit.** The cache is used only while it is *trusted*. The first failed call
//!   (an error or the 300 ms timeout) stops its use: from then on every call answers "no
//!   cache" at once, without a round trip, and callers read the database.
//! - **A supervisor** (a background task) probes Redis with `PING` while it is not
//!   trusted, from 100 ms apart up to a second. A probe that fails throws the connection
//!   away and builds a new one: a connection whose bytes are swallowed never errors by
//!   itself, so waiting for it to recover would wait forever.
//! - **No invalidation is lost.** One that cannot be delivered is broadcast in this
//!   process at once (its in-memory layers drop their copies), kept pending, and written
//!   to the database (`cache_invalidations`, when an outbox is attached). The cache is
//!   trusted again only once, since the last failure, Redis has answered a probe, the
//!   supervisor has delivered every pending invalidation (`DEL` and `PUBLISH`, as at
//!   first) and those of the outbox, and the subscription has answered. Every process
//!   reads the outbox about once a second, so one that still reaches Redis delivers what
//!   a cut-off process could not, and one that recovers delivers them before it trusts
//!   the cache.
//! - **The listener knows when it is deaf.** It pings its subscription every second; a
//!   subscription that closes or does not answer is rebuilt. While it is not subscribed
//!   the cache is not trusted, and when it subscribes again every in-process copy is
//!   dropped ([`EVERYTHING`]): what was published meanwhile was not heard.
//!
//! Why not a generation number in every key, bumped to kill them all? It would cost a
//! read of the generation on every call (or trust a local copy of it, which is the same
//! problem again) and would empty the whole cache after every blip; the keys to delete
//! are known, so they are deleted.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisResult;
use tokio::sync::{broadcast, Notify};

use super::keys::{with_companions, EVERYTHING, INVALIDATION_CHANNEL};
use super::CacheHealth;
use crate::db::{self, Db};

/// Longest a single cache operation may take before callers fall back.
pub(super) const OP_TIMEOUT: Duration = Duration::from_millis(300);
/// How often the supervisor probes an untrusted Redis: at first, and at most.
pub(super) const PROBE_FIRST: Duration = Duration::from_millis(100);
const PROBE_MAX: Duration = Duration::from_secs(1);
/// How often a trusted process reads the outbox for others' undelivered invalidations.
const OUTBOX_EVERY: Duration = Duration::from_secs(1);
/// Longest a database call of the outbox may take.
const OUTBOX_TIMEOUT: Duration = Duration::from_secs(1);
/// Rows of the outbox delivered in one go.
const OUTBOX_BATCH: i64 = 200;
/// Keys deleted in one round trip when delivering.
const DELIVERY_CHUNK: usize = 500;

const NOT_TRUSTED: &str = "Redis is not trusted until it answers and every pending \
     invalidation is delivered";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache unreachable: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cache operation timed out after {0:?}")]
    Timeout(Duration),
    /// The circuit is open: no round trip was made.
    #[error("cache not in use: {0}")]
    Untrusted(&'static str),
}

impl CacheError {
    /// Whether the failure says something about the connection (and so stops the use of
    /// the cache), rather than about one value.
    fn opens_circuit(&self) -> bool {
        match self {
            CacheError::Redis(error) => !matches!(
                error.kind(),
                redis::ErrorKind::UnexpectedReturnType | redis::ErrorKind::Parse
            ),
            CacheError::Timeout(_) => true,
            CacheError::Untrusted(_) => false,
        }
    }
}

/// What the calls, the supervisor and the listener share.
pub(super) struct Shared {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Replaced when a probe fails.
    manager: RwLock<ConnectionManager>,
    prefix: Arc<str>,
    /// Read by every call; set under `state`.
    trusted: AtomicBool,
    state: Mutex<Trust>,
    /// Wakes the supervisor.
    wake: Arc<Notify>,
    /// Asks the listener to prove its subscription alive now.
    ping_now: Arc<Notify>,
    outbox: OnceLock<Db>,
    invalidations: broadcast::Sender<Vec<String>>,
    failed_invalidations: AtomicU64,
    reconnects: AtomicU64,
    failed_probes: AtomicU64,
}

#[derive(Default)]
struct Trust {
    /// Bumped by every failure: the supervisor trusts the cache again only after a round
    /// in which nothing failed.
    epoch: u64,
    /// A probe has been made.
    probed: bool,
    /// The last probe answered, and no call failed since.
    reachable: bool,
    /// The `epoch` at which the subscription last proved alive (subscribed, or answered
    /// a `PING`); `None` while there is none. Trusting needs it proven since the last
    /// failure: a listener on a connection that was swallowed would otherwise seem fine.
    heard: Option<u64>,
    /// Keys whose invalidation is not delivered yet (as given to `invalidate`), each
    /// with the number of its latest failure: a key fails again while it is being
    /// delivered stays. One entry per key, however long the outage.
    pending: HashMap<String, u64>,
    /// Failed invalidations counted so far (numbers `pending`).
    failures: u64,
}

enum Round {
    /// Trusted (still or again).
    Trusted,
    /// Redis does not answer.
    Failed,
    /// Redis answers, something else is missing (the subscription).
    Waiting,
}

impl Shared {
    /// Connects lazily: nothing is sent before the supervisor's first probe.
    pub(super) fn new(
        url: &str,
        prefix: &str,
        invalidations: broadcast::Sender<Vec<String>>,
    ) -> anyhow::Result<Arc<Shared>> {
        let client =
            redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?;
        Ok(Arc::new(Shared {
            client,
            config,
            manager: RwLock::new(manager),
            prefix: Arc::from(prefix),
            trusted: AtomicBool::new(false),
            state: Mutex::new(Trust::default()),
            wake: Arc::new(Notify::new()),
            ping_now: Arc::new(Notify::new()),
            outbox: OnceLock::new(),
            invalidations,
            failed_invalidations: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            failed_probes: AtomicU64::new(0),
        }))
    }

    pub(super) fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub(super) fn client(&self) -> &redis::Client {
        &self.client
    }

    fn state(&self) -> MutexGuard<'_, Trust> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn is_trusted(&self) -> bool {
        self.trusted.load(Ordering::Acquire)
    }

    pub(super) fn health(&self) -> CacheHealth {
        CacheHealth {
            trusted: self.is_trusted(),
            pending_invalidations: self.state().pending.len(),
            failed_invalidations: self.failed_invalidations.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }

    /// Keeps undelivered invalidations in `db` from now on. The outbox is read before
    /// the cache is trusted (again).
    pub(super) fn attach_outbox(&self, db: Db) {
        if self.outbox.set(db).is_ok() {
            self.distrust(|_| {}, &"the outbox is read first");
        }
    }

    /// Waits until trusted (`true`), a probe failed or `within` passed.
    pub(super) async fn settle(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let failed = self.failed_probes.load(Ordering::Acquire);
        loop {
            if self.is_trusted() {
                return true;
            }
            if self.failed_probes.load(Ordering::Acquire) > failed || Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Tells this process's in-memory layers.
    pub(super) fn broadcast(&self, keys: Vec<String>) {
        // Nobody listening is not an error.
        let _ = self.invalidations.send(keys);
    }

    /// The listener subscribed, or its subscription answered a `PING`.
    pub(super) fn heard(&self) {
        let proven = {
            let mut trust = self.state();
            let now = Some(trust.epoch);
            std::mem::replace(&mut trust.heard, now) != now
        };
        if proven && !self.is_trusted() {
            self.wake.notify_one();
        }
    }

    /// The listener lost its subscription: nothing published from now on is heard.
    pub(super) fn deaf(&self, why: &str) {
        self.distrust(|trust| trust.heard = None, &why);
        self.broadcast(vec![EVERYTHING.to_owned()]);
    }

    /// What the listener waits on to ping at once.
    pub(super) fn ping_requests(&self) -> Arc<Notify> {
        self.ping_now.clone()
    }

    /// The connection, if the cache is trusted.
    pub(super) fn connection(&self) -> Result<ConnectionManager, CacheError> {
        if !self.trusted.load(Ordering::Acquire) {
            return Err(CacheError::Untrusted(NOT_TRUSTED));
        }
        Ok(self.current())
    }

    fn current(&self) -> ConnectionManager {
        self.manager
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `op` within the timeout; a failure of the connection stops the use of the
    /// cache.
    pub(super) async fn call<T>(
        &self,
        op: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, CacheError> {
        let result = bounded(op).await;
        if let Err(error) = &result {
            if error.opens_circuit() {
                self.distrust(|trust| trust.reachable = false, error);
            }
        }
        result
    }

    /// Applies `change` and stops the use of the cache until the supervisor trusts it
    /// again.
    fn distrust(&self, change: impl FnOnce(&mut Trust), why: &dyn std::fmt::Display) {
        {
            let mut trust = self.state();
            trust.epoch += 1;
            change(&mut trust);
            if self.trusted.swap(false, Ordering::AcqRel) {
                tracing::warn!(
                    reason = %why,
                    "the cache is not used until Redis answers again and every invalidation is delivered; \
                     reading the database meanwhile"
                );
            }
        }
        self.wake.notify_one();
    }

    /// An invalidation could not be delivered now: this process forgets its copies at
    /// once, and the keys wait (in memory and in the outbox) for the supervisor.
    pub(super) async fn undelivered(&self, keys: Vec<String>) {
        self.broadcast(keys.clone());
        self.failed_invalidations.fetch_add(1, Ordering::Relaxed);
        let count = keys.len();
        self.distrust(
            |trust| {
                trust.failures += 1;
                let failure = trust.failures;
                trust
                    .pending
                    .extend(keys.iter().map(|key| (key.clone(), failure)));
            },
            &format_args!("an invalidation of {count} key(s) was not delivered"),
        );
        if let Some(db) = self.outbox.get() {
            match tokio::time::timeout(OUTBOX_TIMEOUT, outbox::record(db, &keys)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(
                    error = %format!("{error:#}"),
                    "keeping an undelivered invalidation in the database failed; this process delivers it"
                ),
                Err(_) => tracing::warn!(
                    "keeping an undelivered invalidation in the database timed out; this process delivers it"
                ),
            }
        }
    }

    pub(super) fn why_not_trusted(&self) -> &'static str {
        let trust = self.state();
        if !trust.probed {
            "not checked yet"
        } else if !trust.reachable {
            "Redis does not answer; reconnecting in the background"
        } else if !trust.pending.is_empty() {
            "invalidations wait to be delivered"
        } else if trust.heard.is_none() {
            "not subscribed to invalidations"
        } else if trust.heard != Some(trust.epoch) {
            "waiting for the subscription to answer"
        } else {
            "recovering"
        }
    }

    /// `DEL` of `keys` with their companions, and their announcement.
    pub(super) fn invalidation(&self, keys: &[String]) -> redis::Pipeline {
        let payload = serde_json::to_string(keys).unwrap_or_default();
        let doomed: Vec<String> = with_companions(keys.to_vec())
            .iter()
            .map(|k| self.key(k))
            .collect();
        let mut pipe = redis::pipe();
        pipe.del(doomed)
            .ignore()
            .publish(self.key(INVALIDATION_CHANNEL), payload)
            .ignore();
        pipe
    }

    async fn deliver(
        &self,
        conn: &mut ConnectionManager,
        keys: &[String],
    ) -> Result<(), CacheError> {
        for chunk in keys.chunks(DELIVERY_CHUNK) {
            bounded(self.invalidation(chunk).query_async::<()>(conn)).await?;
        }
        Ok(())
    }

    fn reconnect(&self) {
        match ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone()) {
            Ok(manager) => {
                *self.manager.write().unwrap_or_else(PoisonError::into_inner) = manager;
                self.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => tracing::warn!(%error, "building a new Redis connection failed"),
        }
    }

    /// One round of the supervisor.
    async fn round(&self) -> Round {
        let (epoch, trusted) = (self.state().epoch, self.trusted.load(Ordering::Acquire));
        if trusted {
            return match self.deliver_outbox().await {
                Ok(()) => Round::Trusted,
                Err(error) => {
                    self.distrust(|trust| trust.reachable = false, &error);
                    Round::Failed
                }
            };
        }
        let mut conn = self.current();
        let probe = bounded(redis::cmd("PING").query_async::<String>(&mut conn)).await;
        {
            let mut trust = self.state();
            trust.probed = true;
            trust.reachable = probe.is_ok();
        }
        if let Err(error) = probe {
            self.failed_probes.fetch_add(1, Ordering::AcqRel);
            tracing::debug!(%error, "the cache probe failed; reconnecting");
            self.reconnect();
            return Round::Failed;
        }
        if let Err(error) = self.deliver_pending(&mut conn).await {
            tracing::debug!(%error, "delivering pending invalidations failed; reconnecting");
            self.state().reachable = false;
            self.reconnect();
            return Round::Failed;
        }
        if self.state().heard.is_none() {
            // The outbox is read once the listener is back.
            return Round::Waiting;
        }
        if let Err(error) = self.deliver_outbox().await {
            tracing::debug!(%error, "delivering the outbox failed; reconnecting");
            self.state().reachable = false;
            self.reconnect();
            return Round::Failed;
        }
        let trust = self.state();
        let settled = trust.epoch == epoch && trust.reachable && trust.pending.is_empty();
        if settled && trust.heard == Some(epoch) {
            self.trusted.store(true, Ordering::Release);
            tracing::info!("the cache answers and every invalidation is delivered: using it again");
            Round::Trusted
        } else {
            if settled && trust.heard.is_some() {
                // Subscribed before the failure: prove it still is.
                self.ping_now.notify_one();
            }
            Round::Waiting
        }
    }

    /// Delivers what is pending now; a key that fails again meanwhile stays pending.
    async fn deliver_pending(&self, conn: &mut ConnectionManager) -> Result<(), CacheError> {
        let (mut keys, upto) = {
            let trust = self.state();
            (
                trust.pending.keys().cloned().collect::<Vec<_>>(),
                trust.failures,
            )
        };
        if keys.is_empty() {
            return Ok(());
        }
        keys.sort();
        self.deliver(conn, &keys).await?;
        self.state().pending.retain(|_, failure| *failure > upto);
        tracing::info!(
            keys = keys.len(),
            "delivered the pending cache invalidations"
        );
        Ok(())
    }

    /// Delivers the invalidations any process (this one too) could not, from the
    /// database. A database that does not answer is no reason to distrust the cache.
    async fn deliver_outbox(&self) -> Result<(), CacheError> {
        let Some(db) = self.outbox.get() else {
            return Ok(());
        };
        loop {
            let rows = match tokio::time::timeout(OUTBOX_TIMEOUT, outbox::oldest(db, OUTBOX_BATCH))
                .await
            {
                Ok(Ok(rows)) => rows,
                Ok(Err(error)) => {
                    tracing::debug!(error = %format!("{error:#}"), "cannot read the undelivered invalidations");
                    return Ok(());
                }
                Err(_) => return Ok(()),
            };
            if rows.is_empty() {
                return Ok(());
            }
            let keys: BTreeSet<String> = rows
                .iter()
                .flat_map(|(_, keys)| keys.iter().cloned())
                .collect();
            let keys: Vec<String> = keys.into_iter().collect();
            let mut conn = self.current();
            self.deliver(&mut conn, &keys).await?;
            let ids: Vec<_> = rows.iter().map(|(id, _)| *id).collect();
            match tokio::time::timeout(OUTBOX_TIMEOUT, outbox::forget(db, &ids)).await {
                Ok(Ok(())) => {}
                _ => return Ok(()),
            }
            tracing::info!(
                invalidations = rows.len(),
                keys = keys.len(),
                "delivered invalidations kept in the database"
            );
            if (rows.len() as i64) < OUTBOX_BATCH {
                return Ok(());
            }
        }
    }
}

/// Probes and delivers while the cache is not trusted, and reads the outbox while it
/// is. Ends with the cache.
pub(super) fn spawn_supervisor(shared: &Arc<Shared>) {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let wake = shared.wake.clone();
    tokio::spawn(async move {
        let mut backoff = PROBE_FIRST;
        let mut wait = Duration::ZERO;
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            let Some(shared) = weak.upgrade() else {
                return;
            };
            backoff = match shared.round().await {
                Round::Trusted | Round::Waiting => PROBE_FIRST,
                Round::Failed => (backoff * 2).min(PROBE_MAX),
            };
            wait = if shared.is_trusted() {
                OUTBOX_EVERY
            } else {
                backoff
            };
        }
    });
}

pub(super) async fn bounded<T>(
    op: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, CacheError> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(result) => result.map_err(CacheError::from),
        Err(_) => Err(CacheError::Timeout(OP_TIMEOUT)),
    }
}

/// The outbox: invalidations not delivered, in the database every process shares.
mod outbox {
    use super::*;
    use db::cache_invalidations::{self as table, UndeliveredId};

    pub(super) async fn record(db: &Db, keys: &[String]) -> anyhow::Result<()> {
        let mut pooled = db.get().await?;
        table::record(&mut pooled.conn(), keys).await?;
        Ok(())
    }

    pub(super) async fn oldest(
        db: &Db,
        limit: i64,
    ) -> anyhow::Result<Vec<(UndeliveredId, Vec<String>)>> {
        let mut pooled = db.get().await?;
        Ok(table::oldest(&mut pooled.conn(), limit).await?)
    }

    pub(super) async fn forget(db: &Db, ids: &[UndeliveredId]) -> anyhow::Result<()> {
        let mut pooled = db.get().await?;
        table::forget(&mut pooled.conn(), ids).await?;
        Ok(())
    }
}
