//! Exit review (退出复核): complaints and spot checks flag a merchant, an office decides
//! (retain, suspend or revoke) and the flag clears. A flag never changes the status by
//! itself.

use super::{
    apply_change, file, invalid_transition, invalidate_merchant, load_scoped, Change, MerchantFile,
};
use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::app::Policy;
use crate::cache::Cache;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::merchants::{self, MerchantChanges, MerchantRow};
use crate::db::{self, Conn, Db, MerchantId};
use crate::domain::china_today;
use crate::domain::merchant::{self as rules, Action};
use crate::domain::oversight::{self, ExitReviewDecision};
use crate::error::{AppError, AppResult, Code};

/// The exit-review decision a status action also is (suspend and revoke).
pub(crate) fn decision_of(action: Action) -> Option<ExitReviewDecision> {
    match action {
        Action::Suspend => Some(ExitReviewDecision::Suspend),
        Action::Revoke => Some(ExitReviewDecision::Revoke),
        _ => None,
    }
}

/// Flags `merchant` for exit review with `reason` (added to any reason it is already
/// flagged for), with its audit entry; in the caller's transaction. The status is never
/// touched. `None` when the merchant already carries exactly this reason.
pub(crate) async fn flag_for_exit_review(
    tx: &mut Conn<'_>,
    actor: &Actor,
    merchant: &MerchantRow,
    reason: &str,
    details: serde_json::Value,
) -> AppResult<Option<MerchantRow>> {
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

/// Clears `merchant`'s exit-review flag after `decision`, with its audit entry; in the
/// caller's transaction. Complaints filed before now no longer count towards a flag.
/// `None` when the merchant was not flagged (any more).
pub(crate) async fn clear_exit_review(
    tx: &mut Conn<'_>,
    admin: &AdminUser,
    merchant: &MerchantRow,
    decision: ExitReviewDecision,
    reason: &str,
) -> AppResult<Option<MerchantRow>> {
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
                "flagged_at": merchant.exit_review_flagged_at.map(|at| at.and_utc())})),
            ..Default::default()
        },
    )
    .await?;
    Ok(Some(cleared))
}

fn not_flagged(merchant: &MerchantRow) -> AppError {
    AppError::conflict(
        Code::NotFlagged,
        "the merchant is not flagged for exit review; suspend or revoke it directly",
    )
    .with(
        "exit_review_cleared_at",
        merchant
            .exit_review_cleared_at
            .map(|at| at.and_utc().to_rfc3339()),
    )
}

/// Records the decision on a merchant flagged for exit review: `retain` keeps it as it
/// is, `suspend` and `revoke` carry out that transition. Either way the flag clears, and
/// only complaints filed afterwards count towards a new one.
pub async fn exit_review(
    db: &Db,
    cache: &Cache,
    policy: &Policy,
    admin: &AdminUser,
    id: MerchantId,
    decision: ExitReviewDecision,
    reason: String,
) -> AppResult<MerchantFile> {
    admin.require(Operation::MerchantsDecide)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = load_scoped(&mut conn, admin, id).await?;
    if merchant.exit_review_flagged_at.is_none() {
        return Err(not_flagged(&merchant));
    }
    if let Some(action) = decision.action() {
        rules::transition(merchant.effective_status(china_today())?, action)
            .map_err(invalid_transition)?;
    }
    let updated = conn
        .transaction(async |tx| {
            let changed = match decision.action() {
                Some(action) => {
                    let change = Change {
                        action,
                        reason: Some(&reason),
                        changes: MerchantChanges::default(),
                        details: Some(serde_json::json!({"exit_review": decision})),
                    };
                    Some(apply_change(tx, &admin.actor(), &merchant, change).await?)
                }
                None => None,
            };
            let before = changed.as_ref().unwrap_or(&merchant);
            clear_exit_review(tx, admin, before, decision, &reason)
                .await?
                .ok_or_else(|| not_flagged(&merchant))
        })
        .await?;
    if decision.action().is_some() {
        invalidate_merchant(cache, updated.id).await;
    }
    tracing::info!(merchant_id = %updated.id, decision = decision.as_str(), "exit review decided");
    file(&mut conn, policy, updated).await
}
