//! Offers (优待项目): created and managed by merchant staff, approved by the office of
//! the merchant's region, listed for the public and for each holder. The use cases are
//! `app::offers`.

use actix_web::{
    get, patch, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::{AdminUser, Holder, MerchantStaff};
use crate::app::offers;
use crate::app::offers::form::OfferRequest;
use crate::app::offers::listing::{self, OfferPage, OfferQuery};
use crate::db::{MerchantId, OfferId};
use crate::domain::offer::{OfferAction, OfferStatus};
use crate::error::AppResult;
use crate::http::views::{OfferView, ReasonRequest};
use crate::http::{Json, PageQuery, Paged, Reply, State};
use crate::validate::Fields;

// ---------- merchant staff ----------

/// Creates an offer of the caller's merchant; it waits for the office's approval.
#[utoipa::path(operation_id = "create_offer", tag = "offers", request_body = OfferRequest, security(("staff" = [])), responses(
    (status = 201, body = OfferView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`: not merchant staff")))]
#[post("/merchant/offers")]
#[tracing::instrument(name = "create_offer", skip_all)]
pub async fn create(
    state: State,
    staff: MerchantStaff,
    body: Json<OfferRequest>,
) -> AppResult<HttpResponse> {
    let row = offers::create(&state.db, &staff, &body).await?;
    Ok(HttpResponse::Created().json(OfferView::from(&row)))
}

/// The caller's merchant's offers, every status, oldest first.
#[utoipa::path(operation_id = "list_own_offers", tag = "offers", params(PageQuery), security(("staff" = [])),
    responses((status = 200, body = Paged<OfferView>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70",
            "title": "八一专享：就餐八折", "description": "现役军人及家属凭卡就餐八折", "kind": "percent_off", "percent_off": 20,
            "amount_off_fen": null, "price_fen": null, "gift": null, "eligible_categories": ["active_duty", "military_family"],
            "min_honor": null, "companions_allowed": 2, "valid_from": "2026-07-01T00:00:00Z", "valid_until": "2026-12-31T16:00:00Z",
            "recurring_dates": ["08-01"], "total_quota": 500, "used_total": 0, "remaining_total": 500, "per_holder_limit": 1,
            "per_holder_period": "year", "channel": "in_store", "card_products": [], "status": "pending_review", "status_reason": null}],
        "total": 1, "page": 1, "per_page": 20}))))]
#[get("/merchant/offers")]
pub async fn list_own(
    state: State,
    staff: MerchantStaff,
    query: Query<PageQuery>,
) -> Reply<Paged<OfferView>> {
    let mut f = Fields::new();
    let page = query.page(&mut f);
    let page = f.finish(page)?;
    let listed = offers::list_own(&state.db, &staff, page).await?;
    Ok(web::Json(Paged::of(page, listed, |row| {
        OfferView::from(&row)
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// An offer status; default `pending_review` (waiting for approval).
    pub status: Option<String>,
    pub merchant_id: Option<MerchantId>,
    /// Text in the title, the description or the merchant's name.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// An offer in an office's queue, with its merchant.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedOffer {
    #[serde(flatten)]
    pub offer: OfferView,
    pub merchant_name: String,
    pub merchant_category: String,
    pub merchant_region_code: String,
}

/// The office's queue: offers of merchants in the caller's region, oldest first, of one
/// status (default `pending_review`, those waiting for approval).
#[utoipa::path(operation_id = "list_offers_to_review", tag = "offers", params(QueueQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<QueuedOffer>, example = json!({"items": [
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70",
            "title": "八一专享：就餐八折", "description": "现役军人及家属凭卡就餐八折", "kind": "percent_off", "percent_off": 20,
            "amount_off_fen": null, "price_fen": null, "gift": null, "eligible_categories": ["active_duty", "military_family"],
            "min_honor": null, "companions_allowed": 2, "valid_from": "2026-07-01T00:00:00Z", "valid_until": "2026-12-31T16:00:00Z",
            "recurring_dates": ["08-01"], "total_quota": 500, "used_total": 0, "remaining_total": 500, "per_holder_limit": 1,
            "per_holder_period": "year", "channel": "in_store", "card_products": [], "status": "pending_review", "status_reason": null,
            "merchant_name": "深圳市罗湖区拥军饭店", "merchant_category": "dining", "merchant_region_code": "440303"}],
        "total": 1, "page": 1, "per_page": 20})),
    (status = 403, body = crate::error::Problem, description = "`forbidden`")))]
#[get("/admin/offers")]
pub async fn office_queue(
    state: State,
    admin: AdminUser,
    query: Query<QueueQuery>,
) -> Reply<Paged<QueuedOffer>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let status = f.optional_vocab::<OfferStatus>("status", query.status.as_deref());
    let q = f.optional_text("q", query.q.as_deref(), 100);
    let (page, status, q) = f.finish((page, status, q))?;
    let listed =
        offers::office_queue(&state.db, &admin, status, query.merchant_id, q, page).await?;
    Ok(web::Json(Paged::of(page, listed, |(offer, merchant)| {
        QueuedOffer {
            offer: OfferView::from(&offer),
            merchant_name: merchant.name,
            merchant_category: merchant.category,
            merchant_region_code: merchant.region_code,
        }
    })))
}

/// Changes an offer. A material change (terms, eligibility, dates, quotas) to an active
/// or paused offer sends it back to review; title and description do not.
#[utoipa::path(operation_id = "update_offer", tag = "offers", params(("id" = OfferId, Path)), request_body = OfferRequest, security(("staff" = [])),
    responses(
    (status = 200, body = OfferView),
    (status = 404, body = crate::error::Problem, description = "`offer_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`: the offer has ended")))]
#[patch("/merchant/offers/{id}")]
#[tracing::instrument(name = "update_offer", skip_all)]
pub async fn update(
    state: State,
    staff: MerchantStaff,
    id: Path<OfferId>,
    body: Json<OfferRequest>,
) -> Reply<OfferView> {
    let row = offers::update(&state.db, &state.cache, &staff, *id, &body).await?;
    Ok(web::Json(OfferView::from(&row)))
}

/// An offer's lifecycle action by `$caller` (merchant staff or an office), with the use
/// case `$act` that checks the caller may act on the offer.
macro_rules! offer_action {
    ($fn_name:ident, $operation_id:literal, $path:literal, $action:expr, $doc:literal, $caller:ty, $act:path, $not_found:literal) => {
        #[doc = $doc]
        #[utoipa::path(operation_id = $operation_id, tag = "offers", params(("id" = OfferId, Path)), request_body = ReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = OfferView),
            (status = 404, body = crate::error::Problem, description = $not_found),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)")))]
        #[post($path)]
        pub async fn $fn_name(
            state: State,
            caller: $caller,
            id: Path<OfferId>,
            body: Json<ReasonRequest>,
        ) -> Reply<OfferView> {
            let reason = body.0.reason;
            let row = $act(&state.db, &state.cache, &caller, *id, $action, reason).await?;
            Ok(web::Json(OfferView::from(&row)))
        }
    };
}

offer_action!(
    pause,
    "pause_offer",
    "/merchant/offers/{id}/pause",
    OfferAction::Pause,
    "Pauses an active offer.",
    MerchantStaff,
    offers::act_as_merchant,
    "`offer_not_found`"
);
offer_action!(
    resume,
    "resume_offer",
    "/merchant/offers/{id}/resume",
    OfferAction::Resume,
    "Resumes a paused offer.",
    MerchantStaff,
    offers::act_as_merchant,
    "`offer_not_found`"
);
offer_action!(
    end,
    "end_offer",
    "/merchant/offers/{id}/end",
    OfferAction::End,
    "Ends an offer for good.",
    MerchantStaff,
    offers::act_as_merchant,
    "`offer_not_found`"
);
offer_action!(
    approve,
    "approve_offer",
    "/admin/offers/{id}/approve",
    OfferAction::Approve,
    "Approves an offer (an administrator of the merchant's region).",
    AdminUser,
    offers::act_as_office,
    "`offer_not_found` (also outside your region)"
);
offer_action!(
    reject,
    "reject_offer",
    "/admin/offers/{id}/reject",
    OfferAction::Reject,
    "Rejects an offer under review.",
    AdminUser,
    offers::act_as_office,
    "`offer_not_found` (also outside your region)"
);

// ---------- public and holder lists ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferListing {
    #[serde(flatten)]
    pub offer: OfferView,
    pub merchant_name: String,
    pub merchant_category: String,
    pub merchant_region_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// For a holder: uses left in the current period (null: no per-holder limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_for_holder: Option<Option<i64>>,
}

/// One page of offers: counted (`total`, `page`) when asked by `page`, or not when
/// asked by `cursor`; `next_cursor` continues either way.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferListingPage {
    pub items: Vec<OfferListing>,
    /// Offers matching in all; null for a page asked by `cursor`.
    pub total: Option<i64>,
    /// The page number; null for a page asked by `cursor`.
    pub page: Option<u32>,
    pub per_page: u32,
    /// Whether offers follow this page.
    pub has_more: bool,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl From<OfferPage> for OfferListingPage {
    fn from(page: OfferPage) -> OfferListingPage {
        OfferListingPage {
            items: page
                .items
                .into_iter()
                .map(|l| OfferListing {
                    offer: OfferView::from(&l.offer),
                    merchant_name: l.merchant.name,
                    merchant_category: l.merchant.category,
                    merchant_region_code: l.merchant.region_code,
                    distance_km: l.distance_km,
                    remaining_for_holder: l.remaining_for_holder,
                })
                .collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
            has_more: page.has_more,
            next_cursor: page.next_cursor,
        }
    }
}

/// Active offers of active merchants that can be used now, for anyone: newest first, or
/// nearest merchant first with `near`. Ask by `cursor` (empty, then each `next_cursor`)
/// for pages that are not counted, by `page` for counted ones.
#[utoipa::path(operation_id = "list_offers", tag = "offers", params(OfferQuery), responses(
    (status = 200, body = OfferListingPage, example = json!({"items": [
        {"id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c01", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
            "title": "拥军购药九折", "description": "凭优待卡购买非处方药品九折", "kind": "percent_off", "percent_off": 10,
            "amount_off_fen": null, "price_fen": null, "gift": null, "eligible_categories": [], "min_honor": null,
            "companions_allowed": 0, "valid_from": "2026-11-30T16:00:00Z", "valid_until": null, "recurring_dates": [],
            "total_quota": null, "used_total": null, "remaining_total": null, "per_holder_limit": null,
            "per_holder_period": null, "channel": "in_store", "card_products": [], "status": "active", "status_reason": null,
            "merchant_name": "深圳市罗湖区拥军大药房", "merchant_category": "pharmacy", "merchant_region_code": "440303", "distance_km": 1.284},
        {"id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c02", "merchant_id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b04",
            "title": "军人就餐立减20元", "description": "现役军人、退役军人及家属凭卡就餐每单立减20元", "kind": "amount_off",
            "percent_off": null, "amount_off_fen": 2000, "price_fen": null, "gift": null,
            "eligible_categories": ["active_duty", "veteran", "military_family"], "min_honor": null, "companions_allowed": 2,
            "valid_from": "2026-11-30T16:00:00Z", "valid_until": "2027-12-31T16:00:00Z", "recurring_dates": [],
            "total_quota": 1000, "used_total": 37, "remaining_total": 963, "per_holder_limit": 4, "per_holder_period": "month",
            "channel": "in_store", "card_products": [], "status": "active", "status_reason": null,
            "merchant_name": "深圳市罗湖区拥军饭店", "merchant_category": "dining", "merchant_region_code": "440303", "distance_km": 2.051}],
        "total": null, "page": null, "per_page": 2, "has_more": true, "next_cursor": "bjowLjAwMDIwMTYzOjAxOTNhOGY3LTRlNWYtN2E2Yi04YzdkLThlOWYwYTFiMmMwMg"})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`: every bad parameter named")))]
#[get("/offers")]
pub async fn public_list(state: State, query: Query<OfferQuery>) -> Reply<OfferListingPage> {
    let page = listing::public_offers(&state.db, &query).await?;
    Ok(web::Json(page.into()))
}

/// The offers this holder may use now (their category, honours and card product), with
/// the uses left for them; ordered and paged as `GET /offers`.
#[utoipa::path(operation_id = "list_holder_offers", tag = "holder", params(OfferQuery), security(("holder" = [])), responses(
    (status = 200, body = OfferListingPage, example = json!({"items": [
        {"id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c01", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
            "title": "拥军购药九折", "description": "凭优待卡购买非处方药品九折", "kind": "percent_off", "percent_off": 10,
            "amount_off_fen": null, "price_fen": null, "gift": null, "eligible_categories": [], "min_honor": null,
            "companions_allowed": 0, "valid_from": "2026-11-30T16:00:00Z", "valid_until": null, "recurring_dates": [],
            "total_quota": null, "used_total": null, "remaining_total": null, "per_holder_limit": null,
            "per_holder_period": null, "channel": "in_store", "card_products": [], "status": "active", "status_reason": null,
            "merchant_name": "深圳市罗湖区拥军大药房", "merchant_category": "pharmacy", "merchant_region_code": "440303", "remaining_for_holder": null},
        {"id": "0193a8f7-4e5f-7a6b-8c7d-8e9f0a1b2c02", "merchant_id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b04",
            "title": "军人就餐立减20元", "description": "现役军人、退役军人及家属凭卡就餐每单立减20元", "kind": "amount_off",
            "percent_off": null, "amount_off_fen": 2000, "price_fen": null, "gift": null,
            "eligible_categories": ["active_duty", "veteran", "military_family"], "min_honor": null, "companions_allowed": 2,
            "valid_from": "2026-11-30T16:00:00Z", "valid_until": "2027-12-31T16:00:00Z", "recurring_dates": [],
            "total_quota": 1000, "used_total": 37, "remaining_total": 963, "per_holder_limit": 4, "per_holder_period": "month",
            "channel": "in_store", "card_products": [], "status": "active", "status_reason": null,
            "merchant_name": "深圳市罗湖区拥军饭店", "merchant_category": "dining", "merchant_region_code": "440303", "remaining_for_holder": 3}],
        "total": 2, "page": 1, "per_page": 20, "has_more": false, "next_cursor": null})),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`, `token_revoked`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`: every bad parameter named")))]
#[get("/holder/offers")]
pub async fn holder_list(
    state: State,
    holder: Holder,
    query: Query<OfferQuery>,
) -> Reply<OfferListingPage> {
    let page = listing::holder_offers(&state.db, &holder, &query).await?;
    Ok(web::Json(page.into()))
}
