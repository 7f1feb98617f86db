//! Card products (卡种) and cards (优待卡): issue, suspend, reinstate, revoke, reissue.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::cache::keys;
use crate::db::audit::{self, AuditEntry};
use crate::db::cards::{self, CardFilter, CardRow, ProductRow};
use crate::db::{self, BeneficiaryId, CardId, Conn};
use crate::domain::beneficiary::{card_transition, CardAction, CardStatus};
use crate::domain::card_no::CardNo;
use crate::domain::{RegionCode, Role};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::beneficiaries::{load_scoped, require_registrar};
use crate::routes::merchants::text;
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

/// Card numbers start with this prefix (then 11 random digits and a Luhn digit).
const CARD_PREFIX: &str = "8860";

// ---------- products ----------

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "book", "name": "书香优待卡", "description": "书店、文化场馆优待", "default_valid_years": 5}))]
pub struct ProductView {
    pub code: String,
    pub name: String,
    pub description: String,
    pub default_valid_years: i32,
}

impl From<ProductRow> for ProductView {
    fn from(row: ProductRow) -> ProductView {
        ProductView {
            code: row.code,
            name: row.name,
            description: row.description,
            default_valid_years: row.default_valid_years,
        }
    }
}

/// The card products (卡种): general, medical, grain, book, and any added.
#[utoipa::path(tag = "cards", security(("staff" = [])), responses((status = 200, body = Vec<ProductView>)))]
#[get("/admin/card-products")]
pub async fn list_products(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> ApiResult<web::Json<Vec<ProductView>>> {
    let mut pooled = state.db.get().await?;
    let rows = cards::products(&mut pooled.conn()).await?;
    Ok(web::Json(rows.into_iter().map(ProductView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "transport", "name": "交通优待卡", "description": "公共交通优待", "default_valid_years": 3}))]
pub struct CreateProductRequest {
    /// snake_case, 2–32 characters.
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Default 5.
    pub default_valid_years: Option<i32>,
}

/// Adds a card product (super administrators: products are national configuration).
#[utoipa::path(tag = "cards", request_body = CreateProductRequest, security(("staff" = [])), responses(
    (status = 201, body = ProductView),
    (status = 409, body = crate::error::Problem, description = "`product_exists`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/card-products")]
pub async fn create_product(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: Json<CreateProductRequest>,
) -> ApiResult<HttpResponse> {
    admin.require_role(&[Role::SuperAdmin])?;
    let mut errors = Vec::new();
    let code = text(&mut errors, "code", body.code.as_deref(), true, 32);
    if let Some(code) = &code {
        let ok = code.len() >= 2
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            errors.push(FieldError::new(
                "code",
                "must be snake_case: a-z, 0-9 and _, starting with a letter",
            ));
        }
    }
    let name = text(&mut errors, "name", body.name.as_deref(), true, 50);
    let description = text(
        &mut errors,
        "description",
        body.description.as_deref(),
        false,
        500,
    )
    .unwrap_or_default();
    let years = body.default_valid_years.unwrap_or(5);
    if !(1..=50).contains(&years) {
        errors.push(FieldError::new(
            "default_valid_years",
            "must be between 1 and 50",
        ));
    }
    let (code, name) = match (code, name) {
        (Some(c), Some(n)) if errors.is_empty() => (c, n),
        _ => return Err(ApiError::validation(errors)),
    };
    let row = ProductRow {
        code,
        name,
        description,
        default_valid_years: years,
        created_at: db::now(),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    if cards::product(&mut conn, &row.code).await?.is_some() {
        return Err(ApiError::conflict(
            "product_exists",
            "a card product with this code exists",
        ));
    }
    conn.transaction(async |tx| {
        cards::insert_product(tx, &row).await?;
        audit::record(
            tx,
            &admin.actor(),
            AuditEntry {
                action: "card_product.create",
                entity_type: "card_product",
                entity_id: row.code.clone(),
                details: Some(serde_json::json!({"name": row.name, "default_valid_years": row.default_valid_years})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::Created().json(ProductView::from(row)))
}

// ---------- cards ----------

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c01", "card_no": "8860123456789017",
    "beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70", "product": "general", "status": "active",
    "status_reason": null, "version": 1, "issued_at": "2026-11-22T08:00:00Z", "expires_at": "2031-11-22T08:00:00Z",
    "activated": true, "replaced_by": null}))]
