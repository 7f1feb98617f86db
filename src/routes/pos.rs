//! The point of sale: terminals, card QR tokens, verification (the hot path, served
//! from the cache), idempotent quota-safe redemption, voids, and what a terminal needs
//! to keep verifying offline.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{delete, get, post, web, FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::{IntoParams, ToSchema};

use crate::auth::holder::Holder;
use crate::auth::qr::QrError;
use crate::auth::{bearer_token, MerchantStaff};
use crate::cache::keys;
use crate::db::audit::{self, AuditEntry};
use crate::db::cards::CardRow;
use crate::db::offers::{self, OfferRow, RedemptionOwner, RedemptionRow, TerminalRow};
use crate::db::{self, BeneficiaryId, CardId, Conn, MerchantId, OfferId, RedemptionId, TerminalId};
use crate::domain::beneficiary::{mask_name, Category, Honor};
use crate::domain::card_no::CardNo;
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::domain::offer::{self as rules, HolderPeriod};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::routes::merchants::{text, MerchantSnapshot};
use crate::routes::offers::{available_now, remaining_for_holder, OfferRules, OfferView};
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

/// How long a card snapshot may live in the cache (changes delete it at once).
const CARD_TTL: Duration = Duration::from_secs(60);
const MERCHANT_TTL: Duration = Duration::from_secs(60);
/// How long this process keeps its own copy of a merchant snapshot at most (each use
/// checks its version against the cache's first).
pub const LOCAL_MERCHANT_TTL: Duration = Duration::from_secs(60);

// ---------- terminals ----------

/// What a terminal's API key resolves to (cached in process for 30 s, dropped on any
/// invalidation of its key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TerminalEntry {
    pub id: TerminalId,
    pub merchant_id: MerchantId,
}

/// A point-of-sale terminal, authenticated by `Authorization: Bearer <api_key>`.
#[derive(Debug, Clone)]
pub struct Terminal(pub TerminalEntry);

fn terminal_key_hash(state: &AppState, api_key: &str) -> String {
    state.cipher.lookup_hash(&format!("terminal:{api_key}"))
}

impl FromRequest for Terminal {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Terminal, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = bearer_token(req).map(str::to_owned);
        // Known in process: no task, no database.
        if let (Some(state), Some(key)) = (&state, &key) {
            if let Some(entry) = state.terminals.get(&terminal_key_hash(state, key)) {
                return Box::pin(std::future::ready(Ok(Terminal(entry))));
            }
        }
        // Spawned so a database call is never dropped half-way (see telemetry::observe).
        let lookup = actix_web::rt::spawn(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let refused = || {
                ApiError::unauthorized("unauthenticated", "a valid terminal API key is required")
            };
            let key = key.ok_or_else(refused)?;
            let hash = terminal_key_hash(&state, &key);
            if let Some(entry) = state.terminals.get(&hash) {
                return Ok(Terminal(entry));
            }
            let mut pooled = state.db.get().await?;
            let row = offers::terminal_by_key_hash(&mut pooled.conn(), &hash)
                .await?
                .ok_or_else(refused)?;
            let entry = TerminalEntry {
                id: row.id,
                merchant_id: row.merchant_id,
            };
            state.terminals.insert(hash, entry.clone());
            Ok(Terminal(entry))
        });
        Box::pin(async move { lookup.await.map_err(ApiError::internal)? })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "一号收银台",
    "created_at": "2026-11-22T08:00:00Z"}))]
pub struct TerminalView {
    pub id: TerminalId,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
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
    (status = 201, body = NewTerminalView),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/merchant/terminals")]
pub async fn create_terminal(
    state: web::Data<AppState>,
    staff: MerchantStaff,
    body: Json<TerminalRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let name = match text(&mut errors, "name", body.name.as_deref(), true, 50) {
        Some(n) if errors.is_empty() => n,
        _ => return Err(ApiError::validation(errors)),
    };
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let secret: String = (0..32)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    let api_key = format!("yjt_{secret}");
    let row = TerminalRow {
        id: TerminalId::new(),
        merchant_id: staff.merchant_id,
        name,
        api_key_hash: terminal_key_hash(&state, &api_key),
        created_at: db::now(),
        deleted_at: None,
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let actor = staff.user.actor();
    conn.transaction(async |tx| {
        offers::insert_terminal(tx, &row).await?;
        audit::record(
            tx,
            &actor,
            AuditEntry {
                action: "terminal.create",
                entity_type: "terminal",
                entity_id: row.id.to_string(),
                details: Some(
                    serde_json::json!({"merchant_id": row.merchant_id, "name": row.name}),
                ),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::Created().json(NewTerminalView {
        terminal: TerminalView {
            id: row.id,
            name: row.name,
            created_at: utc(row.created_at),
        },
        api_key,
    }))
}

/// The caller's merchant's terminals.
#[utoipa::path(tag = "pos", security(("staff" = [])), responses((status = 200, body = Vec<TerminalView>)))]
#[get("/merchant/terminals")]
pub async fn list_terminals(
    state: web::Data<AppState>,
    staff: MerchantStaff,
) -> ApiResult<web::Json<Vec<TerminalView>>> {
    let mut pooled = state.db.get().await?;
    let rows = offers::terminals_of(&mut pooled.conn(), staff.merchant_id).await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|r| TerminalView {
                id: r.id,
                name: r.name,
                created_at: utc(r.created_at),
            })
            .collect(),
    ))
}

/// Deletes a terminal: its key is refused at once, in every process.
#[utoipa::path(tag = "pos", params(("id" = TerminalId, Path)), security(("staff" = [])), responses(
    (status = 204, description = "deleted"),
    (status = 404, body = crate::error::Problem, description = "`terminal_not_found`")))]
