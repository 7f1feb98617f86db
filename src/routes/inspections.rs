//! Spot checks (随机抽查): a reproducible random sample of the active merchants of a
//! region, and each sampled merchant's result. A non-compliant result flags the
//! merchant for exit review. The sampling rule is `domain::oversight::draw_sample`.

use std::collections::{HashMap, HashSet};

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::db::audit::{self, AuditEntry};
use crate::db::inspections::{self, InspectionId, InspectionItemRow, InspectionRow};
use crate::db::merchants::{self, MerchantFilter};
use crate::db::{self, Conn, MerchantId};
use crate::domain::merchant::MerchantStatus;
use crate::domain::oversight::{self, InspectionOutcome, MAX_GENERATED_SEED};
use crate::domain::{china_today, RegionCode};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Json;
use crate::routes::complaints::flag_for_exit_review;
use crate::routes::merchants::text;
use crate::routes::{region_code_param, region_param, utc, PageQuery, Paged};
use crate::startup::AppState;

/// Largest sample one inspection may draw.
const MAX_SAMPLE: i64 = 1000;

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

fn inspection_not_found() -> ApiError {
    ApiError::not_found("inspection_not_found", "no such inspection")
}

/// The inspection, if its region lies in the caller's; 404 otherwise.
async fn load_scoped(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    id: InspectionId,
) -> ApiResult<InspectionRow> {
    inspections::find(conn, id)
        .await?
        .filter(|i| RegionCode::parse(&i.region_code).is_ok_and(|r| admin.covers(&r)))
        .ok_or_else(inspection_not_found)
}

async fn detail(conn: &mut Conn<'_>, row: InspectionRow) -> ApiResult<InspectionDetail> {
    let items = inspections::items(conn, row.id).await?;
    Ok(InspectionDetail {
        id: row.id,
        region_code: row.region_code,
        sample_size: row.sample_size,
        seed: row.seed,
        population: row.population,
        created_by: row.created_by_label,
        created_at: utc(row.created_at),
        items: items
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
    })
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
    (status = 403, body = crate::error::Problem, description = "`read_only_role`, `region_out_of_scope`"),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[post("/admin/inspections")]
#[tracing::instrument(name = "create_inspection", skip_all)]
pub async fn create_inspection(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: Json<InspectionRequest>,
) -> ApiResult<HttpResponse> {
    admin.require_write()?;
    let mut errors = Vec::new();
    let region = region_code_param(body.region.as_deref(), &mut errors);
    if body.region.as_deref().is_none_or(|r| r.trim().is_empty()) {
        errors.push(FieldError::new("region", "is required"));
    }
    let size = match body.sample_size {
        Some(n) if (1..=MAX_SAMPLE).contains(&n) => Some(n),
        Some(_) => {
            errors.push(FieldError::new(
                "sample_size",
                format!("must be between 1 and {MAX_SAMPLE}"),
            ));
            None
        }
        None => {
            errors.push(FieldError::new("sample_size", "is required"));
            None
        }
    };
    let (region, size) = match (region, size) {
        (Some(r), Some(n)) if errors.is_empty() => (r, n),
        _ => return Err(ApiError::validation(errors)),
    };
    if !admin.covers(&region) {
        return Err(ApiError::forbidden(
            "region_out_of_scope",
            "the region is outside your region",
        ));
    }
    let seed = body
        .seed
        .unwrap_or_else(|| rand::random_range(0..=MAX_GENERATED_SEED));
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let filter = MerchantFilter {
        status: Some(MerchantStatus::Active),
        today: Some(china_today()),
        region_likes: vec![region.like_pattern()],
        ..Default::default()
    };
    let row = conn
        .transaction(async |tx| {
            // Drawn inside the transaction, so the recorded population is the one sampled.
            let candidates: Vec<uuid::Uuid> = merchants::positions(tx, &filter)
                .await?
                .into_iter()
                .map(|(id, _, _)| id.0)
                .collect();
            let sample = oversight::draw_sample(seed, &candidates, size as usize);
            let row = InspectionRow {
                id: InspectionId::new(),
                region_code: region.as_str().to_owned(),
                sample_size: size as i32,
                seed,
                population: candidates.len() as i32,
                created_by: Some(admin.id),
                created_by_label: admin.username.clone(),
                created_at: db::now(),
            };
            let items: Vec<InspectionItemRow> = sample
                .iter()
                .enumerate()
                .map(|(rank, id)| InspectionItemRow {
                    inspection_id: row.id,
                    merchant_id: MerchantId(*id),
                    position: rank as i32 + 1,
                    outcome: None,
                    notes: None,
                    recorded_by: None,
                    recorded_at: None,
                })
                .collect();
            inspections::insert(tx, &row, &items).await?;
            audit::record(
                tx,
                &admin.actor(),
                AuditEntry {
                    action: "inspection.create",
                    entity_type: "inspection",
                    entity_id: row.id.to_string(),
                    region_code: Some(&row.region_code),
                    details: Some(serde_json::json!({"seed": seed, "sample_size": size,
                        "population": row.population, "merchant_ids": sample})),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let body = detail(&mut conn, row).await?;
    Ok(HttpResponse::Created().json(body))
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
        "total": 1, "page": 1, "per_page": 20})),
    (status = 422, body = crate::error::Problem, description = "`validation_failed`")))]
