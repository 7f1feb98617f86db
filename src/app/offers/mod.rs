//! Offers (优待项目): created and managed by merchant staff ([`form`]), approved by the
//! office of the merchant's region, listed for the public and for each holder
//! ([`listing`]).

pub mod form;
pub mod listing;

use chrono::NaiveDateTime;

use self::form::OfferRequest;
use crate::app::identity::{AdminUser, MerchantStaff};
use crate::app::merchants::{invalidate_merchant, merchant_not_found};
use crate::app::permissions::Operation;
use crate::app::{Listed, Page};
use crate::cache::Cache;
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::merchants::MerchantRow;
use crate::db::offers::{self, OfferFilter, OfferRow};
use crate::db::stored::split_list;
use crate::db::{self, Conn, Db, MerchantId, OfferId, Stored};
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::offer::{
    self as rules, Channel, Eligibility, HolderPeriod, OfferAction, OfferStatus, OfferTerms,
};
use crate::error::{AppError, AppResult, Code};

/// The rules of an offer as stored, for eligibility and availability checks.
#[derive(Debug, Clone)]
pub struct OfferRules {
    pub status: OfferStatus,
    pub terms: OfferTerms,
    pub categories: Vec<Category>,
    pub min_honor: Option<Honor>,
    pub card_products: Vec<String>,
    pub recurring_dates: Vec<String>,
    pub period: Option<HolderPeriod>,
}

impl OfferRules {
    pub fn of(row: &OfferRow) -> Stored<OfferRules> {
        Ok(OfferRules {
            status: row.status()?,
            terms: OfferTerms {
                kind: row.kind()?,
                percent_off: row.percent_off,
                amount_off_fen: row.amount_off_fen,
                price_fen: row.price_fen,
                gift: row.gift.clone(),
            },
            categories: row.categories()?,
            min_honor: row.min_honor()?,
            card_products: split_list(&row.card_products),
            recurring_dates: split_list(&row.recurring_dates),
            period: row.period()?,
        })
    }

    pub fn eligible(&self, category: Category, honors: &[Honor], product: &str) -> bool {
        rules::is_eligible(
            &Eligibility {
                categories: &self.categories,
                min_honor: self.min_honor,
                card_products: &self.card_products,
            },
            category,
            honors,
            product,
        )
    }

    /// Whether the offer can be used now: active, inside its window and on its days.
    pub fn available_at(&self, row: &OfferRow, now: NaiveDateTime) -> bool {
        self.status == OfferStatus::Active
            && rules::available_at(row.valid_from, row.valid_until, &self.recurring_dates, now)
    }
}

/// Uses left for a holder in the current period; `None` when the offer has no limit.
pub fn remaining_for_holder(
    offer: &OfferRow,
    rules: &OfferRules,
    uses: &[(OfferId, String, i32)],
    now: NaiveDateTime,
) -> Option<i64> {
    let limit = offer.per_holder_limit?;
    let key = rules::period_key(rules.period?, now);
    let used = uses
        .iter()
        .find(|(o, k, _)| *o == offer.id && *k == key)
        .map_or(0, |(_, _, u)| *u);
    Some(i64::from((limit - used).max(0)))
}

fn offer_not_found() -> AppError {
    AppError::not_found(Code::OfferNotFound, "no such offer")
}

async fn own_offer(conn: &mut Conn<'_>, staff: &MerchantStaff, id: OfferId) -> AppResult<OfferRow> {
    offers::find_offer(conn, id)
        .await?
        .filter(|o| o.merchant_id == staff.merchant_id)
        .ok_or_else(offer_not_found)
}

async fn record_offer_change(
    tx: &mut Conn<'_>,
    actor: &Actor,
    row: &OfferRow,
    region: &str,
    action: &str,
    before: Option<&str>,
    reason: Option<&str>,
) -> AppResult<()> {
    audit::record(
        tx,
        actor,
        AuditEntry {
            action,
            entity_type: "offer",
            entity_id: row.id.to_string(),
            region_code: Some(region),
            before_status: before,
            after_status: Some(&row.status),
            reason,
            details: Some(serde_json::json!({"merchant_id": row.merchant_id, "title": row.title})),
        },
    )
    .await?;
    Ok(())
}