#[delete("/merchant/terminals/{id}")]
pub async fn delete_terminal(
    state: web::Data<AppState>,
    staff: MerchantStaff,
    id: web::Path<TerminalId>,
) -> ApiResult<HttpResponse> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let actor = staff.user.actor();
    let hash = conn
        .transaction(async |tx| {
            let hash = offers::delete_terminal(tx, staff.merchant_id, *id, db::now())
                .await?
                .ok_or_else(|| ApiError::not_found("terminal_not_found", "no such terminal"))?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "terminal.delete",
                    entity_type: "terminal",
                    entity_id: id.to_string(),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, ApiError>(hash)
        })
        .await?;
    state.terminals.invalidate(&hash);
    if let Err(error) = state.cache.invalidate(vec![keys::terminal(&hash)]).await {
        tracing::warn!(%error, "cache invalidation failed; other processes drop the terminal within 30 s");
    }
    Ok(HttpResponse::NoContent().finish())
}

// ---------- QR tokens ----------

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9…", "expires_at": "2026-11-22T08:01:00Z"}))]
pub struct QrToken {
    /// Compact JWS (EdDSA); show it as a QR code and refresh it before it expires.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A fresh QR token for the holder's card (default lifetime 60 s).
#[utoipa::path(tag = "holder", security(("holder" = [])), responses(
    (status = 200, body = QrToken),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`, `token_revoked` (card not active)")))]
#[post("/holder/card/qr")]
pub async fn card_qr(state: web::Data<AppState>, holder: Holder) -> ApiResult<web::Json<QrToken>> {
    let (token, claims) =
        state
            .qr_keys
            .sign(holder.card.id, holder.card.version, state.qr_ttl_secs)?;
    Ok(web::Json(QrToken {
        token,
        expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
    }))
}

/// The public keys that verify card QR tokens (more than one during a rotation).
#[utoipa::path(tag = "pos", responses((status = 200, content_type = "application/json", body = Object,
    example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "9f3c2a1b0d4e5f60", "alg": "EdDSA", "use": "sig"}]}))))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(state.qr_keys.jwks())
}

// ---------- snapshots ----------

/// What verification needs of a card and its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardSnapshot {
    pub card_id: CardId,
    pub card_no_masked: String,
    pub product: String,
    pub status: String,
    pub version: i32,
    pub expires_at: NaiveDateTime,
    pub beneficiary_id: BeneficiaryId,
    pub name_masked: String,
    pub category: String,
    pub honors: Vec<String>,
    pub region_code: String,
    /// `(offer, period_key, used)` of this holder.
    pub usage: Vec<(OfferId, String, i32)>,
}

impl CardSnapshot {
    /// The reason this card cannot be used now, if any.
    fn refusal(&self, now: NaiveDateTime) -> Option<Reason> {
        match self.status.as_str() {
            "suspended" => Some(Reason::CardSuspended),
            "revoked" => Some(Reason::CardRevoked),
            "expired" => Some(Reason::CardExpired),
            _ if self.expires_at <= now => Some(Reason::CardExpired),
            _ => None,
        }
    }
}

async fn build_card_snapshot(
    conn: &mut Conn<'_>,
    card: &CardRow,
) -> ApiResult<Option<CardSnapshot>> {
    let Some(beneficiary) = db::beneficiaries::find(conn, card.beneficiary_id).await? else {
        return Ok(None);
    };
    let usage = offers::holder_uses(conn, beneficiary.id).await?;
    Ok(Some(card_snapshot(card, beneficiary, usage)))
}

fn card_snapshot(
    card: &CardRow,
    beneficiary: db::beneficiaries::BeneficiaryRow,
    usage: Vec<(OfferId, String, i32)>,
) -> CardSnapshot {
    CardSnapshot {
        card_id: card.id,
        card_no_masked: CardNo::parse(&card.card_no)
            .map(|c| c.masked())
            .unwrap_or_default(),
        product: card.product.clone(),
        status: card.status.clone(),
        version: card.version,
        expires_at: card.expires_at,
        beneficiary_id: beneficiary.id,
        name_masked: mask_name(&beneficiary.name),
        honors: beneficiary.honors(),
        category: beneficiary.category,
        region_code: beneficiary.region_code,
        usage,
    }
}

/// A process's own copy of a merchant snapshot and the version token it was cached
/// under.
#[derive(Clone)]
pub struct LocalMerchant {
    version: Arc<str>,
    snapshot: Arc<MerchantSnapshot>,
}

/// The card and merchant snapshots, and whether the token's id is already spent: one
/// cache round trip when warm; the database fills what the cache lacks (or all of it
/// while the cache is unreachable).
///
/// The merchant snapshot (with its offers, the largest entry) is also kept in process,
/// beside the version token it was cached under; the round trip reads the token, not
/// the snapshot. A change deletes the token with the snapshot before it answers, so no
/// process uses its copy after that, whether or not it has heard the invalidation yet.
async fn snapshots(
    state: &AppState,
    card: CardId,
    merchant: MerchantId,
    jti: &str,
) -> ApiResult<(Option<CardSnapshot>, Option<Arc<MerchantSnapshot>>, bool)> {
    let card_key = keys::card(&card);
    let merchant_key = keys::pos_merchant(&merchant);
    let version_key = keys::pos_merchant_version(&merchant);
    let cached = state
        .cache
        .get_many(&[card_key.clone(), keys::jti(jti), version_key.clone()])
        .await;
    let (mut card_snap, mut merchant_snap, mut spent, cache_up) = match cached {
        Ok(values) => {
            let mut values = values.into_iter();
            let card_json = values.next().flatten();
            let spent = values.next().flatten().is_some();
            let version = values.next().flatten();
            let merchant_snap = match version {
                Some(version) => current_merchant(state, merchant, &merchant_key, version).await,
                None => None,
            };
            (
                card_json.and_then(|v| serde_json::from_str::<CardSnapshot>(&v).ok()),
                merchant_snap,
                spent,
                true,
            )
        }
        Err(_) => (None, None, false, false),
    };
    if card_snap.is_none() || merchant_snap.is_none() || !cache_up {
        let mut pooled = state.db.get().await?;
        let mut conn = pooled.conn();
        if card_snap.is_none() {
            if let Some(row) = db::cards::find(&mut conn, card).await? {
                card_snap = build_card_snapshot(&mut conn, &row).await?;
                if let (Some(snap), true) = (&card_snap, cache_up) {
                    set_json(state, &card_key, snap, CARD_TTL).await;
                }
            }
        }
        if merchant_snap.is_none() {
            if let Some(row) = db::merchants::find(&mut conn, merchant).await? {
                let mut snap = MerchantSnapshot::of(&row);
                snap.offers = offers::merchant_offers(&mut conn, merchant, Some("active")).await?;
                let snap = Arc::new(snap);
                if cache_up {
                    cache_merchant(state, merchant, merchant_key, version_key, &snap).await;
                }
                merchant_snap = Some(snap);
            }
        }
        if !cache_up {
            // Without the cache, the ledger says whether the token was spent.
            spent = offers::jti_spent(&mut conn, jti).await?;
        }
    }
    Ok((card_snap, merchant_snap, spent))
}

/// The merchant snapshot cached under `version`: this process's copy when it has that
/// version, else the cached one (then kept here).
async fn current_merchant(
    state: &AppState,
    merchant: MerchantId,
    merchant_key: &str,
    version: String,
) -> Option<Arc<MerchantSnapshot>> {
    if let Some(local) = state.merchant_snapshots.get(&merchant) {
        if *local.version == *version {
            return Some(local.snapshot);
        }
    }
    let json = state.cache.get(merchant_key).await.ok().flatten()?;
    let snapshot = Arc::new(serde_json::from_str::<MerchantSnapshot>(&json).ok()?);
    state.merchant_snapshots.insert(
        merchant,
        LocalMerchant {
            version: Arc::from(version),
            snapshot: snapshot.clone(),
        },
    );
    Some(snapshot)
}

/// Caches a merchant snapshot read from the database under a new version token, in the
/// cache and in this process.
async fn cache_merchant(
    state: &AppState,
    merchant: MerchantId,
    merchant_key: String,
    version_key: String,
    snapshot: &Arc<MerchantSnapshot>,
) {
    let Ok(json) = serde_json::to_string(&**snapshot) else {
        return;
    };
    let version = uuid::Uuid::new_v4().simple().to_string();
    let entries = [(merchant_key, json), (version_key, version.clone())];
    match state.cache.set_many(&entries, MERCHANT_TTL).await {
        Ok(()) => state.merchant_snapshots.insert(
            merchant,
            LocalMerchant {
                version: Arc::from(version),
                snapshot: snapshot.clone(),
            },
        ),
        Err(error) => tracing::warn!(%error, "cache write failed"),
    }
}

async fn set_json<T: Serialize>(state: &AppState, key: &str, value: &T, ttl: Duration) {
    if let Ok(json) = serde_json::to_string(value) {
        if let Err(error) = state.cache.set(key, &json, ttl).await {
            tracing::warn!(%error, "cache write failed");
        }
    }
}

// ---------- verification ----------

/// Why a scan cannot be honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    TokenInvalid,
    TokenExpired,
    TokenUsed,
    CardSuspended,
    CardRevoked,
    CardExpired,
    MerchantInactive,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::TokenInvalid => "token_invalid",
            Reason::TokenExpired => "token_expired",
            Reason::TokenUsed => "token_used",
            Reason::CardSuspended => "card_suspended",
            Reason::CardRevoked => "card_revoked",
            Reason::CardExpired => "card_expired",
            Reason::MerchantInactive => "merchant_inactive",
        }
    }

    /// One line for the cashier.
    pub fn message(self) -> &'static str {
        match self {
            Reason::TokenInvalid => "二维码无效，请持卡人刷新优待卡二维码后重新出示",
            Reason::TokenExpired => "二维码已过期，请持卡人刷新后重新出示",
            Reason::TokenUsed => "该二维码已使用，请持卡人刷新后重新出示",
            Reason::CardSuspended => "该优待卡已暂停使用，请持卡人联系发卡单位",
            Reason::CardRevoked => "该优待卡已注销，不能享受优待",
            Reason::CardExpired => "该优待卡已过期，请持卡人办理续期",
            Reason::MerchantInactive => "本店暂不能提供拥军优待，请联系退役军人事务部门",
        }
    }

    fn status(self) -> actix_web::http::StatusCode {
        match self {
            Reason::TokenInvalid | Reason::TokenExpired => {
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => actix_web::http::StatusCode::CONFLICT,
        }
    }

    fn error(self) -> ApiError {
        ApiError::new(self.status(), self.code(), self.message())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9…"}))]
pub struct VerifyRequest {
    /// The scanned QR text.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedCard {
    pub card_no_masked: String,
    pub product: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedHolder {
    /// 张*明
    pub name_masked: String,
    pub category: String,
    pub honors: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsableOffer {
    #[serde(flatten)]
    pub offer: OfferView,
    /// Null: unlimited.
    pub remaining_for_holder: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Verification {
    Valid {
        valid: bool,
        card: VerifiedCard,
        holder: VerifiedHolder,
        /// This merchant's offers this holder may use now.
        offers: Vec<UsableOffer>,
    },
    Refused {
        valid: bool,
        reason: Reason,
        /// For the cashier, in Chinese.
        message: &'static str,
    },
}

fn refused(reason: Reason) -> Verification {
    Verification::Refused {
        valid: false,
        reason,
        message: reason.message(),
    }
}

/// The usable offers for a card at a merchant.
fn usable_offers(
    card: &CardSnapshot,
    merchant: &MerchantSnapshot,
    now: NaiveDateTime,
) -> Vec<UsableOffer> {
    let category = Category::parse(&card.category).unwrap_or(Category::OtherEntitled);
    let honors: Vec<Honor> = card.honors.iter().filter_map(|h| Honor::parse(h)).collect();
    merchant
        .offers
        .iter()
        .filter_map(|offer| {
            let rules = OfferRules::of(offer);
            if !available_now(offer, &rules, now)
                || !rules.eligible(category, &honors, &card.product)
            {
                return None;
            }
            if offer.total_quota.is_some_and(|q| offer.used_total >= q) {
                return None;
            }
            let remaining = remaining_for_holder(offer, &card.usage, now);
            if remaining == Some(0) {
                return None;
            }
            Some(UsableOffer {
                offer: OfferView::from(offer),
                remaining_for_holder: remaining,
            })
        })
        .collect()
}

/// Verifies a scanned card at this terminal's merchant. Spends nothing.
#[utoipa::path(tag = "pos", request_body = VerifyRequest, security(("terminal" = [])), responses(
    (status = 200, body = Verification, description = "`valid` with the holder and usable offers, or a `reason` and a message for the cashier",
        examples(
            ("valid" = (summary = "the card may be used here", value = json!({"valid": true,
                "card": {"card_no_masked": "8860********9017", "product": "general", "expires_at": "2031-11-22T08:00:00Z"},
                "holder": {"name_masked": "刘*军", "category": "active_duty", "honors": ["second_class_merit"]},
                "offers": [{"id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c02", "merchant_id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b04",
            "title": "军人就餐立减20元", "description": "现役军人、退役军人及家属凭卡就餐每单立减20元", "kind": "amount_off",
            "percent_off": null, "amount_off_fen": 2000, "price_fen": null, "gift": null,
            "eligible_categories": ["active_duty", "veteran", "military_family"], "min_honor": null, "companions_allowed": 2,
            "valid_from": "2026-11-30T16:00:00Z", "valid_until": "2027-12-31T16:00:00Z", "recurring_dates": [],
            "total_quota": 1000, "used_total": 37, "remaining_total": 963, "per_holder_limit": 4, "per_holder_period": "month",
            "channel": "in_store", "card_products": [], "status": "active", "status_reason": null, "remaining_for_holder": 3}]}))),
            ("refused" = (summary = "the card may not be used", value = json!({"valid": false,
                "reason": "card_suspended", "message": "该优待卡已暂停使用，请持卡人联系发卡单位"}))))),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`: unknown or deleted terminal"),
    (status = 503, body = crate::error::Problem, description = "`service_unavailable`: the database is out of reach")))]
