//! Typed settings from the environment, with defaults in code. Every variable is
//! documented beside its field and in the README's configuration table.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::db::DatabaseTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// The six departments whose review a merchant needs by default (联审).
/// The longest a card QR token may live: a code that lives longer can be photographed
/// and shown by someone else.
pub const MAX_QR_TTL_SECS: u32 = 300;

pub const DEFAULT_DEPARTMENTS: [&str; 6] = [
    "discipline_inspection",
    "civil_affairs",
    "human_resources",
    "emergency_management",
    "market_regulation",
    "military",
];

impl Environment {
    /// `YONGJUN_ENV`: `development` (default) or `production`.
    pub fn from_env() -> anyhow::Result<Environment> {
        match var("YONGJUN_ENV").as_deref() {
            None | Some("development") => Ok(Environment::Development),
            Some("production") => Ok(Environment::Production),
            Some(other) => bail!("YONGJUN_ENV must be development or production, not {other:?}"),
        }
    }
}

pub struct Settings {
    /// `YONGJUN_BIND`: address to listen on. Default `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// `DATABASE_URL`: `postgres://…` for PostgreSQL; unset (or `sqlite://PATH`) for the
    /// embedded SQLite file `YONGJUN_DATA_DIR/yongjun.db`.
    pub database: DatabaseTarget,
    /// `REDIS_URL`: `redis://…`; unset for the in-process cache.
    pub redis_url: Option<String>,
    /// `YONGJUN_CACHE_PREFIX`: prefix of every Redis key and channel. Default `yj:`.
    pub cache_prefix: String,
    /// `YONGJUN_DATA_DIR`: SQLite file and development secrets. Default `./data`.
    pub data_dir: PathBuf,
    /// `YONGJUN_ENV`: `development` (default) or `production`.
    pub environment: Environment,
    /// `YONGJUN_JWT_SECRET`: HMAC secret of staff and holder tokens (≥ 32 bytes).
    pub jwt_secret: SecretString,
    /// `YONGJUN_DATA_KEY`: base64 of 32 bytes; AES-256-GCM key for personal data.
    pub data_key: SecretBox<[u8; 32]>,
    /// `YONGJUN_SIGNING_KEY`: Ed25519 private key (PKCS#8 PEM) signing card QR tokens.
    pub signing_key_pem: SecretString,
    /// `YONGJUN_PREVIOUS_SIGNING_KEY`: during a key rotation, the former signing key (PEM);
    /// QR tokens it signed still verify, and its public key stays in the JWKS.
    pub previous_signing_key_pem: Option<SecretString>,
    /// `YONGJUN_PUBLIC_NOTICE_DAYS`: length of the public notice (社会公示). Default 7; 0 allowed.
    pub public_notice_days: u32,
    /// `YONGJUN_QR_TTL_SECS`: lifetime of a card QR token. Default 60; at most 300.
    pub qr_ttl_secs: u32,
    /// `YONGJUN_BOOTSTRAP_ADMIN_PASSWORD`: password of the first `admin` account, created
    /// when no staff account exists. Unset: a random one is printed once.
    pub bootstrap_admin_password: Option<SecretString>,
    /// `YONGJUN_DB_POOL_SIZE`: database connections per process. Default 24 (PostgreSQL), 8 (SQLite).
    pub db_pool_size: usize,
    /// `YONGJUN_REDEEM_BATCHES`: redemption transactions this process writes at once
    /// (group commit; concurrent redemptions beyond share them). Default 8; always 1 on
    /// SQLite.
    pub redeem_batches: usize,
    /// `YONGJUN_REDEEM_BATCH_MAX`: the most redemptions one transaction writes. Default 32.
    pub redeem_batch_max: usize,
    /// `YONGJUN_WORKERS`: HTTP worker threads. Default: number of cores.
    pub workers: usize,
    /// `YONGJUN_REQUIRED_DEPARTMENTS`: comma-separated departments whose review a merchant
    /// needs. Default: the six of DESIGN.md.
    pub required_departments: Vec<String>,
    /// `YONGJUN_STAFF_TOKEN_TTL_SECS`: lifetime of a staff access token. Default 3600.
    pub staff_token_ttl_secs: u32,
    /// `YONGJUN_OFFLINE_MAX_AGE_HOURS`: how old an offline verification may be when its
    /// redemption is uploaded. Default 72.
    pub offline_max_age_hours: u32,
    /// `YONGJUN_MAX_BILL_FEN`: the largest bill a redemption may carry, in fen. Default
    /// 1000000000 (10,000,000.00 yuan); at most 2^53 − 1.
    pub max_bill_fen: i64,
    /// `YONGJUN_REVOCATIONS_VALID_HOURS`: how long a terminal may rely on a revocation
    /// feed it fetched (`valid_until`). Default 24.
    pub revocations_valid_hours: u32,
    /// `YONGJUN_TODAY`: a fixed date (`2027-01-01`) the task list counts overdue days
    /// from, for drills and tests; unset (the default): China's date.
    pub today: Option<chrono::NaiveDate>,
    /// `YONGJUN_SWEEP_INTERVAL_SECS`: how often lapsed agreements and cards are marked
    /// expired. Default 60; 0 turns the sweep off (another process runs it).
    pub sweep_interval_secs: u64,
    /// `YONGJUN_BODY_TIMEOUT_SECS`: how long a request body (a JSON body, an import's
    /// upload) may take to arrive after its headers; a slower one is cut off with 408.
    /// Default 10; at least 1.
    pub body_timeout_secs: u64,
    /// When complaint figures flag a merchant for exit review (退出复核); see
    /// `domain::oversight::ExitReviewThresholds` for why the defaults are what they are.
    /// `YONGJUN_FLAG_COMPLAINT_RATE` (default 0.05), `YONGJUN_FLAG_MIN_RATING` (default
    /// 3.0), `YONGJUN_FLAG_MIN_COMPLAINANTS` (default 3).
    pub exit_review: crate::domain::oversight::ExitReviewThresholds,
    /// `YONGJUN_TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks of the reverse
    /// proxies whose `X-Forwarded-For` is believed. Default: none (the TCP peer is the
    /// client).
    pub trusted_proxies: crate::domain::network::TrustedProxies,
    /// `YONGJUN_CORS_ORIGINS`: comma-separated origins (`https://app.example.gov.cn`)
    /// whose pages may call the API from a browser. Default: none (the console is served
    /// from the API's own origin and needs no CORS).
    pub cors_origins: Vec<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are left out on purpose.
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database", &self.database.backend_name())
            .field("redis", &self.redis_url.is_some())
            .field("data_dir", &self.data_dir)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// Reads a variable; empty counts as unset.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?} is not valid: {e}")),
    }
}