pub struct CardView {
    pub id: CardId,
    pub card_no: String,
    pub beneficiary_id: BeneficiaryId,
    pub product: String,
    /// As of now: an active card past `expires_at` reads `expired`.
    pub status: String,
    pub status_reason: Option<String>,
    pub version: i32,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Whether the holder has activated it in the app.
    pub activated: bool,
    /// The card that replaced this one, after a reissue.
    pub replaced_by: Option<CardId>,
}

impl From<&CardRow> for CardView {
    fn from(row: &CardRow) -> CardView {
        CardView {
            id: row.id,
            card_no: row.card_no.clone(),
            beneficiary_id: row.beneficiary_id,
            product: row.product.clone(),
            status: row.effective_status(db::now()).to_owned(),
            status_reason: row.status_reason.clone(),
            version: row.version,
            issued_at: utc(row.issued_at),
            expires_at: utc(row.expires_at),
            activated: row.activated_at.is_some(),
            replaced_by: row.replaced_by,
        }
    }
}

/// A new card, with its one-time activation code (shown only here).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "card_no": "8860123456789017",
    "beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70", "product": "general", "status": "active",
    "status_reason": null, "version": 1, "issued_at": "2026-11-22T08:00:00Z", "expires_at": "2031-11-22T08:00:00Z",
    "activated": false, "replaced_by": null, "activation_code": "K7M2Q9XH4P"}))]
pub struct IssuedCard {
    #[serde(flatten)]
    pub card: CardView,
    /// Give it to the holder with the card number; it works once and is stored hashed.
    pub activation_code: String,
}

fn new_activation_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..10)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The keyed hash an activation code is stored as.
pub fn activation_hash(state: &AppState, code: &str) -> String {
    state
        .cipher
        .lookup_hash(&format!("activation:{}", code.trim().to_uppercase()))
}

/// A card row to insert, with a fresh number and activation code.
fn new_card(
    state: &AppState,
    beneficiary: BeneficiaryId,
    product: &str,
    years: i32,
    now: NaiveDateTime,
) -> (CardRow, String) {
    let code = new_activation_code();
    let expires_at = now
        .checked_add_months(chrono::Months::new(12 * years.max(1) as u32))
        .unwrap_or(NaiveDateTime::MAX);
    let card = CardRow {
        id: CardId::new(),
        card_no: CardNo::generate(CARD_PREFIX).as_str().to_owned(),
        beneficiary_id: beneficiary,
        product: product.to_owned(),
        status: CardStatus::Active.as_str().to_owned(),
        status_reason: None,
        version: 1,
        issued_at: now,
        expires_at,
        activation_code_hash: Some(activation_hash(state, &code)),
        activated_at: None,
        replaced_by: None,
        status_changed_at: now,
        created_at: now,
        updated_at: now,
    };
    (card, code)
}

fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Inserts a card, drawing a new number in the (rare) event the random one is taken.
async fn insert_card(
    tx: &mut Conn<'_>,
    template: (CardRow, String),
) -> ApiResult<(CardRow, String)> {
    let (mut card, code) = template;
    for _ in 0..5 {
        if cards::find_by_no(tx, &card.card_no).await?.is_none() {
            cards::insert(tx, &card).await.map_err(|e| {
                if is_unique_violation(&e) {
                    ApiError::conflict(
                        "card_exists",
                        "this beneficiary already has a live card of this product",
                    )
                } else {
                    e.into()
                }
            })?;
            return Ok((card, code));
        }
        card.card_no = CardNo::generate(CARD_PREFIX).as_str().to_owned();
    }
    Err(ApiError::internal(anyhow::anyhow!(
        "could not draw a free card number"
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"product": "general", "valid_years": 5}))]
pub struct IssueCardRequest {
    pub product: Option<String>,
    /// 1 to 50; default: the product's.
    pub valid_years: Option<i32>,
}

