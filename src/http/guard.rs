//! What every request is screened for before a route reads it, in one middleware: a
//! control character in a path or query parameter (a NUL above all, which PostgreSQL
//! cannot store in text) is 422 `validation_failed` naming the parameter, and a body
//! that has not arrived within [`BodyTimeout`] of the request's start is cut off with
//! 408 `request_timeout`, whoever reads it (the JSON extractor, the import's upload).
//! Strings inside a JSON body are screened by `http::json`.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;

use crate::error::{AppError, FieldError};
use crate::validate::{control_character, control_message};

/// How long a request body may take to arrive, from the end of its headers: app data
/// (`YONGJUN_BODY_TIMEOUT_SECS`). Slow headers are actix's `client_request_timeout`.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        BodyTimeout(Duration::from_secs(10))
    }
}

/// The middleware: screens the path and the query string, then serves the request with
/// its body under the deadline; a body cut off answers 408, whatever the reader made
/// of the error.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let errors = screen(&req);
    if !errors.is_empty() {
        let error = AppError::validation(errors);
        return Ok(req.error_response(error).map_into_right_body());
    }
    let limit = req.app_data::<BodyTimeout>().copied().unwrap_or_default().0;
    let timed_out = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        req.set_payload(payload);
    } else {
        req.set_payload(Payload::Stream {
            payload: Box::pin(Deadline {
                inner: payload,
                at: tokio::time::Instant::now() + limit,
                sleep: None,
                timed_out: timed_out.clone(),
            }),
        });
    }
    let served = next.call(req).await;
    if !timed_out.get() {
        return served.map(ServiceResponse::map_into_left_body);
    }
    let error = AppError::request_timeout(format!(
        "the request body did not arrive within {} s",
        limit.as_secs_f64()
    ));
    match served {
        Ok(response) => {
            let (req, _) = response.into_parts();
            let response = ServiceResponse::new(req, error.error_response());
            Ok(response.map_into_right_body())
        }
        Err(_) => Err(error.into()),
    }
}

/// Each path parameter (named as the route names it) and each query parameter holding a
/// control character. Only what has a `%` escape can hold one; an unmatched path is left
/// to be 404.
fn screen(req: &ServiceRequest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let path = req.path();
    if path.contains('%') {
        if let Some(pattern) = req.match_pattern() {
            let names: Vec<&str> = pattern.split('/').collect();
            for (i, segment) in path.split('/').enumerate() {
                if let Some(c) = control_character(&decode(segment, false), false) {
                    let field = names.get(i).and_then(|n| parameter(n)).unwrap_or("path");
                    errors.push(FieldError::new(field, control_message(c)));
                }
            }
        }
    }
    let query = req.query_string();
    if query.contains('%') {
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key, true);
            if let Some(c) = control_character(&key, false) {
                errors.push(FieldError::new(
                    "query",
                    format!("a parameter name {}", control_message(c)),
                ));
            } else if let Some(c) = control_character(&decode(value, true), false) {
                errors.push(FieldError::new(key, control_message(c)));
            }
        }
    }
    errors
}

/// The name of a route segment that is one parameter: `{code}`, `{id:\d+}`.
fn parameter(segment: &str) -> Option<&str> {
    let inner = segment.strip_prefix('{')?.strip_suffix('}')?;
    let name = inner.split(':').next()?;
    (!name.is_empty() && !name.contains(['{', '}'])).then_some(name)
}

/// Percent-decoded text (and `+` as a space, in a query), invalid UTF-8 replaced.
fn decode(raw: &str, query: bool) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
        match bytes[i] {
            b'%' => {
                if let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if query => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request body that must have arrived by `at`: after it, the next wait for the client
/// is an error (and `timed_out` is set), so the reader stops and the middleware answers.
struct Deadline {
    inner: Payload,
    at: tokio::time::Instant,
    /// Made at the first wait only: a body that is there already needs no timer.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.timed_out.get() {
            return Poll::Ready(None);
        }
        if let ready @ Poll::Ready(_) = Pin::new(&mut this.inner).poll_next(cx) {
            return ready;
        }
        let at = this.at;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        match sleep.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                this.timed_out.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_parameters_are_named() {
        assert_eq!(decode("a%00b", false), "a\u{0}b");
        assert_eq!(decode("%E6%8B%A5+%25%2", true), "拥 %%2");
        assert_eq!(decode("a+b%", false), "a+b%");
        assert_eq!(decode("%zz%C2%85", false), "%zz\u{85}");
        assert_eq!(parameter("{code}"), Some("code"));
        assert_eq!(parameter("{id:\\d+}"), Some("id"));
        assert_eq!(parameter("regions"), None);
        assert_eq!(parameter("{a}-{b}"), None);
    }
}
