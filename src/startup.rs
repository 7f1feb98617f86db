//! Builds the application: settings → pools → migrations → HTTP server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::auth::{password, StaffTokens};
use crate::cache::Cache;
use crate::db::audit::Actor;
use crate::db::{self, Db};
use crate::domain::{Password, Role, Username};
use crate::error::ApiError;
use crate::routes::{self, users::NewStaffAccount};
use crate::settings::Settings;
use crate::telemetry::{self, Metrics};

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub cache: Cache,
    pub staff_tokens: StaffTokens,
    pub holder_tokens: crate::auth::holder::HolderTokens,
    /// Signs and verifies card QR tokens.
    pub qr_keys: crate::auth::qr::QrKeys,
    /// In-process copies of terminal look-ups (API key → terminal), dropped on any
    /// invalidation heard from the cache.
    pub terminals: moka::sync::Cache<String, crate::routes::pos::TerminalEntry>,
    /// In-process copies of merchant snapshots for verification (the largest entry the
    /// hot path would otherwise fetch and parse on every scan), each with the version
    /// token it was cached under: used only while the cache still holds that token.
    pub merchant_snapshots:
        moka::sync::Cache<crate::db::MerchantId, crate::routes::pos::LocalMerchant>,
    /// Encrypts and hashes personal data (ID numbers, phones).
    pub cipher: crate::crypto::DataCipher,
    /// Verified against when a user name is unknown, so sign-in timing does not tell.
    pub dummy_password_hash: String,
    pub required_departments: Vec<String>,
    pub public_notice_days: u32,
    pub qr_ttl_secs: u32,
    /// Yearly admission targets of the figures.
    pub admission_targets: crate::stats::AdmissionTargets,
    /// When complaint figures flag a merchant for exit review.
    pub exit_review: crate::domain::oversight::ExitReviewThresholds,
    pub metrics: Metrics,
    pub openapi_yaml: String,
}

/// A built, bound, migrated application, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yongjun (拥军) API",
        description = "Partner-merchant discount network for military personnel, their families, \
            veterans and other entitled beneficiaries. Errors are RFC 9457 problem+json with a \
            stable `code`.",
        version = "1.0.0"
    ),
    servers((url = "/")),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "staff",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Staff access token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "terminal",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A point-of-sale terminal's API key from POST /api/v1/merchant/terminals",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "holder",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Holder access token from POST /api/v1/holder/activate",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers every route on `app` and collects the OpenAPI document from the same
/// registrations, so the spec cannot list a route that is not served or miss one that is.
fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Error = actix_web::Error,
        InitError = (),
    >,
{
    app.openapi(ApiDoc::openapi())
        .configure(routes::root)
        .service(utoipa_actix_web::scope("/api/v1").configure(routes::api_v1))
}

/// The OpenAPI document the code describes (what `openapi.yaml` must equal).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, spec) = routes(App::new().into_utoipa_app()).split_for_parts();
    spec
}

