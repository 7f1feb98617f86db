//! Offers (优待项目): created and managed by merchant staff, approved by the office of
//! the merchant's region, listed for the public and for each holder.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::holder::Holder;
use crate::auth::{AdminUser, MerchantStaff};
use crate::cache::keys;
use crate::db::audit::{self, AuditEntry};
use crate::db::merchants::{join_capabilities, split_capabilities};
use crate::db::offers::{self, OfferRow};
use crate::db::{self, Conn, MerchantId, OfferId};
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::merchant::MerchantStatus;
use crate::domain::offer::{
    self as rules, Channel, Eligibility, HolderPeriod, OfferAction, OfferKind, OfferStatus,
    OfferTerms,
};
use crate::domain::{china_today, RegionCode, Role};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::merchants::{self as directory, text, DirectoryQuery};
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

// ---------- views ----------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70",
    "title": "八一专享：就餐八折", "description": "现役军人及家属凭卡就餐八折", "kind": "percent_off", "percent_off": 20,
    "amount_off_fen": null, "price_fen": null, "gift": null, "eligible_categories": ["active_duty", "military_family"],
    "min_honor": null, "companions_allowed": 2, "valid_from": "2026-07-01T00:00:00Z", "valid_until": "2026-12-31T16:00:00Z",
    "recurring_dates": ["08-01"], "total_quota": 500, "used_total": 12, "remaining_total": 488, "per_holder_limit": 1,
    "per_holder_period": "year", "channel": "in_store", "card_products": [], "status": "active", "status_reason": null}))]
pub struct OfferView {
    pub id: OfferId,
    pub merchant_id: MerchantId,
    pub title: String,
    pub description: String,
    pub kind: String,
    /// percent_off: 1–99.
    pub percent_off: Option<i32>,
    pub amount_off_fen: Option<i64>,
    pub price_fen: Option<i64>,
    pub gift: Option<String>,
    /// Empty: every category.
    pub eligible_categories: Vec<String>,
    /// This honour or higher (combat_hero highest).
    pub min_honor: Option<String>,
    /// Immediate family members who may come along (同行直系亲属).
    pub companions_allowed: i32,
    pub valid_from: chrono::DateTime<chrono::Utc>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Month-days (China time) on which alone the offer applies, e.g. 08-01 (八一).
    pub recurring_dates: Vec<String>,
    /// 限量; null: unlimited.
    pub total_quota: Option<i64>,
    /// Redemptions counted against `total_quota`; null when unlimited (the figures in
    /// `/admin/stats` count every redemption).
    pub used_total: Option<i64>,
    pub remaining_total: Option<i64>,
    pub per_holder_limit: Option<i32>,
    pub per_holder_period: Option<String>,
    pub channel: String,
    /// Empty: every card product.
    pub card_products: Vec<String>,
    pub status: String,
    pub status_reason: Option<String>,
}

impl From<&OfferRow> for OfferView {
    fn from(row: &OfferRow) -> OfferView {
        OfferView {
            id: row.id,
            merchant_id: row.merchant_id,
            title: row.title.clone(),
            description: row.description.clone(),
            kind: row.kind.clone(),
            percent_off: row.percent_off,
            amount_off_fen: row.amount_off_fen,
            price_fen: row.price_fen,
            gift: row.gift.clone(),
            eligible_categories: split_capabilities(&row.eligible_categories),
            min_honor: row.min_honor.clone(),
            companions_allowed: row.companions_allowed,
            valid_from: utc(row.valid_from),
            valid_until: row.valid_until.map(utc),
            recurring_dates: split_capabilities(&row.recurring_dates),
            total_quota: row.total_quota,
            used_total: row.total_quota.map(|_| row.used_total),
            remaining_total: row.total_quota.map(|q| (q - row.used_total).max(0)),
            per_holder_limit: row.per_holder_limit,
            per_holder_period: row.per_holder_period.clone(),
            channel: row.channel.clone(),
            card_products: split_capabilities(&row.card_products),
            status: row.status.clone(),
            status_reason: row.status_reason.clone(),
        }
    }
}

/// The rules of an offer as stored, for eligibility and availability checks.
pub struct OfferRules {
    pub terms: OfferTerms,
    pub categories: Vec<Category>,
    pub min_honor: Option<Honor>,
    pub card_products: Vec<String>,
    pub recurring_dates: Vec<String>,
    pub period: Option<HolderPeriod>,
}

