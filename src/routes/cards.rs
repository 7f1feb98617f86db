//! Card products (卡种) and cards (优待卡): issue, suspend, reinstate, revoke, reissue.
//! The use cases are `app::cards`.

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::cards::{self, CardQuery as Filter, IssuedCard};
use crate::app::identity::AdminUser;
use crate::db::cards::{CardRow, ProductRow};
use crate::db::{self, BeneficiaryId, CardId, Stored};
use crate::domain::beneficiary::{CardAction, CardStatus};
use crate::error::AppResult;
use crate::http::views::ReasonRequest;
use crate::http::{utc, Json, PageQuery, Paged, Reply, State};
use crate::state::AppState;
use crate::validate::Fields;

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
#[utoipa::path(operation_id = "list_card_products", tag = "cards", params(PageQuery), security(("staff" = [])),
    responses((status = 200, body = Paged<ProductView>, example = json!({"items": [
        {"code": "general", "name": "拥军优待卡", "description": "通用优待", "default_valid_years": 5},
        {"code": "book", "name": "书香优待卡", "description": "书店、文化场馆优待", "default_valid_years": 5}],
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/admin/card-products")]
pub async fn list_products(
    state: State,
    admin: AdminUser,
    query: Query<PageQuery>,
) -> Reply<Paged<ProductView>> {
    let mut f = Fields::new();
    let page = query.page(&mut f);
    let page = f.finish(page)?;
    let rows = cards::products(&state.db, &admin).await?;
    Ok(web::Json(Paged::slice(page, rows, ProductView::from)))
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
#[utoipa::path(operation_id = "create_card_product", tag = "cards", request_body = CreateProductRequest, security(("staff" = [])), responses(
    (status = 201, body = ProductView),
    (status = 409, body = crate::error::Problem, description = "`product_exists`")))]
#[post("/admin/card-products")]
pub async fn create_product(
    state: State,
    admin: AdminUser,
    body: Json<CreateProductRequest>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let code = f.text("code", body.code.as_deref(), 32);
    let code = code.and_then(|code| {
        let ok = code.len() >= 2
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        f.check(
            "code",
            if ok {
                Ok(code)
            } else {
                Err("must be snake_case: a-z, 0-9 and _, starting with a letter")
            },
        )
    });
    let name = f.text("name", body.name.as_deref(), 50);
    let description = f.optional_free_text("description", body.description.as_deref(), 500);
    let years = f.check(
        "default_valid_years",
        Some(body.default_valid_years.unwrap_or(5))
            .filter(|y| (1..=50).contains(y))
            .ok_or("must be between 1 and 50"),
    );
    let (code, name, description, years) = f.finish((code, name, description, years))?;
    let row = ProductRow {
        code,
        name,
        description: description.unwrap_or_default(),
        default_valid_years: years,
        created_at: db::now(),
    };
    let row = cards::create_product(&state.db, &admin, row).await?;
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
    pub status: CardStatus,
    pub status_reason: Option<String>,
    pub version: i32,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Whether the holder has activated it in the app.
    pub activated: bool,
    /// The card that replaced this one, after a reissue.
    pub replaced_by: Option<CardId>,
}

impl CardView {
    fn of(row: &CardRow) -> Stored<CardView> {
        Ok(CardView {
            id: row.id,
            card_no: row.card_no.clone(),
            beneficiary_id: row.beneficiary_id,
            product: row.product.clone(),
            status: row.effective_status(db::now())?,
            status_reason: row.status_reason.clone(),
            version: row.version,
            issued_at: utc(row.issued_at),
            expires_at: utc(row.expires_at),
            activated: row.activated_at.is_some(),
            replaced_by: row.replaced_by,
        })
    }
}

/// A new card, with its one-time activation code (shown only here).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "card_no": "8860123456789017",
    "beneficiary_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70", "product": "general", "status": "active",
    "status_reason": null, "version": 1, "issued_at": "2026-11-22T08:00:00Z", "expires_at": "2031-11-22T08:00:00Z",
    "activated": false, "replaced_by": null, "activation_code": "K7M2Q9XH4P"}))]
#[schema(as = IssuedCard)]
pub struct IssuedCardView {
    #[serde(flatten)]
    pub card: CardView,
    /// Give it to the holder with the card number; it works once and is stored hashed.
    pub activation_code: String,
}

impl IssuedCardView {
    fn of(issued: IssuedCard) -> Stored<IssuedCardView> {
        Ok(IssuedCardView {
            card: CardView::of(&issued.card)?,
            activation_code: issued.activation_code,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"product": "general", "valid_years": 5}))]
pub struct IssueCardRequest {
    pub product: Option<String>,
    /// 1 to 50; default: the product's.
    pub valid_years: Option<i32>,
}

