//! Each down.sql undoes its up.sql: apply, revert all, apply again.

use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::RunQueryDsl;
use yongjun::db::{self, DatabaseTarget, Db};

use crate::helpers::*;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Tables other than diesel's own bookkeeping.
async fn user_tables(db: &Db) -> i64 {
    let sql = match db.backend_name() {
        "postgresql" => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'"
        }
        _ => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' \
             AND name NOT IN ('__diesel_schema_migrations', 'sqlite_sequence')"
        }
    };
    let mut pooled = db.get().await.unwrap();
    let mut conn = pooled.conn();
    yongjun::with_conn!(&mut conn, |c| diesel::sql_query(sql)
        .get_result::<Count>(c)
        .await
        .unwrap()
        .n)
}

async fn round_trip(target: DatabaseTarget) {
    let applied = db::run_migrations(&target).await.expect("apply");
    assert!(applied.len() >= 2, "{applied:?}");
    let pool = Db::connect(&target, 2).await.unwrap();
    let tables = user_tables(&pool).await;
    assert!(tables >= 4, "{tables} tables after migrating");

    let reverted = db::revert_all_migrations(&target).await.expect("revert");
    assert_eq!(reverted, applied.len());
    assert_eq!(user_tables(&pool).await, 0, "down.sql left tables behind");

    let reapplied = db::run_migrations(&target).await.expect("re-apply");
    assert_eq!(reapplied, applied);
    assert_eq!(user_tables(&pool).await, tables);
    // Applying again is a no-op.
    assert!(db::run_migrations(&target).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_round_trip() {
    // A database of its own, not cloned from the template: migrations start from zero.
    let name = create_empty_database().await;
    round_trip(DatabaseTarget::Postgres(format!(
        "{}/{name}",
        pg_base_url()
    )))
    .await;
    drop_database(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(DatabaseTarget::Sqlite(dir.path().join("round-trip.db"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_migrating_at_once_do_not_race() {
    let name = create_empty_database().await;
    let _guard = DatabaseGuard(name.clone());
    let target = DatabaseTarget::Postgres(format!("{}/{name}", pg_base_url()));
    let (a, b) = tokio::join!(db::run_migrations(&target), db::run_migrations(&target));
    let (a, b) = (a.expect("first"), b.expect("second"));
    // One applied everything, the other found nothing left to do.
    assert!(a.is_empty() != b.is_empty(), "{a:?} / {b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_carry_wal_busy_timeout_and_foreign_keys() {
    let app = spawn_app(Backend::Sqlite).await;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Timeout {
        #[diesel(sql_type = Integer)]
        timeout: i32,
    }
    #[derive(diesel::QueryableByName)]
    struct Keys {
        #[diesel(sql_type = Integer)]
        foreign_keys: i32,
    }
    // Check several pooled connections, not just the first.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(app.state.db.get().await.unwrap());
    }
    for pooled in &mut held {
        let db::Conn::Sqlite(c) = pooled.conn() else {
            panic!("not sqlite")
        };
        let mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result::<Mode>(c)
            .await
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        let timeout = diesel::sql_query("PRAGMA busy_timeout")
            .get_result::<Timeout>(c)
            .await
            .unwrap();
        assert_eq!(timeout.timeout, 5000);
        let keys = diesel::sql_query("PRAGMA foreign_keys")
            .get_result::<Keys>(c)
            .await
            .unwrap();
        assert_eq!(keys.foreign_keys, 1);
    }
}
