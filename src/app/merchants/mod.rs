//! Partner merchants (拥军商户): the public directory and its applications
//! ([`directory`]), admission and exit by an office ([`admission`]), and the record an
//! office works from ([`MerchantFile`]). Lifecycle rules live in `domain::merchant`.

pub mod admission;
pub mod directory;
pub mod exit;
pub mod profile;

use crate::app::identity::StaffUser;
use crate::app::permissions::Operation;
use crate::app::{invalidate, Listed, Page, Policy};
use crate::cache::{keys, Cache};
use crate::db::audit::{self, Actor, AuditEntry, AuditRow};
use crate::db::merchants::{
    self, MerchantChanges, MerchantFilter, MerchantRow, ObjectionRow, ReviewRow,
};
use crate::db::{self, Conn, Db, MerchantId, ReviewId};
use crate::domain::merchant::{
    self as rules, Action, EmergencyCapability, MerchantCategory, MerchantStatus, ReviewGap,
};
use crate::domain::{china_today, RegionCode};
use crate::error::{AppError, AppResult, Code};

pub fn merchant_not_found() -> AppError {
    AppError::not_found(Code::MerchantNotFound, "no such merchant")
}

pub(crate) fn invalid_transition(error: rules::InvalidTransition) -> AppError {
    AppError::conflict(Code::InvalidTransition, error.to_string())
        .with("current_status", error.from.as_str())
}

/// The merchant, if it lies in the caller's region; 404 otherwise, so that another
/// region's merchants do not even seem to exist.
pub(crate) async fn load_scoped(
    conn: &mut Conn<'_>,
    caller: &StaffUser,
    id: MerchantId,
) -> AppResult<MerchantRow> {
    let row = merchants::find(conn, id)
        .await?
        .ok_or_else(merchant_not_found)?;
    let region = RegionCode::parse(&row.region_code).map_err(|m| {
        AppError::internal(anyhow::anyhow!("merchants row {}: bad region: {m}", row.id))
    })?;
    if caller.covers(&region) {
        Ok(row)
    } else {
        Err(merchant_not_found())
    }
}

fn concurrent_change() -> AppError {
    AppError::conflict(
        Code::ConcurrentChange,
        "the merchant was changed by someone else at the same moment; reload and retry",
    )
}

/// A status change checked by the lifecycle rules, applied only if nobody changed the
/// merchant meanwhile, with its audit entry in the same transaction.
pub(crate) struct Change<'a> {
    pub action: Action,
    pub reason: Option<&'a str>,
    pub changes: MerchantChanges<'a>,
    pub details: Option<serde_json::Value>,
}

