//! The holder's app: activating a card, its tokens, and the card itself.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::holders;
use crate::app::identity::Holder;
use crate::auth::tokens::TokenPair;
use crate::db;
use crate::http::client::ClientAddr;
use crate::http::{utc, Json, Reply, State};

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"card_no": "8860123456789017", "activation_code": "K7M2Q9XH4P"}))]
#[schema(as = CardActivationRequest)]
pub struct ActivateRequest {
    pub card_no: String,
    pub activation_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJ…", "refresh_token": "eyJ…", "token_type": "Bearer", "expires_in": 3600}))]
pub struct HolderTokensView {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

impl From<TokenPair> for HolderTokensView {
    fn from(pair: TokenPair) -> HolderTokensView {
        HolderTokensView {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

/// Activates a card in the holder's app with the card number and the one-time
/// activation code. Five wrong tries for one card number from one client address
/// refuse that card from there for 15 minutes (policy `activation`), twenty from one
/// address (any cards) every card from it (`activation-address`); the holder on
/// another address is not affected.
#[utoipa::path(operation_id = "activate_card", tag = "holder", request_body = ActivateRequest, responses(
    (status = 200, body = HolderTokensView),
    (status = 401, body = crate::error::Problem, description = "`invalid_activation`: wrong or used pair"),
    (status = 409, body = crate::error::Problem, description = "`card_not_active` (with `card_status`)"),
    (status = 429, body = crate::error::Problem, description = "`too_many_attempts`: policy `activation` (one card from one address) or `activation-address` (any cards from one address)", headers(
        ("Retry-After" = u64, description = "Seconds until the refusal ends, at the latest"),
        ("RateLimit-Policy" = String, description = "The limit met (draft-ietf-httpapi-ratelimit-headers-10), e.g. `\"activation\";q=5;w=900`"),
        ("RateLimit" = String, description = "Its state, e.g. `\"activation\";r=0;t=900`")))))]
#[post("/holder/activate")]
#[tracing::instrument(name = "activate_card", skip_all)]
pub async fn activate(
    state: State,
    client: ClientAddr,
    body: Json<ActivateRequest>,
) -> Reply<HolderTokensView> {
    let pair = holders::activate(
        &state.db,
        &state.keys.cipher,
        &state.keys.holder_tokens,
        &body.card_no,
        &body.activation_code,
        client.0,
    )
    .await?;
    Ok(web::Json(pair.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "eyJhbGciOiJIUzI1NiJ9…"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// New tokens for an active card (for example after a suspension is lifted). Twenty
/// invalid refresh tokens from one client address in 15 minutes refuse every refresh
/// from there until the window passes (policy `token-refresh`).
#[utoipa::path(operation_id = "refresh_holder_token", tag = "holder", request_body = RefreshRequest, responses(
    (status = 200, body = HolderTokensView),
    (status = 401, body = crate::error::Problem, description = "`invalid_refresh_token`, `token_revoked` (card not active)"),
    (status = 429, body = crate::error::Problem, description = "`too_many_attempts`: policy `token-refresh` (invalid tokens from one address)", headers(
        ("Retry-After" = u64, description = "Seconds until the refusal ends, at the latest"),
        ("RateLimit-Policy" = String, description = "The limit met (draft-ietf-httpapi-ratelimit-headers-10), e.g. `\"token-refresh\";q=20;w=900`"),
        ("RateLimit" = String, description = "Its state, e.g. `\"token-refresh\";r=0;t=900`")))))]
#[post("/holder/token/refresh")]
pub async fn refresh(
    state: State,
    client: ClientAddr,
    body: Json<RefreshRequest>,
) -> Reply<HolderTokensView> {
    let pair = holders::refresh(
        &state.db,
        &state.keys.holder_tokens,
        &body.refresh_token,
        client.0,
    )
    .await?;
    Ok(web::Json(pair.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolderInfo {
    pub name: String,
    pub category: String,
    pub honors: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"card_no": "8860123456789017", "product": "general", "status": "active",
    "expires_at": "2031-11-22T08:00:00Z", "holder": {"name": "张三明", "category": "veteran", "honors": ["third_class_merit"]}}))]
pub struct HolderCard {
    pub card_no: String,
    pub product: String,
    pub status: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub holder: HolderInfo,
}

/// The holder's own card.
#[utoipa::path(tag = "holder", security(("holder" = [])), responses(
    (status = 200, body = HolderCard),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`, `token_revoked`")))]
#[get("/holder/card")]
pub async fn holder_card(state: State, holder: Holder) -> Reply<HolderCard> {
    let beneficiary = holders::beneficiary(&state.db, &holder).await?;
    Ok(web::Json(HolderCard {
        card_no: holder.card.card_no.clone(),
        product: holder.card.product.clone(),
        status: holder.card.effective_status(db::now())?.as_str().to_owned(),
        expires_at: utc(holder.card.expires_at),
        holder: HolderInfo {
            honors: beneficiary.honors(),
            name: beneficiary.name,
            category: beneficiary.category,
        },
    }))
}
