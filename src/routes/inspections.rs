//! Spot checks (随机抽查): a reproducible random sample of the active merchants of a
//! region, and each sampled merchant's result. The use cases are
//! `app::oversight::inspections`.

use std::collections::HashSet;

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::AdminUser;
use crate::app::oversight::inspections::{
    self, InspectionProgress, InspectionRecord, SpotResult, MAX_SAMPLE,
};
use crate::db::inspections::InspectionId;
use crate::db::MerchantId;
use crate::domain::oversight::InspectionOutcome;
use crate::error::AppResult;
use crate::http::{utc, Json, Paged, Reply, State};
use crate::validate::{parse_vocab, Fields};

// ---------- views ----------

/// One sampled merchant and, once recorded, its result.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionItemView {
    /// Rank in the sample, from 1.
    pub position: i32,
    pub merchant_id: MerchantId,
    pub name: String,
    pub address: String,
    pub category: String,
    pub region_code: String,
    /// `compliant` or `non_compliant`; null until recorded.
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An inspection with its sample.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fb-2c3d-7e4f-8a5b-6c7d8e9f0a01", "region_code": "440303",
    "sample_size": 2, "seed": 20261201, "population": 37, "created_by": "luohu.admin",
    "created_at": "2026-12-01T01:00:00Z", "items": [
        {"position": 1, "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "name": "深圳市罗湖区拥军大药房",
            "address": "深圳市罗湖区人民南路1号", "category": "pharmacy", "region_code": "440303",
            "outcome": "non_compliant", "notes": "未设置拥军优先窗口", "recorded_at": "2026-12-03T07:00:00Z"},
        {"position": 2, "merchant_id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b02", "name": "深圳市罗湖区拥军便民超市",
            "address": "深圳市罗湖区东门中路8号", "category": "retail", "region_code": "440303",
            "outcome": null, "notes": null, "recorded_at": null}]}))]
pub struct InspectionDetail {
    pub id: InspectionId,
    pub region_code: String,
    /// As requested; the sample holds `min(sample_size, population)` merchants.
    pub sample_size: i32,
    /// Redraw the sample: rank each candidate by SHA-256(seed as 8 bytes big-endian ‖
    /// merchant id as 16 bytes) ascending and take the first `sample_size`.
    pub seed: i64,
    /// How many active merchants the region subtree had when the sample was drawn.
    pub population: i32,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub items: Vec<InspectionItemView>,
}

/// An inspection in a list, with its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionSummary {
    pub id: InspectionId,
    pub region_code: String,
    pub sample_size: i32,
    pub seed: i64,
    pub population: i32,
    /// Merchants in the sample.
    pub sampled: i64,
    /// Of them, with a result recorded.
    pub recorded: i64,
    pub non_compliant: i64,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<InspectionRecord> for InspectionDetail {
    fn from(record: InspectionRecord) -> InspectionDetail {
        let row = record.inspection;
        InspectionDetail {
            id: row.id,
            region_code: row.region_code,
            sample_size: row.sample_size,
            seed: row.seed,
            population: row.population,
            created_by: row.created_by_label,
            created_at: utc(row.created_at),
            items: record
                .items
                .into_iter()
                .map(|s| InspectionItemView {
                    position: s.item.position,
                    merchant_id: s.item.merchant_id,
                    name: s.name,
                    address: s.address,
                    category: s.category,
                    region_code: s.region_code,
                    outcome: s.item.outcome,
                    notes: s.item.notes,
                    recorded_at: s.item.recorded_at.map(utc),
                })
                .collect(),
        }
    }
}

impl From<InspectionProgress> for InspectionSummary {
    fn from(progress: InspectionProgress) -> InspectionSummary {
        let row = progress.inspection;
        InspectionSummary {
            id: row.id,
            region_code: row.region_code,
            sample_size: row.sample_size,
            seed: row.seed,
            population: row.population,
            sampled: progress.sampled,
            recorded: progress.recorded,
            non_compliant: progress.non_compliant,
            created_by: row.created_by_label,
            created_at: utc(row.created_at),
        }
    }
}

// ---------- drawing a sample ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"region": "440303", "sample_size": 10, "seed": 20261201}))]
pub struct InspectionRequest {
    /// Region code: the sample is drawn from the active merchants of its subtree.
    pub region: Option<String>,
    /// 1 to 1000; larger than the population takes every merchant.
    pub sample_size: Option<i64>,
    /// Omitted: drawn at random (below 2^53, so any JSON client keeps it exact) and
    /// recorded, so the sample can be redrawn and checked.
    pub seed: Option<i64>,
}

/// Draws a spot-check sample (抽查) of the active merchants of a region subtree,
/// reproducibly from the seed, and records it as an inspection list (office roles that
/// may write, region inside their own).
#[utoipa::path(tag = "oversight", request_body = InspectionRequest, security(("staff" = [])), responses(
    (status = 201, body = InspectionDetail),
    (status = 403, body = crate::error::Problem, description = "`read_only_role`, `region_out_of_scope`")))]
