//! The office's side of admission and exit (准入退出): joint review (联审), approval into
//! public notice, objections, the agreement and badge, suspension, reinstatement and
//! revocation. Lifecycle rules live in `domain::merchant`; handlers only call them.

use actix_web::{get, post, web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::cache::keys;
use crate::db::audit::{self, AuditEntry, AuditRow};
use crate::db::merchants::{
    self, MerchantChanges, MerchantFilter, MerchantRow, ObjectionRow, ReviewRow,
};
use crate::db::{self, Conn, MerchantId, ObjectionId, ReviewId, StaffUserId};
use crate::domain::merchant::{
    self as rules, Action, EmergencyCapability, MerchantCategory, MerchantStatus, ObjectionOutcome,
    Verdict,
};
use crate::domain::oversight::ExitReviewDecision;
use crate::domain::{china_now, china_today, phone, RegionCode, Role};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::merchants::{merchant_not_found, text};
use crate::routes::users::{create_account, NewStaffAccount, StaffView};
use crate::routes::{utc, PageQuery, Paged};
use crate::startup::AppState;

// ---------- views ----------

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "kind": "enterprise", "credit_code": "91440303MA5G2K7Q3P", "category": "pharmacy", "region_code": "440303",
    "status": "active", "contact_name": "李明", "contact_phone_masked": "138****5678",
    "notice_ends_at": "2026-11-29T08:00:00Z", "agreement_end": "2029-11-30", "badge_no": "YJ-440303-2026-00001",
    "created_at": "2026-11-20T02:15:00Z", "updated_at": "2026-12-01T01:00:00Z",
    "admitted_at": "2026-12-01T01:00:00Z", "exit_review": null}))]
pub struct MerchantSummary {
    pub id: MerchantId,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub category: String,
    pub region_code: String,
    /// As of today: an active merchant past its agreement reads `expired`.
    pub status: MerchantStatus,
    pub contact_name: String,
    pub contact_phone_masked: String,
    pub notice_ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub agreement_end: Option<NaiveDate>,
    pub badge_no: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// First admission (准入): the first activation, kept through renewals.
    pub admitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Set while the merchant is flagged for exit review (退出复核); null otherwise.
    pub exit_review: Option<ExitReviewView>,
}

/// Why and since when a merchant is flagged for exit review.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"reason": "average rating 1.67 below 3.00 (3 complaints from 3 holders in 90 days)",
    "flagged_at": "2026-12-05T06:00:00Z"}))]
pub struct ExitReviewView {
    /// Every reason raised since the last decision, separated by `; `.
    pub reason: String,
    pub flagged_at: chrono::DateTime<chrono::Utc>,
}

impl ExitReviewView {
    pub fn of(row: &MerchantRow) -> Option<ExitReviewView> {
        row.exit_review_flagged_at.map(|at| ExitReviewView {
            reason: row.exit_review_reason.clone().unwrap_or_default(),
            flagged_at: utc(at),
        })
    }
}

