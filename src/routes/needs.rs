//! Needs and resources (需求清单 · 资源目录). The use cases are `app::needs`.

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::{AdminUser, MerchantStaff};
use crate::app::needs::{
    self, NeedDetail, NeedQuery, NewNeed, NewResource, ResourceQuery, ResourceRecord,
};
use crate::app::permissions::Operation;
use crate::db::merchants::MerchantRow;
use crate::db::needs::{NeedId, NeedRow, ResourceId};
use crate::db::MerchantId;
use crate::domain::needs::{NeedCategory, NeedStatus, ResourceMode, Urgency};
use crate::error::AppResult;
use crate::http::{utc, Json, Paged, Reply, State};
use crate::validate::Fields;

// ---------- views ----------

/// A need (需求).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11", "title": "官兵子女寒假托管",
    "description": "驻地官兵子女寒假期间需要托管服务", "category": "education", "region_code": "140521",
    "requesting_unit": "驻沁某部", "beneficiaries_count": 35, "urgency": "routine",
    "wanted_by": "2027-01-15", "status": "open", "close_reason": null, "created_by": "qs.liaison",
    "created_at": "2026-12-03T02:00:00Z", "updated_at": "2026-12-03T02:00:00Z", "done_at": null}))]
pub struct NeedView {
    pub id: NeedId,
    pub title: String,
    pub description: String,
    /// `transport`, `logistics`, `medical`, `telecom`, `education`, `employment`,
    /// `legal`, `culture`, `supplies`, `daily_life` or `other`.
    pub category: String,
    pub region_code: String,
    pub requesting_unit: String,
    /// How many people it serves (no names).
    pub beneficiaries_count: i64,
    /// `routine`, `urgent` or `emergency`.
    pub urgency: String,
    pub wanted_by: Option<chrono::NaiveDate>,
    /// `open`, `matched`, `in_progress`, `done` or `closed`.
    pub status: String,
    pub close_reason: Option<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub done_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<NeedRow> for NeedView {
    fn from(row: NeedRow) -> NeedView {
        NeedView {
            id: row.id,
            title: row.title,
            description: row.description,
            category: row.category,
            region_code: row.region_code,
            requesting_unit: row.requesting_unit,
            beneficiaries_count: row.beneficiaries_count,
            urgency: row.urgency,
            wanted_by: row.wanted_by,
            status: row.status,
            close_reason: row.close_reason,
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            done_at: row.done_at.map(utc),
        }
    }
}

/// A resource (资源) a partner can give.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e21",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "沁水县拥军托育中心",
    "title": "寒暑假托管班", "category": "education", "capacity": "每期 40 名儿童",
    "capacity_amount": 40, "capacity_unit": "人", "region_code": "140521",
    "available_from": "2026-12-01", "available_until": null, "mode": "peacetime",
    "created_at": "2026-12-02T02:00:00Z"}))]
pub struct ResourceView {
    pub id: ResourceId,
    pub merchant_id: MerchantId,
    pub merchant_name: String,
    pub title: String,
    pub category: String,
    pub capacity: String,
    pub capacity_amount: Option<i64>,
    pub capacity_unit: Option<String>,
    /// The region it serves.
    pub region_code: String,
    pub available_from: Option<chrono::NaiveDate>,
    pub available_until: Option<chrono::NaiveDate>,
    /// `peacetime` or `emergency`.
    pub mode: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ResourceRecord> for ResourceView {
    fn from(record: ResourceRecord) -> ResourceView {
        let row = record.resource;
        ResourceView {
            id: row.id,
            merchant_id: row.merchant_id,
            merchant_name: record.merchant_name,
            title: row.title,
            category: row.category,
            capacity: row.capacity,
            capacity_amount: row.capacity_amount,
            capacity_unit: row.capacity_unit,
            region_code: row.region_code,
            available_from: row.available_from,
            available_until: row.available_until,
            mode: row.mode,
            created_at: utc(row.created_at),
        }
    }
}

/// A partner of the emergency roster (急时战时) able to answer an emergency need.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterPartnerView {
    pub merchant_id: MerchantId,
    pub name: String,
    pub region_code: String,
    pub emergency_capabilities: Vec<String>,
    pub emergency_commitment: String,
}

impl From<MerchantRow> for RosterPartnerView {
    fn from(row: MerchantRow) -> RosterPartnerView {
        RosterPartnerView {
            merchant_id: row.id,
            emergency_capabilities: row.capability_names(),
            name: row.name,
            region_code: row.region_code,
            emergency_commitment: row.emergency_commitment,
        }
    }
}

