//! The office's side of admission and exit (准入退出): joint review (联审), approval
//! into public notice, objections, the agreement and badge, suspension, reinstatement
//! and revocation. Every change is checked by `domain::merchant::transition`, applied
//! only if nobody changed the merchant meanwhile, audited in the same transaction, and
//! followed by the cache invalidation.

use chrono::{Datelike, NaiveDate};

use super::exit::{clear_exit_review, decision_of};
use super::{
    apply_change, file, invalid_transition, invalidate_merchant, latest_verdicts, load_scoped,
    Change, MerchantFile,
};
use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::app::staff::{create_account, NewStaffAccount};
use crate::app::Policy;
use crate::cache::Cache;
use crate::db::audit::{self, AuditEntry};
use crate::db::merchants::{self, MerchantChanges, ReviewRow};
use crate::db::staff::StaffRow;
use crate::db::{self, Db, MerchantId, ObjectionId, ReviewId};
use crate::domain::merchant::{
    self as rules, Action, MerchantStatus, ObjectionOutcome, ObjectionStatus, Verdict,
};
use crate::domain::{china_now, china_today, Role};
use crate::error::{AppError, AppResult, Code};

/// One department's verdict.
#[derive(Debug, Clone)]
pub struct Review {
    /// One of the policy's required departments.
    pub department: String,
    pub verdict: Verdict,
    pub comment: String,
}

/// Records one department's verdict (联审). A reviewer records only for its own
/// department; region and super admins for any. A later review by the same department
/// replaces the earlier one; both stay in the history.
pub async fn record_review(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    review: Review,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsReview)?;
    if admin.role == Role::Reviewer && admin.department.as_deref() != Some(&review.department) {
        return Err(AppError::forbidden(
            Code::WrongDepartment,
            "a reviewer records reviews only for its own department",
        ));
    }
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let from = merchant.effective_status(china_today())?;
    let to = rules::transition(from, Action::RecordReview).map_err(invalid_transition)?;
    let row = ReviewRow {
        id: ReviewId::new(),
        merchant_id: merchant.id,
        department: review.department.clone(),
        verdict: review.verdict.as_str().to_owned(),
        comment: review.comment,
        reviewer_id: Some(admin.id),
        reviewer_label: admin.username.clone(),
        created_at: db::now(),
    };
    let details = serde_json::json!({"department": review.department, "verdict": review.verdict});
    let updated = conn
        .transaction(async |tx| {
            merchants::insert_review(tx, &row).await?;
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
                Ok::<_, AppError>(merchant.clone())
            } else {
                let change = Change {
                    action: Action::RecordReview,
                    reason: None,
                    changes: MerchantChanges::default(),
                    details: Some(details),
                };
                apply_change(tx, &admin.actor(), &merchant, change).await
            }
        })
        .await?;
    invalidate_merchant(cache, updated.id).await;
    file(&mut conn, policy, updated).await
}

/// Approves a merchant into public notice (社会公示) for the policy's notice days;
/// refused unless every required department's latest verdict is `pass`.
pub async fn approve(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    comment: Option<String>,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    rules::transition(merchant.effective_status(china_today())?, Action::Approve)
        .map_err(invalid_transition)?;
    let reviews = merchants::reviews(&mut conn, merchant.id).await?;
    let gap = rules::review_gap(&policy.required_departments, &latest_verdicts(&reviews)?);
    if !gap.is_complete() {
        let mut parts = Vec::new();
        if !gap.missing.is_empty() {
            parts.push(format!("no review yet from {}", gap.missing.join(", ")));
        }
        if !gap.failed.is_empty() {
            parts.push(format!("failed by {}", gap.failed.join(", ")));
        }
        return Err(
            AppError::conflict(Code::ReviewsIncomplete, parts.join("; "))
                .with("missing_departments", gap.missing)
                .with("failed_departments", gap.failed),
        );
    }
    let ends = rules::notice_ends_at(db::now(), policy.public_notice_days);
    let updated = conn
        .transaction(async |tx| {
            let change = Change {
                action: Action::Approve,
                reason: comment.as_deref(),
                changes: MerchantChanges {
                    notice_ends_at: Some(Some(ends)),
                    ..Default::default()
                },
                details: Some(serde_json::json!({"notice_ends_at": ends.and_utc(),
                    "notice_days": policy.public_notice_days})),
            };
            apply_change(tx, &admin.actor(), &merchant, change).await
        })
        .await?;
    invalidate_merchant(cache, updated.id).await;
    file(&mut conn, policy, updated).await
}

/// Reject, suspend, reinstate or revoke, with a reason. Suspending or revoking a
/// merchant flagged for exit review is that review's decision too: the flag clears.
pub async fn decide(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    action: Action,
    reason: String,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let updated = conn
        .transaction(async |tx| {
            let change = Change {
                action,
                reason: Some(&reason),
                changes: MerchantChanges::default(),
                details: None,
            };
            let updated = apply_change(tx, &admin.actor(), &merchant, change).await?;
            match decision_of(action) {
                Some(decision) if updated.exit_review_flagged_at.is_some() => {
                    Ok(clear_exit_review(tx, admin, &updated, decision, &reason)
                        .await?
                        .unwrap_or(updated))
                }
                _ => Ok::<_, AppError>(updated),
            }
        })
        .await?;
    invalidate_merchant(cache, updated.id).await;
    tracing::info!(merchant_id = %id, action = action.as_str(), "merchant status changed");
    file(&mut conn, policy, updated).await
}

/// How an office settles an objection.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub outcome: ObjectionOutcome,
    pub comment: String,
}