impl From<&MerchantRow> for MerchantSummary {
    fn from(row: &MerchantRow) -> MerchantSummary {
        MerchantSummary {
            id: row.id,
            name: row.name.clone(),
            kind: row.kind.clone(),
            credit_code: row.credit_code.clone(),
            category: row.category.clone(),
            region_code: row.region_code.clone(),
            status: row.effective_status(china_today()),
            contact_name: row.contact_name.clone(),
            contact_phone_masked: phone::mask(&row.contact_phone),
            notice_ends_at: row.notice_ends_at.map(utc),
            agreement_end: row.agreement_end,
            badge_no: row.badge_no.clone(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            admitted_at: row.admitted_at.map(utc),
            exit_review: ExitReviewView::of(row),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: ReviewId,
    pub department: String,
    pub verdict: String,
    pub comment: String,
    pub reviewer: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Whether this is the department's latest review (the one that counts).
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: ObjectionId,
    pub content: String,
    pub contact_phone_masked: Option<String>,
    /// `open`, `upheld` or `dismissed`.
    pub status: String,
    pub resolution_comment: Option<String>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ObjectionRow> for ObjectionView {
    fn from(row: ObjectionRow) -> ObjectionView {
        ObjectionView {
            id: row.id,
            content: row.content,
            contact_phone_masked: row.contact_phone.as_deref().map(phone::mask),
            status: row.status,
            resolution_comment: row.resolution_comment,
            resolved_at: row.resolved_at.map(utc),
            created_at: utc(row.created_at),
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c01", "actor": "luohu.admin",
    "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e01", "action": "merchant.approve", "entity_type": "merchant",
    "entity_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "region_code": "440303", "before_status": "under_review",
    "after_status": "public_notice", "reason": "各部门联审通过，同意进入社会公示",
    "details": {"notice_ends_at": "2026-11-29T08:00:00Z", "notice_days": 7}, "created_at": "2026-11-22T08:00:00Z"}))]
pub struct AuditView {
    pub id: db::AuditId,
    pub actor: String,
    pub actor_id: Option<StaffUserId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub region_code: Option<String>,
    pub before_status: Option<String>,
    pub after_status: Option<String>,
    pub reason: Option<String>,
    pub details: Option<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<AuditRow> for AuditView {
    fn from(row: AuditRow) -> AuditView {
        AuditView {
            id: row.id,
            actor: row.actor_label,
            actor_id: row.actor_id,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            region_code: row.region_code,
            before_status: row.before_status,
            after_status: row.after_status,
            reason: row.reason,
            details: row.details.and_then(|d| serde_json::from_str(&d).ok()),
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewProgress {
    /// Required departments with no review yet.
    pub missing: Vec<String>,
    /// Required departments whose latest verdict is `fail`.
    pub failed: Vec<String>,
    pub complete: bool,
}

/// The example of [`MerchantDetail`], in parts (one `json!` of it all is too deep).
fn merchant_detail_example() -> serde_json::Value {
    let merchant = "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f";
    let reviews = serde_json::json!([
        {"id": "0193a8f4-1c2d-7e3f-9a0b-1c2d3e4f5a01", "department": "civil_affairs", "verdict": "pass",
            "comment": "拥军措施具体可行", "reviewer": "luohu.civil", "created_at": "2026-11-21T03:10:00Z", "current": true},
        {"id": "0193a8f4-1c2d-7e3f-9a0b-1c2d3e4f5a02", "department": "market_regulation", "verdict": "pass",
            "comment": "证照齐全，无不良记录", "reviewer": "luohu.market", "created_at": "2026-11-21T06:30:00Z", "current": true}]);
    let history = serde_json::json!([
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c01", "actor": "public", "actor_id": null, "action": "merchant.apply",
            "entity_type": "merchant", "entity_id": merchant, "region_code": "440303",
            "before_status": null, "after_status": "pending", "reason": null,
            "details": {"name": "深圳市罗湖区拥军大药房", "kind": "enterprise", "category": "pharmacy"},
            "created_at": "2026-11-20T02:15:00Z"},
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c02", "actor": "luohu.civil", "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e02",
            "action": "merchant.record_review", "entity_type": "merchant", "entity_id": merchant,
            "region_code": "440303", "before_status": "pending", "after_status": "under_review", "reason": null,
            "details": {"department": "civil_affairs", "verdict": "pass"}, "created_at": "2026-11-21T03:10:00Z"},
        {"id": "0193a8f5-2b41-7c3e-8d10-5f6e7a8b9c03", "actor": "luohu.market", "actor_id": "0193a8f1-0a2b-7c3d-8e4f-5a6b7c8d9e03",
            "action": "merchant.record_review", "entity_type": "merchant", "entity_id": merchant,
            "region_code": "440303", "before_status": "under_review", "after_status": "under_review", "reason": null,
            "details": {"department": "market_regulation", "verdict": "pass"}, "created_at": "2026-11-21T06:30:00Z"}]);
    let mut detail = serde_json::json!({"id": merchant, "name": "深圳市罗湖区拥军大药房",
        "kind": "enterprise", "credit_code": "91440303MA5G2K7Q3P", "category": "pharmacy", "region_code": "440303",
        "status": "under_review", "contact_name": "李明", "contact_phone_masked": "138****5678",
        "notice_ends_at": null, "agreement_end": null, "badge_no": null,
        "created_at": "2026-11-20T02:15:00Z", "updated_at": "2026-11-21T03:10:00Z",
        "admitted_at": null, "exit_review": null});
    let more = serde_json::json!({"legal_representative": "王建国", "contact_phone": "13812345678",
        "address": "深圳市罗湖区人民南路1号", "latitude": 22.5431, "longitude": 114.1182,
        "services": "现役军人、退役军人购药九折", "measures": "设拥军优先窗口", "commitments": "明码标价，优先服务",
        "emergency_capabilities": ["medical", "supplies"], "status_reason": null, "agreement_no": null,
        "agreement_start": null,
        "review_progress": {"missing": ["discipline_inspection", "human_resources", "emergency_management", "military"],
            "failed": [], "complete": false},
        "reviews": reviews, "objections": [], "history": history});
    if let (Some(detail), serde_json::Value::Object(more)) = (detail.as_object_mut(), more) {
        detail.extend(more);
    }
    detail
}

/// The full record an office works from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = merchant_detail_example)]
pub struct MerchantDetail {
    #[serde(flatten)]
    pub summary: MerchantSummary,
    pub legal_representative: Option<String>,
    /// The merchant's business contact, in full, for the office to call.
    pub contact_phone: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub services: String,
    pub measures: String,
    pub commitments: String,
    pub emergency_capabilities: Vec<String>,
    pub status_reason: Option<String>,
    pub agreement_no: Option<String>,
    pub agreement_start: Option<NaiveDate>,
    pub review_progress: ReviewProgress,
    pub reviews: Vec<ReviewView>,
    pub objections: Vec<ObjectionView>,
    /// Every change of this merchant, oldest first.
    pub history: Vec<AuditView>,
}

// ---------- shared steps ----------

/// The merchant, if it lies in the caller's region; 404 otherwise, so that another
/// region's merchants do not even seem to exist.
pub(crate) async fn load_scoped(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    id: MerchantId,
) -> ApiResult<MerchantRow> {
    let row = merchants::find(conn, id)
        .await?
        .ok_or_else(merchant_not_found)?;
    let region =
        RegionCode::parse(&row.region_code).map_err(|m| ApiError::internal(anyhow::anyhow!(m)))?;
    if admin.covers(&region) {
        Ok(row)
    } else {
        Err(merchant_not_found())
    }
}

fn invalid_transition(error: rules::InvalidTransition) -> ApiError {
    ApiError::conflict("invalid_transition", error.to_string())
        .with("current_status", error.from.as_str())
}

fn concurrent_change() -> ApiError {
    ApiError::conflict(
        "concurrent_change",
        "the merchant was changed by someone else at the same moment; reload and retry",
    )
}

/// Latest verdict per department, in review order.
fn latest_verdicts(reviews: &[ReviewRow]) -> Vec<(String, Verdict)> {
    reviews
        .iter()
        .filter_map(|r| Verdict::parse(&r.verdict).map(|v| (r.department.clone(), v)))
        .collect()
}

/// A status change checked by the lifecycle rules, applied only if nobody changed the
/// merchant meanwhile, with its audit entry in the same transaction.
struct Change<'a> {
    action: Action,
    reason: Option<&'a str>,
    changes: MerchantChanges<'a>,
    details: Option<serde_json::Value>,
}

async fn apply_change(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    merchant: &MerchantRow,
    change: Change<'_>,
) -> ApiResult<MerchantRow> {
    let from = merchant.effective_status(china_today());
    let to = rules::transition(from, change.action).map_err(invalid_transition)?;
    let mut changes = change.changes;
    changes.status = Some(to.as_str());
    changes.status_reason = Some(change.reason);
    changes.updated_at = Some(db::now());
    let action = format!("merchant.{}", change.action.as_str());
    let updated = merchants::update_if_status(conn, merchant.id, &merchant.status, &changes)
        .await?
        .ok_or_else(concurrent_change)?;
    audit::record(
        conn,
        &admin.actor(),
        AuditEntry {
            action: &action,
            entity_type: "merchant",
            entity_id: merchant.id.to_string(),
            region_code: Some(&merchant.region_code),
            before_status: Some(from.as_str()),
            after_status: Some(to.as_str()),
            reason: change.reason,
            details: change.details,
        },
    )
    .await?;
    Ok(updated)
}

/// After a commit: drop the merchant's cached snapshot everywhere.
async fn invalidate(state: &AppState, id: MerchantId) {
    if let Err(error) = state.cache.invalidate(vec![keys::merchant(&id)]).await {
        tracing::warn!(%error, merchant_id = %id, "cache invalidation failed; the entry expires by its TTL");
    }
}

fn require_decider(admin: &AdminUser) -> ApiResult<()> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin])
}

async fn detail(
    conn: &mut Conn<'_>,
    state: &AppState,
    row: MerchantRow,
) -> ApiResult<MerchantDetail> {
    let reviews = merchants::reviews(conn, row.id).await?;
    let objections = merchants::objections(conn, row.id).await?;
    let history = audit::for_entity(conn, "merchant", &row.id.to_string()).await?;
    let gap = rules::review_gap(&state.required_departments, &latest_verdicts(&reviews));
    let latest_ids: Vec<ReviewId> = {
        let mut latest: Vec<(&str, ReviewId)> = Vec::new();
        for review in &reviews {
            match latest.iter_mut().find(|(d, _)| *d == review.department) {
                Some(entry) => entry.1 = review.id,
                None => latest.push((&review.department, review.id)),
            }
        }
        latest.into_iter().map(|(_, id)| id).collect()
    };
    Ok(MerchantDetail {
        summary: MerchantSummary::from(&row),
        legal_representative: row.legal_representative.clone(),
        contact_phone: row.contact_phone.clone(),
        address: row.address.clone(),
        latitude: row.latitude,
        longitude: row.longitude,
        services: row.services.clone(),
        measures: row.measures.clone(),
        commitments: row.commitments.clone(),
        emergency_capabilities: row.capabilities(),
        status_reason: row.status_reason.clone(),
        agreement_no: row.agreement_no.clone(),
        agreement_start: row.agreement_start,
        review_progress: ReviewProgress {
            complete: gap.is_complete(),
            missing: gap.missing,
            failed: gap.failed,
        },
        reviews: reviews
            .into_iter()
            .map(|r| ReviewView {
                current: latest_ids.contains(&r.id),
                id: r.id,
                department: r.department,
                verdict: r.verdict,
                comment: r.comment,
                reviewer: r.reviewer_label,
                created_at: utc(r.created_at),
            })
            .collect(),
        objections: objections.into_iter().map(ObjectionView::from).collect(),
        history: history.into_iter().map(AuditView::from).collect(),
    })
}

// ---------- lists and records ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct AdminMerchantQuery {
    /// A lifecycle status, as of today.
    pub status: Option<String>,
    /// A region code; its subtree, within the caller's own.
    pub region: Option<String>,
    pub category: Option<String>,
    /// Words in the name, address or services.
    pub q: Option<String>,
    /// `true`: only merchants flagged for exit review; `false`: only those not flagged.
    pub flagged: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Merchants in the caller's region subtree, newest first. `flagged=true` lists those
/// flagged for exit review (退出复核), each with its `exit_review` reason.
#[utoipa::path(tag = "admission", params(AdminMerchantQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<MerchantSummary>, example = json!({"items": [
        {"id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b02", "name": "深圳市罗湖区拥军便民超市", "kind": "individual_business",
            "credit_code": "92440303MA5H8R2L4K", "category": "retail", "region_code": "440303", "status": "public_notice",
            "contact_name": "陈小红", "contact_phone_masked": "139****6789", "notice_ends_at": "2026-12-08T02:00:00Z",
            "agreement_end": null, "badge_no": null, "created_at": "2026-11-24T01:20:00Z", "updated_at": "2026-12-01T02:00:00Z",
            "admitted_at": null, "exit_review": null},
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房", "kind": "enterprise",
            "credit_code": "91440303MA5G2K7Q3P", "category": "pharmacy", "region_code": "440303", "status": "active",
            "contact_name": "李明", "contact_phone_masked": "138****5678", "notice_ends_at": "2026-11-29T08:00:00Z",
            "agreement_end": "2029-11-30", "badge_no": "YJ-440303-2026-00001", "created_at": "2026-11-20T02:15:00Z",
            "updated_at": "2026-12-01T01:00:00Z", "admitted_at": "2026-12-01T01:00:00Z", "exit_review": null}],
        "total": 2, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/admin/merchants")]
