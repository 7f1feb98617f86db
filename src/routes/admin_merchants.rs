//! Merchants as an office works with them: the list, the full record, its staff
//! accounts, the emergency roster and the exit-review decision. Decisions of admission
//! and exit are in `routes::admission`.

use actix_web::{
    get, patch, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::AdminUser;
use crate::app::merchants::admission;
use crate::app::merchants::profile::{self, RegistrationEdit};
use crate::app::merchants::{self, exit, OfficeFilter};
use crate::db::MerchantId;
use crate::domain::merchant::{
    EmergencyCapability, MerchantCategory, MerchantKind, MerchantStatus,
};
use crate::domain::oversight::ExitReviewDecision;
use crate::error::AppResult;
use crate::http::views::{MerchantDetail, MerchantSummary, StaffView};
use crate::http::{Json, Paged, Reply, State};
use crate::validate::Fields;

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
#[utoipa::path(operation_id = "list_merchant_records", tag = "admission", params(AdminMerchantQuery), security(("staff" = [])), responses(
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
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/admin/merchants")]
pub async fn list_merchants(
    state: State,
    admin: AdminUser,
    query: Query<AdminMerchantQuery>,
) -> Reply<Paged<MerchantSummary>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let status = f.optional_vocab::<MerchantStatus>("status", query.status.as_deref());
    let category = f.optional_vocab::<MerchantCategory>("category", query.category.as_deref());
    let region = f.region("region", query.region.as_deref());
    let (page, status, category, region) = f.finish((page, status, category, region))?;
    let filter = OfficeFilter {
        status,
        region,
        category,
        q: query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        flagged: query.flagged,
    };
    let listed = merchants::list(&state.db, &admin, filter, page).await?;
    Ok(web::Json(Paged::try_of(page, listed, |row| {
        MerchantSummary::of(&row)
    })?))
}

/// The full record: reviews, objections and the history of every change.
#[utoipa::path(operation_id = "get_merchant_record", tag = "admission", params(("id" = MerchantId, Path)), security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found` (also outside your region)")))]
#[get("/admin/merchants/{id}")]
pub async fn get_merchant(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
) -> Reply<MerchantDetail> {
    let file = merchants::get(&state.db, &state.policy, &admin, *id).await?;
    Ok(web::Json(file.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "深圳市罗湖区拥军大药房有限公司", "category": "pharmacy",
    "reason": "营业执照名称变更"}))]
pub struct RegistrationRequest {
    pub name: Option<String>,
    /// enterprise, social_org, individual_business or volunteer_team.
    pub kind: Option<String>,
    pub category: Option<String>,
    /// A region within the caller's.
    pub region_code: Option<String>,
    /// Why (required).
    pub reason: Option<String>,
}

/// An office corrects a partner's name, kind, category or region (those the partner
/// cannot change itself), with a reason; audited as `merchant.update` with the values
/// before and after.
#[utoipa::path(tag = "admission", params(("id" = MerchantId, Path)), request_body = RegistrationRequest,
    security(("staff" = [])), responses(
    (status = 200, body = MerchantDetail),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `region_out_of_scope` (the new region)"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found`, `region_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`merchant_closed`, `concurrent_change`")))]
#[patch("/admin/merchants/{id}")]
pub async fn correct_registration(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<RegistrationRequest>,
) -> Reply<MerchantDetail> {
    let mut f = Fields::new();
    let name = f.optional_text("name", body.name.as_deref(), 100);
    let kind = f.optional_vocab::<MerchantKind>("kind", body.kind.as_deref());
    let category = f.optional_vocab::<MerchantCategory>("category", body.category.as_deref());
    let region = f.region("region_code", body.region_code.as_deref());
    let reason = f.free_text("reason", body.reason.as_deref(), 2000);
    let (name, kind, category, region, reason) =
        f.finish((name, kind, category, region, reason))?;
    let edit = RegistrationEdit {
        name,
        kind,
        category,
        region,
    };
    let file = profile::correct_registration(
        &state.db,
        &state.cache,
        &state.policy,
        &admin,
        *id,
        edit,
        reason,
    )
    .await?;
    Ok(web::Json(file.into()))
}

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
    (status = 409, body = crate::error::Problem, description = "`username_taken`, `merchant_closed`")))]
#[post("/admin/merchants/{id}/staff")]
#[tracing::instrument(name = "create_merchant_staff", skip_all, fields(merchant_id = %id))]
pub async fn create_staff(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<MerchantStaffRequest>,
) -> AppResult<HttpResponse> {
    let row =
        admission::create_staff(&state.db, &admin, *id, &body.username, &body.password).await?;
    Ok(HttpResponse::Created().json(StaffView::from(row)))
}

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
        "total": 2, "page": 1, "per_page": 20}))))]
#[get("/admin/emergency-roster")]
pub async fn emergency_roster(
    state: State,
    admin: AdminUser,
    query: Query<RosterQuery>,
) -> Reply<Paged<RosterEntry>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let capability =
        f.optional_vocab::<EmergencyCapability>("capability", query.capability.as_deref());
    let region = f.region("region", query.region.as_deref());
    let (page, capability, region) = f.finish((page, capability, region))?;
    let listed = merchants::emergency_roster(&state.db, &admin, capability, region, page).await?;
    Ok(web::Json(Paged::of(page, listed, |row| RosterEntry {
        emergency_capabilities: row.capability_names(),
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
    })))
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
    (status = 409, body = crate::error::Problem, description = "`not_flagged` (with `exit_review_cleared_at`, the last decision, or null): nothing to decide; `invalid_transition` (with `current_status`)")))]
#[post("/admin/merchants/{id}/exit-review")]
#[tracing::instrument(name = "exit_review", skip_all, fields(merchant_id = %id))]
pub async fn exit_review(
    state: State,
    admin: AdminUser,
    id: Path<MerchantId>,
    body: Json<ExitReviewRequest>,
) -> Reply<MerchantDetail> {
    let mut f = Fields::new();
    let decision = f.vocab::<ExitReviewDecision>("decision", body.decision.as_deref());
    let reason = f.free_text("reason", body.reason.as_deref(), 2000);
    let (decision, reason) = f.finish((decision, reason))?;
    let file = exit::exit_review(
        &state.db,
        &state.cache,
        &state.policy,
        &admin,
        *id,
        decision,
        reason,
    )
    .await?;
    Ok(web::Json(file.into()))
}