/// Resolves a public objection. Upholding it rejects the merchant.
pub async fn resolve_objection(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    objection_id: ObjectionId,
    resolution: Resolution,
) -> AppResult<MerchantFile> {
    let Resolution { outcome, comment } = resolution;
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let objections = merchants::objections(&mut conn, id).await?;
    let objection = objections
        .iter()
        .find(|o| o.id == objection_id)
        .ok_or_else(|| {
            AppError::not_found(
                Code::ObjectionNotFound,
                "no such objection for this merchant",
            )
        })?;
    if objection.status()? != ObjectionStatus::Open {
        return Err(AppError::conflict(
            Code::ObjectionResolved,
            "this objection is already resolved",
        )
        .with("outcome", objection.status.clone()));
    }
    if outcome == ObjectionOutcome::Upheld {
        rules::transition(
            merchant.effective_status(china_today())?,
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
                AppError::conflict(
                    Code::ObjectionResolved,
                    "this objection is already resolved",
                )
            })?;
            let details = serde_json::json!({"objection_id": objection_id, "outcome": outcome});
            if outcome == ObjectionOutcome::Upheld {
                let change = Change {
                    action: Action::UpholdObjection,
                    reason: Some(&comment),
                    changes: MerchantChanges::default(),
                    details: Some(details),
                };
                apply_change(tx, &admin.actor(), &merchant, change).await
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
    invalidate_merchant(cache, id).await;
    file(&mut conn, policy, updated).await
}

/// The signed cooperation agreement (合作协议).
#[derive(Debug, Clone)]
pub struct Agreement {
    pub number: String,
    pub start: NaiveDate,
    /// The last valid day; after it the merchant reads as `expired`.
    pub end: NaiveDate,
}

/// Activates a merchant after its public notice (or renews an expired one) with the
/// signed agreement; a first activation assigns the badge number
/// `YJ-{region_code}-{year}-{seq:05}`, sequential per region and year.
pub async fn activate(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    agreement: Agreement,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let from = merchant.effective_status(china_today())?;
    rules::transition(from, Action::Activate).map_err(invalid_transition)?;
    if from == MerchantStatus::PublicNotice {
        if let Some(ends) = merchant.notice_ends_at.filter(|ends| db::now() < *ends) {
            return Err(AppError::conflict(
                Code::NoticePeriodRunning,
                "the public notice period has not ended yet",
            )
            .with("notice_ends_at", ends.and_utc().to_rfc3339()));
        }
        let open = merchants::open_objections(&mut conn, merchant.id).await?;
        if open > 0 {
            return Err(AppError::conflict(
                Code::ObjectionsOpen,
                format!("{open} objection(s) must be resolved first"),
            )
            .with("open_objections", open));
        }
    }
    let year = china_now().year();
    let Agreement { number, start, end } = agreement;
    let updated = conn
        .transaction(async |tx| {
            let badge = match &merchant.badge_no {
                Some(existing) => existing.clone(),
                None => {
                    let seq = merchants::next_badge_seq(tx, &merchant.region_code, year).await?;
                    rules::badge_no(&merchant.region_code, year, seq.max(0) as u32)
                }
            };
            let change = Change {
                action: Action::Activate,
                reason: None,
                changes: MerchantChanges {
                    agreement_no: Some(&number),
                    agreement_start: Some(start),
                    agreement_end: Some(end),
                    badge_no: Some(&badge),
                    // The first activation is the admission; a renewal keeps its date.
                    admitted_at: Some(merchant.admitted_at.unwrap_or_else(db::now)),
                    ..Default::default()
                },
                details: Some(
                    serde_json::json!({"agreement_no": number, "agreement_start": start,
                    "agreement_end": end, "badge_no": badge}),
                ),
            };
            apply_change(tx, &admin.actor(), &merchant, change).await
        })
        .await?;
    invalidate_merchant(cache, updated.id).await;
    file(&mut conn, policy, updated).await
}

/// Renews the agreement (续签) of an active or expired merchant: the new number and
/// dates; an expired merchant is active again. Audited as `merchant.renew`.
pub async fn renew(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    agreement: Agreement,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    let Agreement { number, start, end } = agreement;
    let updated = conn
        .transaction(async |tx| {
            let change = Change {
                action: Action::Renew,
                reason: None,
                changes: MerchantChanges {
                    agreement_no: Some(&number),
                    agreement_start: Some(start),
                    agreement_end: Some(end),
                    ..Default::default()
                },
                details: Some(serde_json::json!({
                    "agreement_no": number, "agreement_start": start, "agreement_end": end,
                    "previous_agreement_no": merchant.agreement_no,
                    "previous_agreement_end": merchant.agreement_end})),
            };
            apply_change(tx, &admin.actor(), &merchant, change).await
        })
        .await?;
    invalidate_merchant(cache, updated.id).await;
    file(&mut conn, policy, updated).await
}

/// Creates a `merchant_staff` account bound to this merchant (it manages the
/// merchant's offers and terminals).
pub async fn create_staff(
    db: &Db,
    admin: &AdminUser,
    id: MerchantId,
    username: &str,
    password: &str,
) -> AppResult<StaffRow> {
    admin.require(Operation::MerchantsDecide)?;
    let merchant = {
        let mut pooled = db.get().await?;
        load_scoped(&mut pooled.conn(), admin, id).await?
    };
    if merchant.effective_status(china_today())?.is_terminal() {
        return Err(AppError::conflict(
            Code::MerchantClosed,
            "the merchant is rejected or revoked",
        ));
    }
    let region = crate::domain::RegionCode::parse(&merchant.region_code)
        .map_err(|m| AppError::internal(anyhow::anyhow!(m)))?;
    let account = NewStaffAccount::for_merchant(username, password, merchant.id, region)?;
    create_account(db, &admin.actor(), account).await
}