impl OfferRules {
    pub fn of(row: &OfferRow) -> OfferRules {
        OfferRules {
            terms: OfferTerms {
                kind: OfferKind::parse(&row.kind).unwrap_or(OfferKind::PriorityService),
                percent_off: row.percent_off,
                amount_off_fen: row.amount_off_fen,
                price_fen: row.price_fen,
                gift: row.gift.clone(),
            },
            categories: split_capabilities(&row.eligible_categories)
                .iter()
                .filter_map(|c| Category::parse(c))
                .collect(),
            min_honor: row.min_honor.as_deref().and_then(Honor::parse),
            card_products: split_capabilities(&row.card_products),
            recurring_dates: split_capabilities(&row.recurring_dates),
            period: row
                .per_holder_period
                .as_deref()
                .and_then(HolderPeriod::parse),
        }
    }

    pub fn eligible(&self, category: Category, honors: &[Honor], product: &str) -> bool {
        rules::is_eligible(
            &Eligibility {
                categories: &self.categories,
                min_honor: self.min_honor,
                card_products: &self.card_products,
            },
            category,
            honors,
            product,
        )
    }
}

/// Whether the offer can be used now: active, inside its window and on its days.
pub fn available_now(row: &OfferRow, rules: &OfferRules, now: NaiveDateTime) -> bool {
    row.status == OfferStatus::Active.as_str()
        && rules::available_at(row.valid_from, row.valid_until, &rules.recurring_dates, now)
}

// ---------- the request ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"title": "八一专享：就餐八折", "description": "现役军人及家属凭卡就餐八折", "kind": "percent_off",
    "percent_off": 20, "eligible_categories": ["active_duty", "military_family"], "companions_allowed": 2,
    "valid_from": "2026-07-01T00:00:00Z", "valid_until": "2026-12-31T16:00:00Z", "recurring_dates": ["08-01"],
    "total_quota": 500, "per_holder_limit": 1, "per_holder_period": "year", "channel": "in_store"}))]
pub struct OfferRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    /// percent_off, amount_off, fixed_price, free, priority_service (绿色通道) or gift.
    pub kind: Option<String>,
    pub percent_off: Option<i32>,
    pub amount_off_fen: Option<i64>,
    pub price_fen: Option<i64>,
    pub gift: Option<String>,
    pub eligible_categories: Option<Vec<String>>,
    pub min_honor: Option<String>,
    pub companions_allowed: Option<i32>,
    pub valid_from: Option<chrono::DateTime<chrono::Utc>>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    pub recurring_dates: Option<Vec<String>>,
    pub total_quota: Option<i64>,
    pub per_holder_limit: Option<i32>,
    /// day, week, month, year or lifetime.
    pub per_holder_period: Option<String>,
    /// in_store (default) or online.
    pub channel: Option<String>,
    pub card_products: Option<Vec<String>>,
}