/// Issues a card of a product to a beneficiary: one live card per beneficiary and product.
#[utoipa::path(tag = "cards", params(("id" = BeneficiaryId, Path)), request_body = IssueCardRequest,
    security(("staff" = [])), responses(
    (status = 201, body = IssuedCard),
    (status = 404, body = crate::error::Problem, description = "`beneficiary_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`card_exists`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/beneficiaries/{id}/cards")]
#[tracing::instrument(name = "issue_card", skip_all)]
pub async fn issue(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<BeneficiaryId>,
    body: Json<IssueCardRequest>,
) -> ApiResult<HttpResponse> {
    require_registrar(&admin)?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let beneficiary = load_scoped(&mut conn, &admin, *id).await?;
    let product_code = body.product.as_deref().map(str::trim).unwrap_or_default();
    let product = match cards::product(&mut conn, product_code).await? {
        Some(p) => p,
        None => {
            return Err(ApiError::invalid_field(
                "product",
                "is not a card product (see GET /api/v1/admin/card-products)",
            ))
        }
    };
    let years = body.valid_years.unwrap_or(product.default_valid_years);
    if !(1..=50).contains(&years) {
        return Err(ApiError::invalid_field(
            "valid_years",
            "must be between 1 and 50",
        ));
    }
    let now = db::now();
    let live = cards::live_card(&mut conn, beneficiary.id, &product.code).await?;
    let template = new_card(&state, beneficiary.id, &product.code, years, now);
    let actor = admin.actor();
    let (card, code, expired_old) = conn
        .transaction(async |tx| {
            let mut expired_old = None;
            if let Some(old) = &live {
                if old.effective_status(now) != "expired" {
                    return Err(ApiError::conflict(
                        "card_exists",
                        "this beneficiary already has a live card of this product",
                    )
                    .with("card_id", old.id.to_string()));
                }
                // The old card has run out: record it as expired before replacing it.
                cards::change_status(tx, old.id, old.version, "expired", Some("expires_at passed"), None, now)
                    .await?
                    .ok_or_else(|| ApiError::conflict("concurrent_change", "the card changed meanwhile; retry"))?;
                expired_old = Some(old.id);
            }
            let (card, code) = insert_card(tx, template).await?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "card.issue",
                    entity_type: "card",
                    entity_id: card.id.to_string(),
                    region_code: Some(&beneficiary.region_code),
                    after_status: Some("active"),
                    details: Some(serde_json::json!({"product": card.product, "beneficiary_id": beneficiary.id,
                        "card_no_last4": &card.card_no[12..]})),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, ApiError>((card, code, expired_old))
        })
        .await?;
    if let Some(old) = expired_old {
        invalidate(&state, vec![old]).await;
    }
    tracing::info!(card_id = %card.id, "card issued");
    Ok(HttpResponse::Created().json(IssuedCard {
        card: CardView::from(&card),
        activation_code: code,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CardQuery {
    pub beneficiary_id: Option<BeneficiaryId>,
    /// active, suspended, revoked or expired (as stored).
    pub status: Option<String>,
    pub card_no: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Cards of beneficiaries in the caller's region.
#[utoipa::path(tag = "cards", params(CardQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<CardView>, example = json!({"items": [
        {"id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c02", "card_no": "8860987654321090",
            "beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70", "product": "general", "status": "active",
            "status_reason": null, "version": 1, "issued_at": "2026-11-25T03:00:00Z", "expires_at": "2031-11-25T03:00:00Z",
            "activated": false, "replaced_by": null},
        {"id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c01", "card_no": "8860123456789017",
            "beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70", "product": "general", "status": "revoked",
            "status_reason": "卡片遗失，补发新卡", "version": 3, "issued_at": "2026-11-22T08:00:00Z",
            "expires_at": "2031-11-22T08:00:00Z", "activated": true, "replaced_by": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c02"}],
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/admin/cards")]
pub async fn list(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<CardQuery>,
) -> ApiResult<web::Json<Paged<CardView>>> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin, Role::Auditor])?;
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let mut filter = CardFilter {
        beneficiary_id: query.beneficiary_id,
        region_like: admin.region_like(),
        ..Default::default()
    };
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        let status = CardStatus::parse(status)
            .ok_or_else(|| ApiError::invalid_field("status", "is not a card status"))?;
        filter.status = Some(status.as_str().to_owned());
    }
    if let Some(card_no) = query.card_no.as_deref().filter(|s| !s.is_empty()) {
        filter.card_no = Some(card_no.chars().filter(char::is_ascii_digit).collect());
    }
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        cards::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok(web::Json(
        page.wrap(rows.iter().map(CardView::from).collect(), total),
    ))
}

/// A card and its beneficiary's region, if the caller covers it; 404 otherwise.
async fn load_card(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    id: CardId,
) -> ApiResult<(CardRow, String)> {
    let not_found = || ApiError::not_found("card_not_found", "no such card");
    let card = cards::find(conn, id).await?.ok_or_else(not_found)?;
    let beneficiary = db::beneficiaries::find(conn, card.beneficiary_id)
        .await?
        .ok_or_else(not_found)?;
    let region = RegionCode::parse(&beneficiary.region_code)
        .map_err(|m| ApiError::internal(anyhow::anyhow!(m)))?;
    if admin.covers(&region) {
        Ok((card, beneficiary.region_code))
    } else {
        Err(not_found())
    }
}

/// One card.
#[utoipa::path(tag = "cards", params(("id" = CardId, Path)), security(("staff" = [])), responses(
    (status = 200, body = CardView),
    (status = 404, body = crate::error::Problem, description = "`card_not_found`")))]