pub async fn list_merchants(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<AdminMerchantQuery>,
) -> ApiResult<web::Json<Paged<MerchantSummary>>> {
    let mut errors = Vec::new();
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .collect(&mut errors);
    let mut filter = MerchantFilter {
        today: Some(china_today()),
        flagged: query.flagged,
        ..Default::default()
    };
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        match MerchantStatus::parse(status) {
            Some(s) => filter.status = Some(s),
            None => errors.push(FieldError::new("status", "is not a merchant status")),
        }
    }
    if let Some(category) = query.category.as_deref().filter(|c| !c.is_empty()) {
        match MerchantCategory::parse(category) {
            Some(c) => filter.category = Some(c.as_str().to_owned()),
            None => errors.push(FieldError::new("category", "is not a merchant category")),
        }
    }
    if let Some(pattern) = admin.region_like() {
        filter.region_likes.push(pattern);
    }
    filter.region_likes.extend(crate::routes::region_param(
        query.region.as_deref(),
        &mut errors,
    ));
    filter.q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    let page = match page {
        Some(page) if errors.is_empty() => page,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        merchants::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok(web::Json(page.wrap(
        rows.iter().map(MerchantSummary::from).collect(),
        total,
    )))
}

/// The full record: reviews, objections and the history of every change.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found` (also outside your region)")))]
#[get("/admin/merchants/{id}")]
pub async fn get_merchant(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<MerchantId>,
) -> ApiResult<web::Json<MerchantDetail>> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let row = load_scoped(&mut conn, &admin, *id).await?;
    Ok(web::Json(detail(&mut conn, &state, row).await?))
}

