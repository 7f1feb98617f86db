//! Logs, request ids and Prometheus metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::settings::Environment;
use crate::startup::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber: human-readable in development, JSON in production.
/// The filter comes from `YONGJUN_LOG` (or `RUST_LOG`), default `info`.
pub fn init_tracing(environment: Environment) {
    let filter = std::env::var("YONGJUN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .map(EnvFilter::new)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match environment {
        Environment::Production => builder.json().with_current_span(true).try_init(),
        Environment::Development => builder.try_init(),
    };
}

/// Request counters and latency histograms by route and status, plus pool and cache
/// gauges sampled at scrape time.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    gauges: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("yongjun".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let gauges = IntGaugeVec::new(
            Opts::new(
                "dependency_state",
                "Pool sizes and dependency health (1 up, 0 down)",
            ),
            &["name"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(gauges.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            gauges,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The Prometheus text exposition, after sampling the gauges.
    pub async fn render(&self, state: &AppState) -> String {
        let (size, available) = state.db.pool_status();
        self.gauges
            .with_label_values(&["db_pool_size"])
            .set(size as i64);
        self.gauges
            .with_label_values(&["db_pool_available"])
            .set(available as i64);
        let cache_up = state.cache.ping().await.is_ok();
        self.gauges
            .with_label_values(&["cache_up"])
            .set(i64::from(cache_up));
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

fn acceptable_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| value.to_owned())
}

/// Gives every request an id (the caller's `x-request-id` when sane), a span that
/// every log line of the request carries, one summary line, and metrics. Only the route
/// pattern is logged, never the path or query, which may carry personal data.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();
    // The request runs as a task of its own, so that a client hanging up does not drop
    // it half-way: diesel-async's SQLite wrapper cannot be cancelled mid-query on a
    // current-thread runtime (it would block_in_place, which panics there), and a
    // half-run handler is worse than a finished one nobody reads.
    let handled = actix_web::rt::spawn(next.call(req).instrument(span.clone())).await;
    let mut response = match handled {
        Ok(result) => result?,
        Err(join_error) => {
            span.in_scope(|| tracing::error!(error = %join_error, "request handler panicked"));
            return Err(actix_web::error::ErrorInternalServerError("internal_error"));
        }
    };
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Some(state) = state {
        state
            .metrics
            .observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}