/// Checks a complete offer (a new one, or an existing one with a change applied) and
/// writes it into `row`.
async fn apply_request(
    conn: &mut Conn<'_>,
    row: &mut OfferRow,
    req: &OfferRequest,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(title) = text(
        &mut errors,
        "title",
        req.title.as_deref().or(Some(&row.title)),
        true,
        100,
    ) {
        row.title = title;
    }
    row.description = text(
        &mut errors,
        "description",
        req.description.as_deref().or(Some(&row.description)),
        false,
        2000,
    )
    .unwrap_or_default();
    let kind_raw = req.kind.as_deref().unwrap_or(&row.kind);
    let kind = OfferKind::parse(kind_raw);
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            format!(
                "must be one of {}",
                OfferKind::ALL.map(|k| k.as_str()).join(", ")
            ),
        ));
    }
    if req.kind.is_some() {
        // A new kind starts from its own terms only.
        row.percent_off = None;
        row.amount_off_fen = None;
        row.price_fen = None;
        row.gift = None;
    }
    if req.percent_off.is_some() {
        row.percent_off = req.percent_off;
    }
    if req.amount_off_fen.is_some() {
        row.amount_off_fen = req.amount_off_fen;
    }
    if req.price_fen.is_some() {
        row.price_fen = req.price_fen;
    }
    if req.gift.is_some() {
        row.gift = req.gift.clone();
    }
    if let Some(kind) = kind {
        row.kind = kind.as_str().to_owned();
        let terms = OfferTerms {
            kind,
            percent_off: row.percent_off,
            amount_off_fen: row.amount_off_fen,
            price_fen: row.price_fen,
            gift: row.gift.clone(),
        };
        for (field, message) in rules::check_terms(&terms) {
            errors.push(FieldError::new(field, message));
        }
    }
    if let Some(categories) = &req.eligible_categories {
        let mut parsed = Vec::new();
        for (i, raw) in categories.iter().enumerate() {
            match Category::parse_any(raw) {
                Some(c) if !parsed.contains(&c.as_str()) => parsed.push(c.as_str()),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("eligible_categories[{i}]"),
                    "is not a beneficiary category",
                )),
            }
        }
        row.eligible_categories = join_capabilities(&parsed);
    }
    if let Some(raw) = &req.min_honor {
        match Honor::parse_any(raw) {
            Some(h) => row.min_honor = Some(h.as_str().to_owned()),
            None if raw.trim().is_empty() => row.min_honor = None,
            None => errors.push(FieldError::new("min_honor", "is not an honour")),
        }
    }
    if let Some(n) = req.companions_allowed {
        if !(0..=10).contains(&n) {
            errors.push(FieldError::new(
                "companions_allowed",
                "must be between 0 and 10",
            ));
        }
        row.companions_allowed = n;
    }
    if let Some(from) = req.valid_from {
        row.valid_from = from.naive_utc();
    }
    if req.valid_until.is_some() {
        row.valid_until = req.valid_until.map(|u| u.naive_utc());
    }
    if row.valid_until.is_some_and(|until| until <= row.valid_from) {
        errors.push(FieldError::new("valid_until", "must be after valid_from"));
    }
    if let Some(dates) = &req.recurring_dates {
        let mut parsed = Vec::new();
        for (i, raw) in dates.iter().enumerate() {
            match rules::parse_month_day(raw) {
                Ok(d) => {
                    if !parsed.contains(&d) {
                        parsed.push(d)
                    }
                }
                Err(m) => errors.push(FieldError::new(format!("recurring_dates[{i}]"), m)),
            }
        }
        row.recurring_dates = join_capabilities(&parsed);
    }
    if req.total_quota.is_some() {
        row.total_quota = req.total_quota;
    }
    if row.total_quota.is_some_and(|q| q < 1 || q < row.used_total) {
        errors.push(FieldError::new(
            "total_quota",
            "must be at least 1 and not below what is used",
        ));
    }
    if req.per_holder_limit.is_some() {
        row.per_holder_limit = req.per_holder_limit;
    }
    if let Some(raw) = &req.per_holder_period {
        match HolderPeriod::parse(raw.trim()) {
            Some(p) => row.per_holder_period = Some(p.as_str().to_owned()),
            None => errors.push(FieldError::new(
                "per_holder_period",
                "must be day, week, month, year or lifetime",
            )),
        }
    }
    match (row.per_holder_limit, &row.per_holder_period) {
        (Some(limit), _) if limit < 1 => {
            errors.push(FieldError::new("per_holder_limit", "must be at least 1"))
        }
        (Some(_), None) => errors.push(FieldError::new(
            "per_holder_period",
            "is required with per_holder_limit",
        )),
        _ => {}
    }
    if let Some(raw) = &req.channel {
        match Channel::parse(raw.trim()) {
            Some(c) => row.channel = c.as_str().to_owned(),
            None => errors.push(FieldError::new("channel", "must be in_store or online")),
        }
    }
    if let Some(products) = &req.card_products {
        let known: Vec<String> = db::cards::products(conn)
            .await?
            .into_iter()
            .map(|p| p.code)
            .collect();
        let mut parsed: Vec<&str> = Vec::new();
        for (i, raw) in products.iter().enumerate() {
            match known.iter().find(|k| *k == raw.trim()) {
                Some(k) if !parsed.contains(&k.as_str()) => parsed.push(k),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("card_products[{i}]"),
                    "is not a card product",
                )),
            }
        }
        row.card_products = join_capabilities(&parsed);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Whether any field of `req` changes what a holder gets (back to review if so).