#[post("/pos/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    terminal: Terminal,
    body: Json<VerifyRequest>,
) -> ApiResult<web::Json<Verification>> {
    let claims = match state.qr_keys.verify(body.token.trim()) {
        Ok(claims) => claims,
        Err(QrError::Expired) => return Ok(web::Json(refused(Reason::TokenExpired))),
        Err(QrError::Invalid) => return Ok(web::Json(refused(Reason::TokenInvalid))),
    };
    let (card, merchant, spent) =
        snapshots(&state, claims.sub, terminal.0.merchant_id, &claims.jti).await?;
    let now = db::now();
    let (Some(card), Some(merchant)) = (card, merchant) else {
        return Ok(web::Json(refused(Reason::TokenInvalid)));
    };
    if let Some(reason) = card.refusal(now) {
        return Ok(web::Json(refused(reason)));
    }
    if card.version != claims.ver {
        return Ok(web::Json(refused(Reason::TokenInvalid)));
    }
    if merchant.effective_status(china_today()) != MerchantStatus::Active {
        return Ok(web::Json(refused(Reason::MerchantInactive)));
    }
    if spent {
        return Ok(web::Json(refused(Reason::TokenUsed)));
    }
    Ok(web::Json(Verification::Valid {
        valid: true,
        offers: usable_offers(&card, &merchant, now),
        card: VerifiedCard {
            card_no_masked: card.card_no_masked,
            product: card.product,
            expires_at: utc(card.expires_at),
        },
        holder: VerifiedHolder {
            name_masked: card.name_masked,
            category: card.category,
            honors: card.honors,
        },
    }))
}