/// A need with the resources that fit it, best first, and (for an emergency need) the
/// partners of the emergency roster able to answer it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11", "title": "官兵子女寒假托管",
    "description": "驻地官兵子女寒假期间需要托管服务", "category": "education", "region_code": "140521",
    "requesting_unit": "驻沁某部", "beneficiaries_count": 35, "urgency": "routine",
    "wanted_by": "2027-01-15", "status": "open", "close_reason": null, "created_by": "qs.liaison",
    "created_at": "2026-12-03T02:00:00Z", "updated_at": "2026-12-03T02:00:00Z", "done_at": null,
    "suggestions": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e21",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "沁水县拥军托育中心",
    "title": "寒暑假托管班", "category": "education", "capacity": "每期 40 名儿童",
    "capacity_amount": 40, "capacity_unit": "人", "region_code": "140521",
    "available_from": "2026-12-01", "available_until": null, "mode": "peacetime",
    "created_at": "2026-12-02T02:00:00Z"}], "emergency_roster": []}))]
pub struct NeedDetailView {
    #[serde(flatten)]
    pub need: NeedView,
    pub suggestions: Vec<ResourceView>,
    pub emergency_roster: Vec<RosterPartnerView>,
}

impl From<NeedDetail> for NeedDetailView {
    fn from(detail: NeedDetail) -> NeedDetailView {
        NeedDetailView {
            need: detail.need.into(),
            suggestions: detail.suggestions.into_iter().map(Into::into).collect(),
            emergency_roster: detail.roster.into_iter().map(Into::into).collect(),
        }
    }
}

// ---------- needs ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "官兵子女寒假托管", "description": "驻地官兵子女寒假期间需要托管服务",
    "category": "education", "region_code": "140521", "requesting_unit": "驻沁某部",
    "beneficiaries_count": 35, "urgency": "routine", "wanted_by": "2027-01-15"}))]
pub struct NeedRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub region_code: Option<String>,
    /// Free text: 驻沁某部.
    pub requesting_unit: Option<String>,
    /// How many people it serves (no names).
    pub beneficiaries_count: Option<i64>,
    /// `routine` (default), `urgent` or `emergency`.
    pub urgency: Option<String>,
    pub wanted_by: Option<String>,
}

/// Posts a need in the caller's region (a unit's liaison or an office).
#[utoipa::path(tag = "needs", operation_id = "post_need", request_body = NeedRequest,
    security(("staff" = [])), responses(
    (status = 201, body = NeedView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`, `region_out_of_scope`")))]
#[post("/needs")]
#[tracing::instrument(name = "post_need", skip_all)]
pub async fn post_need(
    state: State,
    admin: AdminUser,
    body: Json<NeedRequest>,
) -> AppResult<HttpResponse> {
    // Who may not post hears so before what is wrong with the form.
    admin.require(Operation::NeedsWrite)?;
    let mut f = Fields::new();
    let title = f.text("title", body.title.as_deref(), 200);
    let description = f.free_text("description", body.description.as_deref(), 4000);
    let category = f.vocab::<NeedCategory>("category", body.category.as_deref());
    let region = f.region("region_code", body.region_code.as_deref());
    let unit = f.text("requesting_unit", body.requesting_unit.as_deref(), 200);
    let count = match body.beneficiaries_count {
        Some(n) if (0..=10_000_000).contains(&n) => Some(n),
        Some(_) => {
            f.error("beneficiaries_count", "must be between 0 and 10000000");
            None
        }
        None => Some(0),
    };
    let urgency = f
        .optional_vocab::<Urgency>("urgency", body.urgency.as_deref())
        .map(|u| u.unwrap_or(Urgency::Routine));
    let wanted_by = f.date("wanted_by", body.wanted_by.as_deref());
    if matches!(region, Some(None)) {
        f.error("region_code", "is required");
    }
    let need = f.build(|| {
        Some(NewNeed {
            title: title?,
            description: description?,
            category: category?,
            region: region??,
            requesting_unit: unit?,
            beneficiaries_count: count?,
            urgency: urgency?,
            wanted_by: wanted_by?,
        })
    })?;
    let row = needs::post_need(&state.db, &admin, need).await?;
    Ok(HttpResponse::Created().json(NeedView::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NeedListQuery {
    pub status: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub region: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Needs in the caller's region subtree, newest first.
#[utoipa::path(tag = "needs", operation_id = "list_needs", params(NeedListQuery),
    security(("staff" = [])), responses((status = 200, body = Paged<NeedView>,
    example = json!({"items": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11", "title": "官兵子女寒假托管",
    "description": "驻地官兵子女寒假期间需要托管服务", "category": "education", "region_code": "140521",
    "requesting_unit": "驻沁某部", "beneficiaries_count": 35, "urgency": "routine",
    "wanted_by": "2027-01-15", "status": "open", "close_reason": null, "created_by": "qs.liaison",
    "created_at": "2026-12-03T02:00:00Z", "updated_at": "2026-12-03T02:00:00Z", "done_at": null}], "total": 1, "page": 1, "per_page": 20}))))]
#[get("/needs")]
pub async fn list_needs(
    state: State,
    admin: AdminUser,
    query: Query<NeedListQuery>,
) -> Reply<Paged<NeedView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let status = f.optional_vocab::<NeedStatus>("status", query.status.as_deref());
    let category = f.optional_vocab::<NeedCategory>("category", query.category.as_deref());
    let urgency = f.optional_vocab::<Urgency>("urgency", query.urgency.as_deref());
    let region = f.region("region", query.region.as_deref());
    let (page, status, category, urgency, region) =
        f.finish((page, status, category, urgency, region))?;
    let query = NeedQuery {
        status,
        category,
        urgency,
        region,
    };
    let listed = needs::list_needs(&state.db, &admin, query, page).await?;
    Ok(web::Json(Paged::of(page, listed, NeedView::from)))
}

/// One need with the resources that fit it (same category, serving its region,
/// available today), best first; an emergency need also lists the partners of the
/// emergency roster with the matching capability in its region subtree.
#[utoipa::path(tag = "needs", operation_id = "get_need", params(("id" = NeedId, Path)),
    security(("staff" = [])), responses(
    (status = 200, body = NeedDetailView),
    (status = 404, body = crate::error::Problem, description = "`need_not_found` (also outside your region)")))]
#[get("/needs/{id}")]
pub async fn get_need(state: State, admin: AdminUser, id: Path<NeedId>) -> Reply<NeedDetailView> {
    let detail = needs::need(&state.db, &state.policy.clock, &admin, *id).await?;
    Ok(web::Json(detail.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "closed", "reason": "部队已自行解决"}))]
pub struct NeedStatusRequest {
    /// `matched`, `in_progress`, `done` or `closed` (forwards only).
    pub status: Option<String>,
    /// Required to close.
    pub reason: Option<String>,
}

/// Moves a need along its lifecycle: forwards only; `closed` needs a reason.
#[utoipa::path(tag = "needs", operation_id = "set_need_status", params(("id" = NeedId, Path)),
    request_body = NeedStatusRequest, security(("staff" = [])), responses(
    (status = 200, body = NeedView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`"),
    (status = 404, body = crate::error::Problem, description = "`need_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`, `concurrent_change`")))]
