//! Complaints and ratings (投诉): a holder files one about a merchant they used in the
//! last 90 days; offices read and resolve them. The use cases are
//! `app::oversight::complaints`.

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::{AdminUser, Holder};
use crate::app::oversight::complaints::{self, ComplaintRecord, NewComplaint};
use crate::db::complaints::ComplaintId;
use crate::db::{MerchantId, RedemptionId, StaffUserId};
use crate::domain::oversight::{ComplaintOutcome, ComplaintStatus};
use crate::error::AppResult;
use crate::http::{utc, Json, Paged, Reply, State};
use crate::validate::Fields;

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

impl From<ComplaintRecord> for ComplaintView {
    fn from(record: ComplaintRecord) -> ComplaintView {
        let row = record.complaint;
        ComplaintView {
            id: row.id,
            merchant_id: row.merchant_id,
            merchant_name: record.merchant_name,
            region_code: row.region_code,
            redemption_id: row.redemption_id,
            holder: ComplainantView {
                name_masked: record.holder_name_masked,
                category: record.holder_category,
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
    }
}

/// A UUID given as text (blank counts as absent).
fn uuid<T: std::str::FromStr>(raw: &str) -> Result<T, &'static str> {
    raw.parse().map_err(|_| "is not a UUID")
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
    state: State,
    holder: Holder,
    body: Json<ComplaintRequest>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let merchant_id = f.required_str(
        "merchant_id",
        body.merchant_id.as_deref(),
        uuid::<MerchantId>,
    );
    let redemption_id = f.optional_str(
        "redemption_id",
        body.redemption_id.as_deref(),
        uuid::<RedemptionId>,
    );
    let rating = match body.rating {
        Some(r) if (1..=5).contains(&r) => Some(r as i32),
        Some(_) => {
            f.error("rating", "must be between 1 and 5");
            None
        }
        None => {
            f.error("rating", "is required (1 to 5)");
            None
        }
    };
    let content = f.free_text("content", body.content.as_deref(), 2000);
    let (merchant_id, redemption_id, rating, content) =
        f.finish((merchant_id, redemption_id, rating, content))?;
    let complaint = NewComplaint {
        merchant_id,
        redemption_id,
        rating,
        content,
    };
    let (row, merchant_name) =
        complaints::file(&state.db, &state.policy.exit_review, &holder, complaint).await?;
    Ok(HttpResponse::Created().json(HolderComplaintView {
        id: row.id,
        merchant_id: row.merchant_id,
        merchant_name,
        redemption_id: row.redemption_id,
        rating: row.rating,
        content: row.content,
        status: row.status,
        created_at: utc(row.created_at),
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
        "total": 1, "page": 1, "per_page": 20}))))]
#[get("/admin/complaints")]
pub async fn list_complaints(
    state: State,
    admin: AdminUser,
    query: Query<ComplaintQuery>,
) -> Reply<Paged<ComplaintView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let status = f.optional_vocab::<ComplaintStatus>("status", query.status.as_deref());
    let merchant_id = f.optional_str(
        "merchant_id",
        query.merchant_id.as_deref(),
        uuid::<MerchantId>,
    );
    let (page, status, merchant_id) = f.finish((page, status, merchant_id))?;
    let listed = complaints::list(&state.db, &admin, status, merchant_id, page).await?;
    Ok(web::Json(Paged::of(page, listed, ComplaintView::from)))
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
    (status = 409, body = crate::error::Problem, description = "`complaint_resolved` (with `outcome`)")))]
#[post("/admin/complaints/{id}/resolve")]
#[tracing::instrument(name = "resolve_complaint", skip_all, fields(complaint_id = %id))]
pub async fn resolve_complaint(
    state: State,
    admin: AdminUser,
    id: Path<ComplaintId>,
    body: Json<ResolveComplaintRequest>,
) -> Reply<ComplaintView> {
    let mut f = Fields::new();
    let outcome = f.vocab::<ComplaintOutcome>("outcome", body.outcome.as_deref());
    let comment = f.free_text("comment", body.comment.as_deref(), 2000);
    let (outcome, comment) = f.finish((outcome, comment))?;
    let record = complaints::resolve(&state.db, &admin, *id, outcome, comment).await?;
    Ok(web::Json(record.into()))
}