// ---------- redemption ----------

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9…", "offer_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "bill_fen": 12800, "companions": 1}))]
pub struct RedeemRequest {
    pub token: String,
    pub offer_id: OfferId,
    /// The bill in fen, for discounts that depend on it.
    pub bill_fen: Option<i64>,
    /// Family members who came along (同行直系亲属).
    pub companions: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e71", "offer_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
    "card_no_masked": "8860********9017", "bill_fen": 12800, "discount_fen": 2560, "companions": 1, "status": "completed",
    "redeemed_at": "2026-08-01T04:12:09Z",
    "merchant_region_code": "440303", "holder_region_code": "140521"}))]
pub struct RedemptionView {
    pub id: RedemptionId,
    pub offer_id: OfferId,
    pub card_no_masked: String,
    pub bill_fen: Option<i64>,
    pub discount_fen: i64,
    pub companions: i32,
    pub status: String,
    pub redeemed_at: chrono::DateTime<chrono::Utc>,
    /// Where it was used and where the holder belongs (异地互认 when they differ).
    pub merchant_region_code: String,
    pub holder_region_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn view(row: &RedemptionRow, card_no_masked: String) -> RedemptionView {
    RedemptionView {
        id: row.id,
        offer_id: row.offer_id,
        card_no_masked,
        bill_fen: row.bill_fen,
        discount_fen: row.discount_fen,
        companions: row.companions,
        status: row.status.clone(),
        redeemed_at: utc(row.redeemed_at),
        merchant_region_code: row.merchant_region_code.clone(),
        holder_region_code: row.holder_region_code.clone(),
        voided_at: row.voided_at.map(utc),
    }
}

/// A redemption that passed every check that reading can make; the writes in
/// [`write_redemption`] may still refuse it (spent token, quota, holder limit).
struct Prepared {
    row: RedemptionRow,
    card_no_masked: String,
    holder_limit: Option<i32>,
    /// Whether the offer has a total quota, counted on its row.
    counted: bool,
}

/// The checks of one redemption, from fresh rows (not snapshots: this is the write path).
async fn prepare_redemption(
    tx: &mut Conn<'_>,
    state: &AppState,
    terminal: &TerminalEntry,
    req: &RedeemRequest,
) -> ApiResult<Prepared> {
    let claims = state
        .qr_keys
        .verify(req.token.trim())
        .map_err(|e| match e {
            QrError::Expired => Reason::TokenExpired.error(),
            QrError::Invalid => Reason::TokenInvalid.error(),
        })?;
    let now = db::now();
    // Two joined reads (card with holder, merchant with offer) instead of four keep the
    // transaction short.
    let (card, beneficiary) = db::cards::find_with_holder(tx, claims.sub)
        .await?
        .ok_or_else(|| Reason::TokenInvalid.error())?;
    // The holder's usage is not read here: the per-holder limit is enforced by its own
    // conditional update in `write_redemption`.
    let snapshot = card_snapshot(&card, beneficiary, Vec::new());
    if let Some(reason) = snapshot.refusal(now) {
        return Err(reason.error());
    }
    if card.version != claims.ver {
        return Err(Reason::TokenInvalid.error());
    }
    let (merchant, offer) = offers::merchant_with_offer(tx, terminal.merchant_id, req.offer_id)
        .await?
        .filter(|(m, _)| m.effective_status(china_today()) == MerchantStatus::Active)
        .ok_or_else(|| Reason::MerchantInactive.error())?;
    let offer: OfferRow = offer.ok_or_else(|| {
        ApiError::unprocessable("offer_not_active", "this merchant has no such offer")
    })?;
    let rules = OfferRules::of(&offer);
    if !available_now(&offer, &rules, now) {
        return Err(ApiError::unprocessable(
            "offer_not_active",
            "这项优待当前不可用 (the offer is not available now)",
        ));
    }
    let category = Category::parse(&snapshot.category).unwrap_or(Category::OtherEntitled);
    let honors: Vec<Honor> = snapshot
        .honors
        .iter()
        .filter_map(|h| Honor::parse(h))
        .collect();
    if !rules.eligible(category, &honors, &card.product) {
        return Err(ApiError::unprocessable(
            "not_eligible",
            "持卡人不符合这项优待的条件 (the holder is not eligible for this offer)",
        ));
    }
    let companions = req.companions.unwrap_or(0);
    if companions < 0 || companions > offer.companions_allowed {
        return Err(ApiError::unprocessable(
            "companions_exceeded",
            format!("这项优待最多可带 {} 名同行亲属", offer.companions_allowed),
        )
        .with("companions_allowed", offer.companions_allowed));
    }
    let discount = rules::discount_fen(&rules.terms, req.bill_fen).map_err(|code| match code {
        "bill_required" => ApiError::invalid_field("bill_fen", "is required for this offer"),
        _ => ApiError::invalid_field("bill_fen", "must not be negative"),
    })?;
    let (holder_limit, period) = match (offer.per_holder_limit, rules.period) {
        (Some(limit), Some(period)) => (Some(limit), period),
        _ => (None, HolderPeriod::Lifetime),
    };
    let row = RedemptionRow {
        id: RedemptionId::new(),
        offer_id: offer.id,
        merchant_id: merchant.id,
        terminal_id: terminal.id,
        card_id: card.id,
        beneficiary_id: snapshot.beneficiary_id,
        jti: claims.jti.clone(),
        period_key: rules::period_key(period, now),
        bill_fen: req.bill_fen,
        discount_fen: discount,
        companions,
        merchant_region_code: merchant.region_code.clone(),
        holder_region_code: snapshot.region_code.clone(),
        status: "completed".into(),
        void_reason: None,
        voided_at: None,
        redeemed_at: now,
        holder_category: snapshot.category.clone(),
        card_product: card.product.clone(),
        offer_kind: offer.kind.clone(),
        merchant_category: merchant.category.clone(),
    };
    Ok(Prepared {
        row,
        card_no_masked: snapshot.card_no_masked,
        holder_limit,
        counted: offer.total_quota.is_some(),
    })
}

/// The writes of a prepared redemption; a refusal here leaves the transaction to be
/// rolled back.
async fn write_redemption(tx: &mut Conn<'_>, prepared: &Prepared) -> ApiResult<()> {
    let row = &prepared.row;
    if let Some(limit) = prepared.holder_limit {
        if !offers::take_holder_use(tx, row.offer_id, row.beneficiary_id, &row.period_key, limit)
            .await?
        {
            return Err(ApiError::conflict(
                "holder_limit_reached",
                "持卡人本期已用完这项优待 (the holder has used this offer up for the period)",
            ));
        }
    }
    // A spent token is caught by the unique `jti` here; no separate look-up.
    offers::insert_redemption(tx, row)
        .await
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => Reason::TokenUsed.error(),
            other => other.into(),
        })?;
    // Only offers with a quota touch the offer's row (an unlimited offer's redemptions
    // do not queue on one lock), and last, because every redemption of the offer waits
    // on that row's lock until the commit: the less work after it, the shorter the queue.
    if prepared.counted && !offers::take_quota(tx, row.offer_id).await? {
        return Err(ApiError::conflict(
            "quota_exhausted",
            "这项优待的名额已用完 (the offer's quota is used up)",
        ));
    }
    Ok(())
}