#[get("/admin/inspections")]
pub async fn list_inspections(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<InspectionQuery>,
) -> ApiResult<web::Json<Paged<InspectionSummary>>> {
    let mut errors = Vec::new();
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .collect(&mut errors);
    let mut region_likes: Vec<String> = admin.region_like().into_iter().collect();
    region_likes.extend(region_param(query.region.as_deref(), &mut errors));
    let page = match page {
        Some(page) if errors.is_empty() => page,
        _ => return Err(ApiError::validation(errors)),
    };
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) =
        inspections::list(&mut conn, &region_likes, page.offset(), page.limit()).await?;
    let ids: Vec<InspectionId> = rows.iter().map(|r| r.id).collect();
    let mut progress: HashMap<InspectionId, (i64, i64, i64)> = HashMap::new();
    for (id, outcome) in inspections::outcomes(&mut conn, &ids).await? {
        let entry = progress.entry(id).or_default();
        entry.0 += 1;
        if let Some(outcome) = outcome {
            entry.1 += 1;
            if outcome == InspectionOutcome::NonCompliant.as_str() {
                entry.2 += 1;
            }
        }
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let (sampled, recorded, non_compliant) =
                progress.get(&row.id).copied().unwrap_or_default();
            InspectionSummary {
                id: row.id,
                region_code: row.region_code,
                sample_size: row.sample_size,
                seed: row.seed,
                population: row.population,
                sampled,
                recorded,
                non_compliant,
                created_by: row.created_by_label,
                created_at: utc(row.created_at),
            }
        })
        .collect();
    Ok(web::Json(page.wrap(items, total)))
}

/// One inspection with its sample and the results recorded so far.
#[utoipa::path(tag = "oversight", params(("id" = InspectionId, Path)), security(("staff" = [])), responses(
    (status = 200, body = InspectionDetail),
    (status = 404, body = crate::error::Problem, description = "`inspection_not_found` (also outside your region)")))]