// ---------- review and decision ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"department": "market_regulation", "verdict": "pass", "comment": "证照齐全，无不良记录"}))]
pub struct ReviewRequest {
    pub department: Option<String>,
    /// `pass` or `fail`.
    pub verdict: Option<String>,
    pub comment: Option<String>,
}

/// Records one department's verdict (联审). A reviewer records only for its own
/// department; region and super admins for any. A later review by the same department
/// replaces the earlier one; both stay in the history.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = ReviewRequest,
    security(("staff" = [])), responses(
    (status = 201, body = MerchantDetail),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `wrong_department`"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/merchants/{id}/reviews")]
#[tracing::instrument(name = "record_review", skip_all, fields(merchant_id = %id))]
pub async fn record_review(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<MerchantId>,
    body: Json<ReviewRequest>,
) -> ApiResult<HttpResponse> {
    admin.require_role(&[Role::SuperAdmin, Role::RegionAdmin, Role::Reviewer])?;
    let mut errors = Vec::new();
    let department = match body.department.as_deref().map(str::trim) {
        Some(d) if state.required_departments.iter().any(|r| r == d) => Some(d.to_owned()),
        Some(_) => {
            errors.push(FieldError::new(
                "department",
                format!("must be one of {}", state.required_departments.join(", ")),
            ));
            None
        }
        None => {
            errors.push(FieldError::new("department", "is required"));
            None
        }
    };
    let verdict = match body.verdict.as_deref().map(Verdict::parse) {
        Some(Some(v)) => Some(v),
        Some(None) => {
            errors.push(FieldError::new("verdict", "must be pass or fail"));
            None
        }
        None => {
            errors.push(FieldError::new("verdict", "is required"));
            None
        }
    };
    let comment =
        text(&mut errors, "comment", body.comment.as_deref(), false, 2000).unwrap_or_default();
    let (department, verdict) = match (department, verdict) {
        (Some(d), Some(v)) if errors.is_empty() => (d, v),
        _ => return Err(ApiError::validation(errors)),
    };
    if admin.role == Role::Reviewer && admin.department.as_deref() != Some(department.as_str()) {
        return Err(ApiError::forbidden(
            "wrong_department",
            "a reviewer records reviews only for its own department",
        ));
    }
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, &admin, *id).await?;
    let from = merchant.effective_status(china_today());
    let to = rules::transition(from, Action::RecordReview).map_err(invalid_transition)?;
    let review = ReviewRow {
        id: ReviewId::new(),
        merchant_id: merchant.id,
        department: department.clone(),
        verdict: verdict.as_str().to_owned(),
        comment,
        reviewer_id: Some(admin.id),
        reviewer_label: admin.username.clone(),
        created_at: db::now(),
    };
    let details = serde_json::json!({"department": department, "verdict": verdict});
    let updated = conn
        .transaction(async |tx| {
            merchants::insert_review(tx, &review).await?;
            if from == to {
                // Already under review: the review itself is the change.
                audit::record(
                    tx,
                    &admin.actor(),
                    AuditEntry {
                        action: "merchant.record_review",
                        entity_type: "merchant",
                        entity_id: merchant.id.to_string(),
                        region_code: Some(&merchant.region_code),
                        before_status: Some(from.as_str()),
                        after_status: Some(to.as_str()),
                        details: Some(details),
                        ..Default::default()
                    },
                )
                .await?;
                Ok::<_, ApiError>(merchant.clone())
            } else {
                apply_change(
                    tx,
                    &admin,
                    &merchant,
                    Change {
                        action: Action::RecordReview,
                        reason: None,
                        changes: MerchantChanges::default(),
                        details: Some(details),
                    },
                )
                .await
            }
        })
        .await?;
    invalidate(&state, updated.id).await;
    let body = detail(&mut conn, &state, updated).await?;
    Ok(HttpResponse::Created().json(body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"comment": "各部门联审通过，同意进入社会公示"}))]
