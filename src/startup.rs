//! Builds the application: settings → migrations → pools → state → HTTP server. Wiring
//! only: what it starts (the bootstrap account, the rollup, the invalidation listener)
//! is done by `app`.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::app::pos::writes::redemption_queue;
use crate::app::pos::LocalCaches;
use crate::app::staff::{self, Bootstrap};
use crate::app::{stats, sweep, Policy};
use crate::auth::password;
use crate::auth::qr::QrKeys;
use crate::auth::tokens::{HolderTokens, StaffTokens};
use crate::cache::Cache;
use crate::crypto::DataCipher;
use crate::db::{self, Db};
use crate::error::{AppError, Code};
use crate::settings::Settings;
use crate::state::{AppState, Keys};
use crate::telemetry::Metrics;
use crate::{http, routes};

/// A built, bound, migrated application, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yongjun API",
        description = "Yongjun (拥军): partner-merchant discount network for military personnel, their families, \
            veterans and other entitled beneficiaries. Errors are RFC 9457 problem+json with a \
            stable `code` (schema `ErrorCode` lists them all).",
        version = "1.0.0"
    ),
    servers((url = "/")),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::error::Code))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |format: Option<&str>, description: &str| {
            let mut builder = HttpBuilder::new().scheme(HttpAuthScheme::Bearer);
            if let Some(format) = format {
                builder = builder.bearer_format(format);
            }
            SecurityScheme::Http(builder.description(Some(description)).build())
        };
        components.add_security_scheme(
            "staff",
            bearer(
                Some("JWT"),
                "Staff access token from POST /api/v1/auth/login",
            ),
        );
        components.add_security_scheme(
            "terminal",
            bearer(
                None,
                "A point-of-sale terminal's API key from POST /api/v1/merchant/terminals",
            ),
        );
        components.add_security_scheme(
            "holder",
            bearer(
                Some("JWT"),
                "Holder access token from POST /api/v1/holder/activate",
            ),
        );
    }
}

/// Registers every route on `app` and collects the OpenAPI document from the same
/// registrations, so the spec cannot list a route that is not served or miss one that is.
fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
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
    let (_, mut spec) = register(App::new().into_utoipa_app()).split_for_parts();
    http::contract::complete(&mut spec);
    spec
}

pub fn openapi_yaml() -> anyhow::Result<String> {
    openapi()
        .to_yaml()
        .context("rendering the OpenAPI document")
}

