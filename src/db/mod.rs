//! Database access: one pool over PostgreSQL (diesel-async) or embedded SQLite
//! (diesel's `SqliteConnection` behind `SyncConnectionWrapper`), and a borrowed
//! connection enum [`Conn`] so each query is written once and compiled per backend
//! with [`with_conn!`].

pub mod audit;
pub mod auth_failures;
pub mod beneficiaries;
pub mod cache_invalidations;
pub mod cards;
pub mod complaints;
pub mod exports;
pub mod figures;
pub mod ids;
pub mod inspections;
pub mod merchants;
pub mod needs;
pub mod offer_search;
pub mod offers;
pub mod quota;
pub mod redemption_batch;
pub mod regions;
pub mod schema;
pub mod staff;
pub mod stats;
pub mod stored;
pub mod targets;
pub mod terminals;

use std::time::Duration;

use anyhow::Context;
use deadpool::Runtime;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection, TransactionManager};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use ids::*;
pub use stored::{CorruptRow, Stored};

pub type SqliteConn = SyncConnectionWrapper<diesel::SqliteConnection>;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Advisory lock key held while migrating, so processes starting together do not race.
const MIGRATION_LOCK_KEY: i64 = 0x594a_4d49_4752; // "YJMIGR"

/// Applied to every SQLite connection when it is opened: the settings are
/// per-connection, so each pooled connection carries them for its whole life.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// Which database the process talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Postgres(String),
    Sqlite(std::path::PathBuf),
}

impl DatabaseTarget {
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// A pool of connections to one backend. Cheap to clone.
#[derive(Clone)]
pub enum Db {
    Pg(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// A connection checked out of [`Db`]; returns to the pool when dropped.
// One per request, briefly on the stack: boxing would cost an allocation per checkout.
#[allow(clippy::large_enum_variant)]
pub enum PooledConn {
    Pg(Object<AsyncPgConnection>),
    Sqlite(Object<SqliteConn>),
}

/// A borrowed connection of either backend; what query functions take.
pub enum Conn<'a> {
    Pg(&'a mut AsyncPgConnection),
    Sqlite(&'a mut SqliteConn),
}

/// Runs `$body` with `$c` bound to the concrete connection of `$conn` (a `&mut Conn`),
/// so the same query text is compiled once for each backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Pg($c) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut **$c;
                $body
            }
            $crate::db::Conn::Sqlite($c) => {
                let $c: &mut $crate::db::SqliteConn = &mut **$c;
                $body
            }
        }
    };
}

/// `(rows, total)` of a filtered query (`$query`, evaluated twice: the count, then the
/// page), newest first by `$table`'s `$time` column (`created_at` unless given) then id,
/// rows selected as `$row`. Inside `with_conn!`, with `c` the connection.
#[macro_export]
macro_rules! newest_first {
    ($c:expr, $query:expr, $table:ident, $row:ty, $offset:expr, $limit:expr) => {
        $crate::newest_first!($c, $query, $table, created_at, $row, $offset, $limit)
    };
    ($c:expr, $query:expr, $table:ident, $time:ident, $row:ty, $offset:expr, $limit:expr) => {{
        let total: i64 = $query.count().get_result($c).await?;
        let rows = $query
            .order(($table::$time.desc(), $table::id.desc()))
            .offset($offset)
            .limit($limit)
            .select(<$row>::as_select())
            .load($c)
            .await?;
        Ok((rows, total))
    }};
}

/// Errors of checking out a connection; always a service outage for callers.
#[derive(Debug, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct PoolUnavailable(pub String);

impl Db {
    pub async fn connect(target: &DatabaseTarget, max_size: usize) -> anyhow::Result<Db> {
        match target {
            DatabaseTarget::Postgres(url) => {
                // No ping per checkout (measured: +40% throughput); a broken connection
                // is still detected by the manager and replaced.
                let mut config = ManagerConfig::default();
                config.recycling_method = RecyclingMethod::Fast;
                let manager =
                    AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
                let pool = Pool::builder(manager)
                    .max_size(max_size)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(Duration::from_secs(5)))
                    .create_timeout(Some(Duration::from_secs(3)))
                    .recycle_timeout(Some(Duration::from_secs(3)))
                    .build()
                    .context("building the PostgreSQL pool")?;
                Ok(Db::Pg(pool))
            }
            DatabaseTarget::Sqlite(path) => {
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    Box::pin(async move {
                        let mut conn = open_sqlite_pooled(url).await?;
                        conn.batch_execute(SQLITE_PRAGMAS)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    })
                });
                let url = path.to_string_lossy().into_owned();
                let manager =
                    AsyncDieselConnectionManager::<SqliteConn>::new_with_config(url, config);
                let pool = Pool::builder(manager)
                    .max_size(max_size)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(Duration::from_secs(10)))
                    .create_timeout(Some(Duration::from_secs(5)))
                    .build()
                    .context("building the SQLite pool")?;
                Ok(Db::Sqlite(pool))
            }
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Pg(_) => "postgresql",
            Db::Sqlite(_) => "sqlite",
        }
    }

    pub async fn get(&self) -> Result<PooledConn, PoolUnavailable> {
        match self {
            Db::Pg(pool) => pool
                .get()
                .await
                .map(PooledConn::Pg)
                .map_err(|e| PoolUnavailable(e.to_string())),
            Db::Sqlite(pool) => pool
                .get()
                .await
                .map(PooledConn::Sqlite)
                .map_err(|e| PoolUnavailable(e.to_string())),
        }
    }

    /// `(size, available)` of the pool, for metrics.
    pub fn pool_status(&self) -> (usize, usize) {
        let status = match self {
            Db::Pg(pool) => pool.status(),
            Db::Sqlite(pool) => pool.status(),
        };
        (status.size, status.available)
    }

    /// A round trip to the database, for readiness.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut pooled = self.get().await?;
        let mut conn = pooled.conn();
        with_conn!(&mut conn, |c| c.batch_execute("SELECT 1").await)?;
        Ok(())
    }
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Pg(c) => Conn::Pg(c),
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
        }
    }
}

