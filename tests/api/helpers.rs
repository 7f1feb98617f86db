//! `spawn_app()`: the real server on port 0, on a fresh database of its own.
//!
//! PostgreSQL: each test gets a database cloned from a migrated template (created once,
//! under an advisory lock, named after a hash of the migrations), dropped afterwards.
//! Redis: each test gets its own key prefix. SQLite: each test gets its own file.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_web::web;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use secrecy::{SecretBox, SecretString};
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use yongjun::db::DatabaseTarget;
use yongjun::settings::{Environment, Settings, DEFAULT_DEPARTMENTS};
use yongjun::startup::Application;
use yongjun::state::AppState;

pub const ADMIN_PASSWORD: &str = "bootstrap-admin-pass";

static TEST_SIGNING_KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL + Redis: the production pair.
    Postgres,
    /// Embedded SQLite + in-process cache: the zero-setup default.
    Sqlite,
}

/// The QR signing key every process of the suite shares (PKCS#8 PEM), for a test that
/// starts the binary as another process of the same deployment.
pub fn test_signing_key() -> String {
    TEST_SIGNING_KEY
        .get_or_init(yongjun::auth::qr::generate_signing_key_pem)
        .clone()
}

pub fn pg_base_url() -> String {
    std::env::var("YJ_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn redis_url() -> String {
    std::env::var("YJ_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

const PG_HELP: &str = "cannot reach PostgreSQL for the tests. Start it (Debian: \
    `pg_ctlcluster 15 main start`, or `bash .ci/run` which starts it), or point \
    YJ_TEST_DATABASE_URL at a server, e.g. postgres://postgres@127.0.0.1:5432";
const REDIS_HELP: &str = "cannot reach Redis for the tests. Start it (`redis-server --daemonize yes`, \
    or `bash .ci/run` which starts it), or point YJ_TEST_REDIS_URL at a server, e.g. redis://127.0.0.1:6379";

pub struct TestApp {
    pub address: String,
    pub backend: Backend,
    pub client: reqwest::Client,
    pub state: web::Data<AppState>,
    pub database: DatabaseTarget,
    pub cache_prefix: String,
    pg_database: Option<String>,
    _data_dir: tempfile::TempDir,
}

/// Options that a few tests change.
#[derive(Default, Clone)]
pub struct Options {
    /// Use this Redis instead of the shared test one (outage tests).
    pub redis_url: Option<String>,
    pub public_notice_days: Option<u32>,
    pub workers: Option<usize>,
    /// Lifetime of a card QR token (default 60 s).
    pub qr_ttl_secs: Option<u32>,
    /// `YONGJUN_TRUSTED_PROXIES` (default none). Trusting `127.0.0.1` lets a test play
    /// several clients with `X-Forwarded-For`.
    pub trusted_proxies: Option<&'static str>,
    /// How long a request body may take to arrive (default 10 s).
    pub body_timeout_secs: Option<u64>,
    /// `YONGJUN_CORS_ORIGINS` (default none).
    pub cors_origins: Vec<String>,
    /// `YONGJUN_TODAY`: the day the task list counts overdue days from (default: today).
    pub today: Option<chrono::NaiveDate>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database, pg_database) = match backend {
        Backend::Postgres => {
            let name = create_test_database().await;
            (
                DatabaseTarget::Postgres(format!("{}/{name}", pg_base_url())),
                Some(name),
            )
        }
        Backend::Sqlite => (
            DatabaseTarget::Sqlite(data_dir.path().join("yongjun.db")),
            None,
        ),
    };
    let redis = match backend {
        Backend::Postgres => {
            let url = options.redis_url.clone().unwrap_or_else(redis_url);
            if options.redis_url.is_none() {
                ensure_redis(&url).await;
            }
            Some(url)
        }
        Backend::Sqlite => None,
    };
    let cache_prefix = format!("yjtest:{}:", uuid::Uuid::new_v4().simple());
    let settings = test_settings(
        database.clone(),
        redis,
        &cache_prefix,
        data_dir.path().into(),
        &options,
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let app = Application::build_with_listener(settings, listener)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        backend,
        client,
        state,
        database,
        cache_prefix,
        pg_database,
        _data_dir: data_dir,
    }
}

/// A second API process on the same database and Redis prefix as `first` (PostgreSQL).
pub async fn spawn_second_process(first: &TestApp) -> TestApp {
    spawn_second_process_via(first, redis_url()).await
}

/// [`spawn_second_process`], reaching Redis at `redis_url` (a test's own, or a proxy).
pub async fn spawn_second_process_via(first: &TestApp, redis_url: String) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(
        first.database.clone(),
        Some(redis_url),
        &first.cache_prefix,
        data_dir.path().into(),
        &Options::default(),
    );
    settings.public_notice_days = first.state.policy.public_notice_days;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let app = Application::build_with_listener(settings, listener)
        .await
        .expect("second process builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        backend: first.backend,
        client: first.client.clone(),
        state,
        database: first.database.clone(),
        cache_prefix: first.cache_prefix.clone(),
        pg_database: None, // the first process owns (and drops) the database
        _data_dir: data_dir,
    }
}

pub fn test_settings(
    database: DatabaseTarget,
    redis_url: Option<String>,
    cache_prefix: &str,
    data_dir: PathBuf,
    options: &Options,
) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        database,
        redis_url,
        cache_prefix: cache_prefix.to_owned(),
        data_dir,
        environment: Environment::Development,
        jwt_secret: SecretString::from("test-jwt-secret-that-is-long-enough-0123456789"),
        data_key: SecretBox::new(Box::new([7u8; 32])),
        // One key for every process of the suite, as processes of one deployment share it.
        signing_key_pem: SecretString::from(test_signing_key()),
        previous_signing_key_pem: None,
        public_notice_days: options.public_notice_days.unwrap_or(7),
        qr_ttl_secs: options.qr_ttl_secs.unwrap_or(60),
        bootstrap_admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        db_pool_size: 8,
        redeem_batches: 4,
        redeem_batch_max: 32,
        workers: options.workers.unwrap_or(1),
        required_departments: DEFAULT_DEPARTMENTS.iter().map(|d| d.to_string()).collect(),
        staff_token_ttl_secs: 3600,
        offline_max_age_hours: 72,
        max_bill_fen: yongjun::domain::offer::MAX_AMOUNT_FEN,
        revocations_valid_hours: 24,
        today: options.today,
        // Tests run the sweep themselves (`TestApp::sweep`), when they mean to.
        sweep_interval_secs: 0,
        body_timeout_secs: options.body_timeout_secs.unwrap_or(10),
        exit_review: Default::default(),
        trusted_proxies: options
            .trusted_proxies
            .map(|p| p.parse().expect("YONGJUN_TRUSTED_PROXIES of the test"))
            .unwrap_or_default(),
        cors_origins: options.cors_origins.clone(),
    }
}