#[get("/admin/inspections/{id}")]
pub async fn get_inspection(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<InspectionId>,
) -> ApiResult<web::Json<InspectionDetail>> {
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let row = load_scoped(&mut conn, &admin, *id).await?;
    Ok(web::Json(detail(&mut conn, row).await?))
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
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<InspectionId>,
    body: Json<ResultsRequest>,
) -> ApiResult<web::Json<InspectionDetail>> {
    admin.require_write()?;
    let mut errors = Vec::new();
    let mut results: Vec<(MerchantId, InspectionOutcome, Option<String>)> = Vec::new();
    match body.results.as_deref() {
        None | Some([]) => errors.push(FieldError::new("results", "needs at least one result")),
        Some(entries) => {
            let mut seen = HashSet::new();
            for (i, entry) in entries.iter().enumerate() {
                let field = |name: &str| format!("results[{i}].{name}");
                let merchant = match entry.merchant_id.as_deref().map(str::trim) {
                    None | Some("") => {
                        errors.push(FieldError::new(field("merchant_id"), "is required"));
                        None
                    }
                    Some(raw) => match raw.parse::<MerchantId>() {
                        Ok(m) if seen.insert(m) => Some(m),
                        Ok(_) => {
                            errors.push(FieldError::new(field("merchant_id"), "appears twice"));
                            None
                        }
                        Err(_) => {
                            errors.push(FieldError::new(field("merchant_id"), "is not a UUID"));
                            None
                        }
                    },
                };
                let outcome = match entry.outcome.as_deref().map(InspectionOutcome::parse) {
                    Some(Some(o)) => Some(o),
                    Some(None) => {
                        errors.push(FieldError::new(
                            field("outcome"),
                            "must be compliant or non_compliant",
                        ));
                        None
                    }
                    None => {
                        errors.push(FieldError::new(field("outcome"), "is required"));
                        None
                    }
                };
                let notes = text(
                    &mut errors,
                    &field("notes"),
                    entry.notes.as_deref(),
                    false,
                    2000,
                );
                if let (Some(m), Some(o)) = (merchant, outcome) {
                    results.push((m, o, notes));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut pooled = state.db.get().await?;
    let mut conn = pooled.conn();
    let inspection = load_scoped(&mut conn, &admin, *id).await?;
    let sampled: HashMap<MerchantId, Option<String>> = inspections::items(&mut conn, inspection.id)
        .await?
        .into_iter()
        .map(|s| (s.item.merchant_id, s.item.outcome))
        .collect();
    let outside: Vec<String> = results
        .iter()
        .filter(|(m, _, _)| !sampled.contains_key(m))
        .map(|(m, _, _)| m.to_string())
        .collect();
    if !outside.is_empty() {
        return Err(ApiError::unprocessable(
            "not_in_sample",
            format!(
                "not in this inspection's sample: {}; nothing was recorded",
                outside.join(", ")
            ),
        )
        .with("merchant_ids", outside));
    }
    let actor = admin.actor();
    conn.transaction(async |tx| {
        let now = db::now();
        for (merchant_id, outcome, notes) in &results {
            inspections::record_result(
                tx,
                inspection.id,
                *merchant_id,
                outcome.as_str(),
                notes.as_deref(),
                admin.id,
                now,
            )
            .await?
            .ok_or_else(inspection_not_found)?;
            let before = sampled.get(merchant_id).cloned().flatten();
            let merchant = merchants::find_for_update(tx, *merchant_id)
                .await?
                .ok_or_else(crate::routes::merchants::merchant_not_found)?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "inspection.record_result",
                    entity_type: "inspection",
                    entity_id: inspection.id.to_string(),
                    region_code: Some(&merchant.region_code),
                    before_status: before.as_deref(),
                    after_status: Some(outcome.as_str()),
                    reason: notes.as_deref(),
                    details: Some(serde_json::json!({"merchant_id": merchant_id})),
                },
            )
            .await?;
            if *outcome == InspectionOutcome::NonCompliant {
                let reason = oversight::inspection_reason(&inspection.id.0, notes.as_deref());
                let details = serde_json::json!({"source": "inspection",
                    "inspection_id": inspection.id, "notes": notes});
                flag_for_exit_review(tx, &actor, &merchant, &reason, details).await?;
            }
        }
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(web::Json(detail(&mut conn, inspection).await?))
}
