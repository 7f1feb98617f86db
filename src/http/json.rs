//! Request body and query extraction with problem+json errors that name the field. A
//! string of a body holding a control character (a NUL above all, which PostgreSQL
//! cannot store in text) is refused here, for every body, naming its JSON path; the
//! path and the query string are screened by `http::guard`.

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{AppError, Code, FieldError};
use crate::validate::{control_character, control_message};

/// Largest JSON body accepted (actix's default payload limit).
const JSON_LIMIT: usize = 256 * 1024;

/// A JSON request body. Malformed JSON is 400 `invalid_json`; JSON of the wrong shape,
/// or a string holding a control character, is 422 `validation_failed` naming the field.
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
    screen_strings(bytes)?;
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

/// Refuses a body any of whose strings (or member names) holds a control character,
/// naming each as serde_path_to_error would (`items[2].name`). Line breaks and tabs pass
/// here: free text may hold them, and `Fields::text` refuses them in one-line fields.
///
/// A raw C0 character in a string is already malformed JSON, so only a body with an
/// escape (`\u…`), a raw DEL or a raw C1 character can hold one; only such a body is
/// parsed a second time to look (the point of sale sends none).
fn screen_strings(bytes: &[u8]) -> Result<(), AppError> {
    let suspect = bytes.contains(&0x7f)
        || bytes
            .windows(2)
            .any(|w| w == b"\\u" || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1])));
    if !suspect {
        return Ok(());
    }
    // Malformed JSON: the parse proper says how.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    screen_value(&value, &mut String::new(), &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

fn screen_value(value: &serde_json::Value, path: &mut String, errors: &mut Vec<FieldError>) {
    let field = |path: &str| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        serde_json::Value::String(text) => {
            if let Some(c) = control_character(text, true) {
                errors.push(FieldError::new(field(path), control_message(c)));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                screen_value(item, path, errors);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(members) => {
            for (key, item) in members {
                if let Some(c) = control_character(key, false) {
                    errors.push(FieldError::new(
                        field(path),
                        format!("a member name {}", control_message(c)),
                    ));
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                screen_value(item, path, errors);
                path.truncate(len);
            }
        }
        _ => {}
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
    fn control_characters_in_strings_are_refused_by_their_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Form {
            name: String,
            items: Vec<Login>,
        }
        let body = r#"{"name": "a\u0000b", "items": [{"username": "ok", "attempts": 1},
            {"username": "x\u001by", "attempts": 2}]}"#;
        let error = parse_json::<Form>(body.as_bytes()).unwrap_err();
        assert_eq!(error.code, Code::ValidationFailed);
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        // Members in name order (serde_json's map), each bad string named.
        assert_eq!(fields, vec!["items[1].username", "name"]);
        assert_eq!(
            error.errors[1].message,
            "must not contain control characters (holds U+0000)"
        );
        // C1 raw or escaped, and DEL.
        for body in [
            "{\"username\": \"a\u{85}\", \"attempts\": 1}",
            r#"{"username": "a\u0085", "attempts": 1}"#,
            "{\"username\": \"a\u{7f}\", \"attempts\": 1}",
            r#"{"username": "a", "attempts": 1, "extra\u0000": 1}"#,
        ] {
            let error = parse_json::<Login>(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, Code::ValidationFailed, "{body}");
        }
        // Line breaks, tabs, other escapes and an escaped backslash pass.
        let ok = r#"{"username": "a\nb\r\n\tc \u00e9 \\u0000 拥军", "attempts": 1}"#;
        let login = parse_json::<Login>(ok.as_bytes()).unwrap();
        assert_eq!(login.username, "a\nb\r\n\tc é \\u0000 拥军");
        // Malformed JSON is still 400.
        let error = parse_json::<Login>(br#"{"username": "\u0000"#).unwrap_err();
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