/// Issues a card of a product to a beneficiary: one live card per beneficiary and product.
#[utoipa::path(operation_id = "issue_card", tag = "cards", params(("id" = BeneficiaryId, Path)), request_body = IssueCardRequest,
    security(("staff" = [])), responses(
    (status = 201, body = IssuedCardView),
    (status = 404, body = crate::error::Problem, description = "`beneficiary_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`card_exists`")))]
#[post("/admin/beneficiaries/{id}/cards")]
#[tracing::instrument(name = "issue_card", skip_all)]
pub async fn issue(
    state: State,
    admin: AdminUser,
    id: Path<BeneficiaryId>,
    body: Json<IssueCardRequest>,
) -> AppResult<HttpResponse> {
    let product = body.product.as_deref().unwrap_or_default();
    let issued = cards::issue(
        &state.db,
        &state.cache,
        &state.keys.cipher,
        &admin,
        *id,
        product,
        body.valid_years,
    )
    .await?;
    Ok(HttpResponse::Created().json(IssuedCardView::of(issued)?))
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
#[utoipa::path(operation_id = "list_cards", tag = "cards", params(CardQuery), security(("staff" = [])), responses(
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
    state: State,
    admin: AdminUser,
    query: Query<CardQuery>,
) -> Reply<Paged<CardView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let status = f.optional_vocab::<CardStatus>("status", query.status.as_deref());
    let (page, status) = f.finish((page, status))?;
    let filter = Filter {
        beneficiary_id: query.beneficiary_id,
        status,
        card_no: query
            .card_no
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().filter(char::is_ascii_digit).collect()),
    };
    let listed = cards::list(&state.db, &admin, filter, page).await?;
    Ok(web::Json(Paged::try_of(page, listed, |row| {
        CardView::of(&row)
    })?))
}

/// One card.
#[utoipa::path(operation_id = "get_card", tag = "cards", params(("id" = CardId, Path)), security(("staff" = [])), responses(
    (status = 200, body = CardView),
    (status = 404, body = crate::error::Problem, description = "`card_not_found`")))]
#[get("/admin/cards/{id}")]
pub async fn get(state: State, admin: AdminUser, id: Path<CardId>) -> Reply<CardView> {
    let card = cards::get(&state.db, &admin, *id).await?;
    Ok(web::Json(CardView::of(&card)?))
}

async fn act(
    state: &AppState,
    admin: &AdminUser,
    id: CardId,
    action: CardAction,
    body: &ReasonRequest,
) -> AppResult<(CardRow, Option<IssuedCard>)> {
    let mut f = Fields::new();
    let reason = f.free_text("reason", body.reason.as_deref(), 2000);
    let reason = f.finish(reason)?;
    cards::act(
        &state.db,
        &state.cache,
        &state.keys.cipher,
        admin,
        id,
        action,
        reason,
    )
    .await
}

macro_rules! card_route {
    ($fn_name:ident, $operation_id:literal, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(operation_id = $operation_id, tag = "cards", params(("id" = CardId, Path)), request_body = ReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = CardView),
            (status = 404, body = crate::error::Problem, description = "`card_not_found`"),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)"),
            (status = 422, body = crate::error::Problem, description = "`validation_failed`: reason is required")))]
        #[post($path)]
        pub async fn $fn_name(
            state: State,
            admin: AdminUser,
            id: Path<CardId>,
            body: Json<ReasonRequest>,
        ) -> Reply<CardView> {
            let (card, _) = act(&state, &admin, *id, $action, &body).await?;
            Ok(web::Json(CardView::of(&card)?))
        }
    };
}

card_route!(
    suspend,
    "suspend_card",
    "/admin/cards/{id}/suspend",
    CardAction::Suspend,
    "Suspends a card: verification refuses it, and its holder's tokens stop working at once."
);
card_route!(
    reinstate,
    "reinstate_card",
    "/admin/cards/{id}/reinstate",
    CardAction::Reinstate,
    "Reinstates a suspended card."
);
card_route!(
    revoke,
    "revoke_card",
    "/admin/cards/{id}/revoke",
    CardAction::Revoke,
    "Revokes a card for good."
);

/// Reissues a card (lost phone, damaged card): the old card is revoked and a new card
/// with a new number and activation code replaces it.
#[utoipa::path(operation_id = "reissue_card", tag = "cards", params(("id" = CardId, Path)), request_body = ReasonRequest,
    security(("staff" = [])), responses(
    (status = 201, body = IssuedCardView),
    (status = 404, body = crate::error::Problem, description = "`card_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`")))]
#[post("/admin/cards/{id}/reissue")]
pub async fn reissue(
    state: State,
    admin: AdminUser,
    id: Path<CardId>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let (_, issued) = act(&state, &admin, *id, CardAction::Reissue, &body).await?;
    let issued = issued.ok_or_else(|| {
        crate::error::AppError::internal(anyhow::anyhow!("reissue issued nothing"))
    })?;
    Ok(HttpResponse::Created().json(IssuedCardView::of(issued)?))
}
