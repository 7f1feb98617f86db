//! Liveness, readiness, metrics and the OpenAPI document.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::State;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "ok", "cache": "ok",
    "database_backend": "postgresql", "cache_backend": "redis"}))]
pub struct Readiness {
    /// `ready` or `unavailable`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok` or what failed, per dependency.
    pub database: String,
    pub cache: String,
    #[schema(example = "postgresql")]
    pub database_backend: &'static str,
    #[schema(example = "redis")]
    pub cache_backend: &'static str,
}

/// The process is alive.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The database and the cache both answer; 503 naming what failed otherwise.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Readiness),
    (status = 503, body = Readiness, description = "a dependency is out of reach")))]
#[get("/readyz")]
pub async fn readyz(state: State) -> HttpResponse {
    let (database, cache) = tokio::join!(state.db.ping(), state.cache.ping());
    let ready = database.is_ok() && cache.is_ok();
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        database: database.map_or_else(|e| format!("unavailable: {e:#}"), |_| "ok".into()),
        cache: cache.map_or_else(|e| format!("unavailable: {e}"), |_| "ok".into()),
        database_backend: state.db.backend_name(),
        cache_backend: state.cache.backend_name(),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain", body = String,
    example = "# HELP yongjun_http_requests_total HTTP requests by route and status\n\
# TYPE yongjun_http_requests_total counter\n\
yongjun_http_requests_total{method=\"POST\",route=\"/api/v1/pos/verify\",status=\"200\"} 1824\n\
# HELP yongjun_dependency_state Pool sizes and dependency health (1 up, 0 down)\n\
# TYPE yongjun_dependency_state gauge\n\
yongjun_dependency_state{name=\"cache_up\"} 1\n\
yongjun_dependency_state{name=\"db_pool_available\"} 14\n\
yongjun_dependency_state{name=\"db_pool_size\"} 16\n")))]
#[get("/metrics")]
pub async fn metrics(state: State) -> HttpResponse {
    let text = state.metrics.render(&state.db, &state.cache).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

/// This API's contract.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "application/yaml", body = serde_json::Value,
    example = "openapi: 3.1.0\ninfo:\n  title: Yongjun API\n  version: 1.0.0\npaths:\n  /healthz:\n    get:\n      tags:\n      - operations\n      operationId: healthz\n")))]
#[get("/openapi.yaml")]
pub async fn openapi_yaml(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(state.openapi_yaml.clone())
}