pub struct ApproveRequest {
    pub comment: Option<String>,
}

/// Approves a merchant into public notice (社会公示) for YONGJUN_PUBLIC_NOTICE_DAYS;
/// refused unless every required department's latest verdict is `pass`.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = ApproveRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 409, body = crate::error::Problem, description = "`reviews_incomplete` (with `missing_departments` and `failed_departments`), `invalid_transition`")))]
#[post("/admin/merchants/{id}/approve")]
#[tracing::instrument(name = "approve_merchant", skip_all, fields(merchant_id = %id))]
pub async fn approve(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<MerchantId>,
    body: Json<ApproveRequest>,
) -> ApiResult<web::Json<MerchantDetail>> {
    require_decider(&admin)?;
    let mut errors = Vec::new();
    let comment = text(&mut errors, "comment", body.comment.as_deref(), false, 2000);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, &admin, *id).await?;
    rules::transition(merchant.effective_status(china_today()), Action::Approve)
        .map_err(invalid_transition)?;
    let reviews = merchants::reviews(&mut conn, merchant.id).await?;
    let gap = rules::review_gap(&state.required_departments, &latest_verdicts(&reviews));
    if !gap.is_complete() {
        let mut parts = Vec::new();
        if !gap.missing.is_empty() {
            parts.push(format!("no review yet from {}", gap.missing.join(", ")));
        }
        if !gap.failed.is_empty() {
            parts.push(format!("failed by {}", gap.failed.join(", ")));
        }
        return Err(ApiError::conflict("reviews_incomplete", parts.join("; "))
            .with("missing_departments", gap.missing)
            .with("failed_departments", gap.failed));
    }
    let ends = rules::notice_ends_at(db::now(), state.public_notice_days);
    let updated = conn
        .transaction(async |tx| {
            apply_change(
                tx,
                &admin,
                &merchant,
                Change {
                    action: Action::Approve,
                    reason: comment.as_deref(),
                    changes: MerchantChanges {
                        notice_ends_at: Some(Some(ends)),
                        ..Default::default()
                    },
                    details: Some(serde_json::json!({"notice_ends_at": utc(ends), "notice_days": state.public_notice_days})),
                },
            )
            .await
        })
        .await?;
    invalidate(&state, updated.id).await;
    Ok(web::Json(detail(&mut conn, &state, updated).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "市场监管部门核查发现虚假宣传记录"}))]
pub struct ReasonRequest {
    /// Why; required, and kept in the audit log.
    pub reason: Option<String>,
}

fn required_reason(body: &ReasonRequest) -> ApiResult<String> {
    let mut errors = Vec::new();
    match text(&mut errors, "reason", body.reason.as_deref(), true, 2000) {
        Some(reason) if errors.is_empty() => Ok(reason),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Shared by reject, suspend, reinstate and revoke: a reason, a legal transition.
async fn simple_change(
    state: &AppState,
    admin: &AdminUser,
    id: MerchantId,
    action: Action,
    body: &ReasonRequest,
) -> ApiResult<web::Json<MerchantDetail>> {
    require_decider(admin)?;
    let reason = required_reason(body)?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let updated = conn
        .transaction(async |tx| {
            let updated = apply_change(
                tx,
                admin,
                &merchant,
                Change {
                    action,
                    reason: Some(&reason),
                    changes: MerchantChanges::default(),
                    details: None,
                },
            )
            .await?;
            // Suspending or revoking is an exit-review decision too: the flag clears.
            let decision = match action {
                Action::Suspend => Some(ExitReviewDecision::Suspend),
                Action::Revoke => Some(ExitReviewDecision::Revoke),
                _ => None,
            };
            match decision {
                Some(decision) if updated.exit_review_flagged_at.is_some() => {
                    Ok(clear_exit_review(tx, admin, &updated, decision, &reason)
                        .await?
                        .unwrap_or(updated))
                }
                _ => Ok::<_, ApiError>(updated),
            }
        })
        .await?;
    invalidate(state, updated.id).await;
    tracing::info!(merchant_id = %id, action = action.as_str(), "merchant status changed");
    Ok(web::Json(detail(&mut conn, state, updated).await?))
}

macro_rules! reason_route {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal, $name:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = ReasonRequest,
            security(("staff" = [])), responses(
            (status = 200, body = MerchantDetail),
            (status = 404, body = crate::error::Problem, description = "`merchant_not_found`"),
            (status = 409, body = crate::error::Problem, description = "`invalid_transition` (with `current_status`)"),
            (status = 422, body = crate::error::Problem, description = "`validation_failed`: reason is required")))]
        #[post($path)]
        #[tracing::instrument(name = $name, skip_all, fields(merchant_id = %id))]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            admin: AdminUser,
            id: web::Path<MerchantId>,
            body: Json<ReasonRequest>,
        ) -> ApiResult<web::Json<MerchantDetail>> {
            simple_change(&state, &admin, *id, $action, &body).await
        }
    };
}

reason_route!(
    reject,
    "/admin/merchants/{id}/reject",
    Action::Reject,
    "Rejects an application (pending or under review). Terminal.",
    "reject_merchant"
);
reason_route!(
    suspend,
    "/admin/merchants/{id}/suspend",
    Action::Suspend,
    "Suspends an active merchant: it leaves the directory and the point of sale refuses it.",
    "suspend_merchant"
);
reason_route!(
    reinstate,
    "/admin/merchants/{id}/reinstate",
    Action::Reinstate,
    "Reinstates a suspended merchant.",
    "reinstate_merchant"
);
reason_route!(
    revoke,
    "/admin/merchants/{id}/revoke",
    Action::Revoke,
    "Revokes a merchant (退出): active, suspended or expired. Terminal.",
    "revoke_merchant"
);