impl Conn<'_> {
    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back on `Err`.
    /// Should the future be dropped half-way, the transaction manager's state marks the
    /// connection and the pool discards it rather than reuse an open transaction.
    ///
    /// On SQLite the transaction takes the write lock first, so concurrent writers wait
    /// under `busy_timeout` instead of failing to upgrade a stale read snapshot.
    pub async fn transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        F: for<'r, 'c> AsyncFnOnce(&'r mut Conn<'c>) -> Result<R, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            Conn::Pg(c) => {
                begin(&mut **c).await?;
                let result = f(&mut Conn::Pg(c)).await;
                finish(&mut **c, result).await
            }
            Conn::Sqlite(c) => {
                begin(&mut **c).await?;
                let result = match c.batch_execute("DELETE FROM write_lock WHERE 0").await {
                    Ok(()) => f(&mut Conn::Sqlite(c)).await,
                    Err(e) => Err(e.into()),
                };
                finish(&mut **c, result).await
            }
        }
    }
}

async fn begin<C: AsyncConnection>(conn: &mut C) -> diesel::QueryResult<()> {
    C::TransactionManager::begin_transaction(conn).await
}

async fn finish<C: AsyncConnection, R, E: From<diesel::result::Error>>(
    conn: &mut C,
    result: Result<R, E>,
) -> Result<R, E> {
    match result {
        Ok(value) => match C::TransactionManager::commit_transaction(conn).await {
            Ok(()) => Ok(value),
            Err(error) => {
                let _ = C::TransactionManager::rollback_transaction(conn).await;
                Err(error.into())
            }
        },
        Err(error) => {
            C::TransactionManager::rollback_transaction(conn).await?;
            Err(error)
        }
    }
}

/// Applies pending migrations; on PostgreSQL under an advisory lock.
pub async fn run_migrations(target: &DatabaseTarget) -> anyhow::Result<Vec<String>> {
    let target = target.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        match &target {
            DatabaseTarget::Postgres(url) => {
                let mut conn =
                    <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(url)
                        .context("connecting to PostgreSQL to migrate")?;
                SimpleConnection::batch_execute(
                    &mut conn,
                    &format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"),
                )
                .context("taking the migration lock")?;
                let applied = conn
                    .run_pending_migrations(PG_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
                    .map_err(|e| anyhow::anyhow!("applying migrations: {e}"));
                let unlock = SimpleConnection::batch_execute(
                    &mut conn,
                    &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"),
                );
                let applied = applied?;
                unlock.context("releasing the migration lock")?;
                Ok(applied)
            }
            DatabaseTarget::Sqlite(path) => {
                let mut conn = open_sqlite_sync(path)?;
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.to_string()).collect())
                    .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))
            }
        }
    })
    .await
    .context("migration task panicked")?
}

/// Reverts every applied migration (used by the migration round-trip test and
/// `yongjun migrate --revert-all`).
pub async fn revert_all_migrations(target: &DatabaseTarget) -> anyhow::Result<usize> {
    let target = target.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let reverted = match &target {
            DatabaseTarget::Postgres(url) => {
                let mut conn =
                    <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(url)
                        .context("connecting to PostgreSQL")?;
                conn.revert_all_migrations(PG_MIGRATIONS).map(|v| v.len())
            }
            DatabaseTarget::Sqlite(path) => {
                let mut conn = open_sqlite_sync(path)?;
                conn.revert_all_migrations(SQLITE_MIGRATIONS)
                    .map(|v| v.len())
            }
        };
        reverted.map_err(|e| anyhow::anyhow!("reverting migrations: {e}"))
    })
    .await
    .context("migration task panicked")?
}

/// A pooled SQLite connection with the SQL functions the queries need
/// ([`offer_search::register_sqlite_functions`]).
async fn open_sqlite_pooled(url: String) -> diesel::ConnectionResult<SqliteConn> {
    let conn = tokio::task::spawn_blocking(move || {
        let mut conn = diesel::SqliteConnection::establish(&url)?;
        offer_search::register_sqlite_functions(&mut conn)
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok::<_, diesel::ConnectionError>(conn)
    })
    .await
    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))??;
    Ok(SqliteConn::new(conn))
}

fn open_sqlite_sync(path: &std::path::Path) -> anyhow::Result<diesel::SqliteConnection> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
        }
    }
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    conn.batch_execute(SQLITE_PRAGMAS)
        .context("setting SQLite pragmas")?;
    Ok(conn)
}

/// The current time in UTC, truncated to microseconds so that what is written and what
/// is read back compare equal on both backends.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// The advisory-lock key of the periodic sweep (`app::sweep`).
pub const JOB_SWEEP: i64 = 0x594a_5357; // "YJSW"

/// Takes the transaction-scoped lock of a background job on PostgreSQL: `false` when
/// another process holds it. SQLite has one writer at a time anyway: always `true`.
pub async fn try_job_lock(conn: &mut Conn<'_>, key: i64) -> diesel::QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    match conn {
        Conn::Pg(c) => {
            use diesel_async::RunQueryDsl;
            let row: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<diesel::sql_types::BigInt, _>(key)
                .get_result(&mut **c)
                .await?;
            Ok(row.locked)
        }
        Conn::Sqlite(_) => Ok(true),
    }
}