pub fn openapi_yaml() -> anyhow::Result<String> {
    openapi()
        .to_yaml()
        .context("rendering the OpenAPI document")
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        Self::build_with_listener(settings, listener).await
    }

    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let applied = db::run_migrations(&settings.database).await?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "applied database migrations");
        }
        let db = Db::connect(&settings.database, settings.db_pool_size).await?;
        let cache = match &settings.redis_url {
            Some(url) => Cache::redis(url, &settings.cache_prefix)?,
            None => Cache::memory(),
        };
        match &settings.database {
            db::DatabaseTarget::Postgres(_) => {
                tracing::info!(
                    database = "postgresql",
                    cache = cache.backend_name(),
                    "backends in use"
                )
            }
            db::DatabaseTarget::Sqlite(path) => tracing::info!(
                database = "sqlite",
                file = %path.display(),
                cache = cache.backend_name(),
                "backends in use"
            ),
        }
        if cache.ping().await.is_err() {
            tracing::warn!("the cache is unreachable; serving from the database until it returns");
        }
        bootstrap_admin(&db, &settings).await?;

        let state = web::Data::new(AppState {
            db,
            cache,
            staff_tokens: StaffTokens::new(
                settings.jwt_secret.expose_secret().as_bytes(),
                settings.staff_token_ttl_secs,
            ),
            holder_tokens: crate::auth::holder::HolderTokens::new(
                settings.jwt_secret.expose_secret().as_bytes(),
            ),
            cipher: crate::crypto::DataCipher::new(settings.data_key.expose_secret()),
            qr_keys: {
                let previous: Vec<&str> = settings
                    .previous_signing_key_pem
                    .iter()
                    .map(|p| p.expose_secret())
                    .collect();
                crate::auth::qr::QrKeys::with_previous(
                    settings.signing_key_pem.expose_secret(),
                    &previous,
                )?
            },
            terminals: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
            merchant_snapshots: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(crate::routes::pos::LOCAL_MERCHANT_TTL)
                .build(),
            dummy_password_hash: password::hash_blocking(uuid::Uuid::new_v4().to_string()).await?,
            required_departments: settings.required_departments.clone(),
            public_notice_days: settings.public_notice_days,
            qr_ttl_secs: settings.qr_ttl_secs,
            admission_targets: settings.admission_targets.clone(),
            exit_review: settings.exit_review,
            metrics: Metrics::new()?,
            openapi_yaml: openapi_yaml()?,
        });

        // Drop in-process terminal look-ups that any process invalidated.
        let mut heard = state.cache.subscribe_invalidations();
        let listener_state = state.clone();
        tokio::spawn(async move {
            loop {
                match heard.recv().await {
                    Ok(keys) => {
                        for key in keys {
                            if let Some(hash) = key.strip_prefix("terminal:") {
                                listener_state.terminals.invalidate(hash);
                            }
                        }
                    }
                    // Missed some: forget every copy rather than keep a stale one.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        listener_state.terminals.invalidate_all()
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });

        // Sum the closed months' redemptions for the figures now rather than on the
        // first request that needs them.
        let warm_state = state.clone();
        tokio::spawn(async move {
            let warmed = async {
                let mut pooled = warm_state.db.get().await?;
                anyhow::Ok(
                    crate::db::stats::warm_rollup(&mut pooled.conn(), crate::db::now()).await?,
                )
            };
            match warmed.await {
                Ok(0) => {}
                Ok(months) => tracing::info!(months, "redemption rollup summed"),
                Err(error) => tracing::warn!(%error, "summing the redemption rollup failed"),
            }
        });

        let app_state = state.clone();
        // Reference routes for docs/benchmarks.md; off unless asked for.
        let bench_routes = std::env::var("YONGJUN_BENCH_ROUTES").is_ok_and(|v| v == "1");
        if bench_routes {
            tracing::warn!("YONGJUN_BENCH_ROUTES=1: /bench/hello and /bench/reference are served");
        }
        let server = HttpServer::new(move || {
            let (app, _) = routes(
                App::new()
                    .wrap(from_fn(telemetry::observe))
                    .app_data(app_state.clone())
                    .app_data(crate::extract::query_config())
                    .app_data(crate::extract::path_config())
                    .into_utoipa_app(),
            )
            .configure(|cfg| {
                if bench_routes {
                    bench::routes(cfg)
                }
            })
            .default_service(web::to(not_found))
            .split_for_parts();
            app
        })
        .workers(settings.workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until stopped; SIGTERM and Ctrl-C shut down gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("not_found", "no such route"))
}

/// With no staff account at all, creates `admin` (super_admin): with
/// `YONGJUN_BOOTSTRAP_ADMIN_PASSWORD` when set, else with a random password printed once.
async fn bootstrap_admin(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    if db::staff::count(&mut conn).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &settings.bootstrap_admin_password {
        Some(p) => (p.expose_secret().to_owned(), false),
        None => {
            let random: String = (0..20)
                .map(|_| {
                    const ALPHABET: &[u8] =
                        b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
                    ALPHABET[rand::random_range(0..ALPHABET.len())] as char
                })
                .collect();
            (random, true)
        }
    };
    let account = NewStaffAccount {
        username: Username::parse("admin").map_err(anyhow::Error::msg)?,
        password: Password::parse(&password)
            .map_err(|m| anyhow::anyhow!("YONGJUN_BOOTSTRAP_ADMIN_PASSWORD {m}"))?,
        role: Role::SuperAdmin,
        region: None,
        department: None,
        merchant_id: None,
    };
    match routes::users::create_account(&mut conn, &Actor::system(), account).await {
        Ok(_) => {}
        // Another process starting at the same moment created it first.
        Err(e) if e.code == "username_taken" => return Ok(()),
        Err(e) => return Err(anyhow::anyhow!("creating the bootstrap admin: {e}")),
    }
    if generated {
        // Printed to the console only, once; never logged.
        eprintln!(
            "\n  Created the first administrator account.\n  user name: admin\n  password:  {password}\n  Keep it now: it will not be shown again.\n"
        );
        tracing::warn!(
            "created the bootstrap admin with a random password (printed on the console)"
        );
    } else {
        tracing::info!("created the bootstrap admin from YONGJUN_BOOTSTRAP_ADMIN_PASSWORD");
    }
    Ok(())
}

/// Two routes that bound what verification can reach (see docs/benchmarks.md): a bare
/// JSON answer (the framework's ceiling) and the work no verification can avoid, one
/// Ed25519 check and one cache round trip.
mod bench {
    use actix_web::web;

    use super::AppState;

    pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
        cfg.route("/bench/hello", web::get().to(hello))
            .route("/bench/reference", web::post().to(reference));
    }

    async fn hello() -> web::Json<serde_json::Value> {
        web::Json(serde_json::json!({"hello": "world"}))
    }

    #[derive(serde::Deserialize)]
    struct Token {
        token: String,
    }

    async fn reference(
        state: web::Data<AppState>,
        body: web::Json<Token>,
    ) -> web::Json<serde_json::Value> {
        let valid = match state.qr_keys.verify(&body.token) {
            Ok(claims) => state
                .cache
                .get(&crate::cache::keys::card(&claims.sub))
                .await
                .is_ok(),
            Err(_) => false,
        };
        web::Json(serde_json::json!({"valid": valid}))
    }
}