pub(crate) async fn apply_change(
    tx: &mut Conn<'_>,
    actor: &Actor,
    merchant: &MerchantRow,
    change: Change<'_>,
) -> AppResult<MerchantRow> {
    let from = merchant.effective_status(china_today())?;
    let to = rules::transition(from, change.action).map_err(invalid_transition)?;
    let mut changes = change.changes;
    changes.status = Some(to.as_str());
    changes.status_reason = Some(change.reason);
    changes.updated_at = Some(db::now());
    let action = format!("merchant.{}", change.action.as_str());
    let updated = merchants::update_if_status(tx, merchant.id, &merchant.status, &changes)
        .await?
        .ok_or_else(concurrent_change)?;
    audit::record(
        tx,
        actor,
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

/// After a commit: the merchant's cached snapshots (directory and point of sale) are
/// stale everywhere.
pub async fn invalidate_merchant(cache: &Cache, id: MerchantId) {
    invalidate(cache, vec![keys::merchant(&id)]).await;
}

/// The full record an office works from: the merchant, its reviews, objections and the
/// history of every change.
#[derive(Debug)]
pub struct MerchantFile {
    pub merchant: MerchantRow,
    /// As of today: an active merchant past its agreement is `expired`.
    pub status: MerchantStatus,
    pub reviews: Vec<ReviewRow>,
    /// The latest review of each department (the ones that count).
    pub current_reviews: Vec<ReviewId>,
    pub gap: ReviewGap,
    pub objections: Vec<ObjectionRow>,
    /// Oldest first.
    pub history: Vec<AuditRow>,
}

/// Latest verdict per department, in review order.
pub(crate) fn latest_verdicts(reviews: &[ReviewRow]) -> AppResult<Vec<(String, rules::Verdict)>> {
    reviews
        .iter()
        .map(|r| Ok((r.department.clone(), r.verdict()?)))
        .collect()
}

pub(crate) async fn file(
    conn: &mut Conn<'_>,
    policy: &Policy,
    merchant: MerchantRow,
) -> AppResult<MerchantFile> {
    let reviews = merchants::reviews(conn, merchant.id).await?;
    let objections = merchants::objections(conn, merchant.id).await?;
    let history = audit::for_entity(conn, "merchant", &merchant.id.to_string()).await?;
    let gap = rules::review_gap(&policy.required_departments, &latest_verdicts(&reviews)?);
    let mut latest: Vec<(&str, ReviewId)> = Vec::new();
    for review in &reviews {
        match latest.iter_mut().find(|(d, _)| *d == review.department) {
            Some(entry) => entry.1 = review.id,
            None => latest.push((&review.department, review.id)),
        }
    }
    let current_reviews = latest.into_iter().map(|(_, id)| id).collect();
    Ok(MerchantFile {
        status: merchant.effective_status(china_today())?,
        merchant,
        current_reviews,
        reviews,
        gap,
        objections,
        history,
    })
}

/// One merchant's record, for an office covering its region.
pub async fn get(
    db: &Db,
    policy: &Policy,
    caller: &StaffUser,
    id: MerchantId,
) -> AppResult<MerchantFile> {
    caller.require(Operation::MerchantsRead)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let row = load_scoped(&mut conn, caller, id).await?;
    file(&mut conn, policy, row).await
}

/// What an office lists merchants by.
#[derive(Debug, Default)]
pub struct OfficeFilter {
    /// As of today.
    pub status: Option<MerchantStatus>,
    pub region: Option<RegionCode>,
    pub category: Option<MerchantCategory>,
    pub q: Option<String>,
    /// Only those flagged for exit review (`true`) or only those not (`false`).
    pub flagged: Option<bool>,
}

/// Merchants in the caller's region subtree, newest first.
pub async fn list(
    db: &Db,
    caller: &StaffUser,
    query: OfficeFilter,
    page: Page,
) -> AppResult<Listed<MerchantRow>> {
    caller.require(Operation::MerchantsRead)?;
    let mut filter = MerchantFilter {
        today: Some(china_today()),
        flagged: query.flagged,
        status: query.status,
        category: query.category.map(|c| c.as_str().to_owned()),
        q: query.q,
        ..Default::default()
    };
    filter.region_likes.extend(caller.region_like());
    filter
        .region_likes
        .extend(query.region.as_ref().map(RegionCode::like_pattern));
    let mut pooled = db.get().await?;
    Ok(merchants::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}

/// Active merchants able to serve an emergency capability (急时战时), any when `None`,
/// inside the caller's region subtree (and `region`'s when given).
pub async fn emergency_roster(
    db: &Db,
    caller: &StaffUser,
    capability: Option<EmergencyCapability>,
    region: Option<RegionCode>,
    page: Page,
) -> AppResult<Listed<MerchantRow>> {
    caller.require(Operation::EmergencyRosterRead)?;
    let mut region_likes: Vec<String> = caller.region_like().into_iter().collect();
    region_likes.extend(region.as_ref().map(RegionCode::like_pattern));
    roster(db, capability, region_likes, page).await
}

/// The emergency roster inside every one of `region_likes`, unchecked: the caller's use
/// case has checked the caller (and an emergency need shows it to its liaison).
pub(crate) async fn roster(
    db: &Db,
    capability: Option<EmergencyCapability>,
    region_likes: Vec<String>,
    page: Page,
) -> AppResult<Listed<MerchantRow>> {
    let filter = MerchantFilter {
        status: Some(MerchantStatus::Active),
        today: Some(china_today()),
        capability: capability.map(|c| c.as_str().to_owned()),
        any_capability: capability.is_none(),
        region_likes,
        ..Default::default()
    };
    let mut pooled = db.get().await?;
    Ok(merchants::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}