#[post("/needs/{id}/status")]
pub async fn set_need_status(
    state: State,
    admin: AdminUser,
    id: Path<NeedId>,
    body: Json<NeedStatusRequest>,
) -> Reply<NeedView> {
    admin.require(Operation::NeedsWrite)?;
    let mut f = Fields::new();
    let status = f.vocab::<NeedStatus>("status", body.status.as_deref());
    let reason = f.optional_free_text("reason", body.reason.as_deref(), 2000);
    let (status, reason) = f.finish((status, reason))?;
    let row = needs::set_need_status(&state.db, &admin, *id, status, reason).await?;
    Ok(web::Json(row.into()))
}

// ---------- resources ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "寒暑假托管班", "category": "education", "capacity": "每期 40 名儿童",
    "capacity_amount": 40, "capacity_unit": "人", "region_code": "140521",
    "available_from": "2026-12-01", "mode": "peacetime"}))]
pub struct ResourceRequest {
    /// For an office recording a partner's resource: the partner.
    pub merchant_id: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    /// Free text: 每期 40 名儿童.
    pub capacity: Option<String>,
    pub capacity_amount: Option<i64>,
    pub capacity_unit: Option<String>,
    /// The region it serves.
    pub region_code: Option<String>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    /// `peacetime` (default) or `emergency`.
    pub mode: Option<String>,
}

fn parse_resource(f: &mut Fields, body: &ResourceRequest) -> Option<NewResource> {
    let title = f.text("title", body.title.as_deref(), 200);
    let category = f.vocab::<NeedCategory>("category", body.category.as_deref());
    let capacity = f.free_text("capacity", body.capacity.as_deref(), 2000);
    let amount = match body.capacity_amount {
        Some(n) if n < 0 => {
            f.error("capacity_amount", "must not be negative");
            None
        }
        other => Some(other),
    };
    let unit = f.optional_text("capacity_unit", body.capacity_unit.as_deref(), 32);
    let region = f.region("region_code", body.region_code.as_deref());
    if matches!(region, Some(None)) {
        f.error("region_code", "is required");
    }
    let from = f.date("available_from", body.available_from.as_deref());
    let until = f.date("available_until", body.available_until.as_deref());
    let mode = f
        .optional_vocab::<ResourceMode>("mode", body.mode.as_deref())
        .map(|m| m.unwrap_or(ResourceMode::Peacetime));
    Some(NewResource {
        title: title?,
        category: category?,
        capacity: capacity?,
        capacity_amount: amount?,
        capacity_unit: unit?,
        region: region??,
        available_from: from?,
        available_until: until?,
        mode: mode?,
    })
}