async fn ensure_redis(url: &str) {
    let client = redis::Client::open(url).expect("valid redis url");
    let result = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    })
    .await;
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("{REDIS_HELP} ({e})"),
        Err(_) => panic!("{REDIS_HELP} (timed out)"),
    }
}

async fn admin_connection() -> AsyncPgConnection {
    let url = format!("{}/postgres", pg_base_url());
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        AsyncPgConnection::establish(&url),
    )
    .await
    {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!("{PG_HELP} ({e})"),
        Err(_) => panic!("{PG_HELP} (timed out)"),
    }
}

/// Name of the template database: changes whenever a migration changes.
fn template_name() -> String {
    use std::hash::{Hash, Hasher};
    let mut files: Vec<PathBuf> = Vec::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    for dir in std::fs::read_dir(&root).expect("migrations dir") {
        let dir = dir.unwrap().path();
        for file in ["up.sql", "down.sql"] {
            files.push(dir.join(file));
        }
    }
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
        file.parent().map(|p| p.file_name()).hash(&mut hasher);
    }
    format!("yongjun_template_{:016x}", hasher.finish())
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = admin_connection().await;
            conn.batch_execute("SELECT pg_advisory_lock(7265001)")
                .await
                .unwrap();
            let exists: bool = {
                use diesel::sql_types::{Bool, Text};
                use diesel_async::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct Exists {
                    #[diesel(sql_type = Bool)]
                    exists: bool,
                }
                diesel::sql_query(
                    "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
                )
                .bind::<Text, _>(&name)
                .get_result::<Exists>(&mut conn)
                .await
                .unwrap()
                .exists
            };
            if !exists {
                let building = format!("{name}_building");
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {building}"))
                    .await
                    .unwrap();
                conn.batch_execute(&format!("CREATE DATABASE {building}"))
                    .await
                    .unwrap();
                let target = DatabaseTarget::Postgres(format!("{}/{building}", pg_base_url()));
                yongjun::db::run_migrations(&target)
                    .await
                    .expect("migrating the template");
                conn.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .await
                    .unwrap();
            }
            conn.batch_execute("SELECT pg_advisory_unlock(7265001)")
                .await
                .unwrap();
            name
        })
        .await
        .clone()
}

