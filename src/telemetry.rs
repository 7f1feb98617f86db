//! Logs and Prometheus metrics. The request middleware that feeds them is
//! `http::observe`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use tracing_subscriber::EnvFilter;

use crate::cache::Cache;
use crate::db::Db;
use crate::settings::Environment;

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
    /// Copied from the cache's own counts at scrape time (under the lock, so two
    /// scrapes at once do not both add the difference).
    cache_counters: std::sync::Mutex<CacheCounters>,
}

struct CacheCounters {
    failed_invalidations: IntCounter,
    reconnects: IntCounter,
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
        let cache_counters = CacheCounters {
            failed_invalidations: IntCounter::new(
                "cache_invalidations_failed_total",
                "Cache invalidations not delivered at once (kept pending until delivered)",
            )?,
            reconnects: IntCounter::new(
                "cache_reconnects_total",
                "Redis connections thrown away and built again after a failed probe",
            )?,
        };
        registry.register(Box::new(cache_counters.failed_invalidations.clone()))?;
        registry.register(Box::new(cache_counters.reconnects.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            gauges,
            cache_counters: std::sync::Mutex::new(cache_counters),
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The Prometheus text exposition, after sampling the gauges.
    pub async fn render(&self, db: &Db, cache: &Cache) -> String {
        let (size, available) = db.pool_status();
        self.gauges
            .with_label_values(&["db_pool_size"])
            .set(size as i64);
        self.gauges
            .with_label_values(&["db_pool_available"])
            .set(available as i64);
        let cache_up = cache.ping().await.is_ok();
        self.gauges
            .with_label_values(&["cache_up"])
            .set(i64::from(cache_up));
        let health = cache.health();
        self.gauges
            .with_label_values(&["cache_trusted"])
            .set(i64::from(health.trusted));
        self.gauges
            .with_label_values(&["cache_invalidations_pending"])
            .set(health.pending_invalidations as i64);
        {
            let counters = self
                .cache_counters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let catch_up = |counter: &IntCounter, total: u64| {
                counter.inc_by(total.saturating_sub(counter.get()));
            };
            catch_up(&counters.failed_invalidations, health.failed_invalidations);
            catch_up(&counters.reconnects, health.reconnects);
        }
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}