/// Records one of the caller's partner's own resources (merchant staff).
#[utoipa::path(tag = "needs", operation_id = "offer_merchant_resource", request_body = ResourceRequest,
    security(("staff" = [])), responses(
    (status = 201, body = ResourceView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`")))]
#[post("/merchant/resources")]
pub async fn offer_resource(
    state: State,
    staff: MerchantStaff,
    body: Json<ResourceRequest>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let resource = parse_resource(&mut f, &body);
    let resource = f.build(|| resource)?;
    let record = needs::offer_resource(&state.db, &staff, resource).await?;
    Ok(HttpResponse::Created().json(ResourceView::from(record)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The caller's partner's own resources, newest first (merchant staff).
#[utoipa::path(tag = "needs", operation_id = "list_merchant_resources", params(PageQuery),
    security(("staff" = [])), responses((status = 200, body = Paged<ResourceView>,
    example = json!({"items": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e21",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "沁水县拥军托育中心",
    "title": "寒暑假托管班", "category": "education", "capacity": "每期 40 名儿童",
    "capacity_amount": 40, "capacity_unit": "人", "region_code": "140521",
    "available_from": "2026-12-01", "available_until": null, "mode": "peacetime",
    "created_at": "2026-12-02T02:00:00Z"}], "total": 1, "page": 1, "per_page": 20}))))]
#[get("/merchant/resources")]
pub async fn own_resources(
    state: State,
    staff: MerchantStaff,
    query: Query<PageQuery>,
) -> Reply<Paged<ResourceView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let page = f.finish(page)?;
    let listed = needs::own_resources(&state.db, &staff, page).await?;
    Ok(web::Json(Paged::of(page, listed, ResourceView::from)))
}

/// Records a resource for a partner of the caller's region (an office).
#[utoipa::path(tag = "needs", operation_id = "record_partner_resource", request_body = ResourceRequest,
    security(("staff" = [])), responses(
    (status = 201, body = ResourceView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`, `region_out_of_scope`"),
    (status = 404, body = crate::error::Problem, description = "`merchant_not_found` (also outside your region)")))]
#[post("/admin/resources")]
pub async fn record_resource(
    state: State,
    admin: AdminUser,
    body: Json<ResourceRequest>,
) -> AppResult<HttpResponse> {
    admin.require(Operation::ResourcesWrite)?;
    let mut f = Fields::new();
    let merchant = f.required_str("merchant_id", body.merchant_id.as_deref(), |raw| {
        raw.parse::<MerchantId>().map_err(|_| "is not a UUID")
    });
    let resource = parse_resource(&mut f, &body);
    let (merchant, resource) = f.build(|| Some((merchant?, resource?)))?;
    let record = needs::record_resource(&state.db, &admin, merchant, resource).await?;
    Ok(HttpResponse::Created().json(ResourceView::from(record)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ResourceListQuery {
    pub category: Option<String>,
    pub mode: Option<String>,
    pub region: Option<String>,
    pub merchant_id: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The resources directory (资源目录) of the caller's region subtree, newest first
/// (offices and liaisons).
#[utoipa::path(tag = "needs", operation_id = "list_resources", params(ResourceListQuery),
    security(("staff" = [])), responses((status = 200, body = Paged<ResourceView>,
    example = json!({"items": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e21",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "沁水县拥军托育中心",
    "title": "寒暑假托管班", "category": "education", "capacity": "每期 40 名儿童",
    "capacity_amount": 40, "capacity_unit": "人", "region_code": "140521",
    "available_from": "2026-12-01", "available_until": null, "mode": "peacetime",
    "created_at": "2026-12-02T02:00:00Z"}], "total": 1, "page": 1, "per_page": 20}))))]
#[get("/resources")]
pub async fn list_resources(
    state: State,
    admin: AdminUser,
    query: Query<ResourceListQuery>,
) -> Reply<Paged<ResourceView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let category = f.optional_vocab::<NeedCategory>("category", query.category.as_deref());
    let mode = f.optional_vocab::<ResourceMode>("mode", query.mode.as_deref());
    let region = f.region("region", query.region.as_deref());
    let merchant_id = f.optional_str("merchant_id", query.merchant_id.as_deref(), |raw| {
        raw.parse::<MerchantId>().map_err(|_| "is not a UUID")
    });
    let (page, category, mode, region, merchant_id) =
        f.finish((page, category, mode, region, merchant_id))?;
    let query = ResourceQuery {
        category,
        mode,
        region,
        merchant_id,
    };
    let listed = needs::list_resources(&state.db, &admin, query, page).await?;
    Ok(web::Json(Paged::of(page, listed, ResourceView::from)))
}
