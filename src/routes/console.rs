//! The web console: the pages under `console/` compiled into the binary (in a debug
//! build read from the folder, so a page can be changed without a rebuild). `/` is the
//! office and partner console, `/till` the cashier's page, `/card` the holder's, `/docs`
//! the API reference for app developers (Swagger UI, vendored in `console/assets/docs/`);
//! `/assets/…` the scripts and styles they load. Every file carries an `ETag` of its
//! content (a repeated request answers 304); pages use the public API only.

use actix_web::http::header::{self, EntityTag, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use crate::error::{AppError, AppResult, Code};
use crate::http::caching;

#[derive(RustEmbed)]
#[folder = "console/"]
struct Assets;

/// Registers the pages and their assets (outside the API, so outside the contract).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.route("/", web::get().to(office))
        .route("/till", web::get().to(till))
        .route("/card", web::get().to(card))
        .route("/docs", web::get().to(docs))
        .route("/assets/{path:.*}", web::get().to(asset));
}

async fn office(request: HttpRequest) -> AppResult<HttpResponse> {
    serve(&request, "index.html")
}

async fn till(request: HttpRequest) -> AppResult<HttpResponse> {
    serve(&request, "till.html")
}

async fn card(request: HttpRequest) -> AppResult<HttpResponse> {
    serve(&request, "card.html")
}

async fn docs(request: HttpRequest) -> AppResult<HttpResponse> {
    serve(&request, "docs.html")
}

async fn asset(request: HttpRequest, path: web::Path<String>) -> AppResult<HttpResponse> {
    let path = path.into_inner();
    // Pages live at their own routes; only the assets folder is reachable here.
    if path
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return Err(AppError::not_found(Code::NotFound, "no such file"));
    }
    serve(&request, &format!("assets/{path}"))
}

fn serve(request: &HttpRequest, path: &str) -> AppResult<HttpResponse> {
    let file =
        Assets::get(path).ok_or_else(|| AppError::not_found(Code::NotFound, "no such file"))?;
    let hash = hex::encode(&file.metadata.sha256_hash()[..12]);
    let fresh = caching::is_fresh(request.headers().get(header::IF_NONE_MATCH), &hash);
    let tag = EntityTag::new_strong(hash);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, tag.to_string()))
        // Revalidated each time: the ETag makes that a 304 without a body.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    if fresh {
        return Ok(response.finish());
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    Ok(response
        .insert_header((header::CONTENT_TYPE, content_type))
        .body(file.data.into_owned()))
}
