//! Complaints and ratings (投诉): a holder files one about a merchant they used in the
//! last 90 days; offices read and resolve them. Filing re-evaluates the merchant's
//! exit-review flag in the same transaction (rule: `domain::oversight`).

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::holder::Holder;
use crate::auth::AdminUser;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::complaints::{self, ComplaintFilter, ComplaintId, ComplaintRow};
use crate::db::merchants::{self, MerchantRow};
use crate::db::{self, BeneficiaryId, Conn, MerchantId, RedemptionId, StaffUserId};
use crate::domain::beneficiary::mask_name;
use crate::domain::oversight::{
    self, ComplaintOutcome, ComplaintStatus, ExitReviewThresholds, WINDOW_DAYS,
};
use crate::domain::RegionCode;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::merchants::{merchant_not_found, text};
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

// ---------- views ----------

/// A complaint as its holder sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e01",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "深圳市罗湖区拥军大药房",
    "redemption_id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f02", "rating": 2,
    "content": "出示优待卡后店员拒绝给予九折优惠", "status": "open", "created_at": "2026-12-05T06:00:00Z"}))]
pub struct HolderComplaintView {
    pub id: ComplaintId,
    pub merchant_id: MerchantId,
    pub merchant_name: String,
    pub redemption_id: Option<RedemptionId>,
    /// 1 (worst) to 5 (best).
    pub rating: i32,
    pub content: String,
    /// `open` or `resolved`.
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Who complained, as much as an office needs: never an ID number or phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplainantView {
    /// 张*明
    pub name_masked: String,
    pub category: String,
}

/// A complaint as an office sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e01",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "深圳市罗湖区拥军大药房",
    "region_code": "440303", "redemption_id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f02",
    "holder": {"name_masked": "张*明", "category": "veteran"}, "rating": 2,
    "content": "出示优待卡后店员拒绝给予九折优惠", "status": "resolved", "outcome": "upheld",
    "resolution_comment": "经核实属实，已责令商户整改并向持卡人致歉",
    "resolved_by": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e01", "resolved_at": "2026-12-07T02:00:00Z",
    "created_at": "2026-12-05T06:00:00Z"}))]
pub struct ComplaintView {
    pub id: ComplaintId,
    pub merchant_id: MerchantId,
    pub merchant_name: String,
    /// The merchant's region.
    pub region_code: String,
    pub redemption_id: Option<RedemptionId>,
    pub holder: ComplainantView,
    pub rating: i32,
    pub content: String,
    /// `open` or `resolved`.
    pub status: String,
    /// `upheld`, `mediated` or `dismissed`, once resolved.
    pub outcome: Option<String>,
    pub resolution_comment: Option<String>,
    pub resolved_by: Option<StaffUserId>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn complaint_not_found() -> ApiError {
    ApiError::not_found("complaint_not_found", "no such complaint")
}

/// Views of `rows`, with merchant names and masked holder names looked up in bulk.
async fn views(conn: &mut Conn<'_>, rows: Vec<ComplaintRow>) -> ApiResult<Vec<ComplaintView>> {
    let mut merchant_ids: Vec<MerchantId> = rows.iter().map(|r| r.merchant_id).collect();
    merchant_ids.sort();
    merchant_ids.dedup();
    let mut holder_ids: Vec<BeneficiaryId> = rows.iter().map(|r| r.beneficiary_id).collect();
    holder_ids.sort();
    holder_ids.dedup();
    let names: std::collections::HashMap<MerchantId, String> =
        merchants::find_many(conn, &merchant_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m.name))
            .collect();
    let holders: std::collections::HashMap<BeneficiaryId, (String, String)> =
        complaints::holders(conn, &holder_ids)
            .await?
            .into_iter()
            .map(|(id, name, category)| (id, (name, category)))
            .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let (name, category) = holders
                .get(&row.beneficiary_id)
                .map(|(n, c)| (mask_name(n), c.clone()))
                .unwrap_or_default();
            ComplaintView {
                id: row.id,
                merchant_id: row.merchant_id,
                merchant_name: names.get(&row.merchant_id).cloned().unwrap_or_default(),
                region_code: row.region_code,
                redemption_id: row.redemption_id,
                holder: ComplainantView {
                    name_masked: name,
                    category,
                },
                rating: row.rating,
                content: row.content,
                status: row.status,
                outcome: row.outcome,
                resolution_comment: row.resolution_comment,
                resolved_by: row.resolved_by,
                resolved_at: row.resolved_at.map(utc),
                created_at: utc(row.created_at),
            }
        })
        .collect())
}

// ---------- the exit-review flag ----------