// ---------- exit review (退出复核) ----------

/// Clears `merchant`'s exit-review flag after `decision`, with its audit entry; in the
/// caller's transaction. Complaints filed before now no longer count towards a flag.
/// `None` when the merchant was not flagged (any more).
async fn clear_exit_review(
    tx: &mut Conn<'_>,
    admin: &AdminUser,
    merchant: &MerchantRow,
    decision: ExitReviewDecision,
    reason: &str,
) -> ApiResult<Option<MerchantRow>> {
    let Some(cleared) = merchants::clear_exit_review_flag(tx, merchant.id, db::now()).await? else {
        return Ok(None);
    };
    audit::record(
        tx,
        &admin.actor(),
        AuditEntry {
            action: "merchant.exit_review",
            entity_type: "merchant",
            entity_id: merchant.id.to_string(),
            region_code: Some(&merchant.region_code),
            // A status change that goes with the decision has its own entry.
            reason: Some(reason),
            details: Some(serde_json::json!({"decision": decision,
                "flag_reason": merchant.exit_review_reason,
                "flagged_at": merchant.exit_review_flagged_at.map(utc)})),
            ..Default::default()
        },
    )
    .await?;
    Ok(Some(cleared))
}

fn not_flagged(merchant: &MerchantRow) -> ApiError {
    ApiError::conflict(
        "not_flagged",
        "the merchant is not flagged for exit review; suspend or revoke it directly",
    )
    .with(
        "exit_review_cleared_at",
        merchant
            .exit_review_cleared_at
            .map(|at| utc(at).to_rfc3339()),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"decision": "retain", "reason": "投诉经调解已处理，商户已整改，予以保留"}))]
pub struct ExitReviewRequest {
    /// `retain`, `suspend` or `revoke`.
    pub decision: Option<String>,
    /// Why; required, and kept in the audit log.
    pub reason: Option<String>,
}