async fn merchant_region(conn: &mut Conn<'_>, merchant: db::MerchantId) -> AppResult<String> {
    db::merchants::find(conn, merchant)
        .await?
        .map(|m| m.region_code)
        .ok_or_else(merchant_not_found)
}

/// Creates an offer of the caller's merchant; it waits for the office's approval.
pub async fn create(db: &Db, staff: &MerchantStaff, request: &OfferRequest) -> AppResult<OfferRow> {
    if request.kind.is_none() {
        return Err(AppError::invalid_field("kind", "is required"));
    }
    let now = db::now();
    let mut row = OfferRow {
        id: OfferId::new(),
        merchant_id: staff.merchant_id,
        title: String::new(),
        description: String::new(),
        kind: String::new(),
        percent_off: None,
        amount_off_fen: None,
        price_fen: None,
        gift: None,
        eligible_categories: ",".into(),
        min_honor: None,
        companions_allowed: 0,
        valid_from: now,
        valid_until: None,
        recurring_dates: ",".into(),
        total_quota: None,
        used_total: 0,
        per_holder_limit: None,
        per_holder_period: None,
        channel: Channel::InStore.as_str().into(),
        card_products: ",".into(),
        status: OfferStatus::PendingReview.as_str().into(),
        status_reason: None,
        created_at: now,
        updated_at: now,
    };
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    request.apply(&mut conn, &mut row).await?;
    let region = merchant_region(&mut conn, staff.merchant_id).await?;
    let actor = staff.user.actor();
    conn.transaction(async |tx| {
        offers::insert_offer(tx, &row).await?;
        db::quota::reset(tx, row.id, row.total_quota, 0).await?;
        record_offer_change(tx, &actor, &row, &region, "offer.create", None, None).await
    })
    .await?;
    Ok(row)
}