fn is_material(req: &OfferRequest) -> bool {
    let fields = [
        ("kind", req.kind.is_some()),
        ("percent_off", req.percent_off.is_some()),
        ("amount_off_fen", req.amount_off_fen.is_some()),
        ("price_fen", req.price_fen.is_some()),
        ("gift", req.gift.is_some()),
        ("eligible_categories", req.eligible_categories.is_some()),
        ("min_honor", req.min_honor.is_some()),
        ("companions_allowed", req.companions_allowed.is_some()),
        ("valid_from", req.valid_from.is_some()),
        ("valid_until", req.valid_until.is_some()),
        ("recurring_dates", req.recurring_dates.is_some()),
        ("total_quota", req.total_quota.is_some()),
        ("per_holder_limit", req.per_holder_limit.is_some()),
        ("per_holder_period", req.per_holder_period.is_some()),
        ("channel", req.channel.is_some()),
        ("card_products", req.card_products.is_some()),
    ];
    fields
        .iter()
        .any(|(field, present)| *present && rules::is_material_change(field))
}

// ---------- merchant staff ----------

/// After a commit: the merchant's snapshot (which carries its active offers) is stale.
pub async fn invalidate_merchant(state: &AppState, merchant: MerchantId) {
    if let Err(error) = state
        .cache
        .invalidate(vec![keys::merchant(&merchant)])
        .await
    {
        tracing::warn!(%error, "cache invalidation failed; the entry expires by its TTL");
    }
}

fn offer_not_found() -> ApiError {
    ApiError::not_found("offer_not_found", "no such offer")
}

async fn own_offer(conn: &mut Conn<'_>, staff: &MerchantStaff, id: OfferId) -> ApiResult<OfferRow> {
    offers::find_offer(conn, id)
        .await?
        .filter(|o| o.merchant_id == staff.merchant_id)
        .ok_or_else(offer_not_found)
}

async fn record_offer_change(
    tx: &mut Conn<'_>,
    actor: &crate::db::audit::Actor,
    row: &OfferRow,
    region: &str,
    action: &str,
    before: Option<&str>,
    reason: Option<&str>,
) -> ApiResult<()> {
    audit::record(
        tx,
        actor,
        AuditEntry {
            action,
            entity_type: "offer",
            entity_id: row.id.to_string(),
            region_code: Some(region),
            before_status: before,
            after_status: Some(&row.status),
            reason,
            details: Some(serde_json::json!({"merchant_id": row.merchant_id, "title": row.title})),
        },
    )
    .await?;
    Ok(())
}

async fn merchant_region(conn: &mut Conn<'_>, merchant: MerchantId) -> ApiResult<String> {
    db::merchants::find(conn, merchant)
        .await?
        .map(|m| m.region_code)
        .ok_or_else(directory::merchant_not_found)
}