#[post("/admin/inspections")]
#[tracing::instrument(name = "create_inspection", skip_all)]
pub async fn create_inspection(
    state: State,
    admin: AdminUser,
    body: Json<InspectionRequest>,
) -> AppResult<HttpResponse> {
    let mut f = Fields::new();
    let region = f.region("region", body.region.as_deref());
    let region = match region {
        Some(None) => {
            f.error("region", "is required");
            None
        }
        other => other.flatten(),
    };
    let size = f.required("sample_size", body.sample_size, |n| {
        if (1..=MAX_SAMPLE).contains(&n) {
            Ok(n)
        } else {
            Err(format!("must be between 1 and {MAX_SAMPLE}"))
        }
    });
    let (region, size) = f.finish((region, size))?;
    let record = inspections::create(&state.db, &admin, region, size, body.seed).await?;
    Ok(HttpResponse::Created().json(InspectionDetail::from(record)))
}

// ---------- reading ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct InspectionQuery {
    /// A region code; its subtree, within the caller's own.
    pub region: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Inspections of the caller's region subtree, newest first, with their progress.
#[utoipa::path(tag = "oversight", params(InspectionQuery), security(("staff" = [])), responses(
    (status = 200, body = Paged<InspectionSummary>, example = json!({"items": [
        {"id": "0193a8fb-2c3d-7e4f-8a5b-6c7d8e9f0a01", "region_code": "440303", "sample_size": 10,
            "seed": 20261201, "population": 37, "sampled": 10, "recorded": 4, "non_compliant": 1,
            "created_by": "luohu.admin", "created_at": "2026-12-01T01:00:00Z"}],
        "total": 1, "page": 1, "per_page": 20}))))]
#[get("/admin/inspections")]
pub async fn list_inspections(
    state: State,
    admin: AdminUser,
    query: Query<InspectionQuery>,
) -> Reply<Paged<InspectionSummary>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let region = f.region("region", query.region.as_deref());
    let (page, region) = f.finish((page, region))?;
    let listed = inspections::list(&state.db, &admin, region, page).await?;
    Ok(web::Json(Paged::of(page, listed, InspectionSummary::from)))
}

/// One inspection with its sample and the results recorded so far.
#[utoipa::path(tag = "oversight", params(("id" = InspectionId, Path)), security(("staff" = [])), responses(
    (status = 200, body = InspectionDetail),
    (status = 404, body = crate::error::Problem, description = "`inspection_not_found` (also outside your region)")))]
#[get("/admin/inspections/{id}")]
pub async fn get_inspection(
    state: State,
    admin: AdminUser,
    id: Path<InspectionId>,
) -> Reply<InspectionDetail> {
    let record = inspections::get(&state.db, &admin, *id).await?;
    Ok(web::Json(record.into()))
}

// ---------- results ----------

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResultEntry {
    pub merchant_id: Option<String>,
    /// `compliant` or `non_compliant`.
    pub outcome: Option<String>,
    /// What was found; up to 2000 characters.
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"results": [
    {"merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "outcome": "non_compliant", "notes": "未设置拥军优先窗口"},
    {"merchant_id": "0193a8f6-3d4e-7f5a-8b6c-7d8e9f0a1b02", "outcome": "compliant", "notes": "优待措施落实到位"}]}))]
pub struct ResultsRequest {
    pub results: Option<Vec<ResultEntry>>,
}

/// Records the results of sampled merchants, all or nothing; recording a merchant again
/// corrects its result (the audit log keeps both). A `non_compliant` result flags the
/// merchant for exit review (its status is not changed).
#[utoipa::path(tag = "oversight", params(("id" = InspectionId, Path)), request_body = ResultsRequest,
    security(("staff" = [])), responses(
    (status = 200, body = InspectionDetail),
    (status = 403, body = crate::error::Problem, description = "`read_only_role`"),
    (status = 404, body = crate::error::Problem, description = "`inspection_not_found` (also outside your region)"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`; `not_in_sample` (with `merchant_ids`): nothing is recorded")))]
#[post("/admin/inspections/{id}/results")]
#[tracing::instrument(name = "record_inspection_results", skip_all, fields(inspection_id = %id))]
pub async fn record_results(
    state: State,
    admin: AdminUser,
    id: Path<InspectionId>,
    body: Json<ResultsRequest>,
) -> Reply<InspectionDetail> {
    let mut f = Fields::new();
    let mut results = Vec::new();
    match body.results.as_deref() {
        None | Some([]) => f.error("results", "needs at least one result"),
        Some(entries) => {
            let mut seen = HashSet::new();
            for (i, entry) in entries.iter().enumerate() {
                let field = |name: &str| format!("results[{i}].{name}");
                let merchant =
                    f.required_str(&field("merchant_id"), entry.merchant_id.as_deref(), |raw| {
                        match raw.parse::<MerchantId>() {
                            Ok(m) if seen.insert(m) => Ok(m),
                            Ok(_) => Err("appears twice"),
                            Err(_) => Err("is not a UUID"),
                        }
                    });
                let outcome = f.required(
                    &field("outcome"),
                    entry.outcome.as_deref(),
                    parse_vocab::<InspectionOutcome>,
                );
                let notes = f.optional_free_text(&field("notes"), entry.notes.as_deref(), 2000);
                if let (Some(merchant_id), Some(outcome), Some(notes)) = (merchant, outcome, notes)
                {
                    results.push(SpotResult {
                        merchant_id,
                        outcome,
                        notes,
                    });
                }
            }
        }
    }
    f.finish(Some(()))?;
    let record = inspections::record_results(&state.db, &admin, *id, results).await?;
    Ok(web::Json(record.into()))
}
