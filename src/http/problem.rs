//! An [`AppError`] as an HTTP answer: RFC 9457 `application/problem+json`. A server
//! error is logged with its whole cause chain; its body says nothing internal.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{AppError, RateLimit};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if !self.kind.is_refusal() {
            // `{:#}` on anyhow prints the whole cause chain on one line.
            match &self.source {
                Some(source) => {
                    tracing::error!(code = %self.code, error = %format!("{source:#}"), "request failed")
                }
                None => tracing::error!(code = %self.code, "request failed"),
            }
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(limit) = self.rate_limit {
            for (name, value) in rate_limit_fields(limit) {
                response.insert_header((name, value));
            }
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// The `RateLimit-Policy` and `RateLimit` fields of a used-up limit, in the syntax of
/// draft-ietf-httpapi-ratelimit-headers-10 (the same as -08 and -09): Structured Field
/// lists of a quoted policy name with parameters, `q` the quota and `w` the window in
/// seconds for the policy, `r` the quota remaining and `t` the seconds until it is
/// restored for the current state. The refusal lasts until the window has passed, so
/// `t` is the window, as `Retry-After` is (an upper bound: the oldest failure of the
/// window may age out sooner).
pub fn rate_limit_fields(limit: &RateLimit) -> [(&'static str, String); 2] {
    let name = limit.policy;
    [
        (
            "RateLimit-Policy",
            format!("\"{name}\";q={};w={}", limit.quota, limit.window_secs),
        ),
        (
            "RateLimit",
            format!("\"{name}\";r=0;t={}", limit.window_secs),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use actix_web::body::MessageBody;

    #[test]
    fn an_error_answers_problem_json_with_its_status_and_retry_after() {
        let response = AppError::too_many_attempts(900).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "900");
        assert!(response.headers().get("ratelimit").is_none());
        static LOGIN: RateLimit = RateLimit {
            policy: "login",
            quota: 10,
            window_secs: 900,
        };
        let limited = AppError::rate_limited(&LOGIN).error_response();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers().get(header::RETRY_AFTER).unwrap(), "900");
        assert_eq!(
            limited.headers().get("ratelimit-policy").unwrap(),
            "\"login\";q=10;w=900"
        );
        assert_eq!(
            limited.headers().get("ratelimit").unwrap(),
            "\"login\";r=0;t=900"
        );
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let response =
            AppError::not_found(Code::RegionNotFound, "no region has code 999999").error_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let bytes = response.into_body().try_into_bytes().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["code"], "region_not_found");
        assert_eq!(json["title"], "Not Found");
    }
}
