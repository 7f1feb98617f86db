//! Request body and query extraction with problem+json errors that name the field.

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{AppError, Code, FieldError};

/// Largest JSON body accepted (actix's default payload limit).
const JSON_LIMIT: usize = 256 * 1024;

/// A JSON request body. Malformed JSON is 400 `invalid_json`; JSON of the wrong shape is
/// 422 `validation_failed` naming the field.
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        // The content type is not enforced: point-of-sale terminals send what they send.
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                AppError::bad_request(
                    Code::InvalidJson,
                    format!("the request body could not be read: {e}"),
                )
            })?;
            if bytes.len() > JSON_LIMIT {
                return Err(AppError::payload_too_large(format!(
                    "the body may be at most {JSON_LIMIT} bytes"
                )));
            }
            parse_json(&bytes).map(Json)
        })
    }
}

/// Parses a JSON body into `T`, mapping errors as [`Json`] does.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|e| {
                AppError::bad_request(Code::InvalidJson, format!("malformed JSON: {e}"))
            })?;
            Ok(value)
        }
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    Err(AppError::validation(vec![field_error(&path, &inner)]))
                }
                _ => Err(AppError::bad_request(
                    Code::InvalidJson,
                    format!("malformed JSON: {inner}"),
                )),
            }
        }
    }
}

/// Names the field of a serde error: the path when it has one, else the field a
/// "missing field `x`" message names.
fn field_error(path: &str, error: &impl std::fmt::Display) -> FieldError {
    let message = error.to_string();
    // serde_json appends " at line L column C"; the cashier does not need it.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    if path != "." && !path.is_empty() {
        return FieldError::new(path, message);
    }
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match missing {
        Some(field) => FieldError::new(field, "is required"),
        None => FieldError::new("body", message),
    }
}

/// Query strings that do not parse are 422 `validation_failed`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        let message = error.to_string();
        let message = message
            .strip_prefix("Query deserialize error: ")
            .unwrap_or(&message)
            .to_owned();
        AppError::validation(vec![FieldError::new("query", message)]).into()
    })
}

/// Path segments that do not parse (a malformed id) are 404: nothing lives there.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_error, _req| {
        AppError::not_found(Code::NotFound, "no such resource").into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Login {
        username: String,
        attempts: u32,
    }

    #[test]
    fn syntax_errors_are_invalid_json() {
        let error = parse_json::<Login>(b"{\"username\": ").unwrap_err();
        assert_eq!(error.code, Code::InvalidJson);
        assert_eq!(error.status(), 400);
        let error = parse_json::<Login>(b"").unwrap_err();
        assert_eq!(error.code, Code::InvalidJson);
    }

    #[test]
    fn shape_errors_name_the_field() {
        let error = parse_json::<Login>(br#"{"username": "a"}"#).unwrap_err();
        assert_eq!(error.code, Code::ValidationFailed);
        assert_eq!(
            error.errors,
            vec![FieldError::new("attempts", "is required")]
        );

        let error = parse_json::<Login>(br#"{"username": "a", "attempts": "x"}"#).unwrap_err();
        assert_eq!(error.errors[0].field, "attempts");
        assert!(error.errors[0].message.starts_with("invalid type"));
    }
}
