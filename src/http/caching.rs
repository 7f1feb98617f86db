//! What a phone on a weak network is spared: the reads it repeats ([`CACHED_READS`])
//! carry a strong `ETag` of their body and a `Cache-Control` saying how long they may be
//! kept (`private` for a holder's own data), and answer `304 Not Modified` to an
//! `If-None-Match` naming that tag; the JSON answer of a read (`GET`) of at least
//! [`GZIP_FROM`] bytes is gzip-compressed when the client accepts it (flate2 on its
//! pure-Rust backend).
//!
//! The point of sale pays a method compare and no more: its verification and redemption
//! are `POST`s, answered as they come, however long.

use actix_web::body::{self, BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The reads a phone repeats (path templates, a `{…}` standing for one segment) and the
/// `Cache-Control` of their answers.
pub const CACHED_READS: &[(&str, &str)] = &[
    ("/api/v1/offers", "public, max-age=60"),
    ("/api/v1/merchants", "public, max-age=60"),
    ("/api/v1/merchants/{id}", "public, max-age=60"),
    ("/api/v1/regions", "public, max-age=3600"),
    ("/api/v1/holder/offers", "private, max-age=60"),
    ("/.well-known/jwks.json", "public, max-age=300"),
];

/// JSON answers this long or longer are compressed when the client accepts gzip; below
/// it, the gzip header and trailer cost about what they save.
pub const GZIP_FROM: usize = 1024;

/// The `Cache-Control` of a cached read at `path` (a concrete path), if it is one.
pub fn cache_control(path: &str) -> Option<&'static str> {
    CACHED_READS
        .iter()
        .find(|(template, _)| matches(template, path))
        .map(|(_, value)| *value)
}

fn matches(template: &str, path: &str) -> bool {
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && !g.is_empty() => continue,
            (Some(w), Some(g)) if w == g => continue,
            _ => return false,
        }
    }
}

/// Whether `Accept-Encoding` accepts gzip (named, or `*`, with a quality above zero).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            !refused && (name.eq_ignore_ascii_case("gzip") || name == "*")
        })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or_default().trim();
            essence == "application/json" || essence.ends_with("+json")
        })
}

/// The strong tag of a body: its SHA-256, cut to 128 bits; the gzip form of the same body
/// is another representation and gets `-gzip` after it.
fn entity_tag(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

/// Whether `If-None-Match` names the tag (in either encoding; compared weakly, as RFC
/// 9110 asks of this header) or is `*`.
pub fn is_fresh(if_none_match: Option<&HeaderValue>, tag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').any(|candidate| {
        let candidate = candidate.trim();
        let candidate = candidate.strip_prefix("W/").unwrap_or(candidate);
        candidate == "*"
            || candidate
                .strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
                .is_some_and(|c| c == tag || c.strip_suffix("-gzip") == Some(tag))
    })
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::default(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

/// The middleware: tags, 304s and gzip as the module says; every other answer passes as
/// it came.
pub async fn conditional<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error> {
    // Only reads: a write's answer (the till's verification and redemption above all)
    // is wanted at once, not smaller.
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let cached = cache_control(request.path());
    let gzip_accepted = accepts_gzip(request.headers());
    if cached.is_none() && !gzip_accepted {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let if_none_match = cached.and_then(|_| request.headers().get(header::IF_NONE_MATCH).cloned());
    let response = next.call(request).await?;
    let ok = response.status() == StatusCode::OK;
    let json = is_json(response.headers());
    let large =
        matches!(response.response().body().size(), BodySize::Sized(n) if n >= GZIP_FROM as u64);
    let compress = gzip_accepted && ok && json && large;
    if !compress && (cached.is_none() || !ok) {
        return Ok(response.map_into_left_body());
    }

    let (request, response) = response.into_parts();
    let (mut head, body) = response.into_parts();
    let bytes = body::to_bytes(body).await.map_err(|error| {
        let error: Box<dyn std::error::Error> = error.into();
        actix_web::error::ErrorInternalServerError(error.to_string())
    })?;
    let headers = head.headers_mut();
    if let Some(cache_control) = cached {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let tag = entity_tag(&bytes);
    let tag_header = |suffix: &str| {
        HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex is a header value")
    };
    let suffix = if compress { "-gzip" } else { "" };
    if cached.is_some() {
        headers.insert(header::ETAG, tag_header(suffix));
        if is_fresh(if_none_match.as_ref(), &tag) {
            headers.remove(header::CONTENT_TYPE);
            headers.remove(header::CONTENT_LENGTH);
            *head.status_mut() = StatusCode::NOT_MODIFIED;
            let response = head.set_body(body::None::new()).map_into_boxed_body();
            return Ok(ServiceResponse::new(request, response).map_into_right_body());
        }
    }
    let body = if compress {
        let compressed = gzip(&bytes).map_err(actix_web::error::ErrorInternalServerError)?;
        let headers = head.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        Bytes::from(compressed)
    } else {
        bytes
    };
    let response: HttpResponse<BoxBody> = head.set_body(body).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_reads_match_their_paths_only() {
        assert_eq!(cache_control("/api/v1/offers"), Some("public, max-age=60"));
        assert_eq!(
            cache_control("/api/v1/merchants/0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f"),
            Some("public, max-age=60")
        );
        assert_eq!(
            cache_control("/api/v1/holder/offers"),
            Some("private, max-age=60")
        );
        assert_eq!(cache_control("/api/v1/merchants/x/objections"), None);
        assert_eq!(cache_control("/api/v1/merchants/"), None);
        assert_eq!(cache_control("/api/v1/pos/redemptions"), None);
        assert_eq!(cache_control("/api/v1/regions/110000"), None);
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_names_the_tag_in_either_encoding() {
        let tag = entity_tag(b"[]");
        let value = |v: String| HeaderValue::from_str(&v).unwrap();
        assert!(is_fresh(Some(&value(format!("\"{tag}\""))), &tag));
        assert!(is_fresh(
            Some(&value(format!("\"x\", \"{tag}-gzip\""))),
            &tag
        ));
        assert!(is_fresh(Some(&HeaderValue::from_static("*")), &tag));
        assert!(is_fresh(Some(&value(format!("W/\"{tag}\""))), &tag));
        assert!(!is_fresh(
            Some(&HeaderValue::from_static("\"other\"")),
            &tag
        ));
        assert!(!is_fresh(None, &tag));
    }
}