impl Settings {
    /// Settings from the process environment. In development, missing secrets are
    /// generated once and kept under the data directory; in production they are required.
    pub fn from_env() -> anyhow::Result<Settings> {
        let environment = Environment::from_env()?;
        let data_dir = PathBuf::from(var("YONGJUN_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database = match var("DATABASE_URL") {
            None => DatabaseTarget::Sqlite(data_dir.join("yongjun.db")),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DatabaseTarget::Postgres(url)
            }
            Some(url) => match url
                .strip_prefix("sqlite://")
                .or(url.strip_prefix("sqlite:"))
            {
                Some(path) => DatabaseTarget::Sqlite(PathBuf::from(path)),
                None => bail!("DATABASE_URL must start with postgres:// or sqlite://"),
            },
        };
        if environment == Environment::Production {
            let missing: Vec<&str> = [
                "YONGJUN_JWT_SECRET",
                "YONGJUN_DATA_KEY",
                "YONGJUN_SIGNING_KEY",
            ]
            .into_iter()
            .filter(|name| var(name).is_none())
            .collect();
            if !missing.is_empty() {
                bail!(
                    "not set: {}; these secrets are required when YONGJUN_ENV=production \
                     (see README, Configuration)",
                    missing.join(", ")
                );
            }
        }
        let secrets = SecretSource {
            environment,
            dir: data_dir.join("secrets"),
        };
        let jwt_secret = secrets.get("YONGJUN_JWT_SECRET", "jwt_secret", || {
            base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 48]>())
        })?;
        if jwt_secret.len() < 32 {
            bail!("YONGJUN_JWT_SECRET must be at least 32 characters");
        }
        let data_key_b64 = secrets.get("YONGJUN_DATA_KEY", "data_key", || {
            base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
        })?;
        let data_key = decode_data_key(&data_key_b64)?;
        let signing_key_pem = secrets.get("YONGJUN_SIGNING_KEY", "signing_key.pem", || {
            crate::auth::qr::generate_signing_key_pem()
        })?;
        let default_pool = match database {
            DatabaseTarget::Postgres(_) => 24,
            DatabaseTarget::Sqlite(_) => 8,
        };
        let settings = Settings {
            bind: parse_var("YONGJUN_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            database,
            redis_url: var("REDIS_URL"),
            cache_prefix: var("YONGJUN_CACHE_PREFIX").unwrap_or_else(|| "yj:".into()),
            data_dir,
            environment,
            jwt_secret: SecretString::from(jwt_secret),
            data_key: SecretBox::new(Box::new(data_key)),
            signing_key_pem: SecretString::from(signing_key_pem),
            previous_signing_key_pem: var("YONGJUN_PREVIOUS_SIGNING_KEY").map(SecretString::from),
            public_notice_days: parse_var("YONGJUN_PUBLIC_NOTICE_DAYS", 7)?,
            qr_ttl_secs: parse_var("YONGJUN_QR_TTL_SECS", 60)?,
            bootstrap_admin_password: var("YONGJUN_BOOTSTRAP_ADMIN_PASSWORD")
                .map(SecretString::from),
            db_pool_size: parse_var("YONGJUN_DB_POOL_SIZE", default_pool)?,
            redeem_batches: parse_var("YONGJUN_REDEEM_BATCHES", 8)?,
            redeem_batch_max: parse_var("YONGJUN_REDEEM_BATCH_MAX", 32)?,
            workers: parse_var(
                "YONGJUN_WORKERS",
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )?,
            required_departments: var("YONGJUN_REQUIRED_DEPARTMENTS")
                .map(|v| {
                    v.split(',')
                        .map(|d| d.trim().to_owned())
                        .filter(|d| !d.is_empty())
                        .collect()
                })
                .unwrap_or_else(|| DEFAULT_DEPARTMENTS.iter().map(|d| d.to_string()).collect()),
            staff_token_ttl_secs: parse_var("YONGJUN_STAFF_TOKEN_TTL_SECS", 3600)?,
            offline_max_age_hours: parse_var("YONGJUN_OFFLINE_MAX_AGE_HOURS", 72)?,
            max_bill_fen: parse_var("YONGJUN_MAX_BILL_FEN", crate::domain::offer::MAX_AMOUNT_FEN)?,
            revocations_valid_hours: parse_var("YONGJUN_REVOCATIONS_VALID_HOURS", 24)?,
            today: var("YONGJUN_TODAY")
                .map(|raw| {
                    raw.trim()
                        .parse()
                        .map_err(|e| anyhow::anyhow!("YONGJUN_TODAY={raw:?} is not a date: {e}"))
                })
                .transpose()?,
            sweep_interval_secs: parse_var("YONGJUN_SWEEP_INTERVAL_SECS", 60)?,
            body_timeout_secs: parse_var("YONGJUN_BODY_TIMEOUT_SECS", 10)?,
            exit_review: {
                let defaults = crate::domain::oversight::ExitReviewThresholds::default();
                crate::domain::oversight::ExitReviewThresholds {
                    max_complaint_rate: parse_var(
                        "YONGJUN_FLAG_COMPLAINT_RATE",
                        defaults.max_complaint_rate,
                    )?,
                    min_average_rating: parse_var(
                        "YONGJUN_FLAG_MIN_RATING",
                        defaults.min_average_rating,
                    )?,
                    min_complainants: parse_var(
                        "YONGJUN_FLAG_MIN_COMPLAINANTS",
                        defaults.min_complainants,
                    )?,
                }
            },
            trusted_proxies: parse_var("YONGJUN_TRUSTED_PROXIES", Default::default())?,
            cors_origins: var("YONGJUN_CORS_ORIGINS")
                .map(|raw| {
                    raw.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        };
        if let Some(bad) = settings
            .cors_origins
            .iter()
            .find(|o| !(o.starts_with("http://") || o.starts_with("https://")) || o.contains('*'))
        {
            bail!("YONGJUN_CORS_ORIGINS: {bad:?} is not an origin (http(s)://host[:port], no wildcard)");
        }
        settings
            .exit_review
            .validate()
            .map_err(|e| anyhow::anyhow!(e))?;
        if !(1..=MAX_QR_TTL_SECS).contains(&settings.qr_ttl_secs) {
            bail!(
                "YONGJUN_QR_TTL_SECS={} is refused: it must be between 1 and {MAX_QR_TTL_SECS} \
                 (a QR code that lives longer can be photographed and used by someone else)",
                settings.qr_ttl_secs
            );
        }
        // Above 2^53 − 1 a bill is no longer a number every JSON client reads exactly.
        if !(1..=(1i64 << 53) - 1).contains(&settings.max_bill_fen) {
            bail!(
                "YONGJUN_MAX_BILL_FEN={} is refused: it must be between 1 and 2^53 − 1 fen",
                settings.max_bill_fen
            );
        }
        if settings.body_timeout_secs == 0 {
            bail!("YONGJUN_BODY_TIMEOUT_SECS must be at least 1");
        }
        if settings.offline_max_age_hours == 0 || settings.revocations_valid_hours == 0 {
            bail!("YONGJUN_OFFLINE_MAX_AGE_HOURS and YONGJUN_REVOCATIONS_VALID_HOURS must be at least 1");
        }
        crate::auth::qr::QrKeys::from_pem(settings.signing_key_pem.expose_secret())
            .context("YONGJUN_SIGNING_KEY is not an Ed25519 private key in PKCS#8 PEM")?;
        if let Some(previous) = &settings.previous_signing_key_pem {
            crate::auth::qr::QrKeys::from_pem(previous.expose_secret()).context(
                "YONGJUN_PREVIOUS_SIGNING_KEY is not an Ed25519 private key in PKCS#8 PEM",
            )?;
        }
        Ok(settings)
    }
}

pub fn decode_data_key(b64: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| anyhow::anyhow!("YONGJUN_DATA_KEY is not valid base64"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("YONGJUN_DATA_KEY must decode to exactly 32 bytes"))
}

struct SecretSource {
    environment: Environment,
    dir: PathBuf,
}

impl SecretSource {
    /// The variable's value; else, in development, the value kept in `dir/file`
    /// (generated and written the first time).
    fn get(
        &self,
        variable: &str,
        file: &str,
        generate: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        if let Some(value) = var(variable) {
            return Ok(value);
        }
        if self.environment == Environment::Production {
            bail!("{variable} is not set; it is required when YONGJUN_ENV=production (see README, Configuration)");
        }
        let path = self.dir.join(file);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(existing.trim().to_owned());
        }
        let value = generate();
        write_private(&path, &value)
            .with_context(|| format!("keeping a generated {variable} in {}", path.display()))?;
        tracing::warn!(
            variable,
            file = %path.display(),
            "secret not set: generated one for development and kept it in the data directory"
        );
        Ok(value)
    }
}

fn write_private(path: &Path, value: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(value.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, value)?;
    Ok(())
}

/// Helper for code that needs the raw key bytes.
pub fn expose_key(key: &SecretBox<[u8; 32]>) -> &[u8; 32] {
    key.expose_secret()
}
