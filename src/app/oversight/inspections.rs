//! Spot checks (随机抽查): a reproducible random sample of the active merchants of a
//! region, and each sampled merchant's result. A non-compliant result flags the
//! merchant for exit review. The sampling rule is `domain::oversight::draw_sample`.

use std::collections::HashMap;

use crate::app::identity::AdminUser;
use crate::app::merchants::exit::flag_for_exit_review;
use crate::app::merchants::merchant_not_found;
use crate::app::permissions::Operation;
use crate::app::{Listed, Page};
use crate::db::audit::{self, AuditEntry};
use crate::db::inspections::{
    self, InspectionId, InspectionItemRow, InspectionRow, SampledMerchant,
};
use crate::db::merchants::{self, MerchantFilter};
use crate::db::{self, Conn, Db, MerchantId};
use crate::domain::merchant::MerchantStatus;
use crate::domain::oversight::{self, InspectionOutcome, MAX_GENERATED_SEED};
use crate::domain::{china_today, RegionCode};
use crate::error::{AppError, AppResult, Code};

/// Largest sample one inspection may draw.
pub const MAX_SAMPLE: i64 = 1000;

/// An inspection with its sample.
#[derive(Debug)]
pub struct InspectionRecord {
    pub inspection: InspectionRow,
    pub items: Vec<SampledMerchant>,
}

/// An inspection in a list, with its progress.
#[derive(Debug)]
pub struct InspectionProgress {
    pub inspection: InspectionRow,
    /// Merchants in the sample.
    pub sampled: i64,
    /// Of them, with a result recorded.
    pub recorded: i64,
    pub non_compliant: i64,
}

fn inspection_not_found() -> AppError {
    AppError::not_found(Code::InspectionNotFound, "no such inspection")
}

/// The inspection, if its region lies in the caller's; 404 otherwise.
async fn load_scoped(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    id: InspectionId,
) -> AppResult<InspectionRow> {
    inspections::find(conn, id)
        .await?
        .filter(|i| admin.covers_code(&i.region_code))
        .ok_or_else(inspection_not_found)
}

async fn record(conn: &mut Conn<'_>, inspection: InspectionRow) -> AppResult<InspectionRecord> {
    let items = inspections::items(conn, inspection.id).await?;
    Ok(InspectionRecord { inspection, items })
}

/// Draws a spot-check sample of `size` (1 to [`MAX_SAMPLE`]) active merchants of a
/// region subtree, reproducibly from `seed` (drawn at random when `None`), and records
/// it (office roles that may write, region inside their own).
pub async fn create(
    db: &Db,
    admin: &AdminUser,
    region: RegionCode,
    size: i64,
    seed: Option<i64>,
) -> AppResult<InspectionRecord> {
    admin.require(Operation::InspectionsWrite)?;
    if !admin.covers(&region) {
        return Err(AppError::forbidden(
            Code::RegionOutOfScope,
            "the region is outside your region",
        ));
    }
    let seed = seed.unwrap_or_else(|| rand::random_range(0..=MAX_GENERATED_SEED));
    let mut pooled = db.get().await?;
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
            Ok::<_, AppError>(row)
        })
        .await?;
    record(&mut conn, row).await
}

/// Inspections of the caller's region subtree (and `region`'s), newest first, with
/// their progress.
pub async fn list(
    db: &Db,
    admin: &AdminUser,
    region: Option<RegionCode>,
    page: Page,
) -> AppResult<Listed<InspectionProgress>> {
    admin.require(Operation::InspectionsRead)?;
    let mut region_likes: Vec<String> = admin.region_like().into_iter().collect();
    region_likes.extend(region.as_ref().map(RegionCode::like_pattern));
    let mut pooled = db.get().await?;
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
        .map(|inspection| {
            let (sampled, recorded, non_compliant) =
                progress.get(&inspection.id).copied().unwrap_or_default();
            InspectionProgress {
                inspection,
                sampled,
                recorded,
                non_compliant,
            }
        })
        .collect();
    Ok((items, total))
}

/// One inspection with its sample and the results recorded so far.
pub async fn get(db: &Db, admin: &AdminUser, id: InspectionId) -> AppResult<InspectionRecord> {
    admin.require(Operation::InspectionsRead)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let row = load_scoped(&mut conn, admin, id).await?;
    record(&mut conn, row).await
}

/// One sampled merchant's result.
#[derive(Debug, Clone)]
pub struct SpotResult {
    pub merchant_id: MerchantId,
    pub outcome: InspectionOutcome,
    pub notes: Option<String>,
}

/// Records the results of sampled merchants, all or nothing; recording a merchant
/// again corrects its result (the audit log keeps both). A `non_compliant` result flags
/// the merchant for exit review (its status is not changed).
pub async fn record_results(
    db: &Db,
    admin: &AdminUser,
    id: InspectionId,
    results: Vec<SpotResult>,
) -> AppResult<InspectionRecord> {
    admin.require(Operation::InspectionsWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let inspection = load_scoped(&mut conn, admin, id).await?;
    let sampled: HashMap<MerchantId, Option<String>> = inspections::items(&mut conn, inspection.id)
        .await?
        .into_iter()
        .map(|s| (s.item.merchant_id, s.item.outcome))
        .collect();
    let outside: Vec<String> = results
        .iter()
        .filter(|r| !sampled.contains_key(&r.merchant_id))
        .map(|r| r.merchant_id.to_string())
        .collect();
    if !outside.is_empty() {
        return Err(AppError::unprocessable(
            Code::NotInSample,
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
        for result in &results {
            inspections::record_result(
                tx,
                inspection.id,
                result.merchant_id,
                result.outcome.as_str(),
                result.notes.as_deref(),
                admin.id,
                now,
            )
            .await?
            .ok_or_else(inspection_not_found)?;
            let before = sampled.get(&result.merchant_id).cloned().flatten();
            let merchant = merchants::find_for_update(tx, result.merchant_id)
                .await?
                .ok_or_else(merchant_not_found)?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "inspection.record_result",
                    entity_type: "inspection",
                    entity_id: inspection.id.to_string(),
                    region_code: Some(&merchant.region_code),
                    before_status: before.as_deref(),
                    after_status: Some(result.outcome.as_str()),
                    reason: result.notes.as_deref(),
                    details: Some(serde_json::json!({"merchant_id": result.merchant_id})),
                },
            )
            .await?;
            if result.outcome == InspectionOutcome::NonCompliant {
                let reason =
                    oversight::inspection_reason(&inspection.id.0, result.notes.as_deref());
                let details = serde_json::json!({"source": "inspection",
                    "inspection_id": inspection.id, "notes": result.notes});
                flag_for_exit_review(tx, &actor, &merchant, &reason, details).await?;
            }
        }
        Ok::<_, AppError>(())
    })
    .await?;
    record(&mut conn, inspection).await
}