/// The answer stored with a key somebody else claimed: replayed when the request is
/// the same, refused when the key was used for another.
async fn stored_answer(
    conn: &mut Conn<'_>,
    terminal: TerminalId,
    key: &str,
    request_hash: &str,
) -> ApiResult<(u16, String)> {
    let (hash, status, body) = offers::stored_answer(conn, terminal, key)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("claimed key without a row")))?;
    if hash != request_hash {
        return Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ));
    }
    // A key is only ever claimed together with its answer (the columns stay nullable
    // for rows written before that was so).
    match (status, body) {
        (Some(status), Some(body)) => Ok((status as u16, body)),
        _ => Err(ApiError::internal(anyhow::anyhow!(
            "idempotency key stored without its answer"
        ))),
    }
}

/// Records a redemption. `Idempotency-Key` is required: the same key with the same
/// body answers the first answer again (status and body) and changes nothing; a token
/// redeems once; the offer's total quota and the holder's limit hold under any
/// concurrency.
#[utoipa::path(tag = "pos", request_body = RedeemRequest, security(("terminal" = [])),
    params(("Idempotency-Key" = String, Header, description = "unique per intended redemption; retries reuse it")),
    responses(
    (status = 201, body = RedemptionView),
    (status = 400, body = crate::error::Problem, description = "`idempotency_key_required`"),
    (status = 409, body = crate::error::Problem, description = "`token_used`, `quota_exhausted`, `holder_limit_reached`, `card_suspended`, `card_revoked`, `card_expired`, `merchant_inactive`"),
    (status = 422, body = crate::error::Problem, description = "`not_eligible`, `offer_not_active`, `companions_exceeded`, `token_invalid`, `token_expired`, `idempotency_key_reused`, `validation_failed`")))]