/// Creates an offer of the caller's merchant; it waits for the office's approval.
#[utoipa::path(tag = "offers", request_body = OfferRequest, security(("staff" = [])), responses(
    (status = 201, body = OfferView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`: not merchant staff"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/merchant/offers")]
#[tracing::instrument(name = "create_offer", skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    staff: MerchantStaff,
    body: Json<OfferRequest>,
) -> ApiResult<HttpResponse> {
    let now = db::now();
    let mut row = OfferRow {
        id: OfferId::new(),
        merchant_id: staff.merchant_id,
        title: String::new(),
        description: String::new(),
        kind: String::new(),
        percent_off: None,
        amount_off_fen: None,
        price_fen: None,
        gift: None,
        eligible_categories: ",".into(),
        min_honor: None,
        companions_allowed: 0,
        valid_from: now,
        valid_until: None,
        recurring_dates: ",".into(),
        total_quota: None,
        used_total: 0,
        per_holder_limit: None,
        per_holder_period: None,
        channel: Channel::InStore.as_str().into(),
        card_products: ",".into(),
        status: OfferStatus::PendingReview.as_str().into(),
        status_reason: None,
        created_at: now,
        updated_at: now,
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    if body.kind.is_none() {
        return Err(ApiError::invalid_field("kind", "is required"));
    }
    apply_request(&mut conn, &mut row, &body).await?;
    let region = merchant_region(&mut conn, staff.merchant_id).await?;
    let actor = staff.user.actor();
    conn.transaction(async |tx| {
        offers::insert_offer(tx, &row).await?;
        record_offer_change(tx, &actor, &row, &region, "offer.create", None, None).await
    })
    .await?;
    Ok(HttpResponse::Created().json(OfferView::from(&row)))
}

/// The caller's merchant's offers, every status.
#[utoipa::path(tag = "offers", security(("staff" = [])), responses((status = 200, body = Vec<OfferView>)))]
#[get("/merchant/offers")]
pub async fn list_own(
    state: web::Data<AppState>,
    staff: MerchantStaff,
) -> ApiResult<web::Json<Vec<OfferView>>> {
    let mut pooled = state.db.get().await?;
    let rows = offers::merchant_offers(&mut pooled.conn(), staff.merchant_id, None).await?;
    Ok(web::Json(rows.iter().map(OfferView::from).collect()))
}

/// Changes an offer. A material change (terms, eligibility, dates, quotas) to an active
/// or paused offer sends it back to review; title and description do not.
#[utoipa::path(tag = "offers", params(("id" = OfferId, Path)), request_body = OfferRequest, security(("staff" = [])),
    responses(
    (status = 200, body = OfferView),
    (status = 404, body = crate::error::Problem, description = "`offer_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`: the offer has ended"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[patch("/merchant/offers/{id}")]
#[tracing::instrument(name = "update_offer", skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    staff: MerchantStaff,
    id: web::Path<OfferId>,
    body: Json<OfferRequest>,
) -> ApiResult<web::Json<OfferView>> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let mut row = own_offer(&mut conn, &staff, *id).await?;
    let before = row.status.clone();
    let status = OfferStatus::parse(&row.status).unwrap_or(OfferStatus::Ended);
    if status == OfferStatus::Ended {
        return Err(
            ApiError::conflict("invalid_transition", "an ended offer cannot change")
                .with("current_status", "ended"),
        );
    }
    // An unlimited offer's redemptions are not counted on its row: a new quota starts
    // from what was already redeemed.
    let quota_introduced = row.total_quota.is_none() && body.total_quota.is_some();
    if quota_introduced {
        row.used_total = offers::completed_redemptions(&mut conn, row.id).await?;
    }
    apply_request(&mut conn, &mut row, &body).await?;
    if is_material(&body) && status != OfferStatus::PendingReview {
        let next = rules::offer_transition(status, OfferAction::Resubmit)
            .unwrap_or(OfferStatus::PendingReview);
        row.status = next.as_str().to_owned();
        row.status_reason = Some("material change: back to review".into());
    }
    row.updated_at = db::now();
    let region = merchant_region(&mut conn, staff.merchant_id).await?;
    let actor = staff.user.actor();
    conn.transaction(async |tx| {
        offers::save_offer(tx, &row).await?;
        if quota_introduced {
            offers::set_used_total(tx, row.id, row.used_total).await?;
        }
        record_offer_change(
            tx,
            &actor,
            &row,
            &region,
            "offer.update",
            Some(&before),
            None,
        )
        .await
    })
    .await?;
    invalidate_merchant(&state, row.merchant_id).await;
    Ok(web::Json(OfferView::from(&row)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "门店装修，暂停两周"}))]
pub struct OfferReasonRequest {
    pub reason: Option<String>,
}

/// Applies a lifecycle action with its audit entry, then drops the merchant snapshot.
async fn act(
    state: &AppState,
    conn: &mut Conn<'_>,
    mut row: OfferRow,
    action: OfferAction,
    actor: crate::db::audit::Actor,
    reason: Option<String>,
) -> ApiResult<OfferRow> {
    let from = OfferStatus::parse(&row.status).unwrap_or(OfferStatus::Ended);
    let to = rules::offer_transition(from, action).ok_or_else(|| {
        ApiError::conflict(
            "invalid_transition",
            format!("cannot {action} an offer that is {from}"),
        )
        .with("current_status", from.as_str())
    })?;
    row.status = to.as_str().to_owned();
    row.status_reason = reason.clone();
    row.updated_at = db::now();
    let region = merchant_region(conn, row.merchant_id).await?;
    let audit_action = format!("offer.{action}");
    conn.transaction(async |tx| {
        offers::save_offer(tx, &row).await?;
        record_offer_change(
            tx,
            &actor,
            &row,
            &region,
            &audit_action,
            Some(from.as_str()),
            reason.as_deref(),
        )
        .await
    })
    .await?;
    invalidate_merchant(state, row.merchant_id).await;
    Ok(row)
}

macro_rules! staff_action {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "offers", params(("id" = OfferId, Path)), request_body = OfferReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = OfferView),
            (status = 404, body = crate::error::Problem, description = "`offer_not_found`"),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)")))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            staff: MerchantStaff,
            id: web::Path<OfferId>,
            body: Json<OfferReasonRequest>,
        ) -> ApiResult<web::Json<OfferView>> {
            let mut pooled = state.db.get().await?;
            let mut conn = pooled.conn();
            let row = own_offer(&mut conn, &staff, *id).await?;
            let row = act(&state, &mut conn, row, $action, staff.user.actor(), body.0.reason).await?;
            Ok(web::Json(OfferView::from(&row)))
        }
    };
}

staff_action!(
    pause,
    "/merchant/offers/{id}/pause",
    OfferAction::Pause,
    "Pauses an active offer."
);
staff_action!(
    resume,
    "/merchant/offers/{id}/resume",
    OfferAction::Resume,
    "Resumes a paused offer."
);
staff_action!(
    end,
    "/merchant/offers/{id}/end",
    OfferAction::End,
    "Ends an offer for good."
);

macro_rules! admin_action {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "offers", params(("id" = OfferId, Path)), request_body = OfferReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = OfferView),
            (status = 404, body = crate::error::Problem, description = "`offer_not_found` (also outside your region)"),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)")))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            admin: AdminUser,
            id: web::Path<OfferId>,
            body: Json<OfferReasonRequest>,
        ) -> ApiResult<web::Json<OfferView>> {
            admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin])?;
            let mut pooled = state.db.get().await?;
            let mut conn = pooled.conn();
            let row = offers::find_offer(&mut conn, *id).await?.ok_or_else(offer_not_found)?;
            let region = merchant_region(&mut conn, row.merchant_id).await?;
            let covered = RegionCode::parse(&region).is_ok_and(|r| admin.covers(&r));
            if !covered {
                return Err(offer_not_found());
            }
            let row = act(&state, &mut conn, row, $action, admin.actor(), body.0.reason).await?;
            Ok(web::Json(OfferView::from(&row)))
        }
    };
}

admin_action!(
    approve,
    "/admin/offers/{id}/approve",
    OfferAction::Approve,
    "Approves an offer (an administrator of the merchant's region)."
);
admin_action!(
    reject,
    "/admin/offers/{id}/reject",
    OfferAction::Reject,
    "Rejects an offer under review."
);

// ---------- public and holder lists ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct OfferQuery {
    /// Merchant category.
    pub category: Option<String>,
    /// Merchant region subtree.
    pub region: Option<String>,
    /// `lat,lng`: merchants within `radius_km` (default 10), nearest first.
    pub near: Option<String>,
    pub radius_km: Option<f64>,
    /// Only offers this beneficiary category may use.
    pub eligible_for: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

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

/// Active offers of active merchants matching the query, in merchant order (nearest
/// first with `near`). Merchants are searched as in the directory (up to 500).
async fn listing(
    conn: &mut Conn<'_>,
    query: &OfferQuery,
    holder: Option<(&Category, &[Honor], &str)>,
) -> ApiResult<(
    Vec<(OfferRow, crate::db::merchants::MerchantRow, Option<f64>)>,
    crate::routes::Page,
)> {
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let eligible_for = match query.eligible_for.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => Some(Category::parse_any(raw).ok_or_else(|| {
            ApiError::invalid_field("eligible_for", "is not a beneficiary category")
        })?),
        None => None,
    };
    let directory_query = DirectoryQuery {
        q: None,
        category: query.category.clone(),
        region: query.region.clone(),
        near: query.near.clone(),
        radius_km: query.radius_km,
        emergency_capability: None,
        page: Some(1),
        per_page: Some(100),
    };
    let mut search = directory::parse_directory_query(conn, &directory_query).await?;
    let mut merchants: Vec<(crate::db::merchants::MerchantRow, Option<f64>)> = Vec::new();
    if let Some(id) = query.merchant_id {
        if let Some(row) = db::merchants::find(conn, id).await? {
            if row.effective_status(china_today()) == MerchantStatus::Active {
                merchants.push((row, None));
            }
        }
    } else {
        for page_no in 1..=5 {
            search.page = crate::routes::Page {
                page: page_no,
                per_page: 100,
            };
            let (rows, total) = directory::search(conn, &search).await?;
            let done = rows.len() < 100 || i64::from(page_no) * 100 >= total;
            merchants.extend(rows);
            if done {
                break;
            }
        }
    }
    let ids: Vec<MerchantId> = merchants.iter().map(|(m, _)| m.id).collect();
    let all_offers = offers::active_offers_of(conn, &ids).await?;
    let now = db::now();
    let mut rows = Vec::new();
    for (merchant, distance) in &merchants {
        for offer in all_offers.iter().filter(|o| o.merchant_id == merchant.id) {
            let rules = OfferRules::of(offer);
            if !available_now(offer, &rules, now) {
                continue;
            }
            if let Some(category) = eligible_for {
                if !rules.categories.is_empty() && !rules.categories.contains(&category) {
                    continue;
                }
            }
            if let Some((category, honors, product)) = holder {
                if !rules.eligible(*category, honors, product) {
                    continue;
                }
            }
            rows.push((offer.clone(), merchant.clone(), *distance));
        }
    }
    Ok((rows, page))
}

fn paged_listing(
    rows: Vec<(OfferRow, crate::db::merchants::MerchantRow, Option<f64>)>,
    page: crate::routes::Page,
    remaining: impl Fn(&OfferRow) -> Option<Option<i64>>,
) -> Paged<OfferListing> {
    let total = rows.len() as i64;
    let items = rows
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .map(|(offer, merchant, distance)| OfferListing {
            remaining_for_holder: remaining(&offer),
            offer: OfferView::from(&offer),
            merchant_name: merchant.name,
            merchant_category: merchant.category,
            merchant_region_code: merchant.region_code,
            distance_km: distance,
        })
        .collect();
    page.wrap(items, total)
}

/// Active offers of active merchants, for anyone.
#[utoipa::path(tag = "offers", params(OfferQuery), responses(
    (status = 200, body = Paged<OfferListing>, example = json!({"items": [
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
        "total": 2, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/offers")]
pub async fn public_list(
    state: web::Data<AppState>,
    query: web::Query<OfferQuery>,
) -> ApiResult<web::Json<Paged<OfferListing>>> {
    let mut pooled = state.db.get().await?;
    let (rows, page) = listing(&mut pooled.conn(), &query, None).await?;
    Ok(web::Json(paged_listing(rows, page, |_| None)))
}

/// The offers this holder may use now, with the uses left for them.
#[utoipa::path(tag = "holder", params(OfferQuery), security(("holder" = [])), responses(
    (status = 200, body = Paged<OfferListing>, example = json!({"items": [
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
        "total": 2, "page": 1, "per_page": 20})),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`, `token_revoked`")))]
#[get("/holder/offers")]
pub async fn holder_list(
    state: web::Data<AppState>,
    holder: Holder,
    query: web::Query<OfferQuery>,
) -> ApiResult<web::Json<Paged<OfferListing>>> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let beneficiary = db::beneficiaries::find(&mut conn, holder.card.beneficiary_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("card without beneficiary")))?;
    let category = Category::parse(&beneficiary.category).unwrap_or(Category::OtherEntitled);
    let honors: Vec<Honor> = beneficiary
        .honors()
        .iter()
        .filter_map(|h| Honor::parse(h))
        .collect();
    let (rows, page) = listing(
        &mut conn,
        &query,
        Some((&category, &honors, &holder.card.product)),
    )
    .await?;
    let uses = offers::holder_uses(&mut conn, beneficiary.id).await?;
    let now = db::now();
    Ok(web::Json(paged_listing(rows, page, |offer| {
        Some(remaining_for_holder(offer, &uses, now))
    })))
}

/// Uses left for a holder in the current period; `None` when the offer has no limit.
pub fn remaining_for_holder(
    offer: &OfferRow,
    uses: &[(OfferId, String, i32)],
    now: NaiveDateTime,
) -> Option<i64> {
    let limit = offer.per_holder_limit?;
    let period = offer
        .per_holder_period
        .as_deref()
        .and_then(HolderPeriod::parse)?;
    let key = rules::period_key(period, now);
    let used = uses
        .iter()
        .find(|(o, k, _)| *o == offer.id && *k == key)
        .map_or(0, |(_, _, u)| *u);
    Some(i64::from((limit - used).max(0)))
}