/// The caller's merchant's offers, every status, oldest first.
pub async fn list_own(db: &Db, staff: &MerchantStaff, page: Page) -> AppResult<Listed<OfferRow>> {
    let filter = OfferFilter {
        merchant: Some(staff.merchant_id),
        ..Default::default()
    };
    let mut pooled = db.get().await?;
    let (rows, total) =
        offers::list_offers(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok((rows.into_iter().map(|(offer, _)| offer).collect(), total))
}

/// The queue an office works from: offers of merchants in the caller's region, oldest
/// first, of one status (default `pending_review`: those waiting for approval), of one
/// merchant, or matching `q` in the title, the description or the merchant's name.
pub async fn office_queue(
    db: &Db,
    admin: &AdminUser,
    status: Option<OfferStatus>,
    merchant: Option<MerchantId>,
    q: Option<String>,
    page: Page,
) -> AppResult<Listed<(OfferRow, MerchantRow)>> {
    admin.require(Operation::OffersRead)?;
    let filter = OfferFilter {
        merchant,
        status: Some(
            status
                .unwrap_or(OfferStatus::PendingReview)
                .as_str()
                .to_owned(),
        ),
        region_likes: admin.region_like().into_iter().collect(),
        q,
    };
    let mut pooled = db.get().await?;
    Ok(offers::list_offers(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?)
}

/// Changes an offer. A material change (terms, eligibility, dates, quotas) to an active
/// or paused offer sends it back to review; title and description do not.
pub async fn update(
    db: &Db,
    cache: &Cache,
    staff: &MerchantStaff,
    id: OfferId,
    request: &OfferRequest,
) -> AppResult<OfferRow> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let mut row = own_offer(&mut conn, staff, id).await?;
    let before = row.status.clone();
    let status = row.status()?;
    if status == OfferStatus::Ended {
        return Err(
            AppError::conflict(Code::InvalidTransition, "an ended offer cannot change")
                .with("current_status", "ended"),
        );
    }
    // An unlimited offer's redemptions are not counted on its row: a new quota starts
    // from what was already redeemed.
    let quota_before = row.total_quota;
    let quota_introduced = quota_before.is_none() && request.total_quota.is_some();
    if quota_introduced {
        row.used_total = offers::completed_redemptions(&mut conn, row.merchant_id, row.id).await?;
    }
    request.apply(&mut conn, &mut row).await?;
    if request.is_material() && status != OfferStatus::PendingReview {
        let next = rules::offer_transition(status, OfferAction::Resubmit)
            .unwrap_or(OfferStatus::PendingReview);
        row.status = next.as_str().to_owned();
        row.status_reason = Some("material change: back to review".into());
    }
    row.updated_at = db::now();
    let region = merchant_region(&mut conn, staff.merchant_id).await?;
    let actor = staff.user.actor();
    conn.transaction(async |tx| {
        offers::save_offer(tx, &row).await?;
        if quota_introduced {
            offers::set_used_total(tx, row.id, row.used_total).await?;
            db::quota::reset(tx, row.id, row.total_quota, row.used_total).await?;
        } else if let Some(total) = row.total_quota.filter(|t| quota_before != Some(*t)) {
            // The shards count exactly (what the offer shows may lag by a batch).
            if let Err(used) = db::quota::resize(tx, row.id, total).await? {
                return Err(AppError::invalid_field(
                    "total_quota",
                    format!("must not be below the {used} already used"),
                ));
            }
        }
        record_offer_change(
            tx,
            &actor,
            &row,
            &region,
            "offer.update",
            Some(&before),
            None,
        )
        .await
    })
    .await?;
    invalidate_merchant(cache, row.merchant_id).await;
    Ok(row)
}

/// Applies a lifecycle action to offer `id` with its audit entry, then drops the
/// merchant snapshot. `may_act` says whether the caller may act on an offer of the
/// merchant in that region; 404 when not, so another's offers do not seem to exist.
async fn act(
    db: &Db,
    cache: &Cache,
    id: OfferId,
    action: OfferAction,
    actor: Actor,
    reason: Option<String>,
    may_act: impl Fn(&OfferRow, &str) -> bool,
) -> AppResult<OfferRow> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let mut row = offers::find_offer(&mut conn, id)
        .await?
        .ok_or_else(offer_not_found)?;
    let region = merchant_region(&mut conn, row.merchant_id).await?;
    if !may_act(&row, &region) {
        return Err(offer_not_found());
    }
    let from = row.status()?;
    let to = rules::offer_transition(from, action).ok_or_else(|| {
        AppError::conflict(
            Code::InvalidTransition,
            format!("cannot {action} an offer that is {from}"),
        )
        .with("current_status", from.as_str())
    })?;
    row.status = to.as_str().to_owned();
    row.status_reason = reason.clone();
    row.updated_at = db::now();
    let audit_action = format!("offer.{action}");
    conn.transaction(async |tx| {
        offers::save_offer(tx, &row).await?;
        record_offer_change(
            tx,
            &actor,
            &row,
            &region,
            &audit_action,
            Some(from.as_str()),
            reason.as_deref(),
        )
        .await
    })
    .await?;
    invalidate_merchant(cache, row.merchant_id).await;
    Ok(row)
}

/// Merchant staff pause, resume or end one of their offers.
pub async fn act_as_merchant(
    db: &Db,
    cache: &Cache,
    staff: &MerchantStaff,
    id: OfferId,
    action: OfferAction,
    reason: Option<String>,
) -> AppResult<OfferRow> {
    let actor = staff.user.actor();
    act(db, cache, id, action, actor, reason, |offer, _| {
        offer.merchant_id == staff.merchant_id
    })
    .await
}

/// An administrator of the merchant's region approves or rejects an offer.
pub async fn act_as_office(
    db: &Db,
    cache: &Cache,
    admin: &AdminUser,
    id: OfferId,
    action: OfferAction,
    reason: Option<String>,
) -> AppResult<OfferRow> {
    admin.require(Operation::OffersDecide)?;
    act(db, cache, id, action, admin.actor(), reason, |_, region| {
        admin.covers_code(region)
    })
    .await
}

/// Sets what each limited offer shows as used to what its quota's shards handed out (at
/// start-up: a count lost between a batch's commit and its display comes back); how
/// many offers changed.
pub async fn recount_quotas(db: &Db) -> AppResult<usize> {
    let mut pooled = db.get().await?;
    Ok(db::quota::recount_shown(&mut pooled.conn()).await?)
}
