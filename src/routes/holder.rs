//! The holder's app: activating a card, its tokens, and the card itself.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::holder::{Holder, TokenPair};
use crate::db::{self, auth_failures, cards};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::routes::cards::activation_hash;
use crate::startup::AppState;

/// Failed activations per card number in the window before activation is refused.
pub const ACTIVATION_MAX_FAILURES: i64 = 5;
pub const ACTIVATION_WINDOW_SECS: i64 = 15 * 60;
const ACTIVATION_SCOPE: &str = "activation";

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"card_no": "8860123456789017", "activation_code": "K7M2Q9XH4P"}))]
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
/// activation code. Five wrong tries for one card number lock it for 15 minutes.
#[utoipa::path(tag = "holder", request_body = ActivateRequest, responses(
    (status = 200, body = HolderTokensView),
    (status = 401, body = crate::error::Problem, description = "`invalid_activation`: wrong or used pair"),
    (status = 409, body = crate::error::Problem, description = "`card_not_active` (with `card_status`)"),
    (status = 429, body = crate::error::Problem, description = "`too_many_attempts`")))]
#[post("/holder/activate")]
#[tracing::instrument(name = "activate_card", skip_all)]
pub async fn activate(
    state: web::Data<AppState>,
    body: Json<ActivateRequest>,
) -> ApiResult<web::Json<HolderTokensView>> {
    let card_no: String = body
        .card_no
        .chars()
        .filter(char::is_ascii_digit)
        .take(32)
        .collect();
    let window_start = db::now() - chrono::Duration::seconds(ACTIVATION_WINDOW_SECS);
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let failures =
        auth_failures::count_since(&mut conn, ACTIVATION_SCOPE, &card_no, window_start).await?;
    if failures >= ACTIVATION_MAX_FAILURES {
        return Err(ApiError::too_many_attempts(ACTIVATION_WINDOW_SECS as u64));
    }
    let hash = activation_hash(&state, &body.activation_code);
    let card = cards::find_by_no(&mut conn, &card_no).await?;
    let matches = card
        .as_ref()
        .is_some_and(|c| c.activation_code_hash.as_deref() == Some(hash.as_str()));
    let card = match card {
        Some(card) if matches => card,
        _ => {
            auth_failures::record(&mut conn, ACTIVATION_SCOPE, &card_no, window_start).await?;
            return Err(ApiError::unauthorized(
                "invalid_activation",
                "卡号或激活码不正确 (card number or activation code is wrong, or the code was used)",
            ));
        }
    };
    let now = db::now();
    let status = card.effective_status(now).to_owned();
    if status != "active" {
        return Err(
            ApiError::conflict("card_not_active", format!("the card is {status}"))
                .with("card_status", status),
        );
    }
    // The code works once, even for two requests racing with it.
    if !cards::consume_activation(&mut conn, card.id, &hash, now).await? {
        return Err(ApiError::unauthorized(
            "invalid_activation",
            "the activation code was already used",
        ));
    }
    auth_failures::clear(&mut conn, ACTIVATION_SCOPE, &card_no).await?;
    tracing::info!(card_id = %card.id, "card activated");
    Ok(web::Json(
        state.holder_tokens.issue(card.id, card.version)?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "eyJhbGciOiJIUzI1NiJ9…"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// New tokens for an active card (for example after a suspension is lifted).
#[utoipa::path(tag = "holder", request_body = RefreshRequest, responses(
    (status = 200, body = HolderTokensView),
    (status = 401, body = crate::error::Problem, description = "`invalid_refresh_token`, `token_revoked` (card not active)")))]
#[post("/holder/token/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<web::Json<HolderTokensView>> {
    let card_id = state
        .holder_tokens
        .check_refresh(&body.refresh_token)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_refresh_token",
                "the refresh token is invalid or expired",
            )
        })?;
    let mut pooled = state.db.get().await?;
    let card = cards::find(&mut pooled.conn(), card_id)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_refresh_token",
                "the refresh token is invalid or expired",
            )
        })?;
    let status = card.effective_status(db::now()).to_owned();
    if status != "active" {
        return Err(
            ApiError::unauthorized("token_revoked", format!("the card is {status}"))
                .with("card_status", status),
        );
    }
    Ok(web::Json(
        state.holder_tokens.issue(card.id, card.version)?.into(),
    ))
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
pub async fn holder_card(
    state: web::Data<AppState>,
    holder: Holder,
) -> ApiResult<web::Json<HolderCard>> {
    let mut pooled = state.db.get().await?;
    let beneficiary = db::beneficiaries::find(&mut pooled.conn(), holder.card.beneficiary_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("card without beneficiary")))?;
    Ok(web::Json(HolderCard {
        card_no: holder.card.card_no.clone(),
        product: holder.card.product.clone(),
        status: holder.card.effective_status(db::now()).to_owned(),
        expires_at: crate::routes::utc(holder.card.expires_at),
        holder: HolderInfo {
            honors: beneficiary.honors(),
            name: beneficiary.name,
            category: beneficiary.category,
        },
    }))
}