/// The database pool and the cache the settings name.
pub async fn connect(settings: &Settings, pool_size: usize) -> anyhow::Result<(Db, Cache)> {
    let db = Db::connect(&settings.database, pool_size).await?;
    let cache = match &settings.redis_url {
        Some(url) => Cache::redis(url, &settings.cache_prefix)?.with_outbox(db.clone()),
        None => Cache::memory(),
    };
    // A healthy Redis is trusted within milliseconds; a dead one is noticed at once.
    cache.settle(Duration::from_secs(2)).await;
    Ok((db, cache))
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
        let (db, cache) = connect(&settings, settings.db_pool_size).await?;
        match &settings.database {
            db::DatabaseTarget::Postgres(_) => tracing::info!(
                database = "postgresql",
                cache = cache.backend_name(),
                "backends in use"
            ),
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
        let state = web::Data::new(build_state(&settings, db, cache).await?);
        spawn_background(&state, settings.sweep_interval_secs);

        let app_state = state.clone();
        let body_timeout = Duration::from_secs(settings.body_timeout_secs);
        // Read by `http::client::ClientAddr`.
        let trusted_proxies = web::Data::new(settings.trusted_proxies.clone());
        // Reference routes for docs/benchmarks.md; off unless asked for.
        let bench_routes = std::env::var("YONGJUN_BENCH_ROUTES").is_ok_and(|v| v == "1");
        if bench_routes {
            tracing::warn!("YONGJUN_BENCH_ROUTES=1: /bench/hello and /bench/reference are served");
        }
        let cors_origins = settings.cors_origins.clone();
        let server = HttpServer::new(move || {
            let (app, _) = register(
                App::new()
                    .wrap(from_fn(http::caching::conditional))
                    .wrap(from_fn(http::guard::guard))
                    .wrap(actix_web::middleware::Condition::new(
                        !cors_origins.is_empty(),
                        http::headers::cors(&cors_origins),
                    ))
                    .wrap(from_fn(http::headers::secure))
                    .wrap(from_fn(http::observe::observe))
                    .app_data(app_state.clone())
                    .app_data(trusted_proxies.clone())
                    .app_data(http::json::query_config())
                    .app_data(http::json::path_config())
                    .app_data(http::guard::BodyTimeout(body_timeout))
                    .into_utoipa_app(),
            )
            .configure(|cfg| {
                routes::console::routes(cfg);
                if bench_routes {
                    routes::bench::routes(cfg)
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

/// The state every handler reaches, from the settings.
async fn build_state(settings: &Settings, db: Db, cache: Cache) -> anyhow::Result<AppState> {
    let secret = settings.jwt_secret.expose_secret().as_bytes();
    let previous: Vec<&str> = settings
        .previous_signing_key_pem
        .iter()
        .map(|p| p.expose_secret())
        .collect();
    let redemptions = redemption_queue(&db, settings.redeem_batches, settings.redeem_batch_max);
    match crate::app::offers::recount_quotas(&db).await {
        Ok(0) => {}
        Ok(offers) => tracing::info!(
            offers,
            "limited offers' shown counts recounted from their shards"
        ),
        Err(error) => tracing::warn!(%error, "recounting the limited offers' shown counts failed"),
    }
    Ok(AppState {
        db,
        cache,
        keys: Keys {
            staff_tokens: StaffTokens::new(secret, settings.staff_token_ttl_secs),
            holder_tokens: HolderTokens::new(secret),
            qr: QrKeys::with_previous(settings.signing_key_pem.expose_secret(), &previous)?,
            cipher: DataCipher::new(settings.data_key.expose_secret()),
            dummy_password_hash: password::hash_blocking(uuid::Uuid::new_v4().to_string()).await?,
        },
        pos: LocalCaches::new(),
        redemptions,
        policy: policy(settings),
        metrics: Metrics::new()?,
        openapi_yaml: openapi_yaml()?,
    })
}

/// The rules the use cases follow, from the settings.
pub fn policy(settings: &Settings) -> Policy {
    Policy {
        required_departments: settings.required_departments.clone(),
        public_notice_days: settings.public_notice_days,
        qr_ttl_secs: settings.qr_ttl_secs,
        offline_max_age_hours: settings.offline_max_age_hours,
        max_bill_fen: settings.max_bill_fen,
        revocations_valid_hours: settings.revocations_valid_hours,
        exit_review: settings.exit_review,
        clock: crate::app::Clock::from_setting(settings.today),
    }
}

/// What runs beside the server: this process's copies follow every invalidation any
/// process announces, and the closed months are summed for the figures.
fn spawn_background(state: &web::Data<AppState>, sweep_every_secs: u64) {
    let mut heard = state.cache.subscribe_invalidations();
    let listener = state.clone();
    tokio::spawn(async move {
        loop {
            match heard.recv().await {
                Ok(keys) => listener.pos.forget(Some(&keys)),
                // Missed some: forget every copy rather than keep a stale one.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    listener.pos.forget(None)
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let warm = state.clone();
    tokio::spawn(async move {
        match stats::warm_rollup(&warm.db).await {
            Ok(0) => {}
            Ok(months) => tracing::info!(months, "redemption rollup summed"),
            Err(error) => tracing::warn!(%error, "summing the redemption rollup failed"),
        }
    });
    if sweep_every_secs > 0 {
        let sweeper = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(sweep_every_secs));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(error) = sweep::sweep(&sweeper.db, &sweeper.cache).await {
                    tracing::warn!(error = %error.describe(), "the expiry sweep failed; retrying at the next interval");
                }
            }
        });
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::not_found(Code::NotFound, "no such route"))
}

/// The first administrator, when there is no staff account yet.
async fn bootstrap_admin(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let password = settings
        .bootstrap_admin_password
        .as_ref()
        .map(|p| p.expose_secret());
    match staff::bootstrap_admin(db, password)
        .await
        .map_err(|e| anyhow::anyhow!("creating the bootstrap admin: {}", e.describe()))?
    {
        Bootstrap::AlreadyDone => {}
        Bootstrap::Created => {
            tracing::info!("created the bootstrap admin from YONGJUN_BOOTSTRAP_ADMIN_PASSWORD")
        }
        Bootstrap::CreatedWithPassword(password) => {
            // Printed to the console only, once; never logged.
            eprintln!(
                "\n  Created the first administrator account.\n  user name: admin\n  password:  {password}\n  Keep it now: it will not be shown again.\n"
            );
            tracing::warn!(
                "created the bootstrap admin with a random password (printed on the console)"
            );
        }
    }
    Ok(())
}