/// Records the decision on a merchant flagged for exit review (退出复核): `retain` keeps
/// it as it is, `suspend` and `revoke` carry out that transition. Either way the flag
/// clears, and only complaints filed afterwards count towards a new one.
#[utoipa::path(tag = "oversight", params(("id" = MerchantId, Path)), request_body = ExitReviewRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 403, body = crate::error::Problem, description = "`forbidden`: region or super admins only"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found` (also outside your region)"),
    (status = 409, body = crate::error::Problem, description = "`not_flagged` (with `exit_review_cleared_at`, the last decision, or null): nothing to decide; `invalid_transition` (with `current_status`)"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/merchants/{id}/exit-review")]
#[tracing::instrument(name = "exit_review", skip_all, fields(merchant_id = %id))]
pub async fn exit_review(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<MerchantId>,
    body: Json<ExitReviewRequest>,
) -> ApiResult<web::Json<MerchantDetail>> {
    require_decider(&admin)?;
    let mut errors = Vec::new();
    let decision = match body.decision.as_deref().map(ExitReviewDecision::parse) {
        Some(Some(d)) => Some(d),
        Some(None) => {
            errors.push(FieldError::new(
                "decision",
                "must be retain, suspend or revoke",
            ));
            None
        }
        None => {
            errors.push(FieldError::new("decision", "is required"));
            None
        }
    };
    let reason = text(&mut errors, "reason", body.reason.as_deref(), true, 2000);
    let (decision, reason) = match (decision, reason) {
        (Some(d), Some(r)) if errors.is_empty() => (d, r),
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, &admin, *id).await?;
    if merchant.exit_review_flagged_at.is_none() {
        return Err(not_flagged(&merchant));
    }
    if let Some(action) = decision.action() {
        rules::transition(merchant.effective_status(china_today()), action)
            .map_err(invalid_transition)?;
    }
    let updated = conn
        .transaction(async |tx| {
            let changed = match decision.action() {
                Some(action) => Some(
                    apply_change(
                        tx,
                        &admin,
                        &merchant,
                        Change {
                            action,
                            reason: Some(&reason),
                            changes: MerchantChanges::default(),
                            details: Some(serde_json::json!({"exit_review": decision})),
                        },
                    )
                    .await?,
                ),
                None => None,
            };
            let before = changed.as_ref().unwrap_or(&merchant);
            clear_exit_review(tx, &admin, before, decision, &reason)
                .await?
                .ok_or_else(|| not_flagged(&merchant))
        })
        .await?;
    if decision.action().is_some() {
        invalidate(&state, updated.id).await;
    }
    tracing::info!(merchant_id = %updated.id, decision = decision.as_str(), "exit review decided");
    Ok(web::Json(detail(&mut conn, &state, updated).await?))
}

// ---------- objections ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "dismissed", "comment": "经核实，反映情况不属实"}))]
pub struct ResolveObjectionRequest {
    /// `upheld` (the merchant is rejected) or `dismissed`.
    pub outcome: Option<String>,
    pub comment: Option<String>,
}

/// Resolves a public objection. Upholding it rejects the merchant.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path), ("objection_id" = ObjectionId, Path)),
    request_body = ResolveObjectionRequest, security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`, `objection_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`objection_resolved`, `invalid_transition`")))]
#[post("/admin/merchants/{id}/objections/{objection_id}/resolve")]
#[tracing::instrument(name = "resolve_objection", skip_all)]
pub async fn resolve_objection(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<(MerchantId, ObjectionId)>,
    body: Json<ResolveObjectionRequest>,
) -> ApiResult<web::Json<MerchantDetail>> {
    require_decider(&admin)?;
    let (id, objection_id) = path.into_inner();
    let mut errors = Vec::new();
    let outcome = match body.outcome.as_deref().map(ObjectionOutcome::parse) {
        Some(Some(o)) => Some(o),
        Some(None) => {
            errors.push(FieldError::new("outcome", "must be upheld or dismissed"));
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
    let merchant = load_scoped(&mut conn, &admin, id).await?;
    let objections = merchants::objections(&mut conn, id).await?;
    let objection = objections
        .iter()
        .find(|o| o.id == objection_id)
        .ok_or_else(|| {
            ApiError::not_found("objection_not_found", "no such objection for this merchant")
        })?;
    if objection.status != "open" {
        return Err(
            ApiError::conflict("objection_resolved", "this objection is already resolved")
                .with("outcome", objection.status.clone()),
        );
    }
    if outcome == ObjectionOutcome::Upheld {
        rules::transition(
            merchant.effective_status(china_today()),
            Action::UpholdObjection,
        )
        .map_err(invalid_transition)?;
    }
    let updated = conn
        .transaction(async |tx| {
            merchants::resolve_objection(
                tx,
                id,
                objection_id,
                outcome.as_str(),
                &comment,
                admin.id,
                db::now(),
            )
            .await?
            .ok_or_else(|| {
                ApiError::conflict("objection_resolved", "this objection is already resolved")
            })?;
            let details = serde_json::json!({"objection_id": objection_id, "outcome": outcome});
            if outcome == ObjectionOutcome::Upheld {
                apply_change(
                    tx,
                    &admin,
                    &merchant,
                    Change {
                        action: Action::UpholdObjection,
                        reason: Some(&comment),
                        changes: MerchantChanges::default(),
                        details: Some(details),
                    },
                )
                .await
            } else {
                audit::record(
                    tx,
                    &admin.actor(),
                    AuditEntry {
                        action: "merchant.dismiss_objection",
                        entity_type: "merchant",
                        entity_id: id.to_string(),
                        region_code: Some(&merchant.region_code),
                        reason: Some(&comment),
                        details: Some(details),
                        ..Default::default()
                    },
                )
                .await?;
                Ok(merchant.clone())
            }
        })
        .await?;
    invalidate(&state, id).await;
    Ok(web::Json(detail(&mut conn, &state, updated).await?))
}

// ---------- activation ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"agreement_no": "SZLH-YJ-2026-001", "agreement_start": "2026-12-01", "agreement_end": "2029-11-30"}))]
pub struct ActivateRequest {
    /// Number of the signed cooperation agreement (合作协议).
    pub agreement_no: Option<String>,
    pub agreement_start: Option<NaiveDate>,
    /// The agreement's last valid day; after it the merchant reads as `expired`.
    pub agreement_end: Option<NaiveDate>,
}

/// Activates a merchant after its public notice (or renews an expired one) with the
/// signed agreement; a first activation assigns the badge number
/// `YJ-{region_code}-{year}-{seq:05}`, sequential per region and year.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = ActivateRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 409, body = crate::error::Problem, description = "`notice_period_running` (with `notice_ends_at`), `objections_open`, `invalid_transition`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/merchants/{id}/activate")]
#[tracing::instrument(name = "activate_merchant", skip_all, fields(merchant_id = %id))]
pub async fn activate(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<MerchantId>,
    body: Json<ActivateRequest>,
) -> ApiResult<web::Json<MerchantDetail>> {
    require_decider(&admin)?;
    let mut errors = Vec::new();
    let agreement_no = text(
        &mut errors,
        "agreement_no",
        body.agreement_no.as_deref(),
        true,
        64,
    );
    let today = china_today();
    let start = body.agreement_start;
    let end = body.agreement_end;
    if start.is_none() {
        errors.push(FieldError::new(
            "agreement_start",
            "is required (YYYY-MM-DD)",
        ));
    }
    match (start, end) {
        (_, None) => errors.push(FieldError::new("agreement_end", "is required (YYYY-MM-DD)")),
        (Some(s), Some(e)) if e < s => errors.push(FieldError::new(
            "agreement_end",
            "must not be before agreement_start",
        )),
        (_, Some(e)) if e < today => {
            errors.push(FieldError::new("agreement_end", "has already passed"))
        }
        _ => {}
    }
    let (agreement_no, start, end) = match (agreement_no, start, end) {
        (Some(n), Some(s), Some(e)) if errors.is_empty() => (n, s, e),
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, &admin, *id).await?;
    let from = merchant.effective_status(today);
    rules::transition(from, Action::Activate).map_err(invalid_transition)?;
    if from == MerchantStatus::PublicNotice {
        if let Some(ends) = merchant.notice_ends_at.filter(|ends| db::now() < *ends) {
            return Err(ApiError::conflict(
                "notice_period_running",
                "the public notice period has not ended yet",
            )
            .with("notice_ends_at", utc(ends).to_rfc3339()));
        }
        let open = merchants::open_objections(&mut conn, merchant.id).await?;
        if open > 0 {
            return Err(ApiError::conflict(
                "objections_open",
                format!("{open} objection(s) must be resolved first"),
            )
            .with("open_objections", open));
        }
    }
    let year = china_now().year();
    let updated = conn
        .transaction(async |tx| {
            let badge = match &merchant.badge_no {
                Some(existing) => existing.clone(),
                None => {
                    let seq = merchants::next_badge_seq(tx, &merchant.region_code, year).await?;
                    rules::badge_no(&merchant.region_code, year, seq.max(0) as u32)
                }
            };
            apply_change(
                tx,
                &admin,
                &merchant,
                Change {
                    action: Action::Activate,
                    reason: None,
                    changes: MerchantChanges {
                        agreement_no: Some(&agreement_no),
                        agreement_start: Some(start),
                        agreement_end: Some(end),
                        badge_no: Some(&badge),
                        // The first activation is the admission; a renewal keeps its date.
                        admitted_at: Some(merchant.admitted_at.unwrap_or_else(db::now)),
                        ..Default::default()
                    },
                    details: Some(
                        serde_json::json!({"agreement_no": agreement_no, "agreement_start": start,
                        "agreement_end": end, "badge_no": badge}),
                    ),
                },
            )
            .await
        })
        .await?;
    invalidate(&state, updated.id).await;
    Ok(web::Json(detail(&mut conn, &state, updated).await?))
}

// ---------- merchant staff ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "luohu.pharmacy", "password": "a long pass phrase"}))]
pub struct MerchantStaffRequest {
    pub username: String,
    pub password: String,
}

/// Creates a `merchant_staff` account bound to this merchant (it manages the merchant's
/// offers and terminals).
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = MerchantStaffRequest,
    security(("staff" = [])), responses(
    (status = 201, body = StaffView),
    (status = 409, body = crate::error::Problem, description = "`username_taken`, `merchant_closed`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/merchants/{id}/staff")]
#[tracing::instrument(name = "create_merchant_staff", skip_all, fields(merchant_id = %id))]
pub async fn create_staff(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<MerchantId>,
    body: Json<MerchantStaffRequest>,
) -> ApiResult<HttpResponse> {
    require_decider(&admin)?;
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, &admin, *id).await?;
    if merchant.effective_status(china_today()).is_terminal() {
        return Err(ApiError::conflict(
            "merchant_closed",
            "the merchant is rejected or revoked",
        ));
    }
    let region = RegionCode::parse(&merchant.region_code)
        .map_err(|m| ApiError::internal(anyhow::anyhow!(m)))?;
    let account =
        NewStaffAccount::for_merchant(&body.username, &body.password, merchant.id, region)?;
    let row = create_account(&mut conn, &admin.actor(), account).await?;
    Ok(HttpResponse::Created().json(StaffView::from(row)))
}

// ---------- emergency roster ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct RosterQuery {
    /// transport, logistics, medical, telecom, radio_spectrum, technology or supplies;
    /// omitted: merchants with any capability.
    pub capability: Option<String>,
    /// A region code; its subtree, within the caller's own.
    pub region: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
    "category": "pharmacy", "region_code": "440303", "address": "深圳市罗湖区人民南路1号", "latitude": 22.5431,
    "longitude": 114.1182, "contact_name": "李明", "contact_phone": "13812345678",
    "emergency_capabilities": ["medical", "supplies"], "badge_no": "YJ-440303-2026-00001"}))]