#[post("/pos/redemptions")]
#[tracing::instrument(name = "redeem", skip_all)]
pub async fn redeem(
    state: web::Data<AppState>,
    req: HttpRequest,
    terminal: Terminal,
    body: Json<RedeemRequest>,
) -> ApiResult<HttpResponse> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_required",
                "an Idempotency-Key header (1–128 characters) is required",
            )
        })?
        .to_owned();
    let request = body.0;
    let canonical = serde_json::to_string(&request).map_err(ApiError::internal)?;
    let request_hash = hex::encode(sha2::Sha256::digest(canonical.as_bytes()));
    let terminal = terminal.0;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();

    // The key is claimed together with the answer it will give, in the transaction
    // that writes the redemption: one transaction, no savepoint and no second write
    // of the key on the usual path. A concurrent request with the same key waits on
    // the key's unique index until this one commits or rolls back.
    enum Attempt {
        Redeemed(Box<Prepared>, String),
        KeyTaken,
    }
    let attempt: ApiResult<Attempt> = conn
        .transaction(async |tx| {
            let prepared = prepare_redemption(tx, &state, &terminal, &request).await?;
            let body = serde_json::to_string(&view(&prepared.row, prepared.card_no_masked.clone()))
                .map_err(ApiError::internal)?;
            let now = prepared.row.redeemed_at;
            if !offers::claim_key(tx, terminal.id, &key, &request_hash, 201, &body, now).await? {
                return Ok(Attempt::KeyTaken);
            }
            write_redemption(tx, &prepared).await?;
            Ok(Attempt::Redeemed(Box::new(prepared), body))
        })
        .await;
    let (status, body) = match attempt {
        Ok(Attempt::Redeemed(prepared, body)) => {
            // Back to the pool before the cache round trips: 64 tills share 16
            // connections, and one held through them keeps the next till waiting.
            drop(pooled);
            // Both on the one multiplexed cache connection at once: one wait, not two.
            let row = &prepared.row;
            let spent_key = keys::jti(&row.jti);
            let spent_ttl = Duration::from_secs(u64::from(state.qr_ttl_secs) + 120);
            let (_, _) = tokio::join!(
                after_redemption_change(&state, row, prepared.counted),
                state.cache.set(&spent_key, "1", spent_ttl)
            );
            tracing::info!(redemption_id = %row.id, discount_fen = row.discount_fen, "redeemed");
            (201, body)
        }
        Ok(Attempt::KeyTaken) => stored_answer(&mut conn, terminal.id, &key, &request_hash).await?,
        // A refusal (nothing of it was written) is kept with the key, so a retry hears
        // the same answer; if the key was claimed meanwhile, its answer wins.
        Err(refusal) if refusal.status.is_client_error() => {
            let status = refusal.status.as_u16();
            let body = serde_json::to_string(&refusal.problem()).map_err(ApiError::internal)?;
            let claimed = conn
                .transaction(async |tx| {
                    offers::claim_key(
                        tx,
                        terminal.id,
                        &key,
                        &request_hash,
                        i32::from(status),
                        &body,
                        db::now(),
                    )
                    .await
                })
                .await?;
            if claimed {
                (status, body)
            } else {
                stored_answer(&mut conn, terminal.id, &key, &request_hash).await?
            }
        }
        Err(other) => return Err(other),
    };
    let content_type = if status == 201 {
        "application/json"
    } else {
        "application/problem+json"
    };
    Ok(HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).map_err(ApiError::internal)?,
    )
    .content_type(content_type)
    .body(body))
}

