//! A merchant's point-of-sale terminals (their API keys are shown once), and the
//! holder's card QR token with the keys that verify it.

use actix_web::{
    delete, get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::identity::{Holder, MerchantStaff, Terminal};
use crate::app::pos;
use crate::db::terminals::TerminalRow;
use crate::db::TerminalId;
use crate::error::AppResult;
use crate::http::{utc, Json, PageQuery, Paged, Reply, State};
use crate::validate::Fields;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "一号收银台",
    "created_at": "2026-11-22T08:00:00Z"}))]
pub struct TerminalView {
    pub id: TerminalId,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<TerminalRow> for TerminalView {
    fn from(row: TerminalRow) -> TerminalView {
        TerminalView {
            id: row.id,
            name: row.name,
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "一号收银台",
    "created_at": "2026-11-22T08:00:00Z", "api_key": "yjt_3kq9…"}))]
pub struct NewTerminalView {
    #[serde(flatten)]
    pub terminal: TerminalView,
    /// Shown only here; stored as a keyed hash.
    pub api_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "一号收银台"}))]
pub struct TerminalRequest {
    pub name: Option<String>,
}

/// Registers a point-of-sale terminal of the caller's merchant; its API key is shown once.
#[utoipa::path(tag = "pos", request_body = TerminalRequest, security(("staff" = [])), responses(
    (status = 201, body = NewTerminalView)))]
#[post("/merchant/terminals")]
pub async fn create_terminal(
    state: State,
    staff: MerchantStaff,
    body: Json<TerminalRequest>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let name = f.text("name", body.name.as_deref(), 50);
    let name = f.finish(name)?;
    let (row, api_key) = pos::create_terminal(&state.db, &state.keys.cipher, &staff, name).await?;
    Ok(HttpResponse::Created().json(NewTerminalView {
        terminal: row.into(),
        api_key,
    }))
}

/// The caller's merchant's terminals.
#[utoipa::path(tag = "pos", params(PageQuery), security(("staff" = [])),
    responses((status = 200, body = Paged<TerminalView>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "一号收银台", "created_at": "2026-11-22T08:00:00Z"}],
        "total": 1, "page": 1, "per_page": 20}))))]
#[get("/merchant/terminals")]
pub async fn list_terminals(
    state: State,
    staff: MerchantStaff,
    query: Query<PageQuery>,
) -> Reply<Paged<TerminalView>> {
    let mut f = Fields::new();
    let page = query.page(&mut f);
    let page = f.finish(page)?;
    let rows = pos::terminals(&state.db, &staff).await?;
    Ok(web::Json(Paged::slice(page, rows, TerminalView::from)))
}

/// Deletes a terminal: its key is refused at once, in every process.
#[utoipa::path(tag = "pos", params(("id" = TerminalId, Path)), security(("staff" = [])), responses(
    (status = 204, description = "deleted"),
    (status = 404, body = crate::error::Problem, description = "`terminal_not_found`")))]
#[delete("/merchant/terminals/{id}")]
pub async fn delete_terminal(
    state: State,
    staff: MerchantStaff,
    id: Path<TerminalId>,
) -> AppResult<HttpResponse> {
    pos::delete_terminal(&state.db, &state.cache, &state.pos, &staff, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9…", "expires_at": "2026-11-22T08:01:00Z",
    "svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"330\" height=\"330\" viewBox=\"0 0 330 330\">…</svg>"}))]
pub struct QrToken {
    /// Compact JWS (EdDSA); show it as a QR code and refresh it before it expires.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The token as a QR code (SVG markup, black on white, with its quiet zone), for an
    /// app or page that would rather not draw one itself.
    pub svg: String,
}

/// A fresh QR token for the holder's card (default lifetime 60 s).
#[utoipa::path(tag = "holder", security(("holder" = [])), responses(
    (status = 200, body = QrToken),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`, `token_revoked` (card not active)")))]
#[post("/holder/card/qr")]
pub async fn card_qr(state: State, holder: Holder) -> Reply<QrToken> {
    let (token, claims) = pos::card_qr(&state.keys.qr, state.policy.qr_ttl_secs, &holder)?;
    let svg = qr_svg(&token)?;
    Ok(web::Json(QrToken {
        token,
        expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
        svg,
    }))
}

/// A QR code of `text` as SVG (error correction M: a phone screen scanned under a till's
/// light loses little).
fn qr_svg(text: &str) -> AppResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// The calling till: its merchant and that merchant's status (for a till's first start,
/// before any card was scanned).
#[utoipa::path(tag = "pos", security(("terminal" = [])), responses(
    (status = 200, body = pos::TerminalProfile)))]
#[get("/pos/terminal")]
pub async fn terminal_profile(state: State, terminal: Terminal) -> Reply<pos::TerminalProfile> {
    Ok(web::Json(
        pos::terminal_profile(&state.db, &terminal).await?,
    ))
}

/// The public keys that verify card QR tokens (more than one during a rotation).
#[utoipa::path(tag = "pos", responses((status = 200, content_type = "application/json", body = Object,
    example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "9f3c2a1b0d4e5f60", "alg": "EdDSA", "use": "sig"}]}))))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(state.keys.qr.jwks())
}