/// A fresh, migrated database of this test's own.
pub async fn create_test_database() -> String {
    let template = template().await;
    let name = format!("yongjun_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin_connection().await;
    let mut attempt = 0;
    loop {
        match conn
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
        {
            Ok(()) => return name,
            // Another session may be copying the template at this instant.
            Err(e) if attempt < 50 => {
                attempt += 1;
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("creating test database {name}: {e}"),
        }
    }
}

/// An empty database (no migrations), for migration tests.
pub async fn create_empty_database() -> String {
    let name = format!("yongjun_test_{}", uuid::Uuid::new_v4().simple());
    admin_connection()
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating an empty database");
    name
}

pub async fn drop_database(name: &str) {
    let mut conn = admin_connection().await;
    let _ = conn
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}

/// Drops a test database when it goes out of scope, even when the test panics.
pub struct DatabaseGuard(pub String);

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.0);
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&name));
            }
        })
        .join();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            // Drop runs outside async context rules: use a runtime of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_database(&name));
                }
            })
            .join();
        }
    }
}

/// An answer: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

/// The error codes the committed contract documents (schema `ErrorCode`).
pub fn documented_codes() -> &'static std::collections::BTreeSet<String> {
    static CODES: std::sync::OnceLock<std::collections::BTreeSet<String>> =
        std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
            .expect("openapi.yaml");
        let spec: serde_yaml::Value = serde_yaml::from_str(&text).expect("openapi.yaml parses");
        spec["components"]["schemas"]["ErrorCode"]["enum"]
            .as_sequence()
            .expect("openapi.yaml documents ErrorCode")
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    })
}

impl Answer {
    /// Every problem answer of the suite carries a code the contract documents and
    /// its own status: checked on each answer, so no test can meet an undocumented code.
    #[track_caller]
    pub fn check_problem(&self) {
        let problem = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            == Some("application/problem+json");
        if problem {
            let code = self.code();
            assert!(
                documented_codes().contains(code),
                "answer {} carries code {code:?}, which openapi.yaml does not document: {}",
                self.status,
                self.body
            );
            assert_eq!(
                self.body["status"], self.status,
                "problem status: {}",
                self.body
            );
        }
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and returns the body, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.body
        );
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
        self.body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let answer = Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        };
        answer.check_problem();
        answer
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// One run of the expiry sweep, as the periodic task does it.
    pub async fn sweep(&self) -> yongjun::app::sweep::Swept {
        yongjun::app::sweep::sweep(&self.state.db, &self.state.cache)
            .await
            .expect("the sweep runs")
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await
            .expect(200);
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a staff account as `token` and signs it in.
    pub async fn staff(
        &self,
        token: &str,
        username: &str,
        role: &str,
        region: Option<&str>,
        department: Option<&str>,
    ) -> String {
        let password = format!("{username}-password");
        self.post(
            "/api/v1/admin/users",
            Some(token),
            json!({"username": username, "password": password, "role": role,
                   "region_code": region, "department": department}),
        )
        .await
        .expect(201);
        self.login(username, &password).await
    }
}

/// An app whose public notice lasts no time (merchants can be activated at once) and
/// with two workers, as the point-of-sale and oversight tests need.
pub async fn spawn_instant_app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            public_notice_days: Some(0),
            workers: Some(2),
            ..Default::default()
        },
    )
    .await
}

/// Declares tests that run once on each backend pair, each on an app made by `$spawn`
/// (a function of `Backend`): `name::postgres` and `name::sqlite`.
#[macro_export]
macro_rules! backends_with {
    ($spawn:ident; $(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[allow(unused_imports)]
                use $crate::helpers::*;

                async fn run($app: TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($spawn(Backend::Postgres).await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($spawn(Backend::Sqlite).await).await
                }
            }
        )*
    };
}

/// `both_backends! { async fn name(app) { ... } }`: on the default app.
#[macro_export]
macro_rules! both_backends {
    ($($tests:tt)*) => { $crate::backends_with! { spawn_app; $($tests)* } };
}

/// As `both_backends!`, on an app with a zero-day public notice and two workers
/// (`spawn_instant_app`), which the point-of-sale and office tests need.
#[macro_export]
macro_rules! instant_backends {
    ($($tests:tt)*) => { $crate::backends_with! { spawn_instant_app; $($tests)* } };
}
