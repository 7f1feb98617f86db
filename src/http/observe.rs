//! Request ids, the request's span and summary line, and its metrics: a middleware
//! around every route.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