/// Flags `merchant` for exit review with `reason` (added to any reason it is already
/// flagged for), with its audit entry; in the caller's transaction. The status is never
/// touched. `None` when the merchant already carries exactly this reason.
pub(crate) async fn flag_for_exit_review(
    tx: &mut Conn<'_>,
    actor: &Actor,
    merchant: &MerchantRow,
    reason: &str,
    details: serde_json::Value,
) -> ApiResult<Option<MerchantRow>> {
    let combined = oversight::add_reason(merchant.exit_review_reason.as_deref(), reason);
    if merchant.exit_review_flagged_at.is_some()
        && merchant.exit_review_reason.as_deref() == Some(combined.as_str())
    {
        return Ok(None);
    }
    let flagged_at = merchant.exit_review_flagged_at.unwrap_or_else(db::now);
    let updated = merchants::set_exit_review_flag(tx, merchant.id, &combined, flagged_at).await?;
    audit::record(
        tx,
        actor,
        AuditEntry {
            action: "merchant.flag_exit_review",
            entity_type: "merchant",
            entity_id: merchant.id.to_string(),
            region_code: Some(&merchant.region_code),
            before_status: Some(&merchant.status),
            after_status: Some(&merchant.status),
            reason: Some(reason),
            details: Some(details),
        },
    )
    .await?;
    tracing::info!(merchant_id = %merchant.id, "merchant flagged for exit review");
    Ok(Some(updated))
}

/// Applies the complaint rule to `merchant` (locked by the caller) as of `now`; flags it
/// when the figures cross the thresholds. A merchant already flagged is left as it is.
async fn evaluate_complaints(
    tx: &mut Conn<'_>,
    thresholds: &ExitReviewThresholds,
    merchant: &MerchantRow,
    now: chrono::NaiveDateTime,
) -> ApiResult<()> {
    if merchant.exit_review_flagged_at.is_some() {
        return Ok(());
    }
    let window_start = now - chrono::Duration::days(WINDOW_DAYS);
    // Complaints an administrator already decided on do not count again.
    let complaints_since = merchant
        .exit_review_cleared_at
        .map_or(window_start, |cleared| cleared.max(window_start));
    let figures =
        complaints::flag_figures(tx, merchant.id, window_start, complaints_since, now).await?;
    if let Some(reason) = oversight::exit_review_reason(&figures, thresholds) {
        let details = serde_json::json!({
            "source": "complaints",
            "complaints": figures.complaints,
            "complainants": figures.complainants,
            "redemptions": figures.redemptions,
            "complaint_rate": figures.complaint_rate(),
            "average_rating": figures.average_rating(),
            "window_days": WINDOW_DAYS,
        });
        flag_for_exit_review(tx, &Actor::system(), merchant, &reason, details).await?;
    }
    Ok(())
}

// ---------- holders ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
    "redemption_id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f02", "rating": 2,
    "content": "出示优待卡后店员拒绝给予九折优惠"}))]
pub struct ComplaintRequest {
    pub merchant_id: Option<String>,
    /// The visit complained about: optional, but when given it must be the holder's own
    /// completed redemption at this merchant.
    pub redemption_id: Option<String>,
    /// 1 (worst) to 5 (best).
    pub rating: Option<i64>,
    /// Up to 2000 characters.
    pub content: Option<String>,
}

fn uuid_field<T: std::str::FromStr>(
    errors: &mut Vec<FieldError>,
    field: &str,
    raw: Option<&str>,
    required: bool,
) -> Option<T> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => {
            if required {
                errors.push(FieldError::new(field, "is required"));
            }
            None
        }
        Some(raw) => match raw.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new(field, "is not a UUID"));
                None
            }
        },
    }
}

fn no_recent_redemption() -> ApiError {
    ApiError::forbidden(
        "no_recent_redemption",
        format!(
            "a complaint needs a completed redemption at this merchant in the last {WINDOW_DAYS} days"
        ),
    )
}

