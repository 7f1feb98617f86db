//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::CacheError;
use crate::db::PoolUnavailable;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`region_code`, `items[2].name`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Not Found", "status": 404,
    "code": "region_not_found", "detail": "no region has code 999999"}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// Stable, machine-readable snake_case code.
    pub code: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (429 answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Further members particular to a code (RFC 9457 extension members), e.g.
    /// `current_status` of `invalid_transition`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// What went wrong inside; logged, never shown.
    #[source]
    pub source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            extensions: serde_json::Map::new(),
            source: None,
        }
    }

    /// Adds an extension member to the problem body.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// 422 `validation_failed`, listing each bad field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!("invalid fields: {}", fields.join(", "));
        Self {
            errors,
            ..Self::unprocessable("validation_failed", detail)
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed attempts; try again later",
            )
        }
    }

    /// 503: a dependency (database, cache) is out of reach.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "the service is temporarily unavailable; please retry shortly",
            )
        }
    }

    /// 500 with nothing internal in the body; the cause chain is logged.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "an unexpected error occurred",
            )
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            retry_after: self.retry_after,
            extensions: self.extensions.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            // `{:#}` on anyhow prints the whole cause chain on one line.
            match &self.source {
                Some(source) => {
                    tracing::error!(code = self.code, error = %format!("{source:#}"), "request failed")
                }
                None => tracing::error!(code = self.code, "request failed"),
            }
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// Database errors: outages are 503, everything else a 500.
impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        if is_connection_error(&error) {
            ApiError::unavailable(error)
        } else {
            ApiError::internal(error)
        }
    }
}

impl From<PoolUnavailable> for ApiError {
    fn from(error: PoolUnavailable) -> Self {
        ApiError::unavailable(error)
    }
}

impl From<CacheError> for ApiError {
    fn from(error: CacheError) -> Self {
        ApiError::unavailable(error)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        let outage = error.chain().any(|cause| {
            cause.is::<PoolUnavailable>()
                || cause.is::<CacheError>()
                || cause
                    .downcast_ref::<diesel::result::Error>()
                    .is_some_and(is_connection_error)
        });
        if outage {
            ApiError::unavailable(error)
        } else {
            ApiError::internal(error)
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::internal(error)
    }
}

/// Whether a diesel error means the database is out of reach (rather than a bad query).
pub fn is_connection_error(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
        | Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            // SQLSTATE class 57 (operator intervention) and 08 (connection exception)
            // arrive as `Unknown`; their messages are stable.
            message.starts_with("terminating connection")
                || message.contains("database system is shutting down")
                || message.contains("database system is starting up")
                || message.contains("does not exist") && message.starts_with("database")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_json(error: &ApiError) -> serde_json::Value {
        let response = error.error_response();
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let bytes = response.into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn not_found_renders_rfc9457() {
        let json = body_json(&ApiError::not_found(
            "region_not_found",
            "no region has code 999999",
        ));
        assert_eq!(
            json,
            serde_json::json!({"type": "about:blank", "title": "Not Found", "status": 404,
                "code": "region_not_found", "detail": "no region has code 999999"})
        );
    }

    #[test]
    fn validation_lists_each_field() {
        let json = body_json(&ApiError::validation(vec![
            FieldError::new("username", "must be 3 to 32 characters"),
            FieldError::new("role", "unknown role"),
        ]));
        assert_eq!(
            json,
            serde_json::json!({"type": "about:blank", "title": "Unprocessable Entity",
                "status": 422, "code": "validation_failed",
                "detail": "invalid fields: username, role",
                "errors": [{"field": "username", "message": "must be 3 to 32 characters"},
                           {"field": "role", "message": "unknown role"}]})
        );
    }

    #[test]
    fn internal_error_hides_the_cause() {
        let error = ApiError::internal(anyhow::anyhow!("password=hunter2 at db.rs:12"));
        let json = body_json(&error);
        assert_eq!(
            json,
            serde_json::json!({"type": "about:blank", "title": "Internal Server Error",
                "status": 500, "code": "internal_error",
                "detail": "an unexpected error occurred"})
        );
    }

    #[test]
    fn pool_outage_is_503() {
        let error: ApiError = anyhow::Error::new(PoolUnavailable("timed out".into()))
            .context("loading user")
            .into();
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        let json = body_json(&error);
        assert_eq!(json["code"], "service_unavailable");
        assert!(!json["detail"].as_str().unwrap().contains("timed out"));
    }

    #[test]
    fn throttled_carries_retry_after() {
        let response = ApiError::too_many_attempts(900).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "900");
    }

    #[test]
    fn closed_connection_is_an_outage() {
        let error = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("closed".to_string()),
        );
        assert_eq!(
            ApiError::from(error).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from(diesel::result::Error::NotFound).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
