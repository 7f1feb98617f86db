//! The till: verification (the hot path), idempotent redemption, voids, the ledgers of
//! merchants and holders, and the revocation feed for offline verification. The use
//! cases are `app::pos`.

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpRequest, HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::{Holder, MerchantStaff, Terminal};
use crate::app::pos::feed;
use crate::app::pos::redeem::{self as redemption, Receipt, RedeemRequest};
use crate::app::pos::verify::{self as verification, Verification as Outcome};
use crate::app::pos::Reason;
use crate::db::{CardId, RedemptionId};
use crate::error::{AppError, AppResult, Code};
use crate::http::views::{OfferView, ReasonRequest};
use crate::http::{utc, Json, PageQuery, Paged, Reply, State};
use crate::validate::Fields;

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

impl From<Outcome> for Verification {
    fn from(outcome: Outcome) -> Verification {
        let offers = outcome
            .offers()
            .into_iter()
            .map(|(offer, remaining_for_holder)| UsableOffer {
                offer: OfferView::from(offer),
                remaining_for_holder,
            })
            .collect();
        match outcome {
            Outcome::Valid { card, .. } => Verification::Valid {
                valid: true,
                offers,
                card: VerifiedCard {
                    card_no_masked: card.card_no_masked,
                    product: card.product,
                    expires_at: utc(card.expires_at),
                },
                holder: VerifiedHolder {
                    name_masked: card.name_masked,
                    category: card.category.as_str().to_owned(),
                    honors: card.honors.iter().map(|h| h.as_str().to_owned()).collect(),
                },
            },
            Outcome::Refused(reason) => Verification::Refused {
                valid: false,
                reason,
                message: reason.message(),
            },
        }
    }
}

/// Verifies a scanned card at this terminal's merchant. Spends nothing.
#[utoipa::path(operation_id = "verify_qr", tag = "pos", request_body = VerifyRequest, security(("terminal" = [])), responses(
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
    state: State,
    terminal: Terminal,
    body: Json<VerifyRequest>,
) -> Reply<Verification> {
    let outcome = verification::verify(&state.point_of_sale(), &terminal, &body.token).await?;
    Ok(web::Json(outcome.into()))
}

/// Records a redemption. `Idempotency-Key` is required: the same key with the same
/// body answers the first answer again (status and body) and changes nothing; a token
/// redeems once; the offer's total quota and the holder's limit hold under any
/// concurrency.
#[utoipa::path(operation_id = "redeem_offer", tag = "pos", request_body = RedeemRequest, security(("terminal" = [])),
    params(("Idempotency-Key" = String, Header, description = "unique per intended redemption; retries reuse it")),
    responses(
    (status = 201, body = Receipt),
    (status = 400, body = crate::error::Problem, description = "`idempotency_key_required`"),
    (status = 409, body = crate::error::Problem, description = "`token_used`, `quota_exhausted`, `holder_limit_reached`, `card_suspended`, `card_revoked`, `card_expired`, `merchant_inactive`"),
    (status = 422, body = crate::error::Problem, description = "`not_eligible`, `offer_not_active`, `companions_exceeded`, `token_invalid`, `token_expired`, `idempotency_key_reused`, `validation_failed`")))]
#[post("/pos/redemptions")]
#[tracing::instrument(name = "redeem", skip_all)]
pub async fn redeem(
    state: State,
    req: HttpRequest,
    terminal: Terminal,
    body: Json<RedeemRequest>,
) -> AppResult<HttpResponse> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .ok_or_else(|| {
            AppError::bad_request(
                Code::IdempotencyKeyRequired,
                "an Idempotency-Key header (1–128 characters) is required",
            )
        })?;
    let answer = redemption::redeem(&state.point_of_sale(), &terminal, key, &body).await?;
    let content_type = if answer.status == 201 {
        "application/json"
    } else {
        "application/problem+json"
    };
    let status =
        actix_web::http::StatusCode::from_u16(answer.status).map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type(content_type)
        .body(answer.body))
}

/// Voids a redemption within 24 hours (a mistaken scan, a cancelled purchase): the
/// quota and the holder's use are given back.
#[utoipa::path(operation_id = "void_redemption", tag = "pos", params(("id" = RedemptionId, Path)), request_body = ReasonRequest, security(("staff" = [])),
    responses(
    (status = 200, body = Receipt),
    (status = 404, body = crate::error::Problem, description = "`redemption_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`void_window_passed`, `already_voided`")))]
#[post("/merchant/redemptions/{id}/void")]
pub async fn void(
    state: State,
    staff: MerchantStaff,
    id: Path<RedemptionId>,
    body: Json<ReasonRequest>,
) -> Reply<Receipt> {
    let mut f = Fields::new();
    let reason = f.free_text("reason", body.reason.as_deref(), 500);
    let reason = f.finish(reason)?;
    Ok(web::Json(
        redemption::void(&state.db, &state.cache, &staff, *id, reason).await?,
    ))
}