#[get("/admin/cards/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<CardId>,
) -> ApiResult<web::Json<CardView>> {
    let mut pooled = state.db.get().await?;
    let (card, _) = load_card(&mut pooled.conn(), &admin, *id).await?;
    Ok(web::Json(CardView::from(&card)))
}

/// After a commit: drop the cards' cached snapshots everywhere.
async fn invalidate(state: &AppState, ids: Vec<CardId>) {
    let keys: Vec<String> = ids.iter().map(keys::card).collect();
    if let Err(error) = state.cache.invalidate(keys).await {
        tracing::warn!(%error, "cache invalidation failed; entries expire by their TTL");
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "持卡人报失"}))]
pub struct CardReasonRequest {
    /// Why; required, and kept in the audit log.
    pub reason: Option<String>,
}

/// Applies a card action in a transaction with its audit entry; for a reissue, also
/// issues the replacement. Returns the changed card and, for a reissue, the new one.
async fn act(
    state: &AppState,
    admin: &AdminUser,
    id: CardId,
    action: CardAction,
    body: &CardReasonRequest,
) -> ApiResult<(CardRow, Option<(CardRow, String)>)> {
    require_registrar(admin)?;
    let mut errors = Vec::new();
    let reason = match text(&mut errors, "reason", body.reason.as_deref(), true, 2000) {
        Some(r) if errors.is_empty() => r,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let (card, region_code) = load_card(&mut conn, admin, id).await?;
    let now = db::now();
    let from = CardStatus::parse(card.effective_status(now)).unwrap_or(CardStatus::Revoked);
    let to = card_transition(from, action).ok_or_else(|| {
        ApiError::conflict(
            "invalid_transition",
            format!("cannot {action} a card that is {from}"),
        )
        .with("current_status", from.as_str())
    })?;
    let replacement = (action == CardAction::Reissue).then(|| {
        let years = ((card.expires_at - card.issued_at).num_days() / 365).clamp(1, 50) as i32;
        new_card(state, card.beneficiary_id, &card.product, years, now)
    });
    let actor = admin.actor();
    let result = conn
        .transaction(async |tx| {
            let replaced_by = replacement.as_ref().map(|(c, _)| c.id);
            // Revoke first (one live card per product), insert the replacement, then
            // link the two (the link is a foreign key to the new row).
            let mut changed = cards::change_status(tx, card.id, card.version, to.as_str(), Some(&reason), None, now)
                .await?
                .ok_or_else(|| ApiError::conflict("concurrent_change", "the card changed meanwhile; reload and retry"))?;
            let audit_action = format!("card.{action}");
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: &audit_action,
                    entity_type: "card",
                    entity_id: card.id.to_string(),
                    region_code: Some(&region_code),
                    before_status: Some(from.as_str()),
                    after_status: Some(to.as_str()),
                    reason: Some(&reason),
                    details: replaced_by.map(|r| serde_json::json!({"replaced_by": r})),
                },
            )
            .await?;
            let issued = match replacement {
                Some(template) => {
                    let (new, code) = insert_card(tx, template).await?;
                    cards::set_replaced_by(tx, card.id, new.id).await?;
                    changed.replaced_by = Some(new.id);
                    audit::record(
                        tx,
                        &actor,
                        AuditEntry {
                            action: "card.issue",
                            entity_type: "card",
                            entity_id: new.id.to_string(),
                            region_code: Some(&region_code),
                            after_status: Some("active"),
                            reason: Some(&reason),
                            details: Some(serde_json::json!({"product": new.product, "replaces": card.id,
                                "beneficiary_id": new.beneficiary_id, "card_no_last4": &new.card_no[12..]})),
                            ..Default::default()
                        },
                    )
                    .await?;
                    Some((new, code))
                }
                None => None,
            };
            Ok::<_, ApiError>((changed, issued))
        })
        .await?;
    invalidate(state, vec![card.id]).await;
    tracing::info!(card_id = %card.id, action = action.as_str(), "card changed");
    Ok(result)
}