/// Files a complaint and rating about a merchant where the holder (with any of their
/// cards) has a completed redemption in the last 90 days. The merchant's complaint
/// figures are re-evaluated at once and may flag it for exit review (never suspend it).
#[utoipa::path(tag = "oversight", request_body = ComplaintRequest, security(("holder" = [])), responses(
    (status = 201, body = HolderComplaintView),
    (status = 401, body = crate::error::Problem, description = "`unauthenticated`, `token_revoked`"),
    (status = 403, body = crate::error::Problem, description = "`no_recent_redemption`: no completed redemption at this merchant in the last 90 days (or the given one is older, or voided)"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`, `redemption_not_found` (also another holder's)"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`: rating 1–5, content required, redemption at another merchant")))]
#[post("/holder/complaints")]
#[tracing::instrument(name = "file_complaint", skip_all)]
pub async fn file_complaint(
    state: web::Data<AppState>,
    holder: Holder,
    body: Json<ComplaintRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let merchant_id: Option<MerchantId> = uuid_field(
        &mut errors,
        "merchant_id",
        body.merchant_id.as_deref(),
        true,
    );
    let redemption_id: Option<RedemptionId> = uuid_field(
        &mut errors,
        "redemption_id",
        body.redemption_id.as_deref(),
        false,
    );
    let rating = match body.rating {
        Some(r) if (1..=5).contains(&r) => Some(r as i32),
        Some(_) => {
            errors.push(FieldError::new("rating", "must be between 1 and 5"));
            None
        }
        None => {
            errors.push(FieldError::new("rating", "is required (1 to 5)"));
            None
        }
    };
    let content = text(&mut errors, "content", body.content.as_deref(), true, 2000);
    let (merchant_id, rating, content) = match (merchant_id, rating, content) {
        (Some(m), Some(r), Some(c)) if errors.is_empty() => (m, r, c),
        _ => return Err(ApiError::validation(errors)),
    };
    let beneficiary = holder.card.beneficiary_id;
    let now = db::now();
    let since = now - chrono::Duration::days(WINDOW_DAYS);
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = merchants::find(&mut conn, merchant_id)
        .await?
        .ok_or_else(merchant_not_found)?;
    match redemption_id {
        Some(id) => {
            let redemption = db::offers::find_redemption(&mut conn, id)
                .await?
                .filter(|r| r.beneficiary_id == beneficiary)
                .ok_or_else(|| {
                    ApiError::not_found("redemption_not_found", "no such redemption of yours")
                })?;
            if redemption.merchant_id != merchant_id {
                return Err(ApiError::invalid_field(
                    "redemption_id",
                    "is a redemption at another merchant",
                ));
            }
            if redemption.status != "completed" || redemption.redeemed_at < since {
                return Err(no_recent_redemption());
            }
        }
        None => {
            let recent =
                complaints::completed_redemptions_of(&mut conn, beneficiary, merchant_id, since)
                    .await?;
            if recent == 0 {
                return Err(no_recent_redemption());
            }
        }
    }
    let row = ComplaintRow {
        id: ComplaintId::new(),
        merchant_id,
        beneficiary_id: beneficiary,
        redemption_id,
        region_code: merchant.region_code.clone(),
        rating,
        content,
        status: ComplaintStatus::Open.as_str().to_owned(),
        outcome: None,
        resolution_comment: None,
        resolved_by: None,
        resolved_at: None,
        created_at: now,
    };
    let thresholds = state.exit_review;
    conn.transaction(async |tx| {
        // Locked first, so complaints filed at the same moment are counted one by one.
        let merchant = merchants::find_for_update(tx, merchant_id)
            .await?
            .ok_or_else(merchant_not_found)?;
        complaints::insert(tx, &row).await?;
        audit::record(
            tx,
            &Actor {
                id: None,
                label: "holder".into(),
            },
            AuditEntry {
                action: "complaint.file",
                entity_type: "complaint",
                entity_id: row.id.to_string(),
                region_code: Some(&row.region_code),
                after_status: Some(ComplaintStatus::Open.as_str()),
                details: Some(
                    serde_json::json!({"merchant_id": merchant_id, "rating": rating,
                    "redemption_id": redemption_id, "card_id": holder.card.id}),
                ),
                ..Default::default()
            },
        )
        .await?;
        evaluate_complaints(tx, &thresholds, &merchant, now).await
    })
    .await?;
    Ok(HttpResponse::Created().json(HolderComplaintView {
        id: row.id,
        merchant_id,
        merchant_name: merchant.name,
        redemption_id,
        rating,
        content: row.content,
        status: row.status,
        created_at: utc(now),
    }))
}

// ---------- offices ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct ComplaintQuery {
    /// `open` or `resolved`.
    pub status: Option<String>,
    pub merchant_id: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Complaints about merchants in the caller's region subtree, newest first. Holders are
/// shown by masked name and category only.
#[utoipa::path(tag = "oversight", params(ComplaintQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<ComplaintView>, example = json!({"items": [
        {"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e01", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
            "merchant_name": "深圳市罗湖区拥军大药房", "region_code": "440303",
            "redemption_id": "0193a8f9-7b8c-7d9e-8f0a-1b2c3d4e5f02",
            "holder": {"name_masked": "张*明", "category": "veteran"}, "rating": 2,
            "content": "出示优待卡后店员拒绝给予九折优惠", "status": "open", "outcome": null,
            "resolution_comment": null, "resolved_by": null, "resolved_at": null,
            "created_at": "2026-12-05T06:00:00Z"}],
        "total": 1, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/admin/complaints")]
