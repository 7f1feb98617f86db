//! Complaints and ratings (投诉): a holder files one about a merchant they used in the
//! last 90 days; offices read and resolve them. Filing re-evaluates the merchant's
//! exit-review flag in the same transaction (rule: `domain::oversight`).

use std::collections::HashMap;

use crate::app::identity::{AdminUser, Holder};
use crate::app::merchants::exit::flag_for_exit_review;
use crate::app::merchants::merchant_not_found;
use crate::app::permissions::Operation;
use crate::app::{Listed, Page};
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::complaints::{self, ComplaintFilter, ComplaintId, ComplaintRow};
use crate::db::merchants::{self, MerchantRow};
use crate::db::{self, BeneficiaryId, Conn, Db, MerchantId, RedemptionId};
use crate::domain::beneficiary::mask_name;
use crate::domain::offer::RedemptionStatus;
use crate::domain::oversight::{
    self, ComplaintOutcome, ComplaintStatus, ExitReviewThresholds, WINDOW_DAYS,
};
use crate::error::{AppError, AppResult, Code};

/// A complaint with what an office sees of its merchant and its holder: never an ID
/// number or phone.
#[derive(Debug)]
pub struct ComplaintRecord {
    pub complaint: ComplaintRow,
    pub merchant_name: String,
    /// 张*明
    pub holder_name_masked: String,
    pub holder_category: String,
}

fn complaint_not_found() -> AppError {
    AppError::not_found(Code::ComplaintNotFound, "no such complaint")
}

/// Records of `rows`, with merchant names and masked holder names looked up in bulk.
async fn records(conn: &mut Conn<'_>, rows: Vec<ComplaintRow>) -> AppResult<Vec<ComplaintRecord>> {
    let mut merchant_ids: Vec<MerchantId> = rows.iter().map(|r| r.merchant_id).collect();
    merchant_ids.sort();
    merchant_ids.dedup();
    let mut holder_ids: Vec<BeneficiaryId> = rows.iter().map(|r| r.beneficiary_id).collect();
    holder_ids.sort();
    holder_ids.dedup();
    let names: HashMap<MerchantId, String> = merchants::find_many(conn, &merchant_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let holders: HashMap<BeneficiaryId, (String, String)> = complaints::holders(conn, &holder_ids)
        .await?
        .into_iter()
        .map(|(id, name, category)| (id, (name, category)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|complaint| {
            let (holder_name_masked, holder_category) = holders
                .get(&complaint.beneficiary_id)
                .map(|(n, c)| (mask_name(n), c.clone()))
                .unwrap_or_default();
            ComplaintRecord {
                merchant_name: names
                    .get(&complaint.merchant_id)
                    .cloned()
                    .unwrap_or_default(),
                holder_name_masked,
                holder_category,
                complaint,
            }
        })
        .collect())
}

/// Applies the complaint rule to `merchant` (locked by the caller) as of `now`; flags it
/// when the figures cross the thresholds. A merchant already flagged is left as it is.
async fn evaluate_complaints(
    tx: &mut Conn<'_>,
    thresholds: &ExitReviewThresholds,
    merchant: &MerchantRow,
    now: chrono::NaiveDateTime,
) -> AppResult<()> {
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

/// A holder's complaint, checked.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub merchant_id: MerchantId,
    /// The visit complained about: when given, the holder's own completed redemption
    /// at this merchant.
    pub redemption_id: Option<RedemptionId>,
    /// 1 (worst) to 5 (best).
    pub rating: i32,
    pub content: String,
}

fn no_recent_redemption() -> AppError {
    AppError::forbidden(
        Code::NoRecentRedemption,
        format!(
            "a complaint needs a completed redemption at this merchant in the last {WINDOW_DAYS} days"
        ),
    )
}

/// Files a complaint about a merchant where the holder (with any of their cards) has a
/// completed redemption in the last 90 days; the merchant's complaint figures are
/// re-evaluated at once and may flag it for exit review (never suspend it). The
/// complaint and the merchant's name.
pub async fn file(
    db: &Db,
    thresholds: &ExitReviewThresholds,
    holder: &Holder,
    complaint: NewComplaint,
) -> AppResult<(ComplaintRow, String)> {
    let beneficiary = holder.card.beneficiary_id;
    let now = db::now();
    let since = now - chrono::Duration::days(WINDOW_DAYS);
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant_id = complaint.merchant_id;
    let merchant = merchants::find(&mut conn, merchant_id)
        .await?
        .ok_or_else(merchant_not_found)?;
    match complaint.redemption_id {
        Some(id) => {
            let redemption = db::offers::find_redemption(&mut conn, id)
                .await?
                .filter(|r| r.beneficiary_id == beneficiary)
                .ok_or_else(|| {
                    AppError::not_found(Code::RedemptionNotFound, "no such redemption of yours")
                })?;
            if redemption.merchant_id != merchant_id {
                return Err(AppError::invalid_field(
                    "redemption_id",
                    "is a redemption at another merchant",
                ));
            }
            if redemption.status()? != RedemptionStatus::Completed || redemption.redeemed_at < since
            {
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
        redemption_id: complaint.redemption_id,
        region_code: merchant.region_code.clone(),
        rating: complaint.rating,
        content: complaint.content,
        status: ComplaintStatus::Open.as_str().to_owned(),
        outcome: None,
        resolution_comment: None,
        resolved_by: None,
        resolved_at: None,
        created_at: now,
    };
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
                details: Some(serde_json::json!({"merchant_id": merchant_id,
                    "rating": row.rating, "redemption_id": row.redemption_id,
                    "card_id": holder.card.id})),
                ..Default::default()
            },
        )
        .await?;
        evaluate_complaints(tx, thresholds, &merchant, now).await
    })
    .await?;
    Ok((row, merchant.name))
}

/// Complaints about merchants in the caller's region subtree, newest first.
pub async fn list(
    db: &Db,
    admin: &AdminUser,
    status: Option<ComplaintStatus>,
    merchant_id: Option<MerchantId>,
    page: Page,
) -> AppResult<Listed<ComplaintRecord>> {
    admin.require(Operation::ComplaintsRead)?;
    let mut filter = ComplaintFilter {
        status: status.map(|s| s.as_str().to_owned()),
        merchant_id,
        ..Default::default()
    };
    filter.region_likes.extend(admin.region_like());
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) = complaints::list(&mut conn, &filter, page.offset(), page.limit()).await?;
    Ok((records(&mut conn, rows).await?, total))
}

/// Resolves an open complaint (office roles that may write).
pub async fn resolve(
    db: &Db,
    admin: &AdminUser,
    id: ComplaintId,
    outcome: ComplaintOutcome,
    comment: String,
) -> AppResult<ComplaintRecord> {
    admin.require(Operation::ComplaintsResolve)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let complaint = complaints::find(&mut conn, id)
        .await?
        .filter(|c| admin.covers_code(&c.region_code))
        .ok_or_else(complaint_not_found)?;
    let resolved = |outcome: Option<&str>| {
        AppError::conflict(
            Code::ComplaintResolved,
            "this complaint is already resolved",
        )
        .with("outcome", outcome.map(str::to_owned))
    };
    if complaint.status()? != ComplaintStatus::Open {
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
            Ok::<_, AppError>(updated)
        })
        .await?;
    records(&mut conn, vec![updated])
        .await?
        .pop()
        .ok_or_else(complaint_not_found)
}