macro_rules! card_route {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "cards", params(("id" = CardId, Path)), request_body = CardReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = CardView),
            (status = 404, body = crate::error::Problem, description = "`card_not_found`"),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)"),
            (status = 422, body = crate::error::Problem, description = "`validation_failed`: reason is required")))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            admin: AdminUser,
            id: web::Path<CardId>,
            body: Json<CardReasonRequest>,
        ) -> ApiResult<web::Json<CardView>> {
            let (card, _) = act(&state, &admin, *id, $action, &body).await?;
            Ok(web::Json(CardView::from(&card)))
        }
    };
}

card_route!(
    suspend,
    "/admin/cards/{id}/suspend",
    CardAction::Suspend,
    "Suspends a card: verification refuses it, and its holder's tokens stop working at once."
);
card_route!(
    reinstate,
    "/admin/cards/{id}/reinstate",
    CardAction::Reinstate,
    "Reinstates a suspended card."
);
card_route!(
    revoke,
    "/admin/cards/{id}/revoke",
    CardAction::Revoke,
    "Revokes a card for good."
);

/// Reissues a card (lost phone, damaged card): the old card is revoked and a new card
/// with a new number and activation code replaces it.
#[utoipa::path(tag = "cards", params(("id" = CardId, Path)), request_body = CardReasonRequest,
    security(("staff" = [])), responses(
    (status = 201, body = IssuedCard),
    (status = 404, body = crate::error::Problem, description = "`card_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`")))]
#[post("/admin/cards/{id}/reissue")]
pub async fn reissue(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<CardId>,
    body: Json<CardReasonRequest>,
) -> ApiResult<HttpResponse> {
    let (_, issued) = act(&state, &admin, *id, CardAction::Reissue, &body).await?;
    let (card, code) =
        issued.ok_or_else(|| ApiError::internal(anyhow::anyhow!("reissue issued nothing")))?;
    Ok(HttpResponse::Created().json(IssuedCard {
        card: CardView::from(&card),
        activation_code: code,
    }))
}