/// The caller's merchant's redemptions, newest first.
#[utoipa::path(tag = "pos", params(PageQuery), security(("staff" = [])), responses((status = 200, body = Paged<Receipt>,
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
    state: State,
    staff: MerchantStaff,
    query: Query<PageQuery>,
) -> Reply<Paged<Receipt>> {
    let mut f = Fields::new();
    let page = query.page(&mut f);
    let page = f.finish(page)?;
    let listed = redemption::merchant_redemptions(&state.db, &staff, page).await?;
    Ok(web::Json(Paged::of(page, listed, |r| r)))
}

/// The holder's own redemptions, newest first (every card of the person).
#[utoipa::path(tag = "holder", params(PageQuery), security(("holder" = [])), responses((status = 200, body = Paged<Receipt>,
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
    state: State,
    holder: Holder,
    query: Query<PageQuery>,
) -> Reply<Paged<Receipt>> {
    let mut f = Fields::new();
    let page = query.page(&mut f);
    let page = f.finish(page)?;
    let listed = redemption::holder_redemptions(&state.db, &holder, page).await?;
    Ok(web::Json(Paged::of(page, listed, |r| r)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RevocationQuery {
    /// RFC 3339: changes after this time (the `issued_at` of the first page last
    /// fetched); omitted: the last 30 days.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// The `next_cursor` of the page before; `since` is then ignored.
    pub cursor: Option<String>,
    /// Cards per page, 1–10000 (default 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedCard {
    pub card_id: CardId,
    /// suspended, revoked (also a reissued card's old one) or expired.
    pub status: String,
    /// QR tokens of this version or lower are refused.
    pub version: i32,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"cards": [
    {"card_id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c01", "status": "revoked", "version": 3,
        "changed_at": "2026-11-25T03:00:00Z"},
    {"card_id": "0193a8f3-5e6f-7a8b-9c0d-1e2f3a4b5c07", "status": "expired", "version": 2,
        "changed_at": "2026-11-25T06:12:40Z"}],
    "next_cursor": "MTc2NDA1MTE2MDAwMDAwMDowMTkzYThmMy01ZTZmLTdhOGItOWMwZC0xZTJmM2E0YjVjMDc",
    "issued_at": "2026-11-25T09:30:00Z", "valid_until": "2026-11-26T09:30:00Z",
    "now": "2026-11-25T09:30:00Z"}))]
pub struct Revocations {
    pub cards: Vec<RevokedCard>,
    /// Present when more cards follow: ask again with `cursor` set to it.
    pub next_cursor: Option<String>,
    /// When this page was issued: the first page's is the next fetch's `since`.
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// After this, a terminal that has not fetched the feed again tells the cashier its
    /// offline data is stale (default 24 h after `issued_at`).
    pub valid_until: chrono::DateTime<chrono::Utc>,
    /// The same as `issued_at` (kept for terminals written before it).
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Cards suspended, revoked, reissued or expired since a time, so a terminal can keep
/// verifying offline with the JWKS and refuse them. Paged by `next_cursor`. The body is
/// signed: the header `Yongjun-Signature` is a detached JWS (RFC 7515 appendix F,
/// EdDSA) of the exact body bytes under a key of `/.well-known/jwks.json`.
#[utoipa::path(operation_id = "list_revocations", tag = "pos", params(RevocationQuery), security(("terminal" = [])), responses(
    (status = 200, body = Revocations, headers(("Yongjun-Signature" = String,
        description = "Detached JWS of the body: `BASE64URL(header)..BASE64URL(signature)`"))),
    (status = 403, body = crate::error::Problem, description = "`merchant_inactive`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed` (`since` in the future, a bad `cursor` or `limit`)")))]
#[get("/pos/revocations")]
pub async fn revocations(
    state: State,
    terminal: Terminal,
    query: Query<RevocationQuery>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let from = match query.cursor.as_deref() {
        Some(raw) => match feed::Cursor::decode(raw) {
            Some(cursor) => feed::From::After(cursor),
            None => {
                f.error("cursor", "is not a cursor this feed gave");
                feed::From::Since(None)
            }
        },
        None => feed::From::Since(query.since.map(|s| s.naive_utc())),
    };
    let limit = query.limit.unwrap_or(feed::DEFAULT_LIMIT);
    if !(1..=feed::MAX_LIMIT).contains(&limit) {
        f.error(
            "limit",
            format!("must be between 1 and {}", feed::MAX_LIMIT),
        );
    }
    let from = f.finish(Some(from))?;
    let valid_hours = state.policy.revocations_valid_hours;
    let page = feed::revocations(&state.db, &terminal, from, limit, valid_hours).await?;
    let body = Revocations {
        cards: page
            .cards
            .into_iter()
            .map(|c| RevokedCard {
                card_id: c.id,
                status: c.status,
                version: c.version,
                changed_at: utc(c.status_changed_at),
            })
            .collect(),
        next_cursor: page.next.map(|c| c.encode()),
        issued_at: utc(page.issued_at),
        valid_until: utc(page.valid_until),
        now: utc(page.issued_at),
    };
    let bytes = serde_json::to_vec(&body).map_err(AppError::internal)?;
    let signature = state.keys.qr.sign_detached(&bytes)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Yongjun-Signature", signature))
        .body(bytes))
}