/// After a redemption or void commits: the holder's usage changed, and the offer's
/// count when it has a quota (`counted`; an unlimited offer's snapshot stays valid).
async fn after_redemption_change(state: &AppState, row: &RedemptionRow, counted: bool) {
    let mut stale = vec![keys::card(&row.card_id)];
    if counted {
        stale.push(keys::merchant(&row.merchant_id));
    }
    if let Err(error) = state.cache.invalidate(stale).await {
        tracing::warn!(%error, "cache invalidation failed; entries expire by their TTL");
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "收银员误扫，顾客未消费"}))]
pub struct VoidRequest {
    pub reason: Option<String>,
}

/// Voids a redemption within 24 hours (a mistaken scan, a cancelled purchase): the
/// quota and the holder's use are given back.
#[utoipa::path(tag = "pos", params(("id" = RedemptionId, Path)), request_body = VoidRequest, security(("staff" = [])),
    responses(
    (status = 200, body = RedemptionView),
    (status = 404, body = crate::error::Problem, description = "`redemption_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`void_window_passed`, `already_voided`")))]
#[post("/merchant/redemptions/{id}/void")]
pub async fn void(
    state: web::Data<AppState>,
    staff: MerchantStaff,
    id: web::Path<RedemptionId>,
    body: Json<VoidRequest>,
) -> ApiResult<web::Json<RedemptionView>> {
    let mut errors = Vec::new();
    let reason = match text(&mut errors, "reason", body.reason.as_deref(), true, 500) {
        Some(r) if errors.is_empty() => r,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let row = offers::find_redemption(&mut conn, *id)
        .await?
        .filter(|r| r.merchant_id == staff.merchant_id)
        .ok_or_else(|| ApiError::not_found("redemption_not_found", "no such redemption"))?;
    let now = db::now();
    if row.status != "completed" {
        return Err(ApiError::conflict(
            "already_voided",
            "this redemption is already voided",
        ));
    }
    if now - row.redeemed_at > chrono::Duration::hours(24) {
        return Err(ApiError::conflict(
            "void_window_passed",
            "a redemption can be voided within 24 hours",
        ));
    }
    let actor = staff.user.actor();
    let voided = conn
        .transaction(async |tx| {
            let voided = offers::void_redemption(tx, row.id, &reason, now)
                .await?
                .ok_or_else(|| ApiError::conflict("already_voided", "this redemption is already voided"))?;
            offers::give_back_quota(tx, row.offer_id).await?;
            offers::give_back_holder_use(tx, row.offer_id, row.beneficiary_id, &row.period_key).await?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "redemption.void",
                    entity_type: "redemption",
                    entity_id: row.id.to_string(),
                    region_code: Some(&row.merchant_region_code),
                    before_status: Some("completed"),
                    after_status: Some("voided"),
                    reason: Some(&reason),
                    details: Some(serde_json::json!({"offer_id": row.offer_id, "discount_fen": row.discount_fen})),
                },
            )
            .await?;
            Ok::<_, ApiError>(voided)
        })
        .await?;
    after_redemption_change(&state, &voided, true).await;
    let masked = card_no_masked(&mut conn, voided.card_id).await?;
    Ok(web::Json(view(&voided, masked)))
}