pub struct RosterEntry {
    pub id: MerchantId,
    pub name: String,
    pub category: String,
    pub region_code: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub contact_name: String,
    /// In full: the office must be able to call in an emergency.
    pub contact_phone: String,
    pub emergency_capabilities: Vec<String>,
    pub badge_no: Option<String>,
}

/// Active merchants able to serve an emergency capability (急时战时), with contacts.
#[utoipa::path(tag = "admission", params(RosterQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<RosterEntry>, example = json!({"items": [
        {"id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b03", "name": "深圳市顺达拥军物流有限公司", "category": "transport",
            "region_code": "440303", "address": "深圳市罗湖区笋岗东路3002号", "latitude": 22.5622, "longitude": 114.1047,
            "contact_name": "赵志强", "contact_phone": "13698765432", "emergency_capabilities": ["transport", "logistics"],
            "badge_no": "YJ-440303-2026-00002"},
        {"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房", "category": "pharmacy",
            "region_code": "440303", "address": "深圳市罗湖区人民南路1号", "latitude": 22.5431, "longitude": 114.1182,
            "contact_name": "李明", "contact_phone": "13812345678", "emergency_capabilities": ["medical", "supplies"],
            "badge_no": "YJ-440303-2026-00001"}],
        "total": 2, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/admin/emergency-roster")]
pub async fn emergency_roster(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<RosterQuery>,
) -> ApiResult<web::Json<Paged<RosterEntry>>> {
    let mut errors = Vec::new();
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .collect(&mut errors);
    let mut filter = MerchantFilter {
        status: Some(MerchantStatus::Active),
        today: Some(china_today()),
        ..Default::default()
    };
    match query.capability.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => match EmergencyCapability::parse(raw) {
            Some(c) => filter.capability = Some(c.as_str().to_owned()),
            None => errors.push(FieldError::new(
                "capability",
                "is not an emergency capability",
            )),
        },
        None => filter.any_capability = true,
    }
    if let Some(pattern) = admin.region_like() {
        filter.region_likes.push(pattern);
    }
    filter.region_likes.extend(crate::routes::region_param(
        query.region.as_deref(),
        &mut errors,
    ));
    let page = match page {
        Some(page) if errors.is_empty() => page,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let (rows, total) =
        merchants::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    let items = rows
        .into_iter()
        .map(|row| RosterEntry {
            emergency_capabilities: row.capabilities(),
            id: row.id,
            name: row.name,
            category: row.category,
            region_code: row.region_code,
            address: row.address,
            latitude: row.latitude,
            longitude: row.longitude,
            contact_name: row.contact_name,
            contact_phone: row.contact_phone,
            badge_no: row.badge_no,
        })
        .collect();
    Ok(web::Json(page.wrap(items, total)))
}