pub async fn list_complaints(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<ComplaintQuery>,
) -> ApiResult<web::Json<Paged<ComplaintView>>> {
    let mut errors = Vec::new();
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .collect(&mut errors);
    let mut filter = ComplaintFilter::default();
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        match ComplaintStatus::parse(status) {
            Some(s) => filter.status = Some(s.as_str().to_owned()),
            None => errors.push(FieldError::new("status", "must be open or resolved")),
        }
    }
    filter.merchant_id = uuid_field(
        &mut errors,
        "merchant_id",
        query.merchant_id.as_deref(),
        false,
    );
    if let Some(pattern) = admin.region_like() {
        filter.region_likes.push(pattern);
    }
    let page = match page {
        Some(page) if errors.is_empty() => page,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) = complaints::list(&mut conn, &filter, page.offset(), page.limit()).await?;
    Ok(web::Json(page.wrap(views(&mut conn, rows).await?, total)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "upheld", "comment": "经核实属实，已责令商户整改并向持卡人致歉"}))]
pub struct ResolveComplaintRequest {
    /// `upheld`, `mediated` or `dismissed` (a dismissed complaint no longer counts
    /// towards the exit-review flag).
    pub outcome: Option<String>,
    pub comment: Option<String>,
}

/// Resolves an open complaint (office roles that may write).
#[utoipa::path(tag = "oversight", params(("id" = ComplaintId, Path)), request_body = ResolveComplaintRequest,
    security(("staff" = [])), responses(
    (status = 200, body = ComplaintView),
    (status = 403, body = crate::error::Problem, description = "`read_only_role`"),
    (status = 404, body = crate::error::Problem, description = "`complaint_not_found` (also outside your region)"),
    (status = 409, body = crate::error::Problem, description = "`complaint_resolved` (with `outcome`)"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/complaints/{id}/resolve")]
#[tracing::instrument(name = "resolve_complaint", skip_all, fields(complaint_id = %id))]
pub async fn resolve_complaint(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<ComplaintId>,
    body: Json<ResolveComplaintRequest>,
) -> ApiResult<web::Json<ComplaintView>> {
    admin.require_write()?;
    let mut errors = Vec::new();
    let outcome = match body.outcome.as_deref().map(ComplaintOutcome::parse) {
        Some(Some(o)) => Some(o),
        Some(None) => {
            errors.push(FieldError::new(
                "outcome",
                "must be upheld, mediated or dismissed",
            ));
            None
        }
        None => {
            errors.push(FieldError::new("outcome", "is required"));
            None
        }
    };
    let comment = text(&mut errors, "comment", body.comment.as_deref(), true, 2000);
    let (outcome, comment) = match (outcome, comment) {
        (Some(o), Some(c)) if errors.is_empty() => (o, c),
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let complaint = complaints::find(&mut conn, *id)
        .await?
        .filter(|c| RegionCode::parse(&c.region_code).is_ok_and(|r| admin.covers(&r)))
        .ok_or_else(complaint_not_found)?;
    let resolved = |outcome: Option<&str>| {
        ApiError::conflict("complaint_resolved", "this complaint is already resolved")
            .with("outcome", outcome.map(str::to_owned))
    };
    if complaint.status != ComplaintStatus::Open.as_str() {
        return Err(resolved(complaint.outcome.as_deref()));
    }
    let updated = conn
        .transaction(async |tx| {
            let updated = complaints::resolve(
                tx,
                complaint.id,
                outcome.as_str(),
                &comment,
                admin.id,
                db::now(),
            )
            .await?
            .ok_or_else(|| resolved(None))?;
            audit::record(
                tx,
                &admin.actor(),
                AuditEntry {
                    action: "complaint.resolve",
                    entity_type: "complaint",
                    entity_id: complaint.id.to_string(),
                    region_code: Some(&complaint.region_code),
                    before_status: Some(ComplaintStatus::Open.as_str()),
                    after_status: Some(ComplaintStatus::Resolved.as_str()),
                    reason: Some(&comment),
                    details: Some(serde_json::json!({"outcome": outcome,
                        "merchant_id": complaint.merchant_id})),
                },
            )
            .await?;
            Ok::<_, ApiError>(updated)
        })
        .await?;
    let view = views(&mut conn, vec![updated])
        .await?
        .pop()
        .ok_or_else(complaint_not_found)?;
    Ok(web::Json(view))
}