async fn card_no_masked(conn: &mut Conn<'_>, id: CardId) -> ApiResult<String> {
    Ok(db::cards::find(conn, id)
        .await?
        .and_then(|c| CardNo::parse(&c.card_no).ok())
        .map(|c| c.masked())
        .unwrap_or_default())
}

async fn views(conn: &mut Conn<'_>, rows: Vec<RedemptionRow>) -> ApiResult<Vec<RedemptionView>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let masked = card_no_masked(conn, row.card_id).await?;
        out.push(view(&row, masked));
    }
    Ok(out)
}

/// The caller's merchant's redemptions, newest first.
#[utoipa::path(tag = "pos", params(PageQuery), security(("staff" = [])), responses((status = 200, body = Paged<RedemptionView>,
    example = json!({"items": [
        {"id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f02", "offer_id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c02",
            "card_no_masked": "8860********9017", "bill_fen": 15600, "discount_fen": 2000, "companions": 2,
            "status": "completed", "redeemed_at": "2026-12-05T04:20:11Z", "merchant_region_code": "440303",
            "holder_region_code": "140521"},
        {"id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f01", "offer_id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c02",
            "card_no_masked": "8860********1090", "bill_fen": 8800, "discount_fen": 2000, "companions": 0,
            "status": "voided", "redeemed_at": "2026-12-04T11:02:45Z", "merchant_region_code": "440303",
            "holder_region_code": "440303", "voided_at": "2026-12-04T11:10:03Z"}],
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/merchant/redemptions")]
pub async fn merchant_redemptions(
    state: web::Data<AppState>,
    staff: MerchantStaff,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Paged<RedemptionView>>> {
    let page = query.resolve()?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) = offers::list_redemptions(
        &mut conn,
        RedemptionOwner::Merchant(staff.merchant_id),
        page.offset(),
        page.limit(),
    )
    .await?;
    Ok(web::Json(page.wrap(views(&mut conn, rows).await?, total)))
}

/// The holder's own redemptions, newest first (every card of the person).
#[utoipa::path(tag = "holder", params(PageQuery), security(("holder" = [])), responses((status = 200, body = Paged<RedemptionView>,
    example = json!({"items": [
        {"id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f02", "offer_id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c02",
            "card_no_masked": "8860********9017", "bill_fen": 15600, "discount_fen": 2000, "companions": 2,
            "status": "completed", "redeemed_at": "2026-12-05T04:20:11Z", "merchant_region_code": "440303",
            "holder_region_code": "140521"},
        {"id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5e11", "offer_id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c01",
            "card_no_masked": "8860********9017", "bill_fen": 12800, "discount_fen": 1280, "companions": 0,
            "status": "completed", "redeemed_at": "2026-12-02T07:45:30Z", "merchant_region_code": "440303",
            "holder_region_code": "140521"}],
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/holder/redemptions")]
pub async fn holder_redemptions(
    state: web::Data<AppState>,
    holder: Holder,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Paged<RedemptionView>>> {
    let page = query.resolve()?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) = offers::list_redemptions(
        &mut conn,
        RedemptionOwner::Beneficiary(holder.card.beneficiary_id),
        page.offset(),
        page.limit(),
    )
    .await?;
    Ok(web::Json(page.wrap(views(&mut conn, rows).await?, total)))
}

// ---------- offline support ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct RevocationQuery {
    /// RFC 3339; omitted: the last 30 days.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedCard {
    pub card_id: CardId,
    /// suspended, revoked or expired.
    pub status: String,
    /// QR tokens of a lower version are refused.
    pub version: i32,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"cards": [
    {"card_id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c01", "status": "revoked", "version": 3,
        "changed_at": "2026-11-25T03:00:00Z"},
    {"card_id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c07", "status": "suspended", "version": 2,
        "changed_at": "2026-11-25T06:12:40Z"}],
    "now": "2026-11-25T09:30:00Z"}))]
pub struct Revocations {
    pub cards: Vec<RevokedCard>,
    /// Use as the next `since`.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Cards suspended, revoked or reissued since a time, so a terminal can keep verifying
/// offline with the JWKS and refuse them.
#[utoipa::path(tag = "pos", params(RevocationQuery), security(("terminal" = [])), responses(
    (status = 200, body = Revocations),
    (status = 403, body = crate::error::Problem, description = "`merchant_inactive`")))]
#[get("/pos/revocations")]
pub async fn revocations(
    state: web::Data<AppState>,
    terminal: Terminal,
    query: web::Query<RevocationQuery>,
) -> ApiResult<web::Json<Revocations>> {
    let now = db::now();
    let since = query
        .since
        .map(|s| s.naive_utc())
        .unwrap_or(now - chrono::Duration::days(30));
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let active = db::merchants::find(&mut conn, terminal.0.merchant_id)
        .await?
        .is_some_and(|m| m.effective_status(china_today()) == MerchantStatus::Active);
    if !active {
        return Err(ApiError::forbidden(
            "merchant_inactive",
            Reason::MerchantInactive.message(),
        ));
    }
    let rows = db::cards::changed_since(&mut conn, since).await?;
    Ok(web::Json(Revocations {
        cards: rows
            .into_iter()
            .filter(|c| c.status != "active")
            .map(|c| RevokedCard {
                card_id: c.id,
                status: c.status,
                version: c.version,
                changed_at: utc(c.status_changed_at),
            })
            .collect(),
        now: utc(now),
    }))
}
